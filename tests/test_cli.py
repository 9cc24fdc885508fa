"""`policybot` as users run it: a few real subprocesses, the rest in-process through bot.cli.main.

In-process runs reuse the session's loaded models (index.store's loader returns them), so
the CLI code path is real but no test pays for a second model load. Subprocesses load the
model themselves; only one of them gets that far.
"""
from __future__ import annotations

import io
import json
import re
import shutil
import sys
from pathlib import Path

import pytest

from index import store
from index.policy import load
from tests.cli_support import assert_one_clear_line, run, run_policybot

REPO = Path(__file__).resolve().parents[1]
POLICY_PATH = REPO / "policy_text" / "privacy_policy.txt"
BILLING = "料金の請求や決済に私の個人情報は使われますか"
OUTSOURCING = "個人情報の取扱いを外部の業者に委託していますか"
OUT_OF_SCOPE = "社員食堂のメニューを教えてください"
ENGLISH = "What happens when the privacy policy is changed?"

SMALL = """第1条（目的）
本ポリシーは、当社における個人情報の取扱いについて定めます。

第2条（利用目的）
1. 当社は、取得した個人情報を次の目的のために利用します。
- (1) 本サービスの提供のため
- (2) 料金の請求のため

第3条（お問い合わせ窓口）
お問い合わせは、次の窓口までご連絡ください。
  メールアドレス：privacy@example.jp

制定日：2025年1月1日
"""


# --- subprocesses -------------------------------------------------------------------------
@pytest.mark.model
def test_ask_json_from_stdin_writes_one_object_a_line_in_order(index_dir, tmp_path):
    questions = [BILLING, ENGLISH]
    done = run_policybot("ask", "--json", "-", stdin="\n".join(questions) + "\n", cwd=tmp_path,
                         env={"POLICYBOT_INDEX": str(index_dir), "POLICYBOT_POLICY": str(POLICY_PATH)})
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 2
    objects = [json.loads(line) for line in lines]
    assert [o["question"] for o in objects] == questions
    assert objects[0]["citations"][0]["id"] == "3-1-4"
    assert objects[1]["lang"] == "en" and objects[1]["status"] == "answered"


def test_ask_without_an_index_says_to_build_it(tmp_path):
    done = run_policybot("ask", "個人情報は何に使いますか", cwd=tmp_path,
                         env={"POLICYBOT_INDEX": str(tmp_path / "no-index"), "POLICYBOT_POLICY": str(POLICY_PATH)})
    assert done.returncode == 2
    assert_one_clear_line(done.stderr, "policybot build")
    assert done.stdout == ""


def test_ask_on_a_stale_index_says_to_rebuild(index_dir, embedder, tmp_path):
    edited = tmp_path / "privacy_policy.txt"
    edited.write_text(POLICY_PATH.read_text(encoding="utf-8").replace("info@sokonara.co.jp", "new@sokonara.co.jp"),
                      encoding="utf-8")
    done = run_policybot("ask", "--json", BILLING, cwd=tmp_path,
                         env={"POLICYBOT_INDEX": str(index_dir), "POLICYBOT_POLICY": str(edited),
                              "POLICYBOT_MODEL": embedder.name})  # the model the index was built with
    assert done.returncode == 2
    assert_one_clear_line(done.stderr, "policybot build")
    assert done.stdout == ""


def test_build_with_a_missing_policy_file_is_a_clear_error(tmp_path):
    missing = tmp_path / "missing.txt"
    done = run_policybot("build", "--policy", str(missing), cwd=tmp_path,
                         env={"POLICYBOT_INDEX": str(tmp_path / "index")})
    assert done.returncode == 2
    assert_one_clear_line(done.stderr, "not found", str(missing))
    assert not (tmp_path / "index").exists() or not any((tmp_path / "index").iterdir())


# --- in-process (the `cli` fixture is in conftest.py) ------------------------------------
@pytest.mark.model
def test_ask_json_prints_one_answer_object(cli, capsys):
    code, out, err = run(capsys, "ask", "--json", BILLING)
    assert code == 0, err
    data = json.loads(out)
    assert isinstance(data, dict)
    assert data["question"] == BILLING and data["status"] == "answered"
    assert data["citations"][0]["label"] == "第3条（利用目的）第1項第4号"


@pytest.mark.model
def test_ask_words_are_joined_into_one_question_and_rendered_as_text(cli, capsys):
    code, out, _ = run(capsys, "ask", "自分の個人情報を", "削除してほしい")
    assert code == 0
    assert "■ 第8条（個人情報に関する利用者の開示・訂正等の権利）" in out
    assert "■ 第10条（お問い合わせ）【お問合せ窓口】" in out
    assert "お問い合わせ窓口: info@sokonara.co.jp" in out
    assert "窓口へのメール下書き: mailto:info@sokonara.co.jp?subject=" in out


@pytest.mark.model
def test_ask_escalation_exits_zero(cli, capsys):
    code, out, _ = run(capsys, "ask", "--json", OUT_OF_SCOPE)
    assert code == 0
    data = json.loads(out)
    assert data["status"] == "escalated" and data["citations"] == []
    assert data["contact"]["email"] == "info@sokonara.co.jp"


@pytest.mark.model
def test_eval_prints_the_metrics(cli, capsys, tmp_path):
    questions = tmp_path / "questions.jsonl"
    rows = [
        {"id": "c1", "kind": "direct", "lang": "ja", "q": BILLING, "gold": ["3-1-4"], "escalate": False},
        {"id": "c2", "kind": "direct", "lang": "ja", "q": OUTSOURCING, "gold": ["5"], "escalate": False},
        {"id": "c3", "kind": "oos", "lang": "ja", "q": OUT_OF_SCOPE, "gold": [], "escalate": True},
    ]
    questions.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "eval", str(questions))
    assert code == 0, err
    assert re.search(r"questions\s+3 \(2 in scope\)", out)
    assert re.search(r"recall@1\s+1\.000", out)
    assert re.search(r"recall@3\s+1\.000", out)
    assert re.search(r"MRR\s+1\.000", out)
    assert re.search(r"out-of-scope escalated\s+1\.000", out)
    assert re.search(r"in-scope escalated\s+0\.000", out)
    assert "MISS" not in out


@pytest.mark.model
def test_chat_answers_until_exit(cli, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{BILLING}\n\nexit\n個人情報は何に使いますか\n"))
    code, out, _ = run(capsys, "chat")
    assert code == 0
    assert "株式会社ソコナラ" in out.splitlines()[0] and "2026-06-03" in out.splitlines()[0]
    assert out.count("■ 第3条（利用目的）第1項第4号") == 1  # answered once, then stopped at exit


def test_build_prints_clause_count_and_model_and_is_a_no_op_the_second_time(cli, capsys, tmp_path, embedder):
    policy = tmp_path / "policy.txt"
    policy.write_text(SMALL, encoding="utf-8")
    index = tmp_path / "index"
    count = len(load(policy).clauses())

    code, out, err = run(capsys, "build", "--policy", str(policy), "--index", str(index), "-q")
    assert code == 0, err
    assert re.search(rf"built {count} clauses with {re.escape(embedder.name)}", out)
    assert store.read_manifest(index)["clause_count"] == count

    code, out, _ = run(capsys, "build", "--policy", str(policy), "--index", str(index), "-q")
    assert code == 0
    assert f"up to date ({count} clauses, model {embedder.name})" in out

    policy.write_text(SMALL.replace("privacy@example.jp", "desk@example.jp"), encoding="utf-8")
    code, out, _ = run(capsys, "build", "--policy", str(policy), "--index", str(index), "-q")
    assert code == 0 and "--rollback" in out
    assert store.read_manifest(index)["facts"]["contact_email"] == "desk@example.jp"

    code, out, _ = run(capsys, "build", "--index", str(index), "--rollback")
    assert code == 0 and "rolled back" in out
    assert store.read_manifest(index)["facts"]["contact_email"] == "privacy@example.jp"


def test_build_of_a_broken_policy_names_the_line_and_keeps_the_index(cli, capsys, tmp_path, index_dir):
    index = tmp_path / "index"
    shutil.copytree(index_dir, index)
    broken = tmp_path / "broken.txt"
    broken.write_text(SMALL.replace("第3条（お問い合わせ窓口）", "第2条（お問い合わせ窓口）"), encoding="utf-8")
    before = sorted(p.name for p in index.rglob("*"))
    code, out, err = run(capsys, "build", "--policy", str(broken), "--index", str(index), "--force")
    assert code == 2
    assert_one_clear_line(err, "broken.txt:9:")
    assert sorted(p.name for p in index.rglob("*")) == before
    assert store.read_manifest(index) == store.read_manifest(index_dir)


def test_rollback_without_a_previous_generation_is_a_clear_error(cli, capsys, tmp_path):
    code, _, err = run(capsys, "build", "--index", str(tmp_path / "empty-index"), "--rollback")
    assert code == 2
    assert_one_clear_line(err, "roll back")


def test_eval_with_a_malformed_question_file_is_a_clear_error(cli, capsys, tmp_path):
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "q": "質問"\n', encoding="utf-8")
    code, _, err = run(capsys, "eval", str(bad))
    assert code == 2
    assert_one_clear_line(err, "bad.jsonl:1")
