"""The server-sent events parser: any chunking gives the same events."""

import pytest

from stdlib.agents.sse import Event, SSEParser

STREAM = (b"\xef\xbb\xbf: keep-alive comment\r\n"
          b"data: {\"a\": 1}\r\n\r\n"
          b"event: update\nid: 7\nretry: 1500\ndata: line one\ndata: line two\n\n"
          b"data:no space\r\r"
          b"data: caf\xc3\xa9 \xe2\x82\xac\n\n"
          b"event: only-event-no-data\n\n"
          b"data\n\n"
          b"data: [DONE]\n\n")

EXPECTED = [
    Event("message", '{"a": 1}', None, None),
    Event("update", "line one\nline two", "7", 1500),
    Event("message", "no space", "7", 1500),
    Event("message", "caf\u00e9 \u20ac", "7", 1500),
    Event("message", "", "7", 1500),
    Event("message", "[DONE]", "7", 1500),
]


def parse(chunks):
    p = SSEParser()
    out = []
    for c in chunks:
        out += p.feed(c)
    return out + p.close()


def test_whole_stream():
    assert parse([STREAM]) == EXPECTED


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 64])
def test_every_chunking(size):
    chunks = [STREAM[i:i + size] for i in range(0, len(STREAM), size)]
    assert parse(chunks) == EXPECTED


def test_every_single_split_point():
    for i in range(len(STREAM) + 1):
        assert parse([STREAM[:i], STREAM[i:]]) == EXPECTED, i


def test_crlf_split_between_cr_and_lf_is_one_line_end():
    assert parse([b"data: a\r", b"\n\r", b"\ndata: b\n\n"]) == [
        Event("message", "a", None, None), Event("message", "b", None, None)]


def test_unterminated_last_event_is_dropped():
    assert parse([b"data: complete\n\ndata: cut off"]) == [Event("message", "complete", None, None)]


def test_endless_line_is_refused():
    p = SSEParser(max_line=100)
    with pytest.raises(ValueError, match="longer than 100"):
        p.feed(b"data: " + b"x" * 200)
