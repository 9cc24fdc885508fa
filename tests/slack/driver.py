"""Delivers payloads to the app the way Slack does: signed JSON event callbacks,
form-encoded slash commands and interactivity payloads, over real HTTP."""
from __future__ import annotations

import hashlib
import hmac
import http.client
import itertools
import json
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

from slack_sdk.signature import SignatureVerifier

from tests.slack_api_stub import BOT_USER_ID, TEAM_ID, SlackApiStub

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-test-0000-bottoken"
APP_TOKEN = "xapp-1-test-apptoken"
USER = "U0ASKER01"
CHANNEL = "C0GENERAL"
DM_CHANNEL = "D0DIRECT01"


@dataclass(frozen=True)
class Sent:
    """Slack's side of one delivery: what our app answered and how long it took."""

    status: int
    body: str
    seconds: float


class SlackSender:
    """Builds Slack payloads and delivers them to the app over real HTTP, signed."""

    _seq = itertools.count(1)

    def __init__(self, url: str, stub: SlackApiStub, secret: str = SIGNING_SECRET):
        self.url = urlsplit(url)
        self.stub = stub
        self.verifier = SignatureVerifier(secret)

    # -- payloads --------------------------------------------------------------------------
    def new_ts(self) -> str:
        return f"{1710000000 + next(self._seq)}.{next(self._seq):06d}"

    def mention(self, text: str, *, ts: str | None = None, thread_ts: str | None = None, user: str = USER,
                channel: str = CHANNEL, **extra) -> dict:
        event = {"type": "app_mention", "user": user, "text": f"<@{BOT_USER_ID}> {text}", "ts": ts or self.new_ts(),
                 "channel": channel, "event_ts": ts, **extra}
        if thread_ts:
            event["thread_ts"] = thread_ts
        return event

    def dm(self, text: str, *, ts: str | None = None, user: str = USER, **extra) -> dict:
        return {"type": "message", "channel_type": "im", "user": user, "text": text, "ts": ts or self.new_ts(),
                "channel": DM_CHANNEL, **extra}

    def event_callback(self, event: dict, event_id: str | None = None) -> dict:
        return {"token": "legacy", "team_id": TEAM_ID, "api_app_id": "A0POLICY", "type": "event_callback",
                "event": event, "event_id": event_id or f"Ev{next(self._seq):08d}", "event_time": int(time.time()),
                "authorizations": [{"team_id": TEAM_ID, "user_id": BOT_USER_ID, "is_bot": True}]}

    def command_fields(self, text: str, *, user: str = USER, channel: str = CHANNEL, response: str = "cmd") -> dict:
        return {"token": "legacy", "team_id": TEAM_ID, "team_domain": "stub", "channel_id": channel,
                "channel_name": "general", "user_id": user, "user_name": "asker", "command": "/policy",
                "text": text, "api_app_id": "A0POLICY", "response_url": self.stub.response_url(response),
                "trigger_id": "1.2.3"}

    def shortcut_payload(self, message_text: str, *, user: str = "U0SUPPORT", response: str = "shortcut") -> dict:
        ts = self.new_ts()
        return {"type": "message_action", "token": "legacy", "action_ts": ts, "callback_id": "ask_policy",
                "trigger_id": "1.2.3", "team": {"id": TEAM_ID, "domain": "stub"}, "user": {"id": user, "name": "s"},
                "channel": {"id": CHANNEL, "name": "general"}, "message_ts": ts,
                "message": {"type": "message", "user": "U0CUSTOMER", "ts": ts, "text": message_text},
                "response_url": self.stub.response_url(response)}

    def button_payload(self, action_id: str, value: str, *, user: str = USER, ephemeral: bool = False,
                       response: str = "button") -> dict:
        container = {"type": "message", "message_ts": self.new_ts(), "channel_id": CHANNEL, "is_ephemeral": ephemeral}
        payload = {"type": "block_actions", "token": "legacy", "api_app_id": "A0POLICY", "trigger_id": "1.2.3",
                   "team": {"id": TEAM_ID, "domain": "stub"}, "user": {"id": user, "username": "asker"},
                   "channel": {"id": CHANNEL, "name": "general"}, "container": container,
                   "response_url": self.stub.response_url(response),
                   "actions": [{"type": "button", "action_id": action_id, "block_id": "answer_actions",
                                "value": value, "action_ts": self.new_ts()}]}
        if not ephemeral:
            payload["message"] = {"type": "message", "ts": container["message_ts"], "text": "answer"}
        return payload

    # -- delivery --------------------------------------------------------------------------
    def post(self, body: str, content_type: str, *, timestamp: int | None = None, signature: str | None = None,
             headers: dict | None = None) -> Sent:
        ts = str(int(time.time()) if timestamp is None else timestamp)
        sig = signature or self.verifier.generate_signature(timestamp=ts, body=body)
        all_headers = {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": sig,
                       **(headers or {})}
        started = time.perf_counter()
        conn = http.client.HTTPConnection(self.url.hostname, self.url.port, timeout=30)
        try:
            conn.request("POST", self.url.path, body=body.encode("utf-8"), headers=all_headers)
            response = conn.getresponse()
            text = response.read().decode("utf-8")
        finally:
            conn.close()
        return Sent(response.status, text, time.perf_counter() - started)

    def signature_headers(self, body: bytes, *, timestamp: str | None = None) -> dict[str, str]:
        """Slack's v0 signature over the raw bytes (also bytes that are not UTF-8)."""
        ts = str(int(time.time())) if timestamp is None else timestamp
        digest = hmac.new(self.verifier.signing_secret.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
        return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + digest.hexdigest()}

    def send_raw(self, head: dict[str, str], body: bytes = b"", *, path: str | None = None,
                 half_close: bool = False) -> Sent:
        """POST exactly these headers and bytes over a socket (no client fixes up Content-Length);
        `half_close` ends the request stream after the body, as a client that sent less than it said."""
        lines = [f"POST {path or self.url.path} HTTP/1.1", f"Host: {self.url.hostname}:{self.url.port}",
                 *(f"{k}: {v}" for k, v in head.items())]
        started = time.perf_counter()
        with socket.create_connection((self.url.hostname, self.url.port), timeout=30) as sock:
            sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
            if half_close:
                sock.shutdown(socket.SHUT_WR)
            response = http.client.HTTPResponse(sock)
            response.begin()
            text = response.read().decode("utf-8", "replace")
        return Sent(response.status, text, time.perf_counter() - started)

    def send_event(self, event: dict, *, event_id: str | None = None, retry_num: int | None = None, **kw) -> Sent:
        headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"} if retry_num else {}
        body = json.dumps(self.event_callback(event, event_id), ensure_ascii=False)
        return self.post(body, "application/json", headers=headers, **kw)

    def send_command(self, text: str, **kw) -> Sent:
        return self.post(urlencode(self.command_fields(text, **kw)), "application/x-www-form-urlencoded")

    def send_interaction(self, payload: dict) -> Sent:
        body = urlencode({"payload": json.dumps(payload, ensure_ascii=False)})
        return self.post(body, "application/x-www-form-urlencoded")
