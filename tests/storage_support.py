"""Databases as policybot wrote them before bot/storage: the DDL of that code, verbatim, and rows.

`bot/slack_store.py` (meta key `slack_schema`, 1 or 2) and `bot/handoff/outbox.py` (meta key
`outbox_schema`, absent in its first version, then 2) each created their tables in the one
SQLite file POLICYBOT_DB. Migration tests build such a file here, then open it with today's code.
"""
from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from datetime import timezone
from pathlib import Path

from bot.answer import Answer
from bot.handoff.compose import Handoff

# bot/slack_store.py, schema 2 (schema 1 had the same tables; it stored questions unredacted).
SLACK_SCHEMA_2 = """
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
    answer_json TEXT
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

# bot/handoff/outbox.py, schema 2 (schema 1: the same table, no `outbox_schema` key).
OUTBOX_SCHEMA_2 = """
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


def legacy_database(path: Path, *, slack_schema: int | None = 2, outbox_schema: int | None = 2,
                    outbox: bool = True) -> None:
    """A file as the previous code left it: the Slack tables (with `slack_schema`), the outbox
    table when `outbox` (with `outbox_schema`, None: the first version's missing key)."""
    with closing(sqlite3.connect(path)) as db:
        db.executescript(SLACK_SCHEMA_2 + (OUTBOX_SCHEMA_2 if outbox else ""))
        for key, version in (("slack_schema", slack_schema), ("outbox_schema", outbox_schema)):
            if version is not None:
                db.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, str(version)))
        db.commit()


def old_answer_json(answer: Answer) -> str:
    """The answer_json of the previous code: the Answer's fields without `signals`."""
    data = {name: getattr(answer, name) for name in answer.__dataclass_fields__ if name != "signals"}
    data["citations"] = [vars(c) for c in answer.citations]
    data["related"] = [vars(c) for c in answer.related]
    data["contact"] = vars(answer.contact) if answer.contact else None
    return json.dumps(data, ensure_ascii=False, default=str)


def insert_answer(path: Path, answer_id: str, answer: Answer, *, user_id: str | None, slack_text: str | None = None,
                  channel: str | None = None, thread_ts: str | None = None, created_at: float | None = None) -> None:
    with closing(sqlite3.connect(path)) as db:
        db.execute("INSERT INTO answers (id, question, lang, status, citation_ids, user_id, channel, thread_ts,"
                   " created_at, surface, slack_text, answer_json) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (answer_id, answer.question, answer.lang, answer.status,
                    json.dumps([c.id for c in answer.citations]), user_id, channel, thread_ts,
                    time.time() if created_at is None else created_at, "app_mention", slack_text,
                    old_answer_json(answer)))
        db.commit()


def insert_vote(path: Path, answer_id: str, question: str, user_id: str, vote: str = "up") -> None:
    with closing(sqlite3.connect(path)) as db:
        db.execute("INSERT INTO feedback VALUES (?, ?, '[]', ?, ?, ?)",
                   (answer_id, question, user_id, vote, time.time()))
        db.commit()


def insert_handoff(path: Path, handoff: Handoff, key: str, *, status: str = "pending") -> None:
    """One outbox row as the previous code's enqueue (and, for `sent`, mark_sent before redaction) wrote it."""
    with closing(sqlite3.connect(path)) as db:
        created = handoff.created_at.astimezone(timezone.utc).isoformat(timespec="seconds")
        db.execute("INSERT INTO handoff_outbox (ref, idempotency_key, to_addr, reply_to, subject, body, asker,"
                   " asker_name, lang, question, context, citation_ids, permalink, status, attempts, last_error,"
                   " next_attempt_at, created_at, sent_at, handoff) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                   (handoff.ref, key, handoff.to_addr, handoff.reply_to, handoff.subject, handoff.body, handoff.asker,
                    handoff.asker_name, handoff.lang, handoff.question, handoff.context,
                    json.dumps(list(handoff.citation_ids)), handoff.permalink, status, int(status == "sent"), None,
                    None if status == "sent" else time.time(), created, created if status == "sent" else None,
                    json.dumps(handoff.to_json(), ensure_ascii=False)))
        db.commit()


def table_rows(path: Path, table: str) -> list[tuple]:
    with closing(sqlite3.connect(path)) as db:
        return db.execute(f'SELECT * FROM "{table}" ORDER BY rowid').fetchall()
