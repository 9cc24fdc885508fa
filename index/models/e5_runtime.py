"""The bundled e5 model run on torch alone: what a cold `policybot ask` pays for, and no more.

Loading the materialized folder through sentence-transformers imports transformers' model
zoo and scikit-learn (4–6 s, ~400 MB) to run one small BERT. This module runs the very same
computation from the same folder with plain torch: the tokenizer from `tokenizer.json` (its
ids, without the Rust trie: `e5_lean_tokenizer`), the
weights from `model.safetensors` (mapped, the 250k×384 word table left in fp16 and only the
looked-up rows widened), a post-LN BERT forward with the same torch calls in the same order
as transformers' `BertModel` (SDPA attention, a boolean padding mask only when a batch has
padding), sentence-transformers' mean pooling and its two L2 normalizations, and its batching
(texts sorted longest first, batches of 16, results back in input order).

The vectors are bit-identical to sentence-transformers' (tests/test_default_model.py compares
them on every text of the policy and the question files), so an index built either way is the
same index. sentence-transformers stays the loader for any other model (POLICYBOT_MODEL).
"""
from __future__ import annotations

import json
import mmap
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from index.models.e5_lean_tokenizer import E5LeanTokenizer
from index.models.errors import ModelUnavailableError

_MAX_TOKENS = 512  # sentence_bert_config.json max_seq_length, and BERT's position table
_BATCH = 16
_SAFETENSORS_DTYPES = {"F16": torch.float16, "F32": torch.float32}


class E5Runtime:
    """multilingual-e5-small as sentence-transformers computes it: mean-pooled, L2-normalized."""

    def __init__(self, folder: Path) -> None:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
        expected = {"model_type": "bert", "hidden_act": "gelu", "position_embedding_type": "absolute"}
        found = {key: config.get(key, "absolute" if key == "position_embedding_type" else None) for key in expected}
        if found != expected:
            raise ModelUnavailableError(f"{folder} holds a model this runtime does not compute ({found}): "
                                        "delete the folder to have the bundled model materialized again.")
        self.hidden = int(config["hidden_size"])
        self.heads = int(config["num_attention_heads"])
        self.eps = float(config["layer_norm_eps"])
        self.pad_id = int(config["pad_token_id"])
        self.layers = int(config["num_hidden_layers"])
        weights = _read_safetensors(folder / "model.safetensors")
        self._word_table = weights.pop("embeddings.word_embeddings.weight")  # fp16, mapped
        if self._word_table.dtype != torch.float16:
            raise ModelUnavailableError(f"{folder}: expected an fp16 word table, found {self._word_table.dtype}.")
        # every other weight widened once to fp32, as `model.float()` does; the pooler is never used
        self._weights = {name: tensor.float() for name, tensor in weights.items() if not name.startswith("pooler.")}
        self._positions = torch.arange(int(config["max_position_embeddings"])).expand((1, -1))
        self.tokenizer = E5LeanTokenizer.from_folder(folder, _MAX_TOKENS)

    @property
    def dim(self) -> int:
        return self.hidden

    def encode(self, texts: list[str], prompt: str = "") -> np.ndarray:
        """Unit vectors for `texts`, each read as `prompt + text`, in input order."""
        if not texts:
            return np.zeros((0, self.hidden), dtype=np.float32)
        order = np.argsort([-len(text) for text in texts])  # sentence-transformers' sort, ties included
        vectors: list[torch.Tensor] = []
        with torch.inference_mode():
            for start in range(0, len(texts), _BATCH):
                batch = [prompt + texts[i] for i in order[start:start + _BATCH]]
                ids, mask = self._tokenize(batch)
                pooled = _mean_pool(self._forward(ids, mask), mask)
                pooled = F.normalize(pooled, p=2, dim=-1)  # the model's Normalize module
                vectors.extend(F.normalize(pooled, p=2, dim=1))  # encode(normalize_embeddings=True)
        restored = [vectors[i] for i in np.argsort(order)]
        return torch.stack(restored).numpy()

    def _tokenize(self, texts: list[str]) -> tuple[torch.Tensor, torch.Tensor]:
        encoded = [self.tokenizer.encode(text) for text in texts]
        width = max(len(token_ids) for token_ids in encoded)
        ids = torch.full((len(texts), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(texts), width), dtype=torch.long)
        for row, token_ids in enumerate(encoded):
            ids[row, :len(token_ids)] = torch.tensor(token_ids, dtype=torch.long)
            mask[row, :len(token_ids)] = 1
        return ids, mask

    def _forward(self, ids: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """transformers' BertModel.forward in eval mode with SDPA attention, call for call."""
        w = self._weights
        batch, length = ids.shape
        positions = self._positions[:, :length]
        token_types = torch.zeros((batch, length), dtype=torch.long)
        x = F.embedding(ids, self._word_table).float() + F.embedding(token_types, w["embeddings.token_type_embeddings.weight"])
        x = x + F.embedding(positions, w["embeddings.position_embeddings.weight"])
        x = self._layer_norm(x, "embeddings.LayerNorm")
        # no padding → no mask at all (transformers skips it); else a boolean key mask per query row
        attention_mask = None if bool(mask.all()) else mask.bool()[:, None, None, :].expand(batch, 1, length, length)
        head = self.hidden // self.heads
        for n in range(self.layers):
            p = f"encoder.layer.{n}."
            shape = (batch, length, -1, head)
            q = self._linear(x, p + "attention.self.query").view(*shape).transpose(1, 2)
            k = self._linear(x, p + "attention.self.key").view(*shape).transpose(1, 2)
            v = self._linear(x, p + "attention.self.value").view(*shape).transpose(1, 2)
            attended = F.scaled_dot_product_attention(q, k, v, attn_mask=attention_mask, dropout_p=0.0,
                                                      scale=head ** -0.5, is_causal=False)
            attended = attended.reshape(batch, -1, length, head).transpose(1, 2).contiguous()
            attended = attended.reshape(batch, length, -1).contiguous()
            x = self._layer_norm(self._linear(attended, p + "attention.output.dense") + x, p + "attention.output.LayerNorm")
            inner = F.gelu(self._linear(x, p + "intermediate.dense"))
            x = self._layer_norm(self._linear(inner, p + "output.dense") + x, p + "output.LayerNorm")
        return x

    def _linear(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return F.linear(x, self._weights[name + ".weight"], self._weights[name + ".bias"])

    def _layer_norm(self, x: torch.Tensor, name: str) -> torch.Tensor:
        return F.layer_norm(x, (self.hidden,), self._weights[name + ".weight"], self._weights[name + ".bias"], self.eps)


def _mean_pool(tokens: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """sentence-transformers' Pooling(mean), with its float32 accumulation."""
    weights = mask.unsqueeze(-1).to(tokens.dtype)
    summed = (tokens * weights).sum(dim=1, dtype=torch.float32)
    counts = torch.clamp(weights.sum(dim=1, dtype=torch.float32), min=1e-9)
    return summed / counts


def _read_safetensors(path: Path) -> dict[str, torch.Tensor]:
    """Tensors of a safetensors file over a private mapping: pages are read when first touched."""
    with path.open("rb") as handle:
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY)
    header_size = int.from_bytes(mapped[:8], "little")
    header = json.loads(mapped[8:8 + header_size])
    base = 8 + header_size
    tensors: dict[str, torch.Tensor] = {}
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        dtype = _SAFETENSORS_DTYPES.get(entry["dtype"])
        if dtype is None:
            raise ModelUnavailableError(f"{path}: tensor {name} has unsupported dtype {entry['dtype']}.")
        start, end = entry["data_offsets"]
        flat = torch.frombuffer(mapped, dtype=dtype, count=(end - start) // dtype.itemsize, offset=base + start)
        tensors[name] = flat.view(entry["shape"])
    return tensors
