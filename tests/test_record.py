"""bot/record.py: the record of how an answer was decided survives a trip through JSON unchanged,
and a stored value that is not such a record is refused with RecordError, never half-read."""
from __future__ import annotations

import json
from dataclasses import FrozenInstanceError, replace

import pytest

from bot.record import RECORD_VERSION, AnswerRecord, Evidence, Features, RecordError

DECIDED = AnswerRecord(
    status="escalated", reason="not_covered", lang="en", revision="2026-06-03",
    features=Features(("aux_max", "dense_max", "english"), (0.3125, 0.86, 1.0), 0.4178, 0.5),
    hits=(Evidence("8", 2.5, 0.87, 0.41, 6.25, 0.9), Evidence("10-2", -0.125, 0.8, 0.1, 0.0, 0.7)),
    ranking=("8", "10-2"), nearest=("8",), related=("8",), read_with_context=True)
REFUSED = AnswerRecord(status="escalated", reason="empty", lang="ja", revision=None)


def through_json(record: AnswerRecord) -> AnswerRecord:
    return AnswerRecord.from_dict(json.loads(json.dumps(record.to_dict())))


@pytest.mark.parametrize("record", [DECIDED, REFUSED, replace(DECIDED, status="answered", reason=None)])
def test_a_record_round_trips_through_json(record):
    assert through_json(record) == record
    assert record.to_dict()["version"] == RECORD_VERSION


def test_floats_come_back_bit_for_bit():
    odd = replace(DECIDED, hits=(Evidence("3-1-4", 0.1 + 0.2, 1 / 3, 2.0 ** -40, 1e300, -0.0),))
    assert through_json(odd).hits == odd.hits


def test_the_record_is_frozen_and_says_what_decided():
    with pytest.raises(FrozenInstanceError):
        DECIDED.status = "answered"  # type: ignore[misc]
    assert DECIDED.confidence == 0.4178 and REFUSED.confidence == 0.0
    assert DECIDED.features.as_dict() == {"aux_max": 0.3125, "dense_max": 0.86, "english": 1.0}


def _without(key: str) -> dict:
    data = DECIDED.to_dict()
    del data[key]
    return data


@pytest.mark.parametrize("data", [
    None, [], "record", {},
    {**DECIDED.to_dict(), "version": RECORD_VERSION + 1},
    {**DECIDED.to_dict(), "version": "1"},
    _without("status"),
    {**DECIDED.to_dict(), "status": 3},
    {**DECIDED.to_dict(), "hits": [["8", 1.0, 2.0]]},
    {**DECIDED.to_dict(), "hits": [["8", "1.0", 2.0, 3.0, 4.0, 5.0]]},
    {**DECIDED.to_dict(), "features": {"names": ["a"], "values": [True], "confidence": 0.5, "threshold": 0.5}},
    {**DECIDED.to_dict(), "nearest": [8]},
    {**DECIDED.to_dict(), "features": {"names": ["a"]}},
    {**DECIDED.to_dict(), "features": {"names": ["a", "b"], "values": [0.5], "confidence": 0.5, "threshold": 0.5}},
], ids=["none", "list", "text", "empty", "newer", "version-text", "no-status", "status-number", "short-hit",
        "score-text", "bool-value", "id-number", "features-cut", "features-uneven"])
def test_what_is_not_a_record_is_refused(data):
    with pytest.raises(RecordError):
        AnswerRecord.from_dict(data)
