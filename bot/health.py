"""What `GET /healthz` reports: can this process answer (an index is loaded) and remember
(its database can be opened and read)?

A load balancer takes an instance out of rotation on 503; the body names what is wrong, so
the operator does not have to guess. No question is answered and nothing is written here:
a health probe every few seconds must cost next to nothing.
"""
from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from bot.answerer import Answerer
from bot.storage.engine import database_url, short_reason, sqlite_path

DB_TIMEOUT_S = 2.0  # a probe must not hang behind a long write; a locked database is still "reachable"


@dataclass(frozen=True)
class Health:
    """`problems` empty means healthy; `details` is what was found (revision, clause count)."""

    problems: tuple[str, ...]
    details: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict:
        if self.ok:
            return {"status": "ok", **self.details}
        return {"status": "unavailable", "problems": list(self.problems), **self.details}


def check(answerer: Answerer, database: Path | str) -> Health:
    """`database`: the bot's database as Settings.database_url names it (or a SQLite path)."""
    problems: list[str] = []
    details: dict = {}
    try:
        searcher = answerer.searcher
        details["index"] = {"revision": searcher.facts.revision, "clauses": len(searcher.clauses)}
        if not searcher.clauses:
            problems.append("index: loaded but holds no clauses")
    except Exception as exc:  # whatever the provider raises, the answer is "cannot answer"
        problems.append(f"index: not loaded ({type(exc).__name__})")
    problem = database_problem(database)
    details["database"] = "ok" if problem is None else "unreachable"
    if problem:
        problems.append(problem)
    return Health(tuple(problems), details)


def database_problem(database: Path | str) -> str | None:
    """None when the database opens and its schema can be read; else one line why not.

    Opened anew (read-only) each time: the shared connection the app holds would keep working
    on a file that was deleted or unmounted under it, while every new connection fails.
    """
    path = sqlite_path(database)
    if path is None:
        return _server_problem(database_url(database))
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=DB_TIMEOUT_S)
        try:
            db.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            db.close()
    except sqlite3.Error as exc:
        return f"database: cannot read it ({type(exc).__name__}: {exc})"
    except OSError as exc:
        return f"database: cannot open it ({type(exc).__name__})"
    return None


def _server_problem(url: str) -> str | None:
    """The same probe for a database server (a URL that is not SQLite): one new connection."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    try:
        engine = create_engine(url, poolclass=NullPool)
    except Exception as exc:  # no driver for the URL's dialect, or a URL it cannot read
        return f"database: cannot use it ({short_reason(exc)})"
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:
        return f"database: cannot reach it ({short_reason(exc)})"
    finally:
        engine.dispose()
    return None
