"""SQLite state of the Slack bot: which events were handled, what was answered, how it was rated.

- `processed_events`: keys of events already taken (event id, channel+message ts). Kept on
  disk so that a Slack retry arriving after a restart is still recognised.
- `answers`: one row per answer shown, so buttons carry only a short id (Slack caps a
  button value at 2,000 characters) and later actions (share, feedback, forward to the
  contact window) see exactly what the user saw; a follow-up in a thread reads the earlier
  questions of that thread from here (`thread_questions`).
- `feedback`: 👍/👎 per answer and user, with the question and the clause ids.

Questions are stored as the logs see them (bot/redact.py: no e-mail addresses, phone numbers
or tokens), and rows go when they are older than the retention period (bot/retention.py) or
when an operator forgets a user. Schema 2 is that redaction; a schema-1 file is redacted in
place when it is opened. `answers.record` (how the answer was decided: bot/record.py, clause
ids and numbers only, read by the forward button instead of asking again) is added to a file
that lacks it; older code reads such a file unchanged, so the schema version stays.

One connection guarded by a lock: writes are tiny, and SQLite serialises writers anyway.
"""
from __future__ import annotations

import dataclasses
import json
import secrets
import sqlite3
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from bot.answer import Answer, Citation, Contact
from bot.redact import redact, redact_mailto

SCHEMA_VERSION = 2  # 2: questions are stored redacted (a schema-1 file is redacted on open)
VOTES = ("up", "down")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS processed_events (
    key TEXT PRIMARY KEY,
    created_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS answers (
    id TEXT PRIMARY KEY,
    question TEXT NOT NULL,
    lang TEXT NOT NULL,
    status TEXT NOT NULL,
    citation_ids TEXT NOT NULL,
    user_id TEXT,
    channel TEXT,
    thread_ts TEXT,
    created_at REAL NOT NULL,
    surface TEXT,
    slack_text TEXT,
    answer_json TEXT,
    record TEXT
);
CREATE TABLE IF NOT EXISTS feedback (
    answer_id TEXT NOT NULL,
    question TEXT NOT NULL,
    clause_ids TEXT NOT NULL,
    user_id TEXT NOT NULL,
    vote TEXT NOT NULL CHECK (vote IN ('up', 'down')),
    ts REAL NOT NULL,
    PRIMARY KEY (answer_id, user_id)
);
CREATE INDEX IF NOT EXISTS processed_events_created ON processed_events (created_at);
CREATE INDEX IF NOT EXISTS answers_created ON answers (created_at);
CREATE INDEX IF NOT EXISTS answers_user ON answers (user_id);
CREATE INDEX IF NOT EXISTS answers_thread ON answers (channel, thread_ts);
"""


class StoreError(RuntimeError):
    """The database file cannot be used (wrong schema version, unreadable)."""


@dataclass(frozen=True)
class StoredAnswer:
    """A row of the `answers` log; `answer` is the full Answer as it was shown (None if absent)."""

    id: str
    question: str
    lang: str
    status: str
    citation_ids: tuple[str, ...]
    user_id: str | None
    channel: str | None
    thread_ts: str | None
    created_at: float
    surface: str | None
    slack_text: str | None  # the question as Slack delivered it (for an escaped echo)
    answer: Answer | None
    record: dict | None = None  # how it was decided (bot/record.py AnswerRecord.to_dict); None for older rows


@dataclass(frozen=True)
class Feedback:
    answer_id: str
    question: str
    clause_ids: tuple[str, ...]
    user_id: str
    vote: str
    ts: float


def redacted_answer(answer: Answer) -> Answer:
    """The answer as it may be kept: its question (and the mailto: draft carrying it) redacted."""
    contact = dataclasses.replace(answer.contact, mailto=redact_mailto(answer.contact.mailto)) \
        if answer.contact else None
    return dataclasses.replace(answer, question=redact(answer.question), contact=contact)


def _redacted_answer_json(text: str | None) -> str | None:
    return answer_to_json(redacted_answer(answer_from_json(text))) if text else text


def answer_to_json(answer: Answer) -> str:
    """Serialise what an Answer showed (the CLI JSON object drops lead, reason and company)."""
    data = dataclasses.asdict(answer)
    data.pop("record", None)  # how it was decided: kept apart, in its own column
    return json.dumps(data, ensure_ascii=False, default=str)


def answer_from_json(text: str) -> Answer:
    data = json.loads(text)
    data["citations"] = tuple(Citation(**c) for c in data.get("citations") or ())
    data["related"] = tuple(Citation(**c) for c in data.get("related") or ())
    data["contact"] = Contact(**data["contact"]) if data.get("contact") else None
    known = {f.name for f in dataclasses.fields(Answer)}
    return Answer(**{k: v for k, v in data.items() if k in known})


def _record_of(text: str | None) -> dict | None:
    """The stored record as a dict; None when absent or not a JSON object (the answer stays readable)."""
    try:
        data = json.loads(text) if text else None
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


class SlackStore:
    """Thread-safe; open once per process (`SlackStore(path)`), `close()` at shutdown."""

    def __init__(self, path: Path | str):
        self.path = Path(path)
        if str(path) != ":memory:":
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=10)
            if str(path) != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA secure_delete = ON")  # deleted and redacted text is overwritten
            self._db.executescript(_SCHEMA)
            self._check_version()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"cannot use the database {path}: {exc}. Move it away or set POLICYBOT_DB "
                             "to another file.") from exc

    def _check_version(self) -> None:
        """Bring an older file up to SCHEMA_VERSION (in one transaction); refuse a newer one."""
        with self._write() as db:
            row = db.execute("SELECT value FROM meta WHERE key = 'slack_schema'").fetchone()
            version = row[0] if row else str(SCHEMA_VERSION)
            if version not in {str(v) for v in range(1, SCHEMA_VERSION + 1)}:
                raise StoreError(f"{self.path} has Slack schema version {version}, this code reads up to "
                                 f"{SCHEMA_VERSION}: run a newer policybot, or set POLICYBOT_DB to another file")
            if int(version) < 2:
                self._redact_stored_questions()
            if "record" not in {row[1] for row in db.execute("PRAGMA table_info(answers)")}:
                db.execute("ALTER TABLE answers ADD COLUMN record TEXT")  # older rows keep NULL: no record
            db.execute("INSERT INTO meta (key, value) VALUES ('slack_schema', ?) ON CONFLICT (key) DO UPDATE"
                       " SET value = excluded.value", (str(SCHEMA_VERSION),))

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction under the lock, rolled back if anything raises."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _redact_stored_questions(self) -> None:
        """Schema 1 → 2: questions were kept in full; keep them as the logs do."""
        rows = self._db.execute("SELECT id, question, slack_text, answer_json FROM answers").fetchall()
        self._db.executemany("UPDATE answers SET question = ?, slack_text = ?, answer_json = ? WHERE id = ?",
                             [(redact(q), redact(t) if t else t, _redacted_answer_json(j), i) for i, q, t, j in rows])
        rows = self._db.execute("SELECT rowid, question FROM feedback").fetchall()
        self._db.executemany("UPDATE feedback SET question = ? WHERE rowid = ?", [(redact(q), r) for r, q in rows])

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- dedupe ---------------------------------------------------------------------------
    def claim(self, *keys: str) -> bool:
        """True if none of `keys` was seen before (and now all are); False for a repeat.

        An event is claimed under several keys (its event id, its channel+ts) so that a retry
        and the same message arriving as both `app_mention` and `message` are both caught.
        """
        keys = tuple(k for k in keys if k)
        if not keys:
            return True
        now = time.time()
        with self._write() as db:
            marks = ",".join("?" * len(keys))
            seen = db.execute(f"SELECT 1 FROM processed_events WHERE key IN ({marks}) LIMIT 1", keys).fetchone()
            if seen is None:
                db.executemany("INSERT INTO processed_events (key, created_at) VALUES (?, ?)", [(k, now) for k in keys])
        return seen is None

    def prune_events(self, older_than_s: float = 3 * 24 * 3600) -> int:
        """Forget event keys older than Slack's retry window (it gives up within hours)."""
        with self._lock:
            cur = self._db.execute("DELETE FROM processed_events WHERE created_at < ?", (time.time() - older_than_s,))
        return cur.rowcount

    # -- answers --------------------------------------------------------------------------
    def record_answer(self, answer: Answer, *, user_id: str | None = None, channel: str | None = None,
                      thread_ts: str | None = None, surface: str | None = None, slack_text: str | None = None,
                      record: dict | None = None) -> str:
        """Log an answer that is about to be shown; returns its short id for button values.

        `slack_text`: the question as Slack delivered it, kept so a later echo (share) shows
        what the user wrote; `answer.question` is its plain form that was answered. Both are
        stored redacted, like the logs: a pasted e-mail address or phone number is not kept.
        `record`: how the answer was decided (`answer.record.to_dict()`), kept as JSON.
        """
        answer_id = secrets.token_urlsafe(9)  # 12 characters, unguessable
        answer = redacted_answer(answer)
        slack_text = redact(slack_text) if slack_text else slack_text
        with self._lock:
            self._db.execute(
                "INSERT INTO answers (id, question, lang, status, citation_ids, user_id, channel, thread_ts,"
                " created_at, surface, slack_text, answer_json, record) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (answer_id, answer.question, answer.lang, answer.status,
                 json.dumps([c.id for c in answer.citations]), user_id, channel, thread_ts, time.time(), surface,
                 slack_text, answer_to_json(answer), None if record is None else json.dumps(record)))
        return answer_id

    def get_answer(self, answer_id: str) -> StoredAnswer | None:
        with self._lock:
            row = self._db.execute(
                "SELECT id, question, lang, status, citation_ids, user_id, channel, thread_ts, created_at, surface,"
                " slack_text, answer_json, record FROM answers WHERE id = ?", (answer_id,)).fetchone()
        if row is None:
            return None
        return StoredAnswer(
            id=row[0], question=row[1], lang=row[2], status=row[3], citation_ids=tuple(json.loads(row[4])),
            user_id=row[5], channel=row[6], thread_ts=row[7], created_at=row[8], surface=row[9],
            slack_text=row[10], answer=answer_from_json(row[11]) if row[11] else None,
            record=_record_of(row[12]))

    def thread_questions(self, channel: str, thread_ts: str, user_id: str, surfaces: tuple[str, ...],
                         limit: int = 10) -> list[str]:
        """The questions `user_id` asked in this thread and was answered on one of `surfaces`,
        oldest first (the last `limit`): the earlier turns of a follow-up. Only the asker's own,
        so one person's conversation never becomes another's context; read as stored."""
        if not surfaces:
            return []
        marks = ",".join("?" * len(surfaces))
        with self._lock:
            rows = self._db.execute(
                f"SELECT question FROM answers WHERE channel = ? AND thread_ts = ? AND user_id = ?"
                f" AND surface IN ({marks}) ORDER BY created_at DESC, rowid DESC LIMIT ?",
                (channel, thread_ts, user_id, *surfaces, limit)).fetchall()
        return [row[0] for row in reversed(rows)]

    def popular_questions(self, min_askers: int, limit: int) -> list[str]:
        """Answered questions asked word for word by at least `min_askers` different people, most
        asked first: what employees ask most, and never one person's own text."""
        with self._lock:
            rows = self._db.execute(
                "SELECT question FROM answers WHERE status = 'answered' AND user_id IS NOT NULL GROUP BY question"
                " HAVING COUNT(DISTINCT user_id) >= ? ORDER BY COUNT(DISTINCT user_id) DESC, MAX(created_at) DESC"
                " LIMIT ?", (max(1, min_askers), limit)).fetchall()
        return [row[0] for row in rows]

    def count_answers(self) -> int:
        with self._lock:
            return self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]

    # -- feedback -------------------------------------------------------------------------
    def record_feedback(self, answer_id: str, user_id: str, vote: str) -> Feedback | None:
        """Store (or change) a user's vote on an answer; None when the answer id is unknown."""
        if vote not in VOTES:
            raise ValueError(f"vote must be one of {VOTES}, not {vote!r}")
        stored = self.get_answer(answer_id)
        if stored is None:
            return None
        fb = Feedback(answer_id, stored.question, stored.citation_ids, user_id, vote, time.time())
        with self._lock:
            self._db.execute(
                "INSERT INTO feedback (answer_id, question, clause_ids, user_id, vote, ts) VALUES (?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (answer_id, user_id) DO UPDATE SET vote = excluded.vote, ts = excluded.ts",
                (fb.answer_id, fb.question, json.dumps(list(fb.clause_ids)), fb.user_id, fb.vote, fb.ts))
        return fb

    def feedback(self, answer_id: str | None = None) -> list[Feedback]:
        sql = "SELECT answer_id, question, clause_ids, user_id, vote, ts FROM feedback"
        args: tuple = ()
        if answer_id is not None:
            sql += " WHERE answer_id = ?"
            args = (answer_id,)
        with self._lock:
            rows = self._db.execute(sql + " ORDER BY ts", args).fetchall()
        return [Feedback(r[0], r[1], tuple(json.loads(r[2])), r[3], r[4], r[5]) for r in rows]

    # -- retention ------------------------------------------------------------------------
    def checkpoint(self) -> None:
        """Move the write-ahead log into the file and empty it: after a purge or a forget, the old
        versions of the rows must not linger in the -wal file."""
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def purge_before(self, cutoff: float) -> dict[str, int]:
        """Delete answers and feedback recorded before `cutoff` (unix time); counts per table."""
        with self._write() as db:
            return {"answers": db.execute("DELETE FROM answers WHERE created_at < ?", (cutoff,)).rowcount,
                    "feedback": db.execute("DELETE FROM feedback WHERE ts < ?", (cutoff,)).rowcount}

    def forget_user(self, user_id: str) -> dict[str, int]:
        """Delete every answer asked by `user_id`, every vote on those answers and every vote
        `user_id` gave. Event keys hold no user data (event ids, channel + timestamp)."""
        with self._write() as db:
            feedback = db.execute("DELETE FROM feedback WHERE user_id = ? OR answer_id IN"
                                  " (SELECT id FROM answers WHERE user_id = ?)", (user_id, user_id)).rowcount
            return {"answers": db.execute("DELETE FROM answers WHERE user_id = ?", (user_id,)).rowcount,
                    "feedback": feedback}
