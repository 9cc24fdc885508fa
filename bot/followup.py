"""Follow-ups: read the last turn of a conversation together with an earlier turn, only when
that clearly helps.

「その記録は残りますか」 after 「個人情報を第三者に提供することはありますか」 means 第4条第2項; on its
own it means little. But a self-contained new question in the same thread (「では、第三者に提供
することはありますか」) must be answered on its own merits, and an off-topic switch (「ところで、
オフィスの営業時間は？」) must still be escalated. So the question is answered twice — alone, and
with an earlier turn in front of it — and the contextual reading wins only when the decision
model (bot/decide.py `confidence`) is clearly more sure of it, and the last turn on its own
came close to being answered: no lists of words like 「その」 or "it", only the same
retrieval signals every answer is decided on. Pure: the caller hands in how to read a text.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

from bot import decide
from bot.decide import Decision

# How many earlier turns are tried, most recent first (a thread rarely refers further back).
MAX_EARLIER_TURNS = 3
# The contextual reading must beat the standalone one by this much confidence (probability of
# the decision model). Measured on conversations-dev + our train set: a self-contained switch
# gains at most 0.16 from an earlier turn in front of it, a follow-up that needs it 0.38 or more;
# a follow-up that reads well alone may gain 0.23 and lose its clause (c13), so it stays alone.
CONTEXT_MARGIN = 0.30
# The last turn alone must have come close to being answered (the decision model's near-miss
# line, bot/decide.py): an off-topic switch (営業時間, a taxi) scores far below it on its own,
# and the earlier turn's words must not carry it into an answer.
MIN_STANDALONE_CONFIDENCE = decide.RELATED_MIN_CONFIDENCE


@dataclass(frozen=True)
class Reading:
    decision: Decision
    context: str | None  # the earlier question read with the last one; None: read alone


def choose(standalone: Decision, question: str, history: Sequence[str],
           read: Callable[[str], Decision]) -> Reading:
    """The reading to answer with: `standalone`, or `read(earlier + question)` for the earlier
    turn (of the last MAX_EARLIER_TURNS) that makes it clearly more confident."""
    alone = Reading(standalone, None)
    if not history or standalone.confidence < MIN_STANDALONE_CONFIDENCE:
        return alone
    best = alone
    for earlier in [h.strip() for h in reversed(history) if h and h.strip()][:MAX_EARLIER_TURNS]:
        decision = read(f"{earlier} {question}")
        if (decision.answered and decision.confidence >= standalone.confidence + CONTEXT_MARGIN
                and decision.confidence > best.decision.confidence):
            best = Reading(decision, earlier)
    return best
