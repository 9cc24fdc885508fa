"""The e5 tokenizer's ids from `tokenizer.json` without the Rust Unigram's 280 MB trie.

Loading `tokenizer.json` into a `tokenizers.Tokenizer` takes about a second and a quarter of
a cold `policybot ask`'s memory, nearly all of it the Unigram model's trie over 250k pieces.
This tokenizer keeps what is cheap from `tokenizers` — the normalizer (the precompiled
charsmap) and the Metaspace pre-tokenizer, built from the same JSON — and replaces the rest
with plain Python doing what `tokenizers` does, step for step:

1. split the raw text on the special tokens (leftmost-longest; `lstrip`/`rstrip` tokens take
   the whitespace beside them), as its added vocabulary does;
2. normalize and pre-tokenize each other part;
3. the Unigram search (`index/models/unigram.py`), fusing a run of unknown characters into
   one `<unk>` as its `fuse_unk` does;
4. truncate to the model's 512 tokens and add `<s>` … `</s>`.

tests/test_e5_tokenizer.py checks that the ids equal the Rust tokenizer's on the policy,
the question files and thousands of random strings.
"""
from __future__ import annotations

import json
import logging
import re
from pathlib import Path

from index.models.cache import file_version, write_atomically
from index.models.errors import ModelUnavailableError
from index.models.unigram import UnigramPieces

_LAYOUT_VERSION = 1  # bump when the cached copy's content changes
log = logging.getLogger(__name__)

# Rust's char::is_whitespace (the Unicode White_Space property), which lstrip/rstrip use
_WHITESPACE = frozenset("\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
                        "\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


class E5LeanTokenizer:
    """`encode(text)` → ids with `<s>`/`</s>`, truncated to `max_tokens`."""

    def __init__(self, spec: dict, pieces: list[str], scores: list[float], longest_from: dict[str, int] | None,
                 max_tokens: int) -> None:
        """`spec`: tokenizer.json without its vocabulary; `pieces`, `scores`: the vocabulary."""
        from tokenizers import Tokenizer

        model = spec["model"]
        if model.get("type") != "Unigram" or model.get("byte_fallback"):
            raise ModelUnavailableError("the e5 tokenizer.json is not a Unigram model without byte fallback: "
                                        "delete the model cache folder to rebuild it.")
        self._pieces = UnigramPieces(pieces, scores, longest_from)
        self._unk_id = int(model["unk_id"])
        self._specials = _SpecialTokens(spec["added_tokens"])
        # The same pipeline with a one-piece vocabulary: its normalizer and pre-tokenizer are the real ones.
        shell = {**spec, "added_tokens": [], "post_processor": None,
                 "model": {**model, "vocab": [[pieces[self._unk_id], 0.0]], "unk_id": 0}}
        rust = Tokenizer.from_str(json.dumps(shell))
        self._normalizer, self._pre_tokenizer = rust.normalizer, rust.pre_tokenizer
        self._bos, self._eos = self._pieces.ids["<s>"], self._pieces.ids["</s>"]
        self._max_content = max_tokens - 2

    @classmethod
    def from_folder(cls, folder: Path, max_tokens: int) -> E5LeanTokenizer:
        """From the model folder's tokenizer.json, through a compact copy cached beside the folder.

        Parsing the 17 MB tokenizer.json and indexing 250k pieces costs ~0.6 s per process; the
        copy (pieces, scores, longest piece per first character) loads in a fifth of that.
        Where the cache cannot be written, tokenizer.json is read every time: slower, same ids.
        """
        source = folder / "tokenizer.json"
        compact = folder.parent / f"e5-pieces-v{_LAYOUT_VERSION}-{file_version(source, name=folder.name)}.json"
        try:
            cached = json.loads(compact.read_bytes())
            return cls(cached["spec"], cached["pieces"], cached["scores"], cached["longest_from"], max_tokens)
        except Exception:  # not written yet, or damaged: rebuild it from tokenizer.json
            pass
        spec = json.loads(source.read_bytes())
        vocab = spec["model"].pop("vocab")
        pieces, scores = [piece for piece, _ in vocab], [score for _, score in vocab]
        tokenizer = cls(spec, pieces, scores, None, max_tokens)
        try:
            write_atomically(compact, json.dumps({"spec": spec, "pieces": pieces, "scores": scores,
                                                  "longest_from": tokenizer._pieces.longest_from},
                                                 ensure_ascii=False).encode("utf-8"))
        except OSError as exc:
            log.warning("cannot cache the e5 tokenizer in %s (%s): each start reads tokenizer.json instead; "
                        "set POLICYBOT_CACHE_DIR to a writable directory", compact.parent, exc)
        return tokenizer

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for special_id, part in self._specials.split(text):
            if special_id is not None:
                ids.append(special_id)
                continue
            normalized = self._normalizer.normalize_str(part) if self._normalizer is not None else part
            words = self._pre_tokenizer.pre_tokenize_str(normalized) if self._pre_tokenizer is not None \
                else [(normalized, None)]
            for word, _ in words:
                ids.extend(self._word_ids(word))
        return [self._bos, *ids[:self._max_content], self._eos]

    def _word_ids(self, word: str) -> list[int]:
        """The Unigram pieces of one word; a run of unknown characters is one `<unk>`."""
        ids: list[int] = []
        unknown_from: int | None = None
        segments = self._pieces.segments(word)
        for start, end, pid in segments:
            if pid is None or pid == self._unk_id:
                unknown_from = start if unknown_from is None else unknown_from
                continue
            if unknown_from is not None:
                ids.append(self._pieces.ids.get(word[unknown_from:start], self._unk_id))
                unknown_from = None
            ids.append(pid)
        if unknown_from is not None:
            ids.append(self._pieces.ids.get(word[unknown_from:], self._unk_id))
        return ids


class _SpecialTokens:
    """The added vocabulary's split of raw text around special tokens (never normalized)."""

    def __init__(self, added_tokens: list[dict]) -> None:
        for token in added_tokens:
            if token.get("normalized") or token.get("single_word"):
                raise ModelUnavailableError(f"unsupported added token {token.get('content')!r} in tokenizer.json.")
        self._by_content = {t["content"]: t for t in added_tokens}
        contents = sorted(self._by_content, key=len, reverse=True)  # leftmost, then longest
        self._pattern = re.compile("|".join(map(re.escape, contents))) if contents else None

    def split(self, text: str) -> list[tuple[int | None, str]]:
        """(token id, "") for a special token, (None, part) for the text between them."""
        if self._pattern is None:
            return [(None, text)] if text else []
        parts: list[tuple[int | None, str]] = []
        offset = 0  # where the text not yet taken starts
        for match in self._pattern.finditer(text):
            start, stop = match.start(), match.end()
            if start < offset:  # inside what an rstrip already took
                continue
            token = self._by_content[match.group()]
            if token.get("lstrip"):
                while start > offset and text[start - 1] in _WHITESPACE:
                    start -= 1
            if token.get("rstrip"):
                while stop < len(text) and text[stop] in _WHITESPACE:
                    stop += 1
            if offset < start:
                parts.append((None, text[offset:start]))
            parts.append((int(token["id"]), ""))
            offset = stop
        if offset < len(text):
            parts.append((None, text[offset:]))
        return parts
