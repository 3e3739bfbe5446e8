"""The research desk example runs on the scripted model, with no network."""

import importlib.util
import os

from vm.testing import run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load_desk(monkeypatch):
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    path = os.path.join(ROOT, "examples", "agents", "research_desk.py")
    spec = importlib.util.spec_from_file_location("research_desk", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_the_research_desk_session(monkeypatch):
    desk = load_desk(monkeypatch)
    lines = []
    seen = run(desk.run_desk, lines.append)
    text = "\n".join(lines)
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
