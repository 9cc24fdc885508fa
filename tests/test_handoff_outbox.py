"""The durable outbox and the hand-off service: store first, send once, retry until delivered."""
from __future__ import annotations

import sqlite3
import threading

import pytest
from tests.handoff_support import CONTACT, PASSWORD, PERMALINK, SmtpServer, free_port, make_answer

from bot.handoff.compose import handoff_from_answer
from bot.handoff.outbox import FAILED_PERMANENT, NO_SERVER, PENDING, SENT, Backoff, Outbox
from bot.handoff.service import (OUTCOME_NO_SERVER, OUTCOME_QUEUED, OUTCOME_REFUSED, OUTCOME_SENT,
                                 HandoffService)
from bot.handoff.smtp import SmtpConfig, SmtpSender

FAST = Backoff(base=0.05, factor=2.0, cap=0.2)
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


class Clock:
    def __init__(self, now: float = 1_800_000_000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now


def handoff(question="自分の個人データの開示を請求したいです", **kwargs):
    return handoff_from_answer(make_answer(question), "U0ASKER", PERMALINK, **kwargs)


def service_for(db, env: dict | None, backoff: Backoff = FAST, clock=None) -> HandoffService:
    outbox = Outbox(db, clock=clock) if clock else Outbox(db)
    config = SmtpConfig.from_env(env or {})
    return HandoffService(outbox, SmtpSender(config) if config else None, backoff)


# --- backoff ---------------------------------------------------------------------------------

def test_backoff_grows_and_is_capped():
    b = Backoff(base=30, factor=2, cap=600)
    assert [b.delay(n) for n in (1, 2, 3, 4, 5, 6, 50)] == [30, 60, 120, 240, 480, 600, 600]


# --- the outbox table ----------------------------------------------------------------------------

def test_enqueue_stores_everything_and_survives_a_restart(tmp_path):
    db = tmp_path / "policybot.sqlite3"
    h = handoff(context="注文番号 1234", reply_to="taro@example.com")
    entry, created = Outbox(db).enqueue(h, "slack-view:V1")
    assert created and entry.status == PENDING and entry.attempts == 0
    again = Outbox(db).get(h.ref)  # a new process sees it
    assert again == entry
    assert (again.to_addr, again.subject, again.body) == (CONTACT, h.subject, h.body)
    assert again.citation_ids == ("8", "10-2") and again.permalink == PERMALINK
    assert again.reply_to == "taro@example.com" and again.context == "注文番号 1234"
    assert again.to_handoff() == h


def test_same_key_is_stored_once(tmp_path):
    outbox = Outbox(tmp_path / "db.sqlite3")
    first, created1 = outbox.enqueue(handoff(), "key-1")
    second, created2 = outbox.enqueue(handoff("別の文面"), "key-1")
    assert (created1, created2) == (True, False)
    assert second.ref == first.ref and second.question == first.question
    assert outbox.counts()[PENDING] == 1


def test_shares_the_database_with_other_tables(tmp_path):
    db = tmp_path / "policybot.sqlite3"
    with sqlite3.connect(db) as other:
        other.execute("CREATE TABLE feedback (answer_id TEXT)")
        other.execute("INSERT INTO feedback VALUES ('a1')")
    Outbox(db).enqueue(handoff(), "k")
    with sqlite3.connect(db) as other:
        assert other.execute("SELECT COUNT(*) FROM feedback").fetchone()[0] == 1


def test_a_claim_is_exclusive_until_released_or_expired(tmp_path):
    clock = Clock()
    outbox = Outbox(tmp_path / "db.sqlite3", clock=clock)
    entry, _ = outbox.enqueue(handoff(), "k")
    assert outbox.claim(entry.ref)
    assert not outbox.claim(entry.ref)
    assert outbox.due() == []
    clock.now += 121  # the holder died: the lease runs out
    assert outbox.due() == [entry.ref]
    assert outbox.claim(entry.ref)
    outbox.release(entry.ref)
    assert outbox.claim(entry.ref)


def test_due_respects_the_backoff(tmp_path):
    clock = Clock()
    outbox = Outbox(tmp_path / "db.sqlite3", clock=clock)
    entry, _ = outbox.enqueue(handoff(), "k")
    outbox.claim(entry.ref)
    failed = outbox.mark_failed(entry.ref, "connection refused", permanent=False, backoff=Backoff(base=30))
    assert failed.status == PENDING and failed.attempts == 1 and failed.last_error == "connection refused"
    assert outbox.due() == []
    clock.now += 29
    assert outbox.due() == []
    clock.now += 2
    assert outbox.due() == [entry.ref]
    outbox.claim(entry.ref)
    assert outbox.mark_failed(entry.ref, "again", permanent=False, backoff=Backoff(base=30)).next_attempt_at == \
        pytest.approx(clock.now + 60)


def test_list_filters_and_validates_status(tmp_path):
    outbox = Outbox(tmp_path / "db.sqlite3")
    a, _ = outbox.enqueue(handoff("一"), "a")
    b, _ = outbox.enqueue(handoff("二"), "b")
    outbox.mark_sent(a.ref)
    assert [e.ref for e in outbox.list()] == [b.ref, a.ref]
    assert [e.ref for e in outbox.list(SENT)] == [a.ref]
    with pytest.raises(ValueError, match="status must be one of"):
        outbox.list("done")


# --- the service against a real SMTP server ------------------------------------------------------

def test_submit_sends_once_and_records_it(tmp_path):
    with SmtpServer() as smtp:
        service = service_for(tmp_path / "db.sqlite3", smtp.env())
        h = handoff()
        delivery = service.submit(h, "slack-view:V1")
        [got] = smtp.wait_for(1)
    assert delivery.outcome == OUTCOME_SENT and delivery.created and delivery.mailto is None
    entry = service.outbox.get(h.ref)
    assert entry.status == SENT and entry.attempts == 1 and entry.sent_at and entry.last_error is None
    assert got.message["X-PolicyBot-Ref"] == h.ref and got.message["Message-ID"] == entry.message_id


def test_two_submits_with_the_same_key_send_one_email(tmp_path):
    with SmtpServer() as smtp:
        service = service_for(tmp_path / "db.sqlite3", smtp.env())
        first = service.submit(handoff(), "slack-view:V1")
        second = service.submit(handoff(), "slack-view:V1")
        assert len(smtp.wait_for(1)) == 1
        assert len(smtp.messages()) == 1
    assert second.ref == first.ref and not second.created and second.outcome == OUTCOME_SENT


def test_concurrent_double_clicks_send_one_email(tmp_path):
    with SmtpServer() as smtp:
        service = service_for(tmp_path / "db.sqlite3", smtp.env())
        barrier = threading.Barrier(8)
        results = []

        def click():
            barrier.wait()
            results.append(service.submit(handoff(), "slack-view:V2"))

        threads = [threading.Thread(target=click) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        smtp.wait_for(1)
        assert len(smtp.messages()) == 1
    assert len({r.ref for r in results}) == 1
    assert sum(r.created for r in results) == 1


def test_server_down_keeps_it_pending_and_the_worker_delivers_it_when_back(tmp_path):
    port = free_port()
    smtp = SmtpServer(port=port)  # not started yet: connections are refused
    service = service_for(tmp_path / "db.sqlite3", smtp.env())
    h = handoff()
    delivery = service.submit(h, "slack-view:V3")
    assert delivery.outcome == OUTCOME_QUEUED and delivery.mailto
    entry = service.outbox.get(h.ref)
    assert entry.status == PENDING and entry.attempts == 1 and "connection refused" in entry.last_error

    worker = service.worker(poll_interval=0.05)
    with worker:
        smtp.start()
        try:
            [got] = smtp.wait_for(1)
        finally:
            smtp.stop()
    assert got.message["X-PolicyBot-Ref"] == h.ref
    entry = service.outbox.get(h.ref)
    assert entry.status == SENT and entry.attempts >= 2 and entry.last_error is None


def test_permanent_failure_is_parked_and_resent_after_the_operator_retries(tmp_path):
    db = tmp_path / "db.sqlite3"
    with SmtpServer(require_auth=True) as smtp:
        broken = service_for(db, smtp.env(SMTP_PASSWORD="wrong-password"))
        h = handoff()
        delivery = broken.submit(h, "k")
        assert delivery.outcome == OUTCOME_REFUSED and delivery.mailto
        entry = broken.outbox.get(h.ref)
        assert entry.status == FAILED_PERMANENT and "authentication failed" in entry.last_error
        assert "wrong-password" not in entry.last_error
        with broken.worker(poll_interval=0.02) as worker:
            assert worker.run_once() == 0  # parked rows are not retried automatically
        assert smtp.messages() == []

        fixed = service_for(db, smtp.env())
        fixed.outbox.requeue(h.ref)
        assert fixed.deliver(h.ref).outcome == OUTCOME_SENT
        assert len(smtp.wait_for(1)) == 1
        assert fixed.outbox.get(h.ref).attempts == 2


def test_requeue_refuses_a_sent_request(tmp_path):
    outbox = Outbox(tmp_path / "db.sqlite3")
    entry, _ = outbox.enqueue(handoff(), "k")
    outbox.mark_sent(entry.ref)
    with pytest.raises(ValueError, match="already sent"):
        outbox.requeue(entry.ref)
    with pytest.raises(KeyError):
        outbox.requeue("PB-20000101-0000")


def test_without_a_mail_server_the_request_is_kept_and_a_draft_offered(tmp_path):
    service = service_for(tmp_path / "db.sqlite3", None)
    h = handoff()
    delivery = service.submit(h, "k")
    assert delivery.outcome == OUTCOME_NO_SERVER and not service.configured
    assert delivery.mailto.startswith(f"mailto:{CONTACT}?subject=")
    entry = service.outbox.get(h.ref)
    assert entry.status == PENDING and entry.last_error == NO_SERVER and entry.attempts == 0
    assert service.submit(h, "k").outcome == OUTCOME_NO_SERVER  # a repeat says the same
    # the asker was told to send the draft: a mail server configured later does not send it again
    # on its own (only an operator's `policybot handoff retry` does)
    assert service.outbox.due() == [] and service.outbox.next_due_at() is None


def test_secrets_and_addresses_never_reach_last_error(tmp_path):
    with SmtpServer(require_auth=True) as smtp:
        smtp.refuse[CONTACT] = 550
        service = service_for(tmp_path / "db.sqlite3", smtp.env())
        h = handoff(reply_to="taro@example.com")
        service.submit(h, "k")
    error = service.outbox.get(h.ref).last_error
    assert "550" in error
    for secret in (PASSWORD, CONTACT, "taro@example.com"):
        assert secret not in error
