"""`/policy 質問`: answer privately (ephemeral), with a button to share the answer in the channel."""
from __future__ import annotations

from slack_bolt import App

from bot.slack_render.answer import answer_messages
from bot.slack_render.ids import COMMAND_POLICY
from bot.listeners.common import answer_and_record, answer_fields, reply_privately, started_watch
from bot.listeners.deps import AppDeps

COMMAND = COMMAND_POLICY


def handle_policy(deps: AppDeps, *, command: dict, respond, client) -> None:
    """Called after ack(): the answer is computed on the pool and sent through response_url."""
    watch = started_watch()
    user_id, channel = command.get("user_id"), command.get("channel_id")

    def produce():
        text = command.get("text") or ""
        answer, answer_id = answer_and_record(deps, text, bot_user_id=None, surface="command", user_id=user_id,
                                              channel=channel, thread_ts=None)
        # The echo is the question as the user wrote it (mentions as @name, no ids or markup).
        messages = answer_messages(answer, answer_id=answer_id, echo=answer.question, shareable=True)
        return messages, answer_fields(answer, answer_id)

    deps.submit(lambda: reply_privately(deps, respond, client, surface="command", channel=channel, user_id=user_id,
                                        watch=watch, produce=produce), event="slack.command")


def register(app: App, deps: AppDeps) -> None:
    @app.command(COMMAND)
    def on_policy(ack, command, respond, client):
        ack()  # first, empty: Slack shows nothing until the answer arrives a moment later
        handle_policy(deps, command=command, respond=respond, client=client)
