"""Rebuild and hot reload on real indexes built from fixture revisions of the policy.

Builds are the slow part (seconds each), so each revision is built once per module into a
template directory and every test works on its own copy.
"""
from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import threading
import time
from pathlib import Path

import pytest

from bot.answerer import Answerer
from bot.reload import SearcherHolder, index_key
from bot.settings import Settings, SettingsError
from index import store
from tests.build_support import build_like_cli as build
from index.policy import PolicyParseError

FIXTURES = Path(__file__).parent / "fixtures" / "policies"
BASE = FIXTURES / "base.txt"
OLD_EMAIL = "info@sokonara.co.jp"
NEW_EMAIL = "privacy@sokonara.co.jp"
RIGHTS_QUESTION = "自分の個人情報の開示を請求したいです"


@pytest.fixture(scope="module")
def base_template(tmp_path_factory, fake_model) -> Path:
    """An index of base.txt (one generation)."""
    directory = tmp_path_factory.mktemp("base-index")
    build(BASE, directory, fake_model.embedder, fake_model.aux_encoder)
    return directory


@pytest.fixture(scope="module")
def two_generations(tmp_path_factory, base_template, fake_model) -> Path:
    """base.txt as the previous generation, inserted_item.txt live."""
    directory = tmp_path_factory.mktemp("two") / "index"
    shutil.copytree(base_template, directory)
    build(FIXTURES / "inserted_item.txt", directory, fake_model.embedder, fake_model.aux_encoder)
    return directory


def copy_of(template: Path, tmp_path: Path) -> Path:
    target = tmp_path / "index"
    shutil.copytree(template, target)
    return target


def holder_on(index_dir: Path, embedder, aux_encoder, **kw) -> SearcherHolder:
    searcher = store.load_searcher(index_dir, embedder=embedder, aux_encoder=aux_encoder)
    return SearcherHolder(index_dir, searcher, **kw)


def wait_for(predicate, timeout: float = 30.0) -> bool:
    """Wait for a background event (not a timing assertion: the timeout only bounds a hang)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


# --- rebuild + hot swap ------------------------------------------------------------------------

def test_rebuild_hot_swaps_under_concurrent_asks_and_the_contact_follows_the_new_text(
        base_template, tmp_path, embedder, aux_encoder):
    index_dir = copy_of(base_template, tmp_path)
    holder = holder_on(index_dir, embedder, aux_encoder, interval=0)
    answerer = Answerer(holder)
    assert answerer.answer(RIGHTS_QUESTION).contact.email == OLD_EMAIL

    stop = threading.Event()
    swapped = threading.Event()
    errors: list[BaseException] = []
    seen: list[tuple[bool, str, str]] = []  # (after swap?, contact e-mail, revision)
    lock = threading.Lock()

    def ask_forever():
        while not stop.is_set():
            after = swapped.is_set()
            try:
                result = answerer.answer(RIGHTS_QUESTION)
                with lock:
                    seen.append((after, result.contact.email, result.revision))
            except BaseException as exc:  # noqa: BLE001 (any failure is the test failing)
                errors.append(exc)
                return

    workers = [threading.Thread(target=ask_forever) for _ in range(2)]
    for worker in workers:
        worker.start()
    try:
        assert wait_for(lambda: len(seen) >= 2)  # the workers are answering before the build starts
        report = build(FIXTURES / "contact_changed.txt", index_dir, embedder, aux_encoder)
        assert holder.check() is True
        swapped.set()
        assert wait_for(lambda: sum(1 for after, _, _ in seen if after) >= 4)
    finally:
        stop.set()
        for worker in workers:
            worker.join(30)

    assert errors == []
    assert any(not after for after, _, _ in seen)
    assert report.previous_policy_text == BASE.read_text(encoding="utf-8")
    assert {email for _, email, _ in seen} <= {OLD_EMAIL, NEW_EMAIL}
    assert {(email, rev) for after, email, rev in seen if after} == {(NEW_EMAIL, "2026-09-01")}
    result = answerer.answer(RIGHTS_QUESTION)
    assert result.contact.email == NEW_EMAIL
    # the rights request cites 第8条, which sends the reader to the contact block of 第10条: quoted
    # from the new text, with the new e-mail and the new postal address
    window = next(c for c in result.citations if c.id == "10-2")
    assert window.label == "第10条（お問い合わせ）【お問合せ窓口】"
    assert "メールアドレス：privacy@sokonara.co.jp" in window.text
    assert "住所：〒812-0011 福岡市博多区博多駅前2丁目2番2号博多駅前ビル" in window.text


def test_a_request_in_flight_keeps_the_searcher_it_started_with(two_generations, tmp_path, embedder, aux_encoder):
    index_dir = copy_of(two_generations, tmp_path)
    holder = holder_on(index_dir, embedder, aux_encoder, interval=0)
    in_flight = holder.get()
    store.rollback(index_dir)
    assert holder.check() is True
    assert holder.get() is not in_flight
    # The old searcher is still whole: the in-flight request can finish with it. 第3条第1項第10号
    # exists only in inserted_item.txt (base.txt has nine items).
    assert in_flight.clause("3-1-10").text == "本サービスを利用する企業に対する、利用規約に同意した利用者情報の提供"
    assert in_flight.search("利用料金の請求").hits
    assert "3-1-10" not in {c.id for c in holder.get().clauses}


def test_unchanged_index_is_not_reloaded(base_template, tmp_path, embedder, aux_encoder):
    index_dir = copy_of(base_template, tmp_path)
    holder = holder_on(index_dir, embedder, aux_encoder, interval=0)
    before = holder.get()
    assert holder.check() is False
    assert holder.get() is before and holder.reloads == 0


def test_watcher_thread_picks_up_a_new_generation(two_generations, tmp_path, embedder, aux_encoder):
    index_dir = copy_of(two_generations, tmp_path)
    holder = holder_on(index_dir, embedder, aux_encoder, interval=0.05)
    assert holder.get().facts.revision == "2026-09-01"
    with holder.start(sighup=False):
        store.rollback(index_dir)
        assert wait_for(lambda: holder.reloads == 1)
    assert holder.get().facts.revision == "2026-06-03"
    assert holder.key == index_key(store.read_manifest(index_dir))


@pytest.mark.skipif(not hasattr(signal, "SIGHUP"), reason="no SIGHUP on this platform")
def test_sighup_reloads_at_once(two_generations, tmp_path, embedder, aux_encoder):
    index_dir = copy_of(two_generations, tmp_path)
    holder = holder_on(index_dir, embedder, aux_encoder, interval=0)  # no polling: only the signal
    previous_handler = signal.getsignal(signal.SIGHUP)
    try:
        with holder.start(sighup=True):
            store.rollback(index_dir)
            os.kill(os.getpid(), signal.SIGHUP)
            assert wait_for(lambda: holder.reloads == 1)
    finally:
        signal.signal(signal.SIGHUP, previous_handler)
    assert holder.get().facts.revision == "2026-06-03"


def test_rollback_is_picked_up_like_a_build(two_generations, tmp_path, embedder, aux_encoder):
    index_dir = copy_of(two_generations, tmp_path)
    holder = holder_on(index_dir, embedder, aux_encoder, interval=0)
    answerer = Answerer(holder)
    assert answerer.facts.revision == "2026-09-01"
    store.rollback(index_dir)
    assert holder.check() is True and answerer.facts.revision == "2026-06-03"
    store.rollback(index_dir)
    assert holder.check() is True and answerer.facts.revision == "2026-09-01"


# --- failures keep the old index serving -------------------------------------------------------

def test_broken_policy_stops_the_build_and_the_old_index_keeps_serving(base_template, tmp_path, embedder,
                                                                        aux_encoder):
    index_dir = copy_of(base_template, tmp_path)
    holder = holder_on(index_dir, embedder, aux_encoder, interval=0)
    manifest = store.read_manifest(index_dir)
    with pytest.raises(PolicyParseError) as err:
        build(FIXTURES / "broken_duplicate_article.txt", index_dir, embedder, aux_encoder)
    assert err.value.line == 36  # 「第5条 （共同利用）」: 第6条's heading renumbered 第5条
    assert store.read_manifest(index_dir) == manifest
    assert holder.check() is False
    assert Answerer(holder).answer(RIGHTS_QUESTION).contact.email == OLD_EMAIL


def test_build_command_on_a_broken_policy_names_the_line(base_template, tmp_path, capsys):
    from bot.cli import main

    index_dir = copy_of(base_template, tmp_path)
    manifest = store.read_manifest(index_dir)
    code = main(["build", "--policy", str(FIXTURES / "broken_duplicate_article.txt"), "--index", str(index_dir)])
    err = capsys.readouterr().err
    assert code == 2
    assert "broken_duplicate_article.txt:36: 第5条 appears twice" in err and "Traceback" not in err
    assert store.read_manifest(index_dir) == manifest


def test_a_generation_that_fails_to_load_is_logged_and_not_served(two_generations, tmp_path, embedder, aux_encoder,
                                                                  caplog):
    index_dir = copy_of(two_generations, tmp_path)
    holder = holder_on(index_dir, embedder, aux_encoder, interval=0)
    serving = holder.get()
    previous = (index_dir / "PREVIOUS").read_text(encoding="utf-8").strip()
    (index_dir / previous / "clauses.json").write_text("[{", encoding="utf-8")  # a damaged generation
    store.rollback(index_dir)
    with caplog.at_level(logging.ERROR, logger="bot.reload"):
        assert holder.check() is False
    assert holder.get() is serving
    assert "could not load the new index" in caplog.text and "still serving" in caplog.text
    assert Answerer(holder).answer(RIGHTS_QUESTION).status == "answered"
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="bot.reload"):
        assert holder.check() is False  # the same broken generation is not retried on every tick
    assert caplog.text == ""


def test_edited_policy_file_without_a_rebuild_is_warned_about_once(base_template, tmp_path, embedder, aux_encoder,
                                                                   caplog):
    index_dir = copy_of(base_template, tmp_path)
    policy = tmp_path / "policy.txt"
    shutil.copy(FIXTURES / "changed_clause.txt", policy)
    holder = holder_on(index_dir, embedder, aux_encoder, interval=0, policy_path=policy)
    with caplog.at_level(logging.WARNING, logger="bot.reload"):
        holder.check()
        holder.check()
    assert caplog.text.count("has changed since the index was built") == 1
    assert "policybot build" in caplog.text


@pytest.fixture()
def build_cli(monkeypatch, embedder, aux_encoder):
    """`policybot build` in process, with the session's models and no announcement channel."""
    from bot.announce import ANNOUNCE_ENV
    from bot.cli import main
    from tests.build_support import use_session_models

    monkeypatch.setenv("POLICYBOT_MODEL", embedder.name)  # the default model, or the stand-in of tests/fakes.py
    monkeypatch.delenv(ANNOUNCE_ENV, raising=False)
    use_session_models(monkeypatch, embedder, aux_encoder)
    return lambda policy, index_dir: main(["build", "--policy", str(policy), "--index", str(index_dir), "-q"])


def test_build_command_names_the_revision_it_builds_and_the_one_it_keeps(base_template, tmp_path, capsys,
                                                                         build_cli, embedder):
    index_dir = copy_of(base_template, tmp_path)
    assert build_cli(BASE, index_dir) == 0
    clauses = store.read_manifest(index_dir)["clause_count"]
    assert capsys.readouterr().out == (f"index is up to date ({clauses} clauses, model {embedder.name}) at "
                                       "revision 2026-06-03 改定; nothing to do (use --force to rebuild)\n")

    assert build_cli(FIXTURES / "revision_2026_09.txt", index_dir) == 0
    out = capsys.readouterr().out
    assert "  revision: 2026-06-03 → 2026-09-01" in out.splitlines()  # the change summary comes first
    generation = store.read_manifest(index_dir)["generation"]
    [built] = [line for line in out.splitlines() if line.startswith("built ")]
    assert built.startswith(f"built {clauses + 1} clauses with {embedder.name} in ")  # one item added
    assert built.endswith(f"s (revision 2026-09-01 改定) → {index_dir}/{generation}")


# --- `policybot diff` against a real index ----------------------------------------------------

def test_diff_command_defaults_to_the_index_text_against_the_policy_file(base_template, capsys):
    from bot.cli import main

    code = main(["diff", "--index", str(base_template), "--policy", str(FIXTURES / "inserted_item.txt"), "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0
    assert data["old"]["sha256"] == store.read_manifest(base_template)["policy_sha256"]
    assert [(c["old_id"], c["new_id"]) for c in data["changes"] if c["kind"] == "moved"] == [
        ("3-1-8", "3-1-9"), ("3-1-9", "3-1-10")]


@pytest.mark.parametrize("raw, expected", [("", 30.0), ("5", 5.0), ("0", 0.0)])
def test_reload_interval_from_env(monkeypatch, raw, expected):
    monkeypatch.setenv("POLICYBOT_RELOAD_SECONDS", raw)
    assert Settings.from_env().reload_seconds == expected


@pytest.mark.parametrize("raw", ["soon", "-1"])
def test_bad_reload_interval_says_what_to_use(monkeypatch, raw):
    monkeypatch.setenv("POLICYBOT_RELOAD_SECONDS", raw)
    with pytest.raises(SettingsError, match="POLICYBOT_RELOAD_SECONDS"):
        Settings.from_env()
