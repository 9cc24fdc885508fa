"""The assistant panel (Agents & AI Apps) through signed HTTP to the running app: greeting and
suggested prompts when a thread starts, status while answering, the title from the first
question, answers with citations and buttons, a follow-up read with the first question."""
from __future__ import annotations

from bot.slack_render.ids import ACTION_FEEDBACK_DOWN, ACTION_FEEDBACK_UP
from bot.slack_render.mrkdwn import escape
from bot.listeners.events.assistant import POPULAR_MIN_ASKERS, STATUS

from .driver import DM_CHANNEL, USER

SAFETY = "個人情報の安全管理はどのように行っていますか"
FOLLOW_UP = "その責任者は決まっていますか"


def _thread_started(sender, thread_ts: str) -> dict:
    return {"type": "assistant_thread_started", "event_ts": thread_ts,
            "assistant_thread": {"user_id": USER, "channel_id": DM_CHANNEL, "thread_ts": thread_ts,
                                 "context": {"channel_id": "C0GENERAL", "team_id": "T0STUB"}}}


def _in_thread(sender, text: str, thread_ts: str, **extra) -> dict:
    return sender.dm(text, thread_ts=thread_ts, **extra)


def test_a_new_thread_gets_a_greeting_and_prompts_from_the_policy(sender, slack_stub, slack_bot, answerer):
    thread = sender.new_ts()
    assert sender.send_event(_thread_started(sender, thread)).status == 200
    [prompts] = slack_stub.wait_for("assistant.threads.setSuggestedPrompts")
    slack_bot.drain()
    [greeting] = slack_stub.calls("chat.postMessage")
    assert (greeting.body["channel"], greeting.body["thread_ts"]) == (DM_CHANNEL, thread)
    assert "個人情報保護方針" in greeting.body["text"]
    assert (prompts.body["channel_id"], prompts.body["thread_ts"]) == (DM_CHANNEL, thread)
    titles = [p["title"] for p in prompts.body["prompts"]]
    policy_titles = {c.title for c in answerer.searcher.clauses if c.title}
    assert 0 < len(titles) <= 4 and set(titles) <= policy_titles


def test_a_question_in_the_panel_shows_status_title_and_a_cited_answer(sender, slack_stub, slack_bot, answerer,
                                                                        slack_log):
    thread = sender.new_ts()
    sender.send_event(_in_thread(sender, SAFETY, thread))
    [post] = slack_stub.wait_for("chat.postMessage")
    slack_bot.drain()
    [status] = slack_stub.calls("assistant.threads.setStatus")
    assert (status.body["channel_id"], status.body["thread_ts"], status.body["status"]) == (DM_CHANNEL, thread, STATUS)
    [title] = slack_stub.calls("assistant.threads.setTitle")
    assert title.body["title"] == SAFETY
    assert status.at < post.at  # "thinking" before the answer
    assert slack_stub.calls("reactions.add") == []  # the panel shows a status, not 👀
    expected = answerer.answer(SAFETY)
    shown = post.blocks_text()
    assert post.body["thread_ts"] == thread
    for citation in expected.citations:
        assert f"*{escape(citation.label)}*" in shown
    actions = [b for b in post.body["blocks"] if b["type"] == "actions"][0]["elements"]
    assert {ACTION_FEEDBACK_UP, ACTION_FEEDBACK_DOWN} <= {e["action_id"] for e in actions}
    [line] = slack_log.events("slack.reply")
    assert line["surface"] == "assistant"


def test_a_second_question_in_the_panel_is_a_follow_up_and_keeps_the_title(sender, slack_stub, slack_bot):
    thread = sender.new_ts()
    sender.send_event(_in_thread(sender, SAFETY, thread))
    slack_stub.wait_for("chat.postMessage")
    slack_bot.drain()
    second = _in_thread(sender, FOLLOW_UP, thread)
    sender.send_event(second, event_id="Ev0PANEL02")
    sender.send_event(second, event_id="Ev0PANEL02", retry_num=1)
    slack_stub.wait_for("chat.postMessage", count=2)
    slack_bot.drain()
    posts = slack_stub.calls("chat.postMessage")
    assert len(posts) == 2  # the retry is not answered again
    assert escape(f"前の質問「{SAFETY}」を踏まえてお答えします") in posts[1].blocks_text()
    assert len(slack_stub.calls("assistant.threads.setTitle")) == 1  # titled by the first question only
    assert len(slack_stub.calls("assistant.threads.setStatus")) == 2


def test_questions_several_people_ask_become_suggested_prompts(sender, slack_stub, slack_bot, answerer):
    store = slack_bot.deps.store
    asked = answerer.answer(SAFETY)
    for n in range(POPULAR_MIN_ASKERS):
        store.record_answer(asked, user_id=f"U0PEOPLE{n}", channel=DM_CHANNEL, thread_ts=f"1.{n}", surface="dm")
    lonely = answerer.answer("利用料金の請求に個人情報を使いますか")
    for _ in range(POPULAR_MIN_ASKERS):  # one person asking often is still one person's text
        store.record_answer(lonely, user_id="U0LONELY1", channel=DM_CHANNEL, thread_ts="2.0", surface="dm")
    sender.send_event(_thread_started(sender, sender.new_ts()))
    [prompts] = slack_stub.wait_for("assistant.threads.setSuggestedPrompts")
    slack_bot.drain()
    messages = [p["message"] for p in prompts.body["prompts"]]
    assert messages[0] == SAFETY and lonely.question not in messages


def test_a_context_change_is_acknowledged_and_posts_nothing(sender, slack_stub, slack_bot, slack_log):
    event = {"type": "assistant_thread_context_changed", "event_ts": sender.new_ts(),
             "assistant_thread": {"user_id": USER, "channel_id": DM_CHANNEL, "thread_ts": sender.new_ts(),
                                  "context": {"channel_id": "C0OTHER", "team_id": "T0STUB"}}}
    assert sender.send_event(event).status == 200
    slack_bot.drain()
    assert [c.method for c in slack_stub.calls() if c.method != "auth.test"] == []
    assert slack_log.events("slack.unhandled") == []
