"""`policybot handoff list|show|retry`, run as whole commands against a real SQLite file and SMTP server."""
from __future__ import annotations

import json

import pytest
from tests.handoff_support import CONTACT, PERMALINK, SmtpServer, make_answer

from bot.cli import main
from bot.handoff.compose import handoff_from_answer
from bot.handoff.outbox import FAILED_PERMANENT, PENDING, SENT, Backoff, Outbox

SMTP_VARS = ("SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM", "SMTP_SECURITY")


@pytest.fixture(autouse=True)
def no_smtp(monkeypatch):
    for name in SMTP_VARS:
        monkeypatch.delenv(name, raising=False)


@pytest.fixture()
def db(tmp_path, monkeypatch):
    path = tmp_path / "policybot.sqlite3"
    monkeypatch.setenv("POLICYBOT_DB", str(path))
    return path


def stored(db, question="自分の個人データの開示を請求したいです", key="k1", status=PENDING, error=None):
    outbox = Outbox(db)
    h = handoff_from_answer(make_answer(question), "U0ASKER", PERMALINK, reply_to="taro@example.com")
    entry, _ = outbox.enqueue(h, key, error=error)
    if status == SENT:
        outbox.mark_sent(entry.ref)
    elif status == FAILED_PERMANENT:
        outbox.claim(entry.ref)
        outbox.mark_failed(entry.ref, "authentication failed (535)", permanent=True, backoff=Backoff())
    return entry.ref


def run(capsys, *argv):
    code = main(["handoff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_requests_newest_first_with_errors(db, capsys):
    old = stored(db, "古い質問", key="a", status=SENT)
    new = stored(db, "新しい質問", key="b", status=FAILED_PERMANENT)
    code, out, _ = run(capsys, "list")
    assert code == 0
    assert out.index(new) < out.index(old)
    assert "failed_permanent" in out and "authentication failed (535)" in out
    assert "1 pending" not in out and "1 sent" in out and "1 failed_permanent" in out
    assert "taro@example.com" not in out  # reply addresses only in `show`


def test_list_json_and_status_filter(db, capsys):
    stored(db, key="a", status=SENT)
    pending = stored(db, key="b")
    code, out, _ = run(capsys, "list", "--status", "pending", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["ref"] for r in rows] == [pending]
    assert rows[0]["status"] == "pending" and "body" not in rows[0]


def test_list_with_no_database_yet(db, capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0 and "no hand-offs" in out
    assert not db.exists()


def test_show_prints_the_email_and_a_draft_link(db, capsys):
    ref = stored(db, error="no mail server configured")
    code, out, _ = run(capsys, "show", ref.lower())
    assert code == 0
    for expected in (ref, "pending", "no mail server configured", CONTACT, "taro@example.com", PERMALINK,
                     "自分の個人データの開示を請求したいです", "8, 10-2", f"mailto:{CONTACT}?subject="):
        assert expected in out


@pytest.mark.parametrize("argv, message", [
    (["show", "PB-20000101-ABCD"], "no hand-off 'PB-20000101-ABCD': see `policybot handoff list`"),
    (["show", "42"], "references look like PB-"),
    (["retry", "PB-20000101-ABCD"], "no hand-off"),
])
def test_unknown_reference_is_one_clear_line(db, capsys, argv, message):
    stored(db)
    code, out, err = run(capsys, *argv)
    assert code == 2 and message in err and "Traceback" not in err and out == ""


def test_show_without_database(db, capsys):
    code, _, err = run(capsys, "show", "PB-20000101-ABCD")
    assert code == 2 and "no hand-offs recorded yet" in err


def test_retry_without_mail_server_says_how_to_fix_it(db, capsys):
    ref = stored(db, error="no mail server configured")
    code, _, err = run(capsys, "retry", ref)
    assert code == 2 and "SMTP_HOST is not set" in err and f"mailto:{CONTACT}" in err


def test_bad_smtp_setting_is_one_clear_line(db, capsys, monkeypatch):
    stored(db)
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_SECURITY", "tls")
    code, _, err = run(capsys, "retry")
    assert code == 2 and "SMTP_SECURITY must be one of" in err


def test_retry_one_parked_request_sends_it(db, capsys, monkeypatch):
    ref = stored(db, status=FAILED_PERMANENT)
    with SmtpServer() as smtp:
        for name, value in smtp.env().items():
            monkeypatch.setenv(name, value)
        code, out, _ = run(capsys, "retry", ref)
        [got] = smtp.wait_for(1)
    assert code == 0 and f"{ref}: sent to {CONTACT}" in out
    assert got.message["X-PolicyBot-Ref"] == ref
    assert Outbox(db).get(ref).status == SENT


def test_retry_all_sends_pending_but_leaves_parked_ones_to_the_operator(db, capsys, monkeypatch):
    pending = stored(db, key="a", error="no mail server configured")
    parked = stored(db, key="b", status=FAILED_PERMANENT)
    with SmtpServer() as smtp:
        for name, value in smtp.env().items():
            monkeypatch.setenv(name, value)
        code, out, _ = run(capsys, "retry")
        smtp.wait_for(1)
        assert [m.message["X-PolicyBot-Ref"] for m in smtp.messages()] == [pending]
    assert code == 0
    assert f"{pending}: sent" in out and parked in out and "need an operator" in out
    assert Outbox(db).get(parked).status == FAILED_PERMANENT


def test_retry_that_fails_again_exits_1_and_keeps_it(db, capsys, monkeypatch):
    ref = stored(db)
    with SmtpServer() as smtp:
        smtp.refuse[CONTACT] = 550
        for name, value in smtp.env().items():
            monkeypatch.setenv(name, value)
        code, out, _ = run(capsys, "retry", ref)
    assert code == 1 and "NOT sent" in out and "failed permanently" in out
    assert Outbox(db).get(ref).status == FAILED_PERMANENT


def test_retry_refuses_a_sent_request(db, capsys, monkeypatch):
    ref = stored(db, status=SENT)
    monkeypatch.setenv("SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SMTP_FROM", "bot@example.com")
    code, _, err = run(capsys, "retry", ref)
    assert code == 2 and "already sent" in err
