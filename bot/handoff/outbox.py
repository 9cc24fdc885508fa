"""Durable outbox for hand-offs: written before sending, retried with backoff, never lost.

Lives in the bot's database (bot/storage, table `handoff_outbox`) next to the answers log;
every call is one short transaction, so the Slack threads, the retry worker and the CLI can
share one database safely. A row is "claimed" (a short lease) while one sender talks to the
server, so a Slack retry, a double click and the background worker never send twice.

A request keeps the full text only until it is sent: the contact window needs the asker's
address and phone number, the bot does not. Marking it sent redacts it
(bot/storage/redaction.py); a file written before that rule has its sent requests redacted
when it is first opened (bot/storage/migrations.py).
"""
from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import case, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from bot.handoff.compose import Handoff, new_ref
from bot.periodic import PeriodicWorker
from bot.storage import DatabaseTarget, open_database
from bot.storage.redaction import redacted_handoff_columns
from bot.storage.schema import handoff_outbox as table
from bot.storage.statements import insertion_order, upsert

log = logging.getLogger(__name__)

PENDING = "pending"
SENT = "sent"
FAILED_PERMANENT = "failed_permanent"
STATUSES = (PENDING, SENT, FAILED_PERMANENT)
NO_SERVER = "no mail server configured"
CLAIM_SECONDS = 120.0  # longer than an SMTP exchange can take (timeout 20 s per step)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff between transient failures, capped. Tests use tiny values."""

    base: float = 30.0
    factor: float = 2.0
    cap: float = 3600.0

    def delay(self, attempts: int) -> float:
        return min(self.cap, self.base * self.factor ** max(0, attempts - 1))


@dataclass(frozen=True)
class OutboxEntry:
    """One stored hand-off, as sent (subject and body are the stored text, not re-rendered)."""

    ref: str
    idempotency_key: str
    to_addr: str
    reply_to: str | None
    subject: str
    body: str
    asker: str
    asker_name: str | None
    lang: str
    question: str
    context: str | None
    citation_ids: tuple[str, ...]
    permalink: str | None
    status: str
    attempts: int
    last_error: str | None
    next_attempt_at: float | None
    claimed_until: float | None
    created_at: str
    sent_at: str | None
    message_id: str | None
    handoff: str  # JSON, see Handoff.to_json

    @property
    def created(self) -> datetime:
        return datetime.fromisoformat(self.created_at)

    def to_json(self) -> dict:
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["citation_ids"] = list(self.citation_ids)
        data["next_attempt_at"] = _iso(self.next_attempt_at) if self.next_attempt_at else None
        data.pop("claimed_until")
        data.pop("handoff")
        return data

    def to_handoff(self) -> Handoff:
        """The stored Handoff (for headers and mailto: drafts; the e-mail's subject and body are the row's)."""
        return Handoff.from_json(json.loads(self.handoff))


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


# -- rows ↔ records: the one place an outbox row is mapped ---------------------------------------

def _new_row(handoff: Handoff, idempotency_key: str, error: str | None, now: float) -> dict[str, Any]:
    """The row of a hand-off just submitted: pending, due now (not scheduled when no mail server
    is configured: its asker was given a draft, only an operator's retry sends it)."""
    return {"ref": handoff.ref, "idempotency_key": idempotency_key, "to_addr": handoff.to_addr,
            "reply_to": handoff.reply_to, "subject": handoff.subject, "body": handoff.body, "asker": handoff.asker,
            "asker_name": handoff.asker_name, "lang": handoff.lang, "question": handoff.question,
            "context": handoff.context, "citation_ids": handoff.citation_ids, "permalink": handoff.permalink,
            "status": PENDING, "attempts": 0, "last_error": error,
            "next_attempt_at": None if error == NO_SERVER else now,
            "created_at": handoff.created_at.astimezone(timezone.utc).isoformat(timespec="seconds"),
            "handoff": json.dumps(handoff.to_json(), ensure_ascii=False)}


def _entry(row: Any) -> OutboxEntry:
    return OutboxEntry(**row._mapping)


class Outbox:
    """The hand-off table of one database. `Outbox(path_or_url)` opens (and migrates) it; given an
    open `bot.storage.Database` it shares that one. Thread-safe; `close()` when done."""

    def __init__(self, target: DatabaseTarget, clock: Callable[[], float] = time.time):
        self.db, self._owns_db = open_database(target)
        self.path: Path | None = self.db.path  # the SQLite file (the CLI hands it on), None for a server
        self.clock = clock

    def close(self) -> None:
        if self._owns_db:
            self.db.close()

    # --- writing ---------------------------------------------------------------------------

    def enqueue(self, handoff: Handoff, idempotency_key: str, *, error: str | None = None) -> tuple[OutboxEntry, bool]:
        """Store the hand-off as pending, due now. Returns (entry, created).

        With a key already stored, nothing is written and the existing entry is returned
        (created=False): a double click or a Slack retry yields one e-mail. A request stored
        while no mail server is configured (error=NO_SERVER) is not scheduled: its asker was
        given a draft to send themselves, so only an operator's `handoff retry` sends it.
        """
        if not idempotency_key:
            raise ValueError("an idempotency key is required")
        now = self.clock()
        for _ in range(5):
            try:
                with self.db.write() as conn:
                    created = upsert(conn, table, _new_row(handoff, idempotency_key, error, now),
                                     keys=("idempotency_key",)).rowcount == 1
            except IntegrityError:  # the random reference number is taken: draw another one
                handoff = replace(handoff, ref=new_ref(handoff.created_at))
                continue
            entry = self.get_by_key(idempotency_key)
            assert entry is not None  # just inserted or already there; rows are never deleted
            return entry, created
        raise RuntimeError("could not allocate a free reference number after 5 tries")

    def claim(self, ref: str, *, force: bool = False, lease: float = CLAIM_SECONDS) -> bool:
        """Take the row for one send attempt. False when it is sent, held by another sender, or
        (unless `force`) not pending."""
        now = self.clock()
        statuses = (PENDING, FAILED_PERMANENT) if force else (PENDING,)
        with self.db.write() as conn:
            return conn.execute(update(table).where(table.c.ref == ref, table.c.status.in_(statuses), _free(now))
                                .values(claimed_until=now + lease)).rowcount == 1

    def mark_sent(self, ref: str, message_id: str | None = None) -> None:
        """Record the delivery and, in the same transaction, redact what the request said."""
        with self.db.write() as conn:
            conn.execute(update(table).where(table.c.ref == ref).values(
                status=SENT, attempts=table.c.attempts + 1, last_error=None, next_attempt_at=None,
                claimed_until=None, sent_at=_iso(self.clock()), message_id=message_id))
            row = conn.execute(select(table).where(table.c.ref == ref)).mappings().first()
            if row is not None:
                conn.execute(update(table).where(table.c.ref == ref).values(**redacted_handoff_columns(row)))

    def mark_failed(self, ref: str, reason: str, *, permanent: bool, backoff: Backoff) -> OutboxEntry:
        """Count the attempt; schedule the next one (transient) or park the row for an operator (permanent)."""
        now = self.clock()
        with self.db.write() as conn:
            attempts = conn.execute(select(table.c.attempts).where(table.c.ref == ref)).scalar()
            if attempts is None:
                raise KeyError(ref)
            attempts += 1
            conn.execute(update(table).where(table.c.ref == ref).values(
                status=FAILED_PERMANENT if permanent else PENDING, attempts=attempts, last_error=reason[:500],
                next_attempt_at=None if permanent else now + backoff.delay(attempts), claimed_until=None))
        entry = self.get(ref)
        assert entry is not None
        return entry

    def release(self, ref: str, note: str | None = None) -> None:
        """Give the claim back without counting an attempt (e.g. no mail server is configured)."""
        with self.db.write() as conn:
            conn.execute(update(table).where(table.c.ref == ref).values(
                claimed_until=None, last_error=func.coalesce(note, table.c.last_error)))

    def requeue(self, ref: str) -> OutboxEntry:
        """Operator retry: a parked (failed_permanent) or pending row becomes pending and due now."""
        with self.db.write() as conn:
            changed = conn.execute(update(table).where(table.c.ref == ref, table.c.status != SENT)
                                   .values(status=PENDING, next_attempt_at=self.clock())).rowcount
        entry = self.get(ref)
        if entry is None:
            raise KeyError(ref)
        if changed == 0 and entry.status == SENT:
            raise ValueError(f"{ref} was already sent at {entry.sent_at}")
        return entry

    # --- retention -------------------------------------------------------------------------

    def purge_sent_before(self, cutoff: float) -> tuple[int, list[str]]:
        """Delete sent requests created before `cutoff` (unix time). Returns (deleted, references of
        unsent requests as old): those are never deleted here, they still have to reach the window."""
        older = table.c.created_at < _iso(cutoff)
        with self.db.write() as conn:
            deleted = conn.execute(delete(table).where(table.c.status == SENT, older)).rowcount
            unsent = conn.execute(select(table.c.ref).where(table.c.status != SENT, older)
                                  .order_by(table.c.created_at)).scalars().all()
        return deleted, list(unsent)

    def forget_asker(self, asker: str, *, drop_unsent: bool = False) -> tuple[int, list[str]]:
        """Delete the requests `asker` made. An unsent one is the asker's own message to the
        contact window, possibly the very deletion request: it is kept (and its reference
        returned) unless `drop_unsent`. Returns (deleted, references kept)."""
        gone = STATUSES if drop_unsent else (SENT,)
        theirs = table.c.asker == asker
        with self.db.write() as conn:
            kept = conn.execute(select(table.c.ref).where(theirs, table.c.status.not_in(gone))
                                .order_by(table.c.created_at)).scalars().all()
            deleted = conn.execute(delete(table).where(theirs, table.c.status.in_(gone))).rowcount
        return deleted, list(kept)

    # --- reading ---------------------------------------------------------------------------

    def get(self, ref: str) -> OutboxEntry | None:
        return self._one(table.c.ref == ref.strip().upper())

    def get_by_key(self, idempotency_key: str) -> OutboxEntry | None:
        return self._one(table.c.idempotency_key == idempotency_key)

    def _one(self, condition) -> OutboxEntry | None:
        with self.db.read() as conn:
            row = conn.execute(select(table).where(condition)).first()
        return _entry(row) if row is not None else None

    def list(self, status: str | None = None, limit: int = 50) -> list[OutboxEntry]:
        """Newest first."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        query = select(table).limit(limit)
        if status:
            query = query.where(table.c.status == status)
        with self.db.read() as conn:
            newest_first = [c.desc() for c in (table.c.created_at, *insertion_order(table, conn.dialect))]
            return [_entry(row) for row in conn.execute(query.order_by(*newest_first))]

    def due(self, limit: int = 20) -> list[str]:
        """References of pending rows whose next attempt is due and that nobody holds."""
        now = self.clock()
        with self.db.read() as conn:
            return list(conn.execute(
                select(table.c.ref).where(table.c.status == PENDING, table.c.next_attempt_at <= now, _free(now))
                .order_by(table.c.next_attempt_at).limit(limit)).scalars())

    def next_due_at(self) -> float | None:
        """When the next pending row can be attempted: its next attempt, or the end of its claim."""
        held_until = func.coalesce(table.c.claimed_until, 0)
        ready_at = case((held_until > table.c.next_attempt_at, held_until), else_=table.c.next_attempt_at)
        with self.db.read() as conn:
            return conn.execute(select(func.min(ready_at)).where(table.c.status == PENDING)).scalar()

    def counts(self) -> dict[str, int]:
        with self.db.read() as conn:
            rows = conn.execute(select(table.c.status, func.count()).group_by(table.c.status)).all()
        return {s: 0 for s in STATUSES} | {status: n for status, n in rows}


def _free(now: float):
    """Nobody holds the row: never claimed, or the claim ran out."""
    return or_(table.c.claimed_until.is_(None), table.c.claimed_until < now)


class OutboxWorker:
    """Background thread that delivers due pending hand-offs, so a mail server outage heals itself.

    `deliver(ref)` is HandoffService.deliver: it claims, sends and records one row.
    Start it once per process (`policybot serve`); `wake()` makes it look now.
    """

    def __init__(self, outbox: Outbox, deliver: Callable[[str], object], poll_interval: float = 30.0):
        self.outbox = outbox
        self.deliver = deliver
        self.poll_interval = poll_interval
        self._periodic = PeriodicWorker("handoff-outbox", self._tick, poll_interval)

    def start(self) -> "OutboxWorker":
        self._periodic.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._periodic.stop(timeout)

    def wake(self) -> None:
        self._periodic.wake()

    def __enter__(self) -> "OutboxWorker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def run_once(self) -> int:
        """Attempt every due row once; returns how many were attempted."""
        refs = self.outbox.due()
        for ref in refs:
            if self._periodic.stopping:
                break
            try:
                self.deliver(ref)
            except Exception:  # a bug in one row must not stop delivery of the others
                log.exception("hand-off %s: delivery raised; it stays pending", ref)
        return len(refs)

    def _tick(self) -> float:
        try:
            self.run_once()
            return self._wait_seconds()
        except SQLAlchemyError:
            log.exception("hand-off outbox unreadable; retrying in %.0f s", self.poll_interval)
            return self.poll_interval

    def _wait_seconds(self) -> float:
        next_at = self.outbox.next_due_at()
        if next_at is None:
            return self.poll_interval
        return max(0.01, min(self.poll_interval, next_at - self.outbox.clock()))
