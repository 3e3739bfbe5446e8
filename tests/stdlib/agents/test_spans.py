"""Spans of agents: one trace across agents and tools, GenAI names, JSON lines."""

import json

import pytest

import vm
from stdlib import agents
from stdlib.agents import reply, scripted_model, spans, tool_call, tool_call_step, tracing
from vm.testing import run

# ----------------------------------------------------------------------
# three agents, five tools: front asks billing and shipping through tools


@agents.tool
def ask_billing(question: str) -> str:
    """Ask the billing agent."""
    return agents.ask("billing", question)


@agents.tool
def ask_shipping(question: str) -> str:
    """Ask the shipping agent."""
    return agents.ask("shipping", question)


@agents.tool
def invoice(order: str) -> str:
    """The invoice of an order."""
    return f"invoice of {order}: 42.00"


@agents.tool
def balance(customer: str) -> str:
    """A customer's balance."""
    return f"{customer} owes nothing"


@agents.tool
def track(order: str) -> str:
    """Where an order is."""
    if order == "lost":
        raise LookupError("no such parcel (token=sk-abcdefghijklmnop)")
    return f"{order} is in Lyon"


class Front(agents.Agent):
    tools = [ask_billing, ask_shipping]


class Billing(agents.Agent):
    tools = [invoice, balance]


class Shipping(agents.Agent):
    tools = [track]


def crew(track_order="o-1"):
    front = scripted_model([
        tool_call_step([tool_call("ask_billing", {"question": "invoice?"}),
                        tool_call("ask_shipping", {"question": "where?"})]),
        reply("Your invoice is 42.00 and the parcel is in Lyon.")])
    billing = scripted_model([
        tool_call_step([tool_call("invoice", {"order": "o-1"}),
                        tool_call("balance", {"customer": "ada"})]),
        reply("42.00, nothing owed")])
    shipping = scripted_model([tool_call_step(tool_call("track", {"order": track_order})),
                               reply("in Lyon")])
    agents.start_link(Billing, {"model": billing}, name="billing")
    agents.start_link(Shipping, {"model": shipping}, name="shipping")
    return agents.start_link(Front, {"model": front}, name="front")


def test_a_request_through_three_agents_and_five_tools_is_one_nested_trace(tmp_path):
    path = tmp_path / "spans.jsonl"

    def main():
        tracing.start(str(path))
        front = crew()
        with agents.span("support ticket", ticket="T-1") as root:
            answer = agents.ask(front, "invoice and parcel?", principal="ada")
        tracing.flush()
        return root.context, answer, tracing.spans(root.trace_id)

    root, answer, got = run(main)
    assert "Lyon" in answer
    assert {s["trace_id"] for s in got} == {root["trace_id"]}
    by_id = {s["span_id"]: s for s in got}
    names = sorted(s["name"] for s in got)
    assert names.count("execute_tool ask_billing") == 1
    assert sorted(n for n in names if n.startswith("invoke_agent")) == [
        "invoke_agent billing", "invoke_agent front", "invoke_agent shipping"]
    assert len([n for n in names if n.startswith("execute_tool")]) == 5
    assert len([n for n in names if n.startswith("chat")]) == 6

    def parent(s):
        return by_id.get(s["parent_span_id"])

    agent_span = {s["attributes"]["gen_ai.agent.name"]: s for s in got
                  if s["name"].startswith("invoke_agent")}
    assert agent_span["front"]["parent_span_id"] == root["span_id"]
    assert parent(agent_span["billing"])["name"] == "execute_tool ask_billing"
    assert parent(agent_span["shipping"])["name"] == "execute_tool ask_shipping"
    for s in got:  # every model and tool span sits under the agent whose work it is
        if s["name"].startswith(("chat", "execute_tool")):
            owner = parent(s)
            assert owner["name"].startswith("invoke_agent"), s["name"]
            assert s["attributes"]["beamlet.pid"] != owner["attributes"]["beamlet.pid"]
    tools_of = {a: sorted(s["attributes"]["gen_ai.tool.name"] for s in got
                          if s["name"].startswith("execute_tool") and parent(s) is agent_span[a])
                for a in agent_span}
    assert tools_of == {"front": ["ask_billing", "ask_shipping"],
                        "billing": ["balance", "invoice"], "shipping": ["track"]}
    for s in got:  # children start after and end before their parent
        p = parent(s)
        if p is not None:
            assert p["start_time_unix_nano"] <= s["start_time_unix_nano"]
            assert s["end_time_unix_nano"] <= p["end_time_unix_nano"]
    assert agent_span["front"]["attributes"]["beamlet.principal"] == "ada"
    assert agent_span["billing"]["attributes"]["beamlet.principal"] == "ada"  # inherited


def test_the_json_lines_follow_the_genai_conventions_and_leave_content_out(tmp_path):
    path = tmp_path / "spans.jsonl"

    def main():
        tracing.start(str(path))
        front = crew(track_order="lost")
        agents.ask(front, "my secret is sk-abcdefghijklmnop")
        tracing.stop()

    run(main)
    lines = [json.loads(x) for x in path.read_text().splitlines()]
    assert lines[0] == {"beamlet_spans": 1, "conventions": spans.CONVENTIONS}
    records = lines[1:]
    assert records and all(spans.check_span(r) == [] for r in records), \
        [spans.check_span(r) for r in records]
    for r in records:
        for key in spans.CONTENT_ATTRIBUTES:
            assert key not in r["attributes"]
    assert "sk-abcdefghijklmnop" not in path.read_text()
    chat = next(r for r in records if r["name"].startswith("chat"))
    assert chat["kind"] == "client"
    assert chat["attributes"]["gen_ai.operation.name"] == "chat"
    assert chat["attributes"]["gen_ai.provider.name"] == "beamlet.scripted"
    assert chat["attributes"]["gen_ai.request.model"] == "scripted"
    assert chat["attributes"]["gen_ai.usage.input_tokens"] > 0
    assert isinstance(chat["attributes"]["gen_ai.response.finish_reasons"], list)
    failed = next(r for r in records if r["name"] == "execute_tool track")
    assert failed["status"] == "error" and failed["attributes"]["error.type"] == "LookupError"
    assert "[REDACTED]" in failed["status_message"]
    tool = next(r for r in records if r["name"] == "execute_tool invoice")
    assert tool["attributes"]["gen_ai.tool.call.id"]
    assert tool["attributes"]["gen_ai.tool.type"] == "function"


def test_content_is_captured_only_when_asked_and_redacted(tmp_path):
    def main():
        tracing.start(capture_content=True)
        front = crew()
        agents.ask(front, "my key is sk-abcdefghijklmnop, where is o-1?")
        tracing.flush()
        return tracing.spans()

    got = run(main)
    chat = next(s for s in got if s["name"].startswith("chat") and
                s["attributes"]["beamlet.pid"] and "front" not in s["name"])
    text = json.dumps(got)
    assert "gen_ai.input.messages" in chat["attributes"]
    assert "gen_ai.output.messages" in chat["attributes"]
    assert "sk-abcdefghijklmnop" not in text and "[REDACTED]" in text
    tool = next(s for s in got if s["name"] == "execute_tool invoice")
    assert json.loads(tool["attributes"]["gen_ai.tool.call.arguments"]) == {"order": "o-1"}
    assert tool["attributes"]["gen_ai.tool.call.result"] == "invoice of o-1: 42.00"
    assert all(spans.check_span(s) == [] for s in got)


def test_failed_requests_and_model_calls_carry_error_type():
    def main():
        tracing.start()
        a = agents.start_link(Shipping, {"model": scripted_model([
            agents.failure("insufficient_quota", status=429)])})
        with pytest.raises(agents.AgentError):
            agents.ask(a, "where?")
        b = agents.start_link(Shipping, {"model": scripted_model(
            [tool_call_step(tool_call("track", {"order": str(n)})) for n in range(5)])})
        with pytest.raises(agents.AgentError):
            agents.ask(b, "where?", limits={"steps": 2})
        tracing.flush()
        return tracing.spans()

    got = run(main)
    chat = next(s for s in got if s["name"] == "chat scripted" and s["status"] == "error")
    assert chat["attributes"]["error.type"] == "insufficient_quota"
    errors = sorted(s["attributes"]["error.type"] for s in got
                    if s["name"].startswith("invoke_agent"))
    assert errors == ["budget_exhausted", "model_error"]
    assert all(spans.check_span(s) == [] for s in got)


def test_tracing_on_and_off():
    def main():
        assert not tracing.enabled() and tracing.flush() == 0 and tracing.spans() == []
        pid = tracing.start()
        with pytest.raises(vm.BadArg, match="already on"):
            tracing.start()
        with agents.span("one"):
            pass
        handled = tracing.flush()
        stopped = tracing.stop()
        with agents.span("two"):  # off again: ids only, nothing recorded
            pass
        return pid is not None, handled, stopped, tracing.stop(), tracing.spans()

    assert run(main) == (True, 1, True, False, [])


def test_bad_tracing_options_are_refused(tmp_path):
    def main():
        with pytest.raises(vm.BadArg, match="SpanExporter"):
            tracing.start(otel=object())
        with pytest.raises(vm.BadArg, match="capture_content"):
            tracing.start(capture_content="yes")
        with pytest.raises(vm.BadArg, match="keep"):
            tracing.start(keep=-1)
        return "ok"

    assert run(main) == "ok"


def test_a_span_file_is_read_back_and_drawn(tmp_path):
    from stdlib.agents import observe

    path = tmp_path / "spans.jsonl"

    def main():
        tracing.start(str(path))
        front = crew()
        with agents.span("ticket") as root:
            agents.ask(front, "invoice and parcel?")
        tracing.stop()
        return root.trace_id

    trace_id = run(main)
    read = tracing.read(str(path), trace_id)
    assert len(read) == 15  # the ticket, 3 agents, 6 model calls, 5 tools
    view = observe.trace_view(trace_id, file=str(path), width=200)
    labels = [(s["label"], s["return"]) for s in view.data["steps"]]
    assert labels[:2] == [("ticket", False), ("invoke_agent front", False)]
    assert ("execute_tool ask_billing", False) in labels
    assert labels[-1] == ("ok", True)  # front answers the ticket's process
    mermaid = view.mermaid_text
    assert mermaid.startswith("sequenceDiagram") and "invoke_agent billing" in mermaid
    names = {p["name"] for p in view.data["participants"]}
    assert {"ticket", "agent front", "agent billing", "agent shipping", "of front"} <= names
    tree = observe.spans_view(trace_id, file=str(path))
    assert "      invoke_agent billing" in tree.text  # under front's tool


def test_reading_a_bad_span_file_says_where(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"beamlet_spans": 1}\nnot json\n')
    with pytest.raises(vm.BadArg, match="bad.jsonl:2"):
        tracing.read(str(path))
