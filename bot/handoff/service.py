"""The one hand-off API adapters use: store first, then try to send; report what happened in plain terms.

Slack (modal submission), the CLI and the retry worker all go through `HandoffService`, so
the rules are in one place: nothing is sent that was not stored, a key is sent at most
once, and a failure leaves the request pending (transient) or parked for an operator (permanent).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.handoff.compose import Handoff, HandoffError, build_message, mailto_for
from bot.handoff.outbox import FAILED_PERMANENT, NO_SERVER, PENDING, SENT, Backoff, Outbox, OutboxEntry, OutboxWorker
from bot.handoff.smtp import SendError, SmtpSender
from bot.redact import redact

log = logging.getLogger(__name__)

# What happened to a request, for adapters to word for their medium.
OUTCOME_SENT = "sent"  # the mail server accepted it
OUTCOME_QUEUED = "queued"  # the server is away; the worker will retry
OUTCOME_NO_SERVER = "no_server"  # SMTP_HOST unset: stored; the asker sends the mailto: draft
OUTCOME_REFUSED = "refused"  # permanent failure: stored for an operator
OUTCOME_IN_PROGRESS = "in_progress"  # another sender holds it right now (double click)


@dataclass(frozen=True)
class Delivery:
    entry: OutboxEntry
    outcome: str
    created: bool  # False when the idempotency key was already stored (nothing new was sent)
    mailto: str | None = None  # a prefilled draft, for every outcome but "sent"

    @property
    def ref(self) -> str:
        return self.entry.ref


class HandoffService:
    def __init__(self, outbox: Outbox, sender: SmtpSender | None, backoff: Backoff | None = None):
        self.outbox = outbox
        self.sender = sender
        self.backoff = backoff or Backoff()

    @property
    def configured(self) -> bool:
        return self.sender is not None

    def submit(self, handoff: Handoff, idempotency_key: str) -> Delivery:
        """Store `handoff` under `idempotency_key`, then try to send it once.

        A key seen before sends nothing and returns the stored request's state.
        """
        entry, created = self.outbox.enqueue(handoff, idempotency_key,
                                             error=None if self.configured else NO_SERVER)
        if not created:
            return self._state(entry, created=False)
        return self.deliver(entry.ref, created=True)

    def deliver(self, ref: str, *, force: bool = False, created: bool = False) -> Delivery:
        """Claim one stored request and send it. `force` also resends a parked (permanent) one."""
        if self.sender is None:
            entry = self._get(ref)
            return Delivery(entry, OUTCOME_NO_SERVER if entry.status != SENT else OUTCOME_SENT, created,
                            None if entry.status == SENT else self.mailto(entry))
        if not self.outbox.claim(ref, force=force):
            return self._state(self._get(ref), created=created)
        entry = self._get(ref)
        try:
            msg = build_message(entry.to_handoff(), self.sender.sender_address, entry.subject, entry.body)
            self.sender.send(msg)
        except (SendError, HandoffError, ValueError) as exc:
            permanent = exc.permanent if isinstance(exc, SendError) else True
            reason = exc.reason if isinstance(exc, SendError) else f"could not build the e-mail: {exc}"
            entry = self.outbox.mark_failed(ref, redact(reason), permanent=permanent, backoff=self.backoff)
            log.warning("hand-off %s not sent (%s, attempt %d): %s", ref,
                        "permanent" if permanent else "will retry", entry.attempts, redact(reason))
            return Delivery(entry, OUTCOME_REFUSED if permanent else OUTCOME_QUEUED, created, self.mailto(entry))
        except BaseException:
            self.outbox.release(ref)  # unexpected: do not hold the row for the whole lease
            raise
        self.outbox.mark_sent(ref, msg["Message-ID"])
        log.info("hand-off %s sent", ref)
        return Delivery(self._get(ref), OUTCOME_SENT, created)

    def worker(self, poll_interval: float = 30.0) -> OutboxWorker:
        """The background retry thread (not started). Only useful with a mail server configured."""
        return OutboxWorker(self.outbox, self.deliver, poll_interval=poll_interval)

    def mailto(self, entry: OutboxEntry) -> str:
        return mailto_for(entry.to_handoff(), subject=entry.subject)

    def _state(self, entry: OutboxEntry, *, created: bool) -> Delivery:
        if entry.status == SENT:
            return Delivery(entry, OUTCOME_SENT, created)
        if entry.status == FAILED_PERMANENT:
            outcome = OUTCOME_REFUSED
        elif entry.status == PENDING and entry.last_error == NO_SERVER:
            outcome = OUTCOME_NO_SERVER
        elif entry.claimed_until and entry.attempts == 0:
            outcome = OUTCOME_IN_PROGRESS
        else:
            outcome = OUTCOME_QUEUED
        return Delivery(entry, outcome, created, self.mailto(entry))

    def _get(self, ref: str) -> OutboxEntry:
        entry = self.outbox.get(ref)
        if entry is None:
            raise KeyError(f"no hand-off with reference {ref}")
        return entry
