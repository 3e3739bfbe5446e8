"""The observer knows agents: agents(), top's panel, i(agent), approvals, trace diagrams."""

import contextlib
import json

import vm
from stdlib import agents, observer
from stdlib.agents import observe, reply, scripted_model, tool_call, tool_call_step, tracing
from stdlib.observer import commands
from stdlib.observer.top import PANELS, TopState, frame
from vm.testing import run


@agents.tool(approval=True)
def wire(amount: int) -> str:
    """Wire money."""
    return f"wired {amount}"


@agents.tool
def note(text: str) -> str:
    """Take a note."""
    return "noted"


class Teller(agents.Agent):
    tools = [wire, note]


def teller_model():
    return scripted_model([tool_call_step(tool_call("wire", {"amount": 10})), reply("done")])


def failing_model():
    return scripted_model([agents.failure("insufficient_quota", status=429)])


def scene(tmp_path):
    t = agents.start_link(Teller, {"model": teller_model(), "store": str(tmp_path / "o.db"),
                                   "budget": {"model_calls": 10}}, name="teller")
    f = agents.start_link(Teller, {"model": failing_model()}, name="broke")
    agents.send_ask(t, "wire 10", principal="ada", limits={"steps": 4}, timeout=900)
    with contextlib.suppress(agents.AgentError):
        agents.ask(f, "anything")
    for _ in range(100):
        if agents.status(t)["state"] == "awaiting_approval":
            break
        vm.sleep(0.01)
    return t, f


def test_the_agents_view_shows_state_step_budget_approvals_and_errors(tmp_path):
    def main():
        t, f = scene(tmp_path)
        view = observe.agents()
        return view.text, json.loads(view.json()), repr(t), repr(f)

    text, data, t, f = run(main)
    rows = {r["name"]: r for r in data["rows"]}
    teller = rows["teller"]
    assert teller["state"] == "awaiting_approval" and teller["step"] == 1
    assert teller["principal"] == "ada" and len(teller["awaiting_approval"]) == 1
    assert teller["limits"]["steps"] == 4 and teller["request_usage"]["steps"] == 1
    assert teller["budget"]["used"]["model_calls"] == 1
    assert rows["broke"]["state"] == "idle" and "insufficient_quota" in rows["broke"]["last_error"]
    line = next(x for x in text.splitlines() if x.startswith(t))
    assert "awaiting_approval" in line and "steps 1/4" in line
    assert "budget.model_calls 1/10" in line
    assert "insufficient_quota" in text and "2 agents" in text


def test_agents_approvals_approve_and_refuse_are_shell_commands(tmp_path):
    names = {c.name: c for c in commands.commands()}
    for name in ("agents", "approvals", "approve", "refuse", "spans", "trace_seq"):
        assert names[name].section == "Agents" and names[name].usage in commands.help_text()

    def main():
        t, _ = scene(tmp_path)
        listing = names["approvals"].fn()
        aid = listing.data["rows"][0]["id"]
        first = names["approve"].fn(aid)
        second = names["refuse"].fn(aid, "no")
        vm.sleep(0.1)
        return listing.text, aid, first, second, agents.status(t)["state"]

    text, aid, first, second, state = run(main)
    assert aid in text and "wire" in text and "ada" in text and "1 pending" in text
    assert first == "ok" and second == ("ignored", "approved") and state == "idle"


def test_i_of_an_agent_shows_its_conversation_and_budget(tmp_path):
    def main():
        t, _ = scene(tmp_path)
        return observer.i(t)

    view = run(main)
    assert "agent     teller: awaiting_approval, conversation 2 messages, 1 requests" in view.text
    assert "budget used/limit steps 1/4" in view.text
    assert "waiting for approval: r-" in view.text and "audited" not in view.text
    assert view.data["agent"]["messages"] == 2


def test_top_has_an_agents_panel(tmp_path):
    def main():
        scene(tmp_path)
        return PANELS["a"][1](None)

    lines = run(main)
    assert lines[0].split()[:3] == ["Pid", "Agent", "State"]
    assert any("awaiting_approval" in x for x in lines)
    state = TopState()
    assert state.handle_key("a") == "refresh" and state.mode == "panel"
    shown = frame(state, None, None, panel=lines)
    assert shown[1:1 + len(lines)] == lines and shown[-1] == "b back  q quit"
    assert state.handle_key("b") == "refresh" and state.mode == "table"
    assert "a agents" in frame(state, None, None)[-1]


def test_trace_seq_draws_the_last_trace(tmp_path):
    def main():
        tracing.start()
        t = agents.start_link(Teller, {"model": scripted_model([
            tool_call_step(tool_call("note", {"text": "hi"})), reply("done")])})
        with agents.span("visit"):
            agents.ask(t, "note it")
        tracing.flush()
        return (observe.trace_seq(width=120), observe.trace_seq(mermaid=True),
                observe.spans())

    view, mermaid, tree = run(main)
    assert "invoke_agent Teller" in view.text and "execute_tool note" in view.text
    assert "│" in view.text  # drawn with lifelines, it fits
    assert mermaid.startswith("sequenceDiagram") and "-->>" in mermaid
    assert [line.split()[0] for line in tree.text.splitlines()[2:]] == [
        "visit", "invoke_agent", "chat", "execute_tool", "chat"]
