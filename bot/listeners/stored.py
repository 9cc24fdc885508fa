"""An answer as the bot showed it, read back from the answer log for the buttons under it.

Forward and share act on what the asker saw, so they read the stored answer and its record
(bot/record.py) and never ask the answerer again: the index may have been rebuilt since, and
answering again would cost a model pass for nothing.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Callable

from bot.answer import Answer, citation_of
from bot.listeners.deps import AppDeps
from bot.logging_setup import log_event
from bot.record import AnswerRecord, RecordError
from bot.slack_store import StoredAnswer


def stored_answer(deps: AppDeps, stored: StoredAnswer) -> Answer:
    """The answer as it was shown, with the record of how it was decided. A row kept before
    records has none (its citations then stand in for the clauses looked at); a row without its
    answer document is rebuilt from the row's own fields: its question, status and cited clauses
    (as the live index has them now)."""
    record = None
    if stored.record is not None:
        try:
            record = AnswerRecord.from_dict(stored.record)
        except RecordError as exc:
            log_event(deps.log, "slack.record_unreadable", logging.WARNING, answer_id=stored.id, error=str(exc))
    if stored.answer is not None:
        return _with_clauses_looked_at(deps, dataclasses.replace(stored.answer, record=record))
    clause = clause_lookup(deps)
    facts = deps.answerer.facts
    citations = tuple(citation_of(c, 0.0) for c in map(clause, stored.citation_ids) if c is not None)
    reason = record.reason if record is not None else None
    return Answer(question=stored.question, status=stored.status, lang=stored.lang, citations=citations,
                  contact=None, revision=facts.revision, company=facts.company_name, reason=reason, record=record)


def _with_clauses_looked_at(deps: AppDeps, answer: Answer) -> Answer:
    """An escalation stored before its contact named the clauses looked at (its mailto: draft was
    stored instead): they are the record's nearest clauses, as the live index labels them."""
    contact = answer.contact
    if contact is None or contact.clause_labels or not answer.escalated or answer.record is None:
        return answer
    clause = clause_lookup(deps, answer.revision)
    labels = tuple(c.label for c in map(clause, answer.record.nearest) if c is not None)
    return dataclasses.replace(answer, contact=dataclasses.replace(contact, clause_labels=labels))


def clause_lookup(deps: AppDeps, revision: str | None = None) -> Callable[[str], object | None]:
    """Clause by id in the live index; None for an id a newer revision no longer has.

    With `revision` (the policy revision an answer was given under): None for every id when the
    live index holds another revision — after a revision the same id may name another clause
    (an inserted item renumbers the ones after it), and quoting that one would mislead."""
    if revision is not None and revision != deps.answerer.facts.revision:
        return lambda clause_id: None
    return {c.id: c for c in deps.answerer.searcher.clauses}.get
