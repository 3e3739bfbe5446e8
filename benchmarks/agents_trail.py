"""What tracing, the audit trail and durable state cost an agent, and what the store holds.

Two measurements, beamlet alone (each against beamlet with the feature off,
in the same run, so a noisy machine hits both alike):

- `step_ms`: one agent answers after `steps` think-act rounds (a scripted
  model call, then a tool call, each round), with nothing kept ("off"),
  with tracing on (spans kept in memory; then also written as JSON lines),
  with the audit trail on, with durable state on, and with all of them.
  Rounds interleave the configurations; each figure is the median of the
  rounds, in milliseconds per step, with its ratio to "off".
- `store`: one durable agent's conversation of `store_steps` steps (a model
  call and a tool call each), asked in four parts. After each part the
  store's file size (the WAL checkpointed into it) against the sum of the
  journal entries written so far (the deltas), and against what a
  checkpoint of the whole conversation at every step would have written
  (the O(N^2) growth of frameworks that store full state per step).

    python -m benchmarks.agents_trail [--quick] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import tempfile
import time

import vm
from stdlib import agents
from stdlib.agents import journal

CONFIGS = ("off", "spans", "spans+file", "audit", "durable", "all")


@agents.tool
def note(n: int) -> str:
    """Note a number."""
    return f"noted {n}"


def brain(request):
    """A tool call per round until the conversation holds `rounds` tool results."""
    tools = sum(1 for m in request["messages"] if m["role"] == "tool")
    if tools >= request["metadata"]["rounds"]:
        return agents.reply("done")
    return agents.tool_call_step(agents.tool_call("note", {"n": tools}))


class Stepper(agents.Agent):
    instructions = "You note numbers."
    tools = [note]
    loop_threshold = None
    limits = {"steps": None}


def _options(config, directory):
    store_path = os.path.join(directory, f"{config}.db")
    opts = {"model": agents.scripted_model([brain], when_exhausted="repeat_last"),
            "store": store_path}
    if config in ("audit", "all"):
        opts["audit"] = True
    if config in ("durable", "all"):
        opts["durable"] = {"key": f"bench-{config}"}
    return opts, store_path


def step_main(config, steps, directory):
    opts, store_path = _options(config, directory)
    if config in ("spans", "spans+file", "all"):
        agents.tracing.start(os.path.join(directory, f"{config}.jsonl")
                             if config != "spans" else None, keep=1000)
    agent = agents.start_link(Stepper, opts)
    agents.ask(agent, "warm up", metadata={"rounds": 2}, timeout=None)
    agents.reset(agent)
    t0 = time.perf_counter()
    agents.ask(agent, "go", metadata={"rounds": steps}, timeout=None)
    if config != "off":
        agents.tracing.flush()
        if config in ("audit", "durable", "all"):
            agents.store.sync(store_path)
    took = time.perf_counter() - t0
    agents.tracing.stop()
    return took / (steps + 1) * 1000.0


def measure_steps(steps, rounds):
    per = {c: [] for c in CONFIGS}
    for _ in range(rounds):
        for config in CONFIGS:
            with tempfile.TemporaryDirectory() as d:
                per[config].append(vm.run(step_main, config, steps, d))
    off = statistics.median(per["off"])
    return {c: {"ms": statistics.median(v), "rounds": v,
                "ratio": statistics.median(v) / off} for c, v in per.items()}


def store_main(directory, steps, parts):
    store_path = os.path.join(directory, "grow.db")
    written = {"bytes": 0, "entries": 0}
    real_flush = journal.Journal.flush

    def counting_flush(self):
        for _kind, body, _ts in self.pending:
            written["bytes"] += len(body.encode("utf-8"))
            written["entries"] += 1
        real_flush(self)

    journal.Journal.flush = counting_flush
    try:
        agent = agents.start_link(Stepper, {
            "model": agents.scripted_model([brain], when_exhausted="repeat_last"),
            "store": store_path, "durable": {"key": "grow"}})
        out = []
        done = 0
        for part in range(parts):
            per = steps // parts
            done += per
            agents.ask(agent, f"part {part}", metadata={"rounds": done}, timeout=None)
            agents.store.sync(store_path)
            history = agents.history(agent)
            out.append({"steps": done, "file_bytes": _checkpointed_size(store_path),
                        "deltas_bytes": written["bytes"], "entries": written["entries"],
                        "messages": len(history),
                        "full_checkpoints_bytes": _full_checkpoints(history)})
        return out
    finally:
        journal.Journal.flush = real_flush


def _checkpointed_size(path):
    conn = sqlite3.connect(path)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    return os.path.getsize(path)


def _full_checkpoints(history):
    """What storing the whole conversation after every message would have written."""
    total = size = 0
    for m in history:
        size += len(json.dumps(m))
        total += size
    return total


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)
    steps, rounds = (100, 1) if args.quick else (400, 5)
    store_steps = 1000 if args.quick else 10_000
    result = {"steps": steps, "rounds": rounds, "store_steps": store_steps}
    result["step_ms"] = measure_steps(steps, rounds)
    print(f"an agent step (a scripted model call and a tool call), {steps} steps per ask, "
          f"median of {rounds} rounds:")
    for c, r in result["step_ms"].items():
        print(f"  {c:<11} {r['ms']:7.3f} ms/step  x{r['ratio']:.2f}  "
              f"(rounds {', '.join(f'{x:.3f}' for x in r['rounds'])})")
    with tempfile.TemporaryDirectory() as d:
        result["store"] = vm.run(store_main, d, store_steps, 4)
    print(f"\none durable conversation of {store_steps:,} steps, asked in four parts:")
    for r in result["store"]:
        print(f"  after {r['steps']:>6,} steps: store {r['file_bytes'] / 1e6:7.2f} MB, "
              f"deltas {r['deltas_bytes'] / 1e6:7.2f} MB ({r['entries']:,} entries), "
              f"x{r['file_bytes'] / r['deltas_bytes']:.2f} of the deltas; a full checkpoint "
              f"per message would have written {r['full_checkpoints_bytes'] / 1e6:,.0f} MB")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    return result


if __name__ == "__main__":
    main()
