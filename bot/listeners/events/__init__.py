"""Events API listeners (app_mention, message.im, app_home_opened, the assistant panel's events)."""
from slack_bolt import App

from bot.listeners.deps import AppDeps
from bot.listeners.events import app_home, app_mention, assistant, message

# What the manifest must subscribe to for these listeners (bot events).
BOT_EVENTS = (app_mention.EVENT, message.MANIFEST_EVENT, app_home.EVENT, *assistant.EVENTS)


def register(app: App, deps: AppDeps) -> None:
    assistant.register(app, deps)  # middleware: takes the DM-thread messages before `message` sees them
    app_mention.register(app, deps)
    message.register(app, deps)
    app_home.register(app, deps)
