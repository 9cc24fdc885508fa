"""What the bot keeps about people (bot/slack_store.py, bot/handoff/outbox.py, bot/retention.py).

A customer's e-mail address and phone number travel the real path — a signed DM to the
running app, the support shortcut, 👍, the forward button and form, e-mail over real SMTP —
and then every table of the SQLite file is read: neither may be anywhere. Then an operator
forgets the user, and old rows are purged by `policybot data` and by the running bot.
"""
from __future__ import annotations

import json
import re
import sqlite3
import time
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest

from bot.slack_render.ids import ACTION_FEEDBACK_UP
from bot.handoff.outbox import NO_SERVER, PENDING, SENT, Outbox
from bot.retention import RetentionWorker
from bot.slack_store import SlackStore
from bot.storage import SCHEMA_VERSION
from tests.cli_support import assert_one_clear_line, run
from tests.slack.driver import USER
from tests.slack.test_forward import (click_forward, confirmation, slack_bot, slack_stub, smtp,  # noqa: F401
                                      submission)

EMAIL = "hanako.sato@example.com"
PHONE = "090-1234-5678"
PASTED = (f"お世話になっております。佐藤です。連絡先は {EMAIL}、電話 {PHONE} です。"
          "退会したので、登録した個人情報を削除してください。")
SUPPORT = "U0SUPPORT"


def every_cell(db_path: Path) -> list[tuple[str, str, str]]:
    """(table, column, text) for every text or blob value in every table of the file."""
    with sqlite3.connect(db_path) as db:
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        cells = []
        for table in tables:
            cursor = db.execute(f'SELECT * FROM "{table}"')
            columns = [d[0] for d in cursor.description]
            for row in cursor:
                for column, value in zip(columns, row):
                    if isinstance(value, bytes):
                        value = value.decode("utf-8", "replace")
                    if isinstance(value, str):
                        cells.append((table, column, value))
    assert tables, "no tables: wrong file?"
    return cells


def leaks(db_path: Path, email: str = EMAIL, phone: str = PHONE) -> list[str]:
    """Where the address or the number appears, raw, percent-encoded or as bare digits."""
    digits = re.sub(r"\D", "", phone)
    found = []
    for table, column, text in every_cell(db_path):
        forms = (email, quote(email, safe=""), phone, quote(phone, safe=""))
        if any(f in text for f in forms) or digits in re.sub(r"\D", "", text):
            found.append(f"{table}.{column}: {text[:120]!r}")
    return found


def mentions(db_path: Path, needle: str) -> list[str]:
    return [f"{t}.{c}" for t, c, text in every_cell(db_path) if needle in text]


def answer_id_of(call) -> str:
    """The answer log id the message's buttons carry (every answer has the 👍 button)."""
    return next(e["value"] for b in call.body["blocks"] if b["type"] == "actions" for e in b["elements"]
                if e["action_id"] == ACTION_FEEDBACK_UP)


def ask_by_dm_and_forward(sender, slack_stub, slack_bot, *, sent: bool) -> str:
    """The asker DMs the pasted message, rates the answer, forwards it with the details typed
    again; returns the answer id. `sent`: whether the SMTP server takes the e-mail."""
    sender.send_event(sender.dm(PASTED))
    [post] = slack_stub.wait_for("chat.postMessage")
    answer_id = answer_id_of(post)
    sender.send_interaction(sender.button_payload(ACTION_FEEDBACK_UP, answer_id))
    slack_stub.wait_for("response_url")
    slack_bot.drain()
    slack_stub.clear()

    view = click_forward(sender, slack_stub, answer_id)
    question = next(b for b in view["blocks"] if b.get("block_id") == "question")
    prefilled = question["element"]["initial_value"]
    assert EMAIL not in prefilled and PHONE not in prefilled and "退会したので" in prefilled  # kept redacted
    assert "[email]" in question["hint"]["text"]  # the form says why, and where to type them again
    sender.send_interaction(submission(view, question=PASTED, context=f"折り返しは {PHONE} まで", reply_to=EMAIL))
    confirmation(slack_stub)
    slack_bot.drain()
    [entry] = Outbox(slack_bot.deps.settings.db_path).list()
    assert entry.status == (SENT if sent else PENDING)
    return answer_id


def test_a_pasted_address_and_phone_number_are_stored_nowhere(sender, slack_stub, slack_bot, smtp, capsys):
    db_path = slack_bot.deps.settings.db_path
    sender.send_interaction(sender.shortcut_payload(PASTED, user=SUPPORT))  # support staff on a customer's message
    slack_stub.wait_for("response_url")
    slack_bot.drain()
    slack_stub.clear()

    ask_by_dm_and_forward(sender, slack_stub, slack_bot, sent=True)

    [mail] = smtp.wait_for(1)
    body = mail.message.get_content()
    assert EMAIL in body and PHONE in body and mail.message["Reply-To"] == EMAIL  # the window gets them
    with sqlite3.connect(db_path) as db:
        counts = {t: db.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]
                  for t in ("answers", "feedback", "handoff_outbox")}
    assert counts == {"answers": 2, "feedback": 1, "handoff_outbox": 1}  # all of it was stored …
    assert leaks(db_path) == []  # … without the address or the number

    age(db_path, 2)
    code, out, err = run(capsys, "data", "--db", str(db_path), "purge", "--older-than", "1")
    assert code == 0, err
    assert "deleted 2 answer(s), 1 vote(s) and 1 hand-off(s)" in out
    assert {t for t, _, _ in every_cell(db_path)} <= {"meta", "processed_events"}


@pytest.mark.parametrize("smtp", ["down"], indirect=True)  # the request stays pending, with its full text
def test_forget_removes_the_user_everywhere_and_keeps_an_unsent_request_unless_told(
        sender, slack_stub, slack_bot, smtp, capsys):
    db_path = slack_bot.deps.settings.db_path
    sender.send_interaction(sender.shortcut_payload("個人情報の利用目的を教えてください", user=SUPPORT))
    slack_stub.wait_for("response_url")
    slack_bot.drain()
    slack_stub.clear()
    ask_by_dm_and_forward(sender, slack_stub, slack_bot, sent=False)
    assert mentions(db_path, USER) and mentions(db_path, SUPPORT)

    code, out, err = run(capsys, "data", "--db", str(db_path), "forget", USER)
    assert code == 1, err
    [entry] = Outbox(db_path).list()
    assert entry.ref in out and "--drop-unsent" in out and entry.status == PENDING
    assert EMAIL in entry.question  # still to be delivered as written
    assert {m.split(".")[0] for m in mentions(db_path, USER)} == {"handoff_outbox"}

    code, out, err = run(capsys, "data", "--db", str(db_path), "forget", USER, "--drop-unsent")
    assert code == 0, err
    assert mentions(db_path, USER) == [] and leaks(db_path) == []
    assert mentions(db_path, SUPPORT)  # other people's rows stay
    files = list(db_path.parent.glob(db_path.name + "*"))  # the file, its -wal and -shm
    assert not [f for f in files if EMAIL.encode() in f.read_bytes()]  # overwritten, not just unlinked


@pytest.mark.parametrize("smtp", ["none"], indirect=True)
def test_purge_deletes_old_rows_and_reports_unsent_requests(sender, slack_stub, slack_bot, smtp, capsys):
    db_path = slack_bot.deps.settings.db_path
    ask_by_dm_and_forward(sender, slack_stub, slack_bot, sent=False)
    [entry] = Outbox(db_path).list()
    assert entry.last_error == NO_SERVER

    code, out, _ = run(capsys, "data", "--db", str(db_path), "purge", "--older-than", "1")
    assert code == 0 and "deleted 0 answer(s), 0 vote(s)" in out  # everything is younger than a day

    age(db_path, 2)
    code, out, _ = run(capsys, "data", "--db", str(db_path), "purge", "--older-than", "1")
    assert code == 1 and "deleted 1 answer(s), 1 vote(s)" in out and entry.ref in out
    assert Outbox(db_path).get(entry.ref) is not None  # an unsent request is never purged by age
    with sqlite3.connect(db_path) as db:
        assert db.execute("SELECT COUNT(*) FROM answers").fetchone() == (0,)


def age(db_path: Path, days: float) -> None:
    """Make every stored row `days` older (the clock cannot be moved, the rows can)."""
    seconds = days * 86400
    Outbox(db_path)  # the table exists even where nothing was forwarded
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE answers SET created_at = created_at - ?", (seconds,))
        db.execute("UPDATE feedback SET ts = ts - ?", (seconds,))
        for ref, created in db.execute("SELECT ref, created_at FROM handoff_outbox").fetchall():
            older = (datetime.fromisoformat(created) - timedelta(seconds=seconds)).isoformat(timespec="seconds")
            db.execute("UPDATE handoff_outbox SET created_at = ? WHERE ref = ?", (older, ref))


@pytest.mark.parametrize("smtp", ["none"], indirect=True)
def test_the_running_bot_purges_at_start(slack_settings, answerer, slack_stub, smtp):
    from bot.slack_app import create_app

    store = SlackStore(slack_settings.db_path)
    store.record_answer(answerer.answer("個人情報の利用目的"), user_id="U0OLD")
    store.close()
    age(slack_settings.db_path, slack_settings.retention_days + 1)
    store = SlackStore(slack_settings.db_path)
    store.record_answer(answerer.answer("個人情報の利用目的"), user_id="U0NEW")
    store.close()

    bot = create_app(slack_settings, answerer)
    try:
        assert mentions(slack_settings.db_path, "U0OLD") == []
        assert mentions(slack_settings.db_path, "U0NEW") == ["answers.user_id"]
    finally:
        bot.close()


def test_the_retention_worker_purges_again_while_running(tmp_path, answerer):
    db_path = tmp_path / "policybot.sqlite3"
    store = SlackStore(db_path)
    worker = RetentionWorker(store, Outbox(db_path), days=1, interval=0.05).start()
    try:
        runs = worker.runs
        store.record_answer(answerer.answer("個人情報の利用目的"), user_id="U0LATE")
        age(db_path, 2)
        deadline = time.monotonic() + 30  # bounds a hang only; the worker runs every 0.05 s
        # a run counts itself after its purge: wait for both (with the instant stand-in answerer the
        # loop used to see the row gone before the run that removed it had counted itself)
        while (mentions(db_path, "U0LATE") or worker.runs <= runs) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert mentions(db_path, "U0LATE") == [] and worker.runs > runs
    finally:
        worker.stop()
        store.close()


@pytest.mark.parametrize("value", ["soon", "0", "-3", "nan", "inf"])
def test_a_bad_retention_setting_stops_serve_with_one_line(cli, capsys, monkeypatch, value):
    monkeypatch.setenv("POLICYBOT_RETENTION_DAYS", value)
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-unused")
    code, _, err = run(capsys, "serve")
    assert code == 2
    assert_one_clear_line(err, "POLICYBOT_RETENTION_DAYS")


@pytest.mark.parametrize("argv, needle", [
    (["forget", "hanako.sato@example.com"], "not a Slack user ID"),
    (["purge", "--older-than", "1"], "no database"),
])
def test_data_usage_errors_are_one_line(cli, capsys, tmp_path, argv, needle):
    code, _, err = run(capsys, "data", "--db", str(tmp_path / "missing.sqlite3"), *argv)
    assert code == 2
    assert_one_clear_line(err, needle)


# --- databases written by the previous version ------------------------------------------------

def schema_one_database(path: Path, answerer) -> None:
    """A file as the previous version left it: questions and a sent hand-off kept in full
    (tables made with that version's own DDL, tests/storage_support.py)."""
    from tests.handoff_support import make_answer
    from tests.storage_support import insert_answer, insert_handoff, insert_vote, legacy_database

    from bot.handoff.compose import handoff_from_answer

    legacy_database(path, slack_schema=1, outbox_schema=None)
    answer = answerer.answer(PASTED)
    insert_answer(path, "old1", answer, user_id=USER, slack_text=PASTED)
    insert_vote(path, "old1", PASTED, USER)
    insert_handoff(path, handoff_from_answer(make_answer(PASTED), USER, reply_to=EMAIL), "old-key", status=SENT)
    assert leaks(path)


def test_a_schema_one_database_is_redacted_when_opened(tmp_path, answerer, capsys, cli):
    db_path = tmp_path / "policybot.sqlite3"
    schema_one_database(db_path, answerer)
    code, _, err = run(capsys, "data", "--db", str(db_path), "purge", "--older-than", "30")
    assert code == 0, err
    assert leaks(db_path) == []
    with sqlite3.connect(db_path) as db:
        version = str(SCHEMA_VERSION)  # one version for the file now, mirrored where the old code looks
        assert dict(db.execute("SELECT key, value FROM meta").fetchall()) == {"slack_schema": version,
                                                                              "outbox_schema": version}
        assert db.execute("SELECT MAX(version) FROM schema_version").fetchone() == (SCHEMA_VERSION,)
    store = SlackStore(db_path)
    stored = store.get_answer("old1")  # still readable, as it may be shown again
    store.close()
    assert "退会したので" in stored.question and stored.answer.question == stored.question
    assert json.loads(Outbox(db_path).list()[0].handoff)["reply_to"] == "[email]"


def test_a_database_from_a_newer_version_is_refused_in_one_line(tmp_path, capsys, cli):
    db_path = tmp_path / "policybot.sqlite3"
    SlackStore(db_path).close()
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE meta SET value = '9' WHERE key = 'slack_schema'")
    code, _, err = run(capsys, "data", "--db", str(db_path), "forget", USER)
    assert code == 2
    assert_one_clear_line(err, "newer policybot")
