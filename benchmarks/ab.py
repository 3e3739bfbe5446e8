"""Before/after: one benchmark run alternately from two checkouts, medians side by side.

A change's cost is a ratio between two builds measured in the same window
of time; on a shared machine the load moves between two runs minutes apart,
so the rounds alternate (before, after, after, before, ...) and each figure
is the median of its rounds.

    python -m benchmarks.ab BEFORE_DIR AFTER_DIR NAME [--rounds 8] [-- harness options]

e.g. `git worktree add /tmp/before main` then, from this checkout,
`python -m benchmarks.ab /tmp/before . copy --rounds 8 -- --quick`.
Each run is `python -m benchmarks NAME --vs none --json FILE` with the
checkout as working directory and first on `sys.path`, using the Python
running this script.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile


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


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    extra = []
    if "--" in argv:
        i = argv.index("--")
        argv, extra = argv[:i], argv[i + 1:]
    ap = argparse.ArgumentParser(prog="python -m benchmarks.ab")
    ap.add_argument("before")
    ap.add_argument("after")
    ap.add_argument("name")
    ap.add_argument("--rounds", type=int, default=8)
    args = ap.parse_args(argv)
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
