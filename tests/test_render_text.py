"""bot/render: an Answer as the terminal and the JSON object show it, and the wording every medium
shares (lead, mailto: draft), without a model.

The answers are built by hand from the real policy's clauses, so these run in the fast lane;
tests/test_answer.py and tests/test_cli.py check the same output on answers the model made.
"""
from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from bot.answer import ANSWERED, ESCALATED, MAX_QUESTION_CHARS, REASON_EMPTY, REASON_NOT_COVERED, REASON_TOO_LONG
from bot.answer import Answer, Citation, Contact
from bot.render.json_doc import answer_json
from bot.render.mailto import MAILTO_MAX_CHARS, answer_mailto, question_mailto
from bot.render.text import ask_text, chat_greeting, chat_reply, render_text
from bot.render.words import answer_lead, context_line, lead_sentence
from index.policy import load

POLICY = load(Path(__file__).resolve().parents[1] / "policy_text" / "privacy_policy.txt")
CLAUSES = {c.id: c for c in POLICY.clauses()}
EMAIL = "info@sokonara.co.jp"


def cite(clause_id: str) -> Citation:
    c = CLAUSES[clause_id]
    return Citation(c.id, c.label, c.article, c.paragraph, c.item, c.title, c.text, 0.9, c.lead)


def make(lang: str = "ja", ids=("3-1-4",), *, status=ANSWERED, reason=None, contact=True, related=(),
         context=None) -> Answer:
    citations = tuple(cite(i) for i in ids)
    return Answer(question="質問です", status=status, lang=lang, citations=citations,
                  contact=Contact(EMAIL, tuple(c.label for c in citations)) if contact else None, revision="2026-06-03",
                  company="株式会社ソコナラ", reason=reason, related=tuple(cite(i) for i in related),
                  context_question=context)


@pytest.mark.parametrize("lang, status, reason, expected", [
    ("ja", ANSWERED, None, "株式会社ソコナラの個人情報保護方針では、次のとおり定めています。"),
    ("en", ANSWERED, None, "The privacy policy of 株式会社ソコナラ says the following (quoted in the original Japanese):"),
    ("ja", ESCALATED, REASON_NOT_COVERED, "推測ではお答えしません"),
    ("en", ESCALATED, REASON_EMPTY, "Please type a question"),
    ("ja", ESCALATED, REASON_TOO_LONG, f"{MAX_QUESTION_CHARS:,}文字まで"),
    ("en", ESCALATED, REASON_TOO_LONG, f"over {MAX_QUESTION_CHARS:,} characters"),
])
def test_the_lead_names_the_company_or_says_why_nothing_is_quoted(lang, status, reason, expected):
    assert expected in lead_sentence(lang, status, reason, "株式会社ソコナラ")


def test_without_a_company_name_the_lead_says_the_company():
    assert lead_sentence("ja", ANSWERED, None, None).startswith("当社の")
    assert "of the company says" in lead_sentence("en", ANSWERED, None, None)


def test_plain_text_quotes_the_clause_under_its_label_with_the_lead_sentence():
    text = render_text(make())
    lines = text.split("\n")
    assert lines[0] == answer_lead(make()) and "■ 第3条（利用目的）第1項第4号" in lines
    assert f"  （{CLAUSES['3-1-4'].lead}）" in lines and f"  {CLAUSES['3-1-4'].text}" in lines
    assert lines[-1] == "（2026-06-03 改定版より引用）" and f"お問い合わせ窓口: {EMAIL}" in lines


def test_english_chrome_is_english_and_the_quote_stays_japanese():
    text = render_text(make("en", related=("8",), ids=(), status=ESCALATED, reason=REASON_NOT_COVERED))
    assert "Related reading (not an answer to the question):" in text and f"  □ {CLAUSES['8'].label}" in text
    assert f"Contact window: {EMAIL}" in text and text.endswith("(Policy revision 2026-06-03)")


def test_a_follow_up_says_which_question_it_was_read_with():
    answer = make(context="個人情報を第三者に提供しますか")
    assert render_text(answer).split("\n")[1] == context_line("ja", "個人情報を第三者に提供しますか") \
        == "（前の質問「個人情報を第三者に提供しますか」を踏まえてお答えします）"
    assert "Following up on:" in parse_qs(urlsplit(answer_mailto(make("en", context="Earlier?"))).query)["body"][0]


def test_ask_and_chat_add_the_labelled_mail_draft():
    answer = make()
    assert ask_text(answer) == f"{render_text(answer)}\n\n窓口へのメール下書き: {answer_mailto(answer)}"
    assert ask_text(make("en")).endswith(f"Write to the contact window: {answer_mailto(make('en'))}")
    assert chat_reply(answer) == ask_text(answer)
    assert "mailto: mailto:" not in chat_reply(answer)
    assert ask_text(make(contact=False)) == render_text(make(contact=False))


@pytest.mark.parametrize("lang, status, reason", [
    ("ja", ANSWERED, None), ("en", ANSWERED, None), ("ja", ESCALATED, REASON_NOT_COVERED), ("en", ESCALATED, REASON_EMPTY),
])
def test_an_answers_lead_is_worded_from_its_facts(lang, status, reason):
    answer = make(lang, status=status, reason=reason)
    assert answer_lead(answer) == lead_sentence(lang, status, reason, "株式会社ソコナラ")


def test_an_answers_draft_names_its_question_the_earlier_one_and_the_clauses_its_contact_lists():
    answer = make(ids=("8", "10-2"), context="前の質問です")
    assert answer_mailto(answer) == question_mailto(EMAIL, "質問です", "ja", [CLAUSES["8"].label, CLAUSES["10-2"].label],
                                                    "前の質問です")
    body = parse_qs(urlsplit(answer_mailto(answer)).query)["body"][0]
    assert "前の質問:\r\n前の質問です" in body and f"- {CLAUSES['10-2'].label}" in body
    assert answer_mailto(make(contact=False)) is None


def test_the_json_object_is_the_cli_contract_with_its_wording_filled_in():
    answer = make(ids=("3-1-4", "10-2"), related=("8",), context="前の質問です")
    data = answer_json(answer)
    assert list(data) == ["question", "status", "answer", "citations", "contact", "lang", "revision", "confidence",
                          "related", "context_question"]
    assert data["answer"] == render_text(answer) and data["answer"].startswith(answer_lead(answer))
    assert data["contact"] == {"email": EMAIL, "mailto": answer_mailto(answer)}
    assert [c["id"] for c in data["citations"]] == ["3-1-4", "10-2"] and data["related"][0]["id"] == "8"
    assert set(data["citations"][0]) == {"id", "label", "article", "paragraph", "item", "title", "text", "score",
                                         "lead"}
    assert data["citations"][0]["lead"] == CLAUSES["3-1-4"].lead and data["citations"][0]["score"] == 0.9
    assert (data["question"], data["status"], data["lang"], data["revision"], data["context_question"]) == (
        "質問です", ANSWERED, "ja", "2026-06-03", "前の質問です")
    assert answer_json(make(contact=False))["contact"] is None


def test_the_mail_draft_fits_a_mail_link_and_names_the_clauses():
    mailto = question_mailto(EMAIL, "長" * 3000, "ja", ["第3条（利用目的）第1項第4号"])
    assert len(mailto) <= MAILTO_MAX_CHARS and mailto.startswith(f"mailto:{EMAIL}?subject=")
    body = parse_qs(urlsplit(question_mailto(EMAIL, "質問", "ja", ["第8条（開示等の請求）"])).query)["body"][0]
    assert body.startswith("質問:\r\n質問\r\n") and "関連する条項:\r\n- 第8条（開示等の請求）" in body


def test_chat_greets_in_both_languages():
    lines = chat_greeting("株式会社ソコナラ", "2026-06-03", "/new").split("\n")
    assert lines[0] == "株式会社ソコナラ 個人情報保護方針アシスタント（2026-06-03 改定版）"
    assert lines[1].startswith("質問を入力してください / Ask a question") and "/new starts over" in lines[2]
