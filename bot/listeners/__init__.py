"""Slack listeners: one package per surface, one module per handler, each with `register(app, deps)`.

`register_all` wires them all and returns what was registered, so a test can hold it
against manifest.yml.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

from slack_bolt import App

from bot.listeners import actions, commands, events, middleware, shortcuts
from bot.listeners.deps import AppDeps

Registrar = Callable[[App, AppDeps], None]


@dataclass(frozen=True)
class Surfaces:
    """What the app listens to, in manifest terms."""

    bot_events: tuple[str, ...]
    commands: tuple[str, ...]
    message_shortcuts: tuple[str, ...]
    action_ids: tuple[str, ...]


def register_all(app: App, deps: AppDeps, extra: Iterable[Registrar] = ()) -> Surfaces:
    middleware.register(app, deps)
    events.register(app, deps)
    commands.register(app, deps)
    shortcuts.register(app, deps)
    actions.register(app, deps)
    for registrar in extra:
        registrar(app, deps)
    return Surfaces(bot_events=events.BOT_EVENTS, commands=commands.COMMANDS,
                    message_shortcuts=shortcuts.MESSAGE_SHORTCUTS, action_ids=actions.ACTION_IDS)
