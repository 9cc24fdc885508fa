"""The bot's one storage layer: a database URL, one connection policy, a versioned schema.

`open_database(url_or_path)` opens and migrates the database that holds answers, votes, Slack
event keys and the hand-off outbox; `bot/slack_store.py` and `bot/handoff/outbox.py` are the
stores on top of it. SQLite by default (a file path, `POLICYBOT_DB`), any SQLAlchemy URL
otherwise (`POLICYBOT_DATABASE_URL`).
"""
from __future__ import annotations

from pathlib import Path

from bot.storage.engine import Database, StorageError, database_url, sqlite_path
from bot.storage.migrations import SCHEMA_VERSION, migrate

DatabaseTarget = Database | str | Path


def open_database(target: DatabaseTarget) -> tuple[Database, bool]:
    """(database, owned): `target` itself when it is an open Database (whoever opened it closes
    it), else `target` opened and migrated (the caller owns it and closes it)."""
    if isinstance(target, Database):
        return target, False
    db = Database(target)
    try:
        migrate(db)
    except BaseException:
        db.close()
        raise
    return db, True


__all__ = ["Database", "DatabaseTarget", "SCHEMA_VERSION", "StorageError", "database_url", "migrate",
           "open_database", "sqlite_path"]
