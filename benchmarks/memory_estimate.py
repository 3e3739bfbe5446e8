"""Memory estimate: its error against an exact walk, and what it costs.

beamlet's `process_info(pid, "memory")` (and the observer's memory column,
and the max_heap_size check) is an estimate: big containers are sampled and
the walk is bounded (see vm/_memory.py). This measures, for the shapes that
matter, the estimate against an exact walk by the same rules (every object,
no sampling), and the time each takes:

    big flat list            list(range(2_000_000))
    dict of dicts            2,000 dicts of 100 int fields, keyed by string
    deep tree (dicts)        a binary tree of dicts, depth 16 (131,071 nodes)
    deep tree (tuples)       a binary tree of tuples, depth 18 (524,287 nodes)
    object holding a list    an instance whose attribute is 1,000,000 strings
    repeated strings         1,000,000 slots pointing at 1,000 distinct strings
    linked list              100,000 nested pairs (deeper than the walk goes)
    1M-message mailbox       a process with 1,000,000 queued ("msg", i, bytes) tuples
    idle process             one process parked in receive (per-process cost)
    rank N                   process_table(sort="memory") over N idle processes
                             (--rank, default 10,000): the first refresh, the
                             refreshes until each process was measured once
                             (a refresh measures 40-60 ms worth), then one with
                             every estimate cached

    python -m benchmarks.memory_estimate [--rank N] [--json FILE]

Standalone: an estimate has no peer to compare with (BEAM knows its heap
sizes exactly).
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import time

import vm
from vm.lowlevel import (
    current_node,
    measure_memory,
    memory_estimates_cached,
    snapshot,
    term_size,
)


def _idle():
    vm.receive()


class _Holder:
    def __init__(self, items):
        self.items = items


def _dict_tree(depth):
    if not depth:
        return {"v": depth + 1000}
    return {"left": _dict_tree(depth - 1), "right": _dict_tree(depth - 1), "v": depth + 1000}


def _tuple_tree(depth):
    if not depth:
        return (depth + 1000,)
    return (depth + 1000, _tuple_tree(depth - 1), _tuple_tree(depth - 1))


def _linked(n):
    node = None
    for i in range(n):
        node = (i + 1000, node)
    return node


SHAPES = [
    ("big flat list", lambda: list(range(2_000_000))),
    ("dict of dicts", lambda: {f"k{i}": {f"f{j}": j * 1000 + i for j in range(100)}
                               for i in range(2000)}),
    ("deep tree (dicts)", lambda: _dict_tree(16)),
    ("deep tree (tuples)", lambda: _tuple_tree(18)),
    ("object holding a list", lambda: _Holder([str(i) for i in range(1_000_000)])),
    ("repeated strings", lambda: [s for s in [f"s{i}" for i in range(1000)] for _ in range(1000)]),
    ("linked list", lambda: _linked(100_000)),
]


def _timed(fn, *args, **kwargs):
    t0 = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, (time.perf_counter() - t0) * 1e3


def _size(n):
    return f"{n / 1e6:8.2f} MB" if n >= 100_000 else f"{n / 1e3:8.2f} KB"


def _row(name, est, t_est, exact, t_exact):
    return {"shape": name, "estimate_bytes": est, "exact_bytes": exact,
            "ratio": est / exact, "estimate_ms": t_est, "exact_ms": t_exact}


def _processes(n_rank):
    """Rows measured on live processes (run inside a node)."""
    rows = []
    node = current_node()
    box = vm.spawn(lambda: vm.receive("never"))
    for i in range(1_000_000):
        vm.send(box, ("msg", i, bytes(20 + i % 7)))
    (est, _), t_est = _timed(lambda: measure_memory(box))
    (exact, _), t_exact = _timed(lambda: measure_memory(box, exact=True))
    rows.append(_row("1M-message mailbox", est, t_est, exact, t_exact))
    idle = [vm.spawn(lambda: vm.receive()) for _ in range(2000)]
    vm.sleep(0)
    t0 = time.perf_counter()
    sizes = [measure_memory(q)[0] for q in idle]
    first = (time.perf_counter() - t0) / len(idle) * 1e3
    exact = measure_memory(idle[0], exact=True)[0]
    rows.append(_row("idle process (each)", sizes[0], first, exact, None))
    for _ in range(n_rank - len(vm.processes())):
        vm.spawn(_idle)
    vm.sleep(0)
    times = []
    while memory_estimates_cached() < len(vm.processes()) - 1:  # the caller is never cached
        _, ms = _timed(lambda: snapshot.process_table(node, sort="memory", n=20, sample=False))
        times.append(ms)
    n = f"{len(vm.processes()):,}"
    rows.append({"shape": f"rank {n} by memory, first refresh", "ms": times[0]})
    rows.append({"shape": f"  the {len(times)} refreshes until each was measured, median",
                 "ms": statistics.median(times)})
    cached = [_timed(lambda: snapshot.process_table(node, sort="memory", n=20, sample=False))[1]
              for _ in range(5)]
    rows.append({"shape": "  then (all cached), median of 5", "ms": statistics.median(cached)})
    return rows


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m benchmarks.memory_estimate")
    ap.add_argument("--json", default=None)
    ap.add_argument("--rank", type=int, default=10_000,
                    help="idle processes to rank by memory (default 10000)")
    args = ap.parse_args(argv)
    logging.getLogger("beamlet").setLevel(logging.ERROR)  # the exact walks are long slices
    rows = []
    for name, make in SHAPES:
        x = make()
        est, t_est = _timed(term_size, x)
        exact, t_exact = _timed(term_size, x, exact=True)
        rows.append(_row(name, est, t_est, exact, t_exact))
        x = None  # let it go before the next shape
    rows += vm.run(_processes, args.rank)
    print(f"{'shape':24} {'estimate':>11} {'exact':>11} {'ratio':>7} {'estimate':>11} "
          f"{'exact':>11}")
    for r in rows:
        if "ms" in r:
            print(f"{r['shape']:56} {r['ms']:8.1f} ms")
            continue
        exact_ms = f"{r['exact_ms']:8.1f} ms" if r["exact_ms"] is not None else ""
        print(f"{r['shape']:24} {_size(r['estimate_bytes'])} {_size(r['exact_bytes'])} "
              f"{r['ratio']:7.3f} {r['estimate_ms']:8.2f} ms {exact_ms}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
