"""Remove secrets and personal contact data from text before it reaches a log or the database.

Users paste their own e-mail addresses and phone numbers into questions, and Slack tokens
travel in headers and configs; none of that may end up in a log file, nor in what the bot
keeps (bot/slack_store.py, the sent hand-offs of bot/handoff/outbox.py). `redact()` is cheap
and idempotent, so it is safe to run on every log line and on rows already redacted.
"""
from __future__ import annotations

import re
from urllib.parse import quote, unquote

EMAIL_MARK = "[email]"
PHONE_MARK = "[phone]"
TOKEN_MARK = "[token]"

# Slack tokens: bot/user/app/config/refresh (xoxb-, xoxp-, xoxa-, xoxe-, xoxe.xoxp-, xoxr-, xoxs-)
# and app-level tokens (xapp-). Matched case-insensitively so a mangled copy is caught too.
_TOKEN = re.compile(r"\b(?:xox[a-z](?:\.xox[a-z])?|xapp)-[A-Za-z0-9-]+", re.IGNORECASE)

# Full-width forms are common in Japanese text (０９０－１２３４－５６７８, ｉｎｆｏ＠…);
# ranges are written out so the patterns need no normalisation pass.
_DIGIT = "[0-9\uff10-\uff19]"
_SEP = "[ \u3000\\-\u2010-\u2015\u2212\u30fc\uff0d.\uff0e]"
# Runs are bounded (local part ≤ 64 characters, domain labels ≤ 63, RFC 5321): unbounded ones
# made a long line of letters quadratic to scan (20,000 characters took 20 s).
_EMAIL = re.compile(
    r"[A-Za-z0-9\uff21-\uff3a\uff41-\uff5a\uff10-\uff19._%+\-]{1,64}"
    r"\s?(?:[@\uff20]|%40)\s?"  # %40: an address inside a percent-encoded mailto: link
    r"[A-Za-z0-9\uff21-\uff3a\uff41-\uff5a\uff10-\uff19\-]{1,63}(?:[.\uff0e][A-Za-z0-9\uff21-\uff3a\uff41-\uff5a\-]{1,63})+"
)
# A phone-number candidate: optional +country code, optional (area) part, then groups of
# digits joined by at most one separator. Whether it really is a phone number is decided by
# counting digits (_is_phone), which keeps dates, Slack timestamps and clause ids out.
_PHONE = re.compile(
    rf"(?:(?<=tel)|(?<=TEL)|(?<=Tel)|(?<![A-Za-z0-9_.\uff10-\uff19]))"
    rf"(?:[+\uff0b]{_DIGIT}{{1,3}}{_SEP}?)?"
    rf"(?:[(\uff08]{_DIGIT}{{1,5}}[)\uff09]{_SEP}?)?"
    rf"{_DIGIT}{{1,11}}(?:{_SEP}{_DIGIT}{{1,5}}){{0,4}}"
    rf"(?![A-Za-z0-9_.\uff10-\uff19]|{_SEP}{_DIGIT})"
)
_FULLWIDTH_DIGITS = str.maketrans("０１２３４５６７８９＋（）", "0123456789+()")


def _is_phone(candidate: str) -> bool:
    text = candidate.translate(_FULLWIDTH_DIGITS)
    digits = re.sub(r"\D", "", text)
    if text.startswith("+"):
        return 8 <= len(digits) <= 15
    if text.startswith("(") or text.startswith("0"):
        # Japanese domestic numbers: 10 digits (03-1234-5678, 0120-123-456) or 11 (090-1234-5678).
        return 10 <= len(digits) <= 11
    return False


# A run of text between spaces and delimiters, and percent-encoding inside one (a mailto: link
# carries the user's question this way). Runs are found once and only those holding %XX are
# decoded: a pattern that looked for %XX from every position was quadratic on long lines.
_RUN = re.compile(r"[^\s<>|\"']+")
_PERCENT = re.compile(r"%[0-9A-Fa-f]{2}")


def _redact_plain(text: str) -> str:
    text = _TOKEN.sub(TOKEN_MARK, text)
    text = _EMAIL.sub(EMAIL_MARK, text)
    return _PHONE.sub(lambda m: PHONE_MARK if _is_phone(m.group(0)) else m.group(0), text)


def _redact_percent_run(match: re.Match) -> str:
    raw = match.group(0)
    decoded = unquote(raw)
    cleaned = _redact_plain(decoded)
    return raw if cleaned == decoded else quote(cleaned, safe="/:?=&@[]")


def redact(text: str) -> str:
    """`text` with Slack tokens, e-mail addresses and phone numbers replaced by markers,
    also where they hide in percent-encoded URL parts."""
    if not text:
        return text
    if "%" in text:
        text = _RUN.sub(lambda m: _redact_percent_run(m) if _PERCENT.search(m.group(0)) else m.group(0), text)
    return _redact_plain(text)


def redact_value(value: object) -> object:
    """Redact strings inside plain JSON-like values (dicts, lists, tuples); other values pass."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(v) for v in value]
    return value


def redact_mailto(url: str) -> str:
    """A mailto: link with contact data removed from its subject and body; the recipient stays
    (it is the contact window's address, the link's purpose, not the asker's data)."""
    head, sep, query = url.partition("?")
    if not sep:
        return url
    fields = []
    for field in query.split("&"):
        name, eq, value = field.partition("=")
        fields.append(f"{name}={quote(redact(unquote(value)), safe='')}" if eq else field)
    return f"{head}?{'&'.join(fields)}"
