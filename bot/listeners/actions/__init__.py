"""Block actions: feedback buttons, share, and forward to the contact window (with its modal)."""
from slack_bolt import App

from bot.listeners.actions import feedback, forward, share
from bot.listeners.deps import AppDeps

ACTION_IDS = (*feedback.ACTION_IDS, share.ACTION_ID, forward.ACTION_ID)


def register(app: App, deps: AppDeps) -> None:
    feedback.register(app, deps)
    share.register(app, deps)
    forward.register(app, deps)
