"""Each benchmark at tiny sizes, for beamlet and asyncio: does it run and
report sane fields? (Not how fast: that is what the benchmarks are for.)

One function per benchmark returns its result records, so a test can wrap it:

    from benchmarks import selftest

    def test_ring():
        recs = selftest.ring()
        assert not selftest.problems(recs, "ring")

`fresh=True` runs each system in a fresh subprocess through the harness, the
way `beamlet bench` does; by default they run in this interpreter, so an
exception shows its traceback. A beamlet side that cannot run yet (the `vm`
package incomplete, a stdlib behaviour missing) reports records with
status "n/a" and the reason, which `problems()` accepts unless
`allow_na=False`.
"""

from __future__ import annotations

import math

from . import harness
from .common import SYSTEMS

SYSTEMS_TESTED = ("beamlet", "asyncio")

TINY = {
    "ring": {"n": 10, "hops": 200, "reps": 1, "scan": [10, 100], "scan_hops": 200},
    "pingpong": {"rounds": 200, "reps": 1},
    "spawn": {"n": 200, "reps": 1, "idle_n": 300, "traced_n": 100},
    "fairness": {"hogs": 4, "seconds": 0.1},
    "latency": {"period_ms": 10, "seconds": 0.1, "hog_counts": [0, 8]},
    "selective": {"queued": 200, "matches": 3, "rounds": 64, "budget_s": 0.05},
    "copy": {"cases": [["small tuple", "tuple", 3], ["list of 300 ints (~10 KB)", "list", 300],
                       ["300 small dicts (~100 KB)", "nested", 300],
                       ["bytes, 1 MB (immutable)", "bytes", 1 << 20]],
             "budget_s": 0.01, "max_msgs": 16},
    "restart": {"sups": 2, "restarts": 5},
    "call": {"calls": 200, "reps": 1},
    "fanout": {"servers": 20, "fanouts": 3, "reps": 1},
    "preemption": {"loop_n": 20_000, "reps": 1, "seconds": 0.1, "period_ms": 10,
                   "block_ms": 30},
    "ets": {"n": 300, "reps": 1, "seed": 7},
    "agents": {"agents": 20, "delay": 0.05, "steps": 3, "step_delay": 0.0, "reps": 1},
}

KEYS = {"benchmark", "system", "metric", "value", "unit", "params", "status"}


def run(name: str, systems=SYSTEMS_TESTED, *, fresh: bool = False) -> list[dict]:
    """Run benchmark `name` at tiny sizes for `systems`; return all records."""
    records = []
    for system in systems:
        params = dict(TINY[name])
        if fresh:
            recs, _info = harness.run_one(name, system, params, timeout=120)
        else:
            recs = harness.run_in_process(name, system, params)
        records.extend(recs)
    return records


def ring(**kw):
    return run("ring", **kw)


def pingpong(**kw):
    return run("pingpong", **kw)


def spawn(**kw):
    return run("spawn", **kw)


def fairness(**kw):
    return run("fairness", **kw)


def latency(**kw):
    return run("latency", **kw)


def selective(**kw):
    return run("selective", **kw)


def copy(**kw):
    return run("copy", **kw)


def restart(**kw):
    return run("restart", **kw)


def call(**kw):
    return run("call", **kw)


def preemption(**kw):
    return run("preemption", **kw)


def fanout(**kw):
    return run("fanout", **kw)
def ets(**kw):
    return run("ets", **kw)


def agents(**kw):
    return run("agents", **kw)


def problems(records, name: str, systems=SYSTEMS_TESTED, *, allow_na: bool = True) -> list[str]:
    """What is wrong with these records (an empty list when they are sane)."""
    out = []
    mod = harness.load(name)
    metrics = {f.metric: f.unit for f in mod.FIGURES}
    seen = set()
    for r in records:
        where = f"{r.get('system')}/{r.get('metric')}/{r.get('params', {}).get('case')}"
        missing = KEYS - set(r)
        if missing:
            out.append(f"{where}: missing keys {sorted(missing)}")
            continue
        seen.add(r["system"])
        if r["benchmark"] != name:
            out.append(f"{where}: benchmark is {r['benchmark']!r}")
        if r["system"] not in SYSTEMS:
            out.append(f"{where}: unknown system")
        if r["metric"] not in metrics:
            out.append(f"{where}: metric not in {name}.FIGURES")
        elif r["unit"] != metrics[r["metric"]]:
            out.append(f"{where}: unit {r['unit']!r}, expected {metrics[r['metric']]!r}")
        if not isinstance(r["params"], dict):
            out.append(f"{where}: params is not a dict")
        v = r["value"]
        if r["status"] == "ok":
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v):
                out.append(f"{where}: value {v!r} is not a finite number")
            elif v < 0 and r["metric"] != "p99_added_by_hogs_ms":
                out.append(f"{where}: negative value {v}")
        elif r["status"] == "n/a":
            if v is not None:
                out.append(f"{where}: n/a with a value")
            if not r.get("note"):
                out.append(f"{where}: n/a without a reason")
            if not allow_na and r["system"] in systems:
                out.append(f"{where}: n/a: {r.get('note')}")
        else:
            out.append(f"{where}: status {r['status']}: {r.get('note')}")
    for s in systems:
        if s not in seen:
            out.append(f"no records for {s}")
    return out


def run_all(systems=SYSTEMS_TESTED, *, fresh: bool = False) -> dict[str, list[dict]]:
    return {name: run(name, systems, fresh=fresh) for name in harness.BENCHMARKS}


if __name__ == "__main__":
    import sys
    fresh = "--fresh" in sys.argv
    bad = 0
    for name, recs in run_all(fresh=fresh).items():
        p = problems(recs, name)
        bad += bool(p)
        print(f"{name:<10} {len(recs):3d} records  " + ("ok" if not p else "; ".join(p)))
    sys.exit(1 if bad else 0)
