"""Hot reload: serve a newly built index without a restart and without failing requests in flight.

`policybot build` writes a new generation and switches the index's CURRENT marker
atomically (index/store.py). The running bot notices the change, polling the manifest
every few seconds and at once on SIGHUP, loads the new index completely off to the side,
checks that it answers a search, and only then swaps the reference. A request that has
already taken the old searcher finishes with it (searchers are immutable); a load that
fails is logged and the old index keeps serving.
"""
from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Callable

from bot.metrics import BotMetrics
from bot.periodic import PeriodicWorker
from bot.redact import redact
from index.policy import file_sha256
from index.search import Searcher
from index.store import load_searcher, read_manifest

log = logging.getLogger(__name__)

DEFAULT_INTERVAL = 30.0  # seconds; Settings.reload_seconds ($POLICYBOT_RELOAD_SECONDS) sets it for `serve`
_WARM_UP_QUERY = "個人情報の利用目的"

Loader = Callable[[Path, "Searcher | None"], Searcher]


def index_key(manifest: dict | None) -> tuple | None:
    """What identifies a built index: a rebuild or a rollback always changes it."""
    if not manifest:
        return None
    return (manifest.get("generation"), manifest.get("built_at"), manifest.get("policy_sha256"))


def default_loader(model: str | None = None) -> Loader:
    """Load with the index store, reusing the models already in memory when the index uses the same ones."""
    def load(index_dir: Path, current: Searcher | None) -> Searcher:
        embedder = aux = None
        manifest = read_manifest(index_dir)
        if current is not None and manifest is not None:
            if getattr(current.embedder, "name", None) == manifest.get("model"):
                embedder = current.embedder
            aux = current.aux_encoder
        return load_searcher(index_dir, model, embedder=embedder, aux_encoder=aux)
    return load


class SearcherHolder:
    """The zero-argument searcher provider the Answerer calls once per question."""

    def __init__(self, index_dir: Path, searcher: Searcher, *, loader: Loader | None = None,
                 interval: float = DEFAULT_INTERVAL, policy_path: Path | None = None,
                 metrics: BotMetrics | None = None):
        self.index_dir = Path(index_dir)
        self.interval = interval
        self.policy_path = Path(policy_path) if policy_path else None
        self._loader = loader or default_loader()
        self._searcher = searcher
        self._key = index_key(searcher.manifest)
        self._failed_key: tuple | None = None
        self._warned_policy_sha: str | None = None
        self._reload_lock = threading.Lock()
        self._forced = False
        self._worker: PeriodicWorker | None = None
        self.reloads = 0  # successful swaps, for the health check and tests
        self.metrics = metrics  # policybot_index_reloads_total, when serving /metrics

    @classmethod
    def load(cls, index_dir: Path, *, model: str | None = None, interval: float = DEFAULT_INTERVAL,
             policy_path: Path | None = None, metrics: BotMetrics | None = None) -> "SearcherHolder":
        """Load the live index once and hold it (raises like index.store.load_searcher)."""
        loader = default_loader(model)
        searcher = loader(Path(index_dir), None)
        return cls(index_dir, searcher, loader=loader, interval=interval, policy_path=policy_path,
                   metrics=metrics)

    # --- the provider ----------------------------------------------------------------------
    def get(self) -> Searcher:
        """The current searcher; a caller keeps the one it got for the whole request."""
        return self._searcher

    __call__ = get

    @property
    def key(self) -> tuple | None:
        return self._key

    # --- reloading -------------------------------------------------------------------------
    def check(self, force: bool = False) -> bool:
        """Reload if the index on disk is not the one being served. Returns True when it swapped."""
        try:
            manifest = read_manifest(self.index_dir)
        except (OSError, ValueError) as exc:
            log.warning("cannot read the index manifest in %s (%s); still serving the loaded index",
                        self.index_dir, type(exc).__name__)
            return False
        self._warn_if_policy_changed(manifest)
        key = index_key(manifest)
        if key is None:
            log.warning("no index in %s any more; still serving the loaded one. Run `policybot build`.",
                        self.index_dir)
            return False
        if key == self._key and not force:
            return False
        if key == self._failed_key and not force:
            return False  # already logged; retry when a new build appears or on SIGHUP
        return self.reload()

    def reload(self) -> bool:
        """Load the live index off to the side, check it, then swap. Failures keep the old one."""
        with self._reload_lock:
            current = self._searcher
            try:
                fresh = self._loader(self.index_dir, current)
                fresh.search(_WARM_UP_QUERY)  # a broken index fails here, not on a user's question
            except Exception as exc:  # any failure must leave the old index serving
                self._failed_key = index_key(read_manifest_quietly(self.index_dir))
                log.error("could not load the new index in %s (%s: %s); still serving generation %s. "
                          "Fix it and run `policybot build`, or `policybot build --rollback`.",
                          self.index_dir, type(exc).__name__, redact(str(exc)), (self._key or ("?",))[0])
                return False
            self._searcher = fresh  # one reference assignment: atomic for readers
            self._key = index_key(fresh.manifest)
            self._failed_key = None
            self.reloads += 1
            if self.metrics is not None:
                self.metrics.record_reload()
        log.info("serving index generation %s (policy revision %s)", self._key[0] if self._key else "?",
                 fresh.facts.revision)
        return True

    def _warn_if_policy_changed(self, manifest: dict | None) -> None:
        """Say once per edit that the policy file is ahead of the index (the bot does not build itself)."""
        if self.policy_path is None or manifest is None:
            return
        try:
            sha = file_sha256(self.policy_path)
        except (OSError, UnicodeDecodeError):
            return
        if sha == manifest.get("policy_sha256") or sha == self._warned_policy_sha:
            return
        self._warned_policy_sha = sha
        log.warning("%s has changed since the index was built; answers still quote revision %s. "
                    "Review with `policybot diff`, then run `policybot build`.",
                    self.policy_path, (manifest.get("facts") or {}).get("revision"))

    # --- background watcher ----------------------------------------------------------------
    def start(self, sighup: bool = True) -> "SearcherHolder":
        """Watch the index in a daemon thread; with `sighup`, SIGHUP triggers a reload at once."""
        if self._worker is not None:
            return self
        if sighup:
            self.install_sighup()
        every = self.interval if self.interval > 0 else None  # 0: only on SIGHUP / request_reload
        self._worker = PeriodicWorker("index-reload", self._check_once, every, first_after=every,
                                      failure="index reload check failed; still serving the loaded index").start()
        return self

    def request_reload(self) -> None:
        """Ask the watcher to reload now, even if the manifest looks unchanged (what SIGHUP does)."""
        self._forced = True
        if self._worker is not None:
            self._worker.wake()

    def install_sighup(self) -> bool:
        """Route SIGHUP to request_reload. Only possible from the main thread, and not on Windows."""
        if not hasattr(signal, "SIGHUP") or threading.current_thread() is not threading.main_thread():
            return False
        signal.signal(signal.SIGHUP, lambda signum, frame: self.request_reload())
        return True

    def stop(self, timeout: float = 5.0) -> None:
        if self._worker is not None:
            self._worker.stop(timeout)
            self._worker = None

    def _check_once(self) -> None:
        forced, self._forced = self._forced, False
        self.check(force=forced)

    def __enter__(self) -> "SearcherHolder":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def read_manifest_quietly(index_dir: Path) -> dict | None:
    try:
        return read_manifest(index_dir)
    except (OSError, ValueError):
        return None
