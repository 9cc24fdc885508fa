"""Threads in Slack, driven by signed HTTP to the running app against the Web API stand-in:
a bare @policybot under someone else's message answers that message (conversations.replies)."""
from __future__ import annotations

import pytest

from bot.render.words import answer_lead
from bot.slack_render.mrkdwn import escape
from tests.slack_api_stub import BOT_USER_ID

from .driver import CHANNEL, USER

CUSTOMER_MAIL = ("お世話になっております。山田です（090-1234-5678）。\n"
                 "登録した個人情報を削除してもらうには、どうすればよいでしょうか。")


def _customer_thread(sender, slack_stub, text: str = CUSTOMER_MAIL, user: str = "U0SUPPORT1") -> str:
    root = sender.new_ts()
    slack_stub.add_thread(CHANNEL, [{"type": "message", "ts": root, "user": user, "text": text}])
    return root


@pytest.mark.model
def test_a_bare_mention_in_a_thread_answers_the_thread_root_and_quotes_it(sender, slack_stub, slack_bot, answerer,
                                                                           slack_log):
    root = _customer_thread(sender, slack_stub)
    mention = sender.mention("", thread_ts=root)
    assert sender.send_event(mention).status == 200
    [post] = slack_stub.wait_for("chat.postMessage")
    slack_bot.drain()
    [read] = slack_stub.calls("conversations.replies")
    assert (read.body["channel"], read.body["ts"]) == (CHANNEL, root)
    assert post.body["thread_ts"] == root
    expected = answerer.answer(CUSTOMER_MAIL)
    assert expected.status == "answered" and expected.citations[0].id == "8"
    shown = post.blocks_text()
    assert escape("登録した個人情報を削除してもらうには") in shown  # which message it answered
    assert f"*{escape(expected.citations[0].label)}*" in shown
    assert "質問を入力" not in shown and escape(answer_lead(expected)) in shown
    stored = slack_bot.deps.store.get_answer(post.body["blocks"][-1]["elements"][0]["value"])
    assert stored.user_id == USER and stored.thread_ts == root
    [line] = slack_log.events("slack.reply")
    assert line["summoned"] is True and "山田" not in str(slack_log.lines())


def test_a_bare_mention_where_the_thread_cannot_be_read_asks_for_a_question(sender, slack_stub, slack_bot,
                                                                             slack_log):
    root = sender.new_ts()  # no such thread in the stub: conversations.replies → thread_not_found
    sender.send_event(sender.mention("", thread_ts=root))
    [post] = slack_stub.wait_for("chat.postMessage")
    slack_bot.drain()
    assert len(slack_stub.calls("conversations.replies")) == 1
    assert escape("個人情報保護方針についての質問を入力してください。") in post.blocks_text()
    [error] = slack_log.events("slack.api_error")
    assert (error["call"], error["error"]) == ("conversations.replies", "thread_not_found")


@pytest.mark.model
def test_a_mention_with_a_question_in_a_thread_answers_that_question(sender, slack_stub, slack_bot, answerer):
    root = _customer_thread(sender, slack_stub)
    sender.send_event(sender.mention("利用料金の請求に個人情報を使いますか？", thread_ts=root))
    [post] = slack_stub.wait_for("chat.postMessage")
    slack_bot.drain()
    assert slack_stub.calls("conversations.replies") == []  # the root is read only for a bare mention
    assert "*第3条（利用目的）第1項第4号*" in post.blocks_text()


def test_a_bare_mention_under_the_bots_own_message_is_not_answered_as_a_question(sender, slack_stub, slack_bot):
    root = _customer_thread(sender, slack_stub, text="個人情報の削除について", user=BOT_USER_ID)
    sender.send_event(sender.mention("", thread_ts=root))
    [post] = slack_stub.wait_for("chat.postMessage")
    slack_bot.drain()
    assert escape("個人情報保護方針についての質問を入力してください。") in post.blocks_text()


def test_a_bare_top_level_mention_still_asks_for_a_question(sender, slack_stub, slack_bot):
    sender.send_event(sender.mention(""))
    [post] = slack_stub.wait_for("chat.postMessage")
    slack_bot.drain()
    assert slack_stub.calls("conversations.replies") == []
    assert escape("個人情報保護方針についての質問を入力してください。") in post.blocks_text()
