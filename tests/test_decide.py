"""bot/decide.py on hand-made retrieval results: which hits become citations, and when to answer.

The clauses are the real policy's; the scores are set by hand so each rule is tested alone.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot import decide
from index.policy import load
from index.search import Hit, SearchResult, evidence

REPO = Path(__file__).resolve().parents[1]
CLAUSES = {c.id: c for c in load(REPO / "policy_text" / "privacy_policy.txt").clauses()}
CONFIDENT = {"aux_max": 0.65, "reach": 1.0, "closeness": 1.0, "lex_max": 5.0, "english": 0.0}
OFF_TOPIC = {"aux_max": 0.1, "reach": 0.0, "closeness": 0.5, "lex_max": 0.0, "english": 0.0}


def result(scored: list[tuple[str, float, float, float]], signals: dict = CONFIDENT, lang: str = "ja") -> SearchResult:
    """Hits in the given order (best first) from (clause id, dense, aux, BM25), plus filler units
    that score low, as every real result ranks all units."""
    named = {cid for cid, *_ in scored}
    filler = [(cid, 0.70, 0.05, 0.0) for cid in CLAUSES if cid not in named]
    rows = scored + filler
    support = evidence(*(np.array([row[k] for row in rows]) for k in (1, 2, 3)), lang)
    # fused scores close together at the top, in the given order
    hits = tuple(Hit(CLAUSES[cid], 1.0 - 0.01 * i, dense, aux, lexical, float(support[i]))
                 for i, (cid, dense, aux, lexical) in enumerate(rows))
    return SearchResult("q", lang, hits, dict(signals))


def cited(res: SearchResult) -> list[str]:
    return [h.clause.id for h in decide.decide(res).hits]


def test_a_clear_answer_is_cited_alone() -> None:
    res = result([("3-1-4", 0.90, 0.60, 4.0), ("8-3", 0.76, 0.15, 0.4), ("7-1", 0.75, 0.12, 0.2)])
    assert cited(res) == ["3-1-4"]


def test_a_runner_up_with_comparable_evidence_is_cited_too() -> None:
    res = result([("5", 0.90, 0.60, 4.0), ("7-1", 0.89, 0.55, 3.5), ("9-1", 0.74, 0.10, 0.1)])
    assert cited(res) == ["5", "7-1"]


def test_evidence_weighs_retrievers_as_the_fusion_does() -> None:
    """English fusion ignores e5 and halves BM25: a runner-up without cross-lingual support is
    evidence for a Japanese question, not for an English one."""
    scored = [("5", 0.90, 0.60, 4.0), ("7-1", 0.90, 0.10, 4.0)]
    assert cited(result(scored, lang="ja")) == ["5", "7-1"]
    assert cited(result(scored, lang="en")) == ["5"]


def test_a_clause_inside_one_already_cited_is_skipped() -> None:
    res = result([("4-1", 0.90, 0.60, 4.0), ("4-1-2", 0.89, 0.59, 3.9), ("5", 0.88, 0.58, 3.8)])
    assert cited(res) == ["4-1", "5"]


def test_two_alike_items_of_one_paragraph_are_cited_as_the_paragraph() -> None:
    res = result([("4-1-1", 0.90, 0.60, 4.0), ("4-1-2", 0.89, 0.59, 3.9), ("4-1", 0.88, 0.58, 3.8)])
    hits = decide.decide(res).hits
    assert [h.clause.id for h in hits] == ["4-1"]


def test_at_most_max_citations() -> None:
    res = result([(cid, 0.90, 0.60, 4.0) for cid in ("2-2", "5", "7-1", "9-1", "10")])
    assert len(cited(res)) == decide.MAX_CITATIONS


def test_confidence_follows_the_signals() -> None:
    assert decide.confidence(CONFIDENT) > decide.THRESHOLD > decide.confidence(OFF_TOPIC)
    weaker = dict(CONFIDENT, reach=0.2, closeness=0.6)
    assert decide.confidence(weaker) < decide.confidence(CONFIDENT)


def test_an_escalation_keeps_the_nearest_clauses_for_the_hand_off() -> None:
    res = result([("3-1-4", 0.90, 0.60, 4.0)], signals=OFF_TOPIC)
    decision = decide.decide(res)
    assert decision.answered is False
    assert decision.signals["nearest"] == ["3-1-4"]


@pytest.mark.parametrize("signals", [{}, {"aux_max": 0.5}])
def test_missing_signals_count_as_zero(signals) -> None:
    assert 0.0 <= decide.confidence(signals) <= 1.0
