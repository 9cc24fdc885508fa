"""Slack's assistant panel (Agents & AI Apps), with slack_bolt's `Assistant`.

A thread starts: a greeting and suggested prompts (the policy's own article titles, then the
questions several employees have asked; never one person's text). A question: the status
「条文を確認しています…」 while it is answered, the thread titled by its first question, the
answer with the same citations, contact and buttons as everywhere, read with the asker's
earlier questions of that thread. In an app with the panel enabled every DM thread is an
assistant thread, so this also serves replies in DM threads.
"""
from __future__ import annotations

from slack_bolt import App, Assistant

from bot.listeners.common import (CONVERSATION_SURFACES, call_slack, claim_message, reply_in_conversation,
                                  retry_num, started_watch)
from bot.listeners.deps import AppDeps
from bot.logging_setup import log_event
from bot.slack_text import question_from_slack
from bot.text import t

SURFACE = "assistant"
EVENTS = ("assistant_thread_started", "assistant_thread_context_changed")
STATUS = t("assistant.status", "ja")
TITLE_LIMIT = 60
MAX_PROMPTS = 4  # Slack shows up to four suggested prompts
# A question becomes a suggested prompt only when this many different people asked it as is.
POPULAR_MIN_ASKERS = 3
GREETING = f"{t('assistant.greeting', 'ja')}\n{t('assistant.greeting', 'en')}"


def suggested_prompts(deps: AppDeps) -> list[dict[str, str]]:
    """Frequent questions first (asked verbatim by several people: no one's personal text),
    then the policy's article titles."""
    prompts = [{"title": q[:TITLE_LIMIT], "message": q}
               for q in deps.store.popular_questions(POPULAR_MIN_ASKERS, MAX_PROMPTS)]
    titles = dict.fromkeys(c.title for c in deps.answerer.searcher.clauses if c.title)
    for title in titles:
        question = t("assistant.prompt", "ja", title=title)
        if all(p["message"] != question for p in prompts):
            prompts.append({"title": title, "message": question})
    return prompts[:MAX_PROMPTS]


def register(app: App, deps: AppDeps) -> None:
    assistant = Assistant(logger=deps.log)

    @assistant.thread_started
    def on_thread_started(event: dict, client) -> None:
        thread = event.get("assistant_thread") or {}
        channel, thread_ts = thread.get("channel_id"), thread.get("thread_ts")
        if not channel or not thread_ts:
            return
        call_slack(deps, "chat.postMessage", client.chat_postMessage, channel=channel, thread_ts=thread_ts,
                   text=GREETING)
        call_slack(deps, "assistant.threads.setSuggestedPrompts", client.assistant_threads_setSuggestedPrompts,
                   channel_id=channel, thread_ts=thread_ts, prompts=suggested_prompts(deps))
        log_event(deps.log, "slack.assistant_thread_started", user=thread.get("user_id"), channel=channel)

    @assistant.thread_context_changed
    def on_context_changed(event: dict) -> None:
        # The channel the user is looking at: not used (answers come from the policy alone).
        log_event(deps.log, "slack.assistant_context_changed")

    @assistant.user_message
    def on_user_message(body: dict, event: dict, context, client, request) -> None:
        watch = started_watch()
        retry = retry_num(request)
        if not claim_message(deps, body=body, event=event, bot_user_id=context.bot_user_id, surface=SURFACE,
                             retry=retry):
            return
        channel, thread_ts, user = event["channel"], event["thread_ts"], event.get("user")

        def answer() -> None:
            call_slack(deps, "assistant.threads.setStatus", client.assistant_threads_setStatus,
                       channel_id=channel, thread_ts=thread_ts, status=STATUS)
            if not deps.store.thread_questions(channel, thread_ts, user, CONVERSATION_SURFACES):
                title = question_from_slack(event.get("text"), context.bot_user_id).display[:TITLE_LIMIT]
                if title:
                    call_slack(deps, "assistant.threads.setTitle", client.assistant_threads_setTitle,
                               channel_id=channel, thread_ts=thread_ts, title=title)
            # Posting the reply clears the status (Slack's rule); no reaction in the panel.
            reply_in_conversation(deps, client, surface=SURFACE, text=event.get("text") or "",
                                  bot_user_id=context.bot_user_id, channel=channel, ts=event["ts"],
                                  thread_ts=thread_ts, user_id=user, retry=retry, watch=watch, reaction=False)

        deps.submit(answer, event="slack.reply", surface=SURFACE)

    app.assistant(assistant)
