"""Block actions (feedback buttons, share). `forward.py` (forward_to_contact) belongs to the
contact hand-off; `bot.listeners.register_all` registers it when it is present."""
from slack_bolt import App

from bot.listeners.actions import feedback, share
from bot.listeners.deps import AppDeps

ACTION_IDS = (*feedback.ACTION_IDS, share.ACTION_ID)


def register(app: App, deps: AppDeps) -> None:
    feedback.register(app, deps)
    share.register(app, deps)
