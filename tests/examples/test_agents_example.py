"""The research desk example runs on the scripted model, with no network."""

import importlib.util
import os

from vm.testing import run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_desk(monkeypatch, name="research_desk"):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    path = os.path.join(ROOT, "examples", "agents", f"{name}.py")
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_research_desk_session(monkeypatch, capsys):
    desk = load_desk(monkeypatch)
    seen = run(desk.run_desk)  # prints; lines.append would carry the list into the node
    text = capsys.readouterr().out
    assert seen["triage"][0] == "ok" and "A supervisor is a process" in seen["triage"][1]
    assert seen["flaky"][1][0] == "tool_crashed" and seen["restarted"]
    assert "swordfish" not in text and "[REDACTED]" in text
    assert seen["slow"][0] == "ok"
    assert "slow_archive did not finish within 2.0 s and was stopped" in seen["slow_told"][-1]
    assert seen["runaway"][1][0] == "budget_exhausted"
    assert seen["runaway"][1][1]["resource"] == "model_calls"
    assert "[supervisor desk] child_terminated: runaway exited with budget_exhausted" in text
    books = seen["books"]
    assert books["open_reservations"] == 0 and books["used"]["model_calls"] <= 40


def test_the_support_desk_session(monkeypatch, tmp_path, capsys):
    from click.testing import CliRunner

    from stdlib import cli

    desk = load_desk(monkeypatch, "support_desk")
    seen = run(desk.run_desk, str(tmp_path))
    text = capsys.readouterr().out
    # 1. approval needed, given, the refund ran; one trace
    assert seen["t1"][0] == "ok" and "refunded 250 on order 1042" in seen["t1"][1]
    assert ("refunded", "1042", 250) in seen["log"]
    assert "waiting for approval" in text and "billing is awaiting_approval" in text
    # 2. nobody answered: escalated to the supervisor's handler, which refused
    assert "escalation handler refused it" in seen["t2"][1]
    assert any(m[0] == "escalated" for m in seen["log"])
    assert not any(m[0] == "refunded" and m[1] == "2077" for m in seen["log"])
    # 3. killed mid-work, restarted, resumed from the journal: nothing ran twice
    assert seen["restarted"] and "Friday" in seen["t3"]
    assert seen["t3_ran"] == ["locate_parcel", "contact_carrier"]
    # 4. the trail verifies, by the API and by `beamlet audit`
    assert seen["audit"]["ok"] and seen["audit"]["records"] == len(seen["records"])
    r = CliRunner().invoke(cli.main, ["audit", seen["store"], "--kind", "approval"])
    assert r.exit_code == 0 and "the chain verifies" in r.output and "approved" in r.output
    shipping = [(x["kind"], x["data"].get("restart")) for x in seen["records"]
                if x["agent"] == "shipping" and x["kind"] in ("start", "crash")]
    assert shipping == [("start", False), ("crash", None), ("start", True)]  # the kill, seen
    events = [x["data"]["event"] for x in seen["records"] if x["kind"] == "approval"]
    assert events == ["requested", "approved", "requested", "escalated", "refused"]
    # 5. the trace of the first ticket across agents and tools
    labels = [s["label"] for s in seen["trace"]["steps"]]
    assert "invoke_agent triage" in labels and "invoke_agent billing" in labels
    assert "execute_tool refund" in labels
    assert os.path.getsize(seen["spans"]) > 0
