"""Follow-ups in Slack threads, from the bot's own records: a second question in a mention thread
or a DM thread is read with the first; a retry still gets one reply; context never crosses
threads or users. Signed HTTP to the running app, replies recorded by the Web API stand-in."""
from __future__ import annotations

import threading

import pytest

from bot.slack_render.mrkdwn import escape

from .driver import DM_CHANNEL

SAFETY = "個人情報の安全管理はどのように行っていますか"
FOLLOW_UP = "その責任者は決まっていますか"
PURPOSES = "個人情報の利用目的を教えてください"


def _context_line(question: str) -> str:
    return escape(f"前の質問「{question}」を踏まえてお答えします")


def _posts_in(stub, thread_ts: str) -> list:
    return [c for c in stub.calls("chat.postMessage") if c.body.get("thread_ts") == thread_ts]


def _ask(sender, slack_stub, slack_bot, event: dict, *, posts_before: int, **kw):
    sender.send_event(event, **kw)
    slack_stub.wait_for("chat.postMessage", count=posts_before + 1)
    slack_bot.drain()


@pytest.mark.model
def test_a_follow_up_in_a_mention_thread_is_read_with_the_first_question(sender, slack_stub, slack_bot, slack_log,
                                                                        answerer):
    first = sender.mention(SAFETY)
    _ask(sender, slack_stub, slack_bot, first, posts_before=0)
    thread = first["ts"]
    _ask(sender, slack_stub, slack_bot, sender.mention(FOLLOW_UP, thread_ts=thread), posts_before=1)
    first_reply, second_reply = _posts_in(slack_stub, thread)
    assert _context_line(SAFETY) not in first_reply.blocks_text()
    shown = second_reply.blocks_text()
    assert _context_line(SAFETY) in shown
    expected = answerer.answer(FOLLOW_UP, history=[SAFETY])
    assert "7-2" in [c.id for c in expected.citations]
    for citation in expected.citations:
        assert f"*{escape(citation.label)}*" in shown
    assert [line["follow_up"] for line in slack_log.events("slack.reply")] == [False, True]


@pytest.mark.model
def test_a_follow_up_in_a_dm_thread_is_read_with_the_first_question(sender, slack_stub, slack_bot):
    first = sender.dm(SAFETY)
    _ask(sender, slack_stub, slack_bot, first, posts_before=0)
    _ask(sender, slack_stub, slack_bot, sender.dm(FOLLOW_UP, thread_ts=first["ts"]), posts_before=1)
    second = slack_stub.calls("chat.postMessage")[1]
    assert second.body["channel"] == DM_CHANNEL and second.body["thread_ts"] == first["ts"]
    assert _context_line(SAFETY) in second.blocks_text()


def test_a_top_level_dm_is_a_new_conversation(sender, slack_stub, slack_bot):
    _ask(sender, slack_stub, slack_bot, sender.dm(SAFETY), posts_before=0)
    _ask(sender, slack_stub, slack_bot, sender.dm(FOLLOW_UP), posts_before=1)
    assert "前の質問" not in slack_stub.calls("chat.postMessage")[1].blocks_text()


def test_a_retry_of_the_second_turn_gets_one_reply(sender, slack_stub, slack_bot):
    first = sender.mention(SAFETY)
    _ask(sender, slack_stub, slack_bot, first, posts_before=0)
    second = sender.mention(FOLLOW_UP, thread_ts=first["ts"])
    assert sender.send_event(second, event_id="Ev0FOLLOW01").status == 200
    assert sender.send_event(second, event_id="Ev0FOLLOW01", retry_num=1).status == 200
    slack_stub.wait_for("chat.postMessage", count=2)
    slack_bot.drain()
    replies = _posts_in(slack_stub, first["ts"])
    assert len(replies) == 2 and _context_line(SAFETY) in replies[1].blocks_text()


def test_context_never_crosses_threads_or_users(sender, slack_stub, slack_bot):
    in_a, in_b = sender.mention(SAFETY), sender.mention(PURPOSES)
    _ask(sender, slack_stub, slack_bot, in_a, posts_before=0)
    _ask(sender, slack_stub, slack_bot, in_b, posts_before=1)
    follow_ups = [sender.mention(FOLLOW_UP, thread_ts=in_a["ts"]), sender.mention(FOLLOW_UP, thread_ts=in_b["ts"]),
                  sender.mention(FOLLOW_UP, thread_ts=in_a["ts"], user="U0SOMEONE2")]
    senders = [threading.Thread(target=sender.send_event, args=(event,)) for event in follow_ups]
    for t in senders:
        t.start()
    for t in senders:
        t.join()
    slack_stub.wait_for("chat.postMessage", count=5)
    slack_bot.drain()
    a_replies, b_replies = _posts_in(slack_stub, in_a["ts"]), _posts_in(slack_stub, in_b["ts"])
    assert len(a_replies) == 3 and len(b_replies) == 2
    assert sum(_context_line(SAFETY) in r.blocks_text() for r in a_replies) == 1  # the asker's, not the colleague's
    assert all(SAFETY not in r.blocks_text() for r in b_replies)
    stored = slack_bot.deps.store
    assert stored.thread_questions("C0GENERAL", in_a["ts"], "U0SOMEONE2", ("app_mention",)) == [FOLLOW_UP]


def test_thread_questions_are_the_askers_own_conversation_turns_oldest_first(tmp_path, answerer):
    from bot.slack_store import SlackStore

    store = SlackStore(tmp_path / "store.sqlite3")
    try:
        def record(question, user="U1", thread="1.0", surface="app_mention"):
            store.record_answer(answerer.answer(question), user_id=user, channel="C1", thread_ts=thread,
                                surface=surface)
        record(SAFETY)
        record(PURPOSES, surface="shortcut")  # a private answer is not a turn of the thread
        record(FOLLOW_UP)
        record(PURPOSES, user="U2")
        record(PURPOSES, thread="2.0")
        assert store.thread_questions("C1", "1.0", "U1", ("app_mention", "dm")) == [SAFETY, FOLLOW_UP]
        assert store.thread_questions("C1", "1.0", "U1", ("app_mention",), limit=1) == [FOLLOW_UP]
        assert store.thread_questions("C1", "1.0", "U3", ("app_mention",)) == []
    finally:
        store.close()
