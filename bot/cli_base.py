"""What every `policybot` command shares: `UserError`, the errors that mean "the user can fix this",
and the --policy / --index options. Light on purpose: each command imports the rest itself."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

import click

EXIT_USER_ERROR = 2


class UserError(Exception):
    """Something the user can fix; the message says how. `policybot` prints it as one line, exit 2."""


def user_error_types() -> tuple[type[BaseException], ...]:
    """Every error a user can fix, whichever command raised it: one line on stderr and exit 2.

    Imported when an error is being handled, so no command pays for the others' modules.
    """
    from bot.handoff.smtp import SmtpConfigError
    from bot.settings import SettingsError
    from index.embed import ModelUnavailableError
    from index.guard import UnsafeSwitchError
    from index.policy import PolicyParseError
    from index.store import IndexUnavailableError

    return (UserError, SettingsError, SmtpConfigError, ModelUnavailableError, PolicyParseError,
            IndexUnavailableError, UnsafeSwitchError, FileNotFoundError)


def location_options(command: Callable) -> Callable:
    """--policy and --index, which override POLICYBOT_POLICY and POLICYBOT_INDEX for one run."""
    command = click.option("--index", type=click.Path(path_type=Path), default=None,
                           help="index directory (default: $POLICYBOT_INDEX or var/index)")(command)
    return click.option("--policy", type=click.Path(path_type=Path), default=None,
                        help="policy text file (default: $POLICYBOT_POLICY or "
                             "policy_text/privacy_policy.txt)")(command)


def db_option(command: Callable) -> Callable:
    """--db, which overrides POLICYBOT_DB for one run."""
    return click.option("--db", type=click.Path(path_type=Path), default=None,
                        help="SQLite database (default: $POLICYBOT_DB or var/policybot.sqlite3)")(command)
