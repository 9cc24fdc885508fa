"""HTTP mode: the Slack app on uvicorn, with the intake checks in front and /healthz, /metrics beside.

    POST /slack/events  → SlackIntake (bot.slack_intake: signature first, then length, then
                          payload) → slack_bolt's ASGI adapter → Bolt (dispatch on a thread pool)
    GET  /healthz       → 200 {"status": "ok", …} or 503 naming what is wrong (bot.health)
    GET  /metrics       → Prometheus text format (bot.metrics)

uvicorn serves it (ASGI, one process, its own event loop in a thread of ours): the model is
loaded once in this process and shared by every request, which a pre-forking server would
have to load per worker or fork after loading. Two requests never reach an ASGI app because
h11 answers them itself: a head it cannot frame (a Content-Length that is not a size) and a
body cut short by the client. `SlackH11Protocol` gives those the intake's answers instead,
so every refusal is the same status, body and one JSON log line whatever layer catches it.
uvicorn's own log lines are translated into our events (`_UvicornLogBridge`).
"""
from __future__ import annotations

import asyncio
import contextlib
import contextvars
import json
import logging
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Awaitable, Callable, Mapping

import h11
import uvicorn
from slack_bolt import App, BoltContext, BoltRequest, BoltResponse
from slack_bolt.adapter.asgi import SlackRequestHandler
from slack_bolt.adapter.asgi.http_request import AsgiHttpRequest
from slack_bolt.request.internals import build_context
from uvicorn.protocols.http.h11_impl import STATUS_PHRASES, H11Protocol

from bot import health, slack_intake as intake
from bot.handoff.outbox import PENDING
from bot.logging_setup import log_event

if TYPE_CHECKING:
    from bot.slack_app import SlackBot

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
METRICS_PATH = "/metrics"
DISPATCH_WORKERS = 32  # Bolt's dispatch blocks until the listener acks (ms); many cheap threads
LISTEN_BACKLOG = 128  # a burst of Slack deliveries must not overflow the listen backlog
GRACEFUL_SHUTDOWN_S = 30  # in-flight requests get this long to finish on SIGTERM
START_TIMEOUT_S = 15.0
TICK_S = 0.1  # uvicorn's main-loop tick (its Date header is refreshed every 10 ticks)
DRAIN_POLL_S = 0.005  # how often a stopping server looks whether its connections have closed
HEAD_LIMIT = 64 * 1024  # bytes of a request head kept to judge one h11 refuses (h11 stops at 16 KiB)

log = logging.getLogger("bot.http")
_uvicorn_log = logging.getLogger("uvicorn.error")  # uvicorn's own logger: _UvicornLogBridge reads it

Scope = dict
Receive = Callable[[], Awaitable[dict]]
Send = Callable[[dict], Awaitable[None]]

# The payload bot.slack_intake read from a verified body, for the Bolt handler of the same request.
_verified_payload: contextvars.ContextVar[dict] = contextvars.ContextVar("policybot_verified_payload")


# -- the ASGI side ---------------------------------------------------------------------------

def headers_of(scope: Scope) -> dict[str, str]:
    """Lower-case header names to values, as bot.slack_intake reads them (the last of repeats)."""
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}


async def respond(send: Send, status: int, body: bytes, content_type: str, *, close: bool = False) -> None:
    headers = [(b"content-type", content_type.encode("latin-1")), (b"content-length", str(len(body)).encode())]
    if close:  # the body was left unread: this connection cannot carry another request
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


def log_refusal(refusal: intake.Refusal, headers: Mapping[str, str], length: int) -> None:
    log_event(log, "http.refused", logging.WARNING, status=refusal.status, reason=refusal.reason, bytes=length,
              content_type=headers.get("content-type"), retry_num=headers.get("x-slack-retry-num"))


class SlackIntake:
    """ASGI middleware: what bot.slack_intake refuses never reaches the app behind it.

    Signature headers and Content-Length are judged before the body is read (refused: the
    connection closes, the body unread); the body is read, verified and parsed before the
    app sees it, and the app gets the same bytes again plus the parsed payload.
    """

    def __init__(self, app: Callable, signing_secret: str, path: str = EVENTS_PATH):
        self.app = app
        self.signing_secret = signing_secret  # empty: every request is refused (nothing can be verified)
        self.path = path

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != self.path:
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = headers_of(scope)
        length = intake.check_headers(headers)
        if isinstance(length, intake.Refusal):
            await _refuse(send, length, headers, 0, close=True)
            return
        raw = await _read_body(receive, length)
        if raw is None:  # the client hung up before sending its body: no one to answer
            log_event(log, "http.client_gone", logging.INFO, bytes=length)
            return
        if len(raw) < length:
            await _refuse(send, intake.Refusal(400, "incomplete"), headers, len(raw), close=True)
            return
        payload = intake.read_body(raw, headers, self.signing_secret)
        if isinstance(payload, intake.Refusal):
            await _refuse(send, payload, headers, length)
            return
        status: list[int] = []

        async def send_noting_status(message: dict) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        token = _verified_payload.set(payload)
        try:
            await self.app(scope, _replay(raw), send_noting_status)
        finally:
            _verified_payload.reset(token)
        log_event(log, "http.request", logging.DEBUG, status=status[0] if status else None, bytes=length,
                  retry_num=headers.get("x-slack-retry-num"), ms=round((time.perf_counter() - started) * 1000, 1))


async def _refuse(send: Send, refusal: intake.Refusal, headers: Mapping[str, str], received: int, *,
                  close: bool = False) -> None:
    """Log the refusal and answer it in plain text (`close`: the body was not read in full)."""
    log_refusal(refusal, headers, received)
    await respond(send, refusal.status, refusal.body, "text/plain; charset=utf-8", close=close)


async def _read_body(receive: Receive, length: int) -> bytes | None:
    """Up to `length` bytes of body (fewer when the client ended it early); None if it hung up."""
    chunks = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks += message.get("body", b"")
        if not message.get("more_body", False) or len(chunks) >= length:
            return bytes(chunks[:length])


def _replay(raw: bytes) -> Receive:
    """The body once more, for the app behind the middleware."""
    sent = False

    async def receive() -> dict:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    return receive


def bolt_request(body: str, payload: dict, query: str, headers: dict) -> BoltRequest:
    """Bolt's request for a verified body. Bolt reads any form whose text contains the word
    "payload" as an interactivity payload, so `/policy payloadとは` reached no listener: the
    request carries the payload as read by bot.slack_intake instead (the raw body stays, for
    Bolt's own signature check)."""
    request = BoltRequest(body=body, query=query, headers=headers)
    if request.body != payload:
        request.body = payload
        request.context = build_context(BoltContext(), payload)
    return request


class BoltHandler(SlackRequestHandler):
    """slack_bolt's ASGI adapter, with two changes: Bolt gets the payload the intake read (see
    `bolt_request`), and `App.dispatch`, which blocks until the listener acks, runs on a thread
    pool rather than on the event loop every other request shares."""

    def __init__(self, app: App, executor: ThreadPoolExecutor, path: str = EVENTS_PATH):
        super().__init__(app, path)
        self.executor = executor

    async def dispatch(self, request: AsgiHttpRequest) -> BoltResponse:
        body = await request.get_raw_body()
        bolt_req = bolt_request(body, _verified_payload.get(), request.query_string, request.get_headers())
        return await asyncio.get_running_loop().run_in_executor(self.executor, self.app.dispatch, bolt_req)


class PolicybotAsgi:
    """The whole HTTP surface: /healthz and /metrics here, everything else to Slack's intake."""

    def __init__(self, bot: "SlackBot", executor: ThreadPoolExecutor):
        self.bot = bot
        self.executor = executor
        self.slack = SlackIntake(BoltHandler(bot.app, executor), bot.deps.settings.slack_signing_secret or "")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan and websockets are switched off in the server
            return
        if scope["method"] in ("GET", "HEAD") and scope["path"] == HEALTH_PATH:
            await self._health(send)
        elif scope["method"] in ("GET", "HEAD") and scope["path"] == METRICS_PATH:
            text, content_type = await self._off_loop(self.bot.deps.metrics.exposition)
            await respond(send, 200, text, content_type)
        else:
            await self.slack(scope, receive, send)

    async def _health(self, send: Send) -> None:
        deps = self.bot.deps
        report = await self._off_loop(health.check, deps.answerer, deps.settings.database_url)
        if not report.ok:
            log_event(log, "http.unhealthy", logging.WARNING, problems=list(report.problems))
        body = json.dumps(report.to_json(), ensure_ascii=False).encode("utf-8")
        await respond(send, 200 if report.ok else 503, body, "application/json; charset=utf-8")

    async def _off_loop(self, fn: Callable, *args):
        """SQLite reads (health, the outbox gauge) must not stall the loop every request shares."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, fn, *args)


# -- the uvicorn side ------------------------------------------------------------------------

@dataclass(frozen=True)
class RequestHead:
    method: str
    path: str
    headers: dict[str, str]


def read_head(raw: bytes) -> RequestHead | None:
    """The request line and headers of a head h11 refused, read leniently (None: not HTTP)."""
    head = raw.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    first, *lines = head.split("\r\n")
    parts = first.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        return None
    headers = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if colon:
            headers[name.strip().lower()] = value.strip()
    return RequestHead(parts[0], parts[1].split("?", 1)[0], headers)


class SlackH11Protocol(H11Protocol):
    """uvicorn's HTTP/1.1 protocol, with the intake's answers where h11 would give its own.

    - A head h11 refuses (Content-Length `abc`, `-5`, `1e3`): an unsigned request is still 401
      and a bad length 400 `bad_length`, logged as `http.refused`, as the middleware would.
    - A client that ends its side (half-close) with the body shorter than announced: the
      body ends there, and the middleware answers 400 `incomplete` on the write side that is
      still open (uvicorn would drop the connection without an answer).
    - A client that has not sent one whole request `read_timeout` seconds after its first
      byte (a stalled head or body: one slow client per connection would otherwise hold it for
      ever; uvicorn only times out idle keep-alive connections) is disconnected, logged as
      `http.read_timeout`.
    """

    read_timeout: float = 10.0  # seconds; SlackHttpServer sets it from Settings.http_read_timeout

    def connection_made(self, transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head = bytearray()
        self._read_deadline: asyncio.TimerHandle | None = None

    def data_received(self, data: bytes) -> None:
        if self.cycle is None or self.cycle.response_complete:  # the bytes of the next request's head
            self._head += data[: max(0, HEAD_LIMIT - len(self._head))]
            if self._read_deadline is None:
                self._read_deadline = self.loop.call_later(self.read_timeout, self._read_timed_out)
        super().data_received(data)
        if self._request_read():
            self._cancel_read_deadline()

    def _request_read(self) -> bool:
        """The current request has arrived whole (its response may still be on its way)."""
        cycle = self.cycle
        return cycle is not None and not cycle.response_complete and not cycle.more_body

    def _read_timed_out(self) -> None:
        self._read_deadline = None
        if self._request_read() or self.transport.is_closing():
            return
        log_event(log, "http.read_timeout", logging.WARNING, seconds=self.read_timeout,
                  stage="head" if self.cycle is None or self.cycle.response_complete else "body",
                  bytes=len(self._head))
        self.transport.close()

    def _cancel_read_deadline(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None

    def on_response_complete(self) -> None:
        self._head = bytearray()
        self._cancel_read_deadline()
        super().on_response_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_read_deadline()
        super().connection_lost(exc)

    def send_400_response(self, msg: str) -> None:
        head = read_head(bytes(self._head))
        checked = (intake.check_headers(head.headers)
                   if head and head.method == "POST" and head.path == EVENTS_PATH else None)
        if not isinstance(checked, intake.Refusal):
            log_event(log, "http.protocol_error", logging.WARNING, bytes=len(self._head))
            super().send_400_response(msg)
            return
        log_refusal(checked, head.headers, 0)
        headers = [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(checked.body)).encode()),
                   (b"connection", b"close")]
        self.transport.write(self.conn.send(h11.Response(status_code=checked.status, headers=headers,
                                                         reason=STATUS_PHRASES[checked.status])))
        self.transport.write(self.conn.send(h11.Data(data=checked.body)))
        self.transport.write(self.conn.send(h11.EndOfMessage()))
        self.transport.close()

    def eof_received(self) -> bool | None:
        cycle = self.cycle
        if cycle is None or cycle.response_complete:
            return None  # between requests: close, as uvicorn does
        cycle.keep_alive = False  # answer this request, then close
        if cycle.more_body:
            cycle.more_body = False  # the body ends here, shorter than announced
            cycle.message_event.set()
        return True  # keep the write side open for the answer


# uvicorn's messages (its format strings) → our event and level; None: our own line says it better.
_UVICORN_EVENTS: dict[str, tuple[str, int] | None] = {
    "Started server process [%d]": ("http.server_started", logging.DEBUG),
    "Finished server process [%d]": ("http.server_finished", logging.DEBUG),
    "Shutting down": ("http.shutting_down", logging.DEBUG),
    "Waiting for connections to close. (CTRL+C to force quit)": ("http.draining", logging.INFO),
    "Waiting for background tasks to complete. (CTRL+C to force quit)": ("http.draining", logging.INFO),
    "Invalid HTTP request received.": None,  # SlackH11Protocol logs http.refused or http.protocol_error
    "Exception in ASGI application\n": ("http.error", logging.ERROR),
}


class _UvicornLogBridge(logging.Filter):
    """uvicorn's own lines become our JSON events on `bot.http` (and are not written twice)."""

    def filter(self, record: logging.LogRecord) -> bool:
        other = ("http.server", record.levelno)  # a line not in the table keeps its level, its text as `detail`
        mapped = _UVICORN_EVENTS.get(record.msg, other) if isinstance(record.msg, str) else other
        if mapped is not None and log.isEnabledFor(mapped[1]):
            event, level = mapped
            error = record.exc_info[1] if record.exc_info else None
            fields = {"detail": _message(record)} if event == "http.server" else {}
            if error is not None:
                fields["error_type"] = type(error).__name__
            log_event(log, event, level, exc_info=error or False, **fields)
        return False


def _message(record: logging.LogRecord) -> str:
    try:
        return record.getMessage()
    except Exception:  # a format string that does not fit its args: the raw text, not a crash in uvicorn
        return str(record.msg)


def _bridge_uvicorn_logs() -> None:
    if not any(isinstance(f, _UvicornLogBridge) for f in _uvicorn_log.filters):
        _uvicorn_log.addFilter(_UvicornLogBridge())


class _Server(uvicorn.Server):
    """uvicorn's server, telling the thread that started it when it accepts requests, and
    stopping as soon as it is told to and its connections allow.

    uvicorn notices `should_exit` at its next 0.1 s tick, then pauses 0.1 s after asking the
    connections to close and polls them every 0.1 s: about 0.25 s per stop even when nothing
    is in flight. Here `request_exit` wakes the main loop at once and the drain polls every
    DRAIN_POLL_S; what is waited for (requests in flight, up to the graceful timeout) and
    what is logged are uvicorn's.
    """

    def __init__(self, config: uvicorn.Config):
        super().__init__(config)
        self.ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._wake: asyncio.Event | None = None

    async def startup(self, sockets=None) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        await super().startup(sockets=sockets)
        self.ready.set()

    def request_exit(self) -> None:
        """From any thread: stop accepting and drain now, not at the next tick."""
        self.should_exit = True
        if self._loop is not None and self._wake is not None:
            with contextlib.suppress(RuntimeError):  # the loop has already ended: nothing to wake
                self._loop.call_soon_threadsafe(self._wake.set)

    async def main_loop(self) -> None:
        """uvicorn's loop (a tick every 0.1 s keeps its Date header fresh), woken early by `request_exit`."""
        counter = 0
        should_exit = await self.on_tick(counter)
        while not should_exit:
            counter = (counter + 1) % 864000
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._wake.wait(), TICK_S)
            should_exit = await self.on_tick(counter)

    async def shutdown(self, sockets=None) -> None:
        """uvicorn's shutdown (same steps, same log lines), polling every DRAIN_POLL_S instead of 0.1 s."""
        _uvicorn_log.info("Shutting down")
        for server in self.servers:
            server.close()
        for sock in sockets or []:
            sock.close()
        for connection in list(self.server_state.connections):
            connection.shutdown()
        await asyncio.sleep(DRAIN_POLL_S)  # idle keep-alive connections close here, in-flight ones remain
        try:
            await asyncio.wait_for(self._drain(), timeout=self.config.timeout_graceful_shutdown)
        except asyncio.TimeoutError:
            _uvicorn_log.error("Cancel %s running task(s), timeout graceful shutdown exceeded",
                               len(self.server_state.tasks))
            for task in self.server_state.tasks:
                task.cancel(msg="Task cancelled, timeout graceful shutdown exceeded")
        if not self.force_exit:
            await self.lifespan.shutdown()

    async def _drain(self) -> None:
        state = self.server_state
        if state.connections and not self.force_exit:
            _uvicorn_log.info("Waiting for connections to close. (CTRL+C to force quit)")
            while state.connections and not self.force_exit:
                await asyncio.sleep(DRAIN_POLL_S)
        if state.tasks and not self.force_exit:
            _uvicorn_log.info("Waiting for background tasks to complete. (CTRL+C to force quit)")
            while state.tasks and not self.force_exit:
                await asyncio.sleep(DRAIN_POLL_S)
        for server in self.servers:
            await server.wait_closed()


class SlackHttpServer:
    """The bot's HTTP surface on uvicorn, in a thread of its own; port 0 picks a free port.

    The socket is bound here, in the caller's thread: a port in use is an OSError at once
    (not a SystemExit inside uvicorn's thread), and `port` is known before `start()`.
    """

    def __init__(self, bot: "SlackBot", host: str = "0.0.0.0", port: int = 3000):
        self.bot = bot
        self.executor = ThreadPoolExecutor(max_workers=DISPATCH_WORKERS, thread_name_prefix="policybot-http")
        outbox = bot.deps.handoff.outbox  # the app's own outbox, in its one database
        bot.deps.metrics.watch_outbox(lambda: outbox.counts()[PENDING])
        _bridge_uvicorn_logs()
        # this server's read deadline, on a protocol class of its own (uvicorn builds one per connection)
        protocol = type("SlackH11Protocol", (SlackH11Protocol,), {"read_timeout": bot.deps.settings.http_read_timeout})
        config = uvicorn.Config(PolicybotAsgi(bot, self.executor), http=protocol, ws="none", lifespan="off",
                                loop="asyncio", access_log=False, log_config=None, server_header=False,
                                timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S)
        self._server = _Server(config)
        self._thread: threading.Thread | None = None
        self.socket = socket.create_server((host, port), backlog=LISTEN_BACKLOG)  # last: nothing to undo if it fails

    @property
    def port(self) -> int:
        return self.socket.getsockname()[1]

    @property
    def base_url(self) -> str:
        host = self.socket.getsockname()[0]
        return f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{self.port}"

    @property
    def url(self) -> str:
        return self.base_url + EVENTS_PATH

    def start(self) -> "SlackHttpServer":
        """Serve in a background thread; returns once requests are accepted."""
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self.socket]},
                                        name="policybot-uvicorn", daemon=True)
        self._thread.start()
        if not self._server.ready.wait(START_TIMEOUT_S):
            raise RuntimeError("the HTTP server did not start")
        return self

    def stop(self) -> None:
        """Stop accepting, let requests in flight finish (up to GRACEFUL_SHUTDOWN_S), close."""
        self._server.request_exit()
        if self._thread:
            self._thread.join(timeout=GRACEFUL_SHUTDOWN_S + 5)
        self.socket.close()
        self.executor.shutdown(wait=True)
