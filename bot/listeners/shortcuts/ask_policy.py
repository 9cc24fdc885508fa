"""Message shortcut "ポリシーで回答": for support staff, privately, the cited clauses and a reply draft.

Run on a user's message that someone pasted or forwarded; the draft is in polite Japanese,
or English when the message is English, quotes the clauses and names the contact window.
"""
from __future__ import annotations

from slack_bolt import App

from bot.slack_render.drafts import shortcut_messages
from bot.slack_render.ids import SHORTCUT_ASK_POLICY
from bot.slack_render.notices import notice_message
from bot.listeners.common import answer_and_record, answer_fields, reply_privately, started_watch
from bot.listeners.deps import AppDeps
from bot.slack_text import question_from_slack

CALLBACK_ID = SHORTCUT_ASK_POLICY


def handle_ask_policy(deps: AppDeps, *, shortcut: dict, bot_user_id: str | None, respond, client) -> None:
    watch = started_watch()
    user_id = (shortcut.get("user") or {}).get("id")
    channel = (shortcut.get("channel") or {}).get("id")
    message = shortcut.get("message") or {}

    def produce():
        original = message.get("text") or ""
        if not question_from_slack(original, bot_user_id).retrieval:
            return [notice_message("notice.shortcut_empty", "ja")], {"status": "empty_message"}
        answer, answer_id = answer_and_record(deps, original, bot_user_id=bot_user_id, surface="shortcut",
                                              user_id=user_id, channel=channel,
                                              thread_ts=message.get("thread_ts") or message.get("ts"))
        messages = shortcut_messages(answer, answer_id=answer_id, original=answer.question)
        return messages, answer_fields(answer, answer_id)

    deps.submit(lambda: reply_privately(deps, respond, client, surface="shortcut", channel=channel, user_id=user_id,
                                        watch=watch, produce=produce), event="slack.shortcut")


def register(app: App, deps: AppDeps) -> None:
    @app.message_shortcut(CALLBACK_ID)
    def on_ask_policy(ack, shortcut, context, respond, client):
        ack()
        handle_ask_policy(deps, shortcut=shortcut, bot_user_id=context.bot_user_id, respond=respond, client=client)
