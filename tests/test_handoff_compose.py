"""Hand-off composition: subject, body, e-mail headers and mailto: links (pure functions)."""
from __future__ import annotations

import email
import email.policy
from datetime import datetime, timezone
from types import SimpleNamespace
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from tests.handoff_support import CONTACT, PERMALINK, make_answer

from bot.handoff.compose import (MAILTO_MAX_CHARS, SUBJECT_EXCERPT_CHARS, Handoff, HandoffError, build_message,
                                 build_subject, handoff_from_answer, is_ref, mailto_for, new_ref, one_line,
                                 valid_email)

def parse(msg) -> email.message.EmailMessage:
    return email.message_from_bytes(msg.as_bytes(), policy=email.policy.default)


# --- reference numbers and addresses -------------------------------------------------------

def test_ref_is_short_readable_and_dated_in_japan_time():
    # 2026-11-24 20:00 UTC is already the 25th in Tokyo
    ref = new_ref(datetime(2026, 11, 24, 20, 0, tzinfo=timezone.utc))
    assert ref.startswith("PB-20261125-")
    assert is_ref(ref)
    assert not set(ref[-4:]) & set("ILOU")


def test_refs_differ():
    assert len({new_ref() for _ in range(200)}) > 190


@pytest.mark.parametrize("address, ok", [
    ("taro@example.co.jp", True),
    ("first.last+tag@mail.example.com", True),
    ("no-at-sign.example.com", False),
    ("Taro <taro@example.com>", False),
    ("taro@example.com\r\nBcc: x@y.com", False),
    ("taro@example.com, other@example.com", False),
    ("taro@localhost", False),
    ("", False),
    (None, False),
])
def test_valid_email_accepts_only_plain_addresses(address, ok):
    assert valid_email(address) is ok


# --- subject ---------------------------------------------------------------------------------

@pytest.mark.parametrize("question", [
    "退会したら\r\nBcc: attacker@example.com",
    "line one\nline two\u2028line three\u2029four\x00\x1b[31m",
    "   lots     of\t\tspace  ",
])
def test_subject_is_one_line_without_control_characters(question):
    subject = build_subject("PB-20261125-7F3K", question, "ja")
    assert "\n" not in subject and "\r" not in subject
    assert not any(ord(ch) < 32 or ch in "\u2028\u2029\x7f" for ch in subject)
    assert subject.startswith("[PB-20261125-7F3K] 個人情報保護方針に関するお問い合わせ: ")


def test_subject_excerpt_is_capped():
    subject = build_subject("PB-20261125-7F3K", "あ" * 500, "en")
    assert subject.startswith("[PB-20261125-7F3K] Privacy policy inquiry: ")
    excerpt = subject.split(": ", 1)[1]
    assert len(excerpt) == SUBJECT_EXCERPT_CHARS and excerpt.endswith("…")


def test_one_line_keeps_short_text():
    assert one_line(" 利用目的は？ ", 40) == "利用目的は？"


# --- handoff_from_answer and the body ---------------------------------------------------------

def test_body_in_japanese_has_everything_the_window_needs():
    h = handoff_from_answer(make_answer(), "U0ASKER", PERMALINK, context="注文番号は 1234 です",
                            reply_to="taro@example.com", asker_name="山田")
    body = h.body
    assert h.to_addr == CONTACT and h.lang == "ja"
    for expected in ("受付番号: " + h.ref, "自分の個人データの開示を請求したいです", "注文番号は 1234 です",
                     "taro@example.com", "Slack ユーザー 山田 (U0ASKER)", PERMALINK,
                     "第8条（個人情報に関する利用者の開示・訂正等の権利）", "第10条（お問い合わせ）【お問合せ窓口】", "2026-06-03", "株式会社ソコナラ"):
        assert expected in body
    assert h.citation_ids == ("8", "10-2")
    assert h.subject.startswith(f"[{h.ref}] 個人情報保護方針")


def test_body_in_english_for_an_english_question():
    h = handoff_from_answer(make_answer("Please delete my account data", lang="en"), "U1", None)
    assert h.lang == "en"
    assert "■ Question\nPlease delete my account data" in h.body
    assert "Reply to\nnot given" in h.body
    assert h.subject.startswith(f"[{h.ref}] Privacy policy inquiry: Please delete")


def test_cli_asker_is_named_as_terminal_user():
    h = handoff_from_answer(make_answer(), "cli")
    assert "端末（policybot コマンド）の利用者" in h.body


def test_edited_question_replaces_the_original_and_sets_its_language():
    h = handoff_from_answer(make_answer(), "U1", question="Can I get a copy of my data?")
    assert h.question == "Can I get a copy of my data?" and h.lang == "en"
    assert "開示を請求したい" not in h.body


def test_pasted_text_is_tidied_but_keeps_its_lines():
    h = handoff_from_answer(make_answer(), "U1", question="一行目  \r\n二行目\x07\n")
    assert h.question == "一行目\n二行目"


def test_escalation_lists_the_nearest_clauses_when_a_lookup_is_given():
    clauses = {"8": SimpleNamespace(id="8", label="第8条（個人情報に関する利用者の開示・訂正等の権利）", text="本人は…")}
    answer = make_answer("御社の株価は？", status="escalated", citations=(), nearest=["8", "gone"])
    h = handoff_from_answer(answer, "U1", clause_lookup=clauses.get)
    assert h.citation_ids == ("8",)
    assert "いずれも質問への明確な答えではありません" in h.body
    assert handoff_from_answer(answer, "U1").citations == ()


@pytest.mark.parametrize("kwargs, message, code", [
    ({"question": "   "}, "question is empty", "empty_question"),
    ({"question": "あ" * 4001}, "too long", "question_too_long"),
    ({"reply_to": "not an address"}, "reply address is not a valid", "bad_reply_to"),
    ({"reply_to": "a@b.co\r\nBcc: x@y.com"}, "reply address is not a valid", "bad_reply_to"),
    ({"context": "x" * 3001}, "context is too long", "context_too_long"),
    ({"to_addr": "bad address"}, "not a valid e-mail address", "bad_contact"),
])
def test_bad_input_is_refused_with_a_clear_message(kwargs, message, code):
    with pytest.raises(HandoffError, match=message) as info:
        handoff_from_answer(make_answer(), "U1", **kwargs)
    assert info.value.code == code


def test_no_contact_address_is_a_clear_error():
    with pytest.raises(HandoffError, match="POLICYBOT_CONTACT_EMAIL"):
        handoff_from_answer(make_answer(email_=None), "U1")


def test_override_address_wins():
    assert handoff_from_answer(make_answer(), "U1", to_addr="staging@example.com").to_addr == "staging@example.com"


def test_handoff_survives_a_json_round_trip():
    h = handoff_from_answer(make_answer(), "U1", PERMALINK, context="c", reply_to="t@example.com")
    again = Handoff.from_json(h.to_json())
    assert again == h and again.body == h.body


# --- the e-mail ------------------------------------------------------------------------------

def test_message_headers_are_fixed_and_body_is_utf8():
    h = handoff_from_answer(make_answer(), "U1", PERMALINK, reply_to="taro@example.com")
    msg = parse(build_message(h, "policybot@example.com"))
    assert msg["To"] == CONTACT and msg["From"] == "policybot@example.com"
    assert msg["Subject"] == h.subject
    assert msg["Reply-To"] == "taro@example.com"
    assert msg["X-PolicyBot-Ref"] == h.ref
    assert msg.get_content_charset() == "utf-8"
    assert msg.get_content() == h.body


def test_newlines_in_the_question_add_no_header():
    h = handoff_from_answer(make_answer("削除して\r\nBcc: attacker@example.com\r\nX-Evil: 1"), "U1")
    raw = build_message(h, "policybot@example.com").as_bytes()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert msg["Bcc"] is None and msg["X-Evil"] is None
    assert sorted(k.lower() for k in msg.keys()) == sorted(
        ["from", "to", "subject", "date", "message-id", "x-policybot-ref", "content-type",
         "content-transfer-encoding", "mime-version"])
    assert "Bcc: attacker@example.com" in msg.get_content()  # kept, as text, in the body


# --- mailto: ---------------------------------------------------------------------------------

def _query(url: str) -> dict[str, str]:
    parts = urlsplit(url)
    assert parts.scheme == "mailto" and parts.path == CONTACT
    return {k: v[0] for k, v in parse_qs(parts.query).items()}


def test_mailto_carries_subject_question_and_citations():
    h = handoff_from_answer(make_answer(), "U1", PERMALINK)
    url = mailto_for(h)
    assert "\n" not in url and " " not in url
    query = _query(url)
    assert query["subject"] == h.subject
    assert "自分の個人データの開示を請求したいです" in query["body"]
    assert "第8条（個人情報に関する利用者の開示・訂正等の権利）" in query["body"] and PERMALINK in query["body"]
    assert "%0D%0A" in url  # RFC 6068 line breaks


@pytest.mark.parametrize("question", ["長い質問です。" * 500, "a long question " * 240, "改行\n" * 1000])
def test_mailto_fits_mail_client_limits(question):
    h = handoff_from_answer(make_answer(), "U1", PERMALINK, question=question, context="補足" * 500)
    url = mailto_for(h)
    assert len(url) <= MAILTO_MAX_CHARS
    body = _query(url)["body"]
    assert body.startswith(f"受付番号: {h.ref}") or body.startswith(f"Reference: {h.ref}")
    assert "省略" in body or "shortened" in body
    assert question.strip()[:20].replace("\n", "\r\n") in body


def test_mailto_decodes_to_the_exact_compact_body_when_short():
    h = handoff_from_answer(make_answer("短い質問"), "U1")
    body = unquote(mailto_for(h).split("&body=", 1)[1])
    assert body.replace("\r\n", "\n").startswith(f"受付番号: {h.ref}\n\n■ お問い合わせ内容\n短い質問\n")
