"""Forward to the contact window from Slack: button → modal → e-mail, through the real app over HTTP,
the local Web API stand-in and a real SMTP server (aiosmtpd). The app's answerer counts its
questions: forwarding reads the stored answer and its record, it never answers again."""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest
from tests.handoff_support import SmtpServer, free_port

from bot.answerer import Answerer
from bot.handoff.outbox import FAILED_PERMANENT, NO_SERVER, PENDING, SENT, Outbox
from bot.listeners.actions.forward import ACTION_ID, CALLBACK_ID, forward_modal, idempotency_key
from bot.record import AnswerRecord
from tests.slack.driver import BOT_TOKEN, CHANNEL, USER
from tests.slack_api_stub import SlackApiStub

CONTACT = "info@sokonara.co.jp"  # read from 第10条 of the real policy
RIGHTS_QUESTION = "自分の個人データを削除してほしいです。どうすればいいですか？"
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


class PermalinkStub(SlackApiStub):
    """Slack's Web API stand-in, also answering chat.getPermalink as Slack does."""

    def _answer(self, call):
        if call.method == "chat.getPermalink":
            channel, ts = call.body.get("channel"), str(call.body.get("message_ts"))
            return {"ok": True, "channel": channel,
                    "permalink": f"https://stub.slack.invalid/archives/{channel}/p{ts.replace('.', '')}"}
        return super()._answer(call)


@pytest.fixture()
def slack_stub():
    with PermalinkStub(valid_tokens={BOT_TOKEN}) as stub:
        yield stub


@pytest.fixture()
def smtp(request, monkeypatch):
    """SMTP_* for the app: a running local server (default); parametrize indirectly with "none" for
    no SMTP_HOST, "down" for a server not started yet, "auth" for one that refuses our login."""
    mode = getattr(request, "param", "up")
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD", "SMTP_FROM", "SMTP_SECURITY"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("POLICYBOT_CONTACT_EMAIL", raising=False)
    monkeypatch.setenv("POLICYBOT_HANDOFF_RETRY_BASE", "0.05")
    monkeypatch.setenv("POLICYBOT_HANDOFF_RETRY_CAP", "0.2")
    server = SmtpServer(port=free_port(), require_auth=(mode == "auth"))
    if mode != "none":
        env = server.env(SMTP_PASSWORD="wrong") if mode == "auth" else server.env()
        for name, value in env.items():
            monkeypatch.setenv(name, value)
    if mode in ("up", "auth"):
        server.start()
    yield server
    server.stop()


class CountingAnswerer(Answerer):
    """The real answerer on the session's index, counting the questions it is asked."""

    def __init__(self, searcher):
        super().__init__(lambda: searcher)
        self.asked: list[str] = []

    def answer(self, question, **kwargs):
        self.asked.append(question)
        return super().answer(question, **kwargs)


MAIL_SETTINGS = {"smtp_host", "smtp_port", "smtp_user", "smtp_password", "smtp_from", "smtp_security",
                 "handoff_retry_base", "handoff_retry_cap"}


@pytest.fixture()
def slack_bot(slack_settings, searcher, smtp):
    """The app as conftest builds it, with SMTP_* and the retry backoff read after the `smtp` fixture
    set them, and an answerer that counts the questions it is asked."""
    from bot.settings import Settings
    from bot.slack_app import create_app

    mail = Settings.from_env().model_dump(include=MAIL_SETTINGS)
    bot = create_app(slack_settings.model_copy(update=mail), CountingAnswerer(searcher))
    yield bot
    bot.close()


def ask_in_thread(slack_bot, question: str, thread_ts: str = "1710000000.000100", surface: str = "mention",
                  keep_record: bool = True):
    """An answer as the bot showed it in a channel thread (the answer log row the button points at);
    `keep_record=False`: as a version that kept no record left it."""
    answer = slack_bot.deps.answerer.answer(question)
    answer_id = slack_bot.deps.store.record_answer(answer, user_id=USER, channel=CHANNEL, thread_ts=thread_ts,
                                                   surface=surface,
                                                   record=answer.record.to_dict() if keep_record else None)
    return answer, answer_id


def asked(slack_bot) -> list[str]:
    """The questions the app's answerer was asked."""
    return slack_bot.deps.answerer.asked


def click_forward(sender, slack_stub, answer_id: str, **kwargs) -> dict:
    """Click the button; returns the modal the app opened."""
    sent = sender.send_interaction(sender.button_payload(ACTION_ID, answer_id, **kwargs))
    assert sent.status == 200
    [call] = slack_stub.wait_for("views.open")
    return call.body["view"] if isinstance(call.body["view"], dict) else json.loads(call.body["view"])


def submission(view: dict, *, question=None, context="", reply_to="", user=USER, view_id="V0FORWARD1") -> dict:
    def field(kind, value):
        return {"value": {"type": kind, "value": value or None}}

    initial = next(b for b in view["blocks"] if b.get("block_id") == "question")["element"].get("initial_value")
    return {"type": "view_submission", "token": "legacy", "api_app_id": "A0POLICY", "trigger_id": "4.5.6",
            "team": {"id": "T0STUB", "domain": "stub"},
            "user": {"id": user, "username": "asker", "name": "asker", "team_id": "T0STUB"},
            "view": {"id": view_id, "type": "modal", "callback_id": view["callback_id"],
                     "private_metadata": view["private_metadata"], "hash": "1.abc",
                     "state": {"values": {"question": field("plain_text_input", initial if question is None
                                                              else question),
                                          "context": field("plain_text_input", context),
                                          "reply_to": field("email_text_input", reply_to)}}}}


def confirmation(slack_stub, count: int = 1):
    """The private confirmations the asker got (through the button's response_url)."""
    return [c.body["text"] for c in slack_stub.wait_for("response_url", count)]


def outbox(slack_bot) -> Outbox:
    return Outbox(slack_bot.deps.settings.db_path)


def submit_and_settle(sender, slack_stub, slack_bot, view: dict):
    """Submit the modal, then wait for the asker's confirmation and the first delivery attempt:
    (confirmation text, the one outbox entry)."""
    sender.send_interaction(submission(view))
    [text] = confirmation(slack_stub)
    slack_bot.drain()
    [entry] = outbox(slack_bot).list()
    return text, entry


# --- the button -------------------------------------------------------------------------------

def test_button_opens_a_modal_prefilled_with_the_question(sender, slack_stub, slack_bot):
    _, answer_id = ask_in_thread(slack_bot, RIGHTS_QUESTION)
    view = click_forward(sender, slack_stub, answer_id)
    assert view["callback_id"] == CALLBACK_ID and view["type"] == "modal"
    inputs = {b["block_id"]: b for b in view["blocks"] if b["type"] == "input"}
    assert inputs["question"]["element"]["initial_value"] == RIGHTS_QUESTION
    assert inputs["context"]["optional"] and inputs["reply_to"]["optional"]
    assert inputs["reply_to"]["element"]["type"] == "email_text_input"
    assert CONTACT in json.dumps(view, ensure_ascii=False)
    assert json.loads(view["private_metadata"])["a"] == answer_id
    assert len(view["title"]["text"]) <= 24


def test_button_inside_a_modal_pushes_the_form(sender, slack_stub, slack_bot):
    _, answer_id = ask_in_thread(slack_bot, RIGHTS_QUESTION)
    payload = sender.button_payload(ACTION_ID, answer_id)
    payload["container"] = {"type": "view", "view_id": "V0RESULT"}
    payload["view"] = {"id": "V0RESULT", "type": "modal"}
    sender.send_interaction(payload)
    [call] = slack_stub.wait_for("views.push")
    assert call.body["trigger_id"] == "1.2.3"
    assert slack_stub.calls("views.open") == []


def test_unknown_answer_says_so_privately(sender, slack_stub, slack_bot):
    sender.send_interaction(sender.button_payload(ACTION_ID, "no-such-answer"))
    [call] = slack_stub.wait_for("response_url")
    assert "見つかりませんでした" in call.body["text"]
    assert slack_stub.calls("views.open") == []


# --- the submission ---------------------------------------------------------------------------

@pytest.mark.model
def test_submission_emails_the_contact_window_confirms_and_notes_the_thread(sender, slack_stub, slack_bot, smtp):
    _, answer_id = ask_in_thread(slack_bot, RIGHTS_QUESTION, thread_ts="1710000000.000100")
    view = click_forward(sender, slack_stub, answer_id)
    edited = RIGHTS_QUESTION + "\n退会済みのアカウントです。"
    sent = sender.send_interaction(submission(view, question=edited, context="会員番号 12345",
                                              reply_to="taro@example.com"))
    assert sent.status == 200 and sent.body in ("", "{}")  # the modal closes

    [mail] = smtp.wait_for(1)
    [text] = confirmation(slack_stub)
    slack_bot.drain()
    [entry] = outbox(slack_bot).list()
    assert entry.status == SENT and entry.asker == USER and entry.reply_to == "[email]"  # kept redacted once sent

    # the e-mail
    assert mail.rcpt_tos == [CONTACT]
    message = mail.message
    assert message["Reply-To"] == "taro@example.com" and message["X-PolicyBot-Ref"] == entry.ref
    body = message.get_content()
    for expected in ("退会済みのアカウントです。", "会員番号 12345", USER, "第8条",
                     f"https://stub.slack.invalid/archives/{CHANNEL}/p1710000000000100"):
        assert expected in body

    # the asker's confirmation: reference number, no draft link (it was sent)
    assert entry.ref in text and "転送しました" in text and "mailto:" not in text
    assert "taro@example.com" in text  # where the reply will go, as the asker typed it

    # the thread: who forwarded it
    [note] = [c for c in slack_stub.calls("chat.postMessage") if c.body.get("thread_ts") == "1710000000.000100"]
    assert note.body["channel"] == CHANNEL
    assert f"<@{USER}>" in note.body["text"] and entry.ref in note.body["text"]
    assert "taro@example.com" not in note.body["text"] and "12345" not in note.body["text"]


def test_submitting_twice_sends_one_email(sender, slack_stub, slack_bot, smtp):
    _, answer_id = ask_in_thread(slack_bot, RIGHTS_QUESTION)
    view = click_forward(sender, slack_stub, answer_id)
    sender.send_interaction(submission(view, view_id="V0FIRST"))
    smtp.wait_for(1)
    confirmation(slack_stub, 1)
    sender.send_interaction(submission(view, view_id="V0SECOND"))  # a second modal from a double click
    first, second = confirmation(slack_stub, 2)
    slack_bot.drain()
    assert len(smtp.messages()) == 1
    ref = outbox(slack_bot).list()[0].ref
    assert ref in first and ref in second and "すでに受け付けています" in second
    notes = [c for c in slack_stub.calls("chat.postMessage") if ref in (c.body.get("text") or "")]
    assert len(notes) == 1


@pytest.mark.parametrize("fields, block, message", [
    ({"reply_to": "not-an-address"}, "reply_to", "メールアドレスの形式ではありません"),
    ({"question": "   "}, "question", "お問い合わせ内容を入力してください"),
])
def test_invalid_input_stays_in_the_modal_with_an_error(sender, slack_stub, slack_bot, smtp, fields, block, message):
    _, answer_id = ask_in_thread(slack_bot, RIGHTS_QUESTION)
    view = click_forward(sender, slack_stub, answer_id)
    sent = sender.send_interaction(submission(view, **fields))
    reply = json.loads(sent.body)
    assert reply["response_action"] == "errors" and message in reply["errors"][block]
    slack_bot.drain()
    assert smtp.messages() == [] and outbox(slack_bot).list() == []


@pytest.mark.parametrize("smtp", ["none"], indirect=True)
def test_without_a_mail_server_the_asker_gets_a_draft_link(sender, slack_stub, slack_bot, smtp):
    _, answer_id = ask_in_thread(slack_bot, RIGHTS_QUESTION)
    view = click_forward(sender, slack_stub, answer_id)
    assert "メールサーバーが設定されていません" in json.dumps(view, ensure_ascii=False)
    text, entry = submit_and_settle(sender, slack_stub, slack_bot, view)
    assert entry.status == PENDING and entry.last_error == NO_SERVER
    assert "メールは送信されていません" in text and entry.ref in text
    link = text.split("<", 1)[1].split("|", 1)[0]
    parts = urlsplit(link.replace("&amp;", "&"))
    assert parts.scheme == "mailto" and parts.path == CONTACT
    query = parse_qs(parts.query)
    assert entry.ref in query["subject"][0] and RIGHTS_QUESTION in query["body"][0]
    assert not [c for c in slack_stub.calls("chat.postMessage") if entry.ref in (c.body.get("text") or "")]


@pytest.mark.parametrize("smtp", ["down"], indirect=True)
def test_mail_server_down_then_back_delivers_it(sender, slack_stub, slack_bot, smtp):
    _, answer_id = ask_in_thread(slack_bot, RIGHTS_QUESTION)
    view = click_forward(sender, slack_stub, answer_id)
    text, entry = submit_and_settle(sender, slack_stub, slack_bot, view)
    assert entry.status == PENDING and entry.attempts >= 1 and "connection refused" in entry.last_error
    assert entry.ref in text and "自動で送信します" in text
    smtp.start()
    [mail] = smtp.wait_for(1)
    assert mail.message["X-PolicyBot-Ref"] == entry.ref


@pytest.mark.parametrize("smtp", ["auth"], indirect=True)
def test_refused_by_the_server_tells_the_asker_plainly(sender, slack_stub, slack_bot, smtp):
    _, answer_id = ask_in_thread(slack_bot, RIGHTS_QUESTION)
    view = click_forward(sender, slack_stub, answer_id)
    text, entry = submit_and_settle(sender, slack_stub, slack_bot, view)
    assert entry.status == FAILED_PERMANENT
    assert "転送できませんでした" in text and entry.ref in text and "mailto:" in text
    assert "authentication" not in text and "535" not in text  # no raw error text in Slack


def test_escalated_question_sends_the_clauses_the_assistant_looked_at(sender, slack_stub, slack_bot, smtp):
    answer, answer_id = ask_in_thread(slack_bot, "御社の株価の見通しを教えてください")
    assert answer.escalated
    view = click_forward(sender, slack_stub, answer_id)
    sender.send_interaction(submission(view))
    [mail] = smtp.wait_for(1)
    body = mail.message.get_content()
    assert "御社の株価の見通しを教えてください" in body
    assert "いずれも質問への明確な答えではありません" in body and "- 第" in body
    # the clauses are the ones the answer's record names, and nothing was answered again
    listed = [line[2:] for line in body.splitlines() if line.startswith("- ")]
    searcher = slack_bot.deps.answerer.searcher
    assert listed == [searcher.clause(cid).label for cid in answer.record.nearest[:3]] != []
    slack_bot.drain()
    assert asked(slack_bot) == ["御社の株価の見通しを教えてください"]


def test_after_a_revision_an_escalation_forwards_no_clause_by_its_old_id(sender, slack_stub, slack_bot, smtp):
    """The record names the clauses looked at by id; once the policy is revised an id may name
    another clause (an inserted item renumbers the rest), so the hand-off lists none rather than
    quote the wrong one."""
    import dataclasses

    answer = slack_bot.deps.answerer.answer("御社の株価の見通しを教えてください")
    assert answer.escalated and answer.record.nearest
    earlier = dataclasses.replace(answer, revision="2025-01-01",
                                  record=dataclasses.replace(answer.record, revision="2025-01-01"))
    answer_id = slack_bot.deps.store.record_answer(earlier, user_id=USER, channel=CHANNEL,
                                                   thread_ts="1710000000.000100", surface="mention",
                                                   record=earlier.record.to_dict())
    view = click_forward(sender, slack_stub, answer_id)
    sender.send_interaction(submission(view))
    [mail] = smtp.wait_for(1)
    body = mail.message.get_content()
    assert "御社の株価の見通しを教えてください" in body
    assert [line for line in body.splitlines() if line.startswith("- 第")] == []


def test_forwarding_never_asks_the_answerer_again(sender, slack_stub, slack_bot, smtp):
    """Button, modal (also with an edited question) and delivery read the stored answer: the only
    question the answerer was ever asked is the one that made the answer."""
    _, answer_id = ask_in_thread(slack_bot, "御社の株価の見通しを教えてください")
    view = click_forward(sender, slack_stub, answer_id)
    sent = sender.send_interaction(submission(view, question="株価の見通しと配当の予定を教えてください"))
    assert sent.status == 200 and sent.body in ("", "{}")
    [mail] = smtp.wait_for(1)
    confirmation(slack_stub)
    slack_bot.drain()
    assert "配当の予定" in mail.message.get_content()
    assert asked(slack_bot) == ["御社の株価の見通しを教えてください"]


def test_the_answer_log_keeps_the_record_of_a_slack_answer(sender, slack_stub, slack_bot):
    """An answer given through the running app is stored with its record, which reads back equal
    to the record of the same question answered again."""
    sender.send_event(sender.mention(RIGHTS_QUESTION))
    [post] = slack_stub.wait_for("chat.postMessage")
    slack_bot.drain()
    ids = {e["value"] for b in post.body["blocks"] if b["type"] == "actions" for e in b["elements"]}
    [answer_id] = ids
    stored = slack_bot.deps.store.get_answer(answer_id)
    record = AnswerRecord.from_dict(stored.record)
    expected = slack_bot.deps.answerer.answer(RIGHTS_QUESTION).record
    assert record == expected
    assert (record.status, record.nearest[0]) == (stored.status, stored.citation_ids[0])


@pytest.mark.model  # asserts the real answer's clause (第8条)
@pytest.mark.parametrize("question, escalated", [(RIGHTS_QUESTION, False), ("御社の株価の見通しを教えてください", True)])
def test_an_answer_stored_without_a_record_still_forwards_what_it_showed(sender, slack_stub, slack_bot, smtp,
                                                                           question, escalated):
    """A row written before records were kept: its quoted clauses go along (an escalation quotes
    none), and the question is not answered again to find any."""
    answer, answer_id = ask_in_thread(slack_bot, question, keep_record=False)
    assert answer.escalated == escalated
    assert slack_bot.deps.store.get_answer(answer_id).record is None
    view = click_forward(sender, slack_stub, answer_id)
    sender.send_interaction(submission(view))
    [mail] = smtp.wait_for(1)
    confirmation(slack_stub)
    slack_bot.drain()
    body = mail.message.get_content()
    assert question in body
    listed = [line[2:] for line in body.splitlines() if line.startswith("- ")]
    assert listed == [c.label for c in answer.citations or answer.related]
    assert escalated or "第8条（個人情報に関する利用者の開示・訂正等の権利）" in listed
    assert asked(slack_bot) == [question]


def test_shortcut_result_forwards_the_pasted_message(sender, slack_stub, slack_bot, smtp):
    pasted = "退会したので、登録した個人情報を削除してください。"
    sender.send_interaction(sender.shortcut_payload(pasted))
    [result] = slack_stub.wait_for("response_url")
    buttons = [e for b in result.body["blocks"] if b["type"] == "actions" for e in b["elements"]]
    [forward] = [b for b in buttons if b["action_id"] == ACTION_ID]
    view = click_forward(sender, slack_stub, forward["value"], user="U0SUPPORT")
    question = next(b for b in view["blocks"] if b.get("block_id") == "question")["element"]["initial_value"]
    assert question == pasted
    sender.send_interaction(submission(view, user="U0SUPPORT"))
    [mail] = smtp.wait_for(1)
    body = mail.message.get_content()
    assert pasted in body and "U0SUPPORT" in body
    assert f"https://stub.slack.invalid/archives/{CHANNEL}/p" in body  # the customer's message
    [text] = [c.body["text"] for c in slack_stub.wait_for("response_url", 2)][1:]
    slack_bot.drain()
    assert "転送しました" in text
    # the staff member's help was private: nothing is posted in the customer's thread
    assert slack_stub.calls("chat.postMessage") == []


def test_a_row_without_its_answer_forwards_the_clauses_it_names(sender, slack_stub, slack_bot, smtp):
    """An answer log row whose answer was not kept (the column is nullable) is forwarded from the
    row's own fields: its question and the clauses it cites, read from the live index."""
    import sqlite3
    import time

    with sqlite3.connect(slack_bot.deps.settings.db_path) as db:
        db.execute("INSERT INTO answers (id, question, lang, status, citation_ids, user_id, channel, thread_ts,"
                   " created_at, surface) VALUES ('bare1', ?, 'ja', 'answered', '[\"8\", \"gone\"]', ?, ?, ?, ?,"
                   " 'mention')", (RIGHTS_QUESTION, USER, CHANNEL, "1710000000.000100", time.time()))
    view = click_forward(sender, slack_stub, "bare1")
    sender.send_interaction(submission(view))
    [mail] = smtp.wait_for(1)
    confirmation(slack_stub)
    slack_bot.drain()
    body = mail.message.get_content()
    listed = [line[2:] for line in body.splitlines() if line.startswith("- ")]
    assert RIGHTS_QUESTION in body and listed == [slack_bot.deps.answerer.searcher.clause("8").label]
    assert asked(slack_bot) == []


def test_sharing_a_row_without_its_answer_posts_it_without_asking_again(sender, slack_stub, slack_bot):
    """The share button (like forward) reads the answer log: a row whose answer document was not
    kept is rebuilt from its question, status and cited clauses — the answerer is not asked."""
    import sqlite3
    import time

    from bot.slack_render.ids import ACTION_SHARE

    with sqlite3.connect(slack_bot.deps.settings.db_path) as db:
        db.execute("INSERT INTO answers (id, question, lang, status, citation_ids, user_id, channel, thread_ts,"
                   " created_at, surface) VALUES ('bare2', ?, 'ja', 'answered', '[\"8\"]', ?, ?, NULL, ?,"
                   " 'command')", (RIGHTS_QUESTION, USER, CHANNEL, time.time()))
    sent = sender.send_interaction(sender.button_payload(ACTION_SHARE, "bare2", ephemeral=True))
    assert sent.status == 200
    public, delete = slack_stub.wait_for("response_url", 2)
    slack_bot.drain()
    clause = slack_bot.deps.answerer.searcher.clause("8")
    shown = public.blocks_text()
    assert public.body["response_type"] == "in_channel" and delete.body["delete_original"] is True
    assert clause.label in shown and clause.text.splitlines()[0] in shown
    assert all(b.get("text", {}).get("text", "x").strip() for b in public.body["blocks"] if b["type"] == "section")
    assert asked(slack_bot) == []


def test_an_answer_stored_with_its_wording_is_shared_worded_again(sender, slack_stub, slack_bot):
    """A row written while the core still worded answers holds the lead and a (redacted) mailto:
    draft in its document: it loads, and is shown with the lead and the draft rendered again —
    the draft from the stored, redacted question, naming the clauses the record looked at."""
    import sqlite3
    import time

    from bot.slack_render.ids import ACTION_SHARE

    question = "退会したので [email] に連絡をください。社食のメニューは？"  # as the answer log keeps it
    old_document = {"question": question, "status": "escalated", "lang": "ja", "lead": "（古い行の一文）",
                    "citations": [], "contact": {"email": CONTACT, "mailto": f"mailto:{CONTACT}?subject=x&body=y"},
                    "revision": "2026-06-03", "company": "株式会社ソコナラ", "reason": "not_covered",
                    "confidence": 0.1, "related": [], "context_question": None}
    record = AnswerRecord("escalated", "not_covered", "ja", "2026-06-03", nearest=("8",)).to_dict()
    with sqlite3.connect(slack_bot.deps.settings.db_path) as db:
        db.execute("INSERT INTO answers (id, question, lang, status, citation_ids, user_id, channel, thread_ts,"
                   " created_at, surface, answer_json, record) VALUES ('old1', ?, 'ja', 'escalated', '[]', ?, ?,"
                   " NULL, ?, 'command', ?, ?)", (question, USER, CHANNEL, time.time(),
                                                  json.dumps(old_document, ensure_ascii=False), json.dumps(record)))
    sent = sender.send_interaction(sender.button_payload(ACTION_SHARE, "old1", ephemeral=True))
    assert sent.status == 200
    public, _ = slack_stub.wait_for("response_url", 2)
    slack_bot.drain()
    shown = public.blocks_text()
    assert "推測ではお答えしません" in shown and "古い行の一文" not in shown  # the lead, worded again
    [link] = [part.split("|")[0] for part in shown.split("<") if part.startswith("mailto:")]
    assert urlsplit(link).path == CONTACT
    body = parse_qs(urlsplit(link.replace("&amp;", "&")).query)["body"][0]
    assert question in body and f"- {slack_bot.deps.answerer.searcher.clause('8').label}" in body
    assert asked(slack_bot) == []


# --- the modal and the key, as pure functions ----------------------------------------------------

def test_modal_caps_a_long_question_at_slacks_input_limit():
    view = forward_modal("あ" * 3900, "en", CONTACT, {"a": "x"}, mail_configured=True).to_dict()
    element = next(b for b in view["blocks"] if b.get("block_id") == "question")["element"]
    assert len(element["initial_value"]) <= element["max_length"] == 3000
    assert view["title"]["text"] == "Forward to contact"
    assert "No mail server" not in json.dumps(view)


def test_key_is_the_same_for_the_same_request_only():
    key = idempotency_key("T1", "U1", "a1", "質問", "", "")
    assert key == idempotency_key("T1", "U1", "a1", "質問", "", "")
    others = {idempotency_key("T1", "U2", "a1", "質問", "", ""), idempotency_key("T1", "U1", "a2", "質問", "", ""),
              idempotency_key("T1", "U1", "a1", "質問!", "", ""), idempotency_key("T1", "U1", "a1", "質問", "", "x@y.jp")}
    assert key not in others and len(others) == 4


def test_requests_left_pending_by_a_previous_run_are_delivered_after_a_restart(slack_settings, smtp, request):
    from tests.handoff_support import make_answer

    from bot.handoff.compose import handoff_from_answer

    left = Outbox(slack_settings.db_path)
    h = handoff_from_answer(make_answer(RIGHTS_QUESTION), USER)
    left.enqueue(h, "from-the-last-run")  # pending, due: the previous process died before sending
    request.getfixturevalue("slack_bot")  # the app starts …
    [mail] = smtp.wait_for(1)  # … and delivers it without anyone clicking
    assert mail.message["X-PolicyBot-Ref"] == h.ref


def test_a_successful_hand_off_logs_one_info_line_and_no_error(sender, slack_stub, slack_bot, smtp, slack_log):
    """At the level `serve` logs (INFO), the success line itself must be writable (its fields
    include `created`, a name Python's LogRecord reserves)."""
    _, answer_id = ask_in_thread(slack_bot, RIGHTS_QUESTION)
    view = click_forward(sender, slack_stub, answer_id)
    text, entry = submit_and_settle(sender, slack_stub, slack_bot, view)
    assert entry.status == SENT and entry.ref in text
    [line] = slack_log.events("slack.forward")
    assert line["level"] == "info" and line["ref"] == entry.ref and line["created"] is True
    assert [l["event"] for l in slack_log.lines() if l["level"] == "error"] == []
