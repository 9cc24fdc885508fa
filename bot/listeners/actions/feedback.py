"""👍/👎 under an answer: store the vote (question, clause ids, user) and thank the user privately."""
from __future__ import annotations

from slack_bolt import App

from bot.slack_render.ids import ACTION_FEEDBACK_DOWN, ACTION_FEEDBACK_UP
from bot.slack_render.notices import notice_message
from bot.listeners.common import reply_privately, started_watch
from bot.listeners.deps import AppDeps

ACTION_IDS = (ACTION_FEEDBACK_UP, ACTION_FEEDBACK_DOWN)


def handle_feedback(deps: AppDeps, *, body: dict, action: dict, respond, client) -> None:
    watch = started_watch()
    user_id = (body.get("user") or {}).get("id")
    channel = (body.get("channel") or {}).get("id") or (body.get("container") or {}).get("channel_id")
    vote = "up" if action.get("action_id") == ACTION_FEEDBACK_UP else "down"
    answer_id = action.get("value") or ""

    def produce():
        stored = deps.store.get_answer(answer_id)
        saved = deps.store.record_feedback(answer_id, user_id, vote) if stored and user_id else None
        lang = stored.lang if stored else "ja"
        key = ("notice.thanks_up" if vote == "up" else "notice.thanks_down") if saved else "notice.gone"
        return [notice_message(key, lang)], {"vote": vote, "answer_id": answer_id, "saved": bool(saved),
                                                    "lang": lang}

    deps.submit(lambda: reply_privately(deps, respond, client, surface="feedback", channel=channel, user_id=user_id,
                                        watch=watch, produce=produce), event="slack.feedback")


def register(app: App, deps: AppDeps) -> None:
    for action_id in ACTION_IDS:
        @app.action(action_id)
        def on_feedback(ack, body, action, respond, client):
            ack()
            handle_feedback(deps, body=body, action=action, respond=respond, client=client)
