"""What the Slack endpoint refuses before Bolt reads a request, and why.

Nothing is parsed before the signature is checked: an unsigned or stale request is refused on
its headers alone (401), a forged one after one HMAC over the raw bytes (401). Only a request
Slack signed is decoded, and one that is not a Slack payload (not UTF-8, not JSON, not a JSON
object, `payload=` that is not one, an `event` or `actions` that is not the object Slack
sends) gets 400 instead of reaching Bolt, which would raise on it. Transport-neutral: the
ASGI middleware in bot.http_server calls these in order (and its uvicorn protocol calls
`check_headers` on a head the HTTP parser refused), and so can any server that replaces it.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import parse_qsl

MAX_BODY_BYTES = 1 << 20  # Slack's payloads are far smaller; anything bigger is refused unread
SIGNATURE_MAX_AGE_S = 5 * 60  # Slack's own rule: older timestamps may be replays

_DIGITS = re.compile(r"[0-9]{1,19}")
_REASONS = {  # what the client is told (plain text); the log line carries the reason code
    "unsigned": "missing X-Slack-Signature or X-Slack-Request-Timestamp",
    "stale": "X-Slack-Request-Timestamp is not a recent Unix time",
    "bad_signature": "signature does not match",
    "length_required": "Content-Length required",
    "bad_length": "Content-Length is not a non-negative integer",
    "too_large": "payload too large",
    "incomplete": "body shorter than Content-Length",
    "not_utf8": "body is not UTF-8",
    "empty": "empty body",
    "not_json": "body is not JSON",
    "not_an_object": "body is not a JSON object",
    "not_a_slack_payload": "body is not shaped like a Slack payload",
}


@dataclass(frozen=True)
class Refusal:
    """An HTTP status and a reason code (see `_REASONS`) for a request that goes no further."""

    status: int
    reason: str

    @property
    def body(self) -> bytes:
        return _REASONS[self.reason].encode("ascii")


def check_headers(headers: Mapping[str, str]) -> int | Refusal:
    """Before the body is read: the signature headers, then the body's length (or a refusal).

    `headers` has lower-case names.
    """
    return check_signature_headers(headers) or body_length(headers.get("content-length"))


def check_signature_headers(headers: Mapping[str, str], now: float | None = None) -> Refusal | None:
    """A signature and a timestamp within five minutes must be there (lower-case header names)."""
    timestamp, signature = headers.get("x-slack-request-timestamp"), headers.get("x-slack-signature")
    if not timestamp or not signature:
        return Refusal(401, "unsigned")
    if not _DIGITS.fullmatch(timestamp.strip()):
        return Refusal(401, "stale")
    if abs((time.time() if now is None else now) - int(timestamp)) > SIGNATURE_MAX_AGE_S:
        return Refusal(401, "stale")
    return None


def body_length(content_length: str | None) -> int | Refusal:
    """The number of body bytes to read, from the Content-Length header."""
    if content_length is None:
        return Refusal(411, "length_required")
    if not _DIGITS.fullmatch(content_length.strip()):
        return Refusal(400, "bad_length")
    length = int(content_length)
    if length > MAX_BODY_BYTES:
        return Refusal(413, "too_large")
    return length


def read_body(raw: bytes, headers: Mapping[str, str], signing_secret: str) -> dict | Refusal:
    """After the body is read: the signature over the raw bytes, then the payload it carries
    (or why it is not a Slack payload)."""
    if not signature_matches(signing_secret, headers.get("x-slack-request-timestamp", "").strip(),
                             headers.get("x-slack-signature", ""), raw):
        return Refusal(401, "bad_signature")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Refusal(400, "not_utf8")
    if not text.strip():
        return Refusal(400, "empty")
    try:
        payload = _parse(text, headers.get("content-type") or "")
    except (ValueError, RecursionError):  # JSONDecodeError is a ValueError; so is an absurdly long number
        return Refusal(400, "not_json")
    if not isinstance(payload, dict):
        return Refusal(400, "not_an_object")
    if not _shaped_like_slack(payload):
        return Refusal(400, "not_a_slack_payload")
    return payload


# Where Slack puts an object (or a list of objects), Bolt reads one without checking: a payload
# with a string or a null there is not one Slack sent, and would make Bolt raise.
_OBJECT_FIELDS = ("event", "view", "message", "container", "state")
_OBJECT_LIST_FIELDS = ("actions", "authorizations")
_OBJECT_OR_ID_FIELDS = ("team", "user", "channel", "enterprise")


def _shaped_like_slack(payload: dict) -> bool:
    """The envelope's containers have the JSON types Slack gives them (when present at all)."""
    if any(key in payload and not isinstance(payload[key], dict) for key in _OBJECT_FIELDS):
        return False
    if any(key in payload and not (isinstance(payload[key], list) and all(isinstance(i, dict) for i in payload[key]))
           for key in _OBJECT_LIST_FIELDS):
        return False
    return all(payload.get(key) is None or isinstance(payload[key], (dict, str)) for key in _OBJECT_OR_ID_FIELDS)


def signature_matches(signing_secret: str, timestamp: str, signature: str, raw: bytes) -> bool:
    """Slack's v0 signature, HMAC-SHA256 over `v0:<timestamp>:<body>`, computed on the raw bytes
    (slack_sdk's verifier decodes the body first and raises on bytes that are not UTF-8)."""
    if not signing_secret:
        return False
    base = b"v0:" + timestamp.encode("ascii", "replace") + b":" + raw
    expected = "v0=" + hmac.new(signing_secret.encode("utf-8"), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected.encode("ascii"), signature.encode("utf-8", "replace"))


def _parse(text: str, content_type: str) -> object:
    """The payload: JSON (Events API), or a form whose `payload` field is JSON (interactivity),
    or a plain form (slash commands, ssl_check)."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type == "application/json" or text.lstrip().startswith(("{", "[")):
        return json.loads(text)
    form = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in form:
        return json.loads(form["payload"])
    return form
