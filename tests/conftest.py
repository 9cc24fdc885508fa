"""Session fixtures: one real index built from the real policy per run, with the real model for
tests marked `model` and with the model-free encoders of tests/fakes.py for every other test.

A test asks for `embedder`, `aux_encoder`, `index_dir`, `searcher` or `answerer` and gets the
real model only when it is marked `@pytest.mark.model` (retrieval quality, answers checked by
their content); otherwise it gets the hashed stand-ins, so `pytest -m "not model"` (`make
test-fast`) never loads the 1.5 GB model. A test that is not marked and loads it anyway fails
(`model_guard`).
"""
from __future__ import annotations

import importlib.abc
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests must never reach a model hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
POLICY_PATH = REPO / "policy_text" / "privacy_policy.txt"
DEV_QUESTIONS = REPO.parent / "shared" / "eval" / "questions-dev.jsonl"

# What loading the model imports; none of it is needed to answer with tests/fakes.py.
MODEL_PACKAGES = ("sentence_transformers", "transformers", "torch")


# Where test files go when the machine has one: a RAM disk (see pytest_configure).
RAM_DISK = Path("/dev/shm")
RAM_DISK_MIN_FREE = 4 << 30  # a materialized model folder alone is 250 MB; copies of it and of indexes add up
_RAM_BASETEMP = pytest.StashKey[Path]()


def pytest_configure(config: pytest.Config) -> None:
    """Temporary files (databases, index copies) go to the RAM disk when there is one. On a real
    disk every SQLite commit waits for fsync (about 4 ms on this machine) and a run makes many
    hundreds; no test is about surviving a power cut. An explicit --basetemp wins, and an
    xdist worker keeps the one its controller hands it."""
    if config.option.basetemp or hasattr(config, "workerinput"):
        return
    # A container's /dev/shm may be 64 MB: only a RAM disk with room for the model tests' files.
    if RAM_DISK.is_dir() and os.access(RAM_DISK, os.W_OK) and shutil.disk_usage(RAM_DISK).free >= RAM_DISK_MIN_FREE:
        config.option.basetemp = tempfile.mkdtemp(prefix="policybot-pytest-", dir=RAM_DISK)
        config.stash[_RAM_BASETEMP] = Path(config.option.basetemp)


def pytest_unconfigure(config: pytest.Config) -> None:
    """The RAM disk is memory: what this run put there goes with it."""
    directory = config.stash.get(_RAM_BASETEMP, None)
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)


def uses_model(request: pytest.FixtureRequest) -> bool:
    return request.node.get_closest_marker("model") is not None


@dataclass(frozen=True)
class AnsweringStack:
    """Two encoders, the real policy's index built with them, and its searcher and answerer."""

    embedder: object
    aux_encoder: object
    index_dir: Path
    searcher: object
    answerer: object


def _stack(tmp_path_factory, embedder, aux_encoder) -> AnsweringStack:
    from bot.answerer import Answerer
    from index import store
    from index.build import build

    directory = tmp_path_factory.mktemp("index")
    build(POLICY_PATH, directory, embedder.name, embedder=embedder, aux_encoder=aux_encoder)
    searcher = store.load_searcher(directory, embedder=embedder, aux_encoder=aux_encoder)
    return AnsweringStack(embedder, aux_encoder, directory, searcher, Answerer.fixed(searcher))


@pytest.fixture(scope="session")
def real_model(tmp_path_factory) -> AnsweringStack:
    """The default model and the cross-lingual encoder: only for tests marked `model`."""
    from index.embed import DEFAULT_MODEL, AuxEncoder, load_embedder

    return _stack(tmp_path_factory, load_embedder(DEFAULT_MODEL), AuxEncoder())


@pytest.fixture(scope="session")
def fake_model(tmp_path_factory) -> AnsweringStack:
    """The hashed stand-ins of tests/fakes.py: every other test."""
    from tests.fakes import HashAuxEncoder, HashEmbedder

    return _stack(tmp_path_factory, HashEmbedder(), HashAuxEncoder())


# --- what a test asks for: the model or the stand-in, by its marker ---------------------------
def _model_or_fake(request: pytest.FixtureRequest) -> AnsweringStack:
    return request.getfixturevalue("real_model" if uses_model(request) else "fake_model")


@pytest.fixture()
def embedder(request):
    return _model_or_fake(request).embedder


@pytest.fixture()
def aux_encoder(request):
    return _model_or_fake(request).aux_encoder


@pytest.fixture()
def index_dir(request) -> Path:
    return _model_or_fake(request).index_dir


@pytest.fixture()
def searcher(request):
    return _model_or_fake(request).searcher


@pytest.fixture()
def answerer(request):
    return _model_or_fake(request).answerer


# --- the guard: a test that is not marked `model` must not load it ----------------------------
class _ModelImportRecorder(importlib.abc.MetaPathFinder):
    """Notes (and refuses) an import of the model packages while an unmarked test runs."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] in MODEL_PACKAGES:
            self.seen.append(f"import {fullname}")
            raise ImportError(f"{fullname} imported by a test not marked `model`")
        return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    """An unmarked test that asks for `real_model` fails before that fixture loads the model
    (session fixtures are set up before the function-scoped guard below)."""
    if "real_model" in getattr(item, "fixturenames", ()) and item.get_closest_marker("model") is None:
        pytest.fail(f"{item.nodeid} uses real_model but is not marked `model`", pytrace=False)


@pytest.fixture(autouse=True)
def model_guard(request, monkeypatch):
    """Fails an unmarked test that loads the model: by importing sentence-transformers, torch or
    transformers, or by constructing the real encoders. Product code may catch the error this
    raises; the test fails at teardown all the same."""
    if uses_model(request):
        yield
        return
    from index import embed, store

    recorder = _ModelImportRecorder()

    def refuse(what: str):
        def loader(*args, **kwargs):
            recorder.seen.append(what)
            raise embed.ModelUnavailableError(f"{what} called by a test not marked `model`")
        return loader

    monkeypatch.setattr(embed, "load_embedder", refuse("load_embedder"))
    monkeypatch.setattr(store, "load_embedder", refuse("load_embedder"))
    monkeypatch.setattr(embed, "AuxEncoder", refuse("AuxEncoder"))
    monkeypatch.setattr(store, "AuxEncoder", refuse("AuxEncoder"))
    sys.meta_path.insert(0, recorder)
    try:
        yield
    finally:
        sys.meta_path.remove(recorder)
    assert not recorder.seen, (f"{request.node.nodeid} loads the model ({', '.join(recorder.seen)}) "
                               "but is not marked `model`")


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory) -> Path:
    """An empty database as the real migrations make it (bot.storage.open_database), to copy.

    Migrating a new file costs about 0.1 s and some 170 tests each start an app on a fresh
    database; copying this one costs nothing. Creating and migrating a database is tested
    where it is the subject (tests/test_storage.py, the outbox and store tests)."""
    from bot.storage import open_database

    path = tmp_path_factory.mktemp("database") / "empty.sqlite3"
    db, _ = open_database(path)
    db.close()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no -wal or -shm left: the file is whole
    return path


@pytest.fixture()
def settings(tmp_path, index_dir, embedder, migrated_database):
    """Settings pointing at the session index and a fresh SQLite file (empty, at the current schema)."""
    from bot.settings import Settings

    db_path = tmp_path / "policybot.sqlite3"
    shutil.copyfile(migrated_database, db_path)
    return Settings(policy_path=POLICY_PATH, index_dir=index_dir, db_path=db_path, model=embedder.name)


@pytest.fixture()
def cli(monkeypatch, index_dir, embedder, aux_encoder):
    """Environment of a user with a built index, for bot.cli.main in-process: model loads return
    the test's encoders (the session's model, or the stand-ins), so the CLI code path is real but
    no test pays for a second load."""
    from index import store
    from index.embed import DEFAULT_MODEL

    for name in list(os.environ):
        if name.startswith(("POLICYBOT_", "SLACK_", "SMTP_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("POLICYBOT_INDEX", str(index_dir))
    monkeypatch.setenv("POLICYBOT_POLICY", str(POLICY_PATH))
    if embedder.name != DEFAULT_MODEL:
        monkeypatch.setenv("POLICYBOT_MODEL", embedder.name)
    real_loader = store.load_embedder
    monkeypatch.setattr(store, "load_embedder", lambda name: embedder if name == embedder.name else real_loader(name))
    monkeypatch.setattr(store, "AuxEncoder", lambda: aux_encoder)
