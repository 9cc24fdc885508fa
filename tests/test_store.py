"""Index directory (index/store.py): manifest, generations, no-op rebuilds, rollback, clear load errors.

Builds use the session models on a small real policy text (about a second each); the
manifest of the real policy is checked on the session index.
"""
from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import pytest

from index import store
from tests.build_support import build_like_cli as build
from index.policy import PolicyParseError, load
from index.store import IndexUnavailableError

REPO = Path(__file__).resolve().parents[1]
POLICY_PATH = REPO / "policy_text" / "privacy_policy.txt"

SMALL = """第1条（目的）
本ポリシーは、当社における個人情報の取扱いについて定めます。

第2条（利用目的）
1. 当社は、取得した個人情報を次の目的のために利用します。
- (1) 本サービスの提供のため
- (2) 料金の請求のため
2. 当社は、利用目的を変更する場合には、本人に通知します。

第3条（お問い合わせ窓口）
お問い合わせは、次の窓口までご連絡ください。
  株式会社テスト 個人情報お問い合わせ窓口
  メールアドレス：privacy@example.jp

制定日：2025年1月1日
"""
CHANGED = SMALL.replace("privacy@example.jp", "desk@example.jp").replace(
    "制定日：2025年1月1日", "制定日：2025年1月1日\n改定日：2025年7月1日")


def live(index_dir: Path) -> str:
    return (index_dir / "CURRENT").read_text(encoding="utf-8").strip()


def leftovers(index_dir: Path) -> list[str]:
    return sorted(p.name for p in index_dir.iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def small_template(tmp_path_factory, fake_model) -> Path:
    """A one-generation index of SMALL; tests work on copies."""
    root = tmp_path_factory.mktemp("small")
    (root / "policy.txt").write_text(SMALL, encoding="utf-8")
    build(root / "policy.txt", root / "index", fake_model.embedder, fake_model.aux_encoder)
    return root


@pytest.fixture()
def small(tmp_path, small_template) -> tuple[Path, Path]:
    """(policy file, index dir): a private copy of the template."""
    shutil.copytree(small_template, tmp_path / "small")
    return tmp_path / "small" / "policy.txt", tmp_path / "small" / "index"


# --- what a build writes ----------------------------------------------------------------
def test_manifest_records_how_the_real_index_was_built(index_dir, embedder):
    import faiss

    policy = load(POLICY_PATH)
    generation = index_dir / live(index_dir)
    manifest = json.loads((generation / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["schema"] == store.SCHEMA_VERSION
    assert manifest["policy_sha256"] == policy.sha256
    assert manifest["model"] == embedder.name
    assert manifest["dims"] == embedder.dim
    assert manifest["clause_count"] == len(policy.clauses())
    assert datetime.fromisoformat(manifest["built_at"]).tzinfo is not None
    assert manifest["versions"]["python"] and "faiss-cpu" in manifest["versions"]
    assert manifest["facts"]["contact_email"] == "info@sokonara.co.jp"
    assert manifest["facts"]["revision"] == "2026-06-03"

    saved = json.loads((generation / "clauses.json").read_text(encoding="utf-8"))
    assert [c["id"] for c in saved] == [c.id for c in policy.clauses()]
    assert [c["text"] for c in saved] == [c.text for c in policy.clauses()]
    assert (generation / "policy.txt").read_text(encoding="utf-8") == POLICY_PATH.read_text(encoding="utf-8")
    dense = faiss.read_index(str(generation / "dense.faiss"))
    views = sum(len(c.views) for c in policy.clauses())
    assert (dense.ntotal, dense.d) == (manifest["clause_count"] + views, embedder.dim) == (manifest["dense_rows"], embedder.dim)
    assert leftovers(index_dir) == []


def test_unchanged_policy_is_a_no_op_unless_forced_and_old_generations_are_pruned(small, embedder, aux_encoder):
    policy_path, index_dir = small
    before = live(index_dir)
    report = build(policy_path, index_dir, embedder, aux_encoder)
    assert report.skipped is True
    assert report.generation == before == live(index_dir)
    assert report.clause_count == len(load(policy_path).clauses())
    assert (report.revision, report.dates) == ("2025-01-01", ("2025-01-01",))  # a no-op still names it

    forced = build(policy_path, index_dir, embedder, aux_encoder, force=True)
    assert forced.skipped is False and forced.generation != before
    assert live(index_dir) == forced.generation
    assert leftovers(index_dir) == []

    # a third generation prunes the first: only the live one and the one before it stay
    third = build(policy_path, index_dir, embedder, aux_encoder, force=True).generation
    assert sorted(p.name for p in index_dir.glob("g-*")) == sorted([forced.generation, third])
    assert (live(index_dir), (index_dir / "PREVIOUS").read_text(encoding="utf-8").strip()) == (
        third, forced.generation)


def test_changed_policy_makes_a_new_generation_and_rollback_restores_the_old(small, embedder, aux_encoder):
    policy_path, index_dir = small
    old = live(index_dir)
    policy_path.write_text(CHANGED, encoding="utf-8")

    report = build(policy_path, index_dir, embedder, aux_encoder)
    assert report.skipped is False and report.generation != old
    assert report.previous == old and report.previous_policy_text == SMALL
    assert (report.revision, report.dates) == ("2025-07-01", ("2025-01-01", "2025-07-01"))
    assert live(index_dir) == report.generation
    assert (index_dir / "PREVIOUS").read_text(encoding="utf-8").strip() == old
    assert (index_dir / old / "manifest.json").is_file()
    searcher = store.load_searcher(index_dir, embedder=embedder, aux_encoder=aux_encoder)
    assert (searcher.facts.contact_email, searcher.facts.revision) == ("desk@example.jp", "2025-07-01")

    assert store.rollback(index_dir) == old
    assert live(index_dir) == old
    searcher = store.load_searcher(index_dir, embedder=embedder, aux_encoder=aux_encoder)
    assert (searcher.facts.contact_email, searcher.facts.revision) == ("privacy@example.jp", "2025-01-01")
    assert leftovers(index_dir) == []


def test_build_command_names_a_lone_date_the_enactment(small, capsys, monkeypatch, embedder):
    from bot.cli import main

    monkeypatch.setenv("POLICYBOT_MODEL", embedder.name)  # the default model, or the stand-in of tests/fakes.py
    policy_path, index_dir = small
    assert main(["build", "--policy", str(policy_path), "--index", str(index_dir), "-q"]) == 0
    assert ") at revision 2025-01-01 制定; nothing to do" in capsys.readouterr().out


def test_broken_policy_raises_and_leaves_the_live_generation_alone(small, embedder, aux_encoder):
    policy_path, index_dir = small
    before = live(index_dir)
    files_before = sorted(p.name for p in index_dir.iterdir())
    policy_path.write_text(SMALL.replace("第3条（お問い合わせ窓口）", "第2条（お問い合わせ窓口）"), encoding="utf-8")
    with pytest.raises(PolicyParseError) as caught:
        build(policy_path, index_dir, embedder, aux_encoder, force=True)
    assert caught.value.line == 10
    assert live(index_dir) == before
    assert sorted(p.name for p in index_dir.iterdir()) == files_before
    searcher = store.load_searcher(index_dir, embedder=embedder, aux_encoder=aux_encoder)
    assert searcher.facts.contact_email == "privacy@example.jp"


# --- clear errors ---------------------------------------------------------------------------
def test_loading_a_missing_index_names_the_build_command(tmp_path):
    with pytest.raises(IndexUnavailableError, match="policybot build"):
        store.load_searcher(tmp_path / "no-index")


def test_loading_with_another_model_names_both_models(index_dir, embedder):
    with pytest.raises(IndexUnavailableError) as caught:
        store.load_searcher(index_dir, model="intfloat/some-other-model")
    message = str(caught.value)
    assert embedder.name in message and "intfloat/some-other-model" in message
    assert "policybot build" in message


def test_rollback_without_a_previous_generation_is_a_clear_error(small):
    _, index_dir = small
    with pytest.raises(IndexUnavailableError, match="roll back"):
        store.rollback(index_dir)
