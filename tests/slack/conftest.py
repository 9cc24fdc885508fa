"""Slack stand-ins: the Web API stub, the app in HTTP mode on a free port, and a sender that
posts to it the way Slack does (signed JSON event callbacks, form-encoded commands and
interactivity payloads). The answerer is the real one from tests/conftest.py."""
from __future__ import annotations

import io
import json
import logging

import pytest

from bot.logging_setup import configure_logging
from tests.slack_api_stub import RETRY_BASE_S, SlackApiStub

from .driver import BOT_TOKEN, SIGNING_SECRET, SlackSender


class JsonLog:
    """The JSON lines the app logged during one test."""

    def __init__(self, stream: io.StringIO):
        self.stream = stream

    def lines(self) -> list[dict]:
        return [json.loads(line) for line in self.stream.getvalue().splitlines()]

    def events(self, *names: str) -> list[dict]:
        return [line for line in self.lines() if line["event"] in names]

    def clear(self) -> None:
        self.stream.seek(0)
        self.stream.truncate()


@pytest.fixture(autouse=True)
def slack_log(searcher):
    """Every Slack test logs as `policybot serve` does: JSON lines at INFO, so a log call that
    fails only when its line is really written (a reserved field name) fails here too. At the
    end every line must be one JSON object, with traceback text only inside its "exc" field.

    The session's index is loaded first (`searcher`): loading it imports faiss, whose loader
    logs at INFO, and those lines belong to no test (a test that counts its lines would fail
    only when it happened to be the first to load the index)."""
    root = logging.getLogger()
    level = root.level
    stream = io.StringIO()
    configure_logging("INFO", stream=stream)
    yield JsonLog(stream)
    for handler in [h for h in root.handlers if getattr(h, "_policybot_json_handler", False)]:
        root.removeHandler(handler)
    root.setLevel(level)
    for name in ("slack_bolt", "slack_sdk"):
        logging.getLogger(name).setLevel(logging.NOTSET)
    for raw in stream.getvalue().splitlines():
        line = json.loads(raw)
        assert isinstance(line, dict), raw
        assert "Traceback" not in json.dumps({k: v for k, v in line.items() if k != "exc"}), raw


@pytest.fixture()
def slack_stub():
    with SlackApiStub(valid_tokens={BOT_TOKEN}) as stub:
        yield stub


@pytest.fixture()
def slack_settings(settings, slack_stub):
    """HTTP-mode settings aimed at the stub, with a fresh SQLite file (from `settings`)."""
    return settings.model_copy(update=dict(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                                           slack_app_token=None, slack_api_url=slack_stub.api_url, port=0,
                                           slack_retry_base=RETRY_BASE_S))


@pytest.fixture()
def slack_bot(slack_settings, answerer):
    from bot.slack_app import create_app

    bot = create_app(slack_settings, answerer)
    yield bot
    bot.close()


@pytest.fixture()
def http_app(slack_bot):
    server = slack_bot.http_server(host="127.0.0.1", port=0).start()
    yield server
    server.stop()


@pytest.fixture()
def sender(http_app, slack_stub) -> SlackSender:
    return SlackSender(http_app.url, slack_stub)
