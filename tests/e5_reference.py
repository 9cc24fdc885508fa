"""The bundled e5 folder loaded by sentence-transformers: the reference the torch runtime must equal.

The product runs the default model through `index/models/e5_runtime.py`; this is how it ran
before, and how any other model still runs (index/embed.py), kept here to prove the runtime
computes the very same vectors.
"""
from __future__ import annotations

from pathlib import Path


def load_reference(path: Path):
    """The folder through `SentenceTransformer` on CPU, every weight widened from fp16 to fp32."""
    import torch
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(path), device="cpu", model_kwargs={"dtype": torch.float16},
                                local_files_only=True)
    return model.float()


def reference_vectors(model, texts: list[str], prompt: str):
    """As index/embed.py encodes with sentence-transformers: batches of 16, normalized."""
    return model.encode(list(texts), prompt=prompt, batch_size=16, convert_to_numpy=True,
                        normalize_embeddings=True, show_progress_bar=False)
