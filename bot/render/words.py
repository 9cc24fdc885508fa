"""The sentences that frame an answer in every medium: the lead and the follow-up note."""
from __future__ import annotations

from bot.answer import ANSWERED, MAX_QUESTION_CHARS, Answer
from bot.text import t


def answer_lead(answer: Answer) -> str:
    """The lead sentence of `answer`: worded here, at the edge, from the facts the core decided."""
    return lead_sentence(answer.lang, answer.status, answer.reason, answer.company)


def lead_sentence(lang: str, status: str, reason: str | None, company: str | None) -> str:
    """One line in the asker's language: what the quotes below are, or why there are none.

    `status` and `reason` are bot.answer's codes ("answered"; "empty", "too_long", "not_covered", "not_stated").
    """
    who = company or t("answer.company_default", lang)
    key = "answer.lead.answered" if status == ANSWERED else f"answer.lead.{reason or 'not_covered'}"
    return t(key, lang, company=who, limit=MAX_QUESTION_CHARS)


def context_line(lang: str, earlier: str | None) -> str:
    """The line that says which earlier question a follow-up was read with (CLI, Slack, e-mail)."""
    return t("answer.context_line", lang, earlier=earlier or "")
