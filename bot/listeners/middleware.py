"""Global middleware: what every payload passes before a listener sees it.

- Lone surrogates (a `\\ud83d` escape in the payload's JSON) become U+FFFD in every string of
  the payload, so answering, storing and logging it cannot fail on encoding.
- With SLACK_TEAM_ID / SLACK_APP_ID set, a payload that another workspace (or Enterprise
  Grid organization) or another app sent is acknowledged and ignored, with one log line:
  Slack must not retry it, and nobody there gets an answer.
"""
from __future__ import annotations

from typing import Any, Callable

from slack_bolt import App, BoltResponse

from bot.listeners.deps import AppDeps
from bot.logging_setup import log_event
from bot.slack_text import valid_unicode


def register(app: App, deps: AppDeps) -> None:
    @app.use
    def valid_text(body: dict, next: Callable[[], None]) -> None:  # noqa: A002 (Bolt's argument name)
        _replace_surrogates(body)
        return next()

    team_id, app_id = deps.settings.slack_team_id, deps.settings.slack_app_id
    if not team_id and not app_id:
        return

    @app.use
    def only_this_installation(body: dict, next: Callable[[], None]) -> BoltResponse | None:  # noqa: A002
        teams, apps = installation_ids(body)
        foreign_team = bool(team_id and teams and team_id not in teams)
        foreign_app = bool(app_id and apps and app_id not in apps)
        if not (foreign_team or foreign_app):
            return next()
        log_event(deps.log, "slack.foreign", **describe(body), team_ids=sorted(teams), app_ids=sorted(apps),
                  why="team" if foreign_team else "app")
        return BoltResponse(status=200, body="")


def describe(body: dict | None) -> dict:
    """What a payload is, for a log line: its kind and the name a listener would match on
    (event type, command, action id or callback id); never its text."""
    body = body if isinstance(body, dict) else {}
    event = body.get("event") if isinstance(body.get("event"), dict) else {}
    actions = body.get("actions") if isinstance(body.get("actions"), list) else []
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    name = (event.get("type") or body.get("command") or body.get("callback_id") or view.get("callback_id")
            or next((a.get("action_id") for a in actions if isinstance(a, dict)), None))
    kind = body.get("type") or ("slash_command" if body.get("command") else None)
    return {"kind": kind if isinstance(kind, str) else None, "name": name if isinstance(name, str) else None}


def installation_ids(body: dict) -> tuple[set[str], set[str]]:
    """The workspace / organization ids and the app ids a payload names as the installation it
    was sent to (not the sender's team: in a Slack Connect channel that is another company)."""
    teams: set[str] = set()
    for key in ("team_id", "enterprise_id", "context_team_id", "context_enterprise_id"):
        _add(teams, body.get(key))
    for key in ("team", "enterprise"):  # interactivity payloads: {"id": …}; some events: a plain id
        value = body.get(key)
        _add(teams, value.get("id") if isinstance(value, dict) else value)
    for authorization in body.get("authorizations") or ():
        if isinstance(authorization, dict):
            _add(teams, authorization.get("team_id"))
            _add(teams, authorization.get("enterprise_id"))
    view = body.get("view") if isinstance(body.get("view"), dict) else {}
    _add(teams, view.get("app_installed_team_id"))
    _add(teams, view.get("team_id"))
    apps: set[str] = set()
    _add(apps, body.get("api_app_id"))
    _add(apps, view.get("app_id"))
    return teams, apps


def _add(ids: set[str], value: Any) -> None:
    if isinstance(value, str) and value:
        ids.add(value)


def _replace_surrogates(value: Any) -> Any:
    """Every string inside `value` (dicts and lists are changed in place) as valid Unicode."""
    if isinstance(value, str):
        return valid_unicode(value)
    if isinstance(value, dict):
        for key in list(value):
            value[key] = _replace_surrogates(value[key])
    elif isinstance(value, list):
        value[:] = [_replace_surrogates(item) for item in value]
    return value
