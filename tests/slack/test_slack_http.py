"""The app in HTTP mode on a real port, driven the way Slack drives it, against the Web API stub."""
from __future__ import annotations

import json
import sqlite3
import time

from bot.slack_render.ids import ACTION_FEEDBACK_DOWN, ACTION_FEEDBACK_UP, ACTION_SHARE
from bot.slack_render.mrkdwn import escape
from bot.slack_text import unescape
from bot.slack_app import create_app
from tests.slack_api_stub import BOT_USER_ID

from .driver import BOT_TOKEN, CHANNEL, DM_CHANNEL, USER, SlackSender

RIGHTS_QUESTION = "自分の個人データの開示を請求したい。どこに連絡すればいいですか？"
BILLING_QUESTION = "利用料金の請求に個人情報を使いますか？"


def replies(stub, thread_ts=None):
    posts = stub.calls("chat.postMessage")
    return [c for c in posts if thread_ts is None or c.body.get("thread_ts") == thread_ts]


def test_mention_is_answered_in_its_thread_with_cited_clause(sender, slack_stub, slack_bot, answerer):
    event = sender.mention(BILLING_QUESTION)
    sent = sender.send_event(event)
    assert sent.status == 200
    [post] = slack_stub.wait_for("chat.postMessage")
    slack_bot.drain()
    assert post.token == BOT_TOKEN
    assert post.body["channel"] == CHANNEL
    assert post.body["thread_ts"] == event["ts"]  # in the thread of the mention, never top-level
    expected = answerer.answer(BILLING_QUESTION)
    assert expected.citations, "the real answerer should cite a clause for this question"
    shown = post.blocks_text()
    for c in expected.citations:
        assert f"*{escape(c.label)}*" in shown
        assert "\n".join(">" + escape(line) for line in c.text.split("\n")) in shown
    # 👀 while working: added on the question before the answer, removed after
    methods = [c.method for c in slack_stub.calls() if c.method != "auth.test"]
    assert methods == ["reactions.add", "chat.postMessage", "reactions.remove"]
    reaction = slack_stub.calls("reactions.add")[0].body
    assert (reaction["channel"], reaction["timestamp"], reaction["name"]) == (CHANNEL, event["ts"], "eyes")


def test_mention_inside_a_thread_replies_in_that_thread(sender, slack_stub, slack_bot):
    parent = sender.new_ts()
    sender.send_event(sender.mention(BILLING_QUESTION, thread_ts=parent))
    [post] = slack_stub.wait_for("chat.postMessage")
    assert post.body["thread_ts"] == parent


def test_retry_of_the_same_event_gets_no_second_reply(sender, slack_stub, slack_bot):
    event = sender.mention(BILLING_QUESTION)
    first = sender.send_event(event, event_id="Ev0RETRY01")
    retry = sender.send_event(event, event_id="Ev0RETRY01", retry_num=1)
    assert first.status == 200 and retry.status == 200
    slack_stub.wait_for("chat.postMessage")
    slack_bot.drain()
    assert len(replies(slack_stub)) == 1


def test_mention_that_also_arrives_as_a_message_event_gets_one_reply(sender, slack_stub, slack_bot):
    mention = sender.mention(BILLING_QUESTION)
    as_message = {**mention, "type": "message", "channel_type": "channel"}
    sender.send_event(mention)
    sender.send_event(as_message)
    # and in a DM, where both kinds carry the same channel and ts
    dm = sender.dm(f"<@{BOT_USER_ID}> {BILLING_QUESTION}")
    sender.send_event(dm)
    sender.send_event({**dm, "type": "app_mention"})
    slack_stub.wait_for("chat.postMessage", 2)
    slack_bot.drain()
    assert sorted(c.body["channel"] for c in replies(slack_stub)) == sorted([CHANNEL, DM_CHANNEL])


def test_restart_does_not_answer_a_retried_event_again(slack_settings, answerer, slack_stub):
    first = create_app(slack_settings, answerer)
    server = first.http_server(host="127.0.0.1", port=0).start()
    event = SlackSender(server.url, slack_stub).mention(BILLING_QUESTION)
    SlackSender(server.url, slack_stub).send_event(event, event_id="Ev0RESTART")
    slack_stub.wait_for("chat.postMessage")
    server.stop()
    first.close()

    second = create_app(slack_settings, answerer)  # same SQLite file, new process state
    server = second.http_server(host="127.0.0.1", port=0).start()
    try:
        sent = SlackSender(server.url, slack_stub).send_event(event, event_id="Ev0RESTART", retry_num=2)
        assert sent.status == 200
        second.drain()
        assert len(replies(slack_stub)) == 1
    finally:
        server.stop()
        second.close()


def test_forged_or_stale_signature_is_rejected_without_a_post(sender, slack_stub, slack_bot):
    body = json.dumps(sender.event_callback(sender.mention(BILLING_QUESTION)))
    forged = sender.post(body, "application/json", signature="v0=" + "0" * 64)
    stale_ts = int(time.time()) - 10 * 60
    stale = sender.post(body, "application/json", timestamp=stale_ts)  # correctly signed, but old
    other_key = SlackSender(sender.url.geturl(), slack_stub, secret="someone-elses-secret")
    wrong_secret = other_key.post(body, "application/json")
    assert (forged.status, stale.status, wrong_secret.status) == (401, 401, 401)
    slack_bot.drain()
    assert slack_stub.calls("chat.postMessage") == [] and slack_stub.calls("reactions.add") == []


def test_slash_command_answers_privately_with_readable_echo_and_share_button(sender, slack_stub, slack_bot):
    sent = sender.send_command("<!channel> <@U0OTHER> 第三者に個人データを提供しますか？")
    assert sent.status == 200 and sent.body == ""
    [reply] = slack_stub.wait_for("response_url")
    assert reply.path == "/response/cmd"
    assert reply.body["response_type"] == "ephemeral"
    raw = json.dumps(reply.body, ensure_ascii=False)
    assert "<!channel>" not in raw and "U0OTHER" not in raw  # pings nobody; an unnamed mention is dropped
    assert "*質問:* @channel 第三者に個人データを提供しますか？" in reply.blocks_text()  # as the user saw it
    actions = [e["action_id"] for b in reply.body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    assert ACTION_SHARE in actions
    assert slack_stub.calls("chat.postMessage") == []  # nothing public


def test_share_button_posts_the_answer_in_channel_and_removes_the_private_copy(sender, slack_stub, slack_bot):
    sender.send_command(BILLING_QUESTION)
    [private] = slack_stub.wait_for("response_url")
    answer_id = next(e["value"] for b in private.body["blocks"] if b["type"] == "actions" for e in b["elements"])
    slack_stub.clear()
    sent = sender.send_interaction(sender.button_payload(ACTION_SHARE, answer_id, ephemeral=True))
    assert sent.status == 200
    public, delete = slack_stub.wait_for("response_url", 2)
    assert public.body["response_type"] == "in_channel" and public.body["replace_original"] is False
    assert f"<@{USER}>" in public.blocks_text()  # who shared it
    assert BILLING_QUESTION in public.blocks_text()
    private_quotes = [b for b in private.body["blocks"] if b["type"] in ("section", "context")]
    assert all(b in public.body["blocks"] for b in private_quotes)
    assert delete.body["delete_original"] is True


def test_feedback_button_writes_a_row(sender, slack_stub, slack_bot, slack_settings):
    event = sender.mention(BILLING_QUESTION)
    sender.send_event(event)
    [post] = slack_stub.wait_for("chat.postMessage")
    answer_id = next(e["value"] for b in post.body["blocks"] if b["type"] == "actions" for e in b["elements"]
                     if e["action_id"] == ACTION_FEEDBACK_UP)
    sent = sender.send_interaction(sender.button_payload(ACTION_FEEDBACK_DOWN, answer_id, user="U0VOTER"))
    assert sent.status == 200
    [thanks] = slack_stub.wait_for("response_url")
    assert thanks.body["response_type"] == "ephemeral" and "フィードバック" in thanks.blocks_text()
    with sqlite3.connect(slack_settings.db_path) as db:
        rows = db.execute("SELECT answer_id, question, clause_ids, user_id, vote FROM feedback").fetchall()
    stored = slack_bot.deps.store.get_answer(answer_id)
    assert rows == [(answer_id, BILLING_QUESTION, json.dumps(list(stored.citation_ids)), "U0VOTER", "down")]
    assert stored.citation_ids  # the clause ids the user rated


def test_feedback_on_unknown_answer_says_so_and_writes_nothing(sender, slack_stub, slack_bot, slack_settings):
    sender.send_interaction(sender.button_payload(ACTION_FEEDBACK_UP, "no-such-id"))
    [reply] = slack_stub.wait_for("response_url")
    assert "見つかりませんでした" in reply.blocks_text()
    with sqlite3.connect(slack_settings.db_path) as db:
        assert db.execute("SELECT COUNT(*) FROM feedback").fetchone() == (0,)


def test_message_shortcut_gives_support_a_private_draft(sender, slack_stub, slack_bot):
    sent = sender.send_interaction(sender.shortcut_payload(RIGHTS_QUESTION))
    assert sent.status == 200
    [reply] = slack_stub.wait_for("response_url")
    assert reply.path == "/response/shortcut" and reply.body["response_type"] == "ephemeral"
    code_blocks = [b for b in reply.body["blocks"] if b["type"] == "section" and "```" in b["text"]["text"]]
    assert len(code_blocks) == 1
    draft = unescape(code_blocks[0]["text"]["text"].split("```")[1])
    assert draft.startswith("お問い合わせいただき、誠にありがとうございます。")
    assert "info@sokonara.co.jp" in draft  # the contact window, read from 第10条
    assert slack_stub.calls("chat.postMessage") == []


def test_message_shortcut_drafts_in_english_for_english_messages(sender, slack_stub, slack_bot):
    sender.send_interaction(sender.shortcut_payload("How can I request deletion of my personal data?"))
    [reply] = slack_stub.wait_for("response_url")
    draft = unescape(next(b["text"]["text"] for b in reply.body["blocks"]
                                 if b["type"] == "section" and "```" in b["text"]["text"]).split("```")[1])
    assert draft.startswith("Thank you for contacting us.")


def test_direct_message_is_answered_in_the_dm(sender, slack_stub, slack_bot):
    dm = sender.dm(BILLING_QUESTION)
    sender.send_event(dm)
    [post] = slack_stub.wait_for("chat.postMessage")
    assert post.body["channel"] == DM_CHANNEL and "thread_ts" not in post.body


def test_bots_edit_notices_deletions_joins_and_plain_channel_messages_are_ignored(sender, slack_stub, slack_bot):
    events = [
        sender.dm(BILLING_QUESTION, bot_id="B0OTHER"),
        sender.dm(BILLING_QUESTION, user=BOT_USER_ID),
        sender.dm("", subtype="message_changed", message={"text": BILLING_QUESTION}),
        sender.dm("", subtype="message_deleted"),
        sender.dm("", subtype="channel_join"),
        {**sender.dm(BILLING_QUESTION), "channel_type": "channel", "channel": CHANNEL},
    ]
    for event in events:
        assert sender.send_event(event).status == 200
    marker = sender.dm("これで終わり：" + BILLING_QUESTION)  # a real question after them all
    sender.send_event(marker)
    [post] = slack_stub.wait_for("chat.postMessage")
    slack_bot.drain()
    assert replies(slack_stub) == [post] and post.body["channel"] == DM_CHANNEL


def test_empty_and_overlong_questions_get_a_clear_reply(sender, slack_stub, slack_bot):
    empty = sender.mention("")
    long = sender.mention("個人情報" * 1200)  # 4,800 characters
    sender.send_event(empty)
    sender.send_event(long)
    slack_stub.wait_for("chat.postMessage", 2)
    by_thread = {c.body["thread_ts"]: c for c in replies(slack_stub)}
    assert "質問を入力してください" in by_thread[empty["ts"]].blocks_text()
    assert "長すぎます" in by_thread[long["ts"]].blocks_text()
    for post in by_thread.values():
        assert all(b["type"] != "actions" for b in post.body["blocks"])


def test_slack_error_while_posting_gives_an_apology_not_the_error(sender, slack_stub, slack_bot):
    slack_stub.fail("chat.postMessage", "internal_error")
    event = sender.mention(BILLING_QUESTION)
    sender.send_event(event)
    failed, apology = slack_stub.wait_for("chat.postMessage", 2)
    assert apology.body["thread_ts"] == event["ts"]
    assert "問題が発生しました" in apology.blocks_text()
    assert "internal_error" not in json.dumps(apology.body) and "Traceback" not in json.dumps(apology.body)
    slack_stub.wait_for("reactions.remove")  # the 👀 is still cleaned up


def test_app_home_tab_is_published(sender, slack_stub, slack_bot):
    sender.send_event({"type": "app_home_opened", "user": USER, "channel": "D0HOME", "tab": "home",
                       "event_ts": sender.new_ts()})
    [publish] = slack_stub.wait_for("views.publish")
    assert publish.body["user_id"] == USER
    view = publish.body["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert view["type"] == "home" and "/policy" in json.dumps(view, ensure_ascii=False)


def test_url_verification_challenge_is_echoed(sender):
    body = json.dumps({"token": "legacy", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P",
                       "type": "url_verification"})
    sent = sender.post(body, "application/json")
    assert sent.status == 200 and json.loads(sent.body) == {
        "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}


def test_health_endpoint_and_unknown_paths(http_app):
    import urllib.error
    import urllib.request

    base = http_app.url.rsplit("/slack/events", 1)[0]
    assert json.loads(urllib.request.urlopen(base + "/healthz", timeout=5).read())["status"] == "ok"
    try:
        urllib.request.urlopen(urllib.request.Request(base + "/other", data=b"{}", method="POST"), timeout=5)
    except urllib.error.HTTPError as exc:
        assert exc.code == 404
    else:
        raise AssertionError("POST /other should be 404")


def test_settings_point_the_client_at_slack_api_url(slack_bot, slack_stub):
    assert slack_bot.app.client.base_url == slack_stub.api_url + "/"
    assert slack_stub.calls("auth.test")[0].token == BOT_TOKEN  # token checked once at start


def test_missing_tokens_are_reported_clearly(slack_settings, answerer):
    import pytest

    from bot.slack_app import SlackConfigError

    with pytest.raises(SlackConfigError, match="SLACK_BOT_TOKEN"):
        create_app(slack_settings.model_copy(update=dict(slack_bot_token=None)), answerer)
    with pytest.raises(SlackConfigError, match="SLACK_SIGNING_SECRET"):
        create_app(slack_settings.model_copy(update=dict(slack_signing_secret=None)), answerer)
