"""Question → cited Answer. Pure: no Slack, no I/O beyond the searcher it is handed, no wording.

This is where a question becomes an answer: retrieve (index.search), decide whether the
policy really answers it (confidence), follow cross-references to the contact window.
The Answer holds facts only (status, reason, language, verbatim clauses, the contact window);
adapters word it for their medium (bot/render: plain text, JSON, mailto: drafts;
bot/slack_render: Slack), so this module imports no catalog and no renderer
(tests/test_core_imports.py). Every Answer carries its AnswerRecord (bot/record.py): why it
was decided, on which evidence, so that nothing downstream has to ask again.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Sequence

from bot import decide, followup
from bot.record import AnswerRecord, Evidence
from index.search import Searcher, SearchResult, scrub_noise

MAX_QUESTION_CHARS = 4000

ANSWERED = "answered"
ESCALATED = "escalated"

# Why an answer was escalated; adapters word it for their medium (bot/render/words.py).
REASON_NOT_COVERED = "not_covered"
# On the policy's topic, but asks for a figure (a period, an amount) no clause states (bot/figures.py).
REASON_NOT_STATED = "not_stated"
REASON_EMPTY = "empty"
REASON_TOO_LONG = "too_long"


@dataclass(frozen=True)
class Citation:
    id: str
    label: str
    article: int | None
    paragraph: int | None
    item: int | None
    title: str | None
    text: str
    score: float
    lead: str | None = None  # an item's paragraph lead (柱書), shown as muted context


@dataclass(frozen=True)
class Contact:
    """The contact window the asker should write to, and what a message to it names."""

    email: str
    # Labels of the clauses found for the question (quoted, or for an escalation looked at), in
    # order: what a draft to the window lists (bot/render/mailto.py answer_mailto).
    clause_labels: tuple[str, ...] = ()


@dataclass(frozen=True)
class Answer:
    question: str
    status: str  # ANSWERED | ESCALATED
    lang: str  # "ja" | "en": the asker's language, which adapters word the answer in
    citations: tuple[Citation, ...]
    contact: Contact | None
    revision: str | None  # ISO date of the policy revision quoted
    company: str | None
    reason: str | None = None  # set on escalations
    confidence: float = 0.0
    # How it was decided (bot/record.py). None only for an answer read back from storage written
    # before records were kept, or built by hand.
    record: AnswerRecord | None = None
    # Escalations only: the nearest clauses, offered as related reading — never as the answer.
    related: tuple[Citation, ...] = ()
    # Follow-ups: the earlier question of the conversation this answer read the question with
    # (None: the question was answered on its own). Shown to the asker, so a wrong reading shows.
    context_question: str | None = None

    @property
    def escalated(self) -> bool:
        return self.status == ESCALATED

    @property
    def nearest(self) -> tuple[str, ...]:
        """The clauses the decision settled on (quoted, or for an escalation looked at); without a
        record, what the answer shows: its citations, else its related reading."""
        if self.record is not None:
            return self.record.nearest
        return tuple(c.id for c in self.citations or self.related)


_JA_CHARS = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uff66-\uff9f]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def detect_language(text: str) -> str:
    """'ja' when the text has Japanese script, 'en' when it is mostly Latin words."""
    japanese = len(_JA_CHARS.findall(text))
    latin = sum(len(w) for w in _LATIN_WORD.findall(text))
    if japanese == 0 and latin > 0:
        return "en"
    return "ja" if japanese * 3 >= latin else "en"


def clean_question(text: str) -> str:
    """Normalise what adapters hand in: NFC, no control characters, collapsed whitespace."""
    text = unicodedata.normalize("NFC", text or "")
    text = "".join(ch if ch in "\n\t" or unicodedata.category(ch)[0] != "C" else " " for ch in text)
    return re.sub(r"[ \t\u3000]+", " ", text).strip()


def answer(question: str, searcher: Searcher, contact_email: str | None = None, *,
           search_text: str | None = None, history: Sequence[str] = ()) -> Answer:
    """Answer `question` from the policy behind `searcher`.

    `contact_email` overrides the address read from the policy (POLICYBOT_CONTACT_EMAIL).
    `search_text`: the words to search, when an adapter has removed its medium's markup
    (chat mentions, emoji codes) from what the asker wrote; `question` stays what is shown
    back and sent to the contact window.
    `history`: the earlier questions of the conversation, oldest first; the question may be
    read with one of them when that is clearly more confident (bot/followup.py), and the
    Answer then names it in `context_question`.
    """
    text = clean_question(question if search_text is None else search_text)
    facts = searcher.facts
    email = contact_email or facts.contact_email
    if max(len(text), len(clean_question(question))) > MAX_QUESTION_CHARS:  # refused before any scan
        lang = detect_language(text[:MAX_QUESTION_CHARS])
        return _escalation(question, lang, REASON_TOO_LONG, searcher, email, (),
                           record=_record(ESCALATED, REASON_TOO_LONG, lang, facts.revision))
    # What is searched, and what tells the language: no addresses, numbers, URLs or markup
    # (<p>, <div class=…>), and no gap where they were (a trailing blank moves the embedding).
    words = clean_question(scrub_noise(text)) or text
    lang = detect_language(words) if text else "ja"
    if not text:
        return _escalation(question, lang, REASON_EMPTY, searcher, email, (),
                           record=_record(ESCALATED, REASON_EMPTY, lang, facts.revision))

    result: SearchResult = searcher.search(words, lang=lang)
    reading = followup.choose(decide.decide(result), words, _earlier_questions(history),
                              lambda text: _read(text, searcher))
    decision, context = reading.decision, reading.context
    citations = tuple(citation_of(h.clause, h.score) for h in decision.hits)
    if not decision.answered:
        related = tuple(citation_of(h.clause, h.score) for h in decision.related)
        reason = REASON_NOT_STATED if decision.unstated else REASON_NOT_COVERED
        return _escalation(question, lang, reason, searcher, email, citations,
                           confidence=decision.confidence, related=related,
                           record=_record(ESCALATED, reason, lang, facts.revision, decision, context))

    # Follow cross-references: when the best clause sends the reader to the contact window (it is
    # in 第10条, or its article points there: 第8条 「第10条に定める…窓口」), the contact block comes
    # along and `contact` is set. Only the best clause counts: a runner-up that happens to mention
    # 第10条 is not what was asked.
    contact_id = searcher.contact_clause_id
    sends_to_contact = searcher.sends_to_contact(decision.hits[0].clause.id)
    if sends_to_contact and contact_id and all(c.id != contact_id for c in citations):
        citations = citations + (citation_of(searcher.clause(contact_id), 0.0),)
    contact = _contact(email, citations) if sends_to_contact and email else None
    return Answer(
        question=question, status=ANSWERED, lang=lang, citations=citations, contact=contact,
        revision=facts.revision, company=facts.company_name, confidence=decision.confidence, context_question=context,
        record=_record(ANSWERED, None, lang, facts.revision, decision, context))


def _record(status: str, reason: str | None, lang: str, revision: str | None,
            decision: decide.Decision | None = None, context: str | None = None) -> AnswerRecord:
    """The record of an answer: the decision and the evidence it was made on (none for a
    question refused before any search)."""
    if decision is None:
        return AnswerRecord(status=status, reason=reason, lang=lang, revision=revision)
    return AnswerRecord(
        status=status, reason=reason, lang=lang, revision=revision, features=decision.features,
        hits=tuple(Evidence(h.clause.id, h.score, h.dense, h.aux, h.lexical, h.phrase) for h in decision.ranked),
        ranking=decision.ranking, nearest=decision.nearest, related=tuple(h.clause.id for h in decision.related),
        read_with_context=context is not None)


def _read(text: str, searcher: Searcher) -> decide.Decision:
    """Search and decide `text` (a question read with an earlier turn) as `answer` does."""
    words = clean_question(scrub_noise(clean_question(text))) or clean_question(text)
    return decide.decide(searcher.search(words, lang=detect_language(words)))


def _earlier_questions(history: Sequence[str]) -> list[str]:
    """The earlier turns as questions: cleaned, without empty ones or ones too long to be one."""
    cleaned = (clean_question(h) for h in history if isinstance(h, str))
    return [h for h in cleaned if h and len(h) <= MAX_QUESTION_CHARS]


def citation_of(clause, score: float) -> Citation:
    """A clause of the index as an answer quotes it (verbatim, with its lead), at `score`."""
    return Citation(clause.id, clause.label, clause.article, clause.paragraph, clause.item, clause.title,
                    clause.text, float(score), clause.lead)


def _escalation(question: str, lang: str, reason: str, searcher: Searcher, email: str | None,
                nearest: tuple[Citation, ...], *, record: AnswerRecord, confidence: float = 0.0,
                related: tuple[Citation, ...] = ()) -> Answer:
    """An escalation quotes nothing as an answer: it routes the question to the contact window.

    The nearest clauses are kept only as context for the hand-off e-mail, never shown as the answer.
    """
    facts = searcher.facts
    contact = _contact(email, nearest) if email else None
    return Answer(
        question=question, status=ESCALATED, lang=lang, citations=(), contact=contact, revision=facts.revision,
        company=facts.company_name, reason=reason, confidence=confidence, record=record, related=related)


def _contact(email: str, citations: tuple[Citation, ...]) -> Contact:
    return Contact(email=email, clause_labels=tuple(c.label for c in citations))
