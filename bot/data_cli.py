"""`policybot data purge --older-than D | forget SLACK_USER_ID`: an operator's hands on what the bot keeps.

`purge` does by hand what the running bot does every hour with POLICYBOT_RETENTION_DAYS;
`forget` answers a deletion request (第8条) for one Slack user. Both print what they deleted.
Exit codes: 0 done, 1 done except unsent hand-offs that were kept, 2 a usage error (one line,
through bot.cli_base's UserError).
"""
from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING

import click

from bot.cli_base import UserError, db_option, settings_for_db

if TYPE_CHECKING:
    from bot.retention import Removed

EXIT_KEPT = 1
_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


@click.group(short_help="delete stored answers, votes and hand-offs (retention, deletion requests)", epilog="""\b
examples:
  policybot data purge --older-than 30
  policybot data forget U0123ABCD
  policybot data forget U0123ABCD --drop-unsent   # also requests not yet e-mailed""")
@db_option
@click.pass_context
def data(ctx: click.Context, db: str | None) -> None:
    """What the bot stores (POLICYBOT_DB): the answers it showed with their questions (e-mail
    addresses and phone numbers removed), votes, and the hand-offs to the contact window (the full
    text until the e-mail is sent)."""
    ctx.obj = db


class Days(click.ParamType):
    """An age in days: 0 or more."""

    name = "D"

    def convert(self, value, param, ctx) -> float:
        try:
            days = float(value)
        except ValueError:
            self.fail(f"{value!r} is not a number of days", param, ctx)
        if not (math.isfinite(days) and days >= 0):
            self.fail(f"{value!r} is not a number of days (0 or more)", param, ctx)
        return days


@data.command("purge", short_help="delete what is older than D days (sent hand-offs included)")
@click.option("--older-than", type=Days(), required=True, metavar="D", help="age in days (0: everything)")
@click.pass_obj
def purge_command(db: str | None, older_than: float) -> int:
    """Delete answers, votes and sent hand-offs older than --older-than days."""
    return cmd_purge(db, older_than)


@data.command("forget", short_help="delete everything stored about one Slack user")
@click.argument("user", metavar="SLACK_USER_ID")
@click.option("--drop-unsent", is_flag=True,
              help="also delete the user's hand-offs not yet e-mailed to the contact window")
@click.pass_obj
def forget_command(db: str | None, user: str, drop_unsent: bool) -> int:
    """Delete everything stored about SLACK_USER_ID, the member ID (e.g. U0123ABCD: profile → ⋮ → Copy member ID)."""
    return cmd_forget(db, user, drop_unsent)


def _open(db: str | None):
    """The bot's store and outbox on one database; UserError (one line, exit 2) for a missing,
    foreign or newer database."""
    from bot.handoff.outbox import Outbox
    from bot.slack_store import SlackStore
    from bot.storage import Database, StorageError, open_database, sqlite_path

    target = settings_for_db(db).database_url
    path = sqlite_path(target)
    if path is not None and not path.is_file():
        raise UserError(f"no database at {path}: nothing is stored there (set POLICYBOT_DB or --db to the bot's file)")
    try:
        database: Database = open_database(target)[0]
    except StorageError as exc:
        raise UserError(str(exc)) from None
    return SlackStore(database), Outbox(database)


def cmd_purge(db: str | None, older_than: float) -> int:
    from bot.retention import purge

    store, outbox = _open(db)
    try:
        removed = purge(store, outbox, older_than)
    finally:
        store.db.close()
    print(f"deleted {_counts(removed)} older than {older_than:g} days")
    return _report_unsent(removed, "older than that and never sent")


def cmd_forget(db: str | None, user: str, drop_unsent: bool) -> int:
    from bot.retention import forget

    user = user.strip()
    if not _SLACK_USER_ID.match(user):
        raise UserError(f"{user!r} is not a Slack user ID (they look like U0123ABCD): copy it from the user's "
                         "Slack profile (⋮ → Copy member ID)")
    store, outbox = _open(db)
    try:
        removed = forget(store, outbox, user, drop_unsent=drop_unsent)
    finally:
        store.db.close()
    print(f"deleted {_counts(removed)} of {user}" if removed.total else f"nothing stored about {user}")
    return _report_unsent(removed, f"from {user}, not yet e-mailed to the contact window",
                          f"; or delete them unsent: policybot data forget {user} --drop-unsent")


def _counts(removed: Removed) -> str:
    return (f"{removed.answers} answer(s), {removed.feedback} vote(s) and {removed.handoffs} "
            "hand-off(s) to the contact window")


def _report_unsent(removed: Removed, what: str, alternative: str = "") -> int:
    if not removed.unsent_kept:
        return 0
    refs = ", ".join(removed.unsent_kept)
    print(f"kept {len(removed.unsent_kept)} hand-off(s) {what}: {refs}. Send them with "
          f"`policybot handoff retry REF` (they are then kept redacted until the next purge){alternative}")
    return EXIT_KEPT
