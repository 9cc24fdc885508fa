"""bot/figures.py: which questions ask for a period or an amount, and which texts state one.

The questions are worded unlike the eval files' (they are about the rule, not about them)."""
from __future__ import annotations

from pathlib import Path

import pytest

from bot.figures import AMOUNT, PERIOD, figure_asked, states_figure
from index.policy import load

POLICY = Path(__file__).resolve().parents[1] / "policy_text" / "privacy_policy.txt"


@pytest.mark.parametrize("question, kind", [
    ("退会したらデータは何日で消えますか", PERIOD),
    ("ログは何か月間残るの？", PERIOD),
    ("問い合わせの返事は何営業日以内に来ますか", PERIOD),
    ("漏えいしたら何時間以内に知らせてもらえる？", PERIOD),
    ("削除の手続きには何日かかりますか", PERIOD),
    ("アカウント削除後、情報はどのくらいの期間保管されますか", PERIOD),
    ("開示請求の手数料はいくらですか", AMOUNT),
    ("コピーをもらうのにいくらかかりますか", AMOUNT),
    ("開示してもらうのにどれくらいの費用がかかりますか", AMOUNT),
    ("How long is my data kept after I leave?", PERIOD),
    ("How many business days does a deletion take?", PERIOD),
    ("How much does it cost to get a copy of my records?", AMOUNT),
    ("What is the fee for a disclosure request?", AMOUNT),
])
def test_questions_that_ask_for_a_figure(question, kind):
    assert figure_asked(question) == kind


@pytest.mark.parametrize("question", [
    "このポリシーは何年に制定されましたか",  # a point in time, which the dates answer
    "変更後のポリシーは何日から有効ですか",
    "第三者提供については第何条に書いてありますか",  # a reference, which the label answers
    "記録される項目はいくつありますか",
    "何年も前に登録したアカウントの情報はどうなりますか",  # "many years ago": no figure asked
    "何日か前に届いたメールについて教えてください",
    "いくらか不安があるのですが、第三者に提供されますか",  # "somewhat": no amount asked
    "いくらでも削除を頼めますか",
    "どのくらい安全に管理されていますか",  # a degree, not a figure
    "How many items does the record hold?",
    "How much data do you collect about me?",
    "個人情報を第三者に提供しますか",
    "",
])
def test_questions_that_do_not(question):
    assert figure_asked(question) is None


@pytest.mark.parametrize("text, kind", [
    ("取得した情報は6か月間保管します。", PERIOD),
    ("退会後30日以内に削除します。", PERIOD),
    ("原則として３営業日以内に回答します。", PERIOD),  # full-width digits
    ("記録は三年間保存します。", PERIOD),
    ("開示の手数料は1件につき1,000円です。", AMOUNT),
])
def test_texts_that_state_a_figure(text, kind):
    assert states_figure(text, kind)
    assert not states_figure(text, AMOUNT if kind == PERIOD else PERIOD)


@pytest.mark.parametrize("text", [
    "2024年10月1日 制定\n2026年6月3日 改定",  # dates are points in time
    "住所：〒810-0001 福岡市中央区天神2丁目5番28号",
    "必要かつ十分な安全管理措置を講じます。",  # 十分 is a word, not ten minutes
    "何日以内に返信しますか",  # the question word is no number
])
def test_texts_that_state_none(text):
    assert not states_figure(text, PERIOD) and not states_figure(text, AMOUNT)


def test_the_issued_policy_states_no_period_and_no_amount():
    """Why a period or fee question is escalated on the issued text: no clause gives one."""
    clauses = load(POLICY).clauses()
    assert clauses
    assert not any(states_figure(c.text, kind) for c in clauses for kind in (PERIOD, AMOUNT))
