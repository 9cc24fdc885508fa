"""One-line replies (error, thanks, gone …): a catalog entry as a Slack message."""
from __future__ import annotations

from bot.slack_render.messages import Message, section
from bot.slack_render.mrkdwn import escape
from bot.text import t


def notice_message(key: str, lang: str) -> Message:
    """The catalog entry `key` (e.g. "notice.error") in `lang`, escaped, as one section."""
    text = escape(t(key, lang))
    return Message(text, [section(text)])
