"""`policybot ask` on input that is not clean text: invalid UTF-8, NULs, emoji, stray carriage
returns, blank lines, megabyte lines. Whatever comes in, each input line gets exactly one
valid-UTF-8 JSON object and the run goes on to the end."""
from __future__ import annotations

import io
import json
import os
import random
import sys
from pathlib import Path

import pytest

from bot.answer import MAX_QUESTION_CHARS
from bot.render.json_doc import answer_json
from tests.cli_support import run, run_policybot

REPO = Path(__file__).resolve().parents[1]
POLICY_PATH = REPO / "policy_text" / "privacy_policy.txt"
BILLING = "料金の請求や決済に私の個人情報は使われますか"
EMOJI = ["😀", "🙇\u200d♂️", "👨\u200d👩\u200d👧", "🇯🇵", "\U0001fae0", "⚠️"]
MEGABYTE = 1 << 20


def hostile_lines(count: int = 1000, seed: int = 20261130) -> list[bytes]:
    """`count` input lines (without their "\\n"), the same for every run: random bytes, emoji,
    NULs, stray "\\r", blank and whitespace-only lines, questions with invalid bytes inside,
    and three lines of one megabyte."""
    rng = random.Random(seed)

    def random_bytes(n: int) -> bytes:
        return bytes(b for b in rng.randbytes(n) if b != 0x0A)

    makers = [
        lambda: random_bytes(rng.randint(1, 120)),
        lambda: "".join(rng.choice(EMOJI) for _ in range(rng.randint(1, 30))).encode("utf-8"),
        lambda: b"\x00" * rng.randint(1, 50) + BILLING.encode("utf-8") + b"\x00",
        lambda: BILLING.encode("utf-8")[:rng.randint(1, 40)] + random_bytes(5),  # a character cut in half
        lambda: b"\r",
        lambda: rng.choice([b"", b" ", b"\t \t", "\u3000\u3000".encode("utf-8")]),
        lambda: b"abc\rdef\r" + BILLING.encode("utf-8"),
        lambda: BILLING.encode("utf-8") + b"\r",  # a CRLF line ending
        lambda: "".join(chr(rng.randint(0x20, 0x2FFFF)) for _ in range(rng.randint(1, 40)))
        .encode("utf-8", "replace"),  # any code point, lone surrogates become "?"
    ]
    lines = [rng.choice(makers)() for _ in range(count)]
    lines[100] = random_bytes(MEGABYTE)
    lines[500] = ("あ" * (MEGABYTE // 3)).encode("utf-8")
    lines[900] = b"\xff\xfe" * (MEGABYTE // 2)
    lines[-1] = BILLING.encode("utf-8")  # the last line has no newline
    return lines


@pytest.mark.model
def test_ask_json_gives_one_valid_json_object_per_line_of_hostile_input(index_dir, answerer, tmp_path):
    lines = hostile_lines()
    done = run_policybot("ask", "--json", "-", stdin=b"\n".join(lines), cwd=tmp_path, timeout=3600,
                         env={"POLICYBOT_INDEX": str(index_dir), "POLICYBOT_POLICY": str(POLICY_PATH)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert b"Traceback" not in done.stderr
    text = done.stdout.decode("utf-8")  # strict: the output is valid UTF-8
    assert text.endswith("\n")
    out = text.split("\n")[:-1]
    assert len(out) == len(lines) == 1000
    objects = [json.loads(line) for line in out]
    assert all(isinstance(o, dict) and o["status"] in ("answered", "escalated") for o in objects)

    # each object answers its own line, in order
    for raw, obj in zip(lines, objects):
        expected = raw.decode("utf-8", "replace")
        assert obj["question"] == (expected[:-1] if expected.endswith("\r") else expected)
    assert objects[-1]["status"] == "answered" and objects[-1]["citations"]

    # a megabyte line is refused by the length limit, like any over-long question, not searched
    too_long = {lang: answer_json(answerer.answer(question))["answer"]
                for lang, question in (("ja", "個" * (MAX_QUESTION_CHARS + 1)), ("en", "ab " * MAX_QUESTION_CHARS))}
    for index in (100, 500, 900):
        obj = objects[index]
        assert obj["status"] == "escalated" and obj["citations"] == [] and obj["confidence"] == 0
        assert obj["answer"] == too_long[obj["lang"]]


@pytest.mark.parametrize("stdin, questions", [
    (b"a\rb\n", ["a\rb"]),  # a lone carriage return does not split the line
    (b"\r\n", [""]),
    (b"   \n\t\n", ["   ", "\t"]),
    (BILLING.encode() + b"\r\n" + BILLING.encode(), [BILLING, BILLING]),  # CRLF, then no final newline
    (b"", []),
])
def test_lines_end_at_newlines_only(cli, capsys, monkeypatch, stdin, questions):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    code, out, err = run(capsys, "ask", "--json", "-")
    assert code == 0, err
    objects = [json.loads(line) for line in out.split("\n")[:-1]]
    assert [o["question"] for o in objects] == questions
    assert all(o["status"] == "escalated" for o, q in zip(objects, questions) if not q.strip())


@pytest.mark.model
def test_invalid_utf8_in_a_one_shot_question_is_replaced(index_dir, tmp_path):
    question = os.fsdecode(b"\xff\xfe" + BILLING.encode("utf-8") + b"\xc3")  # how argv delivers such bytes
    done = run_policybot("ask", "--json", question, cwd=tmp_path,
                         env={"POLICYBOT_INDEX": str(index_dir), "POLICYBOT_POLICY": str(POLICY_PATH)})
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    data = json.loads(done.stdout)
    assert data["question"] == "\ufffd\ufffd" + BILLING + "\ufffd"
    assert data["status"] == "answered" and data["citations"][0]["id"] == "3-1-4"


@pytest.mark.model
def test_chat_answers_a_line_with_invalid_utf8(cli, capsys, monkeypatch):
    typed = b"\xff\xfe" + "社員食堂のメニューを教えてください".encode("utf-8") + b"\nexit\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(typed), encoding="utf-8",
                                                       errors="surrogateescape"))  # as Python opens a terminal
    code, out, err = run(capsys, "chat")
    assert code == 0, err
    assert "mailto:" in out  # escalated, with a draft link built from the replaced text
