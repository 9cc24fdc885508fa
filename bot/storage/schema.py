"""The tables of the bot's database, as SQLAlchemy Core `Table`s (schema version in migrations.py).

Column names and types are those the SQLite files of earlier versions already have, so a file
is migrated by adding what is new, never by copying rows. JSON held in TEXT columns is decoded
by the column type (`JsonList`, `JsonDocument`), so a row maps to a record in one step.
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import CheckConstraint, Column, Float, Index, Integer, MetaData, PrimaryKeyConstraint, Table, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

metadata = MetaData()


class JsonList(TypeDecorator):
    """A JSON array in a TEXT column, read as a tuple (clause ids)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else json.dumps(list(value), ensure_ascii=False)

    def process_result_value(self, value: str | None, dialect: Dialect) -> tuple:
        return tuple(json.loads(value)) if value else ()


class JsonDocument(TypeDecorator):
    """A JSON object in a TEXT column (NULL stays None): portable to every database."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        return None if value is None else json.dumps(value, ensure_ascii=False, default=str)

    def process_result_value(self, value: str | None, dialect: Dialect) -> Any:
        return None if value is None else json.loads(value)


# Key/value pairs; earlier versions kept their schema versions here ("slack_schema", "outbox_schema").
meta = Table(
    "meta", metadata,
    Column("key", Text, primary_key=True),
    Column("value", Text, nullable=False),
)

# One row per migration step applied; the database's version is the highest.
schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("applied_at", Float, nullable=False),
)

# Keys of Slack events already taken, so a retry after a restart is recognised.
processed_events = Table(
    "processed_events", metadata,
    Column("key", Text, primary_key=True),
    Column("created_at", Float, nullable=False),
    Index("processed_events_created", "created_at"),
)

# One row per answer shown (questions redacted); buttons carry its short id.
answers = Table(
    "answers", metadata,
    Column("id", Text, primary_key=True),
    Column("question", Text, nullable=False),
    Column("lang", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("citation_ids", JsonList, nullable=False),
    Column("user_id", Text),
    Column("channel", Text),
    Column("thread_ts", Text),
    Column("created_at", Float, nullable=False),
    Column("surface", Text),
    Column("slack_text", Text),
    Column("answer_json", Text),
    Column("record", JsonDocument),  # schema 3: the answer's complete typed record (JSON), NULL before
    Index("answers_created", "created_at"),
    Index("answers_user", "user_id"),
    Index("answers_thread", "channel", "thread_ts"),
)

# 👍/👎, one per answer and user.
feedback = Table(
    "feedback", metadata,
    Column("answer_id", Text, nullable=False),
    Column("question", Text, nullable=False),
    Column("clause_ids", JsonList, nullable=False),
    Column("user_id", Text, nullable=False),
    Column("vote", Text, CheckConstraint("vote IN ('up', 'down')"), nullable=False),
    Column("ts", Float, nullable=False),
    PrimaryKeyConstraint("answer_id", "user_id"),
)

# Hand-offs to the contact window: stored before sending, full text only until sent.
handoff_outbox = Table(
    "handoff_outbox", metadata,
    Column("ref", Text, primary_key=True),
    Column("idempotency_key", Text, nullable=False, unique=True),
    Column("to_addr", Text, nullable=False),
    Column("reply_to", Text),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("asker", Text, nullable=False),
    Column("asker_name", Text),
    Column("lang", Text, nullable=False),
    Column("question", Text, nullable=False),
    Column("context", Text),
    Column("citation_ids", JsonList, nullable=False),
    Column("permalink", Text),
    Column("status", Text, CheckConstraint("status IN ('pending', 'sent', 'failed_permanent')"), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", Text),  # short, secret-free reason
    Column("next_attempt_at", Float),  # unix time; NULL when nothing is scheduled
    Column("claimed_until", Float),  # unix time; a sender holds the row until then
    Column("created_at", Text, nullable=False),  # ISO 8601 UTC
    Column("sent_at", Text),
    Column("message_id", Text),
    Column("handoff", Text, nullable=False),  # JSON of the Handoff (re-renders mailto: drafts)
    Index("handoff_outbox_due", "status", "next_attempt_at"),
    Index("handoff_outbox_asker", "asker"),
)

