"""Slack stand-ins: the Web API stub, the app in HTTP mode on a free port, and a sender that
posts to it the way Slack does (signed JSON event callbacks, form-encoded commands and
interactivity payloads). The answerer is the real one from tests/conftest.py."""
from __future__ import annotations

import dataclasses

import pytest

from tests.slack_api_stub import SlackApiStub

from .driver import BOT_TOKEN, SIGNING_SECRET, SlackSender


@pytest.fixture()
def slack_stub():
    with SlackApiStub(valid_tokens={BOT_TOKEN}) as stub:
        yield stub


@pytest.fixture()
def slack_settings(settings, slack_stub):
    """HTTP-mode settings aimed at the stub, with a fresh SQLite file (from `settings`)."""
    return dataclasses.replace(settings, slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET,
                               slack_app_token=None, slack_api_url=slack_stub.api_url, port=0)


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
