"""Structured logs: one JSON object a line, redacted before it is written.

Operators grep and ship these lines, so each event is one line with its fields and its
timings (`*_ms`). Every record passes `RedactFilter` on the handler, whatever logger it came
from (ours, Bolt's, slack_sdk's), so tokens, e-mail addresses and phone numbers in a message,
its arguments, its fields or its traceback never reach the stream.
"""
from __future__ import annotations

import json
import logging
import sys
import time
from datetime import datetime, timezone
from typing import IO, Any

from bot.redact import redact, redact_value

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}
_HANDLER_MARK = "_policybot_json_handler"
# `log_event` hands its fields over in this one record attribute, so that a field may have any
# name, also one LogRecord reserves (created, name, msg …), which `extra=` refuses with a KeyError.
_FIELDS_ATTR = "policybot_fields"
# The keys every JSON line has; a field of the same name is written as "field_<name>".
_LINE_KEYS = frozenset({"ts", "level", "logger", "event", "exc", "stack"})


class RedactFilter(logging.Filter):
    """Redacts a record in place: message (with its args), extra fields, traceback, stack."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a library's format string that does not fit its args: keep the raw text
            message = f"{record.msg} {record.args!r}"
        record.msg = redact(message)
        record.args = None
        for key, value in list(vars(record).items()):
            if key not in _STANDARD_ATTRS:
                setattr(record, key, redact_value(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """{"ts", "level", "logger", "event", …extra fields…, "exc"} on one line."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_") and key != _FIELDS_ATTR:
                line[key] = value
        for key, value in (getattr(record, _FIELDS_ATTR, None) or {}).items():
            line[f"field_{key}" if key in _LINE_KEYS else key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            line["exc"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        text = json.dumps(line, ensure_ascii=False, default=str)
        # A lone surrogate (from a JSON escape in a Slack payload) cannot be written as UTF-8.
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


class _OneLineErrors:
    """A record that cannot be written (a value that does not format, a closed stream) becomes
    one JSON line, not logging's multi-line '--- Logging error ---' traceback on stderr."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 (logging's naming)
        error = sys.exc_info()[1]
        try:
            line = {"ts": datetime.now(timezone.utc).isoformat(timespec="milliseconds"), "level": "error",
                    "logger": "bot.logging", "event": "log.unwritable", "record_logger": record.name,
                    "record_event": redact(str(record.msg)), "error_type": type(error).__name__}
            self.stream.write(json.dumps(line, ensure_ascii=True) + "\n")
            self.flush()
        except Exception:  # the stream itself is gone: nothing left to write to
            pass


class _StreamHandler(_OneLineErrors, logging.StreamHandler):
    pass


class _StderrHandler(_OneLineErrors, logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time of the write, not at configuration time:
    a replaced stderr (a test's capture, a daemon's redirect) that is later closed must not
    turn every log line into a 'Logging error'."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self):  # type: ignore[override]
        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:  # StreamHandler.__init__ assigns it; the property wins
        pass


def configure_logging(level: str | int = "INFO", stream: IO[str] | None = None) -> logging.Handler:
    """Route all logging through one redacting JSON handler on the root logger.

    Calling it again replaces the handler it installed before (tests, reloads), so lines are
    never written twice.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
    handler = _StreamHandler(stream) if stream is not None else _StderrHandler()
    setattr(handler, _HANDLER_MARK, True)
    handler.addFilter(RedactFilter())
    handler.setFormatter(JsonFormatter())
    root.addHandler(handler)
    root.setLevel(level if isinstance(level, int) else level.upper())
    # Bolt and slack_sdk log request bodies at DEBUG; keep them at INFO unless asked.
    for noisy in ("slack_bolt", "slack_sdk"):
        logging.getLogger(noisy).setLevel(max(root.level, logging.INFO))
    return handler


def log_event(logger: logging.Logger, event: str, level: int = logging.INFO, /, *,
              exc_info: bool | BaseException = False, **fields: Any) -> None:
    """One structured line: `event` is a dotted name (slack.reply), `fields` its data.

    Any field name is safe (`created`, `name`, `level`, `event` …): the fields travel in one
    record attribute, and a name the line itself uses is written as "field_<name>".
    """
    logger.log(level, event, exc_info=exc_info, extra={_FIELDS_ATTR: fields}, stacklevel=2)


class Stopwatch:
    """Millisecond laps for the one log line an event gets (queue_ms, answer_ms, post_ms …)."""

    def __init__(self, started: float | None = None):
        self.started = started if started is not None else time.perf_counter()
        self._last = self.started
        self.laps: dict[str, float] = {}

    def lap(self, name: str) -> float:
        now = time.perf_counter()
        self.laps[f"{name}_ms"] = round((now - self._last) * 1000, 1)
        self._last = now
        return self.laps[f"{name}_ms"]

    def total(self) -> dict[str, float]:
        return {**self.laps, "total_ms": round((time.perf_counter() - self.started) * 1000, 1)}
