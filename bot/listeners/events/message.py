"""Direct messages: the user just asks; channel messages are left to app_mention."""
from __future__ import annotations

from slack_bolt import App

from bot.listeners.common import claim_message, reply_in_conversation, retry_num, started_watch
from bot.listeners.deps import AppDeps

EVENT = "message"
MANIFEST_EVENT = "message.im"


def handle_message(deps: AppDeps, *, body: dict, event: dict, bot_user_id: str | None, client, request) -> None:
    watch = started_watch()
    retry = retry_num(request)
    if event.get("channel_type") != "im":
        # Channel traffic is only answered when the bot is mentioned (app_mention), so a
        # mention that also arrives here is not answered twice.
        return
    if not claim_message(deps, body=body, event=event, bot_user_id=bot_user_id, surface="dm", retry=retry):
        return
    deps.submit(lambda: reply_in_conversation(
        deps, client, surface="dm", text=event.get("text") or "", bot_user_id=bot_user_id,
        channel=event["channel"], ts=event["ts"],
        thread_ts=event.get("thread_ts"),  # a DM is a conversation: reply in place, or in its thread
        user_id=event.get("user"), retry=retry, watch=watch), event="slack.reply", surface="dm")


def register(app: App, deps: AppDeps) -> None:
    @app.event(EVENT)
    def on_message(body, event, context, client, request):
        handle_message(deps, body=body, event=event, bot_user_id=context.bot_user_id, client=client,
                       request=request)
