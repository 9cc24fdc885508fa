""""チャンネルに共有": post a private /policy answer into the channel for everyone, as it was shown."""
from __future__ import annotations

import logging

from slack_bolt import App

from bot.slack_render.answer import answer_messages
from bot.slack_render.ids import ACTION_SHARE
from bot.slack_render.messages import Message
from bot.slack_render.notices import notice_message
from bot.listeners.common import answer_fields, send_private, started_watch
from bot.listeners.deps import AppDeps
from bot.listeners.stored import stored_answer
from bot.logging_setup import log_event

ACTION_ID = ACTION_SHARE


def handle_share(deps: AppDeps, *, body: dict, action: dict, respond, client) -> None:
    watch = started_watch()
    user_id = (body.get("user") or {}).get("id")
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    answer_id = action.get("value") or ""

    def job() -> None:
        watch.lap("queue")
        fields: dict = {"surface": "share", "user": user_id, "channel": channel, "answer_id": answer_id}
        try:
            stored = deps.store.get_answer(answer_id)
            if stored is None:
                send_private(deps, respond, client, channel=channel, user_id=user_id,
                             messages=[notice_message("notice.gone", "ja")])
                log_event(deps.log, "slack.share", found=False, **fields, **watch.total())
                return
            answer = stored_answer(deps, stored)  # as it was shown: never asked again
            fields.update(answer_fields(answer, stored.id))
            messages = answer_messages(answer, answer_id=stored.id, echo=stored.question, shared_by=user_id)
            post_in_channel(respond, client, channel=channel, messages=messages)
            log_event(deps.log, "slack.share", found=True, **fields, **watch.total())
        except Exception:
            log_event(deps.log, "slack.share_failed", logging.ERROR, exc_info=True, **fields, **watch.total())
            send_private(deps, respond, client, channel=channel, user_id=user_id,
                         messages=[notice_message("notice.error", fields.get("lang", "ja"))])

    deps.submit(job, event="slack.share")


def post_in_channel(respond, client, *, channel: str | None, messages: list[Message]) -> None:
    """Through the response_url (works where the bot is not a member), then remove the private copy."""
    if respond is not None and getattr(respond, "response_url", None):
        for message in messages:
            response = respond(response_type="in_channel", replace_original=False, **message.kwargs())
            if response.status_code != 200:
                raise RuntimeError(f"response_url answered HTTP {response.status_code}")
        respond(delete_original=True)
        return
    for message in messages:
        client.chat_postMessage(channel=channel, unfurl_links=False, unfurl_media=False, **message.kwargs())


def register(app: App, deps: AppDeps) -> None:
    @app.action(ACTION_ID)
    def on_share(ack, body, action, respond, client):
        ack()
        handle_share(deps, body=body, action=action, respond=respond, client=client)
