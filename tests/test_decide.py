"""bot/decide.py on hand-made retrieval results: which hits become citations, and when to answer.

The clauses are the real policy's; the scores are set by hand so each rule is tested alone.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from bot import decide
from index.policy import load
from bot.record import Features
from index.search import Hit, RetrievalSignals, SearchResult, fuse

REPO = Path(__file__).resolve().parents[1]
CLAUSES = {c.id: c for c in load(REPO / "policy_text" / "privacy_policy.txt").clauses()}
CONFIDENT = RetrievalSignals(aux_max=0.65, dense_max=0.9, reach=1.0, closeness=1.0, lex_max=5.0, english=0.0)
OFF_TOPIC = RetrievalSignals(aux_max=0.1, dense_max=0.8, reach=0.0, closeness=0.5, lex_max=0.0, english=0.0)
NEAR_MISS = RetrievalSignals(aux_max=0.3, dense_max=0.86, reach=0.3, closeness=0.7, lex_max=3.0, english=0.0)


def result(scored: list[tuple[str, float, float, float]], signals: RetrievalSignals = CONFIDENT,
           lang: str = "ja") -> SearchResult:
    """Hits ranked by the real fusion from (clause id, dense, aux, BM25), plus filler units that
    score low, as every real result ranks all units."""
    named = {cid for cid, *_ in scored}
    others = [cid for cid in CLAUSES if cid not in named]
    # filler spread like real scores: fusion standardises each retriever over all units
    rows = scored + [(cid, 0.70 + 0.01 * (i % 5), 0.05 + 0.02 * (i % 4), 0.3 * (i % 3)) for i, cid in enumerate(others)]
    fused = fuse(*(np.array([row[k] for row in rows]) for k in (1, 2, 3)), lang)
    order = np.argsort(-fused, kind="stable")
    hits = tuple(Hit(CLAUSES[rows[i][0]], float(fused[i]), *rows[i][1:]) for i in order)
    return SearchResult("q", lang, hits, signals)


def cited(res: SearchResult) -> list[str]:
    return [h.clause.id for h in decide.decide(res).hits]


def test_a_clear_answer_is_cited_alone() -> None:
    res = result([("3-1-4", 0.90, 0.60, 4.0), ("8", 0.76, 0.15, 0.4), ("7-1", 0.75, 0.12, 0.2)])
    assert cited(res) == ["3-1-4"]


def test_a_runner_up_that_answers_as_clearly_is_cited_too() -> None:
    res = result([("5", 0.90, 0.60, 4.0), ("7-1", 0.89, 0.58, 3.8), ("9-1", 0.74, 0.10, 0.1)])
    assert cited(res) == ["5", "7-1"]


def test_the_fusion_weighs_retrievers_by_language() -> None:
    """English fusion halves e5 and quarters BM25: a runner-up that leads on e5 and BM25 but
    trails on cross-lingual similarity stands beside the best clause for a Japanese question,
    not for an English one."""
    scored = [("5", 0.90, 0.60, 4.0), ("7-1", 0.93, 0.40, 5.0)]
    assert cited(result(scored, lang="ja")) == ["5", "7-1"]
    assert cited(result(scored, lang="en")) == ["5"]


def test_a_clause_inside_one_already_cited_is_skipped() -> None:
    res = result([("4-2", 0.90, 0.60, 4.0), ("4-2-2", 0.89, 0.59, 3.9), ("5", 0.88, 0.58, 3.8)])
    assert cited(res) == ["4-2", "5"]


def test_two_alike_items_of_one_paragraph_are_cited_as_the_paragraph() -> None:
    res = result([("4-2-1", 0.90, 0.60, 4.0), ("4-2-2", 0.89, 0.59, 3.9), ("4-2", 0.80, 0.40, 2.0)])
    assert cited(res) == ["4-2"]


def test_a_clearly_better_item_stays_the_citation() -> None:
    res = result([("3-1-4", 0.92, 0.65, 5.0), ("3-1-1", 0.80, 0.30, 1.0)])
    assert cited(res) == ["3-1-4"]


def test_at_most_max_citations() -> None:
    res = result([(cid, 0.90, 0.60, 4.0) for cid in ("2-2", "5", "7-1", "9-1", "10-2")])
    assert len(cited(res)) == decide.MAX_CITATIONS


def test_confidence_follows_the_signals() -> None:
    assert decide.confidence(CONFIDENT) > decide.THRESHOLD > decide.confidence(OFF_TOPIC)
    weaker = replace(CONFIDENT, reach=0.2, closeness=0.6)
    assert decide.confidence(weaker) < decide.confidence(CONFIDENT)


def test_an_escalation_keeps_the_nearest_clauses_for_the_hand_off() -> None:
    res = result([("3-1-4", 0.90, 0.60, 4.0)], signals=OFF_TOPIC)
    decision = decide.decide(res)
    assert decision.answered is False
    assert decision.nearest == ("3-1-4",)


def test_a_near_miss_offers_its_nearest_clause_as_related_reading() -> None:
    near_miss = NEAR_MISS
    assert decide.RELATED_MIN_CONFIDENCE <= decide.confidence(near_miss) < decide.THRESHOLD
    near_topic = decide.decide(result([("3-1-4", 0.95, 0.80, 9.0)], signals=near_miss))
    assert not near_topic.answered and [h.clause.id for h in near_topic.related] == ["3-1-4"]
    off_topic = decide.decide(result([("3-1-4", 0.95, 0.80, 9.0)], signals=OFF_TOPIC))
    assert not off_topic.answered and off_topic.related == ()


def test_the_date_block_is_never_related_reading() -> None:
    near_miss = NEAR_MISS
    decision = decide.decide(result([("trailer", 0.95, 0.80, 9.0), ("9-1", 0.90, 0.6, 5.0)], signals=near_miss))
    assert [h.clause.id for h in decision.related] == ["9-1"]


@pytest.mark.parametrize("signals", [RetrievalSignals(), RetrievalSignals(aux_max=0.5)])
def test_missing_signals_count_as_zero(signals) -> None:
    assert 0.0 <= decide.confidence(signals) <= 1.0


def test_the_decision_carries_its_evidence_and_the_features_that_decided() -> None:
    res = result([("3-1-4", 0.90, 0.60, 4.0), ("8", 0.76, 0.15, 0.4)])
    decision = decide.decide(res)
    assert decision.ranked == res.hits  # every unit, in retrieval's order
    assert decision.ranking == tuple(decide.ranking(res.hits)) and decision.ranking[0] == "3-1-4"
    assert decision.features == Features(tuple(decide.FEATURES), decide.features(CONFIDENT), decision.confidence,
                                         decide.THRESHOLD)
    assert decision.features.as_dict()["aux_max"] == CONFIDENT.aux_max
    assert decision.confidence == decide.confidence(CONFIDENT)


def test_features_are_read_by_name_from_the_typed_signals() -> None:
    """Each feature is the signal of that name (lex_max_log: log1p of the best BM25 score);
    a name no signal has counts as zero, so a calibration may name only what exists."""
    values = dict(zip(decide.FEATURES, decide.features(NEAR_MISS)))
    for name, value in values.items():
        if name == "lex_max_log":
            assert value == pytest.approx(np.log1p(NEAR_MISS.lex_max))
        else:
            assert value == getattr(NEAR_MISS, name)


# --- a figure the policy does not state (bot/figures.py) -----------------------------------
def test_a_period_no_cited_clause_states_is_escalated_with_the_clause_as_reading() -> None:
    """Confident retrieval, but the question asks for a period and the clause gives none: the
    policy does not say, so nothing is quoted as the answer."""
    res = replace(result([("4-2", 0.90, 0.60, 4.0)]), query="第三者提供の記録は何年間保管されますか")
    decision = decide.decide(res)
    assert not decision.answered and decision.unstated == "period"
    assert [h.clause.id for h in decision.related] == ["4-2"]


def test_a_clause_that_states_the_figure_still_answers() -> None:
    stated = replace(CLAUSES["4-2"], text=CLAUSES["4-2"].text + "\nこの記録は3年間保管します。")
    res = result([("4-2", 0.90, 0.60, 4.0)])
    hits = tuple(replace(h, clause=stated) if h.clause.id == "4-2" else h for h in res.hits)
    decision = decide.decide(replace(res, hits=hits, query="第三者提供の記録は何年間保管されますか"))
    assert decision.answered and decision.unstated is None
    assert decision.hits[0].clause.id == "4-2"


def test_a_question_for_a_point_in_time_is_not_a_figure() -> None:
    res = replace(result([("trailer", 0.90, 0.60, 4.0)]), query="このポリシーは何年に制定されましたか")
    decision = decide.decide(res)
    assert decision.answered and decision.unstated is None
