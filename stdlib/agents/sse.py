"""Server-sent events: bytes in, events out, in any chunking.

What this module owns: the event-stream format of the HTML standard, the
way streaming model APIs use it. A stream is lines (ended by CRLF, LF or
CR); `data:` lines accumulate, joined by newlines; `event:` names the
event, `id:` and `retry:` are recorded; a line starting with `:` is a
comment (servers send them as keep-alives); an empty line dispatches the
event. A field name without a colon has an empty value; one space after
the colon is dropped. A UTF-8 byte-order mark at the very start is skipped.

    parser = SSEParser()
    for chunk in chunks:                    # bytes, split anywhere
        for event in parser.feed(chunk):    # Event(event, data, id, retry)
            ...
    parser.close()                          # what an unterminated last event held

Bytes may be split anywhere, even inside a multi-byte character or between
the CR and LF of one line ending; the parser keeps what it has not been
able to finish. One line longer than `max_line` bytes is refused with
`ValueError`, so a server that never ends a line cannot exhaust memory.

What it refuses: what the events mean (stream.py turns OpenAI's chunks
into deltas) and reconnection (a model stream is not resumed).
"""

from __future__ import annotations

import codecs
from typing import NamedTuple

__all__ = ["Event", "SSEParser"]


class Event(NamedTuple):
    event: str
    data: str
    id: str | None
    retry: int | None


class SSEParser:
    def __init__(self, max_line: int = 4 << 20):
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._text = ""           # decoded, not yet split into lines
        self._cr_pending = False  # the last char seen was CR: a following LF belongs to it
        self._started = False
        self._data: list[str] = []
        self._event = ""
        self._has_field = False
        self.last_id: str | None = None
        self.retry: int | None = None
        self.max_line = max_line

    def feed(self, chunk: bytes) -> list[Event]:
        """Parse `chunk`; returns the events it completed, in order."""
        return self._lines(self._decoder.decode(chunk))

    def close(self) -> list[Event]:
        """End of stream: an event without its closing blank line is dropped, as
        the standard says; returns [] (or what the final bytes completed)."""
        events = self._lines(self._decoder.decode(b"", final=True))
        self._text = ""
        self._data, self._event, self._has_field = [], "", False
        return events

    def _lines(self, text: str) -> list[Event]:
        if not text:
            return []
        if not self._started:
            self._started = True
            if text.startswith("\ufeff"):
                text = text[1:]
        if self._cr_pending and text.startswith("\n"):
            text = text[1:]
        self._cr_pending = False
        buf = self._text + text
        events = []
        start = 0
        n = len(buf)
        while start < n:
            cr = buf.find("\r", start)
            lf = buf.find("\n", start)
            if cr < 0 and lf < 0:
                break
            end = lf if cr < 0 else cr if lf < 0 else min(cr, lf)
            line = buf[start:end]
            if buf[end] == "\r":
                if end + 1 < n:
                    start = end + 2 if buf[end + 1] == "\n" else end + 1
                else:
                    start = end + 1
                    self._cr_pending = True  # an LF may come in the next chunk
            else:
                start = end + 1
            ev = self._line(line)
            if ev is not None:
                events.append(ev)
        self._text = buf[start:]
        if len(self._text) > self.max_line:
            raise ValueError(f"server-sent event line longer than {self.max_line} bytes")
        return events

    def _line(self, line: str):
        if not line:
            return self._dispatch()
        if line[0] == ":":
            return None  # a comment (keep-alive)
        name, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if name == "data":
            self._data.append(value)
            self._has_field = True
        elif name == "event":
            self._event = value
            self._has_field = True
        elif name == "id":
            if "\0" not in value:
                self.last_id = value
        elif name == "retry" and value.isdigit():
            self.retry = int(value)
        return None

    def _dispatch(self):
        if not self._has_field or not self._data:
            self._data, self._event, self._has_field = [], "", False
            return None
        ev = Event(self._event or "message", "\n".join(self._data), self.last_id, self.retry)
        self._data, self._event, self._has_field = [], "", False
        return ev
