"""An Answer as Slack messages: the one format every surface shows.

A one-line lead, then per citation its label in bold, the clause quoted verbatim and a
context line with the policy revision, then buttons and, where the user should write to
the contact window, its mailto link. Long quotes are split; more than 50 blocks become
several messages, each marked as continued.
"""
from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.answer import REASON_EMPTY, REASON_TOO_LONG, Answer
from bot.render.mailto import answer_mailto
from bot.render.words import answer_lead, context_line
from bot.slack_render.ids import ACTION_FEEDBACK_DOWN, ACTION_FEEDBACK_UP, ACTION_FORWARD, ACTION_SHARE
from bot.slack_render.messages import (CONTEXT_TEXT_LIMIT, FALLBACK_TEXT_LIMIT, SECTION_TEXT_LIMIT, Message,
                                       actions, button, context, section, split_messages)
from bot.slack_render.mrkdwn import (block_quote, escape, escaped_within, iso_to_ja_date, split_lines, truncate,
                                     user_ref)
from bot.text import examples, t

QUESTION_ECHO_LIMIT = 500
RELATED_EXCERPT_CHARS = 300


def is_notice(answer: Answer) -> bool:
    """Empty or over-long questions get a plain notice: nothing to rate, forward or share."""
    return answer.reason in (REASON_EMPTY, REASON_TOO_LONG)


def _source_line(answer: Answer) -> str:
    company = answer.company or t("answer.company_default", answer.lang)
    if not answer.revision:
        return escape(t("slack.source_nodate", answer.lang, company=company))
    date = iso_to_ja_date(answer.revision) if answer.lang == "ja" else answer.revision
    return escape(t("slack.source", answer.lang, company=company, date=date))


def shown_text(text: str, lang: str) -> str:
    """The user's question as they wrote it (plain text, bot.slack_text's `display`), safe to
    echo: escaped, so a `<!channel>` in it shows as text and pings nobody. Capped."""
    shown = truncate((text or "").strip(), QUESTION_ECHO_LIMIT, t("slack.truncated", lang))
    return escape(shown)


def question_echo(text: str, lang: str) -> str:
    """'*質問:* …' with the user's question escaped and capped."""
    return f"*{t('slack.question', lang)}:* {shown_text(text, lang)}"


def citation_blocks(answer: Answer) -> list[Block]:
    """Per citation: bold label with the verbatim quote (split if long), then its context line."""
    blocks: list[Block] = []
    source = _source_line(answer)
    for citation in answer.citations:
        label = f"*{escape(citation.label)}*"
        if citation.lead:  # an item reads as what it is: one entry under its paragraph's lead
            paragraph = citation.label.rsplit("第", 1)[0]
            blocks.append(section(label))
            blocks.append(context(f"{escape(t('slack.lead_of', answer.lang, label=paragraph))}: "
                                  f"{escape(citation.lead)}"))
            label = ""
        # Quote lines grow by '>' and by escaping; keep a margin under the section limit.
        chunks = split_lines(citation.text, (SECTION_TEXT_LIMIT - len(label) - 10) // 2)
        for i, chunk in enumerate(chunks):
            body = block_quote(chunk)
            blocks.append(section(f"{label}\n{body}" if i == 0 and label else body))
        blocks.append(context(source))
    return blocks


def related_blocks(answer: Answer) -> list[Block]:
    """An escalation's related reading: muted, and said plainly not to be the answer."""
    if not answer.related:
        return []
    lines = [f"*{escape(t('slack.related', answer.lang))}*"]
    for citation in answer.related:
        lines.append(f"{escape(citation.label)}: {escape(truncate(citation.text, RELATED_EXCERPT_CHARS, '…'))}")
    return [context("\n".join(lines))]


def contact_line(answer: Answer) -> str | None:
    """'お問い合わせ窓口: <mailto:…|address>' (mrkdwn), or None without a contact window."""
    if not answer.contact:
        return None
    link = f"<{escape(answer_mailto(answer) or '')}|{escape(answer.contact.email)}>"
    return t("slack.contact_mrkdwn", answer.lang, link=link)


def examples_block(lang: str) -> Block:
    return context(f"*{t('slack.examples', lang)}:* " + " / ".join(escape(e) for e in examples(lang)))


def answer_blocks(answer: Answer, *, answer_id: str | None = None, echo: str | None = None,
                  shareable: bool = False, shared_by: str | None = None) -> list[Block]:
    """All blocks of an answer, in display order; may exceed 50 (see `answer_messages`).

    `echo`: the question as the user wrote it, shown above the answer where the asker's
    message is not visible (/policy, shared answers); always escaped.
    """
    lang = answer.lang
    blocks: list[Block] = []
    if shared_by:
        blocks.append(context(escape(t("slack.shared_by", lang, user="\0")).replace("\0", user_ref(shared_by))))
    if echo and echo.strip():
        blocks.append(section(question_echo(echo, lang)))
    blocks.append(section(escape(answer_lead(answer))))
    if answer.context_question:  # a follow-up: say which earlier question it was read with
        blocks.append(context(escaped_within(context_line(lang, answer.context_question), CONTEXT_TEXT_LIMIT, "…")))
    if is_notice(answer):
        if answer.reason == REASON_EMPTY:
            blocks.append(examples_block(lang))
        return blocks
    blocks.extend(citation_blocks(answer))
    blocks.extend(related_blocks(answer))
    line = contact_line(answer)
    if line:
        blocks.append(section(line))
    if answer_id:
        buttons = []
        if answer.contact is not None or answer.escalated:
            buttons.append(button(t("slack.forward", lang), ACTION_FORWARD, answer_id, style="primary"))
        if shareable:
            buttons.append(button(t("slack.share", lang), ACTION_SHARE, answer_id))
        buttons.append(button(t("slack.up", lang), ACTION_FEEDBACK_UP, answer_id))
        buttons.append(button(t("slack.down", lang), ACTION_FEEDBACK_DOWN, answer_id))
        blocks.append(actions(buttons))
    return blocks


def fallback_text(answer: Answer) -> str:
    """Notification text: the lead and the labels cited (escaped, capped)."""
    parts = [answer_lead(answer)] + [f"■ {c.label}" for c in answer.citations]
    if answer.contact and not is_notice(answer):
        parts.append(answer.contact.email)
    return truncate(escape("\n".join(parts)), FALLBACK_TEXT_LIMIT, "…")


def answer_messages(answer: Answer, **kwargs) -> list[Message]:
    """The messages that show `answer` (one, unless Slack's block limit forces a split)."""
    return split_messages(fallback_text(answer), answer_blocks(answer, **kwargs), answer.lang)
