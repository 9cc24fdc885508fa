"""Retrieval signals of index/search.py: vocabulary fit (read by the answer/escalate model) and view scoring.

Built on the real index of the real policy; the words are taken from that index, so the
tests hold for any policy text.
"""
from __future__ import annotations

import pytest

from index.tokenize import lemmas

pytestmark = pytest.mark.model  # the retrieval signals of the real model


@pytest.fixture(scope="module")
def vocab(real_model) -> dict[str, int]:
    return real_model.searcher._r.vocab


def test_a_question_in_the_policys_own_words_fits_fully(searcher, vocab) -> None:
    clause = next(c for c in searcher.clauses if c.kind == "item")
    result = searcher.search(clause.text, "ja")
    assert all(t in vocab for t in lemmas(clause.text))
    assert result.signals.reach == pytest.approx(1.0)
    assert result.signals.closeness == pytest.approx(1.0)


def test_an_off_topic_question_fits_poorly(searcher, vocab) -> None:
    question = "今日の天気は晴れですか"
    assert not any(t in vocab for t in lemmas(question))
    signals = searcher.search(question, "ja").signals
    assert signals.reach == 0.0
    assert 0.0 < signals.closeness < 0.7


def test_specific_words_weigh_more_than_common_ones(searcher, vocab) -> None:
    """「個人情報の保存期間」: the policy's commonest words must not make an unknown specific one look covered."""
    common = max(vocab, key=vocab.get)
    rare = min(vocab, key=vocab.get)
    unknown = "有給"
    assert unknown not in vocab
    fit = searcher._vocabulary_fit([common, unknown], {}, {unknown: 0.5})
    assert fit["reach"] < 0.5  # an unweighted share would be exactly one half
    assert fit["reach"] < fit["closeness"] < 1.0  # the near miss counts half in closeness
    assert searcher._vocabulary_fit([rare, unknown], {}, {})["reach"] > fit["reach"]
    bridged = searcher._vocabulary_fit([common, unknown], {unknown: [rare]}, {unknown: 0.8})
    assert bridged["reach"] == pytest.approx(1.0)


def test_english_words_count_through_their_bridges(searcher) -> None:
    signals = searcher.search("How is my personal data used?", "en").signals
    assert signals.bridged, "the cross-lingual bridge found no policy term for any word"
    assert all(targets for _, targets in signals.bridged)
    assert 0.0 < signals.reach <= 1.0
    assert signals.closeness >= 0.7


def test_no_words_means_no_fit(searcher) -> None:
    assert searcher._vocabulary_fit([], {}, {}) == {"reach": 0.0, "closeness": 0.0}


def test_a_unit_scores_by_its_best_view(searcher, embedder) -> None:
    """The dense index holds a row per view; each unit takes its best row (here: its lead)."""
    unit = next(c for c in searcher.clauses if c.views)
    index = searcher.clauses.index(unit)
    lead_vector = embedder.encode_passages([unit.views[0]])
    scores = searcher._dense_views(searcher._r.dense_index, lead_vector)
    assert scores.shape == (len(searcher.clauses),)
    assert int(scores.argmax()) == index and scores[index] == pytest.approx(1.0, abs=1e-4)
    context_only = float(embedder.encode_passages([unit.context])[0] @ lead_vector[0])
    assert context_only < 0.999  # without the view row the unit would not score 1.0


class CountingEmbedder:
    """The session's real embedder, recording each batch of queries it encodes."""

    def __init__(self, inner):
        self.inner = inner
        self.batches: list[list[str]] = []

    def encode_queries(self, texts):
        self.batches.append(list(texts))
        return self.inner.encode_queries(texts)

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.mark.parametrize("question, batches", [
    ("個人情報を第三者に提供することはありますか", 1),  # no punctuation: the question is its own phrase
    ("退会しました、個人情報は削除されますか", 2),  # two phrases: encoded as phrases too
])
def test_a_question_is_encoded_once_when_it_is_its_own_phrase(searcher, question, batches):
    from index.search import Searcher

    counting = CountingEmbedder(searcher.embedder)
    spied = Searcher(searcher.clauses, searcher._r, counting, searcher.aux_encoder, searcher.facts, searcher.manifest)
    result = spied.search(question, "ja")
    assert len(counting.batches) == batches and counting.batches[0] == [question]
    assert result == searcher.search(question, "ja")  # the same hits, scores and signals
    # and the phrase scores are those of encoding the question on its own
    alone = searcher._phrases(question)
    assert [h.phrase for h in result.hits] == [float(alone[searcher.clauses.index(h.clause)]) for h in result.hits]
