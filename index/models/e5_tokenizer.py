"""The e5 tokenizer, rebuilt as a `tokenizers` Tokenizer that follows ``e5.c``'s ``tok_content``.

SentencePiece Unigram with the file's pieces and scores, its per-codepoint normalization map
(encoded as a precompiled charsmap so that it is applied codepoint by codepoint, exactly like
``e5.c``), collapse of repeated spaces, a "▁" metaspace prefix and XLM-R's special tokens.
"""

from __future__ import annotations

import struct
from typing import TYPE_CHECKING

import numpy as np

from index.models.e5_file import E5File

if TYPE_CHECKING:
    from tokenizers import Tokenizer

SPECIAL_PIECES = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


def build_tokenizer(m: E5File) -> Tokenizer:
    """XLM-R style Unigram tokenizer that follows ``e5.c``'s ``tok_content``."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = list(zip(m.pieces, m.scores.astype(float).tolist()))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=m.unk_id, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(m.norm_map)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = m.pieces[m.bos_id], m.pieces[m.eos_id]
    tokenizer.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, m.bos_id), (eos, m.eos_id)],
    )
    tokenizer.add_special_tokens(
        [AddedToken(p, special=True, lstrip=(p == "<mask>"), normalized=False) for p in SPECIAL_PIECES if p in m.pieces]
    )
    return tokenizer


def precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """Encode a codepoint -> replacement map as a SentencePiece precompiled charsmap.

    ``tokenizers`` only offers NFKC-style normalizers that work on whole
    strings (they compose sequences such as halfwidth kana + voiced mark and
    rewrite U+FF5E); ``e5.c`` maps each codepoint independently through its
    own table.  The ``Precompiled`` normalizer looks single codepoints up in a
    darts-clone double-array trie, so encoding the table in that format
    reproduces ``e5.c`` exactly.

    Layout: u32 trie size in bytes, the trie units (u32), then NUL-terminated
    replacement strings.  A unit holds either a child (label in bits 0-7,
    "has value" in bit 8, offset to its own children from bit 10) or a value
    (bit 31 set, low 31 bits = byte offset of the replacement string).
    Children of a node at position ``p`` live at ``(p ^ offset) ^ byte``,
    its value at ``p ^ offset``.
    """
    strings = bytearray()
    trie: dict = {}
    for cp in sorted(norm_map):
        if cp == 0:  # the lookup stops at NUL bytes
            continue
        node = trie
        for byte in chr(cp).encode("utf-8"):
            node = node.setdefault(byte, {})
        node[-1] = len(strings)
        strings += norm_map[cp].encode("utf-8") + b"\0"

    units = np.zeros(256, dtype=np.uint32)
    used = np.zeros(256, dtype=bool)
    used[0] = True  # the root unit
    base_taken = np.zeros(256, dtype=bool)
    lanes = np.arange(256)
    first_open_block = 0
    pending = [(trie, 0)]
    while pending:
        node, pos = pending.pop()
        labels = np.array(sorted(k for k in node if k >= 0) + ([0] if -1 in node else []))
        block = first_open_block
        while True:
            if block * 256 >= len(units):
                units = np.concatenate([units, np.zeros(256, dtype=np.uint32)])
                used = np.concatenate([used, np.zeros(256, dtype=bool)])
                base_taken = np.concatenate([base_taken, np.zeros(256, dtype=bool)])
            free = ~used[block * 256 : (block + 1) * 256]
            ok = free[lanes[:, None] ^ labels[None, :]].all(axis=1) & ~base_taken[block * 256 : (block + 1) * 256]
            if ok.any():
                base = block * 256 + int(np.argmax(ok))
                break
            if not free.any() and block == first_open_block:
                first_open_block += 1
            block += 1
        offset = base ^ pos
        if offset >= 1 << 21:
            raise ValueError("normalization table too large for a precompiled charsmap")
        units[pos] |= np.uint32(offset << 10)
        base_taken[base] = True
        for label, child in node.items():
            if label < 0:
                units[base] = np.uint32((1 << 31) | child)
                used[base] = True
                continue
            child_pos = base ^ label
            units[child_pos] = np.uint32(label | ((1 << 8) if -1 in child else 0))
            used[child_pos] = True
            pending.append((child, child_pos))
    trie_bytes = units.astype("<u4").tobytes()
    return struct.pack("<I", len(trie_bytes)) + trie_bytes + bytes(strings)

