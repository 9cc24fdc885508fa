"""Statements SQLite and PostgreSQL spell differently, written once: upserts and insertion order."""
from __future__ import annotations

from typing import Any, Iterable

from sqlalchemy import Connection, CursorResult, Table, literal_column
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement


def upsert(conn: Connection, table: Table, values: dict[str, Any], keys: Iterable[str],
           update_columns: Iterable[str] = ()) -> CursorResult:
    """INSERT `values`; on a conflict on the unique `keys`, update `update_columns` from the
    new row (none: leave the stored row as it is). rowcount is 1 when a row was written."""
    keys, update_columns = list(keys), list(update_columns)
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        raise NotImplementedError(f"policybot stores in SQLite or PostgreSQL, not {conn.dialect.name}")
    statement = insert(table).values(values)
    if update_columns:
        statement = statement.on_conflict_do_update(
            index_elements=keys, set_={c: statement.excluded[c] for c in update_columns})
    else:
        statement = statement.on_conflict_do_nothing(index_elements=keys)
    return conn.execute(statement)


def insertion_order(table: Table, dialect: Dialect) -> list[ColumnElement]:
    """A tie-break for rows with the same timestamp: SQLite's rowid (the order they were
    written); elsewhere the primary key, which is at least stable."""
    if dialect.name == "sqlite":
        return [literal_column(f"{table.name}.rowid")]
    return list(table.primary_key.columns)
