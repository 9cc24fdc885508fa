"""Post the clause-level change summary of a policy rebuild to a Slack channel.

Optional: only when POLICYBOT_ANNOUNCE_CHANNEL is set. Support staff see exactly which
clauses changed (deleted text struck through, inserted text in bold) the moment the bot
starts quoting the new revision. A failed post is logged and never fails the build.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.redact import redact
from bot.settings import ANNOUNCE_ENV
from index.diff import ADDED, CHANGED, MOVED, REMOVED, Change, PolicyDiff

if TYPE_CHECKING:
    from index.build import BuildReport

log = logging.getLogger(__name__)

MAX_DETAILED = 12  # changes shown with their text; Slack allows 50 blocks per message
MAX_MOVES = 30  # renumbered clauses listed by label
_CONTEXT = 40  # unchanged characters kept on each side of an edit
_KIND_JA = {CHANGED: "変更", ADDED: "追加", REMOVED: "削除", MOVED: "移動"}


# --- pure formatting -------------------------------------------------------------------------

def announcement(diff: PolicyDiff) -> tuple[str, list[dict]]:
    """(fallback text, Block Kit blocks) summarising the diff. Pure."""
    counts = diff.counts()
    count_text = "、".join(f"{_KIND_JA[k]} {n}件" for k, n in counts.items() if n) or "条項の変更なし"
    revision = f"{diff.old.revision or '?'} → {diff.new.revision or '?'}"
    fallback = f"個人情報保護方針が改定されました（{revision}）：{count_text}"

    summary = [f"*改定日* {revision}", f"*変更* {count_text}"]
    if diff.old.contact_email != diff.new.contact_email:
        summary.append(f"*お問い合わせ窓口* {_esc(diff.old.contact_email or 'なし')} → "
                       f"{_esc(diff.new.contact_email or 'なし')}")
    blocks: list[dict] = [
        {"type": "header", "text": {"type": "plain_text", "text": "個人情報保護方針が改定されました", "emoji": False}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(summary)}},
    ]
    detailed = [c for c in diff.changes if c.kind != MOVED or c.text_changed]
    plain_moves = [c for c in diff.changes if c.kind == MOVED and not c.text_changed]
    for change in detailed[:MAX_DETAILED]:
        blocks.append(_change_block(change))
    if plain_moves:
        lines = [f"{c.old_label} → {c.new_label}" for c in plain_moves[:MAX_MOVES]]
        if len(plain_moves) > MAX_MOVES:
            lines.append(f"ほか {len(plain_moves) - MAX_MOVES}件")
        blocks.append({"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": [
            {"type": "text", "text": "番号の移動（内容は同じ）\n", "style": {"bold": True}},
            {"type": "text", "text": "\n".join(lines)}]}]})
    hidden = len(detailed) - MAX_DETAILED
    footer = "詳細は `policybot diff` で確認できます。"
    if hidden > 0:
        footer = f"ほか {hidden}件の変更があります。" + footer
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": footer}]})
    return fallback, blocks


def _change_block(change: Change) -> dict:
    what = "見出し " if change.unit == "heading" else ""
    if change.kind == MOVED:
        title = f"{_KIND_JA[MOVED]}・変更: {what}{change.old_label} → {change.new_label}\n"
    else:
        title = f"{_KIND_JA[change.kind]}: {what}{change.label}\n"
    elements: list[dict] = [{"type": "text", "text": title, "style": {"bold": True}}]
    if change.kind == ADDED:
        elements.append({"type": "text", "text": change.new_text or ""})
    elif change.kind == REMOVED:
        elements.append({"type": "text", "text": change.old_text or "", "style": {"strike": True}})
    else:
        elements.extend(_diff_elements(change.ops))
    return {"type": "rich_text", "elements": [{"type": "rich_text_section", "elements": elements}]}


def _diff_elements(ops) -> list[dict]:
    """Rich-text runs: struck-through deletions, bold insertions, unchanged text trimmed to context.

    Rich text carries the styles explicitly: mrkdwn's *bold* and ~strike~ do not render inside
    Japanese text, which has no spaces around the markers.
    """
    out: list[dict] = []
    last = len(ops) - 1
    for i, (op, old_seg, new_seg) in enumerate(ops):
        if op == "equal":
            out.append({"type": "text", "text": _trim(new_seg, keep_head=i > 0, keep_tail=i < last)})
            continue
        if old_seg:
            out.append({"type": "text", "text": old_seg, "style": {"strike": True}})
        if new_seg:
            out.append({"type": "text", "text": new_seg, "style": {"bold": True}})
    return [e for e in out if e["text"]]


def _trim(text: str, keep_head: bool, keep_tail: bool) -> str:
    """Shorten unchanged text to the characters next to the edits around it."""
    if len(text) <= (keep_head + keep_tail) * _CONTEXT + 1:
        return text
    head = text[:_CONTEXT] if keep_head else ""
    tail = text[-_CONTEXT:] if keep_tail else ""
    return f"{head}…{tail}"


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- posting -----------------------------------------------------------------------------------

def post_announcement(client, channel: str, diff: PolicyDiff) -> bool:
    """Post the summary with a slack_sdk WebClient. Returns False (and logs why) when Slack refuses."""
    from slack_sdk.errors import SlackApiError

    text, blocks = announcement(diff)
    try:
        client.chat_postMessage(channel=channel, text=text, blocks=blocks, unfurl_links=False, unfurl_media=False)
    except SlackApiError as exc:
        error = exc.response.get("error") if exc.response is not None else "unknown"
        hint = {"not_in_channel": "invite the bot to the channel (/invite @policybot)",
                "channel_not_found": f"check {ANNOUNCE_ENV} (a channel ID like C0123456789 is safest)",
                "invalid_auth": "check SLACK_BOT_TOKEN"}.get(error, "see Slack's chat.postMessage errors")
        log.warning("could not announce the policy change in %s: Slack said %s; %s", channel, error, hint)
        return False
    except Exception as exc:  # network and the like: the build itself succeeded
        log.warning("could not announce the policy change in %s (%s: %s)", channel, type(exc).__name__,
                    redact(str(exc)))
        return False
    log.info("announced the policy change in %s", channel)
    return True


def announce_build(settings, report: BuildReport, client=None) -> bool:
    """After `policybot build`: post the build's diff, when announcements are configured.

    The diff is the one the build computed (index/build.py), never a new parse of either text.
    Nothing is posted for a first build (nothing to compare), a skipped build, or a rebuild
    of an unchanged text. Returns True when a message was posted.
    """
    channel = settings.announce_channel
    if not channel or report.skipped or report.diff is None or not report.diff.has_changes:
        return False
    if client is None and not settings.slack_bot_token:
        log.warning("%s is set but SLACK_BOT_TOKEN is not: cannot announce the policy change", ANNOUNCE_ENV)
        return False
    if client is None:
        from bot.slack_client import make_client  # the Slack SDK only when there is something to post

        client = make_client(settings)
    return post_announcement(client, channel, report.diff)
