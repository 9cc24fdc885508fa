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

from bot import blocks
from bot.answer import Answer, Citation
from bot.handoff import compose
from bot.handoff.compose import Handoff, HandoffError, handoff_from_answer, mailto_for
from bot.handoff.service import (OUTCOME_IN_PROGRESS, OUTCOME_NO_SERVER, OUTCOME_QUEUED, OUTCOME_REFUSED,
                                 OUTCOME_SENT, Delivery, HandoffService)
from bot.listeners.common import call_slack, started_watch
from bot.listeners.deps import AppDeps
from bot.logging_setup import log_event
from bot.redact import EMAIL_MARK, PHONE_MARK
from bot.record import AnswerRecord, RecordError
from bot.slack_store import StoredAnswer

ACTION_ID = blocks.ACTION_FORWARD
CALLBACK_ID = "forward_to_contact_modal"
QUESTION_BLOCK, CONTEXT_BLOCK, REPLY_BLOCK, INPUT_ACTION = "question", "context", "reply_to", "value"
MODAL_INPUT_LIMIT = 3000  # Slack's max_length for plain_text_input
PRIVATE_SURFACES = ("command", "shortcut")  # answers only the asker saw (bot/listeners/*: `surface=`)

_TEXTS = {
    "ja": {
        "title": "窓口に転送",
        "submit": "送信",
        "close": "キャンセル",
        "intro": "お問い合わせ窓口（{email}）にメールで転送します。内容を確認し、必要なら書き直してください。",
        "question": "お問い合わせ内容",
        "redacted_hint": "メールアドレスと電話番号は保存しないため [email] / [phone] になっています。窓口に伝える場合は、ここか補足欄に書き直してください。",
        "context": "補足（任意）",
        "context_hint": "注文番号、ご希望の連絡方法など、窓口に伝えたいこと",
        "reply": "返信先メールアドレス（任意）",
        "reply_hint": "窓口からの返信を受け取るアドレスです。空欄なら Slack でご連絡します。",
        "no_server": "このボットにはメールサーバーが設定されていません。送信すると内容を保存し、ご自身で送れるメールの下書きリンクをお渡しします。",
        "draft": "メールの下書きを開く",
        "sent": "✅ お問い合わせ窓口（{email}）に転送しました。受付番号: *{ref}*",
        "sent_reply": "窓口からの返信は {reply} に届きます。",
        "queued": "📨 転送を受け付けました。受付番号: *{ref}*\nメールサーバーに一時的につながらないため、復旧しだい自動で送信します。お急ぎの場合は <{mailto}|{draft}> からご自身で送ることもできます。",
        "no_server_done": "⚠️ このボットにはメールサーバーが設定されていないため、*メールは送信されていません*。内容は受付番号 *{ref}* で保存しました。<{mailto}|{draft}> から、ご自身で送信してください。",
        "refused": "⚠️ メールサーバーに送信を拒否されたため、*転送できませんでした*。内容は受付番号 *{ref}* で保存され、管理者が確認して再送します。お急ぎの場合は <{mailto}|{draft}> からご自身で送ってください。",
        "in_progress": "📨 この内容は転送の処理中です。受付番号: *{ref}*",
        "duplicate": "この内容はすでに受け付けています（二重の送信はしていません）。",
        "failed": "転送の処理中に問題が発生しました。お手数ですが <{mailto}|{draft}> からご自身で送るか、少し時間をおいてもう一度お試しください。",
        "thread_sent": "📨 {user} さんがこの質問をお問い合わせ窓口に転送しました（受付番号 {ref}）。",
        "thread_queued": "📨 {user} さんがこの質問をお問い合わせ窓口への転送を依頼しました（受付番号 {ref}、送信待ち）。",
        "err_empty_question": "お問い合わせ内容を入力してください。",
        "err_question_too_long": "長すぎます。{limit:,}文字以内にしてください。",
        "err_context_too_long": "長すぎます。{limit:,}文字以内にしてください。",
        "err_bad_reply_to": "メールアドレスの形式ではありません（例: name@example.com）。",
        "err_no_contact": "お問い合わせ窓口のメールアドレスが設定されていないため、転送できません。管理者にお知らせください。",
        "err_bad_contact": "お問い合わせ窓口のメールアドレスが正しくないため、転送できません。管理者にお知らせください。",
        "err_gone": "元の回答が見つかりませんでした。もう一度質問してから転送してください。",
    },
    "en": {
        "title": "Forward to contact",
        "submit": "Send",
        "close": "Cancel",
        "intro": "This sends your question by e-mail to the contact window ({email}). Check it, and edit it if needed.",
        "question": "Your question",
        "redacted_hint": "E-mail addresses and phone numbers are not stored, so they show as [email] / [phone]. Type them again here or under additional context if the contact window needs them.",
        "context": "Additional context (optional)",
        "context_hint": "Order number, how you prefer to be contacted, anything the contact window should know",
        "reply": "Reply address (optional)",
        "reply_hint": "The contact window replies to this address. Leave it empty to be contacted on Slack.",
        "no_server": "No mail server is configured for this bot. When you send, the request is saved and you get a link to a prefilled e-mail draft to send yourself.",
        "draft": "open a prefilled e-mail draft",
        "sent": "✅ Forwarded to the contact window ({email}). Reference: *{ref}*",
        "sent_reply": "The reply will go to {reply}.",
        "queued": "📨 Your request is saved. Reference: *{ref}*\nThe mail server cannot be reached right now; it will be sent automatically as soon as it is back. If it is urgent, <{mailto}|{draft}> and send it yourself.",
        "no_server_done": "⚠️ No mail server is configured for this bot, so *nothing was e-mailed*. Your request is saved as *{ref}*. Please <{mailto}|{draft}> and send it yourself.",
        "refused": "⚠️ The mail server refused the message, so it *could not be forwarded*. Your request is saved as *{ref}*; an operator will check and resend it. If it is urgent, <{mailto}|{draft}> and send it yourself.",
        "in_progress": "📨 This request is being forwarded. Reference: *{ref}*",
        "duplicate": "This request was already received (it was not sent twice).",
        "failed": "Something went wrong while forwarding. Please <{mailto}|{draft}> and send it yourself, or try again in a moment.",
        "thread_sent": "📨 {user} forwarded this question to the contact window (reference {ref}).",
        "thread_queued": "📨 {user} asked to forward this question to the contact window (reference {ref}, waiting to be sent).",
        "err_empty_question": "Please write your question.",
        "err_question_too_long": "Too long: at most {limit:,} characters.",
        "err_context_too_long": "Too long: at most {limit:,} characters.",
        "err_bad_reply_to": "Not an e-mail address (example: name@example.com).",
        "err_no_contact": "No contact address is configured, so this cannot be forwarded. Please tell an administrator.",
        "err_bad_contact": "The contact address is not valid, so this cannot be forwarded. Please tell an administrator.",
        "err_gone": "The original answer could not be found. Please ask again, then forward it.",
    },
}
_ERROR_BLOCK = {compose.EMPTY_QUESTION: QUESTION_BLOCK, compose.QUESTION_TOO_LONG: QUESTION_BLOCK,
                compose.CONTEXT_TOO_LONG: CONTEXT_BLOCK, compose.BAD_REPLY_TO: REPLY_BLOCK,
                compose.NO_CONTACT: QUESTION_BLOCK, compose.BAD_CONTACT: QUESTION_BLOCK}


def t(lang: str, key: str, **kwargs) -> str:
    return _TEXTS["en" if lang == "en" else "ja"][key].format(**kwargs)


def _plain(text: str, limit: int = 150) -> dict:
    return {"type": "plain_text", "text": text[:limit], "emoji": True}


# -- the modal -----------------------------------------------------------------------------

def forward_modal(question: str, lang: str, contact_email: str | None, metadata: dict,
                  mail_configured: bool) -> dict:
    """The modal: the question (editable), optional context and reply address."""
    question = question.strip()
    if len(question) > MODAL_INPUT_LIMIT:
        question = question[: MODAL_INPUT_LIMIT - 1] + "…"
    redacted = EMAIL_MARK in question or PHONE_MARK in question  # the stored question (bot/slack_store.py)
    view_blocks = [
        {"type": "section", "text": {"type": "mrkdwn", "text": blocks.escape(t(lang, "intro", email=contact_email or "?"))}},
        {"type": "input", "block_id": QUESTION_BLOCK, "label": _plain(t(lang, "question")),
         "element": {"type": "plain_text_input", "action_id": INPUT_ACTION, "multiline": True,
                     "max_length": MODAL_INPUT_LIMIT, **({"initial_value": question} if question else {})},
         **({"hint": _plain(t(lang, "redacted_hint"), 2000)} if redacted else {})},
        {"type": "input", "block_id": CONTEXT_BLOCK, "optional": True, "label": _plain(t(lang, "context")),
         "element": {"type": "plain_text_input", "action_id": INPUT_ACTION, "multiline": True,
                     "max_length": compose.MAX_CONTEXT_CHARS, "placeholder": _plain(t(lang, "context_hint"))}},
        {"type": "input", "block_id": REPLY_BLOCK, "optional": True, "label": _plain(t(lang, "reply")),
         "element": {"type": "email_text_input", "action_id": INPUT_ACTION},
         "hint": _plain(t(lang, "reply_hint"), 2000)},
    ]
    if not mail_configured:
        view_blocks.append({"type": "context", "elements": [{"type": "mrkdwn",
                                                             "text": blocks.escape(t(lang, "no_server"))}]})
    return {
        "type": "modal", "callback_id": CALLBACK_ID, "private_metadata": json.dumps(metadata),
        "title": _plain(t(lang, "title"), 24), "submit": _plain(t(lang, "submit"), 24),
        "close": _plain(t(lang, "close"), 24), "blocks": view_blocks,
    }


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
              text=blocks.escape(blocks.t("ja", "gone")))
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
        return None, {QUESTION_BLOCK: t(lang, "err_gone")}
    user = body.get("user") or {}
    answer = stored_answer(deps, stored)
    try:
        handoff = handoff_from_answer(answer, user.get("id") or "?", None, question=_value(values, QUESTION_BLOCK),
                                      context=_value(values, CONTEXT_BLOCK), reply_to=_value(values, REPLY_BLOCK),
                                      asker_name=user.get("name") or user.get("username"),
                                      to_addr=deps.answerer.contact_email)
    except HandoffError as exc:
        limit = compose.MAX_CONTEXT_CHARS if exc.code == compose.CONTEXT_TOO_LONG else MODAL_INPUT_LIMIT
        return None, {_ERROR_BLOCK.get(exc.code, QUESTION_BLOCK): t(lang, f"err_{exc.code}", limit=limit)}
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
              text=t(lang, "failed", mailto=blocks.escape(mailto_for(handoff)), draft=t(lang, "draft")))
        return None
    if delivery.outcome == OUTCOME_QUEUED and on_queued is not None:
        on_queued()
    _tell(deps, client, channel=channel, thread_ts=thread_ts, user_id=handoff.asker, response_url=meta.get("r"),
          text=confirmation_text(delivery, lang, reply_to=handoff.reply_to))
    if delivery.created and channel and thread_ts and delivery.outcome in (OUTCOME_SENT, OUTCOME_QUEUED):
        note = t(lang, "thread_sent" if delivery.outcome == OUTCOME_SENT else "thread_queued",
                 user=blocks.user_ref(handoff.asker), ref=delivery.ref)
        call_slack(deps, "chat.postMessage", client.chat_postMessage, channel=channel, thread_ts=thread_ts,
                   text=note, unfurl_links=False)
    log_event(deps.log, "slack.forward", **fields, **watch.total())
    return delivery


def confirmation_text(delivery: Delivery, lang: str, reply_to: str | None = None) -> str:
    """What the asker reads (mrkdwn): the reference number, and a draft link when nothing was sent.

    `reply_to` is the address the asker just typed: a sent request keeps only a redacted copy.
    """
    e = delivery.entry
    mailto = blocks.escape(delivery.mailto or "")
    words = {"ref": e.ref, "mailto": mailto, "draft": t(lang, "draft"), "email": blocks.escape(e.to_addr)}
    if delivery.outcome == OUTCOME_SENT:
        text = t(lang, "sent", **words)
        if reply_to:
            text += "\n" + t(lang, "sent_reply", reply=blocks.escape(reply_to))
    elif delivery.outcome == OUTCOME_NO_SERVER:
        text = t(lang, "no_server_done", **words)
    elif delivery.outcome == OUTCOME_REFUSED:
        text = t(lang, "refused", **words)
    elif delivery.outcome == OUTCOME_IN_PROGRESS:
        text = t(lang, "in_progress", **words)
    else:
        text = t(lang, "queued", **words)
    return text if delivery.created else t(lang, "duplicate") + "\n" + text


def _permalink(deps: AppDeps, client: WebClient, channel: str | None, ts: str | None) -> str | None:
    if not channel or not ts:
        return None
    try:
        return client.chat_getPermalink(channel=channel, message_ts=ts).get("permalink")
    except (SlackApiError, OSError) as exc:
        error = exc.response.get("error") if isinstance(exc, SlackApiError) else type(exc).__name__
        log_event(deps.log, "slack.api_error", logging.WARNING, call="chat.getPermalink", error=error)
        return None


def stored_answer(deps: AppDeps, stored: StoredAnswer) -> Answer:
    """The answer as it was shown, with the record of how it was decided: read from the answer
    log, never asked again. A row kept before records has none (its citations then stand in for
    the clauses looked at); a row without its answer is rebuilt from the row's own fields."""
    record = None
    if stored.record is not None:
        try:
            record = AnswerRecord.from_dict(stored.record)
        except RecordError as exc:
            log_event(deps.log, "slack.record_unreadable", logging.WARNING, answer_id=stored.id, error=str(exc))
    if stored.answer is not None:
        return dataclasses.replace(stored.answer, record=record)
    clause = _clause_lookup(deps)
    facts = deps.answerer.facts
    citations = tuple(Citation(c.id, c.label, c.article, c.paragraph, c.item, c.title, c.text, 0.0, c.lead)
                      for c in map(clause, stored.citation_ids) if c is not None)
    return Answer(question=stored.question, status=stored.status, lang=stored.lang, lead="", citations=citations,
                  contact=None, revision=facts.revision, company=facts.company_name, record=record)


def _clause_lookup(deps: AppDeps) -> Callable[[str], object | None]:
    """Clause by id in the live index; None for an id a newer revision no longer has."""
    return {c.id: c for c in deps.answerer.searcher.clauses}.get


def _clauses(deps: AppDeps, answer: Answer, handoff: Handoff) -> tuple:
    """The clauses to show the contact window: those quoted, or for an escalation the nearest ones
    the assistant looked at (`answer.nearest`: from the stored record)."""
    if handoff.citations:
        return handoff.citations
    return handoff_from_answer(answer, handoff.asker, question=handoff.question, to_addr=handoff.to_addr,
                               clause_lookup=_clause_lookup(deps)).citations


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
