"""Logs are one JSON object a line, with timings, and never carry tokens, e-mails or phone numbers."""
from __future__ import annotations

import io
import json
import logging

import pytest

from bot.logging_setup import configure_logging, log_event

from .driver import BOT_TOKEN

SECRETS = ("taro.yamada@example.com", "090-1234-5678", "+81 90 1234 5678", BOT_TOKEN)


@pytest.fixture()
def log_stream():
    """The JSON log at the level `policybot serve` configures (INFO)."""
    stream = io.StringIO()
    handler = configure_logging("INFO", stream=stream)
    yield stream
    logging.getLogger().removeHandler(handler)


def lines(stream) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_one_json_line_per_event_with_fields(log_stream):
    log_event(logging.getLogger("bot.slack"), "slack.reply", surface="dm", total_ms=12.5, citations=["3-1-4"])
    [line] = lines(log_stream)
    assert line["event"] == "slack.reply" and line["level"] == "info" and line["logger"] == "bot.slack"
    assert line["surface"] == "dm" and line["total_ms"] == 12.5 and line["citations"] == ["3-1-4"]


def test_messages_args_fields_and_tracebacks_from_any_logger_are_redacted(log_stream):
    other = logging.getLogger("slack_sdk.web.base_client")
    other.info("Sending a request - headers: %s body: %s", {"Authorization": f"Bearer {BOT_TOKEN}"},
               "taro.yamada@example.com 090-1234-5678")
    log_event(logging.getLogger("bot.slack"), "slack.reply", question="+81 90 1234 5678",
              nested={"who": ["taro.yamada@example.com"]})
    try:
        raise RuntimeError("could not send to taro.yamada@example.com with xoxb-0-0-secret")
    except RuntimeError:
        logging.getLogger("bot.slack").exception("slack.reply_failed")
    text = log_stream.getvalue()
    assert len(lines(log_stream)) == 3
    for secret in (*SECRETS, "xoxb-0-0-secret"):
        assert secret not in text
    assert "[email]" in text and "[phone]" in text and "[token]" in text
    assert "RuntimeError" in lines(log_stream)[2]["exc"]


def test_a_real_conversation_logs_timings_and_no_personal_data(log_stream, sender, slack_stub, slack_bot):
    question = "taro.yamada@example.com と 090-1234-5678 を第三者に提供しますか？ +81 90 1234 5678"
    sender.send_event(sender.dm(question))
    sender.send_command(question)
    slack_stub.wait_for("chat.postMessage")
    slack_stub.wait_for("response_url")
    slack_bot.drain()
    # The personal data did travel (the mailto link to the contact window carries the question) …
    assert any("090-1234-5678" in json.dumps(c.body) for c in slack_stub.calls())
    # … but no log line carries it, nor the token.
    text = log_stream.getvalue()
    for secret in SECRETS:
        assert secret not in text
    parsed = lines(log_stream)
    replies = [line for line in parsed if line["event"] in ("slack.reply", "slack.command")]
    assert {r["surface"] for r in replies} == {"dm", "command"}
    for r in replies:
        assert r["total_ms"] >= r["answer_ms"] >= 0 and "queue_ms" in r and "post_ms" in r
        assert "question" not in r


@pytest.mark.parametrize("name", ["created", "name", "msg", "args", "levelname", "module", "process", "message",
                                  "asctime", "event", "level", "logger", "ts", "exc", "stack"])
def test_any_field_name_is_safe(log_stream, name):
    """A field called like a LogRecord attribute (`created` broke every hand-off line) or like a
    key of the line itself is written, never raised or lost."""
    log_event(logging.getLogger("bot.slack"), "slack.forward", level_hint=1, **{name: "value"})
    [line] = lines(log_stream)
    assert line["event"] == "slack.forward" and line["level"] == "info" and line["logger"] == "bot.slack"
    key = f"field_{name}" if name in ("event", "level", "logger", "ts", "exc", "stack") else name
    assert line[key] == "value" and line["level_hint"] == 1


def test_a_line_that_cannot_be_encoded_is_still_one_json_line(log_stream):
    log_event(logging.getLogger("bot.slack"), "slack.reply", text="broken \ud83d emoji")
    log_stream.getvalue().encode("utf-8")  # writable as UTF-8 (a raw surrogate would raise here)
    [line] = lines(log_stream)
    assert line["text"] == "broken \ud83d emoji"  # the JSON escape reads back as what was logged
