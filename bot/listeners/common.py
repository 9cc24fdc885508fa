"""The steps several surfaces share: which events to answer, answer+record, post, reply privately.

Handlers stay thin: they acknowledge, decide whether an event is theirs, and hand one of
these flows to the answer pool.
"""
from __future__ import annotations

import logging
import time
from typing import Callable, Iterable, Sequence

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.answer import Answer, REASON_EMPTY, REASON_TOO_LONG
from bot.listeners.deps import AppDeps
from bot.listeners.threads import thread_root
from bot.logging_setup import Stopwatch, log_event
from bot.slack_render.answer import answer_messages
from bot.slack_render.messages import Message
from bot.slack_render.notices import notice_message
from bot.slack_text import SlackQuestion, question_from_slack

WORKING_REACTION = "eyes"
# Answers that are turns of a conversation in a thread (a follow-up there is read with them);
# private answers (/policy, the shortcut) are not.
CONVERSATION_SURFACES = ("app_mention", "dm", "assistant")
# Message subtypes that are still a person talking; every other subtype (edits, deletions,
# joins, bot messages, topic changes …) is ignored.
_USER_SUBTYPES = frozenset({None, "file_share", "thread_broadcast"})


def ignore_reason(event: dict, bot_user_id: str | None) -> str | None:
    """Why this message/mention event must not be answered, or None to answer it."""
    if event.get("bot_id") or event.get("bot_profile"):
        return "bot"
    if event.get("subtype") not in _USER_SUBTYPES:
        return f"subtype:{event.get('subtype')}"
    if event.get("hidden"):
        return "edit"
    # A mention that carries `edited` is answered too (someone added a forgotten @policybot):
    # the channel+ts key in `event_keys` keeps a mention that was answered from being answered again.
    user = event.get("user")
    if not user:
        return "no_user"
    if bot_user_id and user == bot_user_id:
        return "self"
    if not event.get("channel") or not event.get("ts"):
        return "incomplete"
    return None


def event_keys(body: dict, event: dict) -> tuple[str, ...]:
    """Dedupe keys: the delivery (event id, same on Slack's retries) and the message itself
    (channel + ts, same when one message arrives as both app_mention and message)."""
    keys = []
    if body.get("event_id"):
        keys.append(f"event:{body['event_id']}")
    if event.get("channel") and event.get("ts"):
        keys.append(f"msg:{event['channel']}:{event['ts']}")
    return tuple(keys)


def claim_message(deps: AppDeps, *, body: dict, event: dict, bot_user_id: str | None, surface: str,
                  retry: int) -> bool:
    """True when this message event is ours to answer: not one to ignore, and not seen before
    (claimed now); otherwise one log line says why not."""
    reason = ignore_reason(event, bot_user_id)
    if reason:
        log_event(deps.log, "slack.ignored", surface=surface, why=reason, retry_num=retry)
        return False
    if not deps.store.claim(*event_keys(body, event)):
        log_event(deps.log, "slack.duplicate", surface=surface, event_id=body.get("event_id"), retry_num=retry)
        return False
    return True


def retry_num(request) -> int:
    """Slack's X-Slack-Retry-Num (0 for a first delivery); Bolt keeps header values as lists."""
    value = (getattr(request, "headers", None) or {}).get("x-slack-retry-num")
    if isinstance(value, (list, tuple)):
        value = value[0] if value else None
    try:
        return int(value or 0)
    except ValueError:
        return 0


def is_notice(answer: Answer) -> bool:
    return answer.reason in (REASON_EMPTY, REASON_TOO_LONG)


def answer_slack_question(deps: AppDeps, question: SlackQuestion, history: Sequence[str] = ()) -> Answer:
    """The answer to what a Slack message asks: its words are searched, and the answer carries
    the question as the user wrote it (shown back, stored, sent to the contact window)."""
    return deps.answerer.answer(question.display, search_text=question.retrieval, history=history)


def answer_and_record(deps: AppDeps, slack_text: str, *, bot_user_id: str | None, surface: str,
                      user_id: str | None, channel: str | None, thread_ts: str | None,
                      history: Sequence[str] = ()) -> tuple[Answer, str | None]:
    """Answer what `slack_text` (mrkdwn, as Slack delivered it) asks and log it; notices (empty,
    too long) get no id: nothing to act on. `history`: the earlier questions of its thread."""
    started = time.perf_counter()
    answer = answer_slack_question(deps, question_from_slack(slack_text, bot_user_id), history)
    deps.metrics.observe_answer(answer.status, answer.reason, time.perf_counter() - started)
    if is_notice(answer):
        return answer, None
    answer_id = deps.store.record_answer(answer, user_id=user_id, channel=channel, thread_ts=thread_ts,
                                         surface=surface, slack_text=slack_text,
                                         record=answer.record.to_dict() if answer.record else None)
    return answer, answer_id


def call_slack(deps: AppDeps, what: str, fn: Callable[..., object], **kwargs) -> bool:
    """One Web API call whose failure must not stop the flow (reactions); logs the error code."""
    try:
        fn(**kwargs)
        return True
    except SlackApiError as exc:
        log_event(deps.log, "slack.api_error", logging.WARNING, call=what, error=exc.response.get("error"),
                  http_status=exc.response.status_code)
    except OSError as exc:
        log_event(deps.log, "slack.api_error", logging.WARNING, call=what, error=type(exc).__name__)
    return False


def answer_fields(answer: Answer, answer_id: str | None) -> dict:
    return {"status": answer.status, "lang": answer.lang, "reason": answer.reason, "answer_id": answer_id,
            "citations": [c.id for c in answer.citations], "question_chars": len(answer.question),
            "follow_up": answer.context_question is not None}


def reply_in_conversation(deps: AppDeps, client: WebClient, *, surface: str, text: str, bot_user_id: str | None,
                          channel: str, ts: str, thread_ts: str | None, user_id: str | None, retry: int,
                          watch: Stopwatch, summon: bool = False, reaction: bool = True) -> None:
    """👀 on the question, answer it, post the answer (in `thread_ts` if set), remove 👀.

    `summon`: a message with no question of its own inside a thread (a bare @policybot under a
    pasted customer message) answers the thread's first message instead, quoting it.
    `reaction`: 👀 on the question while working (the assistant panel shows a status instead).
    Runs on the answer pool. Whatever fails, the user gets a reply (a generic apology,
    never the exception text) and the log gets one line.
    """
    watch.lap("queue")
    if reaction:
        call_slack(deps, "reactions.add", client.reactions_add, channel=channel, timestamp=ts, name=WORKING_REACTION)
    fields: dict = {"surface": surface, "user": user_id, "channel": channel, "retry_num": retry}
    try:
        echo = None
        if summon and thread_ts and thread_ts != ts and not question_from_slack(text, bot_user_id).retrieval:
            root = thread_root(deps, client, channel=channel, thread_ts=thread_ts, bot_user_id=bot_user_id)
            if root:
                text, echo = root, question_from_slack(root, bot_user_id).display
                fields["summoned"] = True
        # A message inside a thread is read with what its asker asked there before (our records).
        history = (deps.store.thread_questions(channel, thread_ts, user_id, CONVERSATION_SURFACES)
                   if thread_ts and user_id else [])
        answer, answer_id = answer_and_record(deps, text, bot_user_id=bot_user_id, surface=surface,
                                              user_id=user_id, channel=channel, thread_ts=thread_ts or ts,
                                              history=history)
        fields.update(answer_fields(answer, answer_id))
        watch.lap("answer")
        for message in answer_messages(answer, answer_id=answer_id, echo=echo):
            client.chat_postMessage(channel=channel, thread_ts=thread_ts, unfurl_links=False, unfurl_media=False,
                                    **message.kwargs())
        watch.lap("post")
        log_event(deps.log, "slack.reply", **fields, **watch.total())
    except Exception:
        log_event(deps.log, "slack.reply_failed", logging.ERROR, exc_info=True, **fields, **watch.total())
        lang = fields.get("lang", "ja")
        notice = notice_message("notice.error", lang)
        call_slack(deps, "chat.postMessage", client.chat_postMessage, channel=channel, thread_ts=thread_ts,
                   **notice.kwargs())
    finally:
        if reaction:
            call_slack(deps, "reactions.remove", client.reactions_remove, channel=channel, timestamp=ts,
                       name=WORKING_REACTION)


def send_private(deps: AppDeps, respond, client: WebClient, *, channel: str | None, user_id: str | None,
                 messages: Iterable[Message]) -> None:
    """Show messages only to `user_id`: through the response_url when Slack gave one (works in
    any conversation, even where the bot is not a member), else chat.postEphemeral."""
    for message in messages:
        if respond is not None and getattr(respond, "response_url", None):
            response = respond(response_type="ephemeral", replace_original=False, **message.kwargs())
            if getattr(response, "status_code", 200) != 200:
                raise RuntimeError(f"response_url answered HTTP {response.status_code}")
        else:
            client.chat_postEphemeral(channel=channel, user=user_id, **message.kwargs())


def started_watch() -> Stopwatch:
    """A stopwatch started now; the first lap ('queue') is the time spent waiting for a worker."""
    return Stopwatch(time.perf_counter())


def reply_privately(deps: AppDeps, respond, client: WebClient, *, surface: str, channel: str | None,
                    user_id: str | None, watch: Stopwatch,
                    produce: Callable[[], tuple[list[Message], dict]]) -> None:
    """Run `produce` (answer + render) and show its messages only to the user; on failure an
    apology instead (never the exception text). One log line either way."""
    watch.lap("queue")
    fields: dict = {"surface": surface, "user": user_id, "channel": channel}
    try:
        messages, more = produce()
        fields.update(more)
        watch.lap("answer")
        send_private(deps, respond, client, channel=channel, user_id=user_id, messages=messages)
        watch.lap("post")
        log_event(deps.log, f"slack.{surface}", **fields, **watch.total())
    except Exception:
        log_event(deps.log, f"slack.{surface}_failed", logging.ERROR, exc_info=True, **fields, **watch.total())
        try:
            send_private(deps, respond, client, channel=channel, user_id=user_id,
                         messages=[notice_message("notice.error", fields.get("lang", "ja"))])
        except Exception:
            log_event(deps.log, "slack.apology_failed", logging.ERROR, exc_info=True, surface=surface)
