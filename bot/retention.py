"""What the bot keeps about people, and for how long: purge by age, forget one user.

The database (bot/storage) holds answers and votes (bot/slack_store.py, questions
redacted) and the hand-off outbox (bot/handoff/outbox.py, full text until sent). The running
bot deletes what is older than the retention period at start and every hour; an operator
answering a deletion request forgets one Slack user at once (`policybot data forget`).

Unsent hand-offs are never deleted by age: each is a request someone asked the bot to deliver
to the contact window. They are reported instead, so an operator can send or drop them.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

from bot.handoff.outbox import Outbox
from bot.logging_setup import log_event
from bot.periodic import PeriodicWorker
from bot.slack_store import SlackStore

PURGE_INTERVAL_SECONDS = 3600.0
DAY_SECONDS = 86400.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Removed:
    """What one purge or forget deleted, per kind, and the unsent hand-offs it left in place."""

    answers: int = 0
    feedback: int = 0
    handoffs: int = 0
    unsent_kept: tuple[str, ...] = field(default=())

    @property
    def total(self) -> int:
        return self.answers + self.feedback + self.handoffs


def purge(store: SlackStore, outbox: Outbox, older_than_days: float, *, now: float | None = None) -> Removed:
    """Delete answers, votes and sent hand-offs older than `older_than_days`, and event keys
    past Slack's retry window."""
    cutoff = (time.time() if now is None else now) - older_than_days * DAY_SECONDS
    counts = store.purge_before(cutoff)
    store.prune_events()
    handoffs, unsent = outbox.purge_sent_before(cutoff)
    store.checkpoint()
    return Removed(counts["answers"], counts["feedback"], handoffs, tuple(unsent))


def forget(store: SlackStore, outbox: Outbox, user_id: str, *, drop_unsent: bool = False) -> Removed:
    """Delete everything stored about one Slack user: their answers, every vote on them or by
    them, and their hand-offs (unsent ones only with `drop_unsent`, see Outbox.forget_asker)."""
    counts = store.forget_user(user_id)
    handoffs, kept = outbox.forget_asker(user_id, drop_unsent=drop_unsent)
    store.checkpoint()
    return Removed(counts["answers"], counts["feedback"], handoffs, tuple(kept))


class RetentionWorker:
    """Purges once now, then every `interval` seconds, in a daemon thread (`policybot serve`)."""

    def __init__(self, store: SlackStore, outbox: Outbox, days: float, interval: float = PURGE_INTERVAL_SECONDS):
        self.store = store
        self.outbox = outbox
        self.days = days
        self.interval = interval
        self.runs = 0
        self._periodic = PeriodicWorker("retention", self._run_logged, interval, first_after=interval)

    def run_once(self) -> Removed:
        removed = purge(self.store, self.outbox, self.days)
        self.runs += 1
        # INFO only when something went: an hourly "nothing to delete" line is noise in the log.
        level = logging.INFO if removed.answers or removed.feedback or removed.handoffs else logging.DEBUG
        log_event(log, "retention.purge", level, days=self.days, answers=removed.answers,
                  feedback=removed.feedback, handoffs=removed.handoffs, unsent_old=len(removed.unsent_kept))
        if removed.unsent_kept:
            log_event(log, "retention.unsent_handoffs", logging.WARNING, refs=list(removed.unsent_kept),
                      hint="older than the retention period and never sent: `policybot handoff retry REF`, "
                           "or `policybot data forget USER --drop-unsent`")
        return removed

    def start(self) -> "RetentionWorker":
        """Purge now (in the caller's thread, so the bot starts clean), then hourly in the background."""
        self._run_logged()
        self._periodic.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._periodic.stop(timeout)

    def _run_logged(self) -> None:
        try:
            self.run_once()
        except Exception:  # a locked or damaged file must not stop the bot answering; the next run tries again
            log_event(log, "retention.purge_failed", logging.ERROR, exc_info=True)
