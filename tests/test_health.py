"""bot/health.py's database probe follows the database the bot uses (Settings.database_url),
whatever form it is named in — not only a SQLite path."""
from __future__ import annotations

import sqlite3

from bot.health import database_problem


def test_a_sqlite_url_is_probed_at_the_file_it_names(tmp_path):
    path = tmp_path / "bot.sqlite3"
    sqlite3.connect(path).close()
    assert database_problem(f"sqlite:///{path}") is None
    assert database_problem(path) is None
    missing = database_problem(f"sqlite:///{tmp_path / 'gone.sqlite3'}")
    assert missing is not None and missing.startswith("database: cannot")
    assert not (tmp_path / "gone.sqlite3").exists()  # a probe never creates the file


def test_a_database_server_that_cannot_be_used_is_one_line_without_its_password():
    problem = database_problem("nosuchdialect://policybot:s3cret@db.internal/policybot")
    assert problem is not None and problem.startswith("database: cannot use it")
    assert "s3cret" not in problem and "\n" not in problem
