"""Content-word lemmas (index/tokenize.py): what BM25 and the reach signal count."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from index.tokenize import lemmas, normalize

TEXTS = [
    "個人情報はどんな目的で使われますか？",
    "利用料金の請求のために個人情報を使うことはありますか",
    "第三者に提供しません。",
    "開示等の請求は、第10条に定める窓口までお申し出ください。",
    "本人確認及び不正利用の防止のため",
    "ＡＢＣ社のメールアドレス",
]


def test_particles_auxiliaries_and_symbols_are_dropped():
    out = lemmas("個人情報を使われますか？「」！、。")
    assert out == ["個人", "情報", "使う"]
    for function_word in ("を", "は", "か", "ます", "れる", "？", "「", "、"):
        assert function_word not in out


def test_conjugations_share_a_lemma():
    assert "使う" in lemmas("使われ")
    assert "使う" in lemmas("使います")
    assert "使う" in lemmas("使った")
    assert lemmas("使う") == ["使う"]
    assert lemmas("提供しません") == lemmas("提供します") == lemmas("提供する")


def test_full_width_latin_is_normalised_and_lower_cased():
    assert normalize("Ａ１") == "A1"
    assert lemmas("Ａ") == ["a"]
    assert lemmas("ＡＢＣ") == lemmas("ABC") == lemmas("abc") == ["abc"]


def test_numbers_and_empty_text_give_no_lemmas():
    assert lemmas("") == []
    assert lemmas("１２３、456。") == []


def test_duplicates_are_kept_for_bm25():
    assert lemmas("情報と情報").count("情報") == 2


def test_lemmas_are_the_same_from_many_threads():
    """One tagger per thread: concurrent use must neither crash nor mix results."""
    expected = [lemmas(t) for t in TEXTS]
    work = TEXTS * 40
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lemmas, work))
    assert results == expected * 40
