"""Bad input and faults at the Slack side, through the app in HTTP mode on a real port: malformed
requests, broken Unicode, Web API server errors, events nobody listens to, payloads from another
workspace or app, edited mentions. Logs are read at INFO, as `policybot serve` writes them."""
from __future__ import annotations

import json
import time

import pytest

from bot.slack_render.ids import ACTION_FEEDBACK_UP
from bot.slack_render.mrkdwn import escape
from bot.slack_app import create_app
from tests.slack_api_stub import BOT_USER_ID, TEAM_ID

from .driver import CHANNEL, DM_CHANNEL, SlackSender

QUESTION = "利用料金の請求に個人情報を使いますか？"


def answer_posts(stub) -> list:
    """chat.postMessage calls that carry an answer (its 👍 button), not an apology."""
    return [c for c in stub.calls("chat.postMessage") if ACTION_FEEDBACK_UP in json.dumps(c.body)]


def assert_still_answers(sender, stub, bot) -> None:
    """After whatever came before, a real question is still answered."""
    stub.clear()
    sender.send_event(sender.dm(QUESTION))
    stub.wait_for("chat.postMessage")
    bot.drain()
    assert len(answer_posts(stub)) == 1


# --- 1. malformed requests: signature first, then 400, one JSON line, no traceback -------------

FORM = "application/x-www-form-urlencoded"
MALFORMED_BODIES = [
    pytest.param(b"{oops", "application/json", "not_json", id="body-not-json"),
    pytest.param(b"payload=%7Boops", FORM, "not_json", id="payload-not-json"),
    pytest.param(b"payload=", FORM, "not_json", id="payload-empty"),
    pytest.param(b"payload=%5B1%2C2%5D", FORM, "not_an_object", id="payload-a-list"),
    pytest.param(b"[1, 2]", "application/json", "not_an_object", id="body-a-list"),
    pytest.param(b"null", "application/json", "not_an_object", id="body-null"),
    pytest.param(b"\xff\xfe{\x00}", "application/json", "not_utf8", id="body-not-utf8"),
    pytest.param(b"[" * 100_000, "application/json", "not_json", id="body-nested-too-deep"),
    pytest.param(b"", "application/json", "empty", id="body-empty"),
    pytest.param(b'{"type": "event_callback", "event": "app_mention"}', "application/json", "not_a_slack_payload",
                 id="event-not-an-object"),
    pytest.param(b"payload=%7B%22type%22%3A%22block_actions%22%2C%22actions%22%3A%5Bnull%5D%7D", FORM,
                 "not_a_slack_payload", id="actions-not-objects"),
]


@pytest.mark.parametrize("body, content_type, reason", MALFORMED_BODIES)
def test_signed_but_malformed_body_is_400_with_one_log_line(sender, slack_stub, slack_bot, slack_log, capfd,
                                                             body, content_type, reason):
    head = {"Content-Type": content_type, "Content-Length": str(len(body)), **sender.signature_headers(body)}
    sent = sender.send_raw(head, body)
    assert sent.status == 400
    [line] = slack_log.lines()
    assert (line["event"], line["status"], line["reason"]) == ("http.refused", 400, reason)
    assert "Traceback" not in capfd.readouterr().err
    assert_still_answers(sender, slack_stub, slack_bot)


@pytest.mark.parametrize("body, content_type, reason", MALFORMED_BODIES[:3])
def test_unsigned_or_forged_malformed_body_is_401_and_never_parsed(sender, slack_stub, slack_bot, slack_log, capfd,
                                                                   body, content_type, reason):
    unsigned = sender.send_raw({"Content-Type": content_type, "Content-Length": str(len(body))}, body)
    forged = sender.send_raw({"Content-Type": content_type, "Content-Length": str(len(body)),
                              "X-Slack-Request-Timestamp": str(int(time.time())),
                              "X-Slack-Signature": "v0=" + "0" * 64}, body)
    assert (unsigned.status, forged.status) == (401, 401)
    assert [(line["event"], line["reason"]) for line in slack_log.lines()] == [
        ("http.refused", "unsigned"), ("http.refused", "bad_signature")]
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.parametrize("length, status, reason", [
    ("abc", 400, "bad_length"), ("-5", 400, "bad_length"), ("1e3", 400, "bad_length"), (None, 411, "length_required"),
    (str(2 << 20), 413, "too_large"),
])
def test_content_length_that_is_not_a_size_is_refused(sender, slack_stub, slack_bot, slack_log, capfd,
                                                       length, status, reason):
    body = json.dumps(sender.event_callback(sender.dm(QUESTION))).encode()
    head = {"Content-Type": "application/json", **sender.signature_headers(body)}
    if length is not None:
        head["Content-Length"] = length
    sent = sender.send_raw(head, body)
    assert sent.status == status
    [line] = slack_log.lines()
    assert (line["event"], line["status"], line["reason"]) == ("http.refused", status, reason)
    assert "Traceback" not in capfd.readouterr().err
    assert_still_answers(sender, slack_stub, slack_bot)
    assert len(slack_stub.calls("chat.postMessage")) == 1  # only the question asked afterwards


def test_bad_length_without_a_signature_is_401_first(sender, slack_bot, slack_log):
    sent = sender.send_raw({"Content-Type": "application/json", "Content-Length": "-1"}, b"{oops")
    assert sent.status == 401
    assert [line["reason"] for line in slack_log.lines()] == ["unsigned"]


@pytest.mark.parametrize("timestamp", ["yesterday", "", "1e9", "an hour ago"])
def test_timestamp_that_is_not_a_recent_unix_time_is_401(sender, slack_bot, slack_log, capfd, timestamp):
    if timestamp == "an hour ago":  # computed here: a parameter id must be the same in every worker
        timestamp = str(int(time.time()) - 3600)
    body = json.dumps(sender.event_callback(sender.dm(QUESTION))).encode()
    head = {"Content-Type": "application/json", "Content-Length": str(len(body)),
            "X-Slack-Request-Timestamp": timestamp, "X-Slack-Signature": "v0=" + "0" * 64}
    sent = sender.send_raw(head, body)
    assert sent.status == 401
    [line] = slack_log.lines()
    assert line["event"] == "http.refused" and line["reason"] in ("unsigned", "stale")
    assert "Traceback" not in capfd.readouterr().err


def test_body_shorter_than_its_content_length_is_400(sender, slack_stub, slack_bot, slack_log):
    body = json.dumps(sender.event_callback(sender.dm(QUESTION))).encode()
    head = {"Content-Type": "application/json", "Content-Length": str(len(body) + 100),
            **sender.signature_headers(body)}
    sent = sender.send_raw(head, body, half_close=True)
    assert sent.status == 400
    assert [line["reason"] for line in slack_log.lines()] == ["incomplete"]
    slack_bot.drain()
    assert slack_stub.calls("chat.postMessage") == []


def test_garbage_on_the_wire_leaves_only_json_lines(http_app, sender, slack_stub, slack_bot, slack_log, capfd):
    """What http.server itself reports (a request line it cannot read) goes through the JSON log."""
    import socket

    with socket.create_connection(("127.0.0.1", http_app.port), timeout=10) as sock:
        sock.sendall(b"\x16\x03\x01 GARBAGE /\r\n\r\n")
        reply = b"".join(iter(lambda: sock.recv(4096), b""))
    assert b"400" in reply
    slack_bot.drain()
    assert [line["event"] for line in slack_log.lines()] == ["http.protocol_error"]
    assert capfd.readouterr().err == ""
    assert_still_answers(sender, slack_stub, slack_bot)


def test_a_command_that_contains_the_word_payload_is_answered(sender, slack_stub, slack_bot, slack_log):
    """Bolt alone reads such a form as an interactivity payload and finds no listener."""
    sender.send_command("payloadという言葉が出てきました。" + QUESTION)
    [reply] = slack_stub.wait_for("response_url")
    assert ACTION_FEEDBACK_UP in json.dumps(reply.body)
    assert slack_log.events("slack.unhandled") == []


# --- 3. a lone surrogate in an event -----------------------------------------------------------

def test_lone_surrogate_in_an_event_still_gets_the_answer(sender, slack_stub, slack_bot, answerer, slack_log):
    callback = sender.event_callback(sender.dm(QUESTION + "\ud83d"))
    body = json.dumps(callback)  # ASCII: the surrogate travels as the escape \ud83d, as Slack can send it
    assert "\\ud83d" in body
    assert sender.post(body, "application/json").status == 200
    [post] = slack_stub.wait_for("chat.postMessage")
    slack_bot.drain()
    assert answer_posts(slack_stub) == [post]  # the answer, not the apology
    expected = answerer.answer(QUESTION)
    assert all(f"*{escape(c.label)}*" in post.blocks_text() for c in expected.citations)
    answer_id = next(e["value"] for b in post.body["blocks"] if b["type"] == "actions" for e in b["elements"])
    stored = slack_bot.deps.store.get_answer(answer_id)
    assert stored.question.startswith(QUESTION)
    assert [c.id for c in stored.answer.citations] == [c.id for c in expected.citations]
    assert slack_log.events("slack.reply") and not [line for line in slack_log.lines() if line["level"] == "error"]


# --- 7. server errors from chat.postMessage are retried, then the user is told ------------------

@pytest.mark.parametrize("status, body", [(500, None), (503, None), (502, "<html><body>502 Bad Gateway</body></html>")])
def test_server_errors_from_post_message_are_retried_and_the_answer_arrives(sender, slack_stub, slack_bot,
                                                                            status, body):
    slack_stub.fail("chat.postMessage", "internal_error", times=2, status=status, body=body)
    event = sender.mention(QUESTION)
    sender.send_event(event)
    slack_stub.wait_for("chat.postMessage", 3)
    slack_bot.drain()
    posts = slack_stub.calls("chat.postMessage")
    assert len(posts) == 3 and answer_posts(slack_stub) == posts  # the same answer, tried three times
    assert "問題が発生しました" not in json.dumps(posts, default=str, ensure_ascii=False)
    slack_stub.wait_for("reactions.remove")


def test_server_error_that_persists_ends_in_an_apology(sender, slack_stub, slack_bot, slack_log):
    slack_stub.fail("chat.postMessage", "internal_error", times=3, status=500)  # the answer's three tries
    event = sender.mention(QUESTION)
    sender.send_event(event)
    posts = slack_stub.wait_for("chat.postMessage", 4)
    slack_bot.drain()
    apology = posts[-1]
    assert apology.body["thread_ts"] == event["ts"] and "問題が発生しました" in apology.blocks_text()
    assert "internal_error" not in json.dumps(apology.body)
    [failed] = slack_log.events("slack.reply_failed")
    assert "SlackApiError" in failed["exc"]


# --- 8. events nobody listens to are acked ---------------------------------------------------------

@pytest.mark.parametrize("event", [
    {"type": "reaction_added", "user": "U0ASKER01", "reaction": "eyes", "item": {"type": "message", "channel": CHANNEL,
                                                                               "ts": "1710000000.000100"}},
    {"type": "member_joined_channel", "user": "U0ASKER01", "channel": CHANNEL},
    {"type": "app_uninstalled"},
])
def test_events_without_a_listener_are_acked_not_404(sender, slack_stub, slack_bot, slack_log, event):
    sent = sender.send_event({**event, "event_ts": sender.new_ts()})
    assert sent.status == 200  # 404 would make Slack count a failed delivery and retry
    slack_bot.drain()
    [line] = slack_log.events("slack.unhandled")
    assert line["level"] == "info" and line["name"] == event["type"]
    assert slack_stub.calls("chat.postMessage") == []


def test_an_unknown_button_is_acked(sender, slack_stub, slack_bot, slack_log):
    sent = sender.send_interaction(sender.button_payload("button_from_an_older_version", "x"))
    assert sent.status == 200
    assert [line["name"] for line in slack_log.events("slack.unhandled")] == ["button_from_an_older_version"]


# --- 9. SLACK_TEAM_ID / SLACK_APP_ID ---------------------------------------------------------------

@pytest.fixture()
def pinned(slack_settings, answerer, slack_stub):
    """The app with SLACK_TEAM_ID and SLACK_APP_ID set to the stub workspace and our app."""
    bot = create_app(slack_settings.model_copy(update=dict(slack_team_id=TEAM_ID, slack_app_id="A0POLICY")), answerer)
    server = bot.http_server(host="127.0.0.1", port=0).start()
    yield bot, SlackSender(server.url, slack_stub)
    server.stop()
    bot.close()


def _from_elsewhere(callback: dict, *, team: str | None = None, app: str | None = None) -> dict:
    callback = json.loads(json.dumps(callback))
    if team:
        callback["team_id"] = team
        for authorization in callback.get("authorizations") or ():
            authorization["team_id"] = team
    if app:
        callback["api_app_id"] = app
    return callback


def test_events_from_another_workspace_or_app_are_acked_and_ignored(pinned, slack_stub, slack_log):
    bot, sender = pinned
    other_team = _from_elsewhere(sender.event_callback(sender.mention(QUESTION)), team="T0OTHER")
    other_app = _from_elsewhere(sender.event_callback(sender.dm(QUESTION)), app="A0OTHER")
    for callback in (other_team, other_app):
        assert sender.post(json.dumps(callback), "application/json").status == 200
    command = {**sender.command_fields(QUESTION), "team_id": "T0OTHER"}
    from urllib.parse import urlencode
    assert sender.post(urlencode(command), FORM).status == 200
    button = {**sender.button_payload(ACTION_FEEDBACK_UP, "x"), "team": {"id": "T0OTHER", "domain": "other"}}
    assert sender.send_interaction(button).status == 200
    bot.drain()
    assert [c.method for c in slack_stub.calls() if c.method != "auth.test"] == []
    foreign = slack_log.events("slack.foreign")
    assert [line["why"] for line in foreign] == ["team", "app", "team", "team"]
    assert foreign[0]["team_ids"] == ["T0OTHER"] and foreign[1]["app_ids"] == ["A0OTHER"]


def test_our_workspace_is_answered_also_from_a_slack_connect_user(pinned, slack_stub):
    """In a Slack Connect channel the asker belongs to another company; the event was still sent
    to our installation (team_id, authorizations) and is answered."""
    bot, sender = pinned
    event = sender.mention(QUESTION, user="U0PARTNER1", team="T0PARTNER", user_team="T0PARTNER",
                           source_team="T0PARTNER")
    callback = {**sender.event_callback(event), "is_ext_shared_channel": True}
    assert sender.post(json.dumps(callback), "application/json").status == 200
    [post] = slack_stub.wait_for("chat.postMessage")
    assert post.body["thread_ts"] == event["ts"]


# --- 12. an edited mention is answered once ----------------------------------------------------

def answered_once(sender, slack_stub, slack_bot, first: dict, *later: dict):
    """Deliver `first`, wait for its answer, deliver the `later` events; exactly one answer in all."""
    sender.send_event(first)
    [post] = slack_stub.wait_for("chat.postMessage")
    for event in later:
        sender.send_event(event)
    slack_bot.drain()
    assert slack_stub.calls("chat.postMessage") == [post]
    return post


def edit_mark(sender) -> dict:
    return {"user": "U0ASKER01", "ts": sender.new_ts()}


def test_message_edited_to_add_the_mention_is_answered_once(sender, slack_stub, slack_bot):
    ts = sender.new_ts()
    plain = {"type": "message", "channel_type": "channel", "channel": CHANNEL, "user": "U0ASKER01", "text": QUESTION,
             "ts": ts}
    sender.send_event(plain)  # a channel message without the mention: not for us
    edited = sender.mention(QUESTION, ts=ts, edited=edit_mark(sender))  # Slack's app_mention for the edit
    post = answered_once(sender, slack_stub, slack_bot, edited, {**edited, "edited": edit_mark(sender)})
    assert post.body["thread_ts"] == ts


def test_editing_an_answered_mention_does_not_answer_it_again(sender, slack_stub, slack_bot):
    mention = sender.mention(QUESTION)
    answered_once(sender, slack_stub, slack_bot, mention,
                  {**mention, "text": mention["text"] + " (typo fixed)", "edited": edit_mark(sender)})


def test_edits_in_a_direct_message_do_not_answer_twice(sender, slack_stub, slack_bot):
    dm = sender.dm(QUESTION)
    edit_ts = sender.new_ts()
    edited_text = f"<@{BOT_USER_ID}> {QUESTION}"
    changed = {"type": "message", "subtype": "message_changed", "hidden": True, "channel": DM_CHANNEL,
               "channel_type": "im", "ts": edit_ts, "event_ts": edit_ts,
               "message": {"type": "message", "user": "U0ASKER01", "text": edited_text, "ts": dm["ts"],
                           "edited": {"user": "U0ASKER01", "ts": edit_ts}},
               "previous_message": {"type": "message", "user": "U0ASKER01", "text": QUESTION, "ts": dm["ts"]}}
    mention = {**dm, "type": "app_mention", "text": edited_text, "edited": {"user": "U0ASKER01", "ts": edit_ts}}
    answered_once(sender, slack_stub, slack_bot, dm, changed, mention)
