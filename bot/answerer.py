"""The one object adapters hold: answers questions against whichever index is current.

Adapters (Slack, CLI, hand-off) depend on this, not on the searcher, so that a new index
can be swapped in (hot reload) without them noticing.
"""
from __future__ import annotations

from typing import Callable, Sequence

from bot.answer import Answer, answer
from index.search import PolicyFacts, Searcher


class Answerer:
    """Thread-safe as long as the provider returns immutable searchers (it does)."""

    def __init__(self, searcher_provider: Callable[[], Searcher], contact_email_override: str | None = None):
        self._provider = searcher_provider
        self._contact_override = contact_email_override

    @classmethod
    def fixed(cls, searcher: Searcher, contact_email_override: str | None = None) -> "Answerer":
        return cls(lambda: searcher, contact_email_override)

    @property
    def searcher(self) -> Searcher:
        return self._provider()

    @property
    def facts(self) -> PolicyFacts:
        return self._provider().facts

    @property
    def contact_email(self) -> str | None:
        return self._contact_override or self._provider().facts.contact_email

    def answer(self, question: str, *, search_text: str | None = None, history: Sequence[str] = ()) -> Answer:
        return answer(question, self._provider(), contact_email=self._contact_override, search_text=search_text,
                      history=history)
