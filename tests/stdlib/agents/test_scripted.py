"""The scripted model, and model.complete's retries, deadlines and deltas, on the virtual clock."""

import logging

import pytest

import vm
from stdlib import agents
from stdlib.agents import failure, reply, scripted_model, tool_call, tool_call_step
from stdlib.agents import model as model_mod
from vm.testing import drain, run

HI = {"messages": [{"role": "user", "content": "hi"}]}


def test_steps_play_in_order_with_latency_and_usage():
    m = scripted_model(["first", reply("second", latency=2.5, usage=(40, 9))])

    def main():
        t0 = vm.monotonic()
        a = agents.complete(m, HI)
        b = agents.complete(m, HI)
        return a, b, vm.monotonic() - t0

    a, b, took = run(main)
    assert a["content"] == "first" and a["finish_reason"] == "stop" and a["attempts"] == 1
    assert b["content"] == "second" and b["usage"]["input_tokens"] == 40
    assert b["usage"]["output_tokens"] == 9
    assert took == pytest.approx(2.5, abs=0.01)


def test_streamed_tool_call_fragments_arrive_as_deltas():
    m = scripted_model([tool_call_step([tool_call("search", {"query": "otp"}),
                                        tool_call("fetch", {"url": "u"})],
                                       content="Looking", chunk_size=5)])

    def main():
        r = agents.complete(m, HI, stream_to=vm.self(), tag="t1")
        return r, [d[2] for d in drain(("model_delta", "t1", vm.ANY))]

    r, deltas = run(main)
    assert [c["arguments"] for c in r["tool_calls"]] == [{"query": "otp"}, {"url": "u"}]
    assert r["content"] == "Looking"
    assert deltas[0] == {"content": "Looki"}
    joined = {}
    for d in deltas:
        if "tool_call" in d:
            joined[d["tool_call"]["index"]] = joined.get(d["tool_call"]["index"], "") + \
                d["tool_call"]["arguments"]
    assert joined == {0: '{"query": "otp"}', 1: '{"url": "u"}'}
    assert sum("tool_call" in d for d in deltas) > 2  # split into fragments


def test_rate_limited_failure_is_retried_after_retry_after():
    m = scripted_model([failure("rate_limited", status=429, retry_after=3.0), "done"])

    def main():
        t0 = vm.monotonic()
        r = agents.complete(m, HI)
        return r, vm.monotonic() - t0

    r, took = run(main)
    assert r["content"] == "done" and r["attempts"] == 2
    assert took == pytest.approx(3.0, abs=0.01)


def test_server_errors_back_off_and_give_up_after_max_retries():
    m = scripted_model([failure("server_error", status=500)] * 3 + ["never"], max_retries=2)

    def main():
        t0 = vm.monotonic()
        try:
            agents.complete(m, HI)
        except agents.ModelError as e:
            return e.reason, vm.monotonic() - t0

    reason, took = run(main, seed=3)
    assert reason[:2] == ("model_error", "server_error") and reason[2]["attempts"] == 3
    assert 0.75 * 1.5 <= took <= 1.5  # 0.5 s and 1 s, each jittered down by up to a quarter


def test_quota_is_not_retried():
    m = scripted_model([failure("insufficient_quota", "pay up", status=429,
                                code="insufficient_quota"), "never"])

    def main():
        with pytest.raises(agents.ModelError) as e:
            agents.complete(m, HI)
        return e.value.reason

    reason = run(main)
    assert reason == ("model_error", "insufficient_quota", {
        "message": "pay up", "retryable": False, "status": 429, "code": "insufficient_quota",
        "attempts": 1})


def test_deadline_cuts_a_slow_step():
    m = scripted_model([reply("slow", latency=10)])

    def main():
        t0 = vm.monotonic()
        with pytest.raises(agents.ModelError) as e:
            agents.complete(m, HI, deadline=vm.monotonic() + 4)
        return e.value.kind, vm.monotonic() - t0

    assert run(main) == ("deadline", pytest.approx(4.0, abs=0.01))


def test_a_retry_that_cannot_start_before_the_deadline_is_not_made():
    m = scripted_model([failure("rate_limited", retry_after=30.0), "late"])

    def main():
        with pytest.raises(agents.ModelError) as e:
            agents.complete(m, HI, deadline=vm.monotonic() + 5)
        return e.value.kind, vm.monotonic()

    kind, now = run(main)
    assert kind == "rate_limited" and now < 1


def test_exhausted_script_and_repeat_modes():
    def main():
        out = []
        for mode in ("error", "repeat_last", "cycle"):
            m = scripted_model(["a", "b"], when_exhausted=mode)
            got = []
            for _ in range(3):
                try:
                    got.append(agents.complete(m, HI)["content"])
                except agents.ModelError as e:
                    got.append(e.kind)
            out.append(got)
        return out

    assert run(main) == [["a", "b", "script"], ["a", "b", "b"], ["a", "b", "a"]]


def echo(request):
    return reply("echo: " + request["messages"][-1]["content"])


def test_function_steps_see_the_request_and_cursors_are_per_process():
    m = scripted_model([echo, "second"])

    def other():
        return agents.complete(m, {"messages": [{"role": "user", "content": "from other"}]})

    def main():
        mine = agents.complete(m, {"messages": [{"role": "user", "content": "from main"}]})
        pid, ref = vm.spawn_monitor(lambda me: vm.send(me, other()["content"]), vm.self())
        theirs = vm.receive(str)
        return mine["content"], theirs, agents.complete(m, HI)["content"]

    assert run(main) == ("echo: from main", "echo: from other", "second")


def test_bad_steps_and_requests_are_refused():
    with pytest.raises(vm.BadArg, match="step 0"):
        scripted_model([{"contnet": "typo"}])
    with pytest.raises(vm.BadArg, match="failure kind"):
        failure("oops")

    def main():
        with pytest.raises(vm.BadArg, match="unknown option 'max_token'"):
            agents.complete(scripted_model(["x"]), dict(HI, options={"max_token": 5}))
        with pytest.raises(vm.BadArg, match="messages"):
            agents.complete(scripted_model(["x"]), {"messages": []})
        return True

    assert run(main)


def test_default_model_is_scripted_without_an_endpoint_and_says_so_once(monkeypatch, caplog):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    monkeypatch.setattr(model_mod, "_told_scripted", False)
    with caplog.at_level(logging.WARNING, logger="beamlet.agents"):
        a = model_mod.default_model()
        b = model_mod.default_model()
    assert a["provider"] == b["provider"] == "scripted"
    assert [r.message for r in caplog.records].count(caplog.records[0].message) == 1
    assert "OPENAI_BASE_URL" in caplog.records[0].message

    def main():
        return agents.complete(a, HI)["content"]

    assert "You said: hi" in run(main)


def test_default_model_with_an_endpoint_is_openai(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("BEAMLET_MODEL", "my-model")
    monkeypatch.setenv("BEAMLET_PRICE_INPUT", "1.5")
    m = model_mod.default_model()
    assert (m["provider"], m["name"], m["base_url"], m["price"]) == (
        "openai", "my-model", "http://127.0.0.1:9/v1", {"input": 1.5, "output": 0.0})
