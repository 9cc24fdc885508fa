"""manifest.yml and the app agree: every subscribed event, command and shortcut has a
listener (none is logged as unhandled), and every listener is declared in the manifest."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from slack_bolt.request import BoltRequest

from bot.slack_app import create_app

from .driver import APP_TOKEN, SlackSender

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"
# The scopes each surface needs (Slack's documentation of those events and methods).
# A mention may be a bare @policybot in a thread: the thread's first message is read with
# conversations.replies, which needs the history scope of each conversation type a mention comes from.
NEEDED_SCOPES = {"app_mention": {"app_mentions:read", "channels:history", "groups:history", "mpim:history"},
                 "message.im": {"im:history"}, "app_home_opened": set(),
                 "assistant_thread_started": {"assistant:write"}, "assistant_thread_context_changed": {"assistant:write"}}
ALWAYS_NEEDED = {"chat:write", "reactions:write"}


@pytest.fixture(scope="module")
def manifest() -> dict:
    return yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))


@pytest.fixture()
def socket_bot(slack_settings, answerer):
    bot = create_app(slack_settings.model_copy(update=dict(slack_app_token=APP_TOKEN)), answerer)
    yield bot
    bot.close()


def test_manifest_declares_exactly_what_the_listeners_handle(manifest, slack_bot):
    surfaces = slack_bot.surfaces
    settings, features = manifest["settings"], manifest["features"]
    assert sorted(settings["event_subscriptions"]["bot_events"]) == sorted(surfaces.bot_events)
    assert sorted(c["command"] for c in features["slash_commands"]) == sorted(surfaces.commands)
    assert sorted(s["callback_id"] for s in features["shortcuts"] if s["type"] == "message") == sorted(
        surfaces.message_shortcuts)
    assert all(s["type"] == "message" for s in features["shortcuts"])  # no global shortcut without a listener
    assert settings["interactivity"]["is_enabled"] is (bool(surfaces.action_ids) or bool(surfaces.message_shortcuts))
    assert features["app_home"]["home_tab_enabled"] is ("app_home_opened" in surfaces.bot_events)
    assert features["app_home"]["messages_tab_enabled"] is ("message.im" in surfaces.bot_events)
    assert ("assistant_view" in features) is ("assistant_thread_started" in surfaces.bot_events)


def test_manifest_grants_the_scopes_the_listeners_use(manifest, slack_bot):
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    needed = set(ALWAYS_NEEDED)
    for event in slack_bot.surfaces.bot_events:
        needed |= NEEDED_SCOPES[event]
    if slack_bot.surfaces.commands or slack_bot.surfaces.message_shortcuts:
        needed.add("commands")
    assert needed <= scopes, f"missing scopes: {sorted(needed - scopes)}"
    assert scopes - needed == set(), f"scopes nothing uses: {sorted(scopes - needed)}"


def test_every_manifest_surface_reaches_a_listener(manifest, socket_bot, slack_stub, slack_log):
    """Dispatch one payload per declared event/command/shortcut; a payload no listener matched
    is acked but logged as slack.unhandled, so a typo on either side fails here."""
    payloads = SlackSender("http://127.0.0.1:9/unused", slack_stub)
    requests = []
    for event in manifest["settings"]["event_subscriptions"]["bot_events"]:
        slack_type = event.split(".")[0]
        body = {"type": slack_type, "user": "U0ANYONE", "channel": "D0HOME", "tab": "messages",
                "channel_type": event.split(".")[1] if "." in event else "channel", "ts": payloads.new_ts(),
                "text": "", "bot_id": "B0IGNORED"}  # shaped to be ignored: routing is what is tested
        if slack_type.startswith("assistant_thread_"):  # Slack always sends the thread these are about
            body["assistant_thread"] = {"user_id": "U0ANYONE", "channel_id": "D0HOME", "thread_ts": body["ts"]}
        requests.append(("events_api", payloads.event_callback(body)))
    for command in manifest["features"]["slash_commands"]:
        requests.append(("slash_commands", {**payloads.command_fields(""), "command": command["command"]}))
    for shortcut in manifest["features"]["shortcuts"]:
        requests.append(("interactive", {**payloads.shortcut_payload(""), "callback_id": shortcut["callback_id"]}))
    for kind, payload in requests:
        response = socket_bot.app.dispatch(_bolt_request(kind, payload))
        assert response.status == 200, f"{kind} {payload.get('command') or payload.get('callback_id') or payload.get('event', {}).get('type')} → {response.status}"
    socket_bot.drain()
    assert slack_log.events("slack.unhandled") == []


def _bolt_request(kind: str, payload: dict) -> BoltRequest:
    """What slack_bolt's Socket Mode adapter builds from an envelope (`run_bolt_app`)."""
    return BoltRequest(mode="socket_mode", body=payload)


def test_an_undeclared_command_would_not_reach_a_listener(socket_bot, slack_stub, slack_log):
    """The check above can fail: a name the app does not handle is logged as unhandled."""
    payloads = SlackSender("http://127.0.0.1:9/unused", slack_stub)
    response = socket_bot.app.dispatch(_bolt_request("slash_commands", {**payloads.command_fields("x"),
                                                                        "command": "/policies"}))
    assert response.status == 200  # acked all the same: Slack must not retry it
    [line] = slack_log.events("slack.unhandled")
    assert (line["kind"], line["name"]) == ("slash_command", "/policies")
