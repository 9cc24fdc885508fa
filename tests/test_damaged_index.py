"""A damaged index directory or an unusable policy path: one line on stderr naming the fix, exit 2,
never a traceback; and `policybot build`, the fix those lines name, always gets past the damage.

Each test damages its own copy of the session's real index (tests/conftest.py). Every kind of
damage runs through bot.cli.main in-process with output captured at the file descriptors
(`capfd`: what faiss or any native code writes to fd 2 counts too); one kind also runs through
the console script in a subprocess, for what only a real process shows (its exit status, and
nothing printed at start-up or exit). test_cli.py does the same for the other user errors.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Callable

import pytest

from index import store
from index.build import load_policy
from tests.cli_support import assert_one_clear_line, run, run_policybot

REPO = Path(__file__).resolve().parents[1]
POLICY_PATH = REPO / "policy_text" / "privacy_policy.txt"
BILLING = "料金の請求や決済に私の個人情報は使われますか"


def live(index: Path) -> Path:
    return index / (index / "CURRENT").read_text(encoding="utf-8").strip()


def truncate(path: Path, keep: int = 100) -> None:
    path.write_bytes(path.read_bytes()[:keep])


def old_schema(index: Path) -> None:
    manifest_path = live(index) / "manifest.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["schema"] = store.SCHEMA_VERSION - 1
    manifest_path.write_text(json.dumps(manifest), encoding="utf-8")


def empty_directory(index: Path) -> None:
    for child in index.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()


DAMAGE: dict[str, Callable[[Path], None]] = {
    "manifest not JSON": lambda index: (live(index) / "manifest.json").write_text("{\"schema\": 2, ", encoding="utf-8"),
    "manifest a list": lambda index: (live(index) / "manifest.json").write_text("[]", encoding="utf-8"),
    "manifest without keys": lambda index: (live(index) / "manifest.json").write_text('{"schema": 2}', encoding="utf-8"),
    "dense.faiss truncated": lambda index: truncate(live(index) / "dense.faiss"),
    "aux.faiss truncated": lambda index: truncate(live(index) / "aux.faiss", 10),
    "clauses.json missing": lambda index: (live(index) / "clauses.json").unlink(),
    "clauses.json garbage": lambda index: (live(index) / "clauses.json").write_bytes(b"\x00\xff[1, 2"),
    "lexical missing": lambda index: shutil.rmtree(live(index) / "lexical"),
    "CURRENT names a missing generation": lambda index: (index / "CURRENT").write_text("g-20990101T000000Z-deadbeef\n"),
    "CURRENT empty": lambda index: (index / "CURRENT").write_text(""),
    "CURRENT binary garbage": lambda index: (index / "CURRENT").write_bytes(bytes(range(256))),
    "CURRENT points outside": lambda index: (index / "CURRENT").write_text("/etc\n"),
    "generation of an old schema": old_schema,
    "empty index directory": empty_directory,
}


@pytest.fixture()
def damaged_copy(index_dir, tmp_path) -> Callable[[str], Path]:
    def make(kind: str) -> Path:
        copy = tmp_path / "index"
        shutil.copytree(index_dir, copy)
        DAMAGE[kind](copy)
        return copy
    return make


@pytest.mark.parametrize("kind", DAMAGE)
def test_ask_on_a_damaged_index_names_the_build_command(cli, capfd, damaged_copy, kind):
    index = damaged_copy(kind)
    code, out, err = run(capfd, "ask", "--json", "--index", str(index), BILLING)
    assert code == 2, err
    assert_one_clear_line(err, "policybot build")
    assert out == ""


def test_the_console_script_on_a_damaged_index_is_one_line_and_exit_2(damaged_copy, tmp_path, embedder):
    index = damaged_copy("dense.faiss truncated")  # the damage a native library (faiss) reads
    done = run_policybot("ask", "--json", BILLING, cwd=tmp_path,
                         env={"POLICYBOT_INDEX": str(index), "POLICYBOT_POLICY": str(POLICY_PATH),
                              "POLICYBOT_MODEL": embedder.name})  # the model the index was built with
    assert done.returncode == 2, done.stderr
    assert_one_clear_line(done.stderr, "policybot build")
    assert done.stdout == ""


@pytest.mark.parametrize("kind", DAMAGE)
def test_build_over_a_damaged_index_makes_a_working_one(cli, capsys, damaged_copy, kind):
    index = damaged_copy(kind)
    code, out, err = run(capsys, "build", "--index", str(index), "-q")
    assert code == 0, err
    assert "Traceback" not in err and f"built {len(load_policy(POLICY_PATH).clauses())} clauses" in out
    code, out, err = run(capsys, "ask", "--json", "--index", str(index), BILLING)
    assert code == 0, err
    assert json.loads(out)["citations"][0]["id"] == "3-1-4"


def test_rollback_to_a_previous_generation_that_is_gone_is_a_clear_error(cli, capsys, damaged_copy):
    index = damaged_copy("empty index directory")
    (index / "PREVIOUS").write_text("/etc\n")  # a directory, but no generation of this index
    code, _, err = run(capsys, "build", "--index", str(index), "--rollback")
    assert code == 2
    assert_one_clear_line(err, "roll back")


# --- the policy path --------------------------------------------------------------------------

def binary(tmp_path: Path) -> Path:
    path = tmp_path / "policy.bin"
    path.write_bytes(bytes(range(256)) * 64)
    return path


def unreadable(tmp_path: Path) -> Path:
    path = tmp_path / "policy.txt"
    shutil.copy(POLICY_PATH, path)
    path.chmod(0)
    return path


POLICY_PATHS: dict[str, Callable[[Path], Path]] = {
    "a directory": lambda tmp: tmp,
    "a path through a file": lambda tmp: Path(shutil.copy(POLICY_PATH, tmp / "policy.txt")) / "policy.txt",
    "a binary file": binary,
    "an empty file": lambda tmp: Path(shutil.copy(os.devnull, tmp / "empty.txt")),
    "an unreadable file": unreadable,
}
needs_permissions = pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0,
                                       reason="root reads files without read permission")


@pytest.mark.parametrize("kind", [pytest.param(k, marks=needs_permissions) if k == "an unreadable file" else k
                                  for k in POLICY_PATHS])
def test_build_from_an_unusable_policy_path_is_one_clear_line(cli, capfd, monkeypatch, index_dir, tmp_path, kind):
    index = tmp_path / "index"
    shutil.copytree(index_dir, index)
    before = sorted(p.name for p in index.rglob("*"))
    (tmp_path / "policy").mkdir()
    policy = POLICY_PATHS[kind](tmp_path / "policy")
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capfd, "build", "--policy", str(policy), "--index", str(index))
    assert code == 2
    assert_one_clear_line(err, "policy")
    assert sorted(p.name for p in index.rglob("*")) == before  # the live index is untouched


@pytest.mark.parametrize("kind", ["a binary file", pytest.param("an unreadable file", marks=needs_permissions)])
def test_ask_with_an_unreadable_policy_file_is_one_clear_line(cli, capfd, monkeypatch, tmp_path, kind):
    policy = POLICY_PATHS[kind](tmp_path)
    monkeypatch.setenv("POLICYBOT_POLICY", str(policy))
    monkeypatch.chdir(tmp_path)
    code, _, err = run(capfd, "ask", BILLING)
    assert code == 2
    assert_one_clear_line(err, str(policy), "policybot build")
