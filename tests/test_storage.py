"""bot/storage on real SQLite files: migrating the files the previous code wrote, refusing newer
ones, database URLs, the answer record column, and the periodic worker both background jobs use."""
from __future__ import annotations

import sqlite3
import threading
from contextlib import closing

import pytest
from sqlalchemy.dialects import postgresql
from sqlalchemy.schema import CreateIndex, CreateTable

from bot.handoff.compose import handoff_from_answer
from bot.handoff.outbox import PENDING, SENT, Outbox
from bot.periodic import PeriodicWorker
from bot.settings import Settings
from bot.slack_store import SlackStore
from bot.storage import SCHEMA_VERSION, StorageError, open_database
from bot.storage.schema import metadata
from tests.handoff_support import PERMALINK, make_answer
from tests.storage_support import (OUTBOX_SCHEMA_2, insert_answer, insert_handoff, insert_vote, legacy_database,
                                   table_rows)

QUESTION = "自分の個人データの開示を請求したいです"
EMAIL = "hanako.sato@example.com"


@pytest.fixture()
def path(tmp_path):
    return tmp_path / "policybot.sqlite3"


def versions(path) -> tuple[int, dict[str, str]]:
    with closing(sqlite3.connect(path)) as db:
        return (db.execute("SELECT MAX(version) FROM schema_version").fetchone()[0],
                dict(db.execute("SELECT key, value FROM meta").fetchall()))


def columns(path, table: str) -> list[str]:
    with closing(sqlite3.connect(path)) as db:
        return [row[1] for row in db.execute(f"PRAGMA table_info({table})")]


# --- migrating what the previous code wrote ----------------------------------------------------

def test_a_schema_2_database_keeps_every_row_and_gains_the_record_column(path):
    legacy_database(path)
    insert_answer(path, "a1", make_answer(QUESTION), user_id="U1", channel="C1", thread_ts="1.0", slack_text="原文")
    insert_answer(path, "a2", make_answer("利用目的は？", status="escalated"), user_id="U2", channel="C1",
                  thread_ts="1.0")
    insert_vote(path, "a1", QUESTION, "U2", "down")
    with closing(sqlite3.connect(path)) as db:
        db.execute("INSERT INTO processed_events VALUES ('event:EvOld', 1.0)")
        db.commit()
    pending = handoff_from_answer(make_answer(QUESTION), "U1", PERMALINK, reply_to=EMAIL)
    sent = handoff_from_answer(make_answer("別の依頼"), "U2", PERMALINK)
    insert_handoff(path, pending, "k-pending")
    insert_handoff(path, sent, "k-sent", status=SENT)
    before = {t: table_rows(path, t) for t in ("answers", "feedback", "processed_events", "handoff_outbox")}

    store, outbox = SlackStore(path), Outbox(path)

    now = str(SCHEMA_VERSION)
    assert versions(path) == (SCHEMA_VERSION, {"slack_schema": now, "outbox_schema": now})
    assert columns(path, "answers")[-1] == "record"
    assert table_rows(path, "answers") == [row + (None,) for row in before["answers"]]  # record NULL for old rows
    for table in ("feedback", "processed_events", "handoff_outbox"):
        assert table_rows(path, table) == before[table]
    stored = store.get_answer("a1")
    assert (stored.question, stored.user_id, stored.slack_text, stored.record) == (QUESTION, "U1", "原文", None)
    assert stored.citation_ids == ("8", "10-2") and stored.answer.citations == make_answer(QUESTION).citations
    assert store.thread_questions("C1", "1.0", "U2", ("app_mention",)) == ["利用目的は？"]
    assert [(f.user_id, f.vote) for f in store.feedback("a1")] == [("U2", "down")]
    assert store.claim("event:EvOld") is False  # a key taken before the upgrade is still taken
    assert outbox.get(pending.ref).to_handoff() == pending and outbox.get(pending.ref).reply_to == EMAIL
    assert outbox.due() == [pending.ref] and outbox.counts() == {PENDING: 1, SENT: 1, "failed_permanent": 0}
    store.close()


def test_opening_a_migrated_database_again_changes_nothing(path):
    legacy_database(path)
    insert_answer(path, "a1", make_answer(QUESTION), user_id="U1")
    SlackStore(path).close()
    rows = {t: table_rows(path, t) for t in ("answers", "schema_version", "meta")}
    SlackStore(path).close()
    Outbox(path)
    assert {t: table_rows(path, t) for t in rows} == rows


def test_a_file_that_held_only_the_outbox_is_migrated_and_gains_the_other_tables(path):
    with closing(sqlite3.connect(path)) as db:  # Outbox(file) on its own wrote only its table and meta
        db.executescript(OUTBOX_SCHEMA_2)
        db.execute("INSERT INTO meta VALUES ('outbox_schema', '2')")
        db.commit()
    h = handoff_from_answer(make_answer(QUESTION), "U1", PERMALINK, reply_to=EMAIL)
    insert_handoff(path, h, "k1")
    assert Outbox(path).get(h.ref).reply_to == EMAIL
    store = SlackStore(path)
    answer_id = store.record_answer(make_answer(QUESTION), user_id="U1")
    assert store.get_answer(answer_id).question == QUESTION
    store.close()


def test_sent_requests_of_an_outbox_without_a_version_are_redacted_and_pending_ones_kept(path):
    legacy_database(path, outbox_schema=None)  # the outbox's first version wrote no key
    pending = handoff_from_answer(make_answer(f"連絡先 {EMAIL}"), "U1", PERMALINK, reply_to=EMAIL)
    sent = handoff_from_answer(make_answer(f"返信は {EMAIL} へ"), "U1", PERMALINK, reply_to=EMAIL)
    insert_handoff(path, pending, "k1")
    insert_handoff(path, sent, "k2", status=SENT)
    outbox = Outbox(path)
    assert EMAIL in outbox.get(pending.ref).question and outbox.get(pending.ref).reply_to == EMAIL
    kept = outbox.get(sent.ref)
    assert EMAIL not in kept.question + kept.body + kept.subject + kept.handoff and kept.reply_to == "[email]"


@pytest.mark.parametrize("where", ["schema_version", "meta"])
def test_a_database_newer_than_the_code_is_refused_and_left_alone(path, where):
    SlackStore(path).close()
    newer = SCHEMA_VERSION + 1
    with closing(sqlite3.connect(path)) as db:
        if where == "schema_version":
            db.execute("INSERT INTO schema_version VALUES (?, 0)", (newer,))
        else:  # what a policybot from before schema_version would see, and what it refuses
            db.execute("UPDATE meta SET value = ? WHERE key = 'outbox_schema'", (str(newer),))
        db.commit()
    rows = table_rows(path, "schema_version")
    for open_store in (SlackStore, Outbox):
        with pytest.raises(StorageError, match=f"schema version {newer}, this code reads up to {SCHEMA_VERSION}: "
                                               "run a newer policybot") as error:
            open_store(path)
        assert "\n" not in str(error.value)
    assert table_rows(path, "schema_version") == rows


def test_a_legacy_file_with_a_newer_version_is_refused(path):
    legacy_database(path, slack_schema=SCHEMA_VERSION + 5)
    with pytest.raises(StorageError, match=f"schema version {SCHEMA_VERSION + 5}"):
        SlackStore(path)


def test_a_file_that_is_not_a_database_is_one_clear_line(path):
    path.write_bytes(b"\x00garbage" * 500)
    with pytest.raises(StorageError) as error:
        Outbox(path)
    message = str(error.value)
    assert str(path) in message and "POLICYBOT_DB" in message and "\n" not in message
    assert path.read_bytes() == b"\x00garbage" * 500  # nothing written into it


# --- URLs and sharing -----------------------------------------------------------------------------

def test_a_sqlite_url_opens_the_same_file_as_its_path(path):
    store = SlackStore(f"sqlite:///{path}")
    answer_id = store.record_answer(make_answer(QUESTION), user_id="U1")
    store.close()
    again = SlackStore(path)
    assert again.get_answer(answer_id).user_id == "U1" and again.path == path
    again.close()
    entry, _ = Outbox(f"sqlite:///{path}").enqueue(handoff_from_answer(make_answer(QUESTION), "U1"), "k")
    assert Outbox(path).get(entry.ref) == entry


def test_settings_resolve_the_database_url(tmp_path, monkeypatch):
    monkeypatch.delenv("POLICYBOT_DATABASE_URL", raising=False)
    monkeypatch.setenv("POLICYBOT_DB", str(tmp_path / "bot.sqlite3"))
    assert Settings().database_url == f"sqlite:///{tmp_path / 'bot.sqlite3'}"
    monkeypatch.setenv("POLICYBOT_DATABASE_URL", "postgresql://policybot:pw@db.internal/policybot")
    assert Settings().database_url == "postgresql://policybot:pw@db.internal/policybot"


def test_a_url_that_names_no_database_is_one_clear_line():
    with pytest.raises(StorageError, match="cannot use the database") as error:
        open_database("nosuchdialect://user:secret@host/db")
    assert "secret" not in str(error.value)  # the password is never shown


def test_the_stores_share_one_database_and_only_its_opener_closes_it(path):
    db, owned = open_database(path)
    assert owned and open_database(db) == (db, False)
    store, outbox = SlackStore(db), Outbox(db)
    store.close()  # not its own: the database stays open for the outbox
    entry, created = outbox.enqueue(handoff_from_answer(make_answer(QUESTION), "U1"), "k")
    assert created and store.db is outbox.db is db
    db.close()


def test_the_schema_is_plain_postgresql_too():
    """Every table and index compiles for PostgreSQL: nothing SQLite-only in the schema."""
    dialect = postgresql.dialect()
    ddl = [str(CreateTable(t).compile(dialect=dialect)) for t in metadata.sorted_tables]
    ddl += [str(CreateIndex(i).compile(dialect=dialect)) for t in metadata.sorted_tables for i in t.indexes]
    assert len(ddl) == len(metadata.sorted_tables) + sum(len(t.indexes) for t in metadata.sorted_tables)
    assert not any("AUTOINCREMENT" in d or "rowid" in d for d in ddl)


# --- the answer record --------------------------------------------------------------------------

def test_the_answer_record_round_trips_with_what_people_typed_redacted(path):
    record = {"question": f"{QUESTION} {EMAIL}", "history": [f"前の質問 {EMAIL}"],
              "decision": {"status": "answered", "confidence": 0.83, "features": {"reach": 1.0}},
              "hits": [{"id": "8", "score": 2.5, "text": "第10条の窓口 info@sokonara.co.jp"}], "nearest": [],
              "none": None}
    store = SlackStore(path)
    with_record = store.record_answer(make_answer(QUESTION), user_id="U1", record=record)
    without = store.record_answer(make_answer(QUESTION), user_id="U1")
    store.close()
    store = SlackStore(path)
    stored = store.get_answer(with_record).record
    assert stored == {**record, "question": f"{QUESTION} [email]", "history": ["前の質問 [email]"]}
    assert store.get_answer(without).record is None
    store.close()
    with closing(sqlite3.connect(path)) as db:
        assert EMAIL not in db.execute("SELECT record FROM answers WHERE id = ?", (with_record,)).fetchone()[0]


# --- the periodic worker --------------------------------------------------------------------------

def test_a_periodic_worker_runs_again_on_wake_survives_a_failing_run_and_stops():
    runs: list[int] = []
    ran = threading.Semaphore(0)

    def tick() -> float:
        runs.append(len(runs))
        ran.release()
        if len(runs) == 2:
            raise RuntimeError("a bad run")
        return 3600.0  # only wake() brings the next run within a test's lifetime

    worker = PeriodicWorker("test-periodic", tick, interval=3600.0).start()
    try:
        assert ran.acquire(timeout=30)  # the first run comes at once (timeouts only bound a hang)
        worker.wake()
        assert ran.acquire(timeout=30)  # the second, early; it raises …
        worker.wake()
        assert ran.acquire(timeout=30)  # … and the thread lives on
    finally:
        worker.stop(timeout=30)
    assert runs == [0, 1, 2] and worker.stopping
    assert not any(t.name == "test-periodic" for t in threading.enumerate())


def test_a_periodic_worker_with_a_first_delay_does_not_run_before_it():
    ran = threading.Event()
    worker = PeriodicWorker("test-delayed", lambda: ran.set(), interval=3600.0, first_after=3600.0).start()
    worker.stop(timeout=30)
    assert not ran.is_set()



# --- `policybot data` on a database URL -----------------------------------------------------------

@pytest.mark.parametrize("given", ["--db", "POLICYBOT_DATABASE_URL"])
def test_policybot_data_takes_a_database_url(path, monkeypatch, capsys, given):
    from tests.cli_support import run

    store = SlackStore(path)
    store.record_answer(make_answer(QUESTION), user_id="U0GONE")
    kept = store.record_answer(make_answer(QUESTION), user_id="U0STAYS")
    store.close()
    for name in ("POLICYBOT_DB", "POLICYBOT_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    url = f"sqlite:///{path}"
    argv = ["data", "--db", url] if given == "--db" else ["data"]
    if given == "POLICYBOT_DATABASE_URL":
        monkeypatch.setenv("POLICYBOT_DATABASE_URL", url)
    code, out, err = run(capsys, *argv, "forget", "U0GONE")
    assert code == 0, err
    assert "deleted 1 answer(s), 0 vote(s) and 0 hand-off(s) to the contact window of U0GONE" in out
    store = SlackStore(path)
    assert store.count_answers() == 1 and store.get_answer(kept).user_id == "U0STAYS"
    store.close()


def test_policybot_data_on_a_missing_sqlite_url_creates_nothing(tmp_path, capsys):
    from tests.cli_support import assert_one_clear_line, run

    missing = tmp_path / "typo.sqlite3"
    code, _, err = run(capsys, "data", "--db", f"sqlite:///{missing}", "purge", "--older-than", "1")
    assert code == 2 and not missing.exists()
    assert_one_clear_line(err, "no database at")
