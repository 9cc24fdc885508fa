"""What every `policybot` command shares: `UserError`, the errors that mean "the user can fix this",
and the --policy / --index options. Light on purpose: each command imports the rest itself."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Callable

import click

if TYPE_CHECKING:
    from bot.settings import Settings

EXIT_USER_ERROR = 2


class UserError(Exception):
    """Something the user can fix; the message says how. `policybot` prints it as one line, exit 2."""


def user_error_types() -> tuple[type[BaseException], ...]:
    """Every error a user can fix, whichever command raised it: one line on stderr and exit 2.

    Imported when an error is being handled, so no command pays for the others' modules.
    """
    from bot.calibration import CalibrationError
    from bot.handoff.smtp import SmtpConfigError
    from bot.settings import SettingsError
    from index.embed import ModelUnavailableError
    from index.guard import UnsafeSwitchError
    from index.policy import PolicyParseError
    from index.store import IndexUnavailableError

    return (UserError, SettingsError, SmtpConfigError, ModelUnavailableError, PolicyParseError,
            IndexUnavailableError, UnsafeSwitchError, CalibrationError, FileNotFoundError)


def location_options(command: Callable) -> Callable:
    """--policy and --index, which override POLICYBOT_POLICY and POLICYBOT_INDEX for one run."""
    command = click.option("--index", type=click.Path(path_type=Path), default=None,
                           help="index directory (default: $POLICYBOT_INDEX or var/index)")(command)
    return click.option("--policy", type=click.Path(path_type=Path), default=None,
                        help="policy text file (default: $POLICYBOT_POLICY or "
                             "policy_text/privacy_policy.txt)")(command)


def db_option(command: Callable) -> Callable:
    """--db, which overrides POLICYBOT_DB (a path) or POLICYBOT_DATABASE_URL (a URL) for one run."""
    return click.option("--db", default=None, metavar="PATH|URL",
                        help="SQLite file or database URL (default: $POLICYBOT_DATABASE_URL, else "
                             "$POLICYBOT_DB or var/policybot.sqlite3)")(command)


def settings_for_db(db: str | None) -> "Settings":
    """The settings with --db applied: a URL (scheme://…) replaces the database URL, else the file."""
    from bot.settings import Settings

    if db is None:
        return Settings.from_env()
    if "://" in db:
        return Settings.from_env(database_url_override=db)
    return Settings.from_env(db_path=Path(db), database_url_override="")
