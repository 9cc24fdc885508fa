"""Answer or escalate: a small calibrated model over retrieval signals, not rules about questions.

The features say how well the policy fits the question: how close the best clause is in the
cross-lingual encoder's space (it separates off-topic questions best, in both languages); how
much of the question's vocabulary the policy covers, each word weighted by how specific it is
in the policy, both as a share of words it uses or bridges ("reach") and as a mean closeness
that keeps near misses ("closeness", see index/search.py); how strong the best BM25 match is;
and the question's language (English words reach fewer policy terms, so English is calibrated
apart); and the best e5 similarity. The weights are fitted by `scripts/calibrate.py` (logistic
regression, standardized features) on the development questions plus our own training set
(never on eval/questions-heldout.jsonl, which the README reports as held out) and written to
bot/calibration.json with the date of the fit and the files it was fitted on. The fused score
of the best clause and its lead over the runner-up were tried and left out: under
leave-one-out they added nothing.

One check is not a fitted weight: a question that asks for a period or an amount is answered
only when a clause to be quoted states one (bot/figures.py); otherwise the policy does not say.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from bot import figures
from bot.calibration import load_calibration
from bot.record import Features
from index.search import Hit, RetrievalSignals, SearchResult

# --- the fitted model: bot/calibration.json, written by scripts/calibrate.py (never edited by hand).
# Loaded once, at import; a missing or damaged file stops here with a message naming it.
CALIBRATION = load_calibration()
FEATURES = CALIBRATION.features
MEANS = CALIBRATION.means
SCALES = CALIBRATION.scales
WEIGHTS = CALIBRATION.weights
BIAS = CALIBRATION.intercept
# Chosen on the pooled questions (see README "Quality"): below it out-of-scope questions start
# to get loosely related quotes; above it in-scope paraphrases escalate quickly.
THRESHOLD = CALIBRATION.threshold
# ---------------------------------------------------------------------------------------------

# Citations: a runner-up is cited only when its fused score (z-scores, index/search.py) is within
# this distance of the best hit's, i.e. when it answers about as clearly; a loosely related
# clause that merely ranks second is not quoted. README "Quality" has the trade-off.
CITATION_GAP = 0.75
MAX_CITATIONS = 3
# Two items of one paragraph are "alike" when the weaker is within this distance of the other.
SIBLING_GAP = 0.5
# An escalated question may show its nearest clause as related reading (never as the answer)
# when the question came close to being answered: near-topic questions (「開示請求の本人確認書類は？」)
# get 第8条 to read; off-topic ones (weather, 交通費) get nothing. The date block is never reading.
RELATED_MIN_CONFIDENCE = 0.3
MAX_RELATED = 1


@dataclass(frozen=True)
class Decision:
    answered: bool
    confidence: float
    hits: tuple[Hit, ...]  # the citations, best first, none overlapping another
    related: tuple[Hit, ...] = ()  # escalations: the nearest clause(s), offered as reading only
    ranked: tuple[Hit, ...] = ()  # every unit as retrieval ranked it, best first: the evidence
    ranking: tuple[str, ...] = ()  # distinct passages (`ranking`): what recall@k measures
    features: Features | None = None  # what the model read, and its verdict
    # Set when the question asks for a figure (bot/figures.py: PERIOD, AMOUNT) that none of the
    # clauses it would quote states: the policy covers the topic but does not say.
    unstated: str | None = None

    @property
    def nearest(self) -> tuple[str, ...]:
        """The clauses the decision settled on: quoted when answered, looked at when escalated."""
        return tuple(h.clause.id for h in self.hits)


def features(signals: RetrievalSignals) -> tuple[float, ...]:
    """The values of FEATURES, read by name from the retrieval signals (a name with no signal
    counts as 0)."""
    values = signals.values()
    values["lex_max_log"] = math.log1p(max(0.0, signals.lex_max))
    return tuple(float(values.get(name, 0.0)) for name in FEATURES)


def confidence(signals: RetrievalSignals) -> float:
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


def select_citations(hits: tuple[Hit, ...], limit: int = MAX_CITATIONS, gap: float = CITATION_GAP) -> tuple[Hit, ...]:
    """The hits that answer about as clearly as the best (fused score within `gap` of it) as
    citations, without repeating text: a clause inside (or around) one already chosen is
    skipped, and two items of one paragraph that score alike are cited as that paragraph, which
    quotes both — 「第三者に提供した記録は？」 is answered by 第4条第2項 with its items, not by two of
    them. A clearly better item (利用料金の請求 → 第1項第4号) stays."""
    if not hits:
        return ()
    by_id = {h.clause.id: h for h in hits}
    chosen: list[Hit] = []
    for hit in hits:
        if len(chosen) == limit or hit.score < hits[0].score - gap:
            break
        if any(_overlaps(hit.clause.id, c.clause.id) for c in chosen):
            continue
        parent = _parent_id(hit, by_id)
        sibling = next((i for i, c in enumerate(chosen) if parent and _parent_id(c, by_id) == parent), None)
        if sibling is not None and hit.score >= chosen[sibling].score - SIBLING_GAP:
            chosen[sibling] = by_id[parent]
            continue
        chosen.append(hit)
    return tuple(chosen)


def ranking(hits: tuple[Hit, ...], depth: int = 5) -> list[str]:
    """The retrieval ranking as distinct passages (a clause inside or around one ranked higher is
    skipped): what recall@k measures, whatever the citation cut-off shows."""
    ranked: list[str] = []
    for hit in hits:
        if len(ranked) == depth:
            break
        if not any(_overlaps(hit.clause.id, other) for other in ranked):
            ranked.append(hit.clause.id)
    return ranked


def decide(result: SearchResult) -> Decision:
    p = confidence(result.signals)
    hits = select_citations(result.hits)
    answered = p >= THRESHOLD and bool(hits)
    unstated = _unstated_figure(result.query, hits) if answered else None
    answered = answered and unstated is None
    near_miss = not answered and p >= RELATED_MIN_CONFIDENCE
    related = tuple(h for h in result.hits if h.clause.kind != "trailer")[:MAX_RELATED] if near_miss else ()
    return Decision(answered=answered, confidence=p, hits=hits, related=related, ranked=result.hits,
                    ranking=tuple(ranking(result.hits)),
                    features=Features(tuple(FEATURES), features(result.signals), p, THRESHOLD), unstated=unstated)


def _unstated_figure(question: str, hits: tuple[Hit, ...]) -> str | None:
    """The kind of figure the question asks for when no clause about to be quoted states one
    (「保存期間は何年？」 against clauses with no period in them), else None."""
    kind = figures.figure_asked(question)
    if kind is None or any(figures.states_figure(h.clause.text, kind) for h in hits):
        return None
    return kind
