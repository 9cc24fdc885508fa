"""bot/slack_render: the answer format, escaping and Slack's size limits, on the real policy's clauses.

Block Kit output is also checked against slack_sdk's own block models (`validate_json`),
an implementation of Slack's limits that is not ours.
"""
from __future__ import annotations

from dataclasses import replace

import json
import re
from pathlib import Path

import pytest
from slack_sdk.models.blocks import Block

from bot.answer import (ANSWERED, ESCALATED, REASON_EMPTY, REASON_NOT_COVERED, REASON_NOT_STATED, REASON_TOO_LONG, Answer,
                        Citation, Contact)
from bot.render.words import answer_lead
from bot.slack_render import answer as render_answer
from bot.slack_render.drafts import reply_draft, shortcut_messages
from bot.slack_render.home import home_view
from bot.slack_render.ids import ACTION_FEEDBACK_DOWN, ACTION_FEEDBACK_UP, ACTION_FORWARD, ACTION_SHARE
from bot.slack_render.messages import MAX_BLOCKS
from bot.slack_text import unescape
from bot.text import examples
from index.policy import load

POLICY = Path(__file__).resolve().parents[1] / "policy_text" / "privacy_policy.txt"
EMAIL = "info@sokonara.co.jp"


@pytest.fixture(scope="module")
def clauses():
    return {c.id: c for c in load(POLICY).clauses()}


def citation(clause, score=0.9) -> Citation:
    return Citation(clause.id, clause.label, clause.article, clause.paragraph, clause.item, clause.title,
                    clause.text, score, clause.lead)


def make_answer(clauses, ids=("3-1-4",), *, status=ANSWERED, lang="ja", question="利用料金の請求に使う？",
                contact=False, reason=None, company="株式会社ソコナラ") -> Answer:
    cites = tuple(citation(clauses[i]) for i in ids)
    return Answer(
        question=question, status=status, lang=lang, citations=cites,
        contact=Contact(EMAIL, tuple(c.label for c in cites)) if contact else None,
        revision="2026-06-03", company=company, reason=reason)


def answer_blocks(answer: Answer, **kwargs) -> list[dict]:
    """The blocks of an answer as Slack receives them."""
    return [block.to_dict() for block in render_answer.answer_blocks(answer, **kwargs)]


def all_texts(value) -> list[str]:
    if isinstance(value, dict):
        return [t for k, v in value.items() for t in ([v] if k == "text" and isinstance(v, str) else all_texts(v))]
    if isinstance(value, list):
        return [t for v in value for t in all_texts(v)]
    return []


def assert_valid(block_list: list[dict]) -> None:
    """Slack's limits as slack_sdk models them, plus the 50-block cap."""
    assert len(block_list) <= MAX_BLOCKS
    for block in block_list:
        Block.parse(block).validate_json()
    for element in (e for b in block_list if b["type"] == "actions" for e in b["elements"]):
        assert len(element["value"]) <= 2000
    ids = [e["action_id"] for b in block_list if b["type"] == "actions" for e in b["elements"]]
    assert len(ids) == len(set(ids))


def test_answer_format_lead_then_label_quote_and_context(clauses):
    answer = make_answer(clauses, ("3-1-4", "4-1"))
    out = answer_blocks(answer, answer_id="abc123")
    assert_valid(out)
    assert out[0]["text"]["text"] == answer_lead(answer) == "株式会社ソコナラの個人情報保護方針では、次のとおり定めています。"
    # an item: bold label, its paragraph's lead (柱書) as muted context, the verbatim quote,
    # then the revision context line; a paragraph: bold label + quote, then the revision line
    label, lead, quote, ctx1, second, ctx2 = out[1:7]
    assert label["text"]["text"] == "*第3条（利用目的）第1項第4号*"
    assert lead["type"] == "context" and lead["elements"][0]["text"] == (
        "第3条（利用目的）第1項の柱書: 当社は、当社サービスにおいて取得した個人情報を以下の目的の範囲内で適正に取り扱います。")
    assert quote["text"]["text"] == ">利用料金の請求及び支払決済手続"
    assert ctx1["type"] == "context" and "2026年6月3日改定" in ctx1["elements"][0]["text"]
    quoted = [line[1:] for line in second["text"]["text"].split("\n")[1:]]
    assert "\n".join(quoted) == clauses["4-1"].text
    assert ctx2["type"] == "context"
    actions = out[-1]
    assert actions["type"] == "actions"
    assert {e["action_id"]: e["value"] for e in actions["elements"]} == {
        ACTION_FEEDBACK_UP: "abc123", ACTION_FEEDBACK_DOWN: "abc123"}


def test_contact_window_link_and_forward_button_on_rights_answer(clauses):
    answer = make_answer(clauses, ("8", "10-2"), contact=True)
    out = answer_blocks(answer, answer_id="id9")
    assert_valid(out)
    texts = "\n".join(all_texts(out))
    assert f"|{EMAIL}>" in texts and "<mailto:info@sokonara.co.jp?subject=" in texts
    forward = [e for e in out[-1]["elements"] if e["action_id"] == ACTION_FORWARD]
    assert forward and forward[0]["value"] == "id9"
    assert forward[0]["text"]["text"] == "窓口に転送 / Forward to the contact window"


def test_escalation_quotes_nothing_and_routes_to_contact(clauses):
    answer = make_answer(clauses, (), status=ESCALATED, reason=REASON_NOT_COVERED, contact=True)
    out = answer_blocks(answer, answer_id="esc1")
    assert_valid(out)
    assert [b["type"] for b in out] == ["section", "section", "actions"]
    assert "mailto:" in out[1]["text"]["text"]
    assert out[2]["elements"][0]["action_id"] == ACTION_FORWARD


def test_escalation_without_contact_still_offers_forward(clauses):
    answer = make_answer(clauses, (), status=ESCALATED, reason=REASON_NOT_COVERED)
    out = answer_blocks(answer, answer_id="esc2")
    assert ACTION_FORWARD in [e["action_id"] for e in out[-1]["elements"]]


@pytest.mark.parametrize("reason", [REASON_EMPTY, REASON_TOO_LONG])
def test_notices_have_no_buttons(clauses, reason):
    answer = make_answer(clauses, (), status=ESCALATED, reason=reason, contact=True)
    out = answer_blocks(answer, answer_id="x")
    assert_valid(out)
    assert all(b["type"] != "actions" for b in out)
    assert "mailto:" not in json.dumps(out)
    if reason == REASON_EMPTY:
        assert examples("ja")[0] in json.dumps(out, ensure_ascii=False)


def test_share_button_only_when_shareable(clauses):
    answer = make_answer(clauses)
    ids = [e["action_id"] for e in answer_blocks(answer, answer_id="a", shareable=True)[-1]["elements"]]
    assert ACTION_SHARE in ids
    ids = [e["action_id"] for e in answer_blocks(answer, answer_id="a")[-1]["elements"]]
    assert ACTION_SHARE not in ids


def test_no_buttons_without_an_answer_id(clauses):
    out = answer_blocks(make_answer(clauses), answer_id=None)
    assert all(b["type"] != "actions" for b in out)


def test_echoed_question_is_escaped_and_pings_nobody(clauses):
    typed = "<!channel> <@U123ABC> <#C123|general> a < b & c"  # plain text that looks like Slack's controls
    out = answer_blocks(make_answer(clauses), answer_id="a", echo=typed)
    echo = out[0]["text"]["text"]
    assert echo == "*質問:* &lt;!channel&gt; &lt;@U123ABC&gt; &lt;#C123|general&gt; a &lt; b &amp; c"
    raw = json.dumps(out, ensure_ascii=False)
    for control in ("<!channel>", "<@U123ABC>", "<#C123"):
        assert control not in raw


def test_shared_by_names_the_user_but_escapes_junk(clauses):
    out = answer_blocks(make_answer(clauses), answer_id="a", shared_by="U0ABC123")
    assert "<@U0ABC123>" in out[0]["elements"][0]["text"]
    out = answer_blocks(make_answer(clauses), answer_id="a", shared_by="<!channel>")
    assert "<!channel>" not in json.dumps(out)


def test_policy_text_is_escaped_in_quotes(clauses):
    clause = clauses["3-1-4"]
    odd = Citation("3-1-4", clause.label, 3, 1, 4, clause.title, "A < B & C > D", 1.0)
    answer = make_answer(clauses)
    answer = Answer(**{**answer.__dict__, "citations": (odd,)})
    text = answer_blocks(answer)[1]["text"]["text"]
    assert text.endswith(">A &lt; B &amp; C &gt; D")


def test_long_clause_is_split_across_sections_without_losing_text(clauses):
    long_text = "\n".join(f"({i}) " + "個人データの安全管理のための措置を講じます。" * 6 for i in range(1, 80))
    big = Citation("7-1", "第7条（安全管理措置）第1項", 7, 1, None, "安全管理措置", long_text, 1.0)
    answer = Answer(**{**make_answer(clauses).__dict__, "citations": (big,)})
    out = answer_blocks(answer, answer_id="a")
    assert_valid(out)
    quote_sections = [b for b in out[1:] if b["type"] == "section"]
    assert len(quote_sections) > 1
    lines = []
    for i, b in enumerate(quote_sections):
        body = b["text"]["text"].split("\n")
        lines.extend(line[1:] for line in (body[1:] if i == 0 else body))
    assert "\n".join(lines) == long_text


def test_too_many_blocks_are_split_into_marked_messages(clauses):
    many = tuple(citation(c) for c in clauses.values())  # every clause: well over 50 blocks
    answer = Answer(**{**make_answer(clauses, contact=True).__dict__, "citations": many})
    messages = render_answer.answer_messages(answer, answer_id="a")
    assert len(messages) >= 2
    for m in messages:
        assert_valid(m.block_dicts())
        assert m.text
    for m in messages[:-1]:
        assert "続きは次のメッセージ" in m.block_dicts()[-1]["elements"][0]["text"]
        assert all(b["type"] != "actions" for b in m.block_dicts())
    assert messages[-1].block_dicts()[-1]["type"] == "actions"
    shown = "\n".join(t for m in messages for t in all_texts(m.block_dicts()))
    assert all(f"*{c.label}*" in shown for c in many)


def test_overlong_question_echo_is_truncated_visibly(clauses):
    out = answer_blocks(make_answer(clauses), echo="長" * 5000)
    echo = out[0]["text"]["text"]
    assert len(echo) < 1000 and echo.endswith("…（長いため以下省略）")


def test_fallback_text_is_escaped_and_names_the_clauses(clauses):
    answer = make_answer(clauses, ("3-1-4", "10-2"), contact=True, company="A <b> & c")  # in the lead
    text = render_answer.fallback_text(answer)
    assert text.startswith("A &lt;b&gt; &amp; c")
    assert "第3条（利用目的）第1項第4号" in text and EMAIL in text


def test_reply_draft_japanese_is_polite_quotes_clauses_and_names_the_window(clauses):
    answer = make_answer(clauses, ("8", "10-2"), contact=True)
    draft = reply_draft(answer)
    assert draft.startswith("お問い合わせいただき、誠にありがとうございます。")
    assert "定めております" in draft and "お願い申し上げます" in draft
    for cid in ("8", "10-2"):
        assert clauses[cid].label in draft and clauses[cid].text in draft
    assert f"（{EMAIL}）" in draft
    assert "2026年6月3日改定" in draft


def test_reply_draft_without_contact_does_not_invent_one(clauses):
    draft = reply_draft(make_answer(clauses, ("3-1-4",)))
    assert "@" not in draft and clauses["3-1-4"].text in draft


def test_reply_draft_english_for_english_message(clauses):
    answer = make_answer(clauses, ("4-1",), lang="en", contact=True, question="Do you share my data?")
    draft = reply_draft(answer)
    assert draft.startswith("Thank you for contacting us.")
    assert "quoted in the original Japanese" in draft and clauses["4-1"].text in draft
    assert EMAIL in draft and draft.rstrip().endswith("Best regards,")


def test_reply_draft_for_escalation_routes_to_window(clauses):
    answer = make_answer(clauses, (), status=ESCALATED, reason=REASON_NOT_COVERED, contact=True)
    draft = reply_draft(answer)
    assert "明確な定めがない" in draft and EMAIL in draft and "■" not in draft


def test_reply_draft_for_an_unstated_figure_says_the_policy_gives_none(clauses):
    answer = make_answer(clauses, (), status=ESCALATED, reason=REASON_NOT_STATED, contact=True)
    draft = reply_draft(answer)
    assert "期間や金額などにつきましては" in draft and "明確な定めがない" not in draft
    assert EMAIL in draft and "■" not in draft


def test_shortcut_message_has_draft_as_one_copyable_block(clauses):
    answer = make_answer(clauses, ("4-1", "10-2"), contact=True)
    original = "<!channel> 私のデータは第三者に提供されますか？ 090-1234-5678"
    [message] = shortcut_messages(answer, answer_id="s1", original=original)
    assert_valid(message.block_dicts())
    drafts = [b for b in message.block_dicts() if b["type"] == "section" and "```" in b["text"]["text"]]
    assert len(drafts) == 1
    code = drafts[0]["text"]["text"].split("```")[1]
    assert unescape(code) == reply_draft(answer)
    assert "&lt;!channel&gt;" in message.block_dicts()[1]["text"]["text"]
    assert "<!channel>" not in json.dumps(message.block_dicts(), ensure_ascii=False)
    assert ACTION_FORWARD in [e["action_id"] for e in message.block_dicts()[-1]["elements"]]


def test_overlong_draft_is_cut_visibly_and_never_mid_entity(clauses):
    long_text = "A&B<C>" * 800
    big = Citation("7-1", "第7条（安全管理措置）第1項", 7, 1, None, "安全管理措置", long_text, 1.0)
    answer = Answer(**{**make_answer(clauses).__dict__, "citations": (big,)})
    [message] = shortcut_messages(answer, answer_id="s1", original="q")[-1:]
    assert_valid(message.block_dicts())
    draft = next(b for b in message.block_dicts() if b["type"] == "section" and "```" in b["text"]["text"])
    code = draft["text"]["text"].split("```")[1]
    assert code.endswith("…（長いため以下省略）")
    assert re.search(r"&(?!amp;|lt;|gt;)", code) is None  # every & starts a whole entity


def test_home_view_explains_and_shows_examples():
    view = home_view("株式会社ソコナラ", "2026-06-03", EMAIL).to_dict()
    assert view["type"] == "home"
    assert_valid(view["blocks"])
    text = "\n".join(all_texts(view["blocks"]))
    assert "/policy" in text and "ポリシーで回答" in text and examples("ja")[0] in text
    assert f"<mailto:{EMAIL}|{EMAIL}>" in text and "2026年6月3日改定" in text


def test_english_answer_chrome_is_english(clauses):
    out = answer_blocks(make_answer(clauses, lang="en"), answer_id="a")
    text = json.dumps(out, ensure_ascii=False)
    assert "revised 2026-06-03" in text and "Helpful" in text


def test_an_escalation_shows_related_reading_muted_and_never_as_the_answer(clauses):
    answer = make_answer(clauses, (), status=ESCALATED, reason="not_covered", contact=True)
    answer = replace(answer, related=(citation(clauses["8"]),))
    out = answer_blocks(answer, answer_id="r1")
    assert_valid(out)
    related = [b for b in out if b["type"] == "context" and "参考" in b["elements"][0]["text"]]
    assert len(related) == 1
    text = related[0]["elements"][0]["text"]
    assert "この質問への答えではありません" in text and clauses["8"].label in text
    assert not any(b["type"] == "section" and clauses["8"].label in b["text"]["text"] for b in out)
    assert any(e["action_id"] == ACTION_FORWARD for b in out if b["type"] == "actions" for e in b["elements"])
