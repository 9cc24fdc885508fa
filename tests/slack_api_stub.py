"""A local HTTP server standing in for Slack's Web API and for response_url endpoints.

Real sockets, real slack_sdk clients on the other side: point `SLACK_API_URL` (or
`WebClient(base_url=stub.api_url + "/")`) at it and it records every call — method,
token, parsed JSON or form body — and answers `ok` the way Slack does, `auth.test`
included. Payloads that carry a `response_url` (slash commands, shortcuts, buttons) can
point at `stub.response_url(name)`; what the bot sends there is recorded as method
"response_url".

    with SlackApiStub() as stub:
        client = WebClient(token="xoxb-test", base_url=stub.api_url + "/")
        client.chat_postMessage(channel="C1", text="hi")
        stub.wait_for("chat.postMessage")
        assert stub.calls("chat.postMessage")[0].body["text"] == "hi"

Threads for `conversations.replies` are set with `add_thread`; an unknown thread answers
`thread_not_found`, as Slack does.

Reusable by any test that talks to Slack (the contact hand-off too). Not a mock of our
code: it imitates the external service at the HTTP level.
"""
from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable
from urllib.parse import parse_qs, urlsplit

BOT_USER_ID = "UPOLICYBOT"
BOT_ID = "BPOLICYBOT"
TEAM_ID = "T0STUB"
RESPONSE_URL_METHOD = "response_url"
# Settings.slack_retry_base for a client aimed at a stand-in: its retries are real, their seconds are not needed.
RETRY_BASE_S = 0.005


@dataclass(frozen=True)
class ApiCall:
    """One request the bot made: Web API `method` (or "response_url"), its token and body."""

    method: str
    token: str | None
    body: dict
    path: str
    headers: dict = field(default_factory=dict)
    at: float = 0.0  # time.perf_counter() when received

    def blocks_text(self) -> str:
        """Every text string inside the body's blocks, joined (handy for `in` assertions)."""
        return "\n".join(_texts(self.body.get("blocks") or []))


def _texts(value) -> list[str]:
    if isinstance(value, dict):
        out = []
        for key, inner in value.items():
            if key == "text" and isinstance(inner, str):
                out.append(inner)
            else:
                out.extend(_texts(inner))
        return out
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


class SlackApiStub:
    """Start with `start()` (or `with`), stop with `stop()`. Thread-safe."""

    def __init__(self, *, valid_tokens: set[str] | None = None, bot_user_id: str = BOT_USER_ID):
        self.valid_tokens = valid_tokens  # None: any token is accepted
        self.bot_user_id = bot_user_id
        self._calls: list[ApiCall] = []
        self._cond = threading.Condition()
        self._failures: dict[str, list] = {}
        self._threads: dict[tuple[str, str], list[dict]] = {}  # (channel, thread ts) → its messages
        self._ts = itertools.count(1)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self._server.request_queue_size = 128
        self._thread: threading.Thread | None = None

    # -- lifecycle ----------------------------------------------------------------------
    def start(self) -> "SlackApiStub":
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.01},
                                        name="slack-api-stub", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> "SlackApiStub":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_url(self) -> str:
        """What SLACK_API_URL should be set to (no trailing slash)."""
        return self.base_url + "/api"

    def response_url(self, name: str = "r") -> str:
        return f"{self.base_url}/response/{name}"

    # -- behaviour ----------------------------------------------------------------------
    def fail(self, method: str, error: str = "internal_error", *, times: int = 1, status: int = 200,
             body: str | None = None) -> None:
        """Make the next `times` calls of `method` fail like Slack does ({"ok": false, "error"}).

        `status` 500–504 imitates a server error; `body` replaces the JSON with raw text, as a
        load balancer in front of Slack sends it ("<html>502 Bad Gateway</html>").
        """
        with self._cond:
            self._failures.setdefault(method, []).extend([(error, status, body)] * times)

    def add_thread(self, channel: str, messages: list[dict]) -> None:
        """Messages `conversations.replies` returns for the thread started by `messages[0]`
        (each a Slack message object: `ts`, `user`, `text`, …)."""
        with self._cond:
            self._threads[(channel, messages[0]["ts"])] = [dict(m, thread_ts=messages[0]["ts"]) for m in messages]

    # -- what was called ----------------------------------------------------------------
    def calls(self, method: str | None = None) -> list[ApiCall]:
        with self._cond:
            return [c for c in self._calls if method is None or c.method == method]

    def clear(self) -> None:
        with self._cond:
            self._calls.clear()

    def wait_for(self, method: str | Callable[[ApiCall], bool], count: int = 1, timeout: float = 20.0) -> list[ApiCall]:
        """Block until `count` matching calls were received; raises AssertionError on timeout."""
        match = (lambda c: c.method == method) if isinstance(method, str) else method
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [c for c in self._calls if match(c)]
                if len(found) >= count:
                    return found
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"waited {timeout}s for {count} call(s) of {method!r}, got {len(found)}: "
                                         f"{[c.method for c in self._calls]}")
                self._cond.wait(remaining)

    # -- HTTP ---------------------------------------------------------------------------
    def _record(self, call: ApiCall) -> tuple[dict | str, int]:
        with self._cond:
            self._calls.append(call)
            self._cond.notify_all()
            queued = self._failures.get(call.method)
            failure = queued.pop(0) if queued else None
        if failure:
            error, status, raw = failure
            return (raw if raw is not None else {"ok": False, "error": error}), status
        if call.method == RESPONSE_URL_METHOD:
            return {"ok": True}, 200
        if self.valid_tokens is not None and call.token not in self.valid_tokens:
            return {"ok": False, "error": "invalid_auth"}, 200
        return self._answer(call), 200

    def _answer(self, call: ApiCall) -> dict:
        body = call.body
        if call.method == "auth.test":
            return {"ok": True, "url": "https://stub.slack.invalid/", "team": "Stub", "user": "policybot",
                    "team_id": TEAM_ID, "user_id": self.bot_user_id, "bot_id": BOT_ID, "is_enterprise_install": False}
        if call.method == "chat.postMessage":
            ts = self._next_ts()
            return {"ok": True, "channel": body.get("channel"), "ts": ts,
                    "message": {"type": "message", "text": body.get("text"), "ts": ts, "bot_id": BOT_ID,
                                "user": self.bot_user_id, "thread_ts": body.get("thread_ts")}}
        if call.method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self._next_ts()}
        if call.method == "chat.update":
            return {"ok": True, "channel": body.get("channel"), "ts": body.get("ts"), "text": body.get("text")}
        if call.method == "conversations.replies":
            with self._cond:
                messages = self._threads.get((body.get("channel"), body.get("ts")))
            if messages is None:
                return {"ok": False, "error": "thread_not_found"}
            limit = int(body.get("limit") or 1000)
            return {"ok": True, "messages": messages[:limit], "has_more": len(messages) > limit}
        if call.method == "views.publish":
            return {"ok": True, "view": {"id": "VSTUB", "type": "home"}}
        return {"ok": True}

    def _next_ts(self) -> str:
        return f"{1700000000 + next(self._ts)}.000100"

    def _handler_class(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802
                received = time.perf_counter()
                url = urlsplit(self.path)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode("utf-8")
                body = _parse_body(raw, self.headers.get("Content-Type") or "")
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ").strip() or body.get("token")
                if url.path.startswith("/api/"):
                    method = url.path[len("/api/"):]
                elif url.path.startswith("/response/"):
                    method = RESPONSE_URL_METHOD
                else:
                    self._send(404, {"ok": False, "error": "unknown_path"})
                    return
                call = ApiCall(method=method, token=token, body=body, path=url.path,
                               headers={k.lower(): v for k, v in self.headers.items()}, at=received)
                payload, status = stub._record(call)
                self._send(status, payload)

            def _send(self, status: int, payload: dict | str) -> None:
                raw = isinstance(payload, str)
                data = (payload if raw else json.dumps(payload)).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "text/html; charset=utf-8" if raw else "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format, *args):
                pass

        return Handler


def _parse_body(raw: str, content_type: str) -> dict:
    if not raw:
        return {}
    if "json" in content_type:
        return json.loads(raw)
    fields = {k: v[0] if len(v) == 1 else v for k, v in parse_qs(raw, keep_blank_values=True).items()}
    for key in ("blocks", "attachments", "view"):  # form-encoded calls carry these as JSON strings
        if isinstance(fields.get(key), str):
            try:
                fields[key] = json.loads(fields[key])
            except ValueError:
                pass
    return fields
