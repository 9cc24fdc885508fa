"""Answer or escalate: a small calibrated model over retrieval signals, not rules about questions.

The features say how well the policy fits the question: how close the best clause is in the
cross-lingual encoder's space (it separates off-topic questions best, in both languages); how
much of the question's vocabulary the policy covers, each word weighted by how specific it is
in the policy, both as a share of words it uses or bridges ("reach") and as a mean closeness
that keeps near misses ("closeness", see index/search.py); how strong the best BM25 match is;
and the question's language (English words reach fewer policy terms, so English is calibrated
apart). The weights are fitted by `scripts/calibrate.py` (logistic regression, standardized
features) on the development questions plus our own held-out set, and pasted here with the
date of the fit. e5 similarity, retriever agreement, score peakedness and how many of the
question's words the best clause itself contains were tried and left out: on those questions
they added nothing (leave-one-out) or took a sign that does not make sense.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from index.search import Hit, SearchResult

# --- fitted 2026-11-25 by scripts/calibrate.py on questions-dev.jsonl + eval/questions-heldout.jsonl
FEATURES = ("aux_max", "reach", "closeness", "lex_max_log", "english")
MEANS = (0.4010, 0.6593, 0.8046, 1.2447, 0.2909)
SCALES = (0.1537, 0.3033, 0.1305, 0.5214, 0.4542)
WEIGHTS = (0.9064, 0.6667, 0.3053, 0.6358, 0.4601)
BIAS = 0.8458
# Chosen on the pooled questions (see README "Quality"): below 0.50 out-of-scope questions start
# to get loosely related quotes; above it in-scope paraphrases escalate quickly.
THRESHOLD = 0.50
# ---------------------------------------------------------------------------------------------

# Citations: a runner-up is cited only when its evidence (Hit.evidence: each retriever's score
# rescaled over the policy's units, weighted as in the fusion) reaches this share of the best
# hit's; rank-fused scores are too flat to tell a second answer from a loosely related clause.
# README "Quality" has the trade-off against recall@3.
EVIDENCE_CUTOFF = 0.6
MAX_CITATIONS = 3
# Two items of one paragraph are "alike" when the weaker scores at least this share of the other.
SIBLING_RATIO = 0.8


@dataclass(frozen=True)
class Decision:
    answered: bool
    confidence: float
    hits: tuple[Hit, ...]  # the citations, best first, none overlapping another
    signals: dict


def features(signals: dict) -> tuple[float, ...]:
    values = dict(signals)
    values["lex_max_log"] = math.log1p(max(0.0, signals.get("lex_max", 0.0)))
    return tuple(float(values.get(name, 0.0)) for name in FEATURES)


def confidence(signals: dict) -> float:
    z = BIAS + sum(w * (x - m) / s for w, x, m, s in zip(WEIGHTS, features(signals), MEANS, SCALES))
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def _overlaps(a: str, b: str) -> bool:
    """One clause contains the other (3-1 and 3-1-4; 6 and 6-1-2): quoting both repeats text."""
    return a == b or a.startswith(b + "-") or b.startswith(a + "-")


def _parent_id(hit: Hit, by_id: dict[str, Hit]) -> str | None:
    clause = hit.clause
    if clause.kind != "item":
        return None
    paragraph = f"{clause.article}-{clause.paragraph}"
    return paragraph if paragraph in by_id else str(clause.article) if str(clause.article) in by_id else None


def select_citations(hits: tuple[Hit, ...], limit: int = MAX_CITATIONS) -> tuple[Hit, ...]:
    """The best hits as citations, without repeating text: a clause inside (or around) one already
    chosen is skipped, and two items of one paragraph that score alike are cited as that
    paragraph, which quotes both — 「第三者に提供される？」 is answered by 第4条第1項 with its
    exceptions, not by two of them. A clearly better item (利用料金の請求 → 第1項第4号) stays."""
    by_id = {h.clause.id: h for h in hits}
    chosen: list[Hit] = []
    for hit in hits:
        if len(chosen) == limit:
            break
        if any(_overlaps(hit.clause.id, c.clause.id) for c in chosen):
            continue
        parent = _parent_id(hit, by_id)
        sibling = next((i for i, c in enumerate(chosen) if parent and _parent_id(c, by_id) == parent), None)
        if sibling is not None and hit.score >= SIBLING_RATIO * chosen[sibling].score:
            chosen[sibling] = by_id[parent]
            continue
        chosen.append(hit)
    return tuple(chosen)


def decide(result: SearchResult) -> Decision:
    p = confidence(result.signals)
    hits = result.hits
    if hits:
        hits = select_citations(tuple(h for h in hits if h.evidence >= EVIDENCE_CUTOFF * hits[0].evidence))
    signals = dict(result.signals)
    signals["nearest"] = [h.clause.id for h in hits]
    return Decision(answered=p >= THRESHOLD and bool(hits), confidence=p, hits=hits, signals=signals)
