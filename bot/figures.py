"""Does the question ask for a figure (a period or an amount), and does a clause state one?

A question such as 「個人情報の保存期間は何年ですか」 or "How long do you keep my data?" is on the
policy's topic but asks for something only a number answers. When none of the clauses the
answer would quote states a period or an amount, quoting them is a guess: the policy does not
say, and the question goes to the contact window (bot/answer.py, reason "not_stated").

Generic by construction: a question asks when 何 stands directly before a unit of time or money
(何年, 何か月間, 何営業日以内, 何円), when it has いくら (not いくらか, いくらでも), when a degree word stands
before a noun of time or money (どのくらいの期間, どれくらいの費用), or in English's fixed forms
(how long, how many days, how much … cost, what is the fee); a text states one when a number
(UniDic 数詞) stands before such a unit. The only lists are the units and nouns of time and money
themselves, never words of particular questions. A calendar date (2024年10月1日) is a point in
time, not a period, and 「何年に」「何日から」 ask for a point, not a figure.
"""
from __future__ import annotations

import re

from index.tokenize import normalize, tagged

PERIOD = "period"
AMOUNT = "amount"

# The units a figure is given in, as written after a number (年, 6か月間, 30日以内, 3営業日, 1,000円).
_UNIT_PATTERNS = {
    PERIOD: r"(?:年間?|(?:か|ヶ|カ|ケ|箇)月間?|週間?|営業日|日間?|時間|分間?|秒)",
    AMOUNT: r"円",
}
# 何 + a unit asks for a figure, unless a particle makes it a point in time (何年に制定, 何日から有効)
# or an indefinite amount (何年も前に = many years ago, 何日か前に = a few days ago; 何日かかる asks).
_ASKED_UNIT = {kind: re.compile(r"何" + unit + r"(?!に|から|頃|ごろ|も|か(?!か))")
               for kind, unit in _UNIT_PATTERNS.items()}
_STATED_UNIT = {kind: re.compile(unit) for kind, unit in _UNIT_PATTERNS.items()}
# いくら asks for an amount (いくらですか, いくらかかりますか), いくらか / いくらでも do not (somewhat, any amount).
_HOW_MUCH = re.compile(r"いくら(?!でも|も|か(?!か))")
# 「どのくらいの期間」「どれくらいの費用」: a degree word before a noun that names a period or an amount.
_FIGURE_NOUNS = {PERIOD: ("期間", "期限", "日数", "年数", "時間"), AMOUNT: ("金額", "費用", "料金", "手数料")}
_DEGREE_THEN_NOUN = {kind: re.compile(r"(?:どの|どれ)(?:くらい|ぐらい|ほど|だけ)の?(?:%s)" % "|".join(nouns))
                     for kind, nouns in _FIGURE_NOUNS.items()}
_ENGLISH = {
    PERIOD: re.compile(r"\bhow\s+long\b|\bhow\s+many\s+(?:years?|months?|weeks?|(?:business\s+|working\s+)?days?"
                       r"|hours?|minutes?)\b", re.IGNORECASE),
    AMOUNT: re.compile(r"\bhow\s+much\b[^.?!]{0,80}?\b(?:cost|costs|fee|fees|charge|charges|pay|price)\b"
                       r"|\bwhat\s+(?:is|are)\s+the\s+(?:fee|price|cost|charge)s?\b", re.IGNORECASE),
}
# A date (2024年10月1日, 10月1日) is a point in time, not a period: removed before looking for one.
_DATE = re.compile(r"\d+\s*年\s*\d+\s*月(?:\s*\d+\s*日)?|\d+\s*月\s*\d+\s*日")


def figure_asked(question: str) -> str | None:
    """PERIOD or AMOUNT when the question asks for one (何年, 何営業日以内, いくら, どのくらいの期間,
    how long), else None."""
    text = normalize(question)
    for kind in (PERIOD, AMOUNT):
        if _ENGLISH[kind].search(text) or _ASKED_UNIT[kind].search(text) or _DEGREE_THEN_NOUN[kind].search(text):
            return kind
    return AMOUNT if _HOW_MUCH.search(text) else None


def states_figure(text: str, kind: str) -> bool:
    """True when `text` gives a number in a unit of `kind` (6か月間, 30日, 1,000円), dates aside.

    Numbers are what UniDic tags 数詞 (digits and kanji numerals, so 十分な措置 is no period)."""
    words = tagged(_DATE.sub(" ", normalize(text)))
    for i, word in enumerate(words):
        if word.feature.pos2 != "数詞" or word.surface == "何":
            continue
        after = "".join(w.surface for w in words[i + 1:i + 4])
        if _STATED_UNIT[kind].match(after):
            return True
    return False
