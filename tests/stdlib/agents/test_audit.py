"""The audit trail: what agents record, tampering detected, writers that lose nothing."""

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time

import pytest
from click.testing import CliRunner

import vm
from stdlib import agents, cli
from stdlib.agents import audit, reply, scripted_model, store, tool_call, tool_call_step
from vm.testing import run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))


@agents.tool
def refund(order: str, amount: int, note: str = "") -> str:
    """Refund an order."""
    return f"refunded {amount} on {order} (card 4111, api_key=sk-abcdefghijklmnop)"


class Clerk(agents.Agent):
    tools = [refund]
    audit = True

    def after_tool_result(self, call, result, context):
        context["state"]["refunds"] = context["state"].get("refunds", 0) + 1
        context["state"]["last_order"] = call["arguments"]["order"]
        return result


def clerk_model():
    return scripted_model([
        tool_call_step(tool_call("refund", {"order": "o-7", "amount": 5,
                                            "note": "password=hunter22"})),
        reply("Refunded 5 on o-7.")], price={"input": 1.0, "output": 2.0})


def beamlet_audit(*args):
    r = CliRunner().invoke(cli.main, ["audit", *map(str, args)])
    return r.exit_code, r.output


def write_trail(path, content=False):
    def main():
        agents.tracing.start()
        a = agents.start_link(Clerk, {"model": clerk_model(), "store": path,
                                      "audit": {"content": content}}, name="clerk")
        with agents.span("ticket") as t:
            agents.ask(a, "refund o-7, my secret is sk-abcdefghijklmnop", principal="ada")
        agents.store.sync(path)
        return t.trace_id

    return run(main)


def test_an_agents_actions_are_recorded_with_principal_trace_and_redaction(tmp_path):
    path = str(tmp_path / "a.db")
    trace_id = write_trail(path)
    records = audit.query(path)
    kinds = [r["kind"] for r in records]
    assert kinds == ["start", "request", "model_call", "tool_call", "state", "model_call",
                     "request_done"]
    assert {r["principal"] for r in records[1:]} == {"ada"}
    assert {r["trace_id"] for r in records[1:]} == {trace_id}
    assert {r["agent"] for r in records} == {"clerk"}
    assert len({r["request_id"] for r in records[1:]}) == 1
    tool = records[3]["data"]
    assert tool["tool"] == "refund" and tool["arguments"]["order"] == "o-7" and tool["ok"]
    text = json.dumps([r["data"] for r in records])
    assert "hunter22" not in text and "sk-abcdefghijklmnop" not in text
    assert "[REDACTED]" in tool["arguments"]["note"] and "[REDACTED]" in tool["result"]
    assert records[4]["data"] == {"changes": {"refunds": {"old": None, "new": 1},
                                              "last_order": {"old": None, "new": "o-7"}}}
    model = records[2]["data"]
    assert model["model"] == "scripted" and model["input_tokens"] > 0 and model["cost"] > 0
    assert "content" not in model and "prompt" not in records[1]["data"]  # content off
    assert records[-1]["data"]["outcome"] == "ok" and "answer" not in records[-1]["data"]
    assert audit.verify(path)["ok"]


def test_content_is_kept_only_when_asked(tmp_path):
    path = str(tmp_path / "a.db")
    write_trail(path, content=True)
    records = audit.query(path)
    assert "refund o-7" in records[1]["data"]["prompt"]
    assert "sk-abcdefghijklmnop" not in records[1]["data"]["prompt"]
    assert records[-1]["data"]["answer"] == "Refunded 5 on o-7."


def test_budget_events_crashes_and_own_records(tmp_path):
    path = str(tmp_path / "a.db")

    @agents.tool(policy="crash")
    def explode() -> str:
        """Explode."""
        raise RuntimeError("boom")

    class Fragile(agents.Agent):
        tools = [explode]
        audit = True

    def main():
        vm.process_flag("trap_exit", True)
        a = agents.start_link(Clerk, {"model": clerk_model(), "store": path})
        with pytest.raises(agents.AgentError):
            agents.ask(a, "refund", limits={"steps": 1})
        b = agents.start_link(Fragile, {"model": scripted_model([tool_call_step(
            tool_call("explode"))]), "store": path})
        with pytest.raises(agents.AgentError):
            agents.ask(b, "explode")
        vm.receive(("EXIT", b, vm.ANY))
        agents.audit.log("deploy", {"version": "1.2"}, store=path, principal="ops")
        agents.store.sync(path)

    run(main)
    records = audit.query(path)
    budget = [r for r in records if r["kind"] == "budget"]
    assert budget and budget[0]["data"]["event"] == "refused"
    assert budget[0]["data"]["detail"]["resource"] == "steps"
    assert [r["data"]["reason"][0] for r in records if r["kind"] == "crash"] == ["tool_crashed"]
    own = audit.query(path, kind="deploy")
    assert own[0]["principal"] == "ops" and own[0]["data"] == {"version": "1.2"}
    assert audit.verify(path)["ok"]


# ----------------------------------------------------------------------
# tampering


def tampered(tmp_path, change):
    path = str(tmp_path / "t.db")
    write_trail(path)
    conn = sqlite3.connect(path)
    change(conn)
    conn.commit()
    conn.close()
    return path


def test_an_intact_trail_verifies_and_prints(tmp_path):
    path = str(tmp_path / "t.db")
    write_trail(path)
    code, out = beamlet_audit(path)
    assert code == 0 and "7 records; the chain verifies" in out
    assert out.count("\n") == 8 and "tool_call" in out


def test_a_changed_record_is_detected(tmp_path):
    path = tampered(tmp_path, lambda c: c.execute(
        "UPDATE audit SET data = replace(data, '\"amount\":5', '\"amount\":500') WHERE seq = 4"))
    code, out = beamlet_audit(path)
    assert code == 1 and "broken at record 4" in out and "was changed" in out
    assert "tool_call" not in out  # nothing is printed as if it could be trusted


def test_a_deleted_record_is_detected(tmp_path):
    path = tampered(tmp_path, lambda c: c.execute("DELETE FROM audit WHERE seq = 3"))
    code, out = beamlet_audit(path)
    assert code == 1 and "record 3 is missing" in out


def test_reordered_records_are_detected(tmp_path):
    def swap(c):
        a = c.execute("SELECT data, kind FROM audit WHERE seq = 3").fetchone()
        b = c.execute("SELECT data, kind FROM audit WHERE seq = 4").fetchone()
        c.execute("UPDATE audit SET data = ?, kind = ? WHERE seq = 3", b)
        c.execute("UPDATE audit SET data = ?, kind = ? WHERE seq = 4", a)

    code, out = beamlet_audit(tampered(tmp_path, swap))
    assert code == 1 and "broken at record 3" in out


def test_renumbering_to_hide_a_removal_is_detected(tmp_path):
    def renumber(c):
        c.execute("DELETE FROM audit WHERE seq = 3")
        c.execute("UPDATE audit SET seq = seq - 1 WHERE seq > 3")
        c.execute("UPDATE audit_head SET seq = seq - 1")

    code, out = beamlet_audit(tampered(tmp_path, renumber))
    assert code == 1 and "broken at record 3" in out


def test_an_appended_record_with_a_forged_hash_is_detected(tmp_path):
    def forge(c):
        seq, head = c.execute("SELECT seq, hash FROM audit_head").fetchone()
        c.execute("INSERT INTO audit (seq, ts, kind, agent, data, prev, hash) VALUES "
                  "(?, ?, 'tool_call', 'clerk', '{}', ?, ?)", (seq + 1, time.time(), head,
                                                               "f" * 64))
        c.execute("UPDATE audit_head SET seq = ?, hash = ?", (seq + 1, "f" * 64))

    code, out = beamlet_audit(tampered(tmp_path, forge))
    assert code == 1 and "broken at record 8" in out and "forged" in out


def test_an_append_behind_the_writers_back_and_a_cut_tail_are_detected(tmp_path):
    def append(c):
        seq, head = c.execute("SELECT seq, hash FROM audit_head").fetchone()
        row = {"ts": 1.0, "kind": "x", "agent": None, "pid": None, "trace_id": None,
               "span_id": None, "principal": None, "request_id": None, "data": "{}"}
        h = audit.record_hash(seq + 1, row, head)
        c.execute("INSERT INTO audit (seq, ts, kind, data, prev, hash) VALUES (?, 1.0, 'x', "
                  "'{}', ?, ?)", (seq + 1, head, h))

    code, out = beamlet_audit(tampered(tmp_path, append))
    assert code == 1 and "head says 7" in out
    (tmp_path / "t.db").unlink()
    code, out = beamlet_audit(tampered(tmp_path, lambda c: c.execute(
        "DELETE FROM audit WHERE seq = 7")))
    assert code == 1 and "removed from the end" in out


def test_a_keyed_chain_cannot_be_rewritten_without_the_key(tmp_path, monkeypatch):
    monkeypatch.setenv("BEAMLET_AUDIT_KEY", "s3cret-key")
    path = str(tmp_path / "k.db")
    write_trail(path)
    assert audit.verify(path)["ok"]

    def rewrite(conn):  # a forger recomputes an unkeyed chain from record 4 on, head too
        rows = conn.execute(f"SELECT {', '.join(audit.COLUMNS)} FROM audit ORDER BY seq")
        rows = [dict(zip(audit.COLUMNS, r, strict=True)) for r in rows]
        prev = rows[2]["hash"]
        for r in rows[3:]:
            if r["seq"] == 4:
                r["data"] = r["data"].replace('"amount":5', '"amount":500')
            r["prev"], r["hash"] = prev, audit.record_hash(r["seq"], r, prev)
            prev = r["hash"]
            conn.execute("UPDATE audit SET data = ?, prev = ?, hash = ? WHERE seq = ?",
                         (r["data"], r["prev"], r["hash"], r["seq"]))
        conn.execute("UPDATE audit_head SET hash = ?", (prev,))

    conn = sqlite3.connect(path)
    rewrite(conn)
    conn.commit()
    conn.close()
    code, out = beamlet_audit(path)
    assert code == 1 and "broken at record 4" in out
    monkeypatch.delenv("BEAMLET_AUDIT_KEY")
    code, out = beamlet_audit(path)
    assert code == 1 and "keyed" in out  # without the key it cannot be verified at all


def test_a_kept_head_catches_a_full_rewrite(tmp_path):
    path = str(tmp_path / "t.db")
    write_trail(path)
    head = audit.verify(path)["head"]
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM audit WHERE seq >= 6")
    last = conn.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
    conn.execute("UPDATE audit_head SET seq = ?, hash = ?", last)
    conn.commit()
    conn.close()
    assert beamlet_audit(path)[0] == 0  # consistent, but shorter
    code, out = beamlet_audit(path, "--expect-head", f"{head[0]}:{head[1]}")
    assert code == 1 and "is gone" in out


# ----------------------------------------------------------------------
# printing and filtering


def test_filters_and_json(tmp_path):
    path = str(tmp_path / "t.db")
    trace_id = write_trail(path)
    code, out = beamlet_audit(path, "--json", "--kind", "tool_call", "--kind", "state")
    doc = json.loads(out)
    assert code == 0 and doc["ok"] and doc["records"] == 7 and doc["broken"] is None
    assert [r["kind"] for r in doc["shown"]] == ["tool_call", "state"]
    assert len(json.loads(beamlet_audit(path, "--json", "--trace", trace_id)[1])["shown"]) == 6
    assert json.loads(beamlet_audit(path, "--json", "--principal", "bob")[1])["shown"] == []
    assert len(json.loads(beamlet_audit(path, "--json", "--agent", "clerk")[1])["shown"]) == 7
    assert json.loads(beamlet_audit(path, "--json", "--since", "2999-01-01")[1])["shown"] == []
    assert len(json.loads(beamlet_audit(path, "--json", "--until", "2999-01-01T00:00:00Z",
                                        "--limit", "2")[1])["shown"]) == 2
    code, out = beamlet_audit(path, "--since", "yesterday")
    assert code == 2 and "not a time" in out
    code, out = beamlet_audit(str(tmp_path / "missing.db"))
    assert code == 2 and "no store" in out


# ----------------------------------------------------------------------
# writers


def test_concurrent_writers_lose_nothing(tmp_path):
    path = str(tmp_path / "c.db")

    def writer(n, parent):
        for k in range(50):
            audit.log("tick", {"writer": n, "k": k}, store=path)
            if k % 7 == 0:
                vm.sleep(0.001)
        vm.send(parent, ("done", n))

    def main(seed_writers):
        for n in range(seed_writers):
            vm.spawn(writer, n, vm.self())
        for _ in range(seed_writers):
            vm.receive(("done", vm.ANY))
        return store.sync(path)

    counts = run(main, 20, seed=7)
    assert counts["written"] == 1000 and counts["dropped"] == 0
    assert counts["commits"] < 1000  # group commit: several records per transaction
    result = audit.verify(path)
    assert result["ok"] and result["records"] == 1000


def test_two_nodes_writing_one_file_interleave_without_loss(tmp_path):
    path = str(tmp_path / "two.db")

    def node_main(tag):
        for k in range(300):
            audit.log("tick", {"node": tag, "k": k}, store=path)
            if k % 50 == 0:
                vm.sleep(0.002)
        return store.sync(path)

    results = {}

    def go(tag):
        results[tag] = vm.run(node_main, tag)

    threads = [threading.Thread(target=go, args=(t,)) for t in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = audit.verify(path)
    assert result["ok"] and result["records"] == 600
    per = {}
    for r in audit.query(path):
        per.setdefault(r["data"]["node"], []).append(r["data"]["k"])
    assert per == {"a": list(range(300)), "b": list(range(300))}  # each in its own order


def test_a_killed_writer_loses_at_most_its_unflushed_batch(tmp_path):
    path = str(tmp_path / "k.db")

    def main():
        pid = store.start(path)
        for k in range(100):
            audit.log("before", {"k": k}, store=path)
        committed = store.sync(path)["written"]
        for k in range(500):  # queued in the writer's mailbox: not committed yet
            audit.log("lost", {"k": k}, store=path)
        vm.exit(pid, "kill")
        vm.sleep(0.01)
        for k in range(10):  # a new writer (started on demand) chains on
            audit.log("after", {"k": k}, store=path)
        store.sync(path)
        return committed

    committed = run(main)
    result = audit.verify(path)
    kinds = [r["kind"] for r in audit.query(path)]
    assert committed == 100 and result["ok"]
    assert kinds.count("before") == 100 and kinds.count("after") == 10
    assert 0 <= kinds.count("lost") <= 500 and kinds[-10:] == ["after"] * 10


WRITER = """
import sys, vm
from stdlib.agents import audit, store
path = sys.argv[1]
def main():
    n = 0
    while True:
        for _ in range(25):
            audit.log("tick", {"n": n}, store=path)
            n += 1
        done = store.sync(path)["written"]
        print(done, flush=True)
vm.run(main)
"""


def test_an_os_process_killed_mid_write_leaves_a_chain_that_verifies(tmp_path):
    path = str(tmp_path / "os.db")
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    proc = subprocess.Popen([sys.executable, str(script), path], stdout=subprocess.PIPE,
                            text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT))
    confirmed = 0
    try:
        for line in proc.stdout:
            confirmed = int(line)
            if confirmed >= 2000:
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    result = audit.verify(path)
    assert result["ok"], result
    assert result["records"] >= confirmed >= 2000  # every confirmed commit survived
