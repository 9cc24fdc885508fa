"""Follow-up questions (bot/followup.py through bot/answer.py) on the real index of the real policy.

The conversations here are phrased differently from the conversation eval files, so these
tests do not simply repeat the evaluation.
"""
from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from bot import decide, followup
from bot.render.json_doc import answer_json
from bot.render.mailto import answer_mailto
from bot.render.text import render_text
from bot.render.words import answer_lead

pytestmark = pytest.mark.model  # which follow-ups the real model reads with the earlier question

SAFETY = "個人情報の安全管理はどのように行っていますか"
WHO_IS_IN_CHARGE = "その責任者は決まっていますか"
PURPOSES = "個人情報の利用目的を教えてください"
THIRD_PARTY = "第三者に個人情報を提供することはありますか"
SHARE = "個人情報を第三者に提供しますか"


def test_a_follow_up_is_read_with_the_earlier_question_and_says_so(answerer):
    alone = answerer.answer(WHO_IS_IN_CHARGE)
    result = answerer.answer(WHO_IS_IN_CHARGE, history=[SAFETY])
    assert result.status == "answered" and result.context_question == SAFETY
    assert result.confidence >= alone.confidence + followup.CONTEXT_MARGIN
    assert "7-2" in [c.id for c in result.citations]  # 第7条第2項: the person responsible
    assert result.question == WHO_IS_IN_CHARGE  # what is shown back stays what was asked
    assert f"「{SAFETY}」" in render_text(result).splitlines()[1]
    assert answer_json(result)["context_question"] == SAFETY


def test_a_self_contained_new_question_is_answered_on_its_own_merits(answerer):
    alone = answerer.answer(THIRD_PARTY)
    result = answerer.answer(THIRD_PARTY, history=[PURPOSES])
    assert result.context_question is None
    assert [c.id for c in result.citations] == [c.id for c in alone.citations]
    assert answer_json(result)["context_question"] is None


@pytest.mark.parametrize("switch", ["社員食堂のメニューを教えてください", "ところで、明日の天気はどうですか",
                                    "btw could you order lunch for the team?"])
def test_an_off_topic_switch_is_still_escalated(answerer, switch):
    result = answerer.answer(switch, history=[SHARE])
    assert result.status == "escalated" and result.reason == "not_covered"
    assert result.context_question is None and result.citations == ()
    assert result.contact is not None


def test_without_history_the_answer_is_the_standalone_one(answerer):
    assert answer_json(answerer.answer(SAFETY)) == answer_json(answerer.answer(SAFETY, history=[]))
    assert answerer.answer(SAFETY, history=["", "   "]).context_question is None


def test_the_hand_off_mail_of_a_follow_up_carries_the_earlier_question(answerer):
    earlier = "自分の個人情報を削除してもらいたいです"
    result = answerer.answer("手続きの方法は？", history=[earlier])
    assert result.context_question == earlier and result.citations[0].id == "8"
    body = parse_qs(urlsplit(answer_mailto(result)).query)["body"][0]
    assert "手続きの方法は？" in body and earlier in body  # the window sees what "the procedure" refers to


# --- the choice itself, on decisions built by hand ------------------------------------------
def _decision(confidence: float, answered: bool | None = None) -> decide.Decision:
    return decide.Decision(answered=confidence >= decide.THRESHOLD if answered is None else answered,
                           confidence=confidence, hits=())


def test_choose_keeps_the_standalone_reading_when_context_is_not_clearly_better():
    alone = _decision(0.6)
    reading = followup.choose(alone, "q", ["earlier"], lambda text: _decision(0.6 + followup.CONTEXT_MARGIN - 0.01))
    assert reading.decision is alone and reading.context is None


def test_choose_never_lifts_a_last_turn_that_was_far_from_answered():
    alone = _decision(followup.MIN_STANDALONE_CONFIDENCE - 0.01)
    asked: list[str] = []
    reading = followup.choose(alone, "q", ["earlier"], lambda text: asked.append(text) or _decision(0.99))
    assert reading.decision is alone and asked == []  # not even searched


def test_choose_takes_the_most_confident_of_the_recent_earlier_turns():
    confidences = {"a q": 0.95, "b q": 0.85, "c q": 0.99, "d q": 0.99}
    reading = followup.choose(_decision(0.4), "q", ["d", "a", "b", "c"][-4:], lambda text: _decision(confidences[text]))
    assert reading.context == "c"
    history = ["old"] + ["x"] * followup.MAX_EARLIER_TURNS
    asked: list[str] = []
    followup.choose(_decision(0.4), "q", history, lambda text: asked.append(text) or _decision(0.1))
    assert "old q" not in asked and len(asked) == followup.MAX_EARLIER_TURNS


def test_choose_ignores_a_contextual_reading_that_would_escalate():
    reading = followup.choose(_decision(0.4), "q", ["earlier"], lambda text: _decision(0.99, answered=False))
    assert reading.context is None


def test_slack_shows_the_earlier_question_escaped_under_the_lead(answerer):
    from dataclasses import replace

    from bot.slack_render.answer import answer_blocks
    from bot.slack_render.messages import CONTEXT_TEXT_LIMIT
    from bot.slack_render.mrkdwn import escape

    result = replace(answerer.answer(WHO_IS_IN_CHARGE, history=[SAFETY]), context_question="<!channel> " + "長" * 3000)
    shown = [block.to_dict() for block in answer_blocks(result, answer_id="a1")]
    assert shown[0]["text"]["text"] == escape(answer_lead(result))
    note = shown[1]
    assert note["type"] == "context" and "&lt;!channel&gt;" in note["elements"][0]["text"]
    assert "<!channel>" not in json.dumps(shown) and len(note["elements"][0]["text"]) <= CONTEXT_TEXT_LIMIT
    plain = answer_blocks(answerer.answer(WHO_IS_IN_CHARGE), answer_id="a1")
    assert all("前の質問" not in json.dumps(b.to_dict(), ensure_ascii=False) for b in plain)
