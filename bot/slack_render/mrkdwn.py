"""Slack mrkdwn text rules, so that no renderer can forget them.

Everything that comes from users or from the policy text is escaped (&, <, >): `<!channel>`
in a question is shown, never executed. Cuts are visible and never split an entity.
"""
from __future__ import annotations

import re

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")


def escape(text: str) -> str:
    """Escape the three characters Slack treats as control characters in message text."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def user_ref(user_id: str | None) -> str:
    """`<@U123>` for a real Slack user id; anything else is escaped text (never a ping)."""
    if user_id and _USER_ID.match(user_id):
        return f"<@{user_id}>"
    return escape(user_id or "?")


def truncate(text: str, limit: int, note: str) -> str:
    """`text` cut to at most `limit` characters, ending with `note` when it was cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(note))].rstrip() + note


def escaped_within(text: str, limit: int, note: str) -> str:
    """`escape(text)` in at most `limit` characters, cut on the raw text (never mid-entity)."""
    escaped = escape(text)
    if len(escaped) <= limit:
        return escaped
    note = escape(note)
    raw = text[: limit - len(note)]
    while raw and len(escape(raw)) > limit - len(note):
        raw = raw[: len(raw) - max(1, (len(escape(raw)) - (limit - len(note))) // 5)]
    return escape(raw.rstrip()) + note


def split_lines(text: str, limit: int) -> list[str]:
    """Split at line breaks into chunks of at most `limit` characters (hard-split long lines)."""
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        candidate = f"{current}\n{line}" if current else line
        if len(candidate) > limit and current:
            chunks.append(current)
            current = line
        else:
            current = candidate
    if current or not chunks:
        chunks.append(current)
    return chunks


def block_quote(text: str) -> str:
    """A verbatim mrkdwn block quote: every line escaped and prefixed with '>'."""
    return "\n".join(">" + escape(line) for line in text.split("\n"))


def iso_to_ja_date(iso: str | None) -> str | None:
    """2026-06-03 → 2026年6月3日 (the policy's own way of writing dates)."""
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", iso or "")
    if not m:
        return iso
    return f"{int(m[1])}年{int(m[2])}月{int(m[3])}日"
