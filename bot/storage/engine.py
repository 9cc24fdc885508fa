"""The one connection policy: an engine from a database URL, read and write transactions.

SQLite (the default, a file named by `POLICYBOT_DB`) gets what the bot has always relied on:
write-ahead logging so readers never wait for the writer, a busy timeout so a second process
(the CLI next to `serve`) waits instead of failing, `secure_delete` so deleted and redacted
text is overwritten in the file, foreign keys on, and `BEGIN IMMEDIATE` for writes so a
read-then-write (claiming an event key, a hand-off) is one atomic step. Any other SQLAlchemy
URL (PostgreSQL) gets the engine's defaults.
"""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

BUSY_TIMEOUT_S = 15.0  # longer than any write the bot makes; a CLI run next to `serve` waits this long
_WRITE = "policybot_write"  # execution option: this transaction writes (SQLite: BEGIN IMMEDIATE)


class StorageError(RuntimeError):
    """The database cannot be used (not a database, unreachable, written by a newer policybot);
    the message is one line that says what to do."""


def database_url(target: str | Path) -> str:
    """A SQLAlchemy URL for `target`: a URL (`postgresql://…`, `sqlite:///…`) as given, a file
    path (what `POLICYBOT_DB` holds) as `sqlite:///path`."""
    text = str(target)
    return text if "://" in text else f"sqlite:///{text}"


def sqlite_file(url: URL) -> Path | None:
    """The file a SQLite URL names; None for another database or an in-memory one."""
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    return Path(url.database)


def sqlite_path(target: str | Path) -> Path | None:
    """The SQLite file a path or URL names (None for another database): what a CLI checks exists
    before it opens the database, so that a typo does not create an empty one."""
    try:
        return sqlite_file(make_url(database_url(target)))
    except ArgumentError:
        return None


def short_reason(exc: BaseException) -> str:
    """The driver's own message, without SQLAlchemy's statement dump and help link (one line)."""
    reason = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    return " ".join(str(reason).split()) or type(reason).__name__


class Database:
    """An open database: one engine (a connection pool) per process, shared by the stores.

    `write()` and `read()` hand out a connection inside one transaction; every statement of
    the bot runs in one of them. Thread-safe. `close()` at shutdown.
    """

    def __init__(self, target: str | Path):
        try:
            self.url = make_url(database_url(target))
        except ArgumentError as exc:
            raise StorageError(f"cannot use the database {target!s}: not a database URL or file path ({exc})") \
                from None
        self.path = sqlite_file(self.url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine: Engine = create_engine(self.url, **_engine_options(self.url, self.path))
        except (ArgumentError, ImportError) as exc:  # unknown dialect, driver not installed
            raise StorageError(f"cannot use the database {self.display}: {short_reason(exc)}") from None
        if self.is_sqlite:
            _apply_sqlite_policy(self.engine, wal=self.path is not None)
        self._writer = self.engine.execution_options(**{_WRITE: True})

    @property
    def display(self) -> str:
        """The URL as it may be shown and logged (no password)."""
        return str(self.path) if self.path is not None else self.url.render_as_string(hide_password=True)

    def unusable(self, exc: BaseException) -> StorageError:
        """The one-line error for a database that cannot be opened or read."""
        return StorageError(f"cannot use the database {self.display}: {short_reason(exc)}. Move it away or set "
                            "POLICYBOT_DB (or POLICYBOT_DATABASE_URL) to another database.")

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One write transaction, committed at the end, rolled back if anything raises."""
        with self._writer.begin() as conn:
            yield conn

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """One read transaction: its statements see one snapshot; nothing is written."""
        with self.engine.connect() as conn:
            yield conn

    def checkpoint(self) -> None:
        """SQLite: move the write-ahead log into the file and empty it, so the old versions of
        deleted rows do not stay in the -wal file. Nothing to do elsewhere."""
        if self.path is None:
            return
        raw = self.engine.raw_connection()
        try:
            raw.driver_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        finally:
            raw.close()

    def close(self) -> None:
        self.engine.dispose()


def _engine_options(url: URL, path: Path | None) -> dict:
    if not url.get_backend_name() == "sqlite":
        return {"pool_pre_ping": True}
    options: dict = {"connect_args": {"timeout": BUSY_TIMEOUT_S, "check_same_thread": False}}
    if path is None:  # in memory: every connection would be a new, empty database
        options["poolclass"] = StaticPool
    return options


def _apply_sqlite_policy(engine: Engine, *, wal: bool) -> None:
    """Pragmas on every new connection; transactions begun by us, not by the driver."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record) -> None:
        dbapi_connection.isolation_level = None  # the driver must not BEGIN behind our back
        if wal:
            dbapi_connection.execute("PRAGMA journal_mode = WAL")
        dbapi_connection.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
        dbapi_connection.execute("PRAGMA secure_delete = ON")
        dbapi_connection.execute("PRAGMA foreign_keys = ON")

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get(_WRITE) else "BEGIN")


__all__ = ["Database", "StorageError", "SQLAlchemyError", "database_url", "short_reason", "sqlite_file",
           "sqlite_path"]
