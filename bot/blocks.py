"""Block Kit rendering of answers, and the mrkdwn text rules. Pure: no Slack calls, no I/O.

Every surface shows the same answer format: a one-line lead, then per citation its label in
bold, the clause quoted verbatim and a context line with the policy revision, then buttons
and, where the user should write to the contact window, its mailto link.

Slack rules enforced here, so handlers cannot forget them:
- Everything that comes from users or from the policy text is escaped (&, <, >), so
  `<!channel>` in a question is shown, never executed.
- Section texts stay under 3,000 characters (long quotes are split, over-long echoes
  truncated with a visible note) and a message under 50 blocks (longer ones are split
  into several messages, each marked as continued).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from bot.answer import Answer, MAX_QUESTION_CHARS, REASON_EMPTY, REASON_TOO_LONG, context_line
from bot.slack_text import unescape  # the inverse of `escape`; reading Slack's input is bot.slack_text's job

SECTION_TEXT_LIMIT = 3000
CONTEXT_TEXT_LIMIT = 2000
MAX_BLOCKS = 50
FALLBACK_TEXT_LIMIT = 3000  # notification/fallback text; Slack's hard limit is higher
QUESTION_ECHO_LIMIT = 500
BUTTON_VALUE_LIMIT = 2000

ACTION_FEEDBACK_UP = "feedback_up"
ACTION_FEEDBACK_DOWN = "feedback_down"
ACTION_SHARE = "share_answer"
ACTION_FORWARD = "forward_to_contact"  # listener: bot/listeners/actions/forward.py (hand-off)
SHORTCUT_ASK_POLICY = "ask_policy"
COMMAND_POLICY = "/policy"

EXAMPLES_JA = (
    "第三者に提供される？",
    "利用料金の請求に個人情報を使いますか？",
    "自分のデータを削除してほしい",
    "業務委託先に個人情報を渡すことはありますか？",
)
EXAMPLES_EN = (
    "Do you share my data with third parties?",
    "How can I ask you to delete my personal data?",
)

_TEXTS = {
    "ja": {
        "question": "質問",
        "source": "{company}個人情報保護方針（{date}改定）より引用",
        "source_nodate": "{company}個人情報保護方針より引用",
        "contact": "お問い合わせ窓口: {link}",
        "forward": "窓口に転送 / Forward to the contact window",
        "up": "👍 役に立った",
        "down": "👎 役に立たなかった",
        "share": "チャンネルに共有",
        "shared_by": "{user} さんが共有しました",
        "continued": "（続きは次のメッセージ {n}/{total}）",
        "truncated": "…（長いため以下省略）",
        "examples": "質問の例",
        "error": "回答の作成中に問題が発生しました。少し時間をおいて、もう一度お試しください。",
        "thanks_up": "フィードバックありがとうございます（👍）。",
        "thanks_down": "フィードバックありがとうございます（👎）。回答の改善に役立てます。",
        "gone": "この回答は見つかりませんでした（古いメッセージの可能性があります）。もう一度質問してください。",
        "shortcut_intro": "このメッセージへの返信案です（あなたにだけ表示されています）。",
        "shortcut_original": "元のメッセージ",
        "shortcut_draft": "返信案（コピーしてお使いください）",
        "shortcut_empty": "このメッセージには本文がないため、返信案を作れません。本文のあるメッセージで実行してください。",
        "company_default": "当社",
        "lead_of": "{label}の柱書",
        "related": "参考（この質問への答えではありません）",
    },
    "en": {
        "question": "Question",
        "source": "Quoted from the privacy policy of {company} (revised {date})",
        "source_nodate": "Quoted from the privacy policy of {company}",
        "contact": "Contact window: {link}",
        "forward": "窓口に転送 / Forward to the contact window",
        "up": "👍 Helpful",
        "down": "👎 Not helpful",
        "share": "Share in channel",
        "shared_by": "Shared by {user}",
        "continued": "(continued in the next message {n}/{total})",
        "truncated": "… (too long, truncated)",
        "examples": "Example questions",
        "error": "Something went wrong while preparing the answer. Please try again in a moment.",
        "thanks_up": "Thanks for the feedback (👍).",
        "thanks_down": "Thanks for the feedback (👎). It helps us improve the answers.",
        "gone": "This answer could not be found (the message may be too old). Please ask again.",
        "shortcut_intro": "A reply draft for this message (only you can see this).",
        "shortcut_original": "Original message",
        "shortcut_draft": "Reply draft (copy and send)",
        "shortcut_empty": "This message has no text, so no reply draft can be made. Run the shortcut on a message with text.",
        "company_default": "the company",
        "lead_of": "lead sentence of {label}",
        "related": "Related reading (not an answer to this question)",
    },
}


def t(lang: str, key: str, **kwargs: str) -> str:
    """A UI string in `lang` ('ja' or 'en'; anything else falls back to Japanese)."""
    return _TEXTS.get(lang, _TEXTS["ja"])[key].format(**kwargs)


# -- mrkdwn text -------------------------------------------------------------------------

def escape(text: str) -> str:
    """Escape the three characters Slack treats as control characters in message text."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def user_ref(user_id: str | None) -> str:
    """`<@U123>` for a real Slack user id; anything else is escaped text (never a ping)."""
    if user_id and _USER_ID.match(user_id):
        return f"<@{user_id}>"
    return escape(user_id or "?")


def truncate(text: str, limit: int, note: str) -> str:
    """`text` cut to at most `limit` characters, ending with `note` when it was cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(note))].rstrip() + note


def escaped_within(text: str, limit: int, note: str) -> str:
    """`escape(text)` in at most `limit` characters, cut on the raw text (never mid-entity)."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    note = escape(note)
    raw = text[: limit - len(note)]
    while raw and len(escape(raw)) > limit - len(note):
        raw = raw[: len(raw) - max(1, (len(escape(raw)) - (limit - len(note))) // 5)]
    return escape(raw.rstrip()) + note


def _split_lines(text: str, limit: int) -> list[str]:
    """Split at line breaks into chunks of at most `limit` characters (hard-split long lines)."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit and current:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current or not chunks:
        chunks.append(current)
    return chunks


def _quote(text: str) -> str:
    """A verbatim mrkdwn block quote: every line escaped and prefixed with '>'."""
    return "\n".join(">" + escape(line) for line in text.split("\n"))


def iso_to_ja_date(iso: str | None) -> str | None:
    """2026-06-03 → 2026年6月3日 (the policy's own way of writing dates)."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", iso or "")
    if not m:
        return iso
    return f"{int(m[1])}年{int(m[2])}月{int(m[3])}日"


# -- blocks ------------------------------------------------------------------------------

def section(mrkdwn: str) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": truncate(mrkdwn, SECTION_TEXT_LIMIT, "…")}}


def context(mrkdwn: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": truncate(mrkdwn, CONTEXT_TEXT_LIMIT, "…")}]}


def button(text: str, action_id: str, value: str, style: str | None = None) -> dict:
    b = {"type": "button", "text": {"type": "plain_text", "text": text[:75], "emoji": True},
         "action_id": action_id, "value": value[:BUTTON_VALUE_LIMIT]}
    if style:
        b["style"] = style
    return b


@dataclass(frozen=True)
class Message:
    """One Slack message: fallback `text` (notifications, screen readers) plus `blocks`."""

    text: str
    blocks: list[dict] = field(default_factory=list)

    def kwargs(self) -> dict:
        return {"text": self.text, "blocks": self.blocks}


def _is_notice(answer: Answer) -> bool:
    """Empty or over-long questions get a plain notice: nothing to rate, forward or share."""
    return answer.reason in (REASON_EMPTY, REASON_TOO_LONG)


def _source_line(answer: Answer) -> str:
    company = answer.company or t(answer.lang, "company_default")
    if not answer.revision:
        return escape(t(answer.lang, "source_nodate", company=company))
    date = iso_to_ja_date(answer.revision) if answer.lang == "ja" else answer.revision
    return escape(t(answer.lang, "source", company=company, date=date))


def shown_text(text: str, lang: str) -> str:
    """The user's question as they wrote it (plain text, bot.slack_text's `display`), safe to
    echo: escaped, so a `<!channel>` in it shows as text and pings nobody. Capped."""
    shown = truncate((text or "").strip(), QUESTION_ECHO_LIMIT, t(lang, "truncated"))
    return escape(shown)


def question_echo(text: str, lang: str) -> str:
    """'*質問:* …' with the user's question escaped and capped."""
    return f"*{t(lang, 'question')}:* {shown_text(text, lang)}"


def citation_blocks(answer: Answer) -> list[dict]:
    """Per citation: bold label with the verbatim quote (split if long), then its context line."""
    blocks: list[dict] = []
    source = _source_line(answer)
    for citation in answer.citations:
        label = f"*{escape(citation.label)}*"
        if citation.lead:  # an item reads as what it is: one entry under its paragraph's lead
            paragraph = citation.label.rsplit("第", 1)[0]
            blocks.append(section(label))
            blocks.append(context(f"{escape(t(answer.lang, 'lead_of', label=paragraph))}: {escape(citation.lead)}"))
            label = ""
        # Quote lines grow by '>' and by escaping; keep a margin under the section limit.
        chunks = _split_lines(citation.text, (SECTION_TEXT_LIMIT - len(label) - 10) // 2)
        for i, chunk in enumerate(chunks):
            body = _quote(chunk)
            blocks.append(section(f"{label}\n{body}" if i == 0 and label else body))
        blocks.append(context(source))
    return blocks


def related_blocks(answer: Answer) -> list[dict]:
    """An escalation's related reading: muted, and said plainly not to be the answer."""
    if not answer.related:
        return []
    lines = [f"*{escape(t(answer.lang, 'related'))}*"]
    for citation in answer.related:
        lines.append(f"{escape(citation.label)}: {escape(truncate(citation.text, 300, '…'))}")
    return [context("\n".join(lines))]


def contact_line(answer: Answer) -> str | None:
    if not answer.contact:
        return None
    link = f"<{escape(answer.contact.mailto)}|{escape(answer.contact.email)}>"
    return t(answer.lang, "contact", link=link)


def _shows_contact(answer: Answer) -> bool:
    return not _is_notice(answer) and answer.contact is not None


def answer_blocks(answer: Answer, *, answer_id: str | None = None, echo: str | None = None,
                  shareable: bool = False, shared_by: str | None = None) -> list[dict]:
    """All blocks of an answer, in display order; may exceed 50 (see `answer_messages`).

    `echo`: the question as the user wrote it, shown above the answer where the asker's
    message is not visible (/policy, shared answers); always escaped.
    """
    lang = answer.lang
    blocks: list[dict] = []
    if shared_by:
        blocks.append(context(escape(t(lang, "shared_by", user="\0")).replace("\0", user_ref(shared_by))))
    if echo and echo.strip():
        blocks.append(section(question_echo(echo, lang)))
    blocks.append(section(escape(answer.lead)))
    if answer.context_question:  # a follow-up: say which earlier question it was read with
        blocks.append(context(escaped_within(context_line(answer), CONTEXT_TEXT_LIMIT, "…")))
    if _is_notice(answer):
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
        if _shows_contact(answer) or answer.escalated:
            buttons.append(button(t(lang, "forward"), ACTION_FORWARD, answer_id, style="primary"))
        if shareable:
            buttons.append(button(t(lang, "share"), ACTION_SHARE, answer_id))
        buttons.append(button(t(lang, "up"), ACTION_FEEDBACK_UP, answer_id))
        buttons.append(button(t(lang, "down"), ACTION_FEEDBACK_DOWN, answer_id))
        blocks.append({"type": "actions", "block_id": "answer_actions", "elements": buttons})
    return blocks


def fallback_text(answer: Answer) -> str:
    """Notification text: the lead and the labels cited (escaped, capped)."""
    parts = [answer.lead] + [f"■ {c.label}" for c in answer.citations]
    if answer.contact and not _is_notice(answer):
        parts.append(answer.contact.email)
    return truncate(escape("\n".join(parts)), FALLBACK_TEXT_LIMIT, "…")


def split_messages(text: str, blocks: list[dict], lang: str) -> list[Message]:
    """Pack blocks into messages of at most 50 blocks; all but the last say they continue."""
    if len(blocks) <= MAX_BLOCKS:
        return [Message(text, blocks)]
    per = MAX_BLOCKS - 1  # room for the "continued" note
    parts = [blocks[i:i + per] for i in range(0, len(blocks), per)]
    messages = []
    for n, part in enumerate(parts, start=1):
        if n < len(parts):
            part = part + [context(escape(t(lang, "continued", n=str(n), total=str(len(parts)))))]
        messages.append(Message(text if n == 1 else truncate(text, 200, "…"), part))
    return messages


def answer_messages(answer: Answer, **kwargs) -> list[Message]:
    """The messages that show `answer` (one, unless Slack's block limit forces a split)."""
    return split_messages(fallback_text(answer), answer_blocks(answer, **kwargs), answer.lang)


def examples_block(lang: str) -> dict:
    examples = EXAMPLES_EN if lang == "en" else EXAMPLES_JA
    return context(f"*{t(lang, 'examples')}:* " + " / ".join(escape(e) for e in examples))


def notice_message(lang: str, key: str) -> Message:
    """A one-line message in `lang` (error, thanks, gone …)."""
    text = t(lang, key)
    return Message(escape(text), [section(escape(text))])


# -- message shortcut: reply draft for support staff ------------------------------------

def reply_draft(answer: Answer) -> str:
    """A ready-to-send reply in polite Japanese (敬語), or English for an English message.

    It quotes the cited clauses verbatim and names the contact window whenever the user
    should write to it (escalations and rights requests). Plain text: the caller escapes.
    """
    company = answer.company or t(answer.lang, "company_default")
    email = answer.contact.email if answer.contact else None
    if answer.lang == "en":
        return _draft_en(answer, company, email)
    return _draft_ja(answer, company, email)


def _draft_ja(answer: Answer, company: str, email: str | None) -> str:
    lines = ["お問い合わせいただき、誠にありがとうございます。"]
    window = f"{company} 個人情報お問い合わせ窓口（{email}）" if email else None
    if answer.escalated or not answer.citations:
        lines.append("ご質問の件につきましては、当社の個人情報保護方針に明確な定めがないため、"
                     "この場で確定的なご回答を差し上げることができません。")
        if window:
            lines.append(f"恐れ入りますが、{window}までお問い合わせくださいますよう、お願い申し上げます。")
        else:
            lines.append("担当部署にて確認のうえ、改めてご連絡を差し上げます。")
    else:
        lines.append(f"ご質問の件につきまして、{company}の個人情報保護方針では、次のとおり定めております。")
        for c in answer.citations:
            lines += ["", f"■ {c.label}", c.text]
        date = iso_to_ja_date(answer.revision)
        if date:
            lines += ["", f"（{date}改定の個人情報保護方針より引用）"]
        lines.append("")
        if window:
            lines.append(f"お手続きやご不明な点につきましては、{window}までご連絡くださいますよう、お願い申し上げます。")
        else:
            lines.append("ご不明な点がございましたら、お気軽にお問い合わせください。")
    lines += ["", "今後ともよろしくお願い申し上げます。"]
    return "\n".join(lines)


def _draft_en(answer: Answer, company: str, email: str | None) -> str:
    lines = ["Thank you for contacting us."]
    if answer.escalated or not answer.citations:
        lines.append("Our privacy policy does not clearly address your question, so we cannot give a definitive "
                     "answer here.")
        if email:
            lines.append(f"Please contact the personal information inquiry desk of {company} at {email}.")
        else:
            lines.append("We will check with the responsible team and get back to you.")
    else:
        lines.append(f"Regarding your question, the privacy policy of {company} provides as follows "
                     "(quoted in the original Japanese):")
        for c in answer.citations:
            lines += ["", f"[{c.label}]", c.text]
        if answer.revision:
            lines += ["", f"(Privacy policy revised on {answer.revision})"]
        lines.append("")
        if email:
            lines.append(f"For requests or further questions, please contact our personal information inquiry desk "
                         f"at {email}.")
        else:
            lines.append("If you have any further questions, please do not hesitate to contact us.")
    lines += ["", "Best regards,"]
    return "\n".join(lines)


def shortcut_messages(answer: Answer, *, answer_id: str | None, original: str) -> list[Message]:
    """What support staff see privately: the message, the cited clauses, and the draft as one block.

    `original`: the message as the user wrote it (bot.slack_text's `display`; echoed escaped).
    """
    lang = answer.lang
    blocks: list[dict] = [section(escape(t(lang, "shortcut_intro")))]
    quoted = "\n".join(">" + line for line in shown_text(original, lang).split("\n"))
    blocks.append(section(f"*{escape(t(lang, 'shortcut_original'))}:*\n{quoted}"))
    blocks.append(section(escape(answer.lead)))
    blocks.extend(citation_blocks(answer))
    blocks.extend(related_blocks(answer))
    line = contact_line(answer)
    if line:
        blocks.append(section(line))
    # The draft is one code block so it copies in one go; cut (visibly) if Slack's limit forces it.
    title = f"*{escape(t(lang, 'shortcut_draft'))}*\n"
    draft = escaped_within(reply_draft(answer), SECTION_TEXT_LIMIT - len(title) - 6, t(lang, "truncated"))
    blocks.append(section(f"{title}```{draft}```"))
    if answer_id:
        # Support staff judge the customer's message themselves: forwarding it is always offered.
        buttons = [button(t(lang, "forward"), ACTION_FORWARD, answer_id, style="primary")]
        buttons.append(button(t(lang, "up"), ACTION_FEEDBACK_UP, answer_id))
        buttons.append(button(t(lang, "down"), ACTION_FEEDBACK_DOWN, answer_id))
        blocks.append({"type": "actions", "block_id": "answer_actions", "elements": buttons})
    return split_messages(fallback_text(answer), blocks, lang)


# -- App Home ----------------------------------------------------------------------------

def home_view(company: str | None, revision: str | None, contact_email: str | None) -> dict:
    """The App Home tab: what the bot does, how to ask, example questions, where to write."""
    who = company or "当社"
    date = iso_to_ja_date(revision)
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": "個人情報保護方針アシスタント", "emoji": True}},
        section(escape(f"{who}の個人情報保護方針（プライバシーポリシー）についての質問に、条文をそのまま引用してお答えします。"
                       "方針に定めのない質問には推測で答えず、お問い合わせ窓口をご案内します。")),
        {"type": "divider"},
        section("*使い方*\n"
                "• チャンネルで *@policybot 質問* とメンション → スレッドで回答します\n"
                "• このアプリに DM で質問 → そのまま回答します\n"
                "• `/policy 質問` → あなたにだけ回答（「チャンネルに共有」ボタンで共有できます）\n"
                "• メッセージのショートカット *ポリシーで回答* → お客様への返信案（敬語・条文引用つき）を作成します"),
        section("*質問の例*\n" + "\n".join(f"• {escape(e)}" for e in EXAMPLES_JA + EXAMPLES_EN)),
        {"type": "divider"},
        section("*How to use (English)*\n"
                "Mention *@policybot* with your question in a channel (answer in the thread), send a DM, "
                "or use `/policy question` for a private answer. Answers quote the policy in the original Japanese."),
    ]
    facts = []
    if date:
        facts.append(escape(f"対象: {who}個人情報保護方針（{date}改定）"))
    if contact_email:
        facts.append(f"お問い合わせ窓口: <mailto:{escape(contact_email)}|{escape(contact_email)}>")
    if facts:
        blocks.append(context(" ｜ ".join(facts)))
    return {"type": "home", "blocks": blocks}


__all__ = [
    "ACTION_FEEDBACK_DOWN", "ACTION_FEEDBACK_UP", "ACTION_FORWARD", "ACTION_SHARE", "COMMAND_POLICY",
    "MAX_QUESTION_CHARS", "Message", "SHORTCUT_ASK_POLICY", "answer_blocks", "answer_messages", "escape",
    "fallback_text", "home_view", "notice_message", "reply_draft", "shortcut_messages", "unescape", "user_ref",
]
