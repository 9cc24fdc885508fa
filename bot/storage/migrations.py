"""The schema version of the database and the ordered steps that bring an older one up to it.

The version is the highest row of the `schema_version` table. Files written before it existed
kept two versions in `meta` (`slack_schema` for answers, votes and event keys; `outbox_schema`
for the hand-off outbox, absent in its first version), both 2 at most; they are read as the
database's version, the lower one counting. A step runs once, in the same write transaction as
the check, so two processes opening one old file migrate it once. A database newer than this
code is refused in one line; the new version is also written to the old `meta` keys, so a
policybot from before `schema_version` refuses a migrated file instead of writing into it.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Callable

from sqlalchemy import Connection, inspect, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from bot.redact import redact
from bot.storage import schema
from bot.storage.engine import Database, StorageError
from bot.storage.redaction import redacted_document, redacted_handoff_columns

LEGACY_KEYS = ("slack_schema", "outbox_schema")


@dataclass(frozen=True)
class Step:
    """Brings a database from `version - 1` to `version`."""

    version: int
    why: str
    apply: Callable[[Connection], None]


def _redact_kept_text(conn: Connection) -> None:
    """2: questions are kept as the logs show them, a sent hand-off only redacted."""
    tables = set(inspect(conn).get_table_names())
    versions = _legacy_versions(conn, tables)
    if versions.get("slack_schema") == 1 and {"answers", "feedback"} <= tables:
        answers = schema.answers
        for row in conn.execute(select(answers.c.id, answers.c.question, answers.c.slack_text,
                                       answers.c.answer_json)).all():
            conn.execute(update(answers).where(answers.c.id == row.id).values(
                question=redact(row.question),
                slack_text=redact(row.slack_text),
                answer_json=_redacted_json(row.answer_json)))
        feedback = schema.feedback
        for row in conn.execute(select(feedback.c.answer_id, feedback.c.user_id, feedback.c.question)).all():
            conn.execute(update(feedback).where(feedback.c.answer_id == row.answer_id,
                                                feedback.c.user_id == row.user_id)
                         .values(question=redact(row.question)))
    if versions.get("outbox_schema") == 1 and "handoff_outbox" in tables:
        outbox = schema.handoff_outbox
        for row in conn.execute(select(outbox).where(outbox.c.status == "sent")).mappings().all():
            conn.execute(update(outbox).where(outbox.c.ref == row["ref"]).values(**redacted_handoff_columns(row)))


def _redacted_json(document: str | None) -> str | None:
    return json.dumps(redacted_document(json.loads(document)), ensure_ascii=False) if document else document


def _one_version_and_answer_records(conn: Connection) -> None:
    """3: one `schema_version` for the whole database; `answers.record` holds the answer's
    complete typed record (NULL for the answers stored before)."""
    schema.metadata.create_all(conn)  # schema_version, and any table a partial old file lacks
    if "record" not in {c["name"] for c in inspect(conn).get_columns("answers")}:
        conn.execute(text("ALTER TABLE answers ADD COLUMN record TEXT"))


STEPS: tuple[Step, ...] = (
    Step(2, "questions and sent hand-offs are kept redacted", _redact_kept_text),
    Step(3, "one schema version; answers.record", _one_version_and_answer_records),
)
SCHEMA_VERSION = STEPS[-1].version


def migrate(db: Database) -> int:
    """Create or upgrade the schema of `db`; returns the version it had (0: a new database).
    Raises StorageError for a database newer than this code, or one that cannot be read."""
    try:
        with db.write() as conn:
            found, newest = _stored_versions(conn)
            if newest > SCHEMA_VERSION:
                raise StorageError(f"{db.display} has schema version {newest}, this code reads up to "
                                   f"{SCHEMA_VERSION}: run a newer policybot, or set POLICYBOT_DB (or "
                                   "POLICYBOT_DATABASE_URL) to another database")
            if found == 0:
                schema.metadata.create_all(conn)
                _stamp(conn, SCHEMA_VERSION)
                return found
            schema.schema_version.create(conn, checkfirst=True)
            for step in STEPS:
                if step.version > found:
                    step.apply(conn)
                    _stamp(conn, step.version)
            return found
    except SQLAlchemyError as exc:  # not a database, a damaged file, an unreachable server
        raise db.unusable(exc) from None


def _stored_versions(conn: Connection) -> tuple[int, int]:
    """(version to migrate from, newest version any marker claims); (0, 0) for an empty database."""
    tables = set(inspect(conn).get_table_names())
    if not tables:
        return 0, 0
    legacy = _legacy_versions(conn, tables)
    if "schema_version" in tables:
        found = conn.execute(text("SELECT MAX(version) FROM schema_version")).scalar() or 0
        return found, max(found, *legacy.values())
    return min(legacy.values()), max(legacy.values())


def _legacy_versions(conn: Connection, tables: set[str]) -> dict[str, int]:
    """The versions in `meta`. Absent keys: the Slack store always wrote its own (absent: nothing
    of it was ever stored, nothing to migrate); the outbox's first version wrote none."""
    versions = {"slack_schema": 2, "outbox_schema": 1 if "handoff_outbox" in tables else 2}
    if "meta" not in tables:
        return versions
    rows = conn.execute(select(schema.meta.c.key, schema.meta.c.value)
                        .where(schema.meta.c.key.in_(LEGACY_KEYS))).all()
    for key, value in rows:
        try:
            versions[key] = int(value)
        except ValueError:
            raise StorageError(f"the database has schema version {value!r} in meta.{key}, which no policybot "
                               "writes: set POLICYBOT_DB (or POLICYBOT_DATABASE_URL) to another database") from None
    return versions


def _stamp(conn: Connection, version: int) -> None:
    conn.execute(schema.schema_version.insert().values(version=version, applied_at=time.time()))
    meta = schema.meta
    for key in LEGACY_KEYS:
        if conn.execute(update(meta).where(meta.c.key == key).values(value=str(version))).rowcount == 0:
            conn.execute(meta.insert().values(key=key, value=str(version)))
