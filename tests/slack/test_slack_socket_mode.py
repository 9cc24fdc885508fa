"""Socket Mode: the same payloads, delivered the way the Socket Mode adapter delivers them.

Slack's WebSocket cannot be reached from a test, so each test hands a SocketModeRequest to
the real slack_bolt SocketModeHandler and records the envelope acks it would send back;
the Web API side is the same stub as in HTTP mode.
"""
from __future__ import annotations

import itertools
import sqlite3

import pytest
from slack_sdk.socket_mode.request import SocketModeRequest

from bot.slack_render.ids import ACTION_FEEDBACK_UP
from bot.slack_app import create_app

from .driver import APP_TOKEN, CHANNEL, SlackSender

QUESTION = "利用料金の請求に個人情報を使いますか？"
_envelopes = itertools.count(1)


@pytest.fixture()
def socket_mode(slack_settings, answerer, slack_stub):
    settings = slack_settings.model_copy(update=dict(slack_app_token=APP_TOKEN, slack_signing_secret=None))
    bot = create_app(settings, answerer)  # no signing secret needed in Socket Mode
    handler = bot.socket_mode_handler()
    acks = []
    handler.client.send_socket_mode_response = acks.append  # what would go back over the WebSocket
    payloads = SlackSender("http://127.0.0.1:9/unused", slack_stub)

    def deliver(kind: str, payload: dict, retry_attempt: int | None = None):
        request = SocketModeRequest(type=kind, envelope_id=f"env-{next(_envelopes)}", payload=payload,
                                    retry_attempt=retry_attempt, retry_reason="timeout" if retry_attempt else None)
        before = len(acks)
        handler.handle(handler.client, request)
        assert len(acks) == before + 1, "every envelope is acknowledged exactly once"
        assert acks[-1].envelope_id == request.envelope_id
        return acks[-1]

    yield bot, deliver, payloads
    # slack_sdk's message processor waits up to 1 s on its queue before it looks at `closed`:
    # mark the client closed and wake it (it skips a None message), then close as usual.
    handler.client.closed = True
    handler.client.message_queue.put(None)
    handler.close()
    bot.close()


@pytest.mark.model
def test_mention_over_socket_mode_is_acked_and_answered_in_thread(socket_mode, slack_stub):
    bot, deliver, payloads = socket_mode
    event = payloads.mention(QUESTION)
    ack = deliver("events_api", payloads.event_callback(event))
    assert ack.payload is None  # a bare ack, like Slack expects for events
    [post] = slack_stub.wait_for("chat.postMessage")
    assert post.body["channel"] == CHANNEL and post.body["thread_ts"] == event["ts"]
    assert "*第3条（利用目的）第1項第4号*" in post.blocks_text()


def test_socket_mode_retry_gets_no_second_reply(socket_mode, slack_stub):
    bot, deliver, payloads = socket_mode
    callback = payloads.event_callback(payloads.mention(QUESTION), event_id="Ev0SOCKRETRY")
    deliver("events_api", callback)
    deliver("events_api", callback, retry_attempt=1)
    slack_stub.wait_for("chat.postMessage")
    bot.drain()
    assert len(slack_stub.calls("chat.postMessage")) == 1


def test_slash_command_over_socket_mode(socket_mode, slack_stub):
    bot, deliver, payloads = socket_mode
    ack = deliver("slash_commands", payloads.command_fields("<!here> " + QUESTION))
    assert ack.payload is None
    [reply] = slack_stub.wait_for("response_url")
    assert reply.body["response_type"] == "ephemeral"
    assert f"*質問:* @here {QUESTION}" in reply.blocks_text() and "<!here>" not in str(reply.body)


def test_shortcut_and_feedback_over_socket_mode(socket_mode, slack_stub, slack_settings):
    bot, deliver, payloads = socket_mode
    deliver("interactive", payloads.shortcut_payload("自分のデータを削除してほしいのですが、どうすればよいですか。"))
    [draft] = slack_stub.wait_for("response_url")
    assert any("```" in b["text"]["text"] for b in draft.body["blocks"] if b["type"] == "section")
    answer_id = next(e["value"] for b in draft.body["blocks"] if b["type"] == "actions" for e in b["elements"])
    deliver("interactive", payloads.button_payload(ACTION_FEEDBACK_UP, answer_id, user="U0SUPPORT"))
    slack_stub.wait_for("response_url", 2)
    with sqlite3.connect(slack_settings.db_path) as db:
        assert db.execute("SELECT user_id, vote FROM feedback WHERE answer_id = ?", (answer_id,)).fetchall() == [
            ("U0SUPPORT", "up")]
