"""What a Slack thread says before the message being answered.

- `thread_root`: the message that started the thread, read with `conversations.replies`, for a
  bare @policybot under someone else's message (a customer's mail pasted in #support): that
  message is what the colleague wants answered. Needs the history scope of the conversation
  type (channels:history, groups:history, mpim:history; see manifest.yml).
"""
from __future__ import annotations

import logging

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.listeners.deps import AppDeps
from bot.logging_setup import log_event


def thread_root(deps: AppDeps, client: WebClient, *, channel: str, thread_ts: str,
                bot_user_id: str | None) -> str | None:
    """The text (mrkdwn) of the message that starts the thread `thread_ts`, or None when it
    cannot be read (no scope, not a member, deleted), is the bot's own or has no text."""
    try:
        response = client.conversations_replies(channel=channel, ts=thread_ts, limit=1, inclusive=True)
    except SlackApiError as exc:
        log_event(deps.log, "slack.api_error", logging.WARNING, call="conversations.replies",
                  error=exc.response.get("error"), http_status=exc.response.status_code)
        return None
    except OSError as exc:
        log_event(deps.log, "slack.api_error", logging.WARNING, call="conversations.replies",
                  error=type(exc).__name__)
        return None
    root = next((m for m in response.get("messages") or [] if isinstance(m, dict) and m.get("ts") == thread_ts),
                None)
    if root is None or (bot_user_id and root.get("user") == bot_user_id):
        return None
    text = root.get("text")
    return text if isinstance(text, str) and text.strip() else None
