"""Block builders and `Message`: Slack's size limits applied where blocks are made.

Blocks are slack_sdk models, which check Slack's own limits when serialised; the cuts here
keep texts under them (section 3,000, context 2,000 characters) and a message under 50 blocks.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from slack_sdk.models.blocks import (ActionsBlock, Block, ButtonElement, ContextBlock, MarkdownTextObject,
                                     PlainTextObject, SectionBlock)

from bot.slack_render.ids import ANSWER_ACTIONS_BLOCK
from bot.slack_render.mrkdwn import escape, truncate
from bot.text import t

SECTION_TEXT_LIMIT = 3000
CONTEXT_TEXT_LIMIT = 2000
MAX_BLOCKS = 50
FALLBACK_TEXT_LIMIT = 3000  # notification/fallback text; Slack's hard limit is higher
BUTTON_TEXT_LIMIT = 75
BUTTON_VALUE_LIMIT = 2000


def section(mrkdwn: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=truncate(mrkdwn, SECTION_TEXT_LIMIT, "…")))


def context(mrkdwn: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(mrkdwn, CONTEXT_TEXT_LIMIT, "…"))])


def plain(text: str, limit: int) -> PlainTextObject:
    """Plain text (labels, titles, hints) cut to `limit`, emoji shown as emoji."""
    return PlainTextObject(text=text[:limit], emoji=True)


def button(text: str, action_id: str, value: str, style: str | None = None) -> ButtonElement:
    return ButtonElement(text=plain(text, BUTTON_TEXT_LIMIT), action_id=action_id,
                         value=value[:BUTTON_VALUE_LIMIT], style=style)


def actions(buttons: list[ButtonElement]) -> ActionsBlock:
    """The buttons under an answer (one block id, so a click names where it came from)."""
    return ActionsBlock(block_id=ANSWER_ACTIONS_BLOCK, elements=buttons)


@dataclass(frozen=True)
class Message:
    """One Slack message: fallback `text` (notifications, screen readers) plus `blocks`."""

    text: str
    blocks: list[Block] = field(default_factory=list)

    def block_dicts(self) -> list[dict]:
        """The blocks as Slack's JSON (slack_sdk validates each one here)."""
        return [block.to_dict() for block in self.blocks]

    def kwargs(self) -> dict:
        return {"text": self.text, "blocks": self.block_dicts()}


def split_messages(text: str, blocks: list[Block], lang: str) -> list[Message]:
    """Pack blocks into messages of at most 50 blocks; all but the last say they continue."""
    if len(blocks) <= MAX_BLOCKS:
        return [Message(text, blocks)]
    per = MAX_BLOCKS - 1  # room for the "continued" note
    parts = [blocks[i:i + per] for i in range(0, len(blocks), per)]
    messages = []
    for n, part in enumerate(parts, start=1):
        if n < len(parts):
            part = part + [context(escape(t("slack.continued", lang, n=str(n), total=str(len(parts)))))]
        messages.append(Message(text if n == 1 else truncate(text, 200, "…"), part))
    return messages
