"""Conversations on the command line: `ask --json -` with history, `chat` keeping context
(`/new` starts over), and `eval` on a conversation file. In-process, on the session's models."""
from __future__ import annotations

import io
import json
import re
import sys

import pytest

from bot.cli import ask_line
from tests.cli_support import run  # the `cli` fixture lives in tests/conftest.py

SAFETY = "個人情報の安全管理はどのように行っていますか"
FOLLOW_UP = "その責任者は決まっていますか"
OUT_OF_SCOPE = "社員食堂のメニューを教えてください"


@pytest.mark.model
def test_ask_json_lines_carry_history_and_plain_lines_keep_working(cli, capsys, monkeypatch):
    lines = [json.dumps({"question": FOLLOW_UP, "history": [SAFETY]}, ensure_ascii=False), FOLLOW_UP,
             '{"question": broken', json.dumps({"history": [SAFETY]}, ensure_ascii=False)]
    monkeypatch.setattr(sys, "stdin", io.StringIO("\n".join(lines) + "\n"))
    code, out, err = run(capsys, "ask", "--json", "-")
    assert code == 0 and "Traceback" not in err
    objects = [json.loads(line) for line in out.splitlines()]
    assert len(objects) == 4
    assert objects[0]["question"] == FOLLOW_UP and objects[0]["context_question"] == SAFETY
    assert objects[0]["status"] == "answered" and "7-2" in [c["id"] for c in objects[0]["citations"]]
    assert objects[1]["question"] == FOLLOW_UP and objects[1]["context_question"] is None
    # a line that only looks like JSON is a question like any other, answered as written
    assert objects[2]["question"] == '{"question": broken' and objects[2]["context_question"] is None
    assert objects[3]["question"] == lines[3]


def test_ask_line_reads_what_it_can_and_never_raises():
    assert ask_line("plain question") == ("plain question", [])
    assert ask_line('{"question": "q", "history": ["a", 3, null, "b"]}') == ("q", ["a", "b"])
    assert ask_line('{"question": "q", "history": "a"}') == ("q", ["a"])
    assert ask_line('{"question": "q", "history": {"a": 1}}') == ("q", [])
    assert ask_line('{"question": 5}') == ('{"question": 5}', [])
    assert ask_line("[1, 2]") == ("[1, 2]", [])
    deep = "{" + '"a":[' * 100000
    assert ask_line(deep) == (deep, [])


@pytest.mark.model
def test_chat_keeps_the_context_until_new(cli, capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(f"{SAFETY}\n{FOLLOW_UP}\n/new\n{FOLLOW_UP}\nexit\n"))
    code, out, _ = run(capsys, "chat")
    assert code == 0
    assert out.count(f"前の質問「{SAFETY}」") == 1  # the follow-up, not the question after /new
    first, after_new = out.split("新しい会話を始めます", 1)
    assert f"前の質問「{SAFETY}」" in first and "前の質問" not in after_new


@pytest.mark.model
def test_eval_reads_a_conversation_file(cli, capsys, tmp_path):
    rows = [
        {"id": "f1", "kind": "followup", "turns": [SAFETY, FOLLOW_UP], "gold": ["7-2"], "escalate": False},
        {"id": "s1", "kind": "switch", "turns": ["個人情報の利用目的を教えてください", "第三者に個人情報を提供することはありますか"],
         "gold": ["4-1"], "escalate": False},
        {"id": "o1", "kind": "oos-switch", "turns": ["個人情報を第三者に提供しますか", OUT_OF_SCOPE], "gold": [],
         "escalate": True},
    ]
    path = tmp_path / "conversations.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    code, out, err = run(capsys, "eval", "--json", str(path))
    assert code == 0, err
    report = json.loads(out)
    assert report["conversation"] is True and report["questions"] == 3
    assert report["followup_recall@3"] == 1.0 and report["followup_context_used"] == 1.0
    assert report["switch_recall@3"] == 1.0 and report["switch_context_used"] == 0.0
    assert report["oos_switch_escalated"] == 1.0
    assert [r["history"] for r in report["rows"]] == [r["turns"][:-1] for r in rows]
    code, out, _ = run(capsys, "eval", str(path))
    assert re.search(r"follow-ups\s+recall@1 \S+\s+recall@3 1\.000", out)
    assert re.search(r"off-topic switches escalated 1\.000", out)


def test_eval_refuses_a_conversation_without_turns(cli, capsys, tmp_path):
    path = tmp_path / "conversations.jsonl"
    path.write_text(json.dumps({"id": "x", "kind": "followup", "turns": [], "gold": [], "escalate": False}) + "\n")
    code, _, err = run(capsys, "eval", str(path))
    assert code == 2
    assert err.startswith("policybot: ") and ":1: `turns` must be a non-empty list" in err
    assert "Traceback" not in err
