"""The message shortcut's result for support staff: the cited clauses and a ready reply draft."""
from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.answer import REASON_NOT_STATED, Answer
from bot.render.words import answer_lead
from bot.slack_render.answer import citation_blocks, contact_line, fallback_text, related_blocks, shown_text
from bot.slack_render.ids import ACTION_FEEDBACK_DOWN, ACTION_FEEDBACK_UP, ACTION_FORWARD
from bot.slack_render.messages import SECTION_TEXT_LIMIT, Message, actions, button, section, split_messages
from bot.slack_render.mrkdwn import escape, escaped_within, iso_to_ja_date
from bot.text import t


def reply_draft(answer: Answer) -> str:
    """A ready-to-send reply in polite Japanese (敬語), or English for an English message.

    It quotes the cited clauses verbatim and names the contact window whenever the user
    should write to it (escalations and rights requests). Plain text: the caller escapes.
    """
    lang = answer.lang
    company = answer.company or t("answer.company_default", lang)
    email = answer.contact.email if answer.contact else None
    # The Japanese draft dates the revision as the policy does (2026年6月3日), the English one in ISO.
    date = iso_to_ja_date(answer.revision) if lang == "ja" else answer.revision
    lines = [t("draft.greeting", lang)]
    if answer.escalated or not answer.citations:
        lines.append(t("draft.not_stated" if answer.reason == REASON_NOT_STATED else "draft.not_covered", lang))
        lines.append(t("draft.ask_window", lang, company=company, email=email) if email
                     else t("draft.will_check", lang))
    else:
        lines.append(t("draft.answered", lang, company=company))
        for c in answer.citations:
            lines += ["", t("draft.label", lang, label=c.label), c.text]
        if date:
            lines += ["", t("draft.revision", lang, date=date)]
        lines.append("")
        lines.append(t("draft.contact_window", lang, company=company, email=email) if email
                     else t("draft.any_questions", lang))
    lines += ["", t("draft.closing", lang)]
    return "\n".join(lines)


def shortcut_messages(answer: Answer, *, answer_id: str | None, original: str) -> list[Message]:
    """What support staff see privately: the message, the cited clauses, and the draft as one block.

    `original`: the message as the user wrote it (bot.slack_text's `display`; echoed escaped).
    """
    lang = answer.lang
    blocks: list[Block] = [section(escape(t("shortcut.intro", lang)))]
    quoted = "\n".join(">" + line for line in shown_text(original, lang).split("\n"))
    blocks.append(section(f"*{escape(t('shortcut.original', lang))}:*\n{quoted}"))
    blocks.append(section(escape(answer_lead(answer))))
    blocks.extend(citation_blocks(answer))
    blocks.extend(related_blocks(answer))
    line = contact_line(answer)
    if line:
        blocks.append(section(line))
    # The draft is one code block so it copies in one go; cut (visibly) if Slack's limit forces it.
    title = f"*{escape(t('shortcut.draft', lang))}*\n"
    draft = escaped_within(reply_draft(answer), SECTION_TEXT_LIMIT - len(title) - 6, t("slack.truncated", lang))
    blocks.append(section(f"{title}```{draft}```"))
    if answer_id:
        # Support staff judge the customer's message themselves: forwarding it is always offered.
        blocks.append(actions([button(t("slack.forward", lang), ACTION_FORWARD, answer_id, style="primary"),
                               button(t("slack.up", lang), ACTION_FEEDBACK_UP, answer_id),
                               button(t("slack.down", lang), ACTION_FEEDBACK_DOWN, answer_id)]))
    return split_messages(fallback_text(answer), blocks, lang)
