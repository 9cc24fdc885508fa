"""Durable SQLite outbox for hand-offs: written before sending, retried with backoff, never lost.

Lives in the same database as the feedback log (Settings.db_path), in its own table. Every
call opens its own short connection, so the Slack threads, the retry worker and the CLI can
share one file safely. A row is "claimed" (a short lease) while one sender talks to the
server, so a Slack retry, a double click and the background worker never send twice.

A request keeps the full text only until it is sent: the contact window needs the asker's
address and phone number, the bot does not. Marking it sent redacts it (bot/redact.py).
Schema 2 (meta key `outbox_schema`) is that rule; opening a schema-1 file redacts the
requests it already sent.
"""
from __future__ import annotations

import json
import logging
import os
import sqlite3
import threading
import time
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from bot.handoff.compose import Handoff, new_ref
from bot.redact import redact

log = logging.getLogger(__name__)

PENDING = "pending"
SENT = "sent"
FAILED_PERMANENT = "failed_permanent"
STATUSES = (PENDING, SENT, FAILED_PERMANENT)
NO_SERVER = "no mail server configured"
CLAIM_SECONDS = 120.0  # longer than an SMTP exchange can take (timeout 20 s per step)
SCHEMA_VERSION = 2  # 2: sent requests are kept redacted
_REDACTED_COLUMNS = ("subject", "body", "question", "context", "reply_to")
_REDACTED_HANDOFF_KEYS = ("question", "context", "reply_to")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS handoff_outbox (
    ref              TEXT PRIMARY KEY,
    idempotency_key  TEXT NOT NULL UNIQUE,
    to_addr          TEXT NOT NULL,
    reply_to         TEXT,
    subject          TEXT NOT NULL,
    body             TEXT NOT NULL,
    asker            TEXT NOT NULL,
    asker_name       TEXT,
    lang             TEXT NOT NULL,
    question         TEXT NOT NULL,
    context          TEXT,
    citation_ids     TEXT NOT NULL,          -- JSON array of clause ids
    permalink        TEXT,
    status           TEXT NOT NULL CHECK (status IN ('pending', 'sent', 'failed_permanent')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error       TEXT,                   -- short, secret-free reason
    next_attempt_at  REAL,                   -- unix time; NULL when nothing is scheduled
    claimed_until    REAL,                   -- unix time; a sender holds the row until then
    created_at       TEXT NOT NULL,          -- ISO 8601 UTC
    sent_at          TEXT,
    message_id       TEXT,
    handoff          TEXT NOT NULL           -- JSON of the Handoff (re-renders mailto: drafts)
);
CREATE INDEX IF NOT EXISTS handoff_outbox_due ON handoff_outbox (status, next_attempt_at);
CREATE INDEX IF NOT EXISTS handoff_outbox_asker ON handoff_outbox (asker);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class OutboxSchemaError(RuntimeError):
    """The database was written by a newer policybot; the message says what to do."""


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff between transient failures, capped. Tests use tiny values."""

    base: float = 30.0
    factor: float = 2.0
    cap: float = 3600.0

    def delay(self, attempts: int) -> float:
        return min(self.cap, self.base * self.factor ** max(0, attempts - 1))

    @classmethod
    def from_env(cls) -> "Backoff":
        """POLICYBOT_HANDOFF_RETRY_BASE / POLICYBOT_HANDOFF_RETRY_CAP (seconds) tune it per deployment."""
        def number(name: str, default: float) -> float:
            text = os.environ.get(name)
            try:
                return float(text) if text else default
            except ValueError:
                raise ValueError(f"{name} must be a number of seconds (got {text!r}).") from None
        return cls(base=number("POLICYBOT_HANDOFF_RETRY_BASE", cls.base),
                   cap=number("POLICYBOT_HANDOFF_RETRY_CAP", cls.cap))


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


class Outbox:
    def __init__(self, db_path: str | Path, clock: Callable[[], float] = time.time):
        self.path = Path(db_path)
        self.clock = clock
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connect() as db:
            db.executescript(_SCHEMA)
            self._migrate(db)

    def _migrate(self, db: sqlite3.Connection) -> None:
        """Bring an older file up to SCHEMA_VERSION in one transaction; refuse a newer one."""
        db.execute("BEGIN IMMEDIATE")
        try:
            row = db.execute("SELECT value FROM meta WHERE key = 'outbox_schema'").fetchone()
            version = row["value"] if row else "1"  # the table predates the version marker
            if version not in {str(v) for v in range(1, SCHEMA_VERSION + 1)}:
                raise OutboxSchemaError(f"{self.path} has hand-off outbox schema {version}, this code reads up to "
                                        f"{SCHEMA_VERSION}: run a newer policybot, or set POLICYBOT_DB to another file")
            if version == "1":
                for row in db.execute("SELECT * FROM handoff_outbox WHERE status = ?", (SENT,)).fetchall():
                    _store_redacted(db, row)
            db.execute("INSERT INTO meta (key, value) VALUES ('outbox_schema', ?) ON CONFLICT (key) DO UPDATE"
                       " SET value = excluded.value", (str(SCHEMA_VERSION),))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=15.0, isolation_level=None)
        db.row_factory = sqlite3.Row
        db.execute("PRAGMA busy_timeout = 15000")
        db.execute("PRAGMA secure_delete = ON")  # a redacted or deleted request is overwritten, not left in free pages
        return closing(db)  # type: ignore[return-value]

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
                with self._connect() as db:
                    cur = db.execute(
                        "INSERT INTO handoff_outbox (ref, idempotency_key, to_addr, reply_to, subject, body, asker,"
                        " asker_name, lang, question, context, citation_ids, permalink, status, attempts, last_error,"
                        " next_attempt_at, created_at, handoff) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,0,?,?,?,?)"
                        " ON CONFLICT (idempotency_key) DO NOTHING",
                        (handoff.ref, idempotency_key, handoff.to_addr, handoff.reply_to, handoff.subject,
                         handoff.body, handoff.asker, handoff.asker_name, handoff.lang, handoff.question,
                         handoff.context, json.dumps(list(handoff.citation_ids)), handoff.permalink, PENDING,
                         error, None if error == NO_SERVER else now, handoff.created_at.astimezone(timezone.utc).isoformat(timespec="seconds"),
                         json.dumps(handoff.to_json(), ensure_ascii=False)))
                    created = cur.rowcount == 1
            except sqlite3.IntegrityError:  # the random reference number is taken: draw another one
                handoff = _with_ref(handoff, new_ref(handoff.created_at))
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
        with self._connect() as db:
            cur = db.execute(
                f"UPDATE handoff_outbox SET claimed_until = ? WHERE ref = ? AND status IN ({','.join('?' * len(statuses))})"
                " AND (claimed_until IS NULL OR claimed_until < ?)",
                (now + lease, ref, *statuses, now))
            return cur.rowcount == 1

    def mark_sent(self, ref: str, message_id: str | None = None) -> None:
        """Record the delivery and, in the same transaction, redact what the request said."""
        now = self.clock()
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            db.execute("UPDATE handoff_outbox SET status = ?, attempts = attempts + 1, last_error = NULL,"
                       " next_attempt_at = NULL, claimed_until = NULL, sent_at = ?, message_id = ? WHERE ref = ?",
                       (SENT, _iso(now), message_id, ref))
            row = db.execute("SELECT * FROM handoff_outbox WHERE ref = ?", (ref,)).fetchone()
            if row is not None:
                _store_redacted(db, row)
            db.execute("COMMIT")

    def mark_failed(self, ref: str, reason: str, *, permanent: bool, backoff: Backoff) -> OutboxEntry:
        """Count the attempt; schedule the next one (transient) or park the row for an operator (permanent)."""
        now = self.clock()
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT attempts FROM handoff_outbox WHERE ref = ?", (ref,)).fetchone()
            if row is None:
                db.execute("ROLLBACK")
                raise KeyError(ref)
            attempts = row["attempts"] + 1
            status = FAILED_PERMANENT if permanent else PENDING
            next_at = None if permanent else now + backoff.delay(attempts)
            db.execute("UPDATE handoff_outbox SET status = ?, attempts = ?, last_error = ?, next_attempt_at = ?,"
                       " claimed_until = NULL WHERE ref = ?", (status, attempts, reason[:500], next_at, ref))
            db.execute("COMMIT")
        entry = self.get(ref)
        assert entry is not None
        return entry

    def release(self, ref: str, note: str | None = None) -> None:
        """Give the claim back without counting an attempt (e.g. no mail server is configured)."""
        with self._connect() as db:
            db.execute("UPDATE handoff_outbox SET claimed_until = NULL, last_error = COALESCE(?, last_error)"
                       " WHERE ref = ?", (note, ref))

    def requeue(self, ref: str) -> OutboxEntry:
        """Operator retry: a parked (failed_permanent) or pending row becomes pending and due now."""
        with self._connect() as db:
            cur = db.execute("UPDATE handoff_outbox SET status = ?, next_attempt_at = ? WHERE ref = ? AND status != ?",
                             (PENDING, self.clock(), ref, SENT))
        entry = self.get(ref)
        if entry is None:
            raise KeyError(ref)
        if cur.rowcount == 0 and entry.status == SENT:
            raise ValueError(f"{ref} was already sent at {entry.sent_at}")
        return entry

    # --- retention -------------------------------------------------------------------------

    def purge_sent_before(self, cutoff: float) -> tuple[int, list[str]]:
        """Delete sent requests created before `cutoff` (unix time). Returns (deleted, references of
        unsent requests as old): those are never deleted here, they still have to reach the window."""
        stamp = _iso(cutoff)
        with self._connect() as db:
            deleted = db.execute("DELETE FROM handoff_outbox WHERE status = ? AND created_at < ?",
                                 (SENT, stamp)).rowcount
            unsent = db.execute("SELECT ref FROM handoff_outbox WHERE status != ? AND created_at < ? ORDER BY"
                                " created_at", (SENT, stamp)).fetchall()
        return deleted, [r["ref"] for r in unsent]

    def forget_asker(self, asker: str, *, drop_unsent: bool = False) -> tuple[int, list[str]]:
        """Delete the requests `asker` made. An unsent one is the asker's own message to the
        contact window, possibly the very deletion request: it is kept (and its reference
        returned) unless `drop_unsent`. Returns (deleted, references kept)."""
        gone = STATUSES if drop_unsent else (SENT,)
        marks = ",".join("?" * len(gone))
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            kept = db.execute(f"SELECT ref FROM handoff_outbox WHERE asker = ? AND status NOT IN ({marks})"
                              " ORDER BY created_at", (asker, *gone)).fetchall()
            deleted = db.execute(f"DELETE FROM handoff_outbox WHERE asker = ? AND status IN ({marks})",
                                 (asker, *gone)).rowcount
            db.execute("COMMIT")
        return deleted, [r["ref"] for r in kept]

    # --- reading ---------------------------------------------------------------------------

    def get(self, ref: str) -> OutboxEntry | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM handoff_outbox WHERE ref = ?", (ref.strip().upper(),)).fetchone()
        return _entry(row) if row else None

    def get_by_key(self, idempotency_key: str) -> OutboxEntry | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM handoff_outbox WHERE idempotency_key = ?", (idempotency_key,)).fetchone()
        return _entry(row) if row else None

    def list(self, status: str | None = None, limit: int = 50) -> list[OutboxEntry]:
        """Newest first."""
        if status is not None and status not in STATUSES:
            raise ValueError(f"status must be one of {', '.join(STATUSES)}")
        sql = "SELECT * FROM handoff_outbox"
        args: tuple = ()
        if status:
            sql += " WHERE status = ?"
            args = (status,)
        sql += " ORDER BY created_at DESC, rowid DESC LIMIT ?"
        with self._connect() as db:
            return [_entry(r) for r in db.execute(sql, (*args, limit))]

    def due(self, limit: int = 20) -> list[str]:
        """References of pending rows whose next attempt is due and that nobody holds."""
        now = self.clock()
        with self._connect() as db:
            rows = db.execute("SELECT ref FROM handoff_outbox WHERE status = ? AND next_attempt_at <= ?"
                              " AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY next_attempt_at LIMIT ?",
                              (PENDING, now, now, limit)).fetchall()
        return [r["ref"] for r in rows]

    def next_due_at(self) -> float | None:
        with self._connect() as db:
            row = db.execute("SELECT MIN(MAX(next_attempt_at, COALESCE(claimed_until, 0))) AS t"
                             " FROM handoff_outbox WHERE status = ?", (PENDING,)).fetchone()
        return row["t"] if row else None

    def counts(self) -> dict[str, int]:
        with self._connect() as db:
            rows = db.execute("SELECT status, COUNT(*) AS n FROM handoff_outbox GROUP BY status").fetchall()
        return {s: 0 for s in STATUSES} | {r["status"]: r["n"] for r in rows}


def _entry(row: sqlite3.Row) -> OutboxEntry:
    data = dict(row)
    data["citation_ids"] = tuple(json.loads(data["citation_ids"] or "[]"))
    return OutboxEntry(**data)


def _store_redacted(db: sqlite3.Connection, row: sqlite3.Row) -> None:
    """Rewrite one row with its free text redacted (the addresses of the window and the asker's
    Slack id stay: they are what the row is about)."""
    values = [redact(row[c]) if row[c] else row[c] for c in _REDACTED_COLUMNS]
    handoff = json.loads(row["handoff"])
    for key in _REDACTED_HANDOFF_KEYS:
        if handoff.get(key):
            handoff[key] = redact(handoff[key])
    db.execute(f"UPDATE handoff_outbox SET {', '.join(f'{c} = ?' for c in _REDACTED_COLUMNS)}, handoff = ?"
               " WHERE ref = ?", (*values, json.dumps(handoff, ensure_ascii=False), row["ref"]))


def _with_ref(handoff: Handoff, ref: str) -> Handoff:
    from dataclasses import replace
    return replace(handoff, ref=ref)


class OutboxWorker:
    """Background thread that delivers due pending hand-offs, so a mail server outage heals itself.

    `deliver(ref)` is HandoffService.deliver: it claims, sends and records one row.
    Start it once per process (`policybot serve`); `wake()` makes it look now.
    """

    def __init__(self, outbox: Outbox, deliver: Callable[[str], object], poll_interval: float = 30.0):
        self.outbox = outbox
        self.deliver = deliver
        self.poll_interval = poll_interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> "OutboxWorker":
        if self._thread and self._thread.is_alive():
            return self
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="handoff-outbox", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread:
            self._thread.join(timeout)
            self._thread = None

    def wake(self) -> None:
        self._wake.set()

    def __enter__(self) -> "OutboxWorker":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def run_once(self) -> int:
        """Attempt every due row once; returns how many were attempted."""
        refs = self.outbox.due()
        for ref in refs:
            if self._stop.is_set():
                break
            try:
                self.deliver(ref)
            except Exception:  # a bug in one row must not stop delivery of the others
                log.exception("hand-off %s: delivery raised; it stays pending", ref)
        return len(refs)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
                wait = self._wait_seconds()
            except sqlite3.Error:
                log.exception("hand-off outbox unreadable; retrying in %.0f s", self.poll_interval)
                wait = self.poll_interval
            self._wake.wait(wait)
            self._wake.clear()

    def _wait_seconds(self) -> float:
        next_at = self.outbox.next_due_at()
        if next_at is None:
            return self.poll_interval
        return max(0.01, min(self.poll_interval, next_at - self.outbox.clock()))
