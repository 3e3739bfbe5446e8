"""Before/after: one benchmark run alternately from two checkouts, medians side by side.

A change's cost is a ratio between two builds measured in the same window
of time; on a shared machine the load moves between two runs minutes apart,
so the rounds alternate (before, after, after, before, ...) and each figure
is the median of its rounds.

    python -m benchmarks.ab BEFORE_DIR AFTER_DIR NAME [--rounds 8] [-- harness options]
    python -m benchmarks.ab BEFORE_DIR AFTER_DIR --same-process [--rounds 30]

e.g. `git worktree add /tmp/before main` then, from this checkout,
`python -m benchmarks.ab /tmp/before . copy --rounds 8 -- --quick`.
Each run is `python -m benchmarks NAME --vs none --json FILE` with the
checkout as working directory and first on `sys.path`, using the Python
running this script.

Fresh processes differ by more than small changes do (which CPU, what
else runs): on a shared machine two such runs of unchanged code can differ
by 20-40%. `--same-process` loads both checkouts' `vm` into one process
(as `vm_before` and `vm_after`) and interleaves short samples of the VM's
hot paths: `copy_term` on the copy benchmark's payloads, making a pid and a
ref the way spawn and make_ref do, and ping-pong and spawn on a node
without compiled checks (the two copies would share the check builtins).
The minimum over rounds is the cost with the least interference.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time


def _run(tree, name, extra, out):
    env = {**os.environ, "PYTHONPATH": os.path.abspath(tree)}
    subprocess.run([sys.executable, "-m", "benchmarks", name, "--vs", "none", "--json", out,
                    *extra], cwd=tree, check=True, capture_output=True, env=env)
    with open(out) as f:
        doc = json.load(f)
    figures = {}
    for rec in doc["results"]:
        if rec.get("system") != "beamlet" or rec.get("status", "ok") != "ok":
            continue
        case = rec.get("params", {}).get("case")
        figures[rec["metric"] + (f" [{case}]" if case else "")] = rec["value"]
    return figures


def _load(tmp, label, tree):
    import importlib
    import shutil
    shutil.copytree(os.path.join(tree, "vm"), os.path.join(tmp, f"vm_{label}"),
                    ignore=shutil.ignore_patterns("__pycache__"))
    if tmp not in sys.path:
        sys.path.insert(0, tmp)
    m = importlib.import_module(f"vm_{label}")
    importlib.import_module(f"vm_{label}.lowlevel")
    importlib.import_module(f"vm_{label}.terms")
    return m


def _pingpong(vm, rounds=5000):
    def ponger():
        while True:
            m = vm.receive()
            if m == "stop":
                return
            vm.send(m[1], "pong")

    def main():
        me, pong = vm.self(), vm.spawn(ponger)
        t0 = time.perf_counter()
        for _ in range(rounds):
            vm.send(pong, ("ping", me))
            vm.receive("pong")
        dt = time.perf_counter() - t0
        vm.send(pong, "stop")
        return dt / rounds

    return vm.run(main, preempt=False)


def _spawn(vm, n=5000):
    def main():
        t0 = time.perf_counter()
        for _ in range(n):
            vm.spawn(int)
        dt = time.perf_counter() - t0
        vm.sleep(0)
        return dt / n

    return vm.run(main, preempt=False)


def _timeit(fn, number):
    t0 = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - t0) / number


def _cases(vm):
    from .copy import CASES, make_payload
    ct = vm.lowlevel.copy_term
    out = {}
    for label, kind, k in CASES:
        payload = make_payload(kind, k)
        n = max(20, 100_000 // max(1, k if kind in ("list", "nested") else 1))
        out[f"copy_term [{label}]"] = (lambda p=payload, n=n: _timeit(lambda: ct(p), n))
    terms = vm.terms
    make_pid = getattr(terms, "new_pid", None) or (lambda *a: terms.Pid(*a))
    make_ref = getattr(terms, "new_ref", None) or (lambda *a: terms.Ref(*a))
    out["pid as spawn makes it"] = lambda: _timeit(
        lambda: make_pid("nonode@nohost", 7, 0, 3), 20_000)
    out["ref as make_ref makes it"] = lambda: _timeit(
        lambda: make_ref("nonode@nohost", 7, 3), 20_000)
    out["Pid(...) called by user code"] = lambda: _timeit(
        lambda: terms.Pid("nonode@nohost", 7, 0, 3), 20_000)
    pid = terms.Pid("n", 7, 0, 3)
    out["hash(pid)"] = lambda: _timeit(lambda: hash(pid), 50_000)
    out["ping-pong round trip"] = lambda: _pingpong(vm)
    out["spawn (and exit)"] = lambda: _spawn(vm)
    return out


def same_process(before, after, rounds):
    with tempfile.TemporaryDirectory() as tmp:
        mods = {"before": _load(tmp, "before", before), "after": _load(tmp, "after", after)}
        cases = {label: _cases(m) for label, m in mods.items()}
        best = {label: {} for label in mods}
        for r in range(rounds):
            for label in (("before", "after") if r % 2 == 0 else ("after", "before")):
                for key, fn in cases[label].items():
                    t = fn()
                    best[label][key] = min(best[label].get(key, t), t)
    print(f"same process, min of {rounds} interleaved rounds "
          f"(before = {before}, after = {after}):")
    for key, b in best["before"].items():
        a = best["after"][key]
        print(f"  {key:40} before {b * 1e6:10.3f} us  after {a * 1e6:10.3f} us  "
              f"after/before {a / b:6.3f}")


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(prog="python -m benchmarks.ab")
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("name", nargs="?")
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument("--same-process", action="store_true")
    args = ap.parse_args(argv)
    if args.same_process:
        return same_process(args.before, args.after, args.rounds or 30)
    if args.name is None:
        ap.error("name the benchmark to run (or use --same-process)")
    args.rounds = args.rounds or 8
    runs = {"before": {}, "after": {}}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):
            order = ("before", "after") if r % 2 == 0 else ("after", "before")
            for label in order:
                tree = getattr(args, label)
                out = os.path.join(tmp, f"{label}-{r}.json")
                for key, value in _run(tree, args.name, extra, out).items():
                    runs[label].setdefault(key, []).append(value)
    print(f"{args.name}: median of {args.rounds} alternating rounds "
          f"(before = {args.before}, after = {args.after})")
    for key, values in runs["before"].items():
        b = statistics.median(values)
        a = statistics.median(runs["after"].get(key, [float("nan")]))
        print(f"  {key:52} before {b:12,.3f}  after {a:12,.3f}  after/before {a / b:6.3f}")


if __name__ == "__main__":
    main()
