"""Model-free stand-ins for the two encoders, for tests that check Slack, hand-off, storage or
CLI shape rather than retrieval quality (the fast lane: `pytest -m "not model"`).

Only the encoders are replaced. The index is built by the real `index.store.build` from the real
policy, and questions are answered by the real `bot.answer.answer` over the real BM25, fusion
and decision; the vectors come from hashed character n-grams instead of e5 and USE, so a build
takes well under a second and nothing imports torch or sentence-transformers.
"""
from __future__ import annotations

import functools
import hashlib
import re

import numpy as np

from index.embed import AUX_MODEL

HASH_MODEL = "tests/hash-ngrams"
HASH_DIMS = 384
AUX_DIMS = 512

_LATIN_WORD = re.compile(r"[a-z0-9]+")
# e5's vectors share a large common direction: its cosines sit between ~0.8 and ~0.95, and the
# fitted decision (bot/decide.py) is calibrated on that range. This weight of a constant direction
# puts hashed cosines there too, so related text still scores higher than unrelated text.
_E5_COMMON_WEIGHT = 2.5


def _tokens(text: str) -> list[str]:
    """Lower-cased Latin words, and character unigrams and bigrams of everything else."""
    lowered = text.lower()
    tokens = _LATIN_WORD.findall(lowered)
    rest = [c for c in _LATIN_WORD.sub(" ", lowered) if not c.isspace() and c.isalnum()]
    tokens += rest + [a + b for a, b in zip(rest, rest[1:])]
    return tokens


@functools.lru_cache(maxsize=None)
def _bucket(token: str, dims: int, salt: bytes) -> tuple[int, float]:
    digest = hashlib.blake2b(token.encode("utf-8"), digest_size=8, key=salt).digest()
    value = int.from_bytes(digest, "little")
    return value % dims, 1.0 if (value >> 63) else -1.0


@functools.lru_cache(maxsize=1 << 16)
def _vector(text: str, dims: int, salt: bytes, common_weight: float) -> np.ndarray:
    """One text's vector, kept: the fast lane encodes the same clauses and questions again and
    again (every index build, every answer), and a vector depends on nothing but its text."""
    vector = np.zeros(dims, dtype=np.float32)
    for token in _tokens(text):
        index, sign = _bucket(token, dims - 1, salt)
        vector[index] += sign
    norm = np.linalg.norm(vector[:-1])
    if norm > 0:
        vector[:-1] /= norm
    vector[-1] = common_weight
    vector /= max(float(np.linalg.norm(vector)), 1e-12)
    vector.flags.writeable = False  # shared by every caller of the cache
    return vector


def hashed_vectors(texts: list[str], dims: int, salt: bytes, common_weight: float = 0.0) -> np.ndarray:
    """Unit vectors: signed token counts hashed into `dims - 1` buckets, plus a constant last
    dimension of `common_weight` (relative to the token part's norm)."""
    vectors = np.zeros((len(texts), dims), dtype=np.float32)
    for row, text in enumerate(texts):
        vectors[row] = _vector(text, dims, salt, common_weight)
    return np.ascontiguousarray(vectors)


class HashEmbedder:
    """The interface of index.embed.Embedder (name, dim, encode_queries, encode_passages)."""

    name = HASH_MODEL
    dim = HASH_DIMS

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return hashed_vectors(list(texts), HASH_DIMS, b"dense", _E5_COMMON_WEIGHT)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return hashed_vectors(list(texts), HASH_DIMS, b"dense", _E5_COMMON_WEIGHT)


class HashAuxEncoder:
    """The interface of index.embed.AuxEncoder (name, dim, encode); cosines spread like USE's."""

    name = AUX_MODEL  # the manifest records the aux model by this name
    dim = AUX_DIMS

    def encode(self, texts: list[str]) -> np.ndarray:
        return hashed_vectors(list(texts), AUX_DIMS, b"aux")
