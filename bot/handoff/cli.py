"""`policybot handoff list|show ID|retry [ID]`: operators see and resend contact-window requests.

Errors an operator can fix (unknown reference, no mail server, bad SMTP_* setting) print one
line on stderr and exit 2 (bot.cli's one mapping); a resend that fails again exits 1.
"""
from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from bot.cli_base import UserError, db_option, settings_for_db

if TYPE_CHECKING:
    from bot.handoff.outbox import Outbox, OutboxEntry
    from bot.handoff.service import Delivery
    from bot.settings import Settings

EXIT_NOT_SENT = 1
STATUS_CHOICES = ("pending", "sent", "failed_permanent")  # bot.handoff.outbox.STATUSES, without importing it


@click.group(short_help="list, show and resend requests forwarded to the contact window", epilog="""\b
examples:
  policybot handoff list --status pending
  policybot handoff show PB-20261125-7F3K
  policybot handoff retry PB-20261125-7F3K   # after fixing the cause of a permanent failure
  policybot handoff retry                   # send every pending request now""")
@db_option
@click.pass_context
def handoff(ctx: click.Context, db: str | None) -> None:
    """Requests forwarded to the contact window are stored in the outbox (the bot's SQLite database)
    before they are e-mailed. Failed ones stay there until sent."""
    ctx.obj = db


@handoff.command("list", short_help="recent requests, newest first")
@click.option("--status", type=click.Choice(STATUS_CHOICES), help="only requests with this status")
@click.option("-n", "--limit", type=int, default=50, show_default=True, help="at most this many")
@click.option("--json", "as_json", is_flag=True, help="one JSON object a line")
@click.pass_obj
def list_command(db: str | None, status: str | None, limit: int, as_json: bool) -> int:
    """Print recent requests."""
    return cmd_list(_settings(db), status, limit, as_json)


@handoff.command("show", short_help="one request in full: status, errors, the e-mail text")
@click.argument("ref", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="print it as one JSON object")
@click.pass_obj
def show_command(db: str | None, ref: str, as_json: bool) -> int:
    """Print request ID (e.g. PB-20261125-7F3K) with its e-mail text."""
    return cmd_show(_settings(db), ref, as_json)


@handoff.command("retry", short_help="send one request again (ID), or every pending request now")
@click.argument("ref", metavar="[ID]", required=False)
@click.pass_obj
def retry_command(db: str | None, ref: str | None) -> int:
    """Resend request ID (also a parked one: failed_permanent requests are only resent when named),
    or every pending request."""
    return cmd_retry(_settings(db), ref)


def _settings(db: str | None) -> Settings:
    return settings_for_db(db)


def _outbox(settings: Settings, *, must_exist: bool) -> Outbox | None:
    from bot.handoff.outbox import Outbox

    from bot.storage import sqlite_path

    path = sqlite_path(settings.database_url)
    if path is not None and not path.exists():
        if must_exist:
            raise UserError(f"no hand-offs recorded yet: {path} does not exist (set POLICYBOT_DB or --db?)")
        return None
    return Outbox(settings.database_url)


def _entry(outbox: Outbox, ref: str) -> OutboxEntry:
    from bot.handoff.compose import is_ref

    entry = outbox.get(ref)
    if entry is None:
        hint = "" if is_ref(ref.strip().upper()) else " (references look like PB-20261125-7F3K)"
        raise UserError(f"no hand-off {ref!r}{hint}: see `policybot handoff list`")
    return entry


def cmd_list(settings: Settings, status: str | None, limit: int, as_json: bool) -> int:
    from bot.handoff.outbox import SENT

    outbox = _outbox(settings, must_exist=False)
    entries = outbox.list(status, max(1, limit)) if outbox else []
    if as_json:
        for e in entries:
            data = e.to_json()
            data.pop("body")
            print(json.dumps(data, ensure_ascii=False))
        return 0
    if not entries:
        print("no hand-offs" + (f" with status {status}" if status else ""))
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


def cmd_show(settings: Settings, ref: str, as_json: bool) -> int:
    from bot.handoff.compose import mailto_for
    from bot.handoff.outbox import PENDING, SENT

    outbox = _outbox(settings, must_exist=True)
    entry = _entry(outbox, ref)
    if as_json:
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


def cmd_retry(settings: Settings, ref: str | None) -> int:
    from bot.handoff.outbox import FAILED_PERMANENT, PENDING, SENT
    from bot.handoff.service import OUTCOME_SENT
    from bot.services import handoff_service

    outbox = _outbox(settings, must_exist=True)
    service = handoff_service(settings, outbox)
    if ref:
        entry = _entry(outbox, ref)
        if entry.status == SENT:
            raise UserError(f"{entry.ref} was already sent at {entry.sent_at} (UTC); nothing to resend")
        if not service.configured:
            raise UserError("SMTP_HOST is not set, so nothing can be sent from here: configure SMTP_* "
                            f"(README \"Hand-off e-mail\") or send it yourself: {service.mailto(entry)}")
        outbox.requeue(entry.ref)
        results = [service.deliver(entry.ref, force=True)]
    else:
        if not service.configured:
            raise UserError("SMTP_HOST is not set, so nothing can be sent from here: configure SMTP_* "
                            "(README \"Hand-off e-mail\")")
        refs = [e.ref for e in outbox.list(PENDING, limit=1000)]
        if not refs:
            print("nothing pending")
            return 0
        results = [service.deliver(ref) for ref in refs]
    for delivery in results:
        print(_describe(delivery))
    parked = [e.ref for e in outbox.list(FAILED_PERMANENT, limit=1000)] if not ref else []
    if parked:
        print(f"\n{len(parked)} request(s) need an operator (failed permanently); after fixing the cause run "
              f"`policybot handoff retry ID` for each: {', '.join(parked)}")
    return 0 if all(d.outcome == OUTCOME_SENT for d in results) else EXIT_NOT_SENT


def _describe(delivery: Delivery) -> str:
    from bot.handoff.outbox import FAILED_PERMANENT, PENDING
    from bot.handoff.service import OUTCOME_SENT

    e = delivery.entry
    if delivery.outcome == OUTCOME_SENT:
        return f"{e.ref}: sent to {e.to_addr}"
    if e.status == FAILED_PERMANENT:
        return f"{e.ref}: NOT sent, failed permanently ({e.last_error}); fix the cause, then retry it by ID"
    if e.status == PENDING and e.attempts:
        return f"{e.ref}: NOT sent ({e.last_error}); stays pending, the bot retries automatically"
    return f"{e.ref}: NOT sent ({delivery.outcome}); stays pending"
