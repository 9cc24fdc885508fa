"""The record of how an answer was decided: typed, frozen, and serialisable in one place.

`bot.answer.answer()` attaches one to every Answer: the decision and why, every clause ranked
with the scores of each ranking, the clauses the decision settled on (`nearest`), the features
the answer/escalate model read and what it concluded, the policy revision. It is stored with the
answer (bot/slack_store.py), so what acts on an answer later (forward to the contact window,
share, feedback) reads what was decided instead of asking the model again. It holds clause ids
and numbers only, never the asker's words, so it can be kept as it is.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

RECORD_VERSION = 1  # bump when a field changes meaning; from_dict refuses a newer record


class RecordError(ValueError):
    """A stored record that is not one this code wrote (damaged, or from a newer version)."""


@dataclass(frozen=True)
class Evidence:
    """How one clause scored for one question: each ranking (index/search.py) and their fusion."""

    clause_id: str
    fused: float  # the sum of the rankings' z-scores, weighted by language: what orders the hits
    dense: float  # cosine of the sentence-transformers model (best view)
    aux: float  # cosine of the cross-lingual encoder (0 when absent)
    lexical: float  # BM25
    phrase: float  # best e5 cosine between a phrase of the question and one of the clause's


@dataclass(frozen=True)
class Features:
    """What the answer/escalate model read (bot/decide.py), and what it concluded."""

    names: tuple[str, ...]
    values: tuple[float, ...]
    confidence: float  # the model's probability that the policy answers the question
    threshold: float  # answered when confidence reaches it (and something can be cited)

    def as_dict(self) -> dict[str, float]:
        return dict(zip(self.names, self.values))


@dataclass(frozen=True)
class AnswerRecord:
    """Why an answer is what it is. `features` is None, and the tuples are empty, for a
    question refused before any search (empty, too long)."""

    status: str  # "answered" | "escalated"
    reason: str | None  # why it was escalated (bot.answer.REASON_*); None when answered
    lang: str
    revision: str | None  # ISO date of the policy revision searched
    features: Features | None = None
    hits: tuple[Evidence, ...] = ()  # every clause, best first
    ranking: tuple[str, ...] = ()  # distinct passages, best first: what recall@k measures
    nearest: tuple[str, ...] = ()  # the clauses the decision settled on: quoted, or (escalations) looked at
    related: tuple[str, ...] = ()  # escalations: clauses offered as reading, never as the answer
    read_with_context: bool = False  # a follow-up read together with an earlier question

    @property
    def confidence(self) -> float:
        return self.features.confidence if self.features else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types only; `from_dict(to_dict())` gives back an equal record."""
        return {
            "version": RECORD_VERSION,
            "status": self.status, "reason": self.reason, "lang": self.lang, "revision": self.revision,
            "features": None if self.features is None else {
                "names": list(self.features.names), "values": list(self.features.values),
                "confidence": self.features.confidence, "threshold": self.features.threshold},
            "hits": [[e.clause_id, e.fused, e.dense, e.aux, e.lexical, e.phrase] for e in self.hits],
            "ranking": list(self.ranking), "nearest": list(self.nearest), "related": list(self.related),
            "read_with_context": self.read_with_context,
        }

    @classmethod
    def from_dict(cls, data: Any) -> "AnswerRecord":
        """The record `to_dict` wrote; RecordError for anything else (the caller falls back to
        what the stored answer shows)."""
        if not isinstance(data, dict):
            raise RecordError("a record is a JSON object")
        version = data.get("version")
        if not isinstance(version, int) or not 1 <= version <= RECORD_VERSION:
            raise RecordError(f"record version {version!r}: this code reads up to {RECORD_VERSION}")
        try:
            features = data.get("features")
            if features is not None and len(features["names"]) != len(features["values"]):
                raise TypeError("features: as many values as names")
            return cls(
                status=_text(data["status"]), reason=_optional_text(data.get("reason")), lang=_text(data["lang"]),
                revision=_optional_text(data.get("revision")),
                features=None if features is None else Features(
                    tuple(_text(n) for n in features["names"]), tuple(_number(v) for v in features["values"]),
                    _number(features["confidence"]), _number(features["threshold"])),
                hits=tuple(Evidence(_text(h[0]), *(_number(v) for v in h[1:6])) for h in data.get("hits", ())),
                ranking=_ids(data.get("ranking", ())), nearest=_ids(data.get("nearest", ())),
                related=_ids(data.get("related", ())), read_with_context=bool(data.get("read_with_context", False)))
        except (KeyError, IndexError, TypeError) as exc:
            raise RecordError(f"not a record ({type(exc).__name__}: {exc})") from None


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected text, got {type(value).__name__}")
    return value


def _optional_text(value: Any) -> str | None:
    return None if value is None else _text(value)


def _number(value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"expected a number, got {type(value).__name__}")
    return float(value)


def _ids(values: Any) -> tuple[str, ...]:
    return tuple(_text(v) for v in values)
