"""Direct messages: the user just asks; channel messages are left to app_mention."""
from __future__ import annotations

from slack_bolt import App

from bot.listeners.common import event_keys, ignore_reason, reply_in_conversation, retry_num, started_watch
from bot.listeners.deps import AppDeps
from bot.logging_setup import log_event

EVENT = "message"
MANIFEST_EVENT = "message.im"


def handle_message(deps: AppDeps, *, body: dict, event: dict, bot_user_id: str | None, client, request) -> None:
    watch = started_watch()
    retry = retry_num(request)
    if event.get("channel_type") != "im":
        # Channel traffic is only answered when the bot is mentioned (app_mention), so a
        # mention that also arrives here is not answered twice.
        return
    reason = ignore_reason(event, bot_user_id)
    if reason:
        log_event(deps.log, "slack.ignored", surface="dm", why=reason, retry_num=retry)
        return
    if not deps.store.claim(*event_keys(body, event)):
        log_event(deps.log, "slack.duplicate", surface="dm", event_id=body.get("event_id"), retry_num=retry)
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
