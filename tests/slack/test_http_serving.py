"""HTTP mode as operators run it: /healthz, /metrics after real signed deliveries, the server's
own log lines as JSON at INFO, a graceful stop on SIGTERM, and PORT that is not a port."""
from __future__ import annotations

import json
import logging
import os
import signal
import socket
import threading
import time
import urllib.error
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.answer import REASON_EMPTY
from bot.handoff.compose import handoff_from_answer
from bot.handoff.outbox import Outbox
from bot.metrics import BotMetrics
from bot.reload import SearcherHolder
from bot.slack_app import serve
from tests.cli_support import assert_one_clear_line, run
from tests.handoff_support import PERMALINK, make_answer

from .driver import SlackSender
from .test_slack_serve import free_port, wait_healthy

QUESTION = "利用料金の請求に個人情報を使いますか？"


def get(url: str) -> tuple[int, str, bytes]:
    """Status, content type and body, also for a 503."""
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read()


def scrape(base_url: str) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics, keyed by name and labels, read with prometheus-client's own parser."""
    status, content_type, body = get(base_url + "/metrics")
    assert status == 200 and content_type.startswith("text/plain")
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(body.decode("utf-8")) for s in family.samples}


# --- /healthz ------------------------------------------------------------------------------------

def test_healthz_reports_the_loaded_index_and_the_database(http_app, answerer):
    status, content_type, body = get(http_app.base_url + "/healthz")
    assert status == 200 and content_type.startswith("application/json")
    report = json.loads(body)
    assert report["status"] == "ok" and report["database"] == "ok"
    assert report["index"] == {"revision": answerer.facts.revision, "clauses": len(answerer.searcher.clauses)}
    assert report["index"]["clauses"] > 0


def test_healthz_is_503_naming_the_database_when_it_cannot_be_opened(http_app, slack_settings, slack_log):
    db = slack_settings.db_path
    moved = db.with_name(db.name + ".unmounted")
    db.rename(moved)  # as when its volume goes away: the open connection lives on, no new one opens
    try:
        status, _, body = get(http_app.base_url + "/healthz")
    finally:
        moved.rename(db)
    report = json.loads(body)
    assert status == 503 and report["status"] == "unavailable" and report["database"] == "unreachable"
    assert [problem.split(":")[0] for problem in report["problems"]] == ["database"]
    assert report["index"]["clauses"] > 0  # the index itself is fine, and the body says so
    [line] = slack_log.events("http.unhealthy")
    assert line["level"] == "warning" and line["problems"] == report["problems"]
    assert get(http_app.base_url + "/healthz")[0] == 200  # healthy again once the file is back


# --- /metrics ------------------------------------------------------------------------------------

def test_metrics_count_a_signed_mention_and_its_latency(http_app, sender, slack_stub, slack_bot, answerer):
    before = scrape(http_app.base_url)
    outcome = answerer.answer(QUESTION).status
    assert sender.send_event(sender.mention(QUESTION)).status == 200
    slack_stub.wait_for("chat.postMessage")
    slack_bot.drain()
    after = scrape(http_app.base_url)
    answers = ("policybot_answers_total", (("outcome", outcome),))
    assert after[answers] == before[answers] + 1
    assert after[("policybot_answer_seconds_count", ())] == before[("policybot_answer_seconds_count", ())] + 1
    assert after[("policybot_answer_seconds_sum", ())] > before[("policybot_answer_seconds_sum", ())]
    slowest = ("policybot_answer_seconds_bucket", (("le", "+Inf"),))
    assert after[slowest] == before[slowest] + 1


def test_metrics_count_escalations_by_reason(http_app, sender, slack_stub, slack_bot):
    before = scrape(http_app.base_url)
    sender.send_event(sender.mention(""))  # nothing asked: escalated with a note, before any model call
    slack_stub.wait_for("chat.postMessage")
    slack_bot.drain()
    after = scrape(http_app.base_url)
    escalated = ("policybot_answers_total", (("outcome", "escalated"),))
    assert after[escalated] == before[escalated] + 1
    assert after[("policybot_escalations_total", (("reason", REASON_EMPTY),))] == 1


def test_outbox_depth_is_read_at_each_scrape(http_app, slack_settings):
    assert scrape(http_app.base_url)[("policybot_handoff_outbox_pending", ())] == 0
    handoff = handoff_from_answer(make_answer("自分の個人データの開示を請求したいです"), "U0ASKER", PERMALINK)
    Outbox(slack_settings.db_path).enqueue(handoff, "metrics-test")  # saved, not yet e-mailed
    assert scrape(http_app.base_url)[("policybot_handoff_outbox_pending", ())] == 1


def test_a_successful_reload_is_counted(index_dir, searcher):
    metrics = BotMetrics()
    holder = SearcherHolder(index_dir, searcher, loader=lambda directory, current: current, metrics=metrics)
    assert metrics.registry.get_sample_value("policybot_index_reloads_total") == 0
    assert holder.reload()
    assert metrics.registry.get_sample_value("policybot_index_reloads_total") == 1


# --- the server's own log lines ---------------------------------------------------------------------

def test_uvicorns_own_lines_become_json_events(http_app, slack_log):
    """What uvicorn logs (its own words, on its own logger) comes out as our events on bot.http."""
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.info("Started server process [%d]", 4242)  # start-up chatter: DEBUG, not written at INFO
    uvicorn_log.info("Waiting for connections to close. (CTRL+C to force quit)")
    uvicorn_log.warning("Something uvicorn %s", "says")
    lines = slack_log.lines()
    assert [(line["logger"], line["event"], line["level"]) for line in lines] == [
        ("bot.http", "http.draining", "info"), ("bot.http", "http.server", "warning")]
    assert lines[1]["detail"] == "Something uvicorn says"


def test_serve_writes_only_json_lines_and_drains_on_sigterm(slack_settings, answerer, slack_stub, capfd):
    """`policybot serve` in HTTP mode, as a process runs it: logs on stderr at INFO, every line JSON
    (uvicorn's included); SIGTERM stops it only after the answer in flight has been posted."""
    port = free_port()
    settings = slack_settings.model_copy(update={"port": port})
    slack_stub.fail("chat.postMessage", "internal_error", times=2, status=503)  # posted on the third try
    sent = {}

    def deliver_then_sigterm() -> None:
        try:
            wait_healthy(port)
            with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
                sock.sendall(b"\x16\x03\x01 GARBAGE /\r\n\r\n")
                sent["garbage"] = b"".join(iter(lambda: sock.recv(4096), b""))
            sender = SlackSender(f"http://127.0.0.1:{port}/slack/events", slack_stub)
            sent["ack"] = sender.send_event(sender.mention(QUESTION)).status
        finally:
            os.kill(os.getpid(), signal.SIGTERM)  # right after the ack, the answer still on its way

    helper = threading.Thread(target=deliver_then_sigterm)
    helper.start()
    code = serve(settings, answerer)  # the main thread, as in a process: SIGTERM is handled here
    helper.join(timeout=30)
    assert code == 0 and sent["ack"] == 200 and b"400" in sent["garbage"]
    posts = slack_stub.calls("chat.postMessage")
    assert len(posts) == 3 and "問題が発生しました" not in json.dumps(posts[-1].body, ensure_ascii=False)
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines()]
    events = [line["event"] for line in lines]
    assert {"slack.started", "http.protocol_error", "slack.reply", "slack.stopping"} <= set(events)
    assert all(line["level"] != "debug" for line in lines)
    assert all(line["logger"].startswith("bot.") or line["logger"].startswith("slack") for line in lines), lines


def read_response(sock: socket.socket) -> bytes:
    """One HTTP response off a keep-alive connection: its head and Content-Length bytes of body."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head, body = data.split(b"\r\n\r\n", 1)
    [length] = [int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length:")]
    while len(body) < length:
        body += sock.recv(4096)
    return head + b"\r\n\r\n" + body


def test_stop_closes_an_idle_keep_alive_connection_without_draining(slack_bot, slack_log):
    """A client's idle connection (Slack keeps them open) is closed at once, not waited for."""
    server = slack_bot.http_server(host="127.0.0.1", port=0).start()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: policybot\r\n\r\n")
        first = read_response(sock)  # answered; the connection stays open for the next request
        server.stop()
        rest = b"".join(iter(lambda: sock.recv(4096), b""))  # the server has closed it
    assert first.startswith(b"HTTP/1.1 200") and rest == b""
    assert slack_log.events("http.draining") == []


# --- a client that stalls ------------------------------------------------------------------------

READ_TIMEOUT_S = 0.3


@pytest.fixture()
def strict_server(slack_settings, answerer):
    """HTTP mode with a short read deadline (POLICYBOT_HTTP_READ_TIMEOUT), as an operator would set it."""
    from bot.slack_app import create_app

    bot = create_app(slack_settings.model_copy(update={"http_read_timeout": READ_TIMEOUT_S}), answerer)
    server = bot.http_server(host="127.0.0.1", port=0).start()
    yield server
    server.stop()
    bot.close()


def _closed_within(sock: socket.socket, seconds: float) -> bytes:
    """What the server sends before it closes the connection (it must close within `seconds`)."""
    sock.settimeout(seconds)
    return b"".join(iter(lambda: sock.recv(4096), b""))


@pytest.mark.parametrize("stage, sent", [
    ("head", b"POST /slack/events HTTP/1.1\r\nHost: policybot\r\nContent-Type: application/json\r\n"),
    ("body", b"POST /slack/events HTTP/1.1\r\nHost: policybot\r\nContent-Type: application/json\r\n"
             b"X-Slack-Request-Timestamp: %d\r\nX-Slack-Signature: v0=00\r\nContent-Length: 100\r\n\r\n{\"type\":"),
])
def test_a_client_that_stalls_mid_request_is_disconnected(strict_server, slack_stub, slack_log, stage, sent):
    """One stalled client per connection must not hold the connection (and its slot) for ever."""
    if b"%d" in sent:
        sent = sent % int(time.time())
    with socket.create_connection(("127.0.0.1", strict_server.port), timeout=10) as sock:
        sock.sendall(sent)
        assert _closed_within(sock, 10) == b""  # dropped, nothing dispatched
    [line] = slack_log.events("http.read_timeout")
    assert line["level"] == "warning" and line["stage"] == stage and line["seconds"] == READ_TIMEOUT_S
    assert {call.method for call in slack_stub.calls()} <= {"auth.test"}  # only start-up: nothing was said in Slack


def test_the_deadline_runs_from_a_request_s_first_byte_not_from_the_connection(strict_server, slack_log):
    """A keep-alive connection may sit idle between requests; a request sent in pieces within the
    deadline is answered."""
    with socket.create_connection(("127.0.0.1", strict_server.port), timeout=10) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        time.sleep(READ_TIMEOUT_S / 3)
        sock.sendall(b"Host: policybot\r\n\r\n")
        first = read_response(sock)
        time.sleep(READ_TIMEOUT_S * 2)  # idle, longer than the deadline (uvicorn's keep-alive is 5 s)
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: policybot\r\n\r\n")
        second = read_response(sock)
    assert first.startswith(b"HTTP/1.1 200") and second.startswith(b"HTTP/1.1 200")
    assert slack_log.events("http.read_timeout") == []


# --- PORT ----------------------------------------------------------------------------------------------

def test_a_port_that_is_not_a_number_is_one_clear_line(cli, capsys, monkeypatch):
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-test-0000-bottoken")
    monkeypatch.setenv("PORT", "http")
    code, _, err = run(capsys, "serve")
    assert code == 2
    assert_one_clear_line(err, "PORT='http'", "port number")
