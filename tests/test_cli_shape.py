"""The shape of `policybot` (click), without a model: its commands, its one mapping of user errors
to one line and exit code 2, and what a command that needs no model imports."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli

REPO = Path(__file__).resolve().parents[1]
POLICY = REPO / "policy_text" / "privacy_policy.txt"
OURS = ("POLICYBOT_", "SLACK_", "SMTP_")


@pytest.fixture()
def runner(monkeypatch) -> CliRunner:
    import os

    for name in list(os.environ):
        if name.startswith(OURS) or name in ("PORT", "NO_COLOR"):
            monkeypatch.delenv(name)
    return CliRunner()


def listed_commands(help_text: str) -> set[str]:
    """The names in the "Commands:" section of a --help page (up to its first blank line)."""
    section = help_text.split("Commands:\n")[1].split("\n\n")[0]
    return {line.split()[0] for line in section.splitlines() if line.startswith("  ") and line[2] != " "}


def one_line(result) -> str:
    """The single line a user error prints on stderr (and nothing else, no traceback)."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("policybot: ") and "Traceback" not in result.stderr
    return lines[0]


def test_help_lists_every_command(runner):
    result = runner.invoke(cli, ["--help"])
    assert result.exit_code == 0
    assert listed_commands(result.stdout) == {"build", "ask", "chat", "eval", "serve", "diff", "handoff", "data"}
    assert "policybot ask --json -" in result.stdout  # the examples keep their lines


@pytest.mark.parametrize("group, commands", [("handoff", {"list", "show", "retry"}), ("data", {"purge", "forget"})])
def test_groups_list_their_commands(runner, group, commands):
    result = runner.invoke(cli, [group, "-h"])
    assert result.exit_code == 0
    assert listed_commands(result.stdout) == commands


@pytest.mark.parametrize("argv, needle", [
    (["ask", "--nope"], "--nope"),
    (["ask"], "QUESTION"),
    (["nosuch"], "nosuch"),
    (["handoff", "list", "--status", "lost"], "lost"),
    (["data", "purge", "--older-than", "soon"], "not a number of days"),
    (["data", "purge", "--older-than", "-1"], "0 or more"),
    (["diff", "--color", "--no-color", "--bogus"], "--bogus"),
])
def test_a_bad_option_is_one_line_and_exit_2(runner, argv, needle):
    result = runner.invoke(cli, argv)
    assert result.exit_code == 2
    line = one_line(result)
    assert needle in line and "--help" in line and result.stdout == ""


@pytest.mark.parametrize("argv, needle", [
    (["diff", "only-one.txt"], "give both OLD and NEW"),
    (["diff", str(POLICY), "missing.txt"], "missing.txt"),
    (["data", "--db", "missing.sqlite3", "purge", "--older-than", "1"], "no database"),
    (["data", "forget", "hanako@example.com"], "not a Slack user ID"),
    (["handoff", "--db", "missing.sqlite3", "show", "PB-20000101-ABCD"], "no hand-offs recorded yet"),
])
def test_a_user_error_is_one_line_and_exit_2(runner, argv, needle):
    with runner.isolated_filesystem():
        result = runner.invoke(cli, argv)
    assert result.exit_code == 2
    assert needle in one_line(result)


def test_a_bad_setting_is_one_line_naming_the_variable(runner):
    with runner.isolated_filesystem():
        result = runner.invoke(cli, ["handoff", "list"], env={"PORT": "http"})
    assert result.exit_code == 2
    assert "PORT='http'" in one_line(result)


def test_a_commands_return_value_is_the_exit_code(runner):
    """`handoff list` with no database is not an error: exit 0 and its own output."""
    with runner.isolated_filesystem():
        result = runner.invoke(cli, ["handoff", "--db", "none.sqlite3", "list"])
        assert result.exit_code == 0 and "no hand-offs" in result.stdout
        assert not Path("none.sqlite3").exists()


def test_status_choices_are_the_outbox_statuses():
    from bot.handoff.cli import STATUS_CHOICES
    from bot.handoff.outbox import STATUSES

    assert tuple(STATUS_CHOICES) == tuple(STATUSES)


def test_help_and_diff_import_no_model_stack(tmp_path):
    """`policybot --help` and `policybot diff` parse texts only: torch, sentence-transformers and
    faiss stay unimported (they cost seconds of start-up)."""
    script = f"""
import json, sys
from bot.cli import main
codes = [main(["--help"]), main(["diff", {str(POLICY)!r}, {str(POLICY)!r}, "--json"]),
         main(["diff", "--index", {str(tmp_path / "none")!r}, "--policy", {str(POLICY)!r}])]
heavy = sorted(m for m in ("torch", "sentence_transformers", "faiss", "transformers") if m in sys.modules)
print(json.dumps({{"codes": codes, "heavy": heavy}}), file=sys.stderr)
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=REPO, timeout=300)
    report = json.loads(done.stderr.strip().splitlines()[-1])
    assert report["codes"] == [0, 0, 2]
    assert report["heavy"] == []


def test_no_command_prints_the_help_and_exits_2(runner):
    result = runner.invoke(cli, [])
    assert result.exit_code == 2
    assert listed_commands(result.stdout) == {"build", "ask", "chat", "eval", "serve", "diff", "handoff", "data"}
