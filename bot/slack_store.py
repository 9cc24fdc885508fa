"""Stored state of the Slack bot: which events were handled, what was answered, how it was rated.

- `processed_events`: keys of events already taken (event id, channel+message ts). Kept on
  disk so that a Slack retry arriving after a restart is still recognised.
- `answers`: one row per answer shown, so buttons carry only a short id (Slack caps a
  button value at 2,000 characters) and later actions (share, feedback, forward to the
  contact window) see exactly what the user saw; a follow-up in a thread reads the earlier
  questions of that thread from here (`thread_questions`).
- `feedback`: 👍/👎 per answer and user, with the question and the clause ids.

Questions are stored as the logs see them (bot/redact.py: no e-mail addresses, phone numbers
or tokens), and rows go when they are older than the retention period (bot/retention.py) or
when an operator forgets a user (bot/storage/redaction.py; a file written before that rule
is redacted when it is first opened, bot/storage/migrations.py).

Tables, connections and the schema version are bot/storage's; this module maps the rows to
`StoredAnswer` and `Feedback` and back, each in one function.
"""
from __future__ import annotations

import dataclasses
import json
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, literal, or_, select
from sqlalchemy.exc import IntegrityError

from bot.answer import Answer, Citation, Contact
from bot.redact import redact
from bot.storage import DatabaseTarget, StorageError, open_database
from bot.storage.redaction import redacted_document
from bot.storage.schema import answers, feedback, processed_events
from bot.storage.statements import insertion_order, upsert

VOTES = ("up", "down")

StoreError = StorageError  # the name callers catch: a database that cannot be used


@dataclass(frozen=True)
class StoredAnswer:
    """A row of the `answers` log; `answer` is the full Answer as it was shown (None if absent),
    `record` the answer's complete typed record as a JSON document (None for older rows)."""

    id: str
    question: str
    lang: str
    status: str
    citation_ids: tuple[str, ...]
    user_id: str | None
    channel: str | None
    thread_ts: str | None
    created_at: float
    surface: str | None
    slack_text: str | None  # the question as Slack delivered it (for an escaped echo)
    answer: Answer | None
    record: dict | None = None


@dataclass(frozen=True)
class Feedback:
    answer_id: str
    question: str
    clause_ids: tuple[str, ...]
    user_id: str
    vote: str
    ts: float


# -- answers as JSON documents (the answer_json column) --------------------------------------

def answer_document(answer: Answer) -> dict[str, Any]:
    """What an Answer showed, as the facts it is rendered from (a JSON-ready dict; the CLI JSON
    object drops reason and company); how it was decided (`record`, bot/record.py) is kept apart,
    in its own column. No wording is stored: the lead and the mailto: draft are rendered again."""
    data = dataclasses.asdict(dataclasses.replace(answer, record=None))
    data.pop("record")
    return data


def answer_from_document(data: dict[str, Any]) -> Answer:
    """The Answer of a stored document. Documents written before the core stopped wording its
    answers also hold `lead` and `contact.mailto` (redacted): they are ignored and rendered again;
    their contact names the clauses an answer quoted (an escalation's: bot/listeners/stored.py)."""
    data = dict(data)
    data["citations"] = tuple(Citation(**c) for c in data.get("citations") or ())
    data["related"] = tuple(Citation(**c) for c in data.get("related") or ())
    data["contact"] = _contact(data["contact"], data["citations"]) if data.get("contact") else None
    known = {f.name for f in dataclasses.fields(Answer)}
    return Answer(**{k: v for k, v in data.items() if k in known})


def _contact(data: dict[str, Any], citations: tuple[Citation, ...]) -> Contact:
    labels = data.get("clause_labels")
    return Contact(email=data["email"], clause_labels=tuple(c.label for c in citations) if labels is None
                   else tuple(labels))


def answer_from_json(text: str) -> Answer:
    return answer_from_document(json.loads(text))


# -- rows ↔ records: the one place each record is mapped ------------------------------------

def _answer_row(answer_id: str, answer: Answer, *, user_id: str | None, channel: str | None,
                thread_ts: str | None, surface: str | None, slack_text: str | None,
                record: dict | None) -> dict[str, Any]:
    """The row for an answer about to be shown, redacted as the logs are."""
    document = redacted_document(answer_document(answer))
    return {"id": answer_id, "question": document["question"], "lang": answer.lang, "status": answer.status,
            "citation_ids": [c.id for c in answer.citations], "user_id": user_id, "channel": channel,
            "thread_ts": thread_ts, "created_at": time.time(), "surface": surface,
            "slack_text": redact(slack_text) if slack_text else slack_text,
            "answer_json": json.dumps(document, ensure_ascii=False, default=str),
            "record": redacted_document(record) if record is not None else None}


def _stored_answer(row: Any) -> StoredAnswer:
    values = dict(row._mapping)
    document = values.pop("answer_json")
    return StoredAnswer(**values, answer=answer_from_json(document) if document else None)


def _feedback(row: Any) -> Feedback:
    return Feedback(**row._mapping)


class SlackStore:
    """Thread-safe; open once per process (`SlackStore(path_or_url)`), `close()` at shutdown.

    Given an open `bot.storage.Database` instead, it shares that database (and its
    connections) with the other stores and leaves closing it to whoever opened it.
    """

    def __init__(self, target: DatabaseTarget):
        self.db, self._owns_db = open_database(target)
        self.path: Path | None = self.db.path

    def close(self) -> None:
        if self._owns_db:
            self.db.close()

    # -- dedupe ---------------------------------------------------------------------------
    def claim(self, *keys: str) -> bool:
        """True if none of `keys` was seen before (and now all are); False for a repeat.

        An event is claimed under several keys (its event id, its channel+ts) so that a retry
        and the same message arriving as both `app_mention` and `message` are both caught.
        """
        keys = tuple(dict.fromkeys(k for k in keys if k))
        if not keys:
            return True
        now = time.time()
        try:
            with self.db.write() as conn:
                seen = conn.execute(select(literal(1)).where(processed_events.c.key.in_(keys)).limit(1)).first()
                if seen is None:
                    conn.execute(insert(processed_events), [{"key": k, "created_at": now} for k in keys])
        except IntegrityError:  # another process claimed one of the keys in between (not SQLite: it serialises)
            return False
        return seen is None

    def prune_events(self, older_than_s: float = 3 * 24 * 3600) -> int:
        """Forget event keys older than Slack's retry window (it gives up within hours)."""
        with self.db.write() as conn:
            return conn.execute(delete(processed_events)
                                .where(processed_events.c.created_at < time.time() - older_than_s)).rowcount

    # -- answers --------------------------------------------------------------------------
    def record_answer(self, answer: Answer, *, user_id: str | None = None, channel: str | None = None,
                      thread_ts: str | None = None, surface: str | None = None, slack_text: str | None = None,
                      record: dict | None = None) -> str:
        """Log an answer that is about to be shown; returns its short id for button values.

        `slack_text`: the question as Slack delivered it, kept so a later echo (share) shows
        what the user wrote; `answer.question` is its plain form that was answered. Both are
        stored redacted, like the logs: a pasted e-mail address or phone number is not kept.
        `record`: the answer's complete typed record as a JSON document, kept so the buttons
        never run retrieval again; what people typed in it (question, history) is redacted.
        """
        answer_id = secrets.token_urlsafe(9)  # 12 characters, unguessable
        row = _answer_row(answer_id, answer, user_id=user_id, channel=channel, thread_ts=thread_ts,
                          surface=surface, slack_text=slack_text, record=record)
        with self.db.write() as conn:
            conn.execute(insert(answers).values(row))
        return answer_id

    def get_answer(self, answer_id: str) -> StoredAnswer | None:
        with self.db.read() as conn:
            row = conn.execute(select(answers).where(answers.c.id == answer_id)).first()
        return _stored_answer(row) if row is not None else None

    def thread_questions(self, channel: str, thread_ts: str, user_id: str, surfaces: tuple[str, ...],
                         limit: int = 10) -> list[str]:
        """The questions `user_id` asked in this thread and was answered on one of `surfaces`,
        oldest first (the last `limit`): the earlier turns of a follow-up. Only the asker's own,
        so one person's conversation never becomes another's context; read as stored."""
        if not surfaces:
            return []
        with self.db.read() as conn:
            newest_first = [c.desc() for c in (answers.c.created_at, *insertion_order(answers, conn.dialect))]
            rows = conn.execute(
                select(answers.c.question)
                .where(answers.c.channel == channel, answers.c.thread_ts == thread_ts,
                       answers.c.user_id == user_id, answers.c.surface.in_(surfaces))
                .order_by(*newest_first).limit(limit)).all()
        return [row.question for row in reversed(rows)]

    def popular_questions(self, min_askers: int, limit: int) -> list[str]:
        """Answered questions asked word for word by at least `min_askers` different people, most
        asked first: what employees ask most, and never one person's own text."""
        askers = func.count(answers.c.user_id.distinct())
        with self.db.read() as conn:
            rows = conn.execute(
                select(answers.c.question)
                .where(answers.c.status == "answered", answers.c.user_id.is_not(None))
                .group_by(answers.c.question).having(askers >= max(1, min_askers))
                .order_by(askers.desc(), func.max(answers.c.created_at).desc()).limit(limit)).all()
        return [row.question for row in rows]

    def count_answers(self) -> int:
        with self.db.read() as conn:
            return conn.execute(select(func.count()).select_from(answers)).scalar_one()

    # -- feedback -------------------------------------------------------------------------
    def record_feedback(self, answer_id: str, user_id: str, vote: str) -> Feedback | None:
        """Store (or change) a user's vote on an answer; None when the answer id is unknown."""
        if vote not in VOTES:
            raise ValueError(f"vote must be one of {VOTES}, not {vote!r}")
        stored = self.get_answer(answer_id)
        if stored is None:
            return None
        fb = Feedback(answer_id, stored.question, stored.citation_ids, user_id, vote, time.time())
        with self.db.write() as conn:
            upsert(conn, feedback, dataclasses.asdict(fb), keys=("answer_id", "user_id"), update_columns=("vote", "ts"))
        return fb

    def feedback(self, answer_id: str | None = None) -> list[Feedback]:
        query = select(feedback).order_by(feedback.c.ts)
        if answer_id is not None:
            query = query.where(feedback.c.answer_id == answer_id)
        with self.db.read() as conn:
            return [_feedback(row) for row in conn.execute(query)]

    # -- retention ------------------------------------------------------------------------
    def checkpoint(self) -> None:
        """Move the write-ahead log into the file and empty it: after a purge or a forget, the old
        versions of the rows must not linger in the -wal file."""
        self.db.checkpoint()

    def purge_before(self, cutoff: float) -> dict[str, int]:
        """Delete answers and feedback recorded before `cutoff` (unix time); counts per table."""
        with self.db.write() as conn:
            return {"answers": conn.execute(delete(answers).where(answers.c.created_at < cutoff)).rowcount,
                    "feedback": conn.execute(delete(feedback).where(feedback.c.ts < cutoff)).rowcount}

    def forget_user(self, user_id: str) -> dict[str, int]:
        """Delete every answer asked by `user_id`, every vote on those answers and every vote
        `user_id` gave. Event keys hold no user data (event ids, channel + timestamp)."""
        theirs = select(answers.c.id).where(answers.c.user_id == user_id)
        with self.db.write() as conn:
            votes = conn.execute(delete(feedback).where(
                or_(feedback.c.user_id == user_id, feedback.c.answer_id.in_(theirs)))).rowcount
            return {"answers": conn.execute(delete(answers).where(answers.c.user_id == user_id)).rowcount,
                    "feedback": votes}
