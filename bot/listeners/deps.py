"""What every Slack listener needs, handed over once by `create_app` (no module globals)."""
from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Callable

from bot.answerer import Answerer
from bot.handoff.service import HandoffService
from bot.logging_setup import log_event
from bot.metrics import BotMetrics
from bot.settings import Settings
from bot.slack_store import SlackStore


class TrackingExecutor(ThreadPoolExecutor):
    """A thread pool that knows which of its tasks are unfinished, so `drain()` can wait
    for them (graceful shutdown; tests that must know an event was fully handled)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pending: set[Future] = set()
        self._pending_lock = threading.Lock()

    def submit(self, fn, /, *args, **kwargs) -> Future:
        future = super().submit(fn, *args, **kwargs)
        with self._pending_lock:
            self._pending.add(future)
        future.add_done_callback(self._forget)
        return future

    def _forget(self, future: Future) -> None:
        with self._pending_lock:
            self._pending.discard(future)

    def pending(self) -> set[Future]:
        with self._pending_lock:
            return set(self._pending)


@dataclass
class AppDeps:
    """Shared by all listeners; every member is safe to use from many threads at once.

    `work` is the pool answers are computed on. It is separate from Bolt's listener pool
    (`listeners`) so that however many answers are queued, the short ack-side of a listener
    (which Slack waits for, 3 s at most) never queues behind them.
    """

    settings: Settings
    answerer: Answerer
    store: SlackStore
    handoff: HandoffService  # the contact-window outbox and mail server (forward button)
    work: TrackingExecutor
    listeners: TrackingExecutor
    log: logging.Logger = field(default_factory=lambda: logging.getLogger("bot.slack"))
    metrics: BotMetrics = field(default_factory=BotMetrics)  # answers counted for GET /metrics
    # Called by SlackBot.close(): listeners that own threads (the hand-off retry worker) stop them here.
    on_close: list[Callable[[], None]] = field(default_factory=list)

    def submit(self, job: Callable[[], None], *, event: str, **fields) -> Future:
        """Run `job` on the answer pool. A job that raises is logged (one line, traceback redacted)."""
        queued = time.perf_counter()

        def run() -> None:
            try:
                job()
            except Exception:  # the job's own handler already told the user; this is the safety net
                log_event(self.log, f"{event}.failed", logging.ERROR, exc_info=True,
                          queue_ms=round((time.perf_counter() - queued) * 1000, 1), **fields)

        return self.work.submit(run)

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every listener run and every job it queued has finished; False on timeout.

        A listener queues its job before it finishes, so looking at the listener pool first
        and the work pool second never misses a job in between.
        """
        deadline = time.monotonic() + timeout
        while True:
            pending = self.listeners.pending()
            pending |= self.work.pending()
            if not pending:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            wait(pending, timeout=remaining)
