"""Streamed replies: deltas, tool-call fragments joined per index (and per id), usage."""

import pytest

from stdlib.agents.errors import ModelError
from stdlib.agents.stream import ReplyAccumulator, parse_arguments


def ch(delta=None, finish=None, usage=None, **extra):
    c = {"id": "x", "model": "m", "choices": [] if delta is None and finish is None else
         [{"index": 0, "delta": delta or {}, "finish_reason": finish}]}
    if usage:
        c["usage"] = {"prompt_tokens": usage[0], "completion_tokens": usage[1]}
    c.update(extra)
    return c


def tc(index, args=None, id=None, name=None):
    f = {"index": index, "function": {}}
    if id:
        f["id"] = id
    if name:
        f["function"]["name"] = name
    if args is not None:
        f["function"]["arguments"] = args
    return {"tool_calls": [f]}


def test_content_deltas_and_usage_in_last_chunk():
    acc = ReplyAccumulator()
    assert acc.add(ch({"role": "assistant", "content": "Hel"})) == [{"content": "Hel"}]
    assert acc.add(ch({"content": "lo"})) == [{"content": "lo"}]
    assert acc.add(ch(finish="stop")) == []
    assert acc.add(ch(usage=(12, 3))) == []
    r = acc.reply()
    assert (r["content"], r["finish_reason"], r["usage"]) == (
        "Hello", "stop", {"input_tokens": 12, "output_tokens": 3, "reported": True})


def test_split_fragments_join_per_index_even_interleaved():
    acc = ReplyAccumulator()
    deltas = []
    for c in [tc(0, '{"q":', "a", "search"), tc(1, "", "b", "fetch"), tc(1, '{"url": "x"}'),
              tc(0, ' "otp"}'), {"finish_reason": "tool_calls"}]:
        deltas += acc.add(ch(c) if "tool_calls" in c else ch(finish="tool_calls"))
    r = acc.reply()
    assert [(c["id"], c["name"], c["arguments"]) for c in r["tool_calls"]] == [
        ("a", "search", {"q": "otp"}), ("b", "fetch", {"url": "x"})]
    assert deltas[0] == {"tool_call": {"index": 0, "id": "a", "name": "search",
                                       "arguments": '{"q":'}}
    assert deltas[3] == {"tool_call": {"index": 0, "arguments": ' "otp"}'}}
    assert r["finish_reason"] == "tool_calls"


def test_servers_that_reuse_index_zero_are_told_apart_by_id():
    acc = ReplyAccumulator()
    for c in [tc(0, '{"n": ', "first", "count"), tc(0, "1}"), tc(0, '{"n": 2}', "second", "count")]:
        acc.add(ch(c))
    calls = acc.reply()["tool_calls"]
    assert [(c["id"], c["arguments"]) for c in calls] == [("first", {"n": 1}), ("second", {"n": 2})]


def test_error_in_the_middle_of_a_stream():
    acc = ReplyAccumulator()
    acc.add(ch({"content": "par"}))
    with pytest.raises(ModelError) as e:
        acc.add({"error": {"message": "overloaded", "code": "server_busy"}})
    assert e.value.reason[:2] == ("model_error", "stream_error")
    assert e.value.reason[2]["message"] == "overloaded"


def test_arguments_that_are_not_a_json_object():
    assert parse_arguments('{"a": 1}') == {"a": 1}
    assert parse_arguments("") == {}
    assert parse_arguments("{bad")[0] == "invalid_json"
    assert parse_arguments("[1]") == ("invalid_json", "arguments must be a JSON object")


def test_no_usage_reported_is_marked():
    acc = ReplyAccumulator()
    acc.add(ch({"content": "x"}, finish="stop"))
    assert acc.reply()["usage"]["reported"] is False
