"""Loading the materialized e5 folder on CPU in fp32, with its word table kept in fp16.

The folder stores fp16 weights (exact copies of the decoded 4-bit values). Every matmul runs
in fp32 (fp16 matmuls are very slow on CPU), but the 250k×384 word-embedding table is only
ever read row by row: it stays in fp16 (192 MB instead of 384 MB) and just the rows a text
looks up are widened to fp32. fp16 → fp32 is exact, so the vectors are bit-identical to a
model loaded wholly in fp32 (tests/test_default_model.py checks it).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F

from index.models.errors import ModelUnavailableError

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


def load_sentence_transformer(path: Path, *, compact_word_table: bool = True) -> SentenceTransformer:
    """Load a materialized folder on CPU, computing in fp32.

    With `compact_word_table` (the default) the word-embedding table stays in fp16, as
    stored; without it every weight is widened to fp32 (the reference the compact one is
    tested against).
    """
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(
        str(path),
        device="cpu",
        # fp16 as stored: widening happens below, after the word table is set aside
        model_kwargs={"dtype": torch.float16},  # transformers 5 name; `torch_dtype` is deprecated
        local_files_only=True,
    )
    if compact_word_table:
        embeddings = model[0].auto_model.embeddings
        embeddings.word_embeddings = Fp16RowsEmbedding(embeddings.word_embeddings.weight.detach())
    model.float()
    dtypes = {p.dtype for p in model.parameters()}
    if dtypes != {torch.float32}:
        raise ModelUnavailableError(f"{path} loaded with parameter dtypes {dtypes}, expected float32 only.")
    return model


class Fp16RowsEmbedding(torch.nn.Module):
    """An `nn.Embedding` lookup whose table stays fp16 and whose looked-up rows come out fp32.

    The table is a plain attribute, not a parameter or buffer, so `model.float()` and
    `model.to(...)` never widen it; there is nothing to train here.
    """

    def __init__(self, table: torch.Tensor) -> None:
        super().__init__()
        if table.dtype != torch.float16 or table.dim() != 2:
            raise ValueError(f"expected a 2-D fp16 table, got {table.dtype} {tuple(table.shape)}")
        self.table = table
        self.num_embeddings, self.embedding_dim = table.shape

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return F.embedding(input_ids, self.table).float()

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}, table=float16"
