"""The forward-to-contact modal and what the asker reads after submitting it."""
from __future__ import annotations

import json

from slack_sdk.models.blocks import Block, EmailInputElement, InputBlock, PlainTextInputElement
from slack_sdk.models.views import View

from bot.handoff import compose
from bot.handoff.service import OUTCOME_IN_PROGRESS, OUTCOME_NO_SERVER, OUTCOME_REFUSED, OUTCOME_SENT, Delivery
from bot.redact import EMAIL_MARK, PHONE_MARK
from bot.slack_render.ids import (FORWARD_CALLBACK_ID, FORWARD_CONTEXT_BLOCK, FORWARD_INPUT_ACTION,
                                  FORWARD_QUESTION_BLOCK, FORWARD_REPLY_BLOCK)
from bot.slack_render.messages import context, plain, section
from bot.slack_render.mrkdwn import escape
from bot.text import t

MODAL_INPUT_LIMIT = 3000  # Slack's max_length for plain_text_input
LABEL_LIMIT, HINT_LIMIT, MODAL_TITLE_LIMIT = 150, 2000, 24


def forward_modal(question: str, lang: str, contact_email: str | None, metadata: dict,
                  mail_configured: bool) -> View:
    """The modal: the question (editable), optional context and reply address."""
    question = question.strip()
    if len(question) > MODAL_INPUT_LIMIT:
        question = question[: MODAL_INPUT_LIMIT - 1] + "…"
    redacted = EMAIL_MARK in question or PHONE_MARK in question  # the stored question (bot/slack_store.py)
    blocks: list[Block] = [
        section(escape(t("forward.intro", lang, email=contact_email or "?"))),
        InputBlock(block_id=FORWARD_QUESTION_BLOCK, label=plain(t("forward.question", lang), LABEL_LIMIT),
                   element=PlainTextInputElement(action_id=FORWARD_INPUT_ACTION, multiline=True,
                                                 max_length=MODAL_INPUT_LIMIT, initial_value=question or None),
                   hint=plain(t("forward.redacted_hint", lang), HINT_LIMIT) if redacted else None),
        InputBlock(block_id=FORWARD_CONTEXT_BLOCK, optional=True, label=plain(t("forward.context", lang), LABEL_LIMIT),
                   element=PlainTextInputElement(action_id=FORWARD_INPUT_ACTION, multiline=True,
                                                 max_length=compose.MAX_CONTEXT_CHARS,
                                                 placeholder=plain(t("forward.context_hint", lang), LABEL_LIMIT))),
        InputBlock(block_id=FORWARD_REPLY_BLOCK, optional=True, label=plain(t("forward.reply", lang), LABEL_LIMIT),
                   element=EmailInputElement(action_id=FORWARD_INPUT_ACTION),
                   hint=plain(t("forward.reply_hint", lang), HINT_LIMIT)),
    ]
    if not mail_configured:
        blocks.append(context(escape(t("forward.no_server", lang))))
    return View(type="modal", callback_id=FORWARD_CALLBACK_ID, private_metadata=json.dumps(metadata),
                title=plain(t("forward.title", lang), MODAL_TITLE_LIMIT),
                submit=plain(t("forward.submit", lang), MODAL_TITLE_LIMIT),
                close=plain(t("forward.close", lang), MODAL_TITLE_LIMIT), blocks=blocks)


_OUTCOME_KEYS = {OUTCOME_SENT: "forward.sent_mrkdwn", OUTCOME_NO_SERVER: "forward.no_server_done_mrkdwn",
                 OUTCOME_REFUSED: "forward.refused_mrkdwn", OUTCOME_IN_PROGRESS: "forward.in_progress_mrkdwn"}


def confirmation_text(delivery: Delivery, lang: str, reply_to: str | None = None) -> str:
    """What the asker reads (mrkdwn): the reference number, and a draft link when nothing was sent.

    `reply_to` is the address the asker just typed: a sent request keeps only a redacted copy.
    """
    e = delivery.entry
    words = {"ref": e.ref, "mailto": escape(delivery.mailto or ""), "draft": t("forward.draft", lang),
             "email": escape(e.to_addr)}
    text = t(_OUTCOME_KEYS.get(delivery.outcome, "forward.queued_mrkdwn"), lang, **words)
    if delivery.outcome == OUTCOME_SENT and reply_to:
        text += "\n" + t("forward.sent_reply_mrkdwn", lang, reply=escape(reply_to))
    return text if delivery.created else t("forward.duplicate", lang) + "\n" + text


def failure_text(mailto: str, lang: str) -> str:
    """What the asker reads when forwarding failed: a draft link to send it themselves."""
    return t("forward.failed_mrkdwn", lang, mailto=escape(mailto), draft=t("forward.draft", lang))


def thread_note(sent: bool, user_ref: str, ref: str, lang: str) -> str:
    """The "forwarded by" note in the conversation's thread (`user_ref`: already mrkdwn)."""
    return t("forward.thread_sent_mrkdwn" if sent else "forward.thread_queued_mrkdwn", lang, user=user_ref, ref=ref)
