"""Agents as processes: many agents waiting on a slow model, and the cost of a step.

Three figures, against a fake OpenAI-compatible server in its own OS process
(benchmarks/agents_server.py):

- `fanout_wall_s`: 1,000 agents each make one model call; the server answers
  each after 1 s. Wall time from the first ask to the last answer. Target: under
  3 s on one node.
- `fanout_threads_added`: the most OS threads the process had while those
  calls waited, minus before (sampled every 10 ms). Target: 0 (one thread per
  call would need 1,000).
- `step_overhead_ms`: one agent answers after `steps` think-act rounds (a model
  call, then a tool call, each round); the time per round minus the server's
  latency (`step_delay`). asyncio's twin runs the same loop (agents_asyncio.py)
  against the same server in the same run.

    python -m benchmarks.agents [--quick]
"""

from __future__ import annotations

import time
from urllib.parse import urlsplit

from .common import Figure, Recorder, Target, median

NAME = "agents"
FIGURES = (
    Figure("fanout_wall_s", "s", "lower",
           "1,000 agents, one model call each, the model answering after 1 s: wall time"),
    Figure("fanout_threads_added", "threads", "lower",
           "OS threads while those 1,000 calls wait, minus before", ratio=False),
    Figure("step_overhead_ms", "ms", "lower",
           "time of an agent step (a model call and a tool call) minus the model's latency"),
)
TARGETS = (
    Target("fanout_wall_s", None, "max", 3.0),
    Target("fanout_threads_added", None, "max", 0),
)


def params(quick: bool) -> dict:
    return {"agents": 1000, "delay": 1.0, "steps": 20 if quick else 100, "step_delay": 0.01,
            "reps": 3 if quick else 5}


def _threads() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


def _headers(delay, steps=0):
    return {"x-fake-delay": str(delay), "x-fake-steps": str(steps)}


# ------------------------------------------------------------------ beamlet

try:  # module-level classes and tools, as user code would have them
    from stdlib import agents as _agents

    class Plain(_agents.Agent):
        instructions = "You help."

    @_agents.tool
    def noop(i: int) -> str:
        """Do nothing."""
        return f"noop {i}"

    class Stepper(_agents.Agent):
        instructions = "You help."
        tools = [noop]
        limits = {"steps": 1_000_000}
except Exception:  # noqa: BLE001 - stdlib.agents not there: run_beamlet reports n/a
    _agents = None


def _sampler(parent):
    import vm
    peak = _threads()
    while vm.receive("stop", timeout=0.01) is vm.TIMEOUT:
        peak = max(peak, _threads())
    vm.send(parent, ("peak", peak))


def _ask_one(agent, parent):
    import vm
    vm.send(parent, ("answered", _agents.ask(agent, "hi", timeout=60)))


def fanout_main(url, p):
    import vm
    model = _agents.openai_model(base_url=url, api_key="bench", model="fake", timeout=60,
                                 headers=_headers(p["delay"]))
    pids = [_agents.start(Plain, {"model": model}) for _ in range(p["agents"])]
    me = vm.self()
    before = _threads()  # the node's own threads (its watchdog) are already there
    sampler = vm.spawn(_sampler, me)
    t0 = time.perf_counter()
    for a in pids:
        vm.spawn(_ask_one, a, me)
    for _ in pids:
        vm.receive(("answered", vm.ANY))
    wall = time.perf_counter() - t0
    vm.send(sampler, "stop")
    return wall, before, vm.receive(("peak", int))[1]


def steps_main(url, p):
    model = _agents.openai_model(base_url=url, api_key="bench", model="fake", timeout=60,
                                 headers=_headers(p["step_delay"], p["steps"]))
    agent = _agents.start(Stepper, {"model": model, "loop_threshold": None})
    _agents.ask(agent, "warm up", timeout=None)  # connect once, like the asyncio twin
    per_step = []
    for _ in range(p["reps"]):
        _agents.reset(agent)
        t0 = time.perf_counter()
        _agents.ask(agent, "go", timeout=None)
        per_step.append((time.perf_counter() - t0) / (p["steps"] + 1))
    return per_step


def _report(rec, p, wall, before, peak, per_step, how):
    rec.add("fanout_wall_s", wall, "s",
            note=f"{p['agents']:,} agents, model latency {p['delay']} s; {how}")
    rec.add("fanout_threads_added", peak - before, "threads",
            note=f"{before} OS threads before, at most {peak} while the calls waited")
    over = [(s - p["step_delay"]) * 1000.0 for s in per_step]
    rec.add("step_overhead_ms", median(over), "ms",
            note=f"{p['steps']} tool rounds per ask, model latency {p['step_delay'] * 1000:.0f} "
                 f"ms subtracted; median of {len(over)}: "
                 + ", ".join(f"{x:.2f}" for x in over))


def run_beamlet(p):
    from .agents_server import fake_server
    from .beamlet_support import require_stdlib
    require_stdlib("agents", "Agent", "ask", "openai_model")
    import vm
    rec = Recorder(NAME, "beamlet", p)
    with fake_server() as url:
        wall, before, peak = vm.run(fanout_main, url, p)
        per_step = vm.run(steps_main, url, p)
    _report(rec, p, wall, before, peak, per_step,
            "an agent process, a model-call process and a connection process per call")
    return rec.records


# ------------------------------------------------------------------ asyncio

async def aio_fanout(url, p):
    import asyncio

    from .agents_asyncio import Connection, ask
    parts = urlsplit(url)
    headers = list(_headers(p["delay"]).items())
    before = _threads()
    peak = [before]
    done = asyncio.Event()

    async def sample():
        while not done.is_set():
            peak[0] = max(peak[0], _threads())
            await asyncio.sleep(0.01)

    async def one():
        conn = await Connection(parts.hostname, parts.port).open()
        try:
            return await ask(conn, "hi", headers=headers, max_steps=1)
        finally:
            conn.close()

    sampler = asyncio.create_task(sample())
    t0 = time.perf_counter()
    await asyncio.gather(*(one() for _ in range(p["agents"])))
    wall = time.perf_counter() - t0
    done.set()
    await sampler
    return wall, before, peak[0]


async def aio_steps(url, p):
    from .agents_asyncio import Connection, ask
    parts = urlsplit(url)
    headers = list(_headers(p["step_delay"], p["steps"]).items())
    conn = await Connection(parts.hostname, parts.port).open()
    try:
        await ask(conn, "warm up", headers=headers, max_steps=p["steps"] + 1)
        per_step = []
        for _ in range(p["reps"]):
            t0 = time.perf_counter()
            await ask(conn, "go", headers=headers, max_steps=p["steps"] + 1)
            per_step.append((time.perf_counter() - t0) / (p["steps"] + 1))
        return per_step
    finally:
        conn.close()


def run_asyncio(p):
    import asyncio

    from .agents_server import fake_server
    rec = Recorder(NAME, "asyncio", p)
    with fake_server() as url:
        wall, before, peak = asyncio.run(aio_fanout(url, p))
        per_step = asyncio.run(aio_steps(url, p))
    _report(rec, p, wall, before, peak, per_step,
            "a task and a connection per call (agents_asyncio.py)")
    return rec.records


if __name__ == "__main__":
    from .cli import main_for
    main_for(NAME)
