"""Durable state: resume after a kill at any step, never re-running a finished tool call."""

import json
import os
import time

import pytest

import vm
from stdlib import agents, supervisor
from stdlib.agents import journal, reply, scripted_model, store, tool_call, tool_call_step
from stdlib.agents.journal import INTERRUPTED, Journal
from vm.testing import run

RUNS = []  # (call id, n) of every tool call that ran to its end, in this OS process


@agents.tool(on_interrupted="retry")
def work(n: int) -> str:
    """Do a piece of work (idempotent: it may be retried)."""
    vm.sleep(0.5)
    RUNS.append(("work", n))
    return f"piece {n} done"


@agents.tool
def charge_card(amount: int) -> str:
    """Charge the card (not idempotent: never retried)."""
    vm.sleep(0.5)
    RUNS.append(("charge", amount))
    return f"charged {amount}"


def brain(request):
    """Two turns of one call, then a turn of two calls, then an answer."""
    tools = [m for m in request["messages"] if m["role"] == "tool"]
    asked = [m for m in request["messages"] if m["role"] == "user"]
    done = len(tools)
    base = 10 * len(asked)
    if done % 4 == 0 and done // 4 < len(asked):
        return tool_call_step(tool_call("work", {"n": base + 1}))
    if done % 4 == 1:
        return tool_call_step(tool_call("work", {"n": base + 2}))
    if done % 4 == 2:
        return tool_call_step([tool_call("work", {"n": base + 3}),
                               tool_call("work", {"n": base + 4})])
    return reply(f"request {len(asked)} finished after {done} tool results")


class Worker(agents.Agent):
    tools = [work, charge_card]
    max_concurrent_tools = 1

    def after_tool_result(self, call, result, context):
        context["state"]["results"] = context["state"].get("results", 0) + 1
        return result


PROMPTS = ["first job", "second job"]


def session(path, kill_at=None, seed=None, snapshot_every=200):
    """Run the two requests; with kill_at=k, the agent is killed right after its k-th
    write to the journal (once): every step at which it has told the store something.
    Returns (answers, history, state, RUNS, killed)."""
    RUNS.clear()
    added = {"n": 0, "killed": False}
    real_flush = Journal.flush

    def flush(self):
        wrote = bool(self.pending)
        real_flush(self)
        if wrote:
            added["n"] += 1
            if kill_at is not None and not added["killed"] and added["n"] == kill_at:
                added["killed"] = True
                vm.exit(vm.self(), "kill")

    def main():
        Journal.flush = flush
        try:
            model = scripted_model([brain], when_exhausted="repeat_last")
            spec = agents.child_spec(Worker, {"model": model, "store": path,
                                              "durable": {"snapshot_every": snapshot_every}},
                                     name="worker")
            supervisor.start_link_children([spec], strategy="one_for_one", intensity=5,
                                           period=60)
            answers = [ask_until_done(p, f"job-{k}") for k, p in enumerate(PROMPTS)]
            vm.sleep(0.1)  # a kill after the last answer: let the supervisor restart it
            return (answers, agents.history("worker"), agents.state("worker"),
                    list(RUNS), added["killed"], added["n"])
        finally:
            Journal.flush = real_flush

    return run(main, seed=seed)


def ask_until_done(prompt, rid):
    """Ask; if the agent dies meanwhile, ask again with the same request id (the
    restarted agent attaches us to the resumed request, or answers from its journal)."""
    for _ in range(5):
        try:
            return agents.ask("worker", prompt, request_id=rid, timeout=120)
        except agents.AgentError as e:
            if e.reason[0] != "agent_down":
                raise
            vm.sleep(0.05)
    raise AssertionError("the agent never answered")


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("ref") / "ref.db")
    answers, history, state, runs, killed, writes = session(path, kill_at=10**9)
    assert not killed and len(runs) == 8
    return answers, history, state, runs, writes


def test_the_uninterrupted_conversation(reference):
    answers, history, state, runs, entries = reference
    assert answers == ["request 1 finished after 4 tool results",
                       "request 2 finished after 8 tool results"]
    assert state == {"results": 8}
    assert entries > 15


@pytest.mark.parametrize("seed,snapshot_every", [(1, 200), (2, 3)])
def test_a_kill_at_every_step_resumes_to_the_same_conversation(reference, tmp_path, seed,
                                                               snapshot_every):
    """snapshot_every=3: snapshots and compaction happen between the kills too."""
    answers, history, state, runs, entries = reference
    for k in range(1, entries + 1):
        path = str(tmp_path / f"kill{k}.db")
        got_answers, got_history, got_state, got_runs, killed, _ = session(
            path, k, seed, snapshot_every)
        assert killed, k
        assert got_answers == answers, k
        assert got_history == history, k
        assert got_state == state, k
        assert sorted(got_runs) == sorted(runs), (k, got_runs)  # no call ran twice


def test_an_interrupted_call_is_reported_not_rerun_unless_its_tool_says_retry(tmp_path):
    path = str(tmp_path / "r.db")

    def main():
        RUNS.clear()
        model = scripted_model([tool_call_step(tool_call("charge_card", {"amount": 30})),
                                lambda req: reply("told: " + req["messages"][-1]["content"])])
        spec = agents.child_spec(Worker, {"model": model, "store": path,
                                          "durable": {"key": "payer"}}, name="payer")
        supervisor.start_link_children([spec], strategy="one_for_one")
        req = agents.send_ask("payer", "charge 30", request_id="pay-1", timeout=60)
        vm.sleep(0.2)  # the card is being charged
        vm.exit(vm.whereis("payer"), "kill")
        assert agents.receive_answer(req, 5)[1][0] == "agent_down"
        vm.sleep(0.1)
        answer = agents.ask("payer", "charge 30", request_id="pay-1")
        return answer, list(RUNS)

    answer, runs = run(main)
    assert answer == "told: error: " + INTERRUPTED
    assert runs == []  # killed mid-charge, and never charged again


def test_a_call_that_ended_before_the_kill_is_not_run_again(tmp_path, monkeypatch):
    path = str(tmp_path / "e.db")
    real = journal.write_raw

    def write_then_kill_the_agent(ctx, call_id, result):
        real(ctx, call_id, result)  # the call's own process wrote its result...
        vm.exit(agents.current_request()["agent"], "kill")  # ...then the agent died

    monkeypatch.setattr(journal, "write_raw", write_then_kill_the_agent)

    def main():
        RUNS.clear()
        model = scripted_model([tool_call_step(tool_call("charge_card", {"amount": 30})),
                                lambda req: reply("told: " + req["messages"][-1]["content"])])
        spec = agents.child_spec(Worker, {"model": model, "store": path, "durable": True},
                                 name="payer")
        supervisor.start_link_children([spec], strategy="one_for_one")
        try:
            agents.ask("payer", "charge 30", request_id="pay-2")
        except agents.AgentError as e:
            assert e.reason[0] == "agent_down"
        monkeypatch.setattr(journal, "write_raw", real)
        vm.sleep(0.1)
        return agents.ask("payer", "charge 30", request_id="pay-2"), list(RUNS)

    answer, runs = run(main)
    assert answer == "told: charged 30" and runs == [("charge", 30)]


def test_a_finished_request_asked_again_is_answered_from_the_journal(tmp_path):
    path = str(tmp_path / "o.db")

    def main():
        RUNS.clear()
        model = scripted_model([tool_call_step(tool_call("charge_card", {"amount": 5})),
                                reply("charged")], when_exhausted="repeat_last")
        a = agents.start_link(Worker, {"model": model, "store": path, "durable": {"key": "w"}})
        first = agents.ask(a, "charge 5", request_id="once")
        again = agents.ask(a, "charge 5", request_id="once")
        return first, again, list(RUNS), len(agents.history(a))

    assert run(main) == ("charged", "charged", [("charge", 5)], 4)


def test_the_whole_program_restarts_and_resumes(tmp_path):
    path = str(tmp_path / "p.db")

    def first_program():
        RUNS.clear()
        model = scripted_model([brain], when_exhausted="repeat_last")
        agents.start(Worker, {"model": model, "store": path, "durable": {"key": "w"}})
        agents.send_ask(vm.whereis("w") or _only_agent(), "first job", request_id="job-0")
        vm.sleep(1.2)  # two pieces of work done, the third started
        store.sync(path)
        return list(RUNS)  # main returns: the node kills every process

    def second_program():
        model = scripted_model([brain], when_exhausted="repeat_last")
        a = agents.start_link(Worker, {"model": model, "store": path, "durable": {"key": "w"}})
        answer = agents.ask(a, "first job", request_id="job-0")
        return answer, list(RUNS), agents.state(a)

    before = run(first_program)
    answer, runs, state = run(second_program)
    assert before == [("work", 11), ("work", 12)]
    assert answer == "request 1 finished after 4 tool results"
    assert runs == [("work", 11), ("work", 12), ("work", 13), ("work", 14)]
    assert state == {"results": 4}


def _only_agent():
    from stdlib.agents.observe import agent_pids

    return agent_pids()[0]


def test_snapshots_compact_the_journal_and_the_store_grows_linearly(tmp_path):
    import sqlite3

    sizes = {}
    for steps in (100, 200):
        path = str(tmp_path / f"s{steps}.db")

        def main(steps=steps, path=path):
            model = scripted_model([tool_call_step(tool_call("work", {"n": i}))
                                    for i in range(steps)] + [reply("done")])
            a = agents.start_link(Worker, {"model": model, "store": path,
                                           "durable": {"key": "w", "snapshot_every": 40},
                                           "limits": {"steps": None}})
            agents.ask(a, "work a lot", timeout=None)
            store.close(path)

        run(main)
        conn = sqlite3.connect(path)
        entries = conn.execute("SELECT COUNT(*) FROM journal").fetchone()[0]
        snaps = conn.execute("SELECT COUNT(*) FROM snapshots").fetchone()[0]
        conn.close()
        assert snaps == 1 and entries < 45  # compacted: one snapshot, the entries since
        sizes[steps] = os.path.getsize(path)
    assert sizes[200] < 2.6 * sizes[100]  # linear, not quadratic


def test_replay_of_entries():
    view = journal.replay(None, [
        ("request", {"id": "r", "prompt": "hi", "principal": "ada", "metadata": {},
                     "timeout": 5, "limits": {}, "trace": None}),
        ("model", {"message": {"role": "assistant", "content": None, "tool_calls": [
            {"id": "c1", "name": "work", "arguments_text": "{}"}]}, "cursor": 1,
            "usage": {"steps": 1}, "req_usage": {"steps": 1}, "step": 1,
            "calls": [{"id": "c1", "name": "work", "arguments": {"n": 1}}]}),
        ("turn", {"results": {}, "queued": ["c1"], "awaiting": {}, "last_key": None,
                  "repeats": 1}),
        ("started", {"call_id": "c1"}),
        ("state", {"set": {"a": 1, "b": (1, 2)}, "del": []}),
        ("state", {"set": {}, "del": ["a"]}),
    ])
    o = view["open"]
    assert o["id"] == "r" and o["phase"] == "tools" and o["started"] == ["c1"]
    assert view["state"] == {"b": (1, 2)} and view["cursor"] == 1
    assert [m["role"] for m in view["messages"]] == ["user", "assistant"]
    assert journal.decode(journal.encode(("x", {1: b"y"}, [None]))) == ("x", {1: b"y"}, [None])


def test_durable_options_are_checked():
    def main():
        with pytest.raises(vm.BadArg, match="needs a key"):
            agents.start(Worker, {"model": scripted_model([]), "durable": True,
                                  "store": ":memory:"})
        with pytest.raises(vm.BadArg, match="unknown option"):
            agents.start(Worker, {"model": scripted_model([]), "durable": {"kee": "x"}})
        with pytest.raises(vm.BadArg, match="on_interrupted"):
            agents.start(Worker, {"model": scripted_model([]),
                                  "durable": {"key": "x", "on_interrupted": "maybe"}})
        return "ok"

    assert run(main) == "ok"


def test_two_agents_cannot_share_a_journal():
    def main():
        vm.process_flag("trap_exit", True)
        opts = {"model": scripted_model([]), "store": ":memory:", "durable": {"key": "same"}}
        agents.start_link(Worker, opts)
        with pytest.raises(vm.BadArg, match="holds the durable key"):
            agents.start_link(Worker, opts)
        return "ok"

    assert run(main) == "ok"


CREW = '''
import os, vm
from stdlib import agents

SIDE = os.environ["SIDE_FILE"]

@agents.tool
def step(n: int) -> str:
    """A step with a side effect (a line in a file, on disk before it returns)."""
    vm.sleep(0.15)
    with open(SIDE, "a") as f:
        f.write(f"{n}\\n")
        f.flush()
        os.fsync(f.fileno())
    return f"step {n} done"

def brain(request):
    done = sum(1 for m in request["messages"] if m["role"] == "tool")
    if done < 6:
        return agents.tool_call_step(agents.tool_call("step", {"n": done}))
    return agents.reply(f"finished after {done} tool results")

class Stepper(agents.Agent):
    tools = [step]
    durable = {"key": "stepper"}

def model():
    return agents.scripted_model([brain], when_exhausted="repeat_last")
'''

FIRST = '''
import sys, vm
sys.path.insert(0, sys.argv[2])
from crew import Stepper, model
from stdlib import agents

def main():
    a = agents.start_link(Stepper, {"model": model(), "store": sys.argv[1]})
    print("asking", flush=True)
    agents.ask(a, "six steps", request_id="job", timeout=None)

vm.run(main)
'''


def test_an_os_process_killed_mid_work_resumes_and_no_side_effect_repeats(tmp_path,
                                                                          monkeypatch):
    import signal
    import subprocess
    import sys

    (tmp_path / "crew.py").write_text(CREW)
    (tmp_path / "first.py").write_text(FIRST)
    side = tmp_path / "side.txt"
    path = str(tmp_path / "os.db")
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__)))))
    env = dict(os.environ, PYTHONPATH=root, SIDE_FILE=str(side))
    proc = subprocess.Popen([sys.executable, str(tmp_path / "first.py"), path, str(tmp_path)],
                            env=env, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "asking"
        for _ in range(400):  # until two steps have had their effect, then kill -9
            if side.exists() and len(side.read_text().split()) >= 2:
                break
            time.sleep(0.01)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    before = side.read_text().split()
    monkeypatch.setenv("SIDE_FILE", str(side))  # for the crew module imported here
    sys.path.insert(0, str(tmp_path))
    try:
        import crew

        def second():
            a = agents.start_link(crew.Stepper, {"model": crew.model(), "store": path})
            return agents.ask(a, "six steps", request_id="job", timeout=None), \
                agents.history(a)

        answer, history = vm.run(second)
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("crew", None)
    after = side.read_text().split()
    assert len(before) >= 2 and answer == "finished after 6 tool results"
    assert len(after) == len(set(after))  # no step's effect happened twice
    step_of = {c["id"]: json.loads(c["arguments_text"])["n"] for m in history
               if m["role"] == "assistant" for c in m.get("tool_calls") or ()}
    reported = {str(step_of[m["tool_call_id"]]) for m in history
                if m["role"] == "tool" and "interrupted" in m["content"]}
    assert set(after) | reported == {str(n) for n in range(6)}  # each ran, or was reported
    # at most the call the kill caught between its effect and its result's commit is both
    assert len(set(after) & reported) <= 1 and len(reported) <= 1
