"""Hybrid retrieval over the clause units: BM25 on lemmas + dense (faiss) + cross-lingual, fused
by normalised score.

Returns typed hits (each clause with the score of every ranking) plus typed signals for the
confidence decision (bot/decide.py): how close the best clause is, how far ahead of the rest,
and how much of the question the policy's vocabulary knows.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from index.policy import Clause
from index.tokenize import lemmas

# A word the policy never uses is bridged to the policy term nearest to it in the cross-lingual
# encoder's space (English words, and Japanese ones like 支払い → 決済) when their cosine
# reaches this; up to MAX_BRIDGED_PER_WORD terms per word.
BRIDGE_MIN_SIMILARITY = 0.7
MAX_BRIDGED_PER_WORD = 3
# Weights of the (dense, cross-lingual, lexical, phrase) rankings in the fusion, per question
# language. Japanese: the four weigh alike. English: the cross-lingual encoder leads; e5
# (multilingual, but weak across languages) helps at half weight, BM25 on the bridged terms at a
# quarter. Chosen on the dev questions plus eval/questions-train.jsonl (README "How answering works").
FUSION_WEIGHTS = {"ja": (1.0, 1.0, 1.0, 1.0), "en": (0.5, 1.0, 0.25, 1.0)}
# The phrase ranking compares short phrases with short phrases: 「他の会社に渡される」 is close to
# 「第三者に提供」 (e5, cosine 0.9) although the whole question is not close to the whole clause.
_PHRASE_BREAK = re.compile(r"[、。，,．\n？?！!]")
MIN_PHRASE_CHARS = 4
MAX_QUERY_PHRASES = 12
# 「第10条に定める…」 cites this policy; 「個人情報保護法第2条…」 cites a law, not one of our articles.
_REFERENCE = re.compile(r"(?<!法)第\s*(\d+)\s*条")
_ENGLISH_WORD = re.compile(r"[A-Za-z]{3,}")
# Generic English function words (not tuned to any question): they carry no policy content.
_ENGLISH_STOPWORDS = frozenset("""
a about above after again all also am an and any are as at be because been before being below between both
but by can could did do does doing down during each few for from further had has have having he her here
hers him his how i if in into is it its itself just me more most my myself no nor not now of off on once only
or other our ours out over own same she should so some such than that the their theirs them then there these
they this those through to too under until up very was we were what when where which while who whom why will
with would you your yours yourself please hello dear thanks thank regards hi got get tell know want like
""".split())


@dataclass(frozen=True)
class PolicyFacts:
    """Facts read from the policy text at build time (never hard-coded)."""

    contact_email: str | None
    company_name: str | None
    revision: str | None  # ISO date of the latest 制定/改定 date
    dates: tuple[str, ...]
    policy_sha256: str
    company_address: str | None = None
    representative: str | None = None


@dataclass(frozen=True)
class Hit:
    clause: Clause
    # Fused score: each retriever's scores standardised over the units (z-scores), weighted by
    # language and summed (shared/RETRIEVAL-NOTES.md: fusing scores beats fusing ranks here). It
    # says how far a clause stands out from the rest, so it also compares across questions.
    score: float
    dense: float  # cosine of the sentence-transformers model (best view)
    aux: float  # cosine of the cross-lingual encoder (0 when absent)
    lexical: float  # BM25 score
    phrase: float = 0.0  # best e5 cosine between a phrase of the question and a phrase of the unit


@dataclass(frozen=True)
class RetrievalSignals:
    """How the question as a whole meets the policy: what the answer/escalate model may read
    (bot/decide.py names its features after these fields). Every number is 0 when nothing scored."""

    dense_max: float = 0.0  # best e5 cosine
    aux_max: float = 0.0  # best cross-lingual cosine
    lex_max: float = 0.0  # best BM25 score
    fused_max: float = 0.0  # best fused score
    fused_gap: float = 0.0  # how far the best clause leads the runner-up (fused)
    reach: float = 0.0  # weighted share of the question's words the policy uses or bridges (`_vocabulary_fit`)
    closeness: float = 0.0  # weighted mean closeness of the question's words to the policy's terms
    english: float = 0.0  # 1.0 for an English question: English reaches fewer words, so it is calibrated apart
    known_terms: tuple[str, ...] = ()  # the question's lemmas the policy uses
    bridged: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (word, the policy terms it was bridged to)

    NUMERIC = ("dense_max", "aux_max", "lex_max", "fused_max", "fused_gap", "reach", "closeness", "english")

    def values(self) -> dict[str, float]:
        """The numeric signals by name."""
        return {name: getattr(self, name) for name in self.NUMERIC}


@dataclass(frozen=True)
class SearchResult:
    query: str
    lang: str
    hits: tuple[Hit, ...]  # every unit, best first
    signals: RetrievalSignals = RetrievalSignals()


@dataclass
class Retrievers:
    """What a built index holds besides the clauses (see index/store.py)."""

    bm25: object  # bm25s.BM25
    vocab: dict[str, int]  # term → number of units containing it
    dense_index: object  # faiss.IndexFlatIP
    aux_index: object | None
    vocab_terms: list[str]
    vocab_aux: np.ndarray | None  # cross-lingual vectors of vocab_terms (English → Japanese bridge)
    row_units: np.ndarray  # clause index of each row of the dense indexes (a clause may have several views)
    phrase_index: object | None = None  # faiss.IndexFlatIP over the units' phrases (see `phrase_rows`)
    phrase_units: np.ndarray | None = None  # clause index of each row of phrase_index


class Searcher:
    """Immutable after construction, so one instance can serve many threads."""

    def __init__(self, clauses: list[Clause], retrievers: Retrievers, embedder, aux_encoder, facts: PolicyFacts,
                 manifest: dict | None = None):
        self.clauses = clauses
        self._by_id = {c.id: c for c in clauses}
        self._r = retrievers
        self.embedder = embedder
        self.aux_encoder = aux_encoder
        self.facts = facts
        self.manifest = manifest or {}
        self.contact_clause_id = self._find_contact_clause()

    # --- lookups ---------------------------------------------------------------------
    def clause(self, clause_id: str) -> Clause:
        return self._by_id[clause_id]

    def sends_to_contact(self, clause_id: str) -> bool:
        """True when the clause sends its reader to the contact window: it belongs to the article
        that holds the window (第10条), or its article cites that article (第8条 「第10条に定める
        お問い合わせ窓口までご連絡ください」)."""
        if self.contact_clause_id is None:
            return False
        clause = self._by_id[clause_id]
        target = self._by_id[self.contact_clause_id].article
        if clause.article is None or target is None:
            return clause_id == self.contact_clause_id
        if clause.article == target:
            return True
        siblings = [c for c in self.clauses if c.article == clause.article]
        return any(int(m) == target for c in siblings for m in _REFERENCE.findall(c.text))

    def _find_contact_clause(self) -> str | None:
        """The unit that holds the contact address (the 【お問合せ窓口】 block of 第10条)."""
        email = self.facts.contact_email
        if not email:
            return None
        holders = [c for c in self.clauses if email in c.text and c.kind in ("article", "paragraph")]
        return holders[-1].id if holders else None

    # --- retrieval -------------------------------------------------------------------
    def search(self, text: str, lang: str = "ja") -> SearchResult:
        text = scrub_noise(text)
        terms = lemmas(text)
        n = len(self.clauses)
        # Words the policy never uses ("deletion", 支払い, なりすまし) are bridged to its own nearest
        # terms; English questions are all such words.
        words = _english_words(text) if lang == "en" else [t for t in dict.fromkeys(terms) if t not in self._r.vocab]
        bridges, closeness = self._bridge(words)
        known = [] if lang == "en" else [t for t in terms if t in self._r.vocab]
        lexical = self._bm25(known + [t for targets in bridges.values() for t in targets])
        # A pasted message is several sentences, most of them greetings and context: score every
        # sentence as well as the whole message and let each clause keep its best match.
        views = [text] + (sentences(text)[:MAX_SENTENCE_VIEWS] if SENTENCE_FOCUS else [])
        view_vectors = self.embedder.encode_queries(views)
        dense = self._dense_views(self._r.dense_index, view_vectors)
        aux = (self._dense_views(self._r.aux_index, self.aux_encoder.encode(views))
               if self.aux_encoder is not None and self._r.aux_index is not None else np.zeros(n, np.float32))
        phrase = self._phrases(text, view_vectors[:1] if len(views) == 1 else None)
        fused = fuse(dense, aux, lexical, lang, phrase)
        order = np.argsort(-fused, kind="stable")
        hits = tuple(Hit(self.clauses[i], float(fused[i]), float(dense[i]), float(aux[i]), float(lexical[i]),
                         float(phrase[i])) for i in order)
        asked = list(dict.fromkeys(words if lang == "en" else terms))
        return SearchResult(text, lang, hits, RetrievalSignals(
            dense_max=float(dense.max()) if dense.size else 0.0,
            aux_max=float(aux.max()) if aux.size else 0.0,
            lex_max=float(lexical.max()) if lexical.size else 0.0,
            fused_max=hits[0].score if hits else 0.0,
            fused_gap=hits[0].score - hits[1].score if len(hits) > 1 else 0.0,
            **self._vocabulary_fit(asked, bridges, closeness),
            english=1.0 if lang == "en" else 0.0,
            known_terms=tuple(dict.fromkeys(known)),
            bridged=tuple((word, tuple(targets)) for word, targets in bridges.items()),
        ))

    def _bm25(self, terms: list[str]) -> np.ndarray:
        if not terms:
            return np.zeros(len(self.clauses), np.float32)
        return np.asarray(self._r.bm25.get_scores(terms), dtype=np.float32)

    def _dense_views(self, index, query_vectors: np.ndarray, row_units: np.ndarray | None = None) -> np.ndarray:
        """Cosine of every unit to the best-matching view of the question, each unit taking its
        best-matching row (its context or one of its views)."""
        scores, rows = index.search(query_vectors, index.ntotal)
        best = np.full(len(self.clauses), -np.inf, np.float32)
        owners = self._r.row_units if row_units is None else row_units
        np.maximum.at(best, owners[rows.ravel()], scores.ravel())
        return best

    def _phrases(self, text: str, text_vector: np.ndarray | None = None) -> np.ndarray:
        """Per unit: the best e5 cosine between a phrase of the question and one of the unit's.

        `text_vector`: the question's own query vector when the caller encoded it alone; a
        question without punctuation is its own single phrase, and is not encoded twice.
        """
        if self._r.phrase_index is None or self._r.phrase_units is None:
            return np.zeros(len(self.clauses), np.float32)
        asked = phrases(text)[:MAX_QUERY_PHRASES] or [text]
        vectors = text_vector if text_vector is not None and asked == [text] else self.embedder.encode_queries(asked)
        return self._dense_views(self._r.phrase_index, vectors, self._r.phrase_units)

    def _bridge(self, words: list[str]) -> tuple[dict[str, list[str]], dict[str, float]]:
        """Each word → the policy terms closest to it in the cross-lingual encoder's space, if close
        enough; and each word's cosine to its nearest policy term, close enough or not."""
        if not words or self.aux_encoder is None or self._r.vocab_aux is None or not len(self._r.vocab_terms):
            return {}, {}
        sims = self.aux_encoder.encode(words) @ self._r.vocab_aux.T
        nearest = np.argsort(-sims, axis=1)[:, :MAX_BRIDGED_PER_WORD]
        bridges = {word: [self._r.vocab_terms[j] for j in row if sims[i, j] >= BRIDGE_MIN_SIMILARITY]
                   for i, (word, row) in enumerate(zip(words, nearest))}
        closeness = {word: float(sims[i, row[0]]) for i, (word, row) in enumerate(zip(words, nearest))}
        return {word: targets for word, targets in bridges.items() if targets}, closeness

    def _vocabulary_fit(self, words: list[str], bridges: dict[str, list[str]],
                        closeness: dict[str, float]) -> dict[str, float]:
        """How well the policy's own vocabulary covers the question's words (`words`: distinct).

        Off-topic questions (パスワード, 有給休暇, weather) are made of words the policy has no
        counterpart for; near-topic ones (個人情報の保存期間) share its common words (個人情報)
        but not the specific ones (保存期間). So each word weighs by its specificity in the
        policy (BM25-style idf; a word the policy never uses weighs most):
        - "reach": weighted share of words the policy uses or has a bridged counterpart for;
        - "closeness": weighted mean of each word's closeness to the policy's terms (1 for a word
          it uses, else the cosine to its nearest term), which keeps the near misses the
          bridge's threshold cuts off.
        """
        if not words:
            return {"reach": 0.0, "closeness": 0.0}
        n = len(self.clauses)
        weights = np.array([math.log((n + 1) / (self._r.vocab.get(w, 0) + 1)) + 1.0 for w in words])
        reached = np.array([w in self._r.vocab or w in bridges for w in words], dtype=float)
        close = np.array([1.0 if w in self._r.vocab else closeness.get(w, 0.0) for w in words])
        total = float(weights.sum())
        return {"reach": float(weights @ reached) / total, "closeness": float(weights @ close) / total}


_SENTENCE_END = re.compile(r"(?<=[。！？!?\n])\s*|(?<=[.])\s+")
# E-mail addresses, phone numbers and <…> markup tokens (chat mentions, links): none of them
# says anything about the policy, and the first two identify people.
# Every run is bounded (an address's local part is at most 64 characters, a domain label 63):
# unbounded runs made a long unbroken line (「あああ…」, 350,000 characters) quadratic to scan.
_NOISE = re.compile(r"https?://[!-~]+|[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+|\+?\d[\d\s()\-‐－]{8,}\d"
                    r"|<[^<>\s][^<>]{0,200}>")
SENTENCE_FOCUS = True
MIN_SENTENCE_CHARS = 6
# A pasted message rarely has more than a few sentences worth scoring; a 4,000-character wall of
# short lines must not cost hundreds of forward passes (the embedder serves one request at a time).
MAX_SENTENCE_VIEWS = 8


def _english_words(text: str) -> list[str]:
    return [w for w in dict.fromkeys(w.lower() for w in _ENGLISH_WORD.findall(text)) if w not in _ENGLISH_STOPWORDS]


def sentences(text: str) -> list[str]:
    """The sentences of a multi-sentence message (empty for a one-sentence question)."""
    parts = [p.strip() for p in _SENTENCE_END.split(text) if len(p.strip()) >= MIN_SENTENCE_CHARS]
    return parts if len(parts) > 1 else []


def scrub_noise(text: str) -> str:
    """Drop what carries no policy meaning before retrieval (the question itself is kept as asked)."""
    return _NOISE.sub(" ", text)


def fusion_weights(lang: str) -> tuple[float, float, float]:
    """(dense, cross-lingual, lexical) weights for a question in `lang`; Japanese's for any other."""
    return FUSION_WEIGHTS.get(lang, FUSION_WEIGHTS["ja"])


def fuse(dense: np.ndarray, aux: np.ndarray, lexical: np.ndarray, lang: str,
         phrase: np.ndarray | None = None) -> np.ndarray:
    """Per unit: the weighted sum of each retriever's z-scores over the units (a retriever that
    scored nothing, such as BM25 with no known word, adds nothing)."""
    weights = fusion_weights(lang)
    phrase = np.zeros(len(dense)) if phrase is None else phrase
    total = np.zeros(len(dense), np.float64)
    for scores, weight in zip((dense, aux, lexical, phrase), weights):
        total += weight * _standardised(np.asarray(scores, dtype=np.float64))
    return total


def phrases(text: str) -> list[str]:
    """The phrases of a text: its pieces between commas, full stops and line breaks."""
    return [p.strip() for p in _PHRASE_BREAK.split(text) if len(p.strip()) >= MIN_PHRASE_CHARS]


def phrase_rows(clauses: list[Clause]) -> tuple[list[str], np.ndarray]:
    """The texts of the phrase index and the clause index of every row: each unit's phrases and
    each pair of neighbouring phrases (a condition and its rule: 「同意を得ずに、…提供しません」)."""
    texts: list[str] = []
    owners: list[int] = []
    for i, clause in enumerate(clauses):
        own = phrases(clause.text)
        for text in own + [f"{a}、{b}" for a, b in zip(own, own[1:])]:
            texts.append(text)
            owners.append(i)
    return texts, np.asarray(owners, dtype=np.int64)


def _standardised(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 1e-9 else np.zeros_like(values)
