"""The agent behaviour on the scripted model and the virtual clock."""

import logging

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vm
from stdlib import agents, otp_sys, supervisor
from stdlib.agents import budget, failure, reply, scripted_model, tool_call, tool_call_step
from vm.testing import drain, run

# ----------------------------------------------------------------------
# tools used by the tests (module level: they are sent to tool processes)


@agents.tool
def add(a: int, b: int) -> int:
    """Add two whole numbers."""
    return a + b


@agents.tool(timeout=None)
def tracked(n: int) -> str:
    """Report start and end to the registered 'tracker', taking 1 s."""
    vm.send("tracker", ("start", n))
    vm.sleep(1)
    vm.send("tracker", ("end", n))
    return f"done {n}"


@agents.tool(timeout=2.0)
def slow(seconds: float) -> str:
    """Sleep for a while."""
    vm.send("tracker", ("slow_started", vm.monotonic()))
    vm.sleep(seconds)
    vm.send("tracker", ("slow_woke", vm.monotonic()))
    return "woke"


def workers():
    """Tool and model-call processes still alive (by the labels the agent gives them)."""
    return [p for p in vm.processes()
            if str(vm.process_info(p, "label") or "").startswith(("tool ", "agent model call"))]


@agents.tool
def leaky(path: str) -> str:
    """Fail with a secret in the message."""
    raise ConnectionError(f"cannot open {path} with api_key=sk-abcdefghijklmnopqrstu")


@agents.tool(policy="crash")
def fragile() -> str:
    """Crash, and take the agent down."""
    raise RuntimeError("disk on fire; token=ghp_abcdefghijklmnopqrstuvwxyz")


@agents.tool
def whoami() -> dict:
    """What request is this call serving?"""
    r = agents.current_request()
    return {"metadata": r["metadata"], "tool": r["tool"], "call_id": r["call_id"]}


@agents.tool(timeout=None)
def spin(n: int) -> int:
    """Busy pure-Python work: no VM call inside the loop."""
    vm.send("tracker", "spin_start")
    total = 0
    for i in range(n):
        total += i % 7
    vm.send("tracker", "spin_end")
    return total


class Helper(agents.Agent):
    instructions = "You help."
    tools = [add, tracked, slow, leaky, fragile, whoami, spin]


def tracker_loop(log):
    while True:
        msg = vm.receive()
        if type(msg) is tuple and msg[0] == "dump":
            vm.send(msg[1], ("log", list(log)))
        else:
            log.append(msg)


def start_tracker():
    pid = vm.spawn_link(tracker_loop, [])
    vm.register("tracker", pid)
    return pid


def tracker_log():
    vm.send("tracker", ("dump", vm.self()))
    return vm.receive(("log", vm.ANY))[1]


def start(steps, **opts):
    model = opts.pop("model", None) or scripted_model(steps)
    return agents.start_link(Helper, dict(opts, model=model))


# ----------------------------------------------------------------------
# the loop


def test_think_act_observe_until_an_answer():
    def main():
        a = start([tool_call_step([tool_call("add", {"a": 2, "b": 3})], usage=(10, 5)),
                   reply("5", usage=(20, 1))])
        answer = agents.ask(a, "2+3?")
        return answer, agents.usage(a), agents.history(a)

    answer, usage, history = run(main)
    assert answer == "5"
    assert usage["total"] == {"steps": 2, "model_calls": 2, "tool_calls": 1, "input_tokens": 30,
                              "output_tokens": 6, "cost": 0}
    assert [m["role"] for m in history] == ["user", "assistant", "tool", "assistant"]
    assert history[2] == {"role": "tool", "tool_call_id": history[1]["tool_calls"][0]["id"],
                          "name": "add", "content": "5"}


def test_the_model_sees_the_system_prompt_tools_and_conversation():
    def model_step(request):
        # runs in the model call's process: report by message (a list would be copied)
        vm.send("seen", ("seen", request))
        return reply("ok")

    m = scripted_model([model_step, model_step])

    def main():
        vm.register("seen", vm.self())
        a = start(None, model=m, model_options={"max_tokens": 64, "temperature": 0.2})
        agents.ask(a, "one")
        agents.ask(a, "two")
        return [vm.receive(("seen", vm.ANY))[1] for _ in range(2)]

    first, second = run(main)
    assert first["messages"][0] == {"role": "system", "content": "You help."}
    assert [t["name"] for t in first["tools"]] == ["add", "tracked", "slow", "leaky", "fragile",
                                                   "whoami", "spin"]
    assert first["options"] == {"max_tokens": 64, "temperature": 0.2}
    assert [m["content"] for m in second["messages"]] == ["You help.", "one", "ok", "two"]


def test_asks_while_busy_are_served_in_order():
    def asker(a, prompt, me):
        vm.send(me, (prompt, agents.ask(a, prompt)))

    def main():
        a = start([reply("A", latency=5), reply("B", latency=1), reply("C")])
        for p in ("p1", "p2", "p3"):
            vm.spawn(asker, a, p, vm.self())
            vm.sleep(0.1)
        return [vm.receive() for _ in range(3)]

    assert run(main) == [("p1", "A"), ("p2", "B"), ("p3", "C")]


def test_streaming_deltas_reach_the_stream_process():
    def main():
        a = start([tool_call_step(tool_call("add", {"a": 1, "b": 1}), chunk_size=3),
                   reply("the answer is 2", chunk_size=4)])
        answer = agents.ask(a, "1+1", stream_to=vm.self(), stream_tag="s")
        return answer, [d[2] for d in drain(("agent_delta", "s", vm.ANY))]

    answer, deltas = run(main)
    text = "".join(d["content"] for d in deltas if "content" in d)
    assert text == answer == "the answer is 2"
    assert any("tool_call" in d for d in deltas)
    results = [d["tool_result"] for d in deltas if "tool_result" in d]
    assert results[0]["name"] == "add" and results[0]["text"] == "2" and results[0]["ok"]


def test_metadata_reaches_hooks_model_and_tools():
    class Hooked(Helper):
        def before_model_call(self, request, context):
            vm.send("tracker", ("model", request["metadata"], context["step"]))
            return request

        def after_tool_result(self, call, result, context):
            vm.send("tracker", ("tool", call["name"], result["text"]))
            return dict(result, text=result["text"].upper())

        def on_request_done(self, outcome, context):
            vm.send("tracker", ("done", outcome[0], context["metadata"]))

    def main():
        start_tracker()
        m = scripted_model([tool_call_step(tool_call("whoami", {})), "fine"])
        a = agents.start_link(Hooked, {"model": m})
        agents.ask(a, "who", metadata={"trace": "t-1"})
        return tracker_log(), agents.history(a)

    log, history = run(main)
    assert log[0] == ("model", {"trace": "t-1"}, 1)
    assert log[1][0:2] == ("tool", "whoami") and '"trace": "t-1"' in log[1][2]
    assert '"TOOL": "WHOAMI"' in history[2]["content"]  # after_tool_result rewrote it
    assert log[-1] == ("done", "ok", {"trace": "t-1"})


def test_before_tool_call_can_answer_instead_of_running():
    class Gate(Helper):
        def before_tool_call(self, call, context):
            if call["name"] == "fragile":
                return ("result", "refused by policy")
            return call

    def main():
        m = scripted_model([tool_call_step(tool_call("fragile", {})), "ok"])
        a = agents.start_link(Gate, {"model": m})
        return agents.ask(a, "go"), agents.history(a)[2]["content"]

    assert run(main) == ("ok", "refused by policy")


# ----------------------------------------------------------------------
# tools: fan-out, timeouts, errors, crashes


def test_one_turn_cannot_start_792_calls_at_once():
    calls = [tool_call("tracked", {"n": n}) for n in range(792)]

    def main():
        start_tracker()
        a = start([tool_call_step(calls), "all done"], max_concurrent_tools=4,
                  max_tool_calls_per_turn=1000)
        t0 = vm.monotonic()
        answer = agents.ask(a, "fan out", timeout=None)
        took = vm.monotonic() - t0
        running = peak = 0
        for ev in tracker_log():
            running += 1 if ev[0] == "start" else -1
            peak = max(peak, running)
        return answer, peak, took, agents.usage(a)["total"]["tool_calls"]

    answer, peak, took, tool_calls = run(main)
    assert answer == "all done" and peak == 4 and tool_calls == 792
    assert took == pytest.approx(792 / 4, abs=1)


def ticker():
    while True:
        vm.send("tracker", "tick")
        vm.sleep(0)


def test_a_cpu_heavy_tool_is_preempted_like_any_process():
    def main():
        start_tracker()
        a = start([tool_call_step(tool_call("spin", {"n": 300_000})), "spun"])
        t = vm.spawn_link(ticker)
        answer = agents.ask(a, "spin", timeout=None)
        vm.unlink(t)
        vm.exit(t, "kill")
        log = tracker_log()
        inside = log[log.index("spin_start") + 1:log.index("spin_end")]
        return answer, inside.count("tick")

    answer, ticks = run(main, seed=1)
    assert answer == "spun" and ticks > 10  # the ticker ran while the tool looped


def test_calls_beyond_the_per_turn_cap_are_answered_with_an_error():
    def main():
        start_tracker()
        a = start([tool_call_step([tool_call("add", {"a": n, "b": 0}) for n in range(5)]),
                   "ok"], max_tool_calls_per_turn=3)
        agents.ask(a, "go")
        return [m["content"] for m in agents.history(a) if m["role"] == "tool"]

    contents = run(main)
    assert contents[:3] == ["0", "1", "2"]
    assert all("at most 3 tool calls per turn" in c for c in contents[3:]) and len(contents) == 5


def test_a_slow_tool_is_killed_at_its_timeout_and_the_model_told():
    def main():
        start_tracker()
        a = start([tool_call_step(tool_call("slow", {"seconds": 100})), "gave up"])
        t0 = vm.monotonic()
        answer = agents.ask(a, "wait")
        took = vm.monotonic() - t0
        left = workers()
        vm.sleep(200)
        return answer, took, agents.history(a)[2]["content"], left, tracker_log()

    answer, took, told, left, log = run(main)
    assert answer == "gave up" and took == pytest.approx(2.0, abs=0.01)
    assert told == "error: slow did not finish within 2.0 s and was stopped"
    assert left == [] and [e[0] for e in log] == ["slow_started"]  # killed, never woke


def test_tool_errors_go_back_to_the_model_redacted():
    def main():
        a = start([tool_call_step(tool_call("leaky", {"path": "/etc/x"})), "sorry"])
        agents.ask(a, "read")
        return agents.history(a)[2]["content"]

    told = run(main)
    assert told.startswith("error: ConnectionError: cannot open /etc/x with api_key=")
    assert "sk-abcdef" not in told and "[REDACTED]" in told


def test_bad_tool_calls_are_explained_to_the_model():
    def main():
        a = start([tool_call_step([tool_call("nope", {}), tool_call("add", {"a": 1}),
                                   tool_call("add", '{"a": 1,')]), "ok"])
        agents.ask(a, "go")
        return [m["content"] for m in agents.history(a) if m["role"] == "tool"]

    nope, missing, broken = run(main)
    assert "no tool named 'nope'" in nope and "add" in nope
    assert "add needs b" in missing
    assert "not valid JSON" in broken


def test_crash_policy_stops_the_agent_and_its_supervisor_restarts_it(caplog):
    def main():
        m = scripted_model([tool_call_step(tool_call("fragile", {}))], when_exhausted="repeat_last")
        sup = supervisor.start_link_children([(Helper, {"model": m})], strategy="one_for_one",
                                             intensity=3, period=60)[1]
        first = supervisor.which_children(sup)[0][1]
        with pytest.raises(agents.AgentError) as e:
            agents.ask(first, "go")
        vm.sleep(0.1)
        second = supervisor.which_children(sup)[0][1]
        return e.value.reason, first, second

    with caplog.at_level(logging.ERROR):
        reason, first, second = run(main)
    assert reason[0] == "tool_crashed" and reason[1] == "fragile"
    assert reason[2].exc_type == "RuntimeError" and "ghp_" not in reason[2].message
    assert "ghp_abcdef" not in caplog.text  # the crash report is redacted too
    assert first != second and isinstance(second, vm.Pid)


def test_repeated_crashes_exhaust_the_supervisors_intensity():
    def main():
        vm.process_flag("trap_exit", True)
        m = scripted_model([tool_call_step(tool_call("fragile", {}))], when_exhausted="repeat_last")
        sup = supervisor.start_link_children([(Helper, {"model": m})], strategy="one_for_one",
                                             intensity=2, period=60)[1]
        for _ in range(3):
            agent = supervisor.which_children(sup)[0][1]
            with pytest.raises(agents.AgentError):
                agents.ask(agent, "go")
        return vm.receive(("EXIT", sup, vm.ANY), timeout=5)

    assert run(main)[2] == "shutdown"  # the supervisor gave up


# ----------------------------------------------------------------------
# limits, budgets, loops


def test_same_tool_same_arguments_three_times_is_a_loop():
    def main():
        m = scripted_model([tool_call_step(tool_call("add", {"a": 1, "b": 1}))],
                           when_exhausted="repeat_last")
        a = start(None, model=m)
        with pytest.raises(agents.AgentError) as e:
            agents.ask(a, "loop")
        return e.value.reason, e.value.usage

    reason, usage = run(main)
    assert reason == ("loop_detected", {"tool": "add", "arguments": {"a": 1, "b": 1}, "times": 3})
    assert usage["model_calls"] == 3 and usage["tool_calls"] == 2


def test_step_limit_names_what_ran_out():
    def main():
        m = scripted_model(
            [lambda r: tool_call_step(tool_call("add", {"a": r["cursor"], "b": 0}))],
            when_exhausted="repeat_last")
        a = start(None, model=m)
        with pytest.raises(agents.AgentError) as e:
            agents.ask(a, "go", limits={"steps": 4})
        return e.value.reason

    assert run(main) == ("budget_exhausted", {"resource": "steps", "used": 4, "reserved": 0,
                                              "asked": 1, "limit": 4, "budget": "request"})


def test_the_reservation_refuses_a_call_that_could_overshoot():
    def step(request):
        vm.send("made", ("made", request["cursor"]))  # counted by message, in main
        return reply("x" * 10, usage=(10, 90))

    def main():
        vm.register("made", vm.self())
        b = budget.start_link({"output_tokens": 250}, name="tight")
        m = scripted_model([step], when_exhausted="repeat_last", max_tokens=100)
        a = start(None, model=m, budget="tight")
        answers = [agents.ask(a, "one"), agents.ask(a, "two")]
        with pytest.raises(agents.AgentError) as e:
            agents.ask(a, "three")  # 180 used + 100 reserved > 250: never called
        made = 0
        while vm.receive(("made", vm.ANY), timeout=0) is not vm.TIMEOUT:
            made += 1
        return answers, e.value.reason, budget.usage(b), made

    answers, reason, books, calls = run(main)
    assert calls == 2 and books["used"]["output_tokens"] == 180
    assert reason == ("budget_exhausted", {"resource": "output_tokens", "used": 180,
                                           "reserved": 0, "asked": 100, "limit": 250,
                                           "budget": "tight"})


def test_cost_limits_use_the_models_prices():
    def main():
        m = scripted_model([reply("a", usage=(1000, 100))], when_exhausted="repeat_last",
                           max_tokens=100, price={"input": 1.0, "output": 2.0})
        a = start(None, model=m)
        agents.ask(a, "x", limits={"cost": 0.0025})
        with pytest.raises(agents.AgentError) as e:
            agents.ask(a, "y", limits={"cost": 0.0001})
        return agents.usage(a)["total"]["cost"], e.value.reason[1]["resource"]

    cost, ran_out = run(main)
    assert cost == pytest.approx(0.0012)
    assert ran_out == "cost"


def test_a_runaway_agent_stops_itself_and_its_supervisor_gives_up():
    def main():
        vm.process_flag("trap_exit", True)
        team = budget.start_link({"model_calls": 5}, name="team")
        m = scripted_model(
            [lambda r: tool_call_step(tool_call("add", {"a": r["cursor"], "b": 1}))],
            when_exhausted="repeat_last")
        spec = (Helper, {"model": m, "budget": "team", "on_budget_exhausted": "stop_agent"})
        sup = supervisor.start_link_children([spec], strategy="one_for_one", intensity=2,
                                             period=60)[1]
        reasons = []
        for _ in range(3):
            agent = supervisor.which_children(sup)[0][1]
            with pytest.raises(agents.AgentError) as e:
                agents.ask(agent, "forever")
            reasons.append(e.value.reason[0])
        return reasons, vm.receive(("EXIT", sup, vm.ANY), timeout=5), budget.usage(team)["used"]

    reasons, sup_exit, used = run(main)
    assert reasons == ["budget_exhausted"] * 3
    assert sup_exit[2] == "shutdown" and used["model_calls"] == 5


def test_a_supervisors_agents_share_one_budget():
    def main():
        m = scripted_model([reply("ok", usage=(5, 40))], when_exhausted="repeat_last",
                           max_tokens=50)
        children = [budget.child_spec({"output_tokens": 200}, name="crew"),
                    {"id": "a", "start": (Helper.start_link, ({"model": m, "budget": "crew"},))},
                    {"id": "b", "start": (Helper.start_link, ({"model": m, "budget": "crew"},))}]
        sup = supervisor.start_link_children(children, strategy="one_for_one")[1]
        kids = {c[0]: c[1] for c in supervisor.which_children(sup)}
        done = []
        for who in ["a", "b", "a", "b", "a"]:
            try:
                done.append(agents.ask(kids[who], "hi"))
            except agents.AgentError as e:
                done.append(e.reason[1]["budget"])
        return done, budget.usage("crew")["used"]["output_tokens"]

    done, used = run(main)
    assert done == ["ok", "ok", "ok", "ok", "crew"] and used == 160


def test_request_deadline_stops_the_model_call():
    def main():
        a = start([reply("late", latency=100)])
        t0 = vm.monotonic()
        with pytest.raises(agents.AgentError) as e:
            agents.ask(a, "slow", timeout=5)
        return e.value.reason, vm.monotonic() - t0, workers()

    reason, took, alive = run(main)
    assert reason == ("deadline_exceeded", {"timeout": 5, "while": "thinking", "step": 1})
    assert took == pytest.approx(5, abs=0.01) and alive == []


def test_request_deadline_stops_tools_and_records_their_usage():
    def main():
        start_tracker()
        a = start([tool_call_step([tool_call("tracked", {"n": n}) for n in range(3)],
                                  usage=(10, 10)), "never"])
        with pytest.raises(agents.AgentError) as e:
            agents.ask(a, "go", timeout=0.5)
        vm.sleep(2)
        return e.value.reason[1]["while"], e.value.usage, tracker_log(), agents.history(a)

    where, usage, log, history = run(main)
    assert where == "acting"
    assert usage["tool_calls"] == 3 and usage["output_tokens"] == 10  # spent is recorded
    assert sorted(e[0] for e in log) == ["start", "start", "start"]  # none ran to its end
    assert [m["content"] for m in history if m["role"] == "tool"] == [
        "error: not run (deadline_exceeded)"] * 3  # the conversation stays valid


def test_cancel_reaches_the_running_request():
    def asker(a, me):
        try:
            agents.ask(a, "long")
        except agents.AgentError as e:
            vm.send(me, ("failed", e.reason))

    def main():
        a = start([reply("late", latency=100)])
        vm.spawn(asker, a, vm.self())
        vm.sleep(1)
        assert agents.cancel(a, "user pressed stop") == "ok"
        assert agents.cancel(a) == "idle"
        return vm.receive(("failed", vm.ANY))

    assert run(main) == ("failed", ("cancelled", "user pressed stop"))


def test_an_asker_that_dies_cancels_its_request():
    def main():
        start_tracker()
        a = start([tool_call_step(tool_call("slow", {"seconds": 1.5})), "late"])
        asker = vm.spawn(lambda: agents.ask(a, "go"))
        vm.sleep(0.5)
        vm.exit(asker, "kill")
        vm.sleep(0.1)
        left = workers()
        vm.sleep(5)
        return agents.usage(a)["last_request"]["reason"], left, tracker_log()

    reason, left, log = run(main)
    assert reason == ("cancelled", "the asker exited")
    assert left == [] and [e[0] for e in log] == ["slow_started"]


def test_model_errors_end_the_request_with_the_reason():
    def main():
        a = start([failure("authentication", "bad key", status=401)])
        with pytest.raises(agents.AgentError) as e:
            agents.ask(a, "hi")
        return e.value.reason

    assert run(main) == ("model_error", "authentication", {
        "message": "bad key", "retryable": False, "status": 401, "attempts": 1})


def broken_step(request):
    raise KeyError("a bug in the model client")


def test_a_crashing_model_call_ends_the_request_with_the_reason():
    def main():
        a = start([broken_step])
        with pytest.raises(agents.AgentError) as e:
            agents.ask(a, "hi")
        return e.value.reason, workers(), vm.is_process_alive(a)

    reason, left, alive = run(main)
    assert alive  # the agent survives its model call's crash
    assert reason[:2] == ("model_error", "internal") and "a bug in the model client" in \
        reason[2]["message"]
    assert left == []


def test_unknown_options_are_refused_loudly():
    def main():
        with pytest.raises(vm.BadArg, match="unknown option 'max_concurent_tools'"):
            agents.start_link(Helper, {"max_concurent_tools": 2})
        with pytest.raises(vm.BadArg, match="unknown option 'step'"):
            a = start(["x"])
            agents.ask(a, "hi", limits={"step": 3})
        with pytest.raises(vm.BadArg, match="cost limit needs the model's prices"):
            agents.start_link(Helper, {"model": scripted_model(["x"]), "limits": {"cost": 1}})
        return True

    assert run(main)


def test_an_agent_is_a_state_machine_the_observer_can_read():
    def main():
        a = start([reply("late", latency=10)])
        vm.spawn(lambda: agents.ask(a, "hi"))
        vm.sleep(1)
        state, data = otp_sys.get_state(a)
        label = vm.process_info(a, "label")
        return state, data["req"]["step"], label

    assert run(main) == ("thinking", 1, "agent Helper")


# ----------------------------------------------------------------------
# the books balance whatever is killed when


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1),
       latencies=st.lists(st.floats(0.0, 3.0), min_size=1, max_size=4),
       kills=st.lists(st.tuples(st.integers(0, 3), st.floats(0.0, 8.0)), max_size=4))
def test_any_interleaving_of_agent_kills_and_replies_balances_the_books(seed, latencies, kills):
    """Agents share a budget; their model calls and tools take random times; some
    agents are killed at random moments. Afterwards nothing is left reserved, and
    every model call is counted exactly once: settled at its usage (7 output tokens)
    or, if it was cut off, charged at its reservation (max_tokens 50)."""

    def main():
        team = budget.start({"output_tokens": 10_000})
        steps = [tool_call_step(tool_call("slow", {"seconds": lat}), usage=(3, 7), latency=lat)
                 for lat in latencies] + [reply("done", usage=(3, 7))]
        pids = []
        for _ in range(4):
            m = scripted_model(steps, max_tokens=50)
            a = agents.start(Helper, {"model": m, "budget": team})
            pids.append(a)
            vm.spawn(lambda a=a: agents.ask(a, "go", timeout=None))
        for who, when in sorted(kills, key=lambda k: k[1]):
            vm.sleep(max(0.0, when - vm.monotonic()))
            vm.exit(pids[who], "kill")
        vm.sleep(60)
        return budget.usage(team)

    start_tracker_main = main

    def wrapped():
        start_tracker()
        return start_tracker_main()

    books = run(wrapped, seed=seed)
    assert books["open_reservations"] == 0
    assert all(v == 0 for v in books["reserved"].values())
    used = books["used"]
    extra = used["output_tokens"] - 7 * used["model_calls"]
    assert extra % (50 - 7) == 0 and 0 <= extra // (50 - 7) <= len(kills)


@agents.tool
def delegate(question: str) -> str:
    """Ask the inner agent."""
    return agents.ask("inner", question, timeout=100)


class Outer(agents.Agent):
    tools = [delegate]


def test_cancelling_an_outer_request_reaches_the_agent_it_asked():
    def main():
        inner = agents.start_link(Helper, {"model": scripted_model([reply("late", latency=50)])},
                                  name="inner")
        outer = agents.start_link(Outer, {"model": scripted_model(
            [tool_call_step(tool_call("delegate", {"question": "deep"})), "never"])})
        with pytest.raises(agents.AgentError) as e:
            agents.ask(outer, "go", timeout=3)
        vm.sleep(0.1)
        return (e.value.reason[0], agents.usage(inner)["last_request"]["reason"], workers(),
                vm.monotonic())

    outer_reason, inner_reason, left, now = run(main)
    assert outer_reason == "deadline_exceeded"
    assert inner_reason == ("cancelled", "the asker exited")  # the tool's process was its asker
    assert left == [] and now < 4
