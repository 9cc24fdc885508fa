"""mailto: links: RFC 6068 encoding within mail clients' length limit, and an answer's draft.

Shared by the answer's contact link and the hand-off's draft (bot/handoff/compose.py), so
that both encode and cut the same way. The core (bot/answer.py) names the contact window and
the clauses found; the draft is written here.
"""
from __future__ import annotations

from typing import Iterable
from urllib.parse import quote

from bot.answer import Answer
from bot.text import t

MAILTO_MAX_CHARS = 1900  # mail clients and browsers refuse or truncate mailto: URLs over ~2,000 chars


def mailto_url(email: str, subject: str, body: str) -> str:
    """A mailto: link with subject and body, percent-encoded, line breaks as CRLF (RFC 6068)."""
    return f"mailto:{email}?subject={quote(subject, safe='')}&body={_encoded_body(body)}"


def mailto_prefix_within(text: str, budget: int) -> str:
    """The longest prefix of `text` that takes at most `budget` characters in a mailto: body.

    Percent-encoding makes a kanji nine characters long, so the cut is searched, not computed.
    """
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if len(_encoded_body(text[:mid])) <= budget:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo]


def _encoded_body(body: str) -> str:
    return quote(body.replace("\r\n", "\n").replace("\n", "\r\n"), safe="")


def question_mailto(email: str, question: str, lang: str, labels: Iterable[str], context: str | None = None) -> str:
    """The draft an asker sends the contact window: their question, the earlier question a
    follow-up was read with, and the labels of the clauses found; cut to fit when long."""
    subject = t("answer.mail_subject", lang)
    body = f"{t('answer.mail_question', lang)}\n{question.strip()}\n"
    if context:
        body += f"\n{t('answer.mail_context', lang)}\n{context}\n"
    labels = list(labels)
    if labels:
        body += f"\n{t('answer.mail_clauses', lang)}\n" + "\n".join(f"- {label}" for label in labels)
    mailto = mailto_url(email, subject, body)
    if len(mailto) > MAILTO_MAX_CHARS:
        budget = MAILTO_MAX_CHARS - len(mailto_url(email, subject, "…"))
        mailto = mailto_url(email, subject, mailto_prefix_within(body, budget) + "…")
    return mailto


def answer_mailto(answer: Answer) -> str | None:
    """The draft link of an answer with a contact window (None without one): the question, the
    earlier question a follow-up was read with, and the clauses found."""
    if answer.contact is None:
        return None
    return question_mailto(answer.contact.email, answer.question, answer.lang, answer.contact.clause_labels,
                           answer.context_question)
