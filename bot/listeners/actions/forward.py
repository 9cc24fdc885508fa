""""窓口に転送 / Forward to the contact window": a button opens a modal, the submission e-mails it.

Button (action_id `forward_to_contact`, value = answer log id) → `views.open` (or
`views.push` when clicked inside a modal) with the question prefilled and editable, optional
context and reply address. Submission (callback_id `forward_to_contact_modal`) → the
request is stored in the outbox and sent (bot.handoff); the asker privately gets the
reference number (and a mailto: draft when nothing could be sent), and the conversation's
thread says who forwarded it.

Nothing here asks the answerer again: the clauses sent along are those the stored answer's
record names (bot/record.py), and nothing slow runs before a submission is acknowledged.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import threading
from typing import Callable

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.webhook import WebhookClient

from bot.answer import Answer
from bot.handoff import compose
from bot.handoff.compose import Handoff, HandoffError, cited_clauses, handoff_from_answer, mailto_for
from bot.handoff.service import OUTCOME_QUEUED, OUTCOME_SENT, Delivery, HandoffService
from bot.listeners.common import call_slack, started_watch
from bot.listeners.deps import AppDeps
from bot.listeners.stored import clause_lookup, stored_answer
from bot.logging_setup import log_event
from bot.slack_render.forward import MODAL_INPUT_LIMIT, confirmation_text, failure_text, forward_modal, thread_note
from bot.slack_render.ids import (ACTION_FORWARD, FORWARD_CALLBACK_ID, FORWARD_CONTEXT_BLOCK, FORWARD_INPUT_ACTION,
                                  FORWARD_QUESTION_BLOCK, FORWARD_REPLY_BLOCK)
from bot.slack_render.mrkdwn import escape, user_ref
from bot.slack_store import StoredAnswer
from bot.text import t

ACTION_ID = ACTION_FORWARD
CALLBACK_ID = FORWARD_CALLBACK_ID
QUESTION_BLOCK, CONTEXT_BLOCK, REPLY_BLOCK = FORWARD_QUESTION_BLOCK, FORWARD_CONTEXT_BLOCK, FORWARD_REPLY_BLOCK
INPUT_ACTION = FORWARD_INPUT_ACTION
PRIVATE_SURFACES = ("command", "shortcut")  # answers only the asker saw (bot/listeners/*: `surface=`)

_ERROR_BLOCK = {compose.EMPTY_QUESTION: QUESTION_BLOCK, compose.QUESTION_TOO_LONG: QUESTION_BLOCK,
                compose.CONTEXT_TOO_LONG: CONTEXT_BLOCK, compose.BAD_REPLY_TO: REPLY_BLOCK,
                compose.NO_CONTACT: QUESTION_BLOCK, compose.BAD_CONTACT: QUESTION_BLOCK}


def _where(body: dict, stored: StoredAnswer) -> dict:
    """Where the question lives (its permalink goes into the e-mail) and which thread gets the
    "forwarded by" note: only a conversation everyone saw, not a private /policy answer or an
    ask_policy result, which only the staff member saw."""
    container = body.get("container") or {}
    channel = container.get("channel_id") or (body.get("channel") or {}).get("id") or stored.channel
    public = stored.surface not in PRIVATE_SURFACES
    meta = {"a": stored.id, "c": channel or stored.channel, "m": stored.thread_ts,
            "t": stored.thread_ts if public else None, "l": stored.lang}
    if body.get("response_url"):  # reaches the asker wherever they saw the answer (for 30 minutes)
        meta["r"] = body["response_url"]
    return meta


def handle_forward_button(deps: AppDeps, service: HandoffService, *, body: dict, action: dict,
                          client: WebClient) -> None:
    """Open the modal (after ack). Inside a modal (a result shown in a view) it is pushed instead."""
    user_id = (body.get("user") or {}).get("id")
    answer_id = action.get("value") or ""
    stored = deps.store.get_answer(answer_id)
    fields = {"surface": "forward", "user": user_id, "answer_id": answer_id}
    if stored is None:
        channel = (body.get("container") or {}).get("channel_id") or (body.get("channel") or {}).get("id")
        _tell(deps, client, channel=channel, thread_ts=None, user_id=user_id, response_url=body.get("response_url"),
              text=escape(t("notice.gone", "ja")))
        log_event(deps.log, "slack.forward_open", found=False, **fields)
        return
    view = forward_modal(stored.question, stored.lang, deps.answerer.contact_email, _where(body, stored),
                         service.configured)
    trigger_id = body.get("trigger_id")
    if (body.get("container") or {}).get("type") == "view" or body.get("view"):
        client.views_push(trigger_id=trigger_id, view=view)
    else:
        client.views_open(trigger_id=trigger_id, view=view)
    log_event(deps.log, "slack.forward_open", found=True, lang=stored.lang, **fields)


# -- the submission --------------------------------------------------------------------------

def _value(values: dict, block_id: str) -> str:
    return ((values.get(block_id) or {}).get(INPUT_ACTION) or {}).get("value") or ""


def idempotency_key(team_id: str | None, user_id: str | None, answer_id: str, question: str, context: str,
                    reply_to: str) -> str:
    """Same user, same answer, same text → same key. Covers a re-submitted modal and a second
    modal opened by a double click on the button (different view ids, same request)."""
    digest = hashlib.sha256("\x1f".join((question, context, reply_to)).encode("utf-8")).hexdigest()[:24]
    return f"slack:{team_id or '-'}:{user_id or '-'}:{answer_id}:{digest}"


@dataclasses.dataclass(frozen=True)
class Submission:
    """An accepted form: what to send, where it came from, and its idempotency key."""

    stored: StoredAnswer
    answer: Answer
    handoff: Handoff
    meta: dict
    key: str


def validate_submission(deps: AppDeps, body: dict, view: dict) -> tuple[Submission | None, dict | None]:
    """(submission, None) when the form is acceptable, or (None, field errors for ack)."""
    values = (view.get("state") or {}).get("values") or {}
    meta = json.loads(view.get("private_metadata") or "{}")
    lang = meta.get("l") or "ja"
    stored = deps.store.get_answer(meta.get("a") or "")
    if stored is None:
        return None, {QUESTION_BLOCK: t("forward.err_gone", lang)}
    user = body.get("user") or {}
    answer = stored_answer(deps, stored)
    try:
        handoff = handoff_from_answer(answer, user.get("id") or "?", None, question=_value(values, QUESTION_BLOCK),
                                      context=_value(values, CONTEXT_BLOCK), reply_to=_value(values, REPLY_BLOCK),
                                      asker_name=user.get("name") or user.get("username"),
                                      to_addr=deps.answerer.contact_email)
    except HandoffError as exc:
        limit = compose.MAX_CONTEXT_CHARS if exc.code == compose.CONTEXT_TOO_LONG else MODAL_INPUT_LIMIT
        return None, {_ERROR_BLOCK.get(exc.code, QUESTION_BLOCK): t(f"forward.err_{exc.code}", lang, limit=limit)}
    key = idempotency_key((user.get("team_id") or (body.get("team") or {}).get("id")), user.get("id"), stored.id,
                          handoff.question, handoff.context or "", handoff.reply_to or "")
    return Submission(stored, answer, handoff, meta, key), None


def process_submission(deps: AppDeps, service: HandoffService, client: WebClient, submission: Submission,
                       on_queued: Callable[[], None] | None = None) -> Delivery | None:
    """After ack: add the permalink and the clauses looked at, store+send, tell the asker and the thread."""
    watch = started_watch()
    meta, handoff = submission.meta, submission.handoff
    channel, thread_ts, lang = meta.get("c"), meta.get("t"), handoff.lang
    fields = {"surface": "forward", "user": handoff.asker, "answer_id": submission.stored.id, "lang": lang}
    try:
        permalink = _permalink(deps, client, channel, meta.get("m"))
        handoff = dataclasses.replace(handoff, permalink=permalink,
                                      citations=_clauses(deps, submission.answer, handoff))
        delivery = service.submit(handoff, submission.key)
        fields.update(ref=delivery.ref, outcome=delivery.outcome, created=delivery.created)
        watch.lap("send")
    except Exception:
        log_event(deps.log, "slack.forward_failed", logging.ERROR, exc_info=True, **fields, **watch.total())
        _tell(deps, client, channel=channel, thread_ts=thread_ts, user_id=handoff.asker, response_url=meta.get("r"),
              text=failure_text(mailto_for(handoff), lang))
        return None
    if delivery.outcome == OUTCOME_QUEUED and on_queued is not None:
        on_queued()
    _tell(deps, client, channel=channel, thread_ts=thread_ts, user_id=handoff.asker, response_url=meta.get("r"),
          text=confirmation_text(delivery, lang, reply_to=handoff.reply_to))
    if delivery.created and channel and thread_ts and delivery.outcome in (OUTCOME_SENT, OUTCOME_QUEUED):
        note = thread_note(delivery.outcome == OUTCOME_SENT, user_ref(handoff.asker), delivery.ref, lang)
        call_slack(deps, "chat.postMessage", client.chat_postMessage, channel=channel, thread_ts=thread_ts,
                   text=note, unfurl_links=False)
    log_event(deps.log, "slack.forward", **fields, **watch.total())
    return delivery


def _permalink(deps: AppDeps, client: WebClient, channel: str | None, ts: str | None) -> str | None:
    if not channel or not ts:
        return None
    try:
        return client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except (SlackApiError, OSError) as exc:
        error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
        log_event(deps.log, "slack.api_error", logging.WARNING, call="chat.getPermalink", error=error)
        return None


def _clauses(deps: AppDeps, answer: Answer, handoff: Handoff) -> tuple:
    """The clauses to show the contact window: those quoted, or for an escalation the nearest ones
    the assistant looked at (`answer.nearest`: from the stored record), unless the policy has been
    revised since (their ids may name other clauses now)."""
    return handoff.citations or cited_clauses(answer, clause_lookup(deps, answer.revision))


def _tell(deps: AppDeps, client: WebClient, *, channel: str | None, thread_ts: str | None, user_id: str | None,
          text: str, response_url: str | None = None) -> None:
    """Privately, where the asker saw the answer: through the button's response_url (works even
    where the bot is not a member, e.g. after the ask_policy shortcut), else an ephemeral
    message, else a DM."""
    if response_url and _respond(deps, response_url, text):
        return
    if channel and user_id:
        kwargs = {"thread_ts": thread_ts} if thread_ts else {}
        if call_slack(deps, "chat.postEphemeral", client.chat_postEphemeral, channel=channel, user=user_id,
                      text=text, **kwargs):
            return
    if user_id:
        call_slack(deps, "chat.postMessage", client.chat_postMessage, channel=user_id, text=text, unfurl_links=False)


def _respond(deps: AppDeps, response_url: str, text: str) -> bool:
    try:
        response = WebhookClient(response_url, timeout=10).send(text=text, response_type="ephemeral",
                                                                replace_original=False)
    except OSError as exc:
        log_event(deps.log, "slack.api_error", logging.WARNING, call="response_url", error=type(exc).__name__)
        return False
    if response.status_code != 200:
        log_event(deps.log, "slack.api_error", logging.WARNING, call="response_url", error=response.status_code)
        return False
    return True


# -- wiring ----------------------------------------------------------------------------------

class _LazyWorker:
    """Starts the outbox's retry thread the first time a request has to wait for the mail server.

    `register` also starts it at boot when a previous run left requests pending; the app's
    close() stops it.
    """

    def __init__(self, service: HandoffService):
        self.service = service
        self.worker = None
        self._lock = threading.Lock()

    def __call__(self) -> None:
        with self._lock:
            if self.worker is None and self.service.configured:
                self.worker = self.service.worker().start()
            elif self.worker is not None:
                self.worker.wake()

    def stop(self) -> None:
        with self._lock:
            if self.worker is not None:
                self.worker.stop()
                self.worker = None


def register(app: App, deps: AppDeps) -> None:
    """Wire the button and the modal to the hand-off service `create_app` built (`deps.handoff`)."""
    service = deps.handoff
    start_worker = _LazyWorker(service)
    deps.on_close.append(start_worker.stop)
    if service.configured and service.outbox.next_due_at() is not None:
        start_worker()  # requests a previous run could not deliver

    @app.action(ACTION_ID)
    def on_forward(ack, body, action, client):
        ack()
        try:
            handle_forward_button(deps, service, body=body, action=action, client=client)
        except Exception:
            log_event(deps.log, "slack.forward_open_failed", logging.ERROR, exc_info=True,
                      user=(body.get("user") or {}).get("id"))

    @app.view(CALLBACK_ID)
    def on_submit(ack, body, view, client):
        submission, errors = validate_submission(deps, body, view)
        if submission is None:
            ack(response_action="errors", errors=errors)
            return
        ack()
        deps.submit(lambda: process_submission(deps, service, client, submission, on_queued=start_worker),
                    event="slack.forward", user=submission.handoff.asker)
