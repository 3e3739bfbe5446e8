"""The trace context rides on messages: send, call, cast, spawn, tasks, tools."""

import pytest

import vm
from stdlib import agents, gen_server, task
from stdlib.agents import tracing
from stdlib.agents.tracecontext import current
from vm import lowlevel
from vm.testing import run


class Echo(gen_server.GenServer):
    def init(self, arg):
        return ("ok", None)

    def handle_call(self, request, from_, state):
        if request == "span":  # answer from inside a span of its own
            with agents.span("server work"):
                return ("reply", agents.trace_context(), state)
        return ("reply", agents.trace_context(), state)

    def handle_cast(self, msg, state):
        vm.send(msg, ("cast saw", agents.trace_context()))
        return ("noreply", state)


def report_context(parent):
    vm.send(parent, ("spawned saw", agents.trace_context()))


def receive_and_report():
    msg = vm.receive()
    vm.send(msg, ("send saw", agents.trace_context()))


@agents.tool
def context_tool() -> str:
    """Say which trace context the tool runs in."""
    ctx = agents.trace_context()
    return "none" if ctx is None else f"{ctx['trace_id']} {ctx['span_id']}"


class Probe(agents.Agent):
    tools = [context_tool]


def probe_model():
    return agents.scripted_model([agents.tool_call_step(agents.tool_call("context_tool")),
                                  agents.reply("done")])


def test_the_context_crosses_send_call_cast_spawn_and_tasks():
    def main():
        _, srv = gen_server.start_link(Echo)
        listener = vm.spawn(receive_and_report)
        with agents.span("root") as s:
            mine = s.context
            vm.send(listener, vm.self())
            sent = vm.receive(("send saw", vm.ANY))[1]
            called = gen_server.call(srv, "which")
            gen_server.cast(srv, vm.self())
            cast = vm.receive(("cast saw", vm.ANY))[1]
            vm.spawn(report_context, vm.self())
            spawned = vm.receive(("spawned saw", vm.ANY))[1]
            t = task.async_(agents.trace_context)
            tasked = task.await_(t)
        after = agents.trace_context()
        return mine, [sent, called, cast, spawned, tasked], after

    mine, seen, after = run(main)
    assert all(ctx == mine for ctx in seen), seen
    assert after is None  # the span gave back the context it found (none)


def test_a_tool_runs_in_the_askers_trace_with_tracing_off_and_under_its_span_with_it_on():
    def main(on):
        if on:
            tracing.start()
        a = agents.start_link(Probe, {"model": probe_model()})
        with agents.span("ask") as s:
            agents.ask(a, "which context?")
        text = [m["content"] for m in agents.history(a) if m["role"] == "tool"][0]
        spans = tracing.spans() if on else []
        return s.context, text, spans

    ctx, text, spans = run(main, False)
    assert text == f"{ctx['trace_id']} {ctx['span_id']}"  # passed through untouched

    ctx, text, spans = run(main, True)
    trace_id, span_id = text.split()
    tool_span = next(x for x in spans if x["name"] == "execute_tool context_tool")
    assert trace_id == ctx["trace_id"] and span_id == tool_span["span_id"]


def test_nothing_is_traced_and_no_token_is_set_when_no_context_exists():
    def main():
        a = agents.start_link(Probe, {"model": probe_model()})
        agents.ask(a, "which context?")
        tool_text = [m["content"] for m in agents.history(a) if m["role"] == "tool"][0]
        return tool_text, lowlevel.trace_token(), tracing.spans()

    assert run(main) == ("none", None, [])


def test_spans_nest_restore_and_mark_errors():
    def main():
        tracing.start()
        with agents.span("outer", customer="acme") as outer:
            with agents.span("inner") as inner:
                pass
            with pytest.raises(ZeroDivisionError), agents.span("failing"):
                1 / 0  # noqa: B018 - the span must record a real exception
        tracing.flush()
        return outer.context, inner.context, {s["name"]: s for s in tracing.spans()}

    outer, inner, spans = run(main)
    assert spans["inner"]["parent_span_id"] == outer["span_id"]
    assert spans["failing"]["parent_span_id"] == outer["span_id"]
    assert spans["outer"]["parent_span_id"] is None
    assert spans["outer"]["attributes"]["customer"] == "acme"
    assert spans["failing"]["status"] == "error"
    assert spans["failing"]["attributes"]["error.type"] == "ZeroDivisionError"
    assert {s["trace_id"] for s in spans.values()} == {outer["trace_id"]}
    assert spans["outer"]["end_time_unix_nano"] >= spans["inner"]["end_time_unix_nano"]


def test_a_reply_sent_from_inside_a_peers_span_does_not_reparent_ours():
    def main():
        tracing.start()
        _, srv = gen_server.start_link(Echo)
        with agents.span("mine") as mine:
            peer = gen_server.call(srv, "span")  # the reply carries the peer's span
            with agents.span("next"):
                pass
        tracing.flush()
        by_name = {s["name"]: s for s in tracing.spans()}
        return mine.context, peer, by_name

    mine, peer, spans = run(main)
    assert peer["trace_id"] == mine["trace_id"] and peer["span_id"] != mine["span_id"]
    assert spans["server work"]["parent_span_id"] == mine["span_id"]
    assert spans["next"]["parent_span_id"] == mine["span_id"]


def test_read_set_clear_and_traceparent():
    def main():
        assert agents.trace_context() is None and agents.traceparent() is None
        tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        agents.set_trace_context(tp)
        got = agents.trace_context()
        back = agents.traceparent()
        with agents.span("child") as s:
            child = s.context
        agents.clear_trace_context()
        cleared = agents.trace_context()
        agents.set_trace_context({"trace_id": "a" * 32, "span_id": "b" * 16})
        again = current()
        errors = []
        for bad in ("00-xyz", {"trace_id": "0" * 32, "span_id": "b" * 16},
                    {"trace_id": "A" * 32, "span_id": "b" * 16}, 42):
            try:
                agents.set_trace_context(bad)
            except vm.BadArg as e:
                errors.append(str(e))
        return got, back, child, cleared, again, errors

    got, back, child, cleared, again, errors = run(main)
    assert got == {"trace_id": "4bf92f3577b34da6a3ce929d0e0e4736", "span_id": "00f067aa0ba902b7"}
    assert back == "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    assert child["trace_id"] == got["trace_id"] and child["span_id"] != got["span_id"]
    assert cleared is None and again == ("a" * 32, "b" * 16)
    assert len(errors) == 4


def test_span_arguments_are_checked():
    def main():
        with pytest.raises(vm.BadArg, match="non-empty str"):
            agents.span("")
        with pytest.raises(vm.BadArg, match="a value is a str"):
            agents.span("x", payload={"nested": 1})
        with pytest.raises(vm.BadArg, match="span kind"):
            agents.span("x", kind="sideways")
        return "ok"

    assert run(main) == "ok"
