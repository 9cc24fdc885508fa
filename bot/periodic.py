"""A daemon thread that does one job again and again: the hand-off retry worker, the retention
purge, the index reload watcher.

They all need the same things — start once, stop promptly at shutdown, be woken early, survive a
failing run — so they are written here once and the workers say only what one run does.
"""
from __future__ import annotations

import logging
import threading
from typing import Callable

log = logging.getLogger(__name__)


class PeriodicWorker:
    """Calls `tick()` in a daemon thread named `name`, again after the seconds it returns
    (None: `interval`), or at once on `wake()`. `first_after`: seconds before the first run
    (0: at once). An `interval` or `first_after` of None runs only when woken. A tick that raises
    is logged (with `failure`, which says what still holds) and tried again after `interval`."""

    def __init__(self, name: str, tick: Callable[[], float | None], interval: float | None, *,
                 first_after: float | None = 0.0, failure: str = "a run failed"):
        self.name = name
        self.tick = tick
        self.interval = interval
        self.first_after = first_after
        self.failure = failure
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stopping(self) -> bool:
        """True once `stop()` was called: a long tick checks it between its pieces of work."""
        return self._stop.is_set()

    def start(self) -> "PeriodicWorker":
        if self._thread is not None and self._thread.is_alive():
            return self
        self._stop.clear()
        self._wake.clear()  # a wake() left from before a stop() is not a reason to run early
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        wait = self.first_after
        while not self._stop.is_set():
            if wait is None or wait > 0:
                self._wake.wait(wait)  # None: until woken
                self._wake.clear()
                if self._stop.is_set():
                    break
            wait = self._tick()

    def _tick(self) -> float | None:
        try:
            wait = self.tick()
        except Exception:  # the thread must outlive a failing run; the next one may succeed
            log.exception("%s: %s; trying again %s", self.name, self.failure,
                          "when woken" if self.interval is None else f"in {self.interval:.0f} s")
            return self.interval
        return self.interval if wait is None else wait
