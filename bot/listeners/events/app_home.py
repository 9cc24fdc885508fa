"""App Home tab: publish what the bot can do, with example questions, when a user opens it."""
from __future__ import annotations

from slack_bolt import App

from bot.listeners.common import call_slack
from bot.listeners.deps import AppDeps
from bot.logging_setup import Stopwatch, log_event
from bot.slack_render.home import home_view

EVENT = "app_home_opened"


def handle_app_home_opened(deps: AppDeps, *, event: dict, client) -> None:
    if event.get("tab", "home") != "home" or not event.get("user"):
        return
    watch = Stopwatch()
    facts = deps.answerer.facts
    view = home_view(facts.company_name, facts.revision, deps.answerer.contact_email)
    ok = call_slack(deps, "views.publish", client.views_publish, user_id=event["user"], view=view)
    log_event(deps.log, "slack.home", user=event["user"], published=ok, **watch.total())


def register(app: App, deps: AppDeps) -> None:
    @app.event(EVENT)
    def on_app_home_opened(event, client):
        deps.submit(lambda: handle_app_home_opened(deps, event=event, client=client), event="slack.home")
