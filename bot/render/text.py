"""Plain-text rendering of an Answer: the terminal (`ask`, `chat`) and the JSON `answer` field."""
from __future__ import annotations

from bot.answer import Answer
from bot.render.mailto import answer_mailto
from bot.render.words import answer_lead, context_line
from bot.text import t


def render_text(answer: Answer) -> str:
    """The answer as plain text: lead, quoted clauses, related reading, contact, revision."""
    lang = answer.lang
    lines = [answer_lead(answer)]
    if answer.context_question:
        lines.append(context_line(lang, answer.context_question))
    for citation in answer.citations:
        lines.append("")
        lines.append(f"■ {citation.label}")
        if citation.lead:
            lines.append(f"  （{citation.lead}）")
        lines.extend(f"  {line}" for line in citation.text.splitlines())
    if answer.related:
        lines.append("")
        lines.append(t("answer.related", lang))
        lines.extend(f"  □ {c.label}" for c in answer.related)
    if answer.contact:
        lines.append("")
        lines.append(t("answer.contact", lang, email=answer.contact.email))
    if answer.revision and (answer.citations or answer.related):
        lines.append("")
        lines.append(t("answer.revision", lang, revision=answer.revision))
    return "\n".join(lines)


def ask_text(answer: Answer) -> str:
    """What `policybot ask` prints: the answer, then the mail draft link when there is a window."""
    text = render_text(answer)
    if answer.contact:
        text += f"\n\n{t('cli.mail_draft', answer.lang)}: {answer_mailto(answer)}"
    return text


def chat_reply(answer: Answer) -> str:
    """What `policybot chat` prints for one question: what `ask` prints (it read 「mailto: mailto:…」)."""
    return ask_text(answer)


def bilingual(key: str, **fields: object) -> str:
    """'日本語 / English': for the terminal before the user's language is known."""
    return f"{t(key, 'ja', **fields)} / {t(key, 'en', **fields)}"


def chat_greeting(company: str | None, revision: str | None, new_command: str) -> str:
    """The lines `policybot chat` opens with."""
    return "\n".join([t("cli.chat_title", "ja", company=company or "", revision=revision or "?"),
                      bilingual("cli.chat_prompt"), bilingual("cli.chat_followups", new=new_command)])
