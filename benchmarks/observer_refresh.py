"""Observer refresh: how long a process-table refresh takes with many idle processes.

A node runs N idle processes (parked in receive). From another thread, as
`top` does, the benchmark asks the node for the observer's snapshots and
times each one from the request to the answer (the node thread is held for
the snapshot part; the rest is the hand-over):

    table         top 20 by reductions since the previous refresh (top's refresh)
    table+render  the same, plus the text view top draws
    memory        top 20 by memory (the process_info estimate, cached per process)
    filter        a substring filter over names, labels and initial calls
    detail        one process in full (process_info, messages, memory estimate)
    system        counts, run queues and mailbox totals (one pass over the table)

With `--accounting` the node runs with scheduling accounting on from the
start (so every process has figures: the worst case for the observer's
scheduling columns), and two more cases run:

    sched table   what procs() and top() take: the table, its scheduling
                  columns, and every process's run time kept for the next share
    sched share   the same, ranked by the share of run time since the last look

Each figure is the median (and the worst) of `--repeat` refreshes, in ms.

    python -m benchmarks.observer_refresh [--n 100000] [--repeat 7] [--accounting] [--json FILE]

Standalone on purpose: it is not part of `python -m benchmarks` (the
harness compares systems; an observer has no peer to compare with).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import vm
from stdlib.observer.source import on_node
from stdlib.observer.views import processes_view
from vm.lowlevel import snapshot


def _idle():
    vm.receive()


def _spawner(n):
    pids = [vm.spawn(_idle) for _ in range(n)]
    vm.register("needle", pids[n // 2])
    vm.sleep(0.01)
    return pids[n // 2]


def measure(n=100_000, repeat=7, accounting=False) -> dict:
    node = vm.Node(accounting=accounting).start()
    try:
        t0 = time.perf_counter()
        needle = node.call(_spawner, n, timeout=600)
        spawn_s = time.perf_counter() - t0
        since = on_node(lambda nd: snapshot.process_table(nd, n=0), node).sample
        state = {"since": since}

        def table():
            t = on_node(lambda nd: snapshot.process_table(
                nd, sort="reductions_delta", n=20, since=state["since"]), node)
            state["since"] = t.sample
            return t

        cases = {
            "table": table,
            "table+render": lambda: processes_view(table(), width=120).text,
            "memory": lambda: on_node(lambda nd: snapshot.process_table(
                nd, sort="memory", n=20, sample=False), node),
            "filter": lambda: on_node(lambda nd: snapshot.process_table(
                nd, match="needle", n=20, sample=False), node),
            "detail": lambda: on_node(lambda nd: snapshot.process_detail(nd, needle), node),
            "system": lambda: on_node(snapshot.system, node),
        }
        if accounting:
            from stdlib.observer import scheduling

            def sched(sort):
                def refresh():
                    tbl, _cols, state["sample"] = on_node(lambda nd: scheduling.table(
                        nd, sort=sort, n=20, since=state["since"],
                        prev=state.get("sample")), node)
                    state["since"] = tbl.sample
                return refresh

            cases["sched table"] = sched("reductions_delta")
            cases["sched share"] = sched("share")
        results = {}
        for name, fn in cases.items():
            times = []
            for _ in range(repeat):
                t = time.perf_counter()
                fn()
                times.append((time.perf_counter() - t) * 1000)
            results[name] = {"median_ms": statistics.median(times), "max_ms": max(times)}
        return {"processes": n, "spawn_s": spawn_s, "repeat": repeat, "accounting": accounting,
                "results": results}
    finally:
        node.stop(timeout=120)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.observer_refresh",
                                 description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100_000, help="idle processes (default 100000)")
    ap.add_argument("--repeat", type=int, default=7, help="refreshes per case (default 7)")
    ap.add_argument("--accounting", action="store_true",
                    help="scheduling accounting on from the start, and the sched cases")
    ap.add_argument("--json", metavar="FILE", help="also write the figures as JSON")
    args = ap.parse_args(argv)
    r = measure(args.n, args.repeat, args.accounting)
    print(f"observer refresh with {r['processes']:,} idle processes "
          f"(spawned in {r['spawn_s']:.2f} s), {r['repeat']} refreshes each"
          f"{', accounting on' if r['accounting'] else ''}:")
    for name, f in r["results"].items():
        print(f"  {name:<13} median {f['median_ms']:8.1f} ms   worst {f['max_ms']:8.1f} ms")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(r, fh, indent=2)
    return r


if __name__ == "__main__":
    main()
