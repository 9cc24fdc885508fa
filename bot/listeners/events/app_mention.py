"""@policybot in a channel: answer in the thread of the mention, with 👀 while it works; a bare
@policybot in someone else's thread answers the thread's first message."""
from __future__ import annotations

from slack_bolt import App

from bot.listeners.common import claim_message, reply_in_conversation, retry_num, started_watch
from bot.listeners.deps import AppDeps

EVENT = "app_mention"


def handle_app_mention(deps: AppDeps, *, body: dict, event: dict, bot_user_id: str | None, client, request) -> None:
    """Runs after Bolt's automatic ack; claims the message once, then answers on the pool."""
    watch = started_watch()
    retry = retry_num(request)
    if not claim_message(deps, body=body, event=event, bot_user_id=bot_user_id, surface=EVENT, retry=retry):
        return
    deps.submit(lambda: reply_in_conversation(
        deps, client, surface=EVENT, text=event.get("text") or "", bot_user_id=bot_user_id,
        channel=event["channel"], ts=event["ts"],
        # Never a new top-level message: the thread the mention is in, or the mention's own.
        thread_ts=event.get("thread_ts") or event["ts"],
        user_id=event.get("user"), retry=retry, watch=watch, summon=True), event="slack.reply", surface=EVENT)


def register(app: App, deps: AppDeps) -> None:
    @app.event(EVENT)
    def on_app_mention(body, event, context, client, request):
        handle_app_mention(deps, body=body, event=event, bot_user_id=context.bot_user_id, client=client,
                           request=request)
