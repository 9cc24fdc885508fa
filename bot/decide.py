"""Answer or escalate: a small calibrated model over retrieval signals, not rules about questions.

The features say how well the policy fits the question: how close the best clauses are
(dense and cross-lingual similarity), how much of the question's informative vocabulary the
policy uses at all (coverage), and whether the retrievers agree on the best clause.
The weights are fitted on the development questions by `scripts/calibrate.py`
(logistic regression, standardized features) and pasted here with the date of the fit.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from index.search import Hit, SearchResult

# --- fitted 2026-11-25 by scripts/calibrate.py on questions-dev.jsonl; regenerate, do not hand-edit
FEATURES = ("dense_max", "aux_max", "coverage", "agreement", "lex_max_log")
MEANS = (0.8660, 0.4564, 0.5510, 0.7833, 1.1622)
SCALES = (0.0306, 0.1541, 0.3175, 0.2273, 0.4750)
WEIGHTS = (0.0914, 1.1540, 1.1301, 0.4272, 0.1536)
BIAS = 1.6987
# Escalating is cheap (a human answers), answering wrongly is not: the bar sits above the
# highest-scoring out-of-scope dev question (p=0.52), not at the classifier's 0.5.
THRESHOLD = 0.55
# ---------------------------------------------------------------------------------------------

# Citations: keep the hits whose fused score is close to the best one.
RELATIVE_CUTOFF = 0.6


@dataclass(frozen=True)
class Decision:
    answered: bool
    confidence: float
    hits: tuple[Hit, ...]
    signals: dict


def features(signals: dict) -> tuple[float, ...]:
    values = dict(signals)
    values["lex_max_log"] = math.log1p(max(0.0, signals.get("lex_max", 0.0)))
    return tuple(float(values.get(name, 0.0)) for name in FEATURES)


def confidence(signals: dict) -> float:
    z = BIAS + sum(w * (x - m) / s for w, x, m, s in zip(WEIGHTS, features(signals), MEANS, SCALES))
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, z))))


def decide(result: SearchResult) -> Decision:
    p = confidence(result.signals)
    hits = result.hits
    if hits:
        best = hits[0].score
        hits = tuple(h for h in hits if h.score >= RELATIVE_CUTOFF * best)
    signals = {k: v for k, v in result.signals.items()}
    signals["nearest"] = [h.clause.id for h in result.hits[:3]]
    return Decision(answered=p >= THRESHOLD and bool(hits), confidence=p, hits=hits, signals=signals)
