"""Slack message text → the question it asks: what to show back, and what to search.

Slack delivers what a user typed as mrkdwn: `&`, `<`, `>` escaped, and every mention,
channel, user group, special mention, date and link wrapped in `<…>`; emoji as `:codes:`.
None of that is about the policy: an id or `@subteam` turned into a query word is enough
to make a plain question look out of scope. So a message gives two texts:

- `display`: what the user wrote, as they saw it in Slack — a colleague's mention as
  `@name` when Slack sent the name (else dropped; an id means nothing to a reader), a
  channel as `#name`, `@here`, a link as its label, `:emoji:` codes kept. This is what is
  stored, echoed and pre-filled in the forward form.
- `retrieval`: only the words — no mentions, channels, user groups, URLs or emoji codes.
  This is what is searched.

Pure and Slack-API-free; rendering (escaping for display) lives in bot.slack_render.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

# <…> control sequences: <@U123|label>, <#C123|name>, <!here>, <!subteam^S1|@team>, <url|label> …
_CONTROL = re.compile(r"<([^<>\n]*)>")
# Emoji codes as Slack writes them (:bow:, :+1:, :skin-tone-2:, :man-woman-boy:), one or chained.
# A code needs a letter or a sign (:+1:), and no letter or digit right before it, so 10:30:45 or
# a:b:c stay text.
_EMOJI = re.compile(r"(?<![A-Za-z0-9]):[a-z0-9_+'-]*[a-z+-][a-z0-9_+'-]*:(?::[a-z0-9_+'-]+:)*")
# A bare URL in the text (a slash command without link escaping, a pasted address).
_URL = re.compile(r"\b(?:https?|ftp)://[!-~]+")
# A link label that is itself an address (Slack labels an auto-linked "example.com" with itself).
_ADDRESS_LABEL = re.compile(r"(?:https?|ftp|mailto|tel):\S*|(?:[\w-]+\.)+[a-z]{2,}(?:[/:?#]\S*)?|[\w.+-]+@[\w-]+(?:\.[\w-]+)+",
                            re.IGNORECASE)
_SURROGATE = re.compile("[\ud800-\udfff]")
_SPECIAL_MENTIONS = frozenset({"here", "channel", "everyone"})
# What a removed token leaves behind while the text is rebuilt: with the spaces around it, it
# becomes one space, or nothing when it sat between two words (個人情報<@U1>を → 個人情報を).
_GAP = "\x00"
_GAPS = re.compile(rf"[ \t]*{_GAP}(?:[ \t]*{_GAP})*[ \t]*")


@dataclass(frozen=True)
class SlackQuestion:
    """A question from Slack: `display` reads as the user wrote it, `retrieval` is its words only."""

    display: str
    retrieval: str


def valid_unicode(text: str) -> str:
    """`text` with surrogate pairs joined and lone surrogates (a `\\ud83d` escape in a payload's
    JSON) replaced by U+FFFD, so it can be stored, encoded and logged as UTF-8."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def unescape(text: str) -> str:
    """Slack's three entities back to characters (it escapes only &, < and >)."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def question_from_slack(text: object, bot_user_id: str | None = None, *, mrkdwn: bool = True) -> SlackQuestion:
    """The question a Slack message asks (see the module docstring for the two texts).

    `bot_user_id`: our own mention is dropped from both texts, with a ':' or ',' right after
    it (`@policybot: 質問`) unless that colon starts an emoji code. `mrkdwn=False` for plain
    text the user typed into a modal input: no entities and no `<…>` sequences to read.
    """
    raw = valid_unicode(text if isinstance(text, str) else "")  # a payload's `text` is not always a string
    if mrkdwn:
        raw = _drop_own_mention(raw, bot_user_id)
        display = _CONTROL.sub(lambda m: _read_control(m.group(1), for_retrieval=False), raw)
        retrieval = _CONTROL.sub(lambda m: _read_control(m.group(1), for_retrieval=True), raw)
    else:
        display = retrieval = raw
    retrieval = _EMOJI.sub(_GAP, _URL.sub(_GAP, retrieval)).replace("\ufffd", _GAP)  # U+FFFD: a broken character
    if mrkdwn:
        display, retrieval = unescape(display), unescape(retrieval)
    return SlackQuestion(display=_tidy(display), retrieval=_tidy(retrieval))


def _drop_own_mention(text: str, bot_user_id: str | None) -> str:
    if not bot_user_id:
        return text
    return re.sub(rf"<@{re.escape(bot_user_id)}(?:\|[^<>]*)?>(?:\s*(?:[：,、]|:(?![a-z0-9_+'-]+:)))?", _GAP, text)


def _read_control(inner: str, *, for_retrieval: bool) -> str:
    """One `<…>` sequence as text: its label where it has one a reader would recognise, else a gap."""
    target, has_label, label = inner.partition("|")
    if target.startswith("@"):  # a person: <@U123> or <@U123|taro>
        return _GAP if for_retrieval or not label else "@" + label.lstrip("@")
    if target.startswith("#"):  # a channel: <#C123|general>, or <#C123|> when Slack omits the name
        return _GAP if for_retrieval or not label else "#" + label.lstrip("#")
    if target.startswith("!"):
        command = target[1:].split("^", 1)[0]
        if command == "date":  # <!date^1392734382^{date_short}|Feb 18, 2014>: the fallback is what was written
            return label or _GAP
        if for_retrieval:
            return _GAP
        if command in _SPECIAL_MENTIONS:  # <!here>, <!channel>, <!everyone>
            return "@" + command
        if command == "subteam" and label:  # <!subteam^S123|@support>
            return "@" + label.lstrip("@")
        return _GAP
    # A link: <https://…|label>, <mailto:…|label>, or a bare <https://…>.
    if not has_label or not label.strip():
        return _GAP if for_retrieval else target
    if for_retrieval and _ADDRESS_LABEL.fullmatch(label.strip()):
        return _GAP
    return label


def _tidy(text: str) -> str:
    """Collapse the spaces a removed token leaves, then trim each end."""
    return _GAPS.sub(lambda m: " " if m.group().strip(_GAP) else "", text).strip()
