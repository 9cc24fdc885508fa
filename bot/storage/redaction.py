"""What stays of stored text: the rules the stores write by and the migrations rewrite old rows by.

Answers keep the question as the logs show it (bot/redact.py); a hand-off keeps the asker's
full text only until it is sent. One function per kind of row, so the rule is written once.
"""
from __future__ import annotations

import json
from typing import Any, Mapping

from bot.redact import redact, redact_mailto

# Keys of a stored answer document or answer record that hold what a person typed.
USER_TEXT_KEYS = frozenset({"question", "context_question", "history"})
# Free text of a hand-off row, and of the Handoff JSON it carries, redacted once it is sent.
HANDOFF_TEXT_COLUMNS = ("subject", "body", "question", "context", "reply_to")
HANDOFF_TEXT_KEYS = ("question", "context", "reply_to")


def redacted_document(value: Any) -> Any:
    """A JSON-like answer document (or record) with what people typed redacted: the values of
    USER_TEXT_KEYS at any depth and every `mailto` draft (the draft carries the question; answer
    documents no longer hold one — it is rendered at the edge — but older rows do, and migrations
    rewrite them by this rule).
    Clause texts stay verbatim: the contact window's address is what they quote."""
    if isinstance(value, dict):
        return {key: _redacted_field(key, item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [redacted_document(item) for item in value]
    return value


def _redacted_field(key: str, value: Any) -> Any:
    if key in USER_TEXT_KEYS:
        if isinstance(value, str):
            return redact(value)
        if isinstance(value, (list, tuple)):
            return [redact(v) if isinstance(v, str) else redacted_document(v) for v in value]
    if key == "mailto" and isinstance(value, str):
        return redact_mailto(value)
    return redacted_document(value)


def redacted_handoff_columns(row: Mapping[str, Any]) -> dict[str, Any]:
    """New values for a sent hand-off row: its free text redacted (the contact window's address
    and the asker's Slack id stay: they are what the row is about)."""
    values = {column: redact(row[column]) if row[column] else row[column] for column in HANDOFF_TEXT_COLUMNS}
    handoff = json.loads(row["handoff"])
    for key in HANDOFF_TEXT_KEYS:
        if handoff.get(key):
            handoff[key] = redact(handoff[key])
    values["handoff"] = json.dumps(handoff, ensure_ascii=False)
    return values
