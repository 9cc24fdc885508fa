"""`serve()` — what `policybot serve` runs: starts, answers, stops cleanly; config errors are one line."""
from __future__ import annotations

import json
import socket
import threading
import time
import urllib.request

import pytest

from bot.slack_app import serve

from .driver import SlackSender


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1).read())["status"] == "ok":
                return
        except OSError:
            time.sleep(0.05)
    raise AssertionError("the server never became healthy")


def test_serve_http_mode_answers_and_stops_cleanly(slack_settings, answerer, slack_stub):
    port = free_port()
    settings = slack_settings.model_copy(update=dict(port=port))
    stop = threading.Event()
    result = {}
    thread = threading.Thread(target=lambda: result.update(code=serve(settings, answerer, stop=stop)))
    thread.start()
    try:
        wait_healthy(port)
        sender = SlackSender(f"http://127.0.0.1:{port}/slack/events", slack_stub)
        event = sender.mention("利用料金の請求に個人情報を使いますか？")
        assert sender.send_event(event).status == 200
        [post] = slack_stub.wait_for("chat.postMessage")
        assert post.body["thread_ts"] == event["ts"]
    finally:
        stop.set()
        thread.join(timeout=30)
    assert result == {"code": 0}


@pytest.mark.parametrize("change, code, message", [
    ({"slack_bot_token": None}, 2, "SLACK_BOT_TOKEN is not set"),
    ({"slack_signing_secret": None}, 2, "SLACK_SIGNING_SECRET is not set"),
    ({"slack_bot_token": "xoxb-revoked"}, 1, "Slack rejected SLACK_BOT_TOKEN (invalid_auth)"),
    ({"slack_api_url": "http://127.0.0.1:9/api"}, 1, "cannot reach Slack's Web API"),
])
def test_configuration_problems_are_one_clear_line(slack_settings, answerer, capsys, change, code, message):
    assert serve(slack_settings.model_copy(update=change), answerer, stop=threading.Event()) == code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert "xoxb-revoked" not in err


def test_port_in_use_is_reported(slack_settings, answerer, capsys):
    with socket.socket() as busy:
        busy.bind(("0.0.0.0", 0))
        busy.listen()
        settings = slack_settings.model_copy(update=dict(port=busy.getsockname()[1]))
        assert serve(settings, answerer, stop=threading.Event()) == 1
    assert "Set PORT to a free port" in capsys.readouterr().err
