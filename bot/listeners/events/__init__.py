"""Events API listeners (app_mention, message.im, app_home_opened)."""
from slack_bolt import App

from bot.listeners.deps import AppDeps
from bot.listeners.events import app_home, app_mention, message

# What the manifest must subscribe to for these listeners (bot events).
BOT_EVENTS = (app_mention.EVENT, message.MANIFEST_EVENT, app_home.EVENT)


def register(app: App, deps: AppDeps) -> None:
    app_mention.register(app, deps)
    message.register(app, deps)
    app_home.register(app, deps)
