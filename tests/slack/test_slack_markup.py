"""Slack markup never reaches retrieval, and the question shown back reads as the user wrote it.

Realistic payloads (rich_text blocks, Enterprise Grid, Slack Connect, a thread broadcast, a slash
command with escaping on, a pasted message run through the shortcut) are sent signed over HTTP
to the running app. Each answer must equal the answer to the bare question (same status, same
clauses), and what is stored, echoed and pre-filled in the forward form must carry no markup.
"""
from __future__ import annotations

import json
import re
from urllib.parse import urlencode

import pytest

from bot.slack_render.ids import ACTION_FEEDBACK_UP
from bot.listeners.actions.forward import ACTION_ID as FORWARD
from tests.slack_api_stub import BOT_USER_ID, TEAM_ID

from .driver import CHANNEL, DM_CHANNEL, USER

# Mentions, ids, user groups, entities, an emoji code that lost its leading colon (":bow:" → "bow:").
MARKUP_RESIDUE = re.compile(r"<[^<>]*>|\b[UWCSBE][A-Z0-9]{6,}\b|subteam|&(?:lt|gt|amp);|(?<![:\w])[a-z0-9_+-]+:(?!\S)")


def rich_text(*elements: dict) -> list[dict]:
    return [{"type": "rich_text", "block_id": "rT1x", "elements": [{"type": "rich_text_section",
                                                                   "elements": list(elements)}]}]


def _ts(sender) -> str:
    return sender.new_ts()


def mention_with_rich_text(sender) -> tuple[dict, str, str]:
    """An app_mention as Slack sends it from the desktop client: mrkdwn text plus rich_text blocks."""
    ts = _ts(sender)
    text = f"<@{BOT_USER_ID}> <@W111> <@U04ABCD1234> 問い合わせ窓口はどこですか"
    event = {"type": "app_mention", "client_msg_id": "6f1f8d2e-1b6f-4c55-9f0a-6b2b7a5b1c11", "text": text,
             "user": USER, "ts": ts, "team": TEAM_ID, "channel": CHANNEL, "event_ts": ts,
             "blocks": rich_text({"type": "user", "user_id": BOT_USER_ID}, {"type": "text", "text": " "},
                                 {"type": "user", "user_id": "W111"}, {"type": "text", "text": " "},
                                 {"type": "user", "user_id": "U04ABCD1234"},
                                 {"type": "text", "text": " 問い合わせ窓口はどこですか"})}
    callback = sender.event_callback(event)
    return callback, "問い合わせ窓口はどこですか", "問い合わせ窓口はどこですか"


def enterprise_grid_mention(sender) -> tuple[dict, str, str]:
    """Enterprise Grid: the envelope names the org and the workspace; the text names a channel
    Slack sent without its name and a user group."""
    ts = _ts(sender)
    question = "個人情報の利用目的を教えてください"
    text = f"<@{BOT_USER_ID}> <#C02GD0YEHDJ|> <!subteam^S01BL602YLU> {question}"
    event = {"type": "app_mention", "text": text, "user": "W0GRIDUSER", "ts": ts, "team": TEAM_ID,
             "user_team": TEAM_ID, "source_team": TEAM_ID, "channel": CHANNEL, "event_ts": ts,
             "user_profile": {"display_name": "grid user", "team": TEAM_ID},
             "blocks": rich_text({"type": "user", "user_id": BOT_USER_ID}, {"type": "text", "text": " "},
                                 {"type": "channel", "channel_id": "C02GD0YEHDJ"}, {"type": "text", "text": " "},
                                 {"type": "usergroup", "usergroup_id": "S01BL602YLU"},
                                 {"type": "text", "text": f" {question}"})}
    callback = {**sender.event_callback(event), "enterprise_id": "E0GRIDORG", "context_team_id": TEAM_ID,
                "context_enterprise_id": "E0GRIDORG", "is_ext_shared_channel": False,
                "authorizations": [{"enterprise_id": "E0GRIDORG", "team_id": TEAM_ID, "user_id": BOT_USER_ID,
                                    "is_bot": True, "is_enterprise_install": False}]}
    return callback, question, question


def slack_connect_mention(sender) -> tuple[dict, str, str]:
    """Slack Connect: a partner company's user in a shared channel, naming a colleague, with an emoji."""
    ts = _ts(sender)
    question = "第三者に個人データを提供しますか？"
    text = f"<@{BOT_USER_ID}> <@U0SATO0001|sato> :bow: {question}"
    event = {"type": "app_mention", "text": text, "user": "U0PARTNER1", "ts": ts, "team": "T0PARTNER",
             "user_team": "T0PARTNER", "source_team": "T0PARTNER", "channel": CHANNEL, "event_ts": ts,
             "blocks": rich_text({"type": "user", "user_id": BOT_USER_ID}, {"type": "text", "text": " "},
                                 {"type": "user", "user_id": "U0SATO0001"}, {"type": "text", "text": " "},
                                 {"type": "emoji", "name": "bow", "unicode": "1f647"},
                                 {"type": "text", "text": f" {question}"})}
    callback = {**sender.event_callback(event), "is_ext_shared_channel": True}
    return callback, question, f"@sato :bow: {question}"


def thread_broadcast_dm(sender) -> tuple[dict, str, str]:
    """A thread reply also sent to the conversation, with a labelled link, a bare link, @here,
    a skin-toned emoji and a pasted URL."""
    ts, parent = _ts(sender), _ts(sender)
    text = ("<https://www.sokonara.co.jp/privacy|プライバシーポリシー> を読みました <!here> :+1::skin-tone-2: "
            "個人情報の利用目的を教えてください <https://example.com/faq> https://example.com/form?id=1")
    event = {"type": "message", "subtype": "thread_broadcast", "channel_type": "im", "channel": DM_CHANNEL,
             "user": USER, "text": text, "ts": ts, "thread_ts": parent, "event_ts": ts,
             "root": {"type": "message", "user": USER, "text": "前の質問", "ts": parent, "thread_ts": parent}}
    return (sender.event_callback(event), "プライバシーポリシー を読みました 個人情報の利用目的を教えてください",
            "プライバシーポリシー を読みました @here :+1::skin-tone-2: 個人情報の利用目的を教えてください "
            "https://example.com/faq https://example.com/form?id=1")


@pytest.mark.parametrize("build", [mention_with_rich_text, enterprise_grid_mention, slack_connect_mention,
                                   thread_broadcast_dm])
def test_markup_does_not_change_the_answer_and_the_question_reads_as_written(sender, slack_stub, slack_bot,
                                                                             answerer, build):
    callback, bare, shown = build(sender)
    assert sender.post(json.dumps(callback, ensure_ascii=False), "application/json").status == 200
    post, stored = reply_and_row(slack_stub, slack_bot)
    assert_same_answer(stored, answerer.answer(bare))
    assert stored.question == shown
    assert not MARKUP_RESIDUE.search(stored.question.replace(":bow:", "").replace(":+1::skin-tone-2:", ""))
    prefilled = forward_form_question(sender, slack_stub, post.body)
    assert prefilled in (None, shown)


def test_bare_mention_question_is_answered_like_the_bare_question(sender, slack_stub, slack_bot, answerer):
    """The case the issue measured: two colleague mentions turned an answered question into an escalation."""
    callback, bare, _ = mention_with_rich_text(sender)
    sender.post(json.dumps(callback), "application/json")
    _, stored = reply_and_row(slack_stub, slack_bot)
    assert answerer.answer(bare).status == "answered"
    assert stored.status == "answered"


def test_slash_command_with_markup_echoes_the_question_as_written(sender, slack_stub, slack_bot, answerer):
    fields = sender.command_fields("<@U0SATO0001|sato> <#C0PRIVACY1|privacy> :eyes: 問い合わせ窓口はどこですか "
                                   "https://www.sokonara.co.jp/privacy")
    assert sender.post(urlencode(fields), "application/x-www-form-urlencoded").status == 200
    reply, stored = reply_and_row(slack_stub, slack_bot, "response_url")
    shown = "@sato #privacy :eyes: 問い合わせ窓口はどこですか https://www.sokonara.co.jp/privacy"
    assert f"*質問:* {shown}" in reply.blocks_text()
    assert stored.question == shown
    assert_same_answer(stored, answerer.answer("問い合わせ窓口はどこですか"))


def test_shortcut_on_a_pasted_message_searches_only_its_words(sender, slack_stub, slack_bot, answerer):
    text = ("<!channel> お客様からです：<mailto:taro@example.com|taro@example.com> "
            "退会したので、登録した個人情報を削除してください。 :pray:")
    sender.send_interaction(sender.shortcut_payload(text))
    reply, stored = reply_and_row(slack_stub, slack_bot, "response_url")
    assert_same_answer(stored, answerer.answer("お客様からです： 退会したので、登録した個人情報を削除してください。"))
    # as written, markup reduced to what Slack showed — and, stored, redacted like the logs
    shown = "@channel お客様からです：[email] 退会したので、登録した個人情報を削除してください。 :pray:"
    assert stored.question == shown
    assert forward_form_question(sender, slack_stub, reply.body) == shown


def test_html_pasted_in_a_japanese_question_does_not_make_it_english(sender, slack_stub, slack_bot):
    html = ('&lt;div class="message-body"&gt;&lt;p style="font-family: sans-serif"&gt;'
            "個人情報を削除してください&lt;/p&gt;&lt;/div&gt;")
    sender.send_event(sender.dm(html))
    post, stored = reply_and_row(slack_stub, slack_bot)
    assert stored.lang == "ja"
    assert "個人情報保護方針" in post.blocks_text().split("\n")[0]  # the lead is Japanese


# --- helpers --------------------------------------------------------------------------------------

def reply_and_row(slack_stub, slack_bot, method: str = "chat.postMessage"):
    """The one reply the bot sent (through `method`) once it settled, and the answer-log row
    behind it (its buttons carry the row's id)."""
    [reply] = slack_stub.wait_for(method)
    slack_bot.drain()
    answer_id = next(e["value"] for b in reply.body["blocks"] if b["type"] == "actions" for e in b["elements"]
                     if e["action_id"] == ACTION_FEEDBACK_UP)
    return reply, slack_bot.deps.store.get_answer(answer_id)


def assert_same_answer(stored, expected) -> None:
    """What was shown is the answer to the bare question: same status, same clauses in order."""
    assert (stored.status, [c.id for c in stored.answer.citations]) == (
        expected.status, [c.id for c in expected.citations])


def forward_form_question(sender, slack_stub, body: dict) -> str | None:
    """Click 窓口に転送 when the answer offers it; the question the form is pre-filled with."""
    buttons = [e for b in body["blocks"] if b["type"] == "actions" for e in b["elements"]
               if e["action_id"] == FORWARD]
    if not buttons:
        return None
    sender.send_interaction(sender.button_payload(FORWARD, buttons[0]["value"]))
    [call] = slack_stub.wait_for("views.open")
    view = call.body["view"] if isinstance(call.body["view"], dict) else json.loads(call.body["view"])
    return next(b for b in view["blocks"] if b.get("block_id") == "question")["element"]["initial_value"]
