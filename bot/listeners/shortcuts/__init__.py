"""Shortcuts (message shortcut ask_policy)."""
from slack_bolt import App

from bot.listeners.deps import AppDeps
from bot.listeners.shortcuts import ask_policy

MESSAGE_SHORTCUTS = (ask_policy.CALLBACK_ID,)


def register(app: App, deps: AppDeps) -> None:
    ask_policy.register(app, deps)
