"""Japanese text → content-word lemmas (fugashi + unidic-lite), for BM25 and query analysis.

Lemmas make 使われ / 使う / 使い match; dropping particles, auxiliaries and symbols keeps
BM25 from scoring on は・を・ます. Latin words are lower-cased so English terms still count.
"""
from __future__ import annotations

import threading
import unicodedata

# UniDic part-of-speech heads that carry no content (pronouns and adverbs included: 私, どう).
_SKIP_POS = {"助詞", "助動詞", "補助記号", "記号", "空白", "接頭辞", "感動詞", "代名詞", "副詞", "連体詞", "接続詞"}
# Verbs and adjectives UniDic marks 非自立可能 work as auxiliaries (して・ほしい・もらえる・ください・いい).
_SKIP_DEPENDENT = {"動詞", "形容詞"}
# Light verbs and formal nouns that appear in almost every sentence of a policy.
_SKIP_LEMMAS = {"為る", "有る", "居る", "成る", "事", "物", "為", "様", "等", "もの", "こと", "ため", "よう", "とき", "場合"}

_local = threading.local()


def _tagger():
    """One fugashi Tagger per thread: MeCab taggers are not safe to share across threads."""
    tagger = getattr(_local, "tagger", None)
    if tagger is None:
        import fugashi
        import unidic_lite

        tagger = fugashi.Tagger(f"-d {unidic_lite.DICDIR}")
        _local.tagger = tagger
    return tagger


def normalize(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def tagged(text: str) -> list:
    """The words of `text` (NFKC) with their UniDic features: what `lemmas` reads, and what
    readers that need parts of speech rather than lemmas read (bot/figures.py)."""
    return list(_tagger()(normalize(text)))


def lemmas(text: str) -> list[str]:
    """Content-word lemmas of `text`, in order (duplicates kept: BM25 counts them)."""
    out: list[str] = []
    for word in tagged(text):
        feature = word.feature
        pos = feature.pos1
        if pos in _SKIP_POS or (pos in _SKIP_DEPENDENT and feature.pos2 == "非自立可能"):
            continue
        lemma = getattr(feature, "lemma", None) or word.surface
        # UniDic lemmas of loanwords look like "メール-mail"; keep the Japanese head.
        lemma = lemma.split("-")[0] if "-" in lemma and not lemma.startswith("-") else lemma
        if pos == "名詞" and feature.pos2 == "数詞":
            continue
        if lemma in _SKIP_LEMMAS or not lemma.strip():
            continue
        out.append(lemma.lower())
    return out
