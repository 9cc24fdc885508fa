"""`policybot handoff list|show ID|retry [ID]`: operators see and resend contact-window requests.

Errors an operator can fix (unknown reference, no mail server, bad SMTP_* setting) print one
line on stderr and exit 2; a resend that fails again exits 1.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from bot.handoff.compose import is_ref, mailto_for
from bot.handoff.outbox import FAILED_PERMANENT, PENDING, SENT, STATUSES, Outbox, OutboxEntry
from bot.handoff.service import OUTCOME_SENT, Delivery, HandoffService
from bot.handoff.smtp import SmtpConfigError

EXIT_USER_ERROR = 2
EXIT_NOT_SENT = 1


class _UserError(Exception):
    pass


def register_cli(subparsers) -> None:
    """Add `handoff` with its sub-commands to the `policybot` parser."""
    parser = subparsers.add_parser(
        "handoff", help="list, show and resend requests forwarded to the contact window",
        description="Requests forwarded to the contact window are stored in the outbox (the bot's SQLite "
                    "database) before they are e-mailed. Failed ones stay there until sent.",
        epilog="examples:\n  policybot handoff list --status pending\n  policybot handoff show PB-20261125-7F3K\n"
               "  policybot handoff retry PB-20261125-7F3K   # after fixing the cause of a permanent failure\n"
               "  policybot handoff retry                   # send every pending request now",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", help="SQLite database (default: $POLICYBOT_DB or var/policybot.sqlite3)")
    commands = parser.add_subparsers(dest="handoff_command", required=True, metavar="SUBCOMMAND")

    p = commands.add_parser("list", help="recent requests, newest first")
    p.add_argument("--status", choices=STATUSES, help="only requests with this status")
    p.add_argument("-n", "--limit", type=int, default=50, help="at most this many (default 50)")
    p.add_argument("--json", action="store_true", help="one JSON object a line")
    p.set_defaults(func=_guard(cmd_list))

    p = commands.add_parser("show", help="one request in full: status, errors, the e-mail text")
    p.add_argument("ref", metavar="ID", help="reference number, e.g. PB-20261125-7F3K")
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=_guard(cmd_show))

    p = commands.add_parser("retry", help="send one request again (ID), or every pending request now")
    p.add_argument("ref", metavar="ID", nargs="?", help="reference number; parked (failed_permanent) "
                                                         "requests are only resent when named")
    p.set_defaults(func=_guard(cmd_retry))


def _guard(command):
    """Turn user errors into one line on stderr (the main CLI does not know our error types)."""
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except (_UserError, SmtpConfigError) as exc:
            print(f"policybot handoff: {exc}", file=sys.stderr)
            return EXIT_USER_ERROR
    run.__doc__ = command.__doc__
    return run


def _db_path(args: argparse.Namespace) -> Path:
    if getattr(args, "db", None):
        return Path(args.db)
    from bot.settings import Settings

    return Settings.from_env().db_path


def _outbox(args: argparse.Namespace, *, must_exist: bool) -> Outbox | None:
    path = _db_path(args)
    if not path.exists():
        if must_exist:
            raise _UserError(f"no hand-offs recorded yet: {path} does not exist (set POLICYBOT_DB or --db?)")
        return None
    return Outbox(path)


def _entry(outbox: Outbox, ref: str) -> OutboxEntry:
    entry = outbox.get(ref)
    if entry is None:
        hint = "" if is_ref(ref.strip().upper()) else " (references look like PB-20261125-7F3K)"
        raise _UserError(f"no hand-off {ref!r}{hint}: see `policybot handoff list`")
    return entry


def cmd_list(args: argparse.Namespace) -> int:
    """Print recent requests."""
    outbox = _outbox(args, must_exist=False)
    entries = outbox.list(args.status, max(1, args.limit)) if outbox else []
    if args.json:
        for e in entries:
            data = e.to_json()
            data.pop("body")
            print(json.dumps(data, ensure_ascii=False))
        return 0
    if not entries:
        print("no hand-offs" + (f" with status {args.status}" if args.status else ""))
        return 0
    print(f"{'REFERENCE':<17} {'STATUS':<16} {'TRIES':>5}  {'CREATED (UTC)':<19}  {'ASKER':<11}  QUESTION / LAST ERROR")
    for e in entries:
        question = " ".join(e.question.split())
        question = question if len(question) <= 40 else question[:39] + "…"
        print(f"{e.ref:<17} {e.status:<16} {e.attempts:>5}  {e.created_at[:19]:<19}  {e.asker:<11}  {question}")
        if e.last_error and e.status != SENT:
            print(f"{'':<17} └ {e.last_error}")
    if outbox:
        counts = outbox.counts()
        print("\n" + ", ".join(f"{n} {s}" for s, n in counts.items()))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """Print one request with its e-mail text."""
    outbox = _outbox(args, must_exist=True)
    assert outbox is not None
    entry = _entry(outbox, args.ref)
    if args.json:
        print(json.dumps(entry.to_json(), ensure_ascii=False, indent=2))
        return 0
    rows = [("Reference", entry.ref), ("Status", entry.status), ("Attempts", str(entry.attempts)),
            ("Last error", entry.last_error or "-"), ("Created (UTC)", entry.created_at),
            ("Sent (UTC)", entry.sent_at or "-"), ("To", entry.to_addr), ("Reply-To", entry.reply_to or "-"),
            ("Asker", entry.asker + (f" ({entry.asker_name})" if entry.asker_name else "")),
            ("Slack thread", entry.permalink or "-"), ("Clauses", ", ".join(entry.citation_ids) or "-"),
            ("Subject", entry.subject)]
    if entry.status == PENDING and entry.next_attempt_at:
        rows.insert(4, ("Next attempt", entry.to_json()["next_attempt_at"]))
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"{key:<{width}}  {value}")
    print("\n" + entry.body)
    if entry.status != SENT:
        print(f"Draft for your own mailer: {mailto_for(entry.to_handoff(), subject=entry.subject)}")
    return 0


def cmd_retry(args: argparse.Namespace) -> int:
    """Resend one request (also a parked one), or every pending request."""
    outbox = _outbox(args, must_exist=True)
    assert outbox is not None
    service = HandoffService.from_env(outbox.path)
    if args.ref:
        entry = _entry(outbox, args.ref)
        if entry.status == SENT:
            raise _UserError(f"{entry.ref} was already sent at {entry.sent_at} (UTC); nothing to resend")
        if not service.configured:
            raise _UserError("SMTP_HOST is not set, so nothing can be sent from here: configure SMTP_* "
                             f"(README \"Hand-off e-mail\") or send it yourself: {service.mailto(entry)}")
        outbox.requeue(entry.ref)
        results = [service.deliver(entry.ref, force=True)]
    else:
        if not service.configured:
            raise _UserError("SMTP_HOST is not set, so nothing can be sent from here: configure SMTP_* "
                             "(README \"Hand-off e-mail\")")
        refs = [e.ref for e in outbox.list(PENDING, limit=1000)]
        if not refs:
            print("nothing pending")
            return 0
        results = [service.deliver(ref) for ref in refs]
    for delivery in results:
        print(_describe(delivery))
    parked = [e.ref for e in outbox.list(FAILED_PERMANENT, limit=1000)] if not args.ref else []
    if parked:
        print(f"\n{len(parked)} request(s) need an operator (failed permanently); after fixing the cause run "
              f"`policybot handoff retry ID` for each: {', '.join(parked)}")
    return 0 if all(d.outcome == OUTCOME_SENT for d in results) else EXIT_NOT_SENT


def _describe(delivery: Delivery) -> str:
    e = delivery.entry
    if delivery.outcome == OUTCOME_SENT:
        return f"{e.ref}: sent to {e.to_addr}"
    if e.status == FAILED_PERMANENT:
        return f"{e.ref}: NOT sent, failed permanently ({e.last_error}); fix the cause, then retry it by ID"
    if e.status == PENDING and e.attempts:
        return f"{e.ref}: NOT sent ({e.last_error}); stays pending, the bot retries automatically"
    return f"{e.ref}: NOT sent ({delivery.outcome}); stays pending"
