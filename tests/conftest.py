"""Session fixtures: one real index built from the real policy, one loaded model per test run."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests must never reach a model hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

REPO = Path(__file__).resolve().parents[1]
POLICY_PATH = REPO / "policy_text" / "privacy_policy.txt"
DEV_QUESTIONS = REPO.parent / "shared" / "eval" / "questions-dev.jsonl"


@pytest.fixture(scope="session")
def embedder():
    from index.embed import DEFAULT_MODEL, load_embedder

    return load_embedder(DEFAULT_MODEL)


@pytest.fixture(scope="session")
def aux_encoder():
    from index.embed import AuxEncoder

    return AuxEncoder()


@pytest.fixture(scope="session")
def index_dir(tmp_path_factory, embedder, aux_encoder) -> Path:
    from index.build import build

    directory = tmp_path_factory.mktemp("index")
    build(POLICY_PATH, directory, embedder.name, embedder=embedder, aux_encoder=aux_encoder)
    return directory


@pytest.fixture(scope="session")
def searcher(index_dir, embedder, aux_encoder):
    from index.store import load_searcher

    return load_searcher(index_dir, embedder=embedder, aux_encoder=aux_encoder)


@pytest.fixture(scope="session")
def answerer(searcher):
    from bot.answerer import Answerer

    return Answerer.fixed(searcher)


@pytest.fixture()
def settings(tmp_path, index_dir):
    """Settings pointing at the session index and a fresh SQLite file."""
    from bot.settings import Settings

    return Settings(policy_path=POLICY_PATH, index_dir=index_dir, db_path=tmp_path / "policybot.sqlite3")


@pytest.fixture()
def cli(monkeypatch, index_dir, embedder, aux_encoder):
    """Environment of a user with a built index, for bot.cli.main in-process: model loads return
    the session's models, so the CLI code path is real but no test pays for a second load."""
    from index import store

    for name in list(os.environ):
        if name.startswith(("POLICYBOT_", "SLACK_", "SMTP_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("POLICYBOT_INDEX", str(index_dir))
    monkeypatch.setenv("POLICYBOT_POLICY", str(POLICY_PATH))
    real_loader = store.load_embedder
    monkeypatch.setattr(store, "load_embedder", lambda name: embedder if name == embedder.name else real_loader(name))
    monkeypatch.setattr(store, "AuxEncoder", lambda: aux_encoder)
