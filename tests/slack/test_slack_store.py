"""bot/slack_store.py on real SQLite files: dedupe that survives restarts, answers log, feedback."""
from __future__ import annotations

import json
import sqlite3
import threading

import pytest

from bot.answer import Answer, Citation, Contact
from bot.render.words import answer_lead
from bot.slack_store import SlackStore, StoreError

QUESTION = "自分のデータを削除してほしい"


@pytest.fixture()
def db_path(tmp_path):
    return tmp_path / "state" / "policybot.sqlite3"


def test_claim_once_then_repeat_and_overlapping_keys(db_path):
    store = SlackStore(db_path)
    assert store.claim("event:Ev1", "msg:C1:1.0") is True
    assert store.claim("event:Ev1", "msg:C1:1.0") is False  # Slack's retry
    assert store.claim("event:Ev2", "msg:C1:1.0") is False  # same message as another event type
    assert store.claim("event:Ev3", "msg:C1:2.0") is True
    store.close()


def test_claims_survive_a_restart(db_path):
    first = SlackStore(db_path)
    first.claim("event:EvA")
    first.close()
    second = SlackStore(db_path)
    assert second.claim("event:EvA") is False
    second.close()


def test_concurrent_claims_of_one_key_have_one_winner(db_path):
    store = SlackStore(db_path)
    results = []
    barrier = threading.Barrier(24)

    def claim():
        barrier.wait()
        results.append(store.claim("event:EvRace", "msg:C1:9.0"))

    threads = [threading.Thread(target=claim) for _ in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False] * 23 + [True]


def test_prune_forgets_old_keys(db_path):
    store = SlackStore(db_path)
    store.claim("event:EvOld")
    assert store.prune_events(older_than_s=-1) == 1
    assert store.claim("event:EvOld") is True


def test_answer_log_round_trip(db_path, answerer):
    answer = answerer.answer(QUESTION)
    store = SlackStore(db_path)
    answer_id = store.record_answer(answer, user_id="U1", channel="C1", thread_ts="1.0", surface="app_mention",
                                    slack_text=f"<@UBOT> {QUESTION}")
    assert len(answer_id) <= 16 and store.get_answer("nope") is None
    store.close()
    stored = SlackStore(db_path).get_answer(answer_id)  # after a restart too
    assert (stored.question, stored.lang, stored.status) == (QUESTION, answer.lang, answer.status)
    assert stored.citation_ids == tuple(c.id for c in answer.citations)
    assert (stored.user_id, stored.channel, stored.thread_ts, stored.surface) == ("U1", "C1", "1.0", "app_mention")
    assert stored.slack_text == f"<@UBOT> {QUESTION}"
    shown = stored.answer
    assert (answer_lead(shown), shown.citations, shown.contact, shown.revision) == (
        answer_lead(answer), answer.citations, answer.contact, answer.revision)


def test_the_answer_log_keeps_facts_and_still_reads_rows_that_kept_wording(db_path):
    """The document stored is what the answer is rendered from (no lead, no mailto: draft); a
    row written while the core worded answers holds both: it loads, and they are ignored."""
    contact = Contact("info@sokonara.co.jp", ("第8条（開示等）", "第10条（お問い合わせ）"))
    citations = tuple(Citation(str(n), label, n, None, None, None, "本文", 0.5) for n, label in
                      ((8, contact.clause_labels[0]), (10, contact.clause_labels[1])))
    answer = Answer(question=QUESTION, status="answered", lang="ja", citations=citations, contact=contact,
                    revision="2026-06-03", company="株式会社ソコナラ")
    store = SlackStore(db_path)
    answer_id = store.record_answer(answer, user_id="U1")
    with sqlite3.connect(db_path) as db:
        [document] = db.execute("SELECT answer_json FROM answers WHERE id = ?", (answer_id,)).fetchone()
        document = json.loads(document)
        assert "lead" not in document and document["contact"] == {"email": contact.email,
                                                                   "clause_labels": list(contact.clause_labels)}
        old = {**document, "lead": "（古い行の一文）", "contact": {"email": contact.email, "mailto": "mailto:x?body=y"}}
        db.execute("UPDATE answers SET answer_json = ? WHERE id = ?", (json.dumps(old, ensure_ascii=False), answer_id))
    assert store.get_answer(answer_id).answer == answer  # the contact names the clauses the answer quoted
    store.close()


def test_answers_table_has_the_documented_columns(db_path):
    SlackStore(db_path).close()
    with sqlite3.connect(db_path) as db:
        columns = [row[1] for row in db.execute("PRAGMA table_info(answers)")]
    assert columns[:9] == ["id", "question", "lang", "status", "citation_ids", "user_id", "channel", "thread_ts",
                           "created_at"]


def test_feedback_is_one_row_per_user_and_answer_with_the_latest_vote(db_path, answerer):
    store = SlackStore(db_path)
    answer = answerer.answer(QUESTION)
    answer_id = store.record_answer(answer, user_id="U1")
    store.record_feedback(answer_id, "U2", "up")
    store.record_feedback(answer_id, "U2", "down")
    store.record_feedback(answer_id, "U3", "up")
    rows = store.feedback(answer_id)
    assert [(f.user_id, f.vote) for f in rows] == [("U2", "down"), ("U3", "up")]
    assert rows[0].question == QUESTION and rows[0].clause_ids == tuple(c.id for c in answer.citations)
    assert store.record_feedback("unknown", "U2", "up") is None
    with pytest.raises(ValueError):
        store.record_feedback(answer_id, "U2", "meh")


def test_a_file_that_is_not_a_database_gives_a_clear_error(db_path):
    db_path.parent.mkdir(parents=True)
    db_path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="POLICYBOT_DB"):
        SlackStore(db_path)


def test_a_newer_schema_is_refused(db_path):
    SlackStore(db_path).close()
    with sqlite3.connect(db_path) as db:
        db.execute("UPDATE meta SET value = '99' WHERE key = 'slack_schema'")
    with pytest.raises(StoreError, match="schema version 99"):
        SlackStore(db_path)
