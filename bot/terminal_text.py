"""Text in and out of the command line: whatever bytes arrive, valid text goes on.

Undecodable input must not end a run (`ask --json -` answers every line) nor reach the
answering core as lone surrogates (the mailto: builder cannot encode them), and every
answer must leave as one line of valid UTF-8.
"""
from __future__ import annotations

import json
from typing import IO, Iterator


def stdin_lines(stream: IO) -> Iterator[str]:
    r"""One question per line of `stream`, always valid text.

    Lines end at "\n" only (a stray "\r" inside a line does not split it; "\r\n" counts as one
    ending), a last line without a newline counts, and bytes that are not UTF-8 become U+FFFD:
    one JSON object per input line, whatever the input.
    """
    binary = getattr(stream, "buffer", None)
    for raw in binary if binary is not None else stream:
        if isinstance(raw, bytes):
            raw = raw.decode("utf-8", errors="replace")
        line = raw[:-1] if raw.endswith("\n") else raw
        yield valid_text(line[:-1] if line.endswith("\r") else line)


def valid_text(text: str) -> str:
    """`text` with no lone surrogates: argv carries undecodable bytes as surrogate escapes."""
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", errors="replace")
    except UnicodeEncodeError:  # a surrogate that is no escaped byte
        return text.encode("utf-8", errors="replace").decode("utf-8")


_LINE_BREAKING = {"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def json_line(data: dict) -> str:
    """One JSON object on one line, also for readers that split at Unicode line separators."""
    text = json.dumps(data, ensure_ascii=False)
    for char, escaped in _LINE_BREAKING.items():
        text = text.replace(char, escaped)
    return text
