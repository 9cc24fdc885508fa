"""Question → Answer (bot/answer.py, bot/answerer.py) on the real index of the real policy.

Questions here are phrased differently from the dev question file, so these tests do not
simply repeat the evaluation.
"""
from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from bot import decide
from bot.answer import MAX_QUESTION_CHARS, Answer, clean_question, detect_language
from bot.render.json_doc import answer_json
from bot.render.mailto import MAILTO_MAX_CHARS, answer_mailto, mailto_prefix_within, mailto_url
from bot.render.text import render_text
from bot.render.words import answer_lead
from bot.answerer import Answerer
from bot.record import AnswerRecord
from index.policy import load

pytestmark = pytest.mark.model  # which clause answers which question: the real model's retrieval

REPO = Path(__file__).resolve().parents[1]
POLICY = load(REPO / "policy_text" / "privacy_policy.txt")
CLAUSES = {c.id: c for c in POLICY.clauses()}
EMAIL = POLICY.contact_email
CONTACT_ID = "10-2"  # the 【お問合せ窓口】 block of 第10条

BILLING = "料金の請求や決済に私の個人情報は使われますか"
RIGHTS = "自分の個人情報を削除してほしい"
OUT_OF_SCOPE = "社員食堂のメニューを教えてください"
ENGLISH = "What happens when the privacy policy is changed?"

CITATION_KEYS = {"id", "label", "article", "paragraph", "item", "title", "text", "score", "lead"}


@pytest.fixture(scope="module")
def billing(real_model) -> Answer:
    return real_model.answerer.answer(BILLING)


@pytest.fixture(scope="module")
def rights(real_model) -> Answer:
    return real_model.answerer.answer(RIGHTS)


@pytest.fixture(scope="module")
def out_of_scope(real_model) -> Answer:
    return real_model.answerer.answer(OUT_OF_SCOPE)


@pytest.fixture(scope="module")
def english(real_model) -> Answer:
    return real_model.answerer.answer(ENGLISH)


def mailto_parts(mailto: str) -> tuple[str, dict[str, list[str]]]:
    parts = urlsplit(mailto)
    assert parts.scheme == "mailto"
    return parts.path, parse_qs(parts.query)


# --- answered questions ---------------------------------------------------------------------
def test_direct_question_cites_the_item_first_verbatim(billing):
    assert billing.status == "answered" and billing.lang == "ja" and billing.reason is None
    first = billing.citations[0]
    assert first.id == "3-1-4"
    assert first.label == "第3条（利用目的）第1項第4号"
    assert (first.article, first.paragraph, first.item, first.title) == (3, 1, 4, "利用目的")
    assert first.text == CLAUSES["3-1-4"].text == "利用料金の請求及び支払決済手続"
    # the item is shown with its paragraph's lead (柱書): one of the purposes 当社 uses data for
    assert first.lead == "当社は、当社サービスにおいて取得した個人情報を以下の目的の範囲内で適正に取り扱います。"
    assert f"（{first.lead}）" in render_text(billing)
    assert billing.company == POLICY.company_name
    assert billing.revision == POLICY.revision_date.isoformat() == "2026-06-03"
    assert answer_json(billing)["revision"] == "2026-06-03" and "2026-06-03 改定版" in render_text(billing)
    assert answer_lead(billing).startswith(POLICY.company_name)


@pytest.mark.parametrize("question, first_id", [
    ("個人情報の取扱いを外部の業者に委託していますか", "5"),
    ("苦情はどこに申し出ればよいですか", "10-1"),
    ("個人情報を取り扱う事業者はどこですか", CONTACT_ID),
])
def test_questions_find_their_clause_first(answerer, question, first_id):
    result = answerer.answer(question)
    assert result.status == "answered"
    assert result.citations[0].id == first_id
    assert all(c.text == CLAUSES[c.id].text for c in result.citations)  # every quote is verbatim


def test_rights_request_cites_article_8_and_brings_the_contact_window(rights):
    assert rights.status == "answered"
    assert rights.citations[0].article == 8
    assert rights.citations[-1].id == CONTACT_ID
    assert rights.citations[-1].text == CLAUSES[CONTACT_ID].text
    assert [c.id for c in rights.citations].count(CONTACT_ID) == 1
    assert rights.contact is not None and rights.contact.email == EMAIL == "info@sokonara.co.jp"
    assert answer_mailto(rights).startswith(f"mailto:{EMAIL}?subject=")


@pytest.mark.parametrize("question", ["会社の住所はどこですか", "問い合わせ先のメールアドレスを教えて",
                                      "ソコナラの所在地を郵便番号から教えてください。"])
def test_questions_about_the_company_are_answered_from_the_contact_block(answerer, question):
    result = answerer.answer(question)
    assert result.status == "answered" and result.citations[0].id == CONTACT_ID
    assert POLICY.company_address in result.citations[0].text and POLICY.representative in result.citations[0].text
    assert result.contact is not None  # the block is the contact window itself


def test_an_answer_from_the_contact_article_carries_the_window(answerer):
    result = answerer.answer("苦情はどこに申し出ればよいですか")
    assert [c.id for c in result.citations] == ["10-1", CONTACT_ID]
    assert result.contact is not None and result.contact.email == EMAIL


def test_polite_deletion_request_is_answered_with_article_8(answerer):
    result = answerer.answer("私の個人情報を削除してほしいです")
    assert result.status == "answered" and result.citations[0].article == 8
    assert result.contact is not None and result.contact.email == EMAIL


def test_english_question_gets_an_english_lead_and_japanese_quotes(english):
    assert english.status == "answered" and english.lang == "en"
    assert answer_lead(english).startswith("The privacy policy of")
    assert english.citations[0].article == 9
    assert english.citations[0].text == CLAUSES[english.citations[0].id].text
    assert "Policy revision" in render_text(english)


# --- escalations ----------------------------------------------------------------------------
def test_out_of_scope_question_is_escalated_to_the_contact_window(out_of_scope):
    assert out_of_scope.status == "escalated" and out_of_scope.escalated
    assert out_of_scope.reason == "not_covered"
    assert out_of_scope.citations == ()
    assert out_of_scope.contact is not None and out_of_scope.contact.email == EMAIL
    assert "推測ではお答えしません" in answer_lead(out_of_scope)
    text = render_text(out_of_scope)
    assert EMAIL in text and "■" not in text  # nothing quoted as if it were the answer


@pytest.mark.parametrize("question, lang", [
    ("問い合わせへの返信は何営業日以内にもらえますか", "ja"),
    ("How much does it cost to ask for a copy of my personal data?", "en"),
])
def test_a_figure_the_policy_does_not_state_is_escalated_not_guessed(answerer, question, lang):
    """On topic (the contact window, disclosure requests), but no clause gives a period or a fee:
    the clause is offered as reading, the question goes to the window."""
    result = answerer.answer(question)
    assert result.status == "escalated" and result.reason == "not_stated" and result.lang == lang
    assert result.citations == () and result.related
    assert result.contact is not None and result.contact.email == EMAIL
    lead = answer_lead(result)
    assert ("数値は定めていない" in lead) if lang == "ja" else ("does not state the figure" in lead)
    assert "■" not in render_text(result)


@pytest.mark.parametrize("question, reason", [
    ("", "empty"),
    ("   \n\t\u3000 ", "empty"),
    ("\x00\x07", "empty"),
    ("個" * (MAX_QUESTION_CHARS + 1), "too_long"),
])
def test_unanswerable_input_is_escalated_without_an_exception(answerer, question, reason):
    result = answerer.answer(question)
    assert result.status == "escalated" and result.reason == reason
    assert result.citations == ()
    assert result.question == question
    json.dumps(answer_json(result), ensure_ascii=False)


@pytest.mark.parametrize("question", [
    "<!channel> <@U123> " + BILLING,
    "私のメールは taro@example.com 、電話番号は090-1234-5678です。" + BILLING,
])
def test_slack_markup_and_contact_details_do_not_break_answers(answerer, question):
    result = answerer.answer(question)
    assert result.status == "answered"
    assert result.citations[0].id == "3-1-4"
    assert answer_json(result)["question"] == question  # the question is reported as asked


# --- JSON contract (DESIGN.md) --------------------------------------------------------------
@pytest.mark.parametrize("which", ["billing", "rights", "out_of_scope", "english"])
def test_the_json_object_matches_the_cli_contract(request, which):
    answer: Answer = request.getfixturevalue(which)
    data = json.loads(json.dumps(answer_json(answer), ensure_ascii=False))
    assert {"question", "status", "answer", "citations", "contact"} <= set(data)
    assert isinstance(data["question"], str) and data["status"] in ("answered", "escalated")
    assert data["answer"] == render_text(answer) and data["answer"].startswith(answer_lead(answer))
    assert isinstance(data["citations"], list)
    for citation in data["citations"]:
        assert set(citation) == CITATION_KEYS
        assert isinstance(citation["id"], str) and isinstance(citation["label"], str)
        assert isinstance(citation["text"], str) and isinstance(citation["score"], float)
        for key in ("article", "paragraph", "item"):
            assert citation[key] is None or isinstance(citation[key], int)
        assert citation["title"] is None or isinstance(citation["title"], str)
    if data["contact"] is not None:
        assert set(data["contact"]) == {"email", "mailto"}
    assert (data["contact"] is None) == (answer.contact is None)


def test_citations_are_ordered_best_first(billing):
    scored = [c.score for c in billing.citations if c.id != CONTACT_ID]  # the appended window scores 0
    assert scored == sorted(scored, reverse=True) and scored[0] > 0


# --- mailto ---------------------------------------------------------------------------------
def test_mailto_is_percent_encoded_and_decodes_to_the_question(rights):
    mailto = answer_mailto(rights)
    assert mailto.isascii() and " " not in mailto and "\n" not in mailto
    address, query = mailto_parts(mailto)
    assert address == EMAIL
    assert query["subject"] == ["個人情報保護方針に関するお問い合わせ"]
    body = query["body"][0]
    assert RIGHTS in body
    assert "第8条（個人情報に関する利用者の開示・訂正等の権利）" in body  # the clauses found travel with the question


def test_mailto_of_a_very_long_question_stays_short(answerer):
    question = "退会後の個人情報の扱いについて質問です。" * 201  # > 4000 characters
    assert len(question) > MAX_QUESTION_CHARS
    result = answerer.answer(question)
    assert result.contact is not None
    assert MAILTO_MAX_CHARS - 9 < len(answer_mailto(result)) <= MAILTO_MAX_CHARS  # cut to fit, not far below
    body = mailto_parts(answer_mailto(result))[1]["body"][0]
    assert body.startswith("質問:\r\n" + question[:100]) and body.endswith("…")


def test_mailto_url_round_trips_reserved_characters():
    subject, body = "件名 & ?", "a=b&c=d #1\n100% 確認\r\nend"
    url = mailto_url("desk@example.org", subject, body)
    assert url.startswith("mailto:desk@example.org?subject=")
    address, query = mailto_parts(url)
    crlf_body = "a=b&c=d #1\r\n100% 確認\r\nend"  # RFC 6068: line breaks are %0D%0A
    assert (address, query["subject"], query["body"]) == ("desk@example.org", [subject], [crlf_body])
    assert unquote(url.split("body=")[1]) == crlf_body


@pytest.mark.parametrize("text", ["退会後の個人情報について。" * 50, "a\nb " * 300, "💡" * 200, ""])
def test_mailto_prefix_is_the_longest_that_fits(text):
    budget = 600
    prefix = mailto_prefix_within(text, budget)
    assert text.startswith(prefix)
    body_length = len(mailto_url("x@example.org", "", prefix)) - len(mailto_url("x@example.org", "", ""))
    assert body_length <= budget
    if prefix != text:  # one more character would not fit
        longer = text[: len(prefix) + 1]
        assert len(mailto_url("x@example.org", "", longer)) - len(mailto_url("x@example.org", "", "")) > budget


def test_contact_email_override_wins(searcher):
    staging = Answerer.fixed(searcher, "staging@example.com")
    assert staging.contact_email == "staging@example.com"
    assert staging.facts.contact_email == EMAIL  # the policy still says what it says
    result = staging.answer(OUT_OF_SCOPE)
    assert result.contact.email == "staging@example.com"
    assert mailto_parts(answer_mailto(result))[0] == "staging@example.com"


# --- pure helpers ---------------------------------------------------------------------------
@pytest.mark.parametrize("text, lang", [
    ("個人情報はどう使われますか", "ja"),
    ("Do you sell my data?", "en"),
    ("メールアドレスは何に使いますか？ email", "ja"),
    ("What does 第8条 say about deletion requests?", "en"),
])
def test_detect_language(text, lang):
    assert detect_language(text) == lang


def test_clean_question_collapses_whitespace_and_control_characters():
    assert clean_question("  個人情報\u3000\u3000を\x00 使う？\t ") == "個人情報 を 使う？"
    assert clean_question(None) == ""  # adapters may hand in a missing text


@pytest.mark.parametrize("question", ["個人情報の利用目的を教えてください", "自分の個人情報を削除してほしい"])
def test_a_url_in_the_question_changes_nothing(answerer, question):
    """A pasted link is no policy content: it must not pull the contact clause (it names a web
    address too) or anything else into the citations."""
    for url, template in (("https://example.com/privacy?ref=mail", "{q} {url}"),
                          ("https://www.sokonara.co.jp/privacy", "{url} を読みました。{q}")):
        without = answerer.answer(template.format(q=question, url=""))
        answer = answerer.answer(template.format(q=question, url=url))
        assert (answer.status, [c.id for c in answer.citations]) == (
            without.status, [c.id for c in without.citations])


def test_markup_around_a_japanese_question_does_not_make_it_english(answerer):
    html = '<div class="message-body"><p style="font-family: sans-serif">個人情報を削除してください</p></div>'
    assert detect_language(html) == "en"  # what the markup alone would suggest
    assert answerer.answer(html).lang == "ja"


def test_search_text_is_searched_and_the_question_is_kept(answerer):
    shown = "@sato :bow: 個人情報の利用目的を教えてください"
    answer = answerer.answer(shown, search_text="個人情報の利用目的を教えてください")
    bare = answerer.answer("個人情報の利用目的を教えてください")
    assert answer.question == shown and [c.id for c in answer.citations] == [c.id for c in bare.citations]


# --- the record of how it was decided (bot/record.py) ------------------------------------------
@pytest.mark.parametrize("which", ["billing", "rights", "out_of_scope", "english"])
def test_every_answer_carries_the_record_of_its_decision(request, which):
    answer: Answer = request.getfixturevalue(which)
    record = answer.record
    assert (record.status, record.reason, record.lang, record.revision) == (
        answer.status, answer.reason, answer.lang, answer.revision)
    assert record.features.names == tuple(decide.FEATURES) and len(record.features.values) == len(decide.FEATURES)
    assert record.confidence == answer.confidence and record.features.threshold == decide.THRESHOLD
    assert (record.confidence >= decide.THRESHOLD) == (not answer.escalated)
    # every clause ranked once, best first, with the score of every ranking
    assert sorted(e.clause_id for e in record.hits) == sorted(CLAUSES)
    fused = [e.fused for e in record.hits]
    assert fused == sorted(fused, reverse=True)
    assert record.ranking[0] == record.hits[0].clause_id
    assert record.nearest and record.nearest[0] == record.hits[0].clause_id
    if not answer.escalated:  # what is quoted is what the decision settled on (plus the window it sends to)
        assert [c.id for c in answer.citations if c.id in record.nearest] == list(record.nearest)
        assert answer.citations[0].score == record.hits[0].fused
    assert record.related == tuple(c.id for c in answer.related)
    assert AnswerRecord.from_dict(json.loads(json.dumps(record.to_dict()))) == record


def test_the_record_keeps_no_words_of_the_question(answerer):
    question = "山田太郎です。退会したので個人情報を削除してください"
    stored = json.dumps(answerer.answer(question).record.to_dict(), ensure_ascii=False)
    assert not any(word in stored for word in ("山田", "太郎", "退会", "削除"))


def test_a_question_refused_before_any_search_has_a_record_without_evidence(answerer):
    for question, reason in (("   ", "empty"), ("個" * (MAX_QUESTION_CHARS + 1), "too_long")):
        record = answerer.answer(question).record
        assert (record.status, record.reason, record.features) == ("escalated", reason, None)
        assert record.hits == record.ranking == record.nearest == ()


def test_a_follow_up_records_the_reading_that_decided(answerer):
    earlier = "自分の個人情報を削除してもらいたいです"
    follow_up = answerer.answer("手続きの方法は？", history=[earlier])
    alone = answerer.answer("手続きの方法は？")
    assert follow_up.context_question == earlier and follow_up.record.read_with_context
    assert not alone.record.read_with_context
    assert follow_up.record.confidence == follow_up.confidence > alone.record.confidence


def test_an_answer_is_frozen(billing):
    with pytest.raises(AttributeError):
        billing.record = None  # type: ignore[misc]
