"""The Slack bot: `create_app(settings, answerer)` builds it, `serve()` runs it.

Importing this module starts nothing. `create_app` wires Bolt to our listeners and state;
the caller chooses the transport: Socket Mode when SLACK_APP_TOKEN is set (no public URL
needed), otherwise HTTP on PORT at /slack/events (bot.http_server: uvicorn, which tests
start on port 0).

Slack's 3-second rule is kept by construction: Bolt acknowledges events before any
listener code runs, commands and actions call `ack()` first, and every answer is computed
afterwards on a separate pool (`AppDeps.work`).
"""
from __future__ import annotations

import logging
import signal
import sys
import threading
from dataclasses import dataclass
from typing import Iterable
from urllib.error import URLError

from slack_bolt import App, BoltResponse
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.error import BoltError, BoltUnhandledRequestError
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.answerer import Answerer
from bot.http_server import EVENTS_PATH, SlackHttpServer
from bot.listeners import Registrar, Surfaces, register_all
from bot.listeners.deps import AppDeps, TrackingExecutor
from bot.listeners.middleware import describe
from bot.logging_setup import configure_logging, log_event
from bot.metrics import BotMetrics
from bot.handoff.outbox import Outbox
from bot.handoff.service import HandoffService
from bot.handoff.smtp import SmtpConfigError
from bot.retention import RetentionWorker
from bot.services import handoff_service, smtp_sender
from bot.settings import Settings
from bot.slack_client import make_client
from bot.slack_store import SlackStore, StoreError

ANSWER_WORKERS = 4  # the model is CPU-bound: more workers than cores only add contention
LISTENER_WORKERS = 32  # Bolt's side: ack-and-enqueue only, so many cheap threads

log = logging.getLogger("bot.slack")

__all__ = ["AppDeps", "Registrar", "SlackBot", "SlackConfigError", "SlackHttpServer", "create_app", "make_client",
           "serve"]


class SlackConfigError(ValueError):
    """A setting needed to talk to Slack is missing; the message says which and where."""


@dataclass
class SlackBot:
    """A built app: the Bolt `app`, the shared `deps`, and what it listens to (`surfaces`)."""

    app: App
    deps: AppDeps
    surfaces: Surfaces
    owns_store: bool = True

    def http_server(self, host: str = "0.0.0.0", port: int | None = None) -> SlackHttpServer:
        """HTTP mode's server (not yet started: call `.start()`); the port is bound here."""
        return SlackHttpServer(self, host, self.deps.settings.port if port is None else port)

    def socket_mode_handler(self, app_token: str | None = None) -> SocketModeHandler:
        """The Socket Mode adapter (not yet connected: call `.connect()` or `.start()`)."""
        token = app_token or self.deps.settings.slack_app_token
        if not token:
            raise SlackConfigError("SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-…)")
        return SocketModeHandler(self.app, token, logger=logging.getLogger("bot.slack.socket"))

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait for answers still being computed or posted (tests, graceful shutdown)."""
        return self.deps.drain(timeout)

    def close(self, timeout: float = 30.0) -> None:
        self.drain(timeout)
        for hook in self.deps.on_close:
            hook()
        self.deps.work.shutdown(wait=True)
        self.deps.listeners.shutdown(wait=True)
        if self.owns_store:
            self.deps.store.close()


def create_app(settings: Settings, answerer: Answerer, *, db: SlackStore | None = None,
               client: WebClient | None = None, handoff: HandoffService | None = None,
               extra_registrars: Iterable[Registrar] = (), answer_workers: int = ANSWER_WORKERS,
               metrics: BotMetrics | None = None) -> SlackBot:
    """Build the Slack app and every service it uses, once, around an already loaded `answerer`
    (the model loads once per process); listeners get them through `AppDeps`.

    `db`: an open SlackStore to share (default: open `settings.database_url`, closed by `close()`).
    `client`: the Web API client (default: `bot.slack_client.make_client(settings)`).
    `handoff`: the contact-window hand-off (default: an outbox in the store's database, SMTP and
    backoff from `settings`; a bad SMTP_* value raises SmtpConfigError here, before anything is opened).
    `extra_registrars`: more `register(app, deps)` callables, run after ours.
    `metrics`: where answers are counted (default: a registry of this app's own).
    Calls Slack's auth.test once, so a wrong token fails here with a clear BoltError.
    """
    if not settings.slack_bot_token:
        raise SlackConfigError("SLACK_BOT_TOKEN is not set: copy the Bot User OAuth Token (xoxb-…) from the app's "
                               "OAuth & Permissions page into the environment")
    if not settings.slack_app_token and not settings.slack_signing_secret:
        raise SlackConfigError("SLACK_SIGNING_SECRET is not set: HTTP mode verifies every request with it (Basic "
                               "Information → App Credentials), or set SLACK_APP_TOKEN to use Socket Mode")
    sender = smtp_sender(settings) if handoff is None else None  # a bad SMTP_* value stops before any file opens
    store = db or SlackStore(settings.database_url)
    handoff = handoff or handoff_service(settings, Outbox(store.db), sender)  # the store's one database
    store.prune_events()
    deps = AppDeps(settings=settings, answerer=answerer, store=store, handoff=handoff,
                   work=TrackingExecutor(max_workers=answer_workers, thread_name_prefix="policybot-answer"),
                   listeners=TrackingExecutor(max_workers=LISTENER_WORKERS, thread_name_prefix="policybot-bolt"),
                   metrics=metrics or BotMetrics())
    client = client or make_client(settings)
    bolt_logger = logging.getLogger("bot.slack.bolt")
    if not any(isinstance(f, _QuietClientWarning) for f in bolt_logger.filters):
        bolt_logger.addFilter(_QuietClientWarning())
    try:
        app = App(
            name="policybot",
            token=None,  # it travels in `client` (see _QuietClientWarning)
            signing_secret=settings.slack_signing_secret or "",
            client=client,
            process_before_response=False,  # ack first; listeners go on after the response is sent
            listener_executor=deps.listeners,
            logger=bolt_logger,
            # Unhandled requests go to `on_error`, which acks them: a 404 makes Slack retry an event.
            raise_error_for_unhandled_request=True,
        )  # calls auth.test: a bad token or an unreachable API raises here
    except BaseException:
        deps.work.shutdown(wait=False)
        deps.listeners.shutdown(wait=False)
        if db is None:
            store.close()
        raise

    @app.error
    def on_error(error, body):
        if isinstance(error, BoltUnhandledRequestError):
            # An event we do not subscribe a listener to (or a button of an older version):
            # acknowledged, so Slack does not count it as a failed delivery and retry it.
            log_event(log, "slack.unhandled", **describe(body))
            return BoltResponse(status=200, body="")
        # A listener raised before its own handling: log it, redacted.
        log_event(log, "slack.listener_error", logging.ERROR, exc_info=error, **describe(body),
                  error_type=type(error).__name__)
        return None

    surfaces = register_all(app, deps, extra_registrars)
    retention = RetentionWorker(store, handoff.outbox, settings.retention_days).start()
    deps.on_close.append(retention.stop)
    return SlackBot(app=app, deps=deps, surfaces=surfaces, owns_store=db is None)


class _QuietClientWarning(logging.Filter):
    """Bolt reads SLACK_BOT_TOKEN from the environment even when it is given a client built
    with that very token, then warns that the client wins; that is intended here."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "As you gave `client` as well" not in record.getMessage()


# -- policybot serve -----------------------------------------------------------------------

def serve(settings: Settings, answerer: Answerer, *, stop: threading.Event | None = None,
          metrics: BotMetrics | None = None) -> int:
    """Run the bot until SIGINT/SIGTERM (or `stop` is set); returns the process exit code.

    On a signal, HTTP mode stops accepting, finishes the requests in flight, and then every
    answer still being computed or posted is finished (`SlackBot.close` drains) before exit.

    Configuration and connection problems print one line to stderr and return non-zero.
    """
    configure_logging()
    try:
        bot = create_app(settings, answerer, metrics=metrics)
    except (SlackConfigError, StoreError, SmtpConfigError) as exc:
        print(f"policybot serve: {exc}", file=sys.stderr)
        return 2
    except BoltError as exc:
        print(f"policybot serve: Slack rejected SLACK_BOT_TOKEN ({_slack_error(exc)}). Check the token, or that "
              "the app is installed in the workspace.", file=sys.stderr)
        return 1
    except (URLError, OSError) as exc:
        print(f"policybot serve: cannot reach Slack's Web API ({type(exc).__name__}). Check the network or "
              "SLACK_API_URL.", file=sys.stderr)
        return 1
    stop = stop or threading.Event()
    previous = _stop_on_signals(stop)
    mode = "socket" if settings.slack_app_token else "http"
    try:
        if mode == "socket":
            handler = bot.socket_mode_handler()
            try:
                handler.connect()
            except SlackApiError as exc:
                print(f"policybot serve: Slack rejected SLACK_APP_TOKEN ({exc.response.get('error')}). It must be an "
                      "app-level token (xapp-…) with the connections:write scope.", file=sys.stderr)
                return 1
            log_event(log, "slack.started", mode=mode)
            stop.wait()
            handler.close()
        else:
            try:
                server = bot.http_server(port=settings.port)
            except (OSError, OverflowError) as exc:
                why = getattr(exc, "strerror", None) or "not a port number"
                print(f"policybot serve: cannot listen on port {settings.port} ({why}). Set PORT to a "
                      "free port.", file=sys.stderr)
                return 1
            server.start()
            log_event(log, "slack.started", mode=mode, port=server.port, path=EVENTS_PATH)
            stop.wait()
            server.stop()
    finally:
        log_event(log, "slack.stopping", mode=mode)
        bot.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


def _slack_error(exc: BoltError) -> str:
    text = str(exc)
    for code in ("invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired"):
        if code in text:
            return code
    return "auth.test failed"


def _stop_on_signals(stop: threading.Event) -> dict:
    """SIGINT/SIGTERM set `stop` (a clean shutdown); returns the handlers to put back."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, lambda *_: stop.set())
    return previous

