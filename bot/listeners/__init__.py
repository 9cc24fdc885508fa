"""Slack listeners: one package per surface, one module per handler, each with `register(app, deps)`.

`register_all` wires them all and returns what was registered, so a test can hold it
against manifest.yml.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Callable, Iterable

from slack_bolt import App

from bot.listeners import actions, commands, events, middleware, shortcuts
from bot.listeners.deps import AppDeps

Registrar = Callable[[App, AppDeps], None]
# Listeners other parts own; registered when their module exists (module, what it handles).
OPTIONAL_REGISTRARS = (("bot.listeners.actions.forward", "forward_to_contact"),)


@dataclass(frozen=True)
class Surfaces:
    """What the app listens to, in manifest terms."""

    bot_events: tuple[str, ...]
    commands: tuple[str, ...]
    message_shortcuts: tuple[str, ...]
    action_ids: tuple[str, ...]
    optional: tuple[str, ...]  # modules from OPTIONAL_REGISTRARS that were found and registered


def register_all(app: App, deps: AppDeps, extra: Iterable[Registrar] = ()) -> Surfaces:
    middleware.register(app, deps)
    events.register(app, deps)
    commands.register(app, deps)
    shortcuts.register(app, deps)
    actions.register(app, deps)
    found = []
    for module_name, _ in OPTIONAL_REGISTRARS:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:  # the module exists but one of its imports is missing
                raise
            continue
        module.register(app, deps)
        found.append(module_name)
    for registrar in extra:
        registrar(app, deps)
    action_ids = actions.ACTION_IDS + tuple(action for module, action in OPTIONAL_REGISTRARS if module in found)
    return Surfaces(bot_events=events.BOT_EVENTS, commands=commands.COMMANDS,
                    message_shortcuts=shortcuts.MESSAGE_SHORTCUTS, action_ids=action_ids, optional=tuple(found))
