"""Build the hand-off to the contact window: subject, plain-text body, e-mail message, mailto: link.

Pure functions of their inputs (no I/O), so that the Slack modal, the CLI and the outbox all
send exactly the same text, and so that what the user typed can never reach a header unescaped.
"""
from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Callable

from bot.answer import MAX_QUESTION_CHARS, Answer, clean_question, detect_language
from bot.render.mailto import MAILTO_MAX_CHARS, mailto_prefix_within, mailto_url
from bot.text import t

JST = timezone(timedelta(hours=9), "JST")  # the company's time zone; Japan has no DST
SUBJECT_EXCERPT_CHARS = 40
CITATION_EXCERPT_CHARS = 160
MAX_CONTEXT_CHARS = 3000
_REF_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I/L/O/U to misread
_REF_PATTERN = re.compile(r"^PB-\d{8}-[0-9A-HJKMNP-TV-Z]{4}$")
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$")


class HandoffError(ValueError):
    """The hand-off cannot be built (no contact address, empty question); the message says what to do.

    `code` names the problem so adapters can word it for their medium (a modal field error).
    """

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.code = code


# HandoffError codes
EMPTY_QUESTION = "empty_question"
QUESTION_TOO_LONG = "question_too_long"
CONTEXT_TOO_LONG = "context_too_long"
BAD_REPLY_TO = "bad_reply_to"
NO_CONTACT = "no_contact"
BAD_CONTACT = "bad_contact"


@dataclass(frozen=True)
class CitedClause:
    """A clause the assistant found, as the contact window should see it."""

    id: str
    label: str
    text: str


@dataclass(frozen=True)
class Handoff:
    """One request to the contact window. `subject` and `body` are derived, so a new `ref` re-renders them."""

    ref: str
    to_addr: str
    question: str
    lang: str  # "ja" | "en": the asker's language, used for subject and body
    asker: str  # Slack user id ("U…") or "cli"
    permalink: str | None = None
    context: str | None = None  # what the asker added in the modal
    reply_to: str | None = None  # a validated address, or None
    asker_name: str | None = None
    citations: tuple[CitedClause, ...] = ()
    answered: bool = False  # True when the citations answered the question (rights requests)
    revision: str | None = None
    company: str | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))

    @property
    def citation_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.citations)

    def to_json(self) -> dict:
        """Everything needed to re-render the hand-off later (stored in the outbox row)."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["citations"] = [{"id": c.id, "label": c.label, "text": c.text} for c in self.citations]
        data["created_at"] = self.created_at.astimezone(timezone.utc).isoformat()
        return data

    @classmethod
    def from_json(cls, data: dict) -> "Handoff":
        values = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        values["citations"] = tuple(CitedClause(**c) for c in data.get("citations") or ())
        values["created_at"] = datetime.fromisoformat(data["created_at"])
        return cls(**values)

    @property
    def subject(self) -> str:
        return build_subject(self.ref, self.question, self.lang)

    @property
    def body(self) -> str:
        return build_body(self)


def new_ref(now: datetime | None = None, token: Callable[[int], int] = secrets.randbelow) -> str:
    """A short reference number people can read out on the phone: PB-20261125-7F3K (date in JST)."""
    day = (now or datetime.now(timezone.utc)).astimezone(JST).strftime("%Y%m%d")
    return f"PB-{day}-" + "".join(_REF_ALPHABET[token(32)] for _ in range(4))


def is_ref(text: str) -> bool:
    return bool(_REF_PATTERN.match(text or ""))


def valid_email(address: str | None) -> bool:
    """A plain addr-spec (no display name, no comments, no whitespace): safe to put in a header."""
    return bool(address) and len(address) <= 254 and bool(_EMAIL.match(address))


def one_line(text: str, limit: int) -> str:
    """A header-safe excerpt: no control or line/paragraph separator characters, one line, capped."""
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp") else ch
                   for ch in text)
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def build_subject(ref: str, question: str, lang: str) -> str:
    """Fixed template + a capped one-line excerpt of the question (never the raw question)."""
    excerpt = one_line(question, SUBJECT_EXCERPT_CHARS)
    prefix = f"[{ref}] " + t("handoff.subject", lang)
    return f"{prefix}: {excerpt}" if excerpt else prefix


def _excerpt(text: str, limit: int) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def build_body(h: Handoff, *, compact: bool = False) -> str:
    """Plain-text body in the asker's language.

    `compact` is the short form for mailto: drafts the asker sends from their own mailer:
    no greeting, no reply address, clause labels without their text (URLs are short).
    """
    lang = h.lang
    lines: list[str] = []
    if not compact:
        company = t("handoff.greeting_company", lang, company=h.company) if h.company else ""
        lines += [t("handoff.greeting", lang, company=company), "", t("handoff.intro", lang)]
    lines += [f"{t('handoff.ref', lang)}: {h.ref}", "", t("handoff.question", lang), h.question.strip(), ""]
    if h.context and h.context.strip():
        lines += [t("handoff.context", lang), h.context.strip(), ""]
    if not compact:
        lines += [t("handoff.reply", lang), h.reply_to or t("handoff.no_reply", lang), ""]
        if h.asker == "cli":
            who = t("handoff.asker_cli", lang)
        else:
            who = t("handoff.asker_slack", lang, who=f"{h.asker_name} ({h.asker})" if h.asker_name else h.asker)
        lines += [t("handoff.asker", lang), who, ""]
    if h.permalink:
        lines += [t("handoff.permalink", lang), h.permalink, ""]
    if h.citations:
        lines.append(t("handoff.answered" if h.answered else "handoff.nearest", lang, revision=h.revision or "?"))
        for c in h.citations:
            lines.append(f"- {c.label}")
            if not compact and c.text:
                lines.append(f"  {_excerpt(c.text, CITATION_EXCERPT_CHARS)}")
        lines.append("")
    if not compact:
        lines.append(t("handoff.footer", lang))
    return "\n".join(lines).rstrip("\n") + "\n"


def build_message(h: Handoff, sender: str, subject: str | None = None, body: str | None = None) -> EmailMessage:
    """The e-mail to send. Subject/body default to the handoff's; the outbox passes what it stored.

    Only fixed text, validated addresses and the one-line excerpt reach headers; the email
    package refuses CR/LF in header values as a second line of defence.
    """
    if not valid_email(h.to_addr):
        raise HandoffError(f"The contact address {h.to_addr!r} is not a valid e-mail address; "
                           "check 第10条 of the policy or POLICYBOT_CONTACT_EMAIL.", BAD_CONTACT)
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = h.to_addr
    msg["Subject"] = one_line(subject if subject is not None else h.subject, 200)
    if h.reply_to and valid_email(h.reply_to):
        msg["Reply-To"] = h.reply_to
    msg["Date"] = format_datetime(h.created_at.astimezone(JST))
    domain = sender.rpartition("@")[2] or "localhost"
    msg["Message-ID"] = f"<{h.ref}.{secrets.token_hex(6)}@{domain}>"  # short: never folded
    msg["X-PolicyBot-Ref"] = h.ref
    msg.set_content(body if body is not None else h.body, charset="utf-8")
    return msg


def mailto_for(h: Handoff, limit: int = MAILTO_MAX_CHARS, subject: str | None = None) -> str:
    """A mailto: link that opens a prefilled draft (compact body), at most `limit` chars long.

    When it does not fit, the added context is dropped and the question shortened, with a note;
    when even that leaves the question less than a third of the link, the list of clauses goes
    too (the contact window finds them by the reference number): the question comes first.
    """
    subject = one_line(subject if subject is not None else h.subject, 200)
    url = mailto_url(h.to_addr, subject, build_body(h, compact=True))
    if len(url) <= limit:
        return url
    marker = t("handoff.truncated", h.lang)
    bare = replace(h, question=marker, context=None)
    budget = limit - len(mailto_url(h.to_addr, subject, build_body(bare, compact=True)))
    if budget < limit // 3:
        bare = replace(bare, citations=())
        budget = limit - len(mailto_url(h.to_addr, subject, build_body(bare, compact=True)))
    question = mailto_prefix_within(h.question.strip(), budget) + marker
    url = mailto_url(h.to_addr, subject, build_body(replace(bare, question=question), compact=True))
    if len(url) <= limit:
        return url
    return mailto_url(h.to_addr, subject[:60], f"{h.ref}\n{marker}")


def _tidy(text: str) -> str:
    """clean_question, and no trailing blanks on lines (a pasted \\r\\n leaves one)."""
    return "\n".join(line.rstrip() for line in clean_question(text).split("\n")).strip()


def cited_clauses(answer: Answer, clause_lookup: Callable[[str], object] | None = None) -> tuple[CitedClause, ...]:
    """The clauses the contact window sees: those the answer quoted, else (with `clause_lookup`)
    up to three of the nearest clauses the assistant looked at; ids the lookup lacks are skipped."""
    if answer.citations or clause_lookup is None:
        return tuple(CitedClause(c.id, c.label, c.text) for c in answer.citations)
    nearest = (clause_lookup(clause_id) for clause_id in answer.nearest[:3])
    return tuple(CitedClause(c.id, c.label, c.text) for c in nearest if c is not None)


def handoff_from_answer(answer: Answer, asker: str, permalink: str | None = None, *,
                        question: str | None = None, context: str | None = None, reply_to: str | None = None,
                        asker_name: str | None = None, to_addr: str | None = None,
                        clause_lookup: Callable[[str], object] | None = None,
                        now: datetime | None = None) -> Handoff:
    """The hand-off for an answer the asker wants forwarded.

    `question` is the (possibly edited) text from the modal; it defaults to the answer's question.
    Escalated answers quote no clauses; pass `clause_lookup` (e.g. `answerer.searcher.clause`)
    to include the nearest clauses the assistant looked at, which helps the contact window.
    Raises HandoffError when there is nothing to send or nowhere to send it.
    """
    text = _tidy(question if question is not None else answer.question)
    if not text:
        raise HandoffError("The question is empty: write what you want to ask the contact window.",
                           EMPTY_QUESTION)
    if len(text) > MAX_QUESTION_CHARS:
        raise HandoffError(f"The question is too long (over {MAX_QUESTION_CHARS:,} characters); shorten it.",
                           QUESTION_TOO_LONG)
    address = to_addr or (answer.contact.email if answer.contact else None)
    if not address:
        raise HandoffError("No contact address is known: the policy's 第10条 has no e-mail address "
                           "and POLICYBOT_CONTACT_EMAIL is not set.", NO_CONTACT)
    if not valid_email(address):
        raise HandoffError(f"The contact address {address!r} is not a valid e-mail address.", BAD_CONTACT)
    reply = (reply_to or "").strip() or None
    if reply is not None and not valid_email(reply):
        raise HandoffError("The reply address is not a valid e-mail address (example: name@example.com).",
                           BAD_REPLY_TO)
    extra = _tidy(context or "") or None
    if extra and len(extra) > MAX_CONTEXT_CHARS:
        raise HandoffError(f"The added context is too long (over {MAX_CONTEXT_CHARS:,} characters); shorten it.",
                           CONTEXT_TOO_LONG)
    citations = cited_clauses(answer, clause_lookup)
    created = now or datetime.now(timezone.utc)
    return Handoff(ref=new_ref(created), to_addr=address, question=text,
                   lang=answer.lang if text == clean_question(answer.question) else detect_language(text),
                   asker=asker, permalink=permalink, context=extra, reply_to=reply, asker_name=asker_name,
                   citations=citations, answered=bool(answer.citations) and not answer.escalated,
                   revision=answer.revision, company=answer.company, created_at=created)
