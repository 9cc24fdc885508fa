"""Slash commands (/policy)."""
from slack_bolt import App

from bot.listeners.commands import policy
from bot.listeners.deps import AppDeps

COMMANDS = (policy.COMMAND,)


def register(app: App, deps: AppDeps) -> None:
    policy.register(app, deps)
