"""`policybot data purge --older-than D | forget SLACK_USER_ID`: an operator's hands on what the bot keeps.

`purge` does by hand what the running bot does every hour with POLICYBOT_RETENTION_DAYS;
`forget` answers a deletion request (第8条) for one Slack user. Both print what they deleted.
Exit codes: 0 done, 1 done except unsent hand-offs that were kept, 2 a usage error (one line,
through bot.cli's UserError).
"""
from __future__ import annotations

import argparse
import re
from typing import TYPE_CHECKING

from bot.cli import UserError

if TYPE_CHECKING:  # the storage layer loads only when a `data` command runs, not for `policybot ask`
    from bot.retention import Removed

EXIT_KEPT = 1
_SLACK_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def register_cli(subparsers) -> None:
    """Add `data` with `purge` and `forget` to the `policybot` parser."""
    parser = subparsers.add_parser(
        "data", help="delete stored answers, votes and hand-offs (retention, deletion requests)",
        description="What the bot stores (POLICYBOT_DB): the answers it showed with their questions "
                    "(e-mail addresses and phone numbers removed), votes, and the hand-offs to the contact "
                    "window (the full text until the e-mail is sent).",
        epilog="examples:\n  policybot data purge --older-than 30\n  policybot data forget U0123ABCD\n"
               "  policybot data forget U0123ABCD --drop-unsent   # also requests not yet e-mailed",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="SQLite file or database URL (default: $POLICYBOT_DATABASE_URL, else "
                                     "$POLICYBOT_DB or var/policybot.sqlite3)")
    commands = parser.add_subparsers(dest="data_command", required=True, metavar="SUBCOMMAND")

    p = commands.add_parser("purge", help="delete what is older than D days (sent hand-offs included)")
    p.add_argument("--older-than", type=_days, required=True, metavar="D", help="age in days (0: everything)")
    p.set_defaults(func=cmd_purge)

    p = commands.add_parser("forget", help="delete everything stored about one Slack user")
    p.add_argument("user", metavar="SLACK_USER_ID", help="the member ID, e.g. U0123ABCD (profile → ⋮ → Copy member ID)")
    p.add_argument("--drop-unsent", action="store_true",
                   help="also delete the user's hand-offs not yet e-mailed to the contact window")
    p.set_defaults(func=cmd_forget)


def _days(text: str) -> float:
    try:
        days = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days") from None
    if not 0 <= days < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of days (0 or more)")
    return days


def _open(args: argparse.Namespace):
    """The bot's store and outbox on one database; UserError (one line, exit 2) for a missing,
    foreign or newer database."""
    from bot.handoff.outbox import Outbox
    from bot.settings import Settings
    from bot.slack_store import SlackStore
    from bot.storage import Database, StorageError, open_database, sqlite_path

    target = args.db or Settings.from_env().database
    path = sqlite_path(target)
    if path is not None and not path.is_file():
        raise UserError(f"no database at {path}: nothing is stored there (set POLICYBOT_DB or --db to the bot's file)")
    try:
        db: Database = open_database(target)[0]
    except StorageError as exc:
        raise UserError(str(exc)) from None
    return SlackStore(db), Outbox(db)


def cmd_purge(args: argparse.Namespace) -> int:
    """Delete answers, votes and sent hand-offs older than --older-than days."""
    from bot.retention import purge

    store, outbox = _open(args)
    try:
        removed = purge(store, outbox, args.older_than)
    finally:
        store.db.close()
    print(f"deleted {_counts(removed)} older than {args.older_than:g} days")
    return _report_unsent(removed, "older than that and never sent")


def cmd_forget(args: argparse.Namespace) -> int:
    """Delete everything stored about one Slack user."""
    user = args.user.strip()
    if not _SLACK_USER_ID.match(user):
        raise UserError(f"{user!r} is not a Slack user ID (they look like U0123ABCD): copy it from the user's "
                         "Slack profile (⋮ → Copy member ID)")
    from bot.retention import forget

    store, outbox = _open(args)
    try:
        removed = forget(store, outbox, user, drop_unsent=args.drop_unsent)
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
