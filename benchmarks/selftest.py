"""Each benchmark at tiny sizes, for beamlet and asyncio: does it run and
report sane fields? (Not how fast: that is what the benchmarks are for.)

`problems()` checks the shape of the records and nothing about timing, so it
cannot fail on a loaded machine: the keys, the metrics and units a module
declares, finite numbers, every row a module says it reports
(`expected_rows(params)`), difference figures settled at zero or above with
what was measured, and no negative rate, index or share (a time may be
measured below zero: a wake-up a little early, memory given back).

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
from .hogs import KINDS

SYSTEMS_TESTED = ("beamlet", "asyncio")
TINY_SIZES = {"C call": 2_000, "Python loop": 1_000}  # iterations of ~0.03 ms

TINY = {
    "ring": {"n": 10, "hops": 200, "reps": 1, "scan": [10, 100], "scan_hops": 200},
    "pingpong": {"rounds": 200, "reps": 1},
    "spawn": {"n": 200, "reps": 1, "idle_n": 300, "traced_n": 100},
    "fairness": {"hogs": 4, "seconds": 0.1, "kinds": list(KINDS), "sizes": TINY_SIZES},
    "latency": {"period_ms": 10, "seconds": 0.1, "hogs": 8, "kinds": list(KINDS),
                "wakers": ["sleep", "to_thread"], "sizes": TINY_SIZES},
    "selective": {"queued": 200, "scan_sizes": [20, 200], "matches": 3, "scan_budget_s": 0.01,
                  "rounds": 64, "budget_s": 0.05},
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
    "dist": {"rounds": 100, "reps": 1, "nodes": [1, 2], "seconds": 0.2, "window": 2,
             "work": 1_000},
    "accounting": {"rounds": 200, "reps": 2},
}

KEYS = {"benchmark", "system", "metric", "value", "unit", "params", "status"}


def run(name: str, systems=SYSTEMS_TESTED, *, fresh: bool = False) -> list[dict]:
    """Run benchmark `name` at tiny sizes for `systems`; return all records."""
    records = []
    adjust = getattr(harness.load(name), "adjust", None)
    erlang = harness.Erlang()
    try:
        for system in systems:
            params = dict(TINY[name])
            if adjust is not None:
                params = adjust(system, params, True)
            if system == "erlang" or fresh:
                recs, _info = harness.run_one(name, system, params, erlang=erlang, timeout=120)
            else:
                recs = harness.run_in_process(name, system, params)
            records.extend(recs)
    finally:
        erlang.cleanup()
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


def dist(**kw):
    return run("dist", **kw)


def accounting(**kw):
    return run("accounting", **kw)


def problems(records, name: str, systems=SYSTEMS_TESTED, *, allow_na: bool = True) -> list[str]:
    """What is wrong with these records (an empty list when they are sane)."""
    out = []
    mod = harness.load(name)
    figures = {f.metric: f for f in mod.FIGURES}
    seen: dict = {}
    for r in records:
        where = f"{r.get('system')}/{r.get('metric')}/{r.get('params', {}).get('case')}"
        missing = KEYS - set(r)
        if missing:
            out.append(f"{where}: missing keys {sorted(missing)}")
            continue
        seen.setdefault(r["system"], []).append(r)
        if r["benchmark"] != name:
            out.append(f"{where}: benchmark is {r['benchmark']!r}")
        if r["system"] not in SYSTEMS:
            out.append(f"{where}: unknown system")
        fig = figures.get(r["metric"])
        if fig is None:
            out.append(f"{where}: metric not in {name}.FIGURES")
        elif r["unit"] != fig.unit:
            out.append(f"{where}: unit {r['unit']!r}, expected {fig.unit!r}")
        if not isinstance(r["params"], dict):
            out.append(f"{where}: params is not a dict")
        if r["status"] == "ok":
            out.extend(_value_problems(where, r, fig))
        elif r["status"] == "n/a":
            if r["value"] is not None:
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
    expected = getattr(mod, "expected_rows", None)
    for s, recs in seen.items():
        if expected is None or not any(r["status"] == "ok" for r in recs):
            continue  # a system that could not run reports each figure once, without a case
        have = {(r["metric"], r["params"].get("case")) for r in recs}
        for metric, case in sorted(expected(recs[0]["params"]) - have, key=str):
            out.append(f"{s}/{metric}/{case}: row missing")
    return out


def _finite(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _value_problems(where, r, fig) -> list[str]:
    v = r["value"]
    if not _finite(v):
        return [f"{where}: value {v!r} is not a finite number"]
    out = []
    if fig is not None and fig.difference:
        m = r.get("measured")
        if not _finite(m):
            out.append(f"{where}: a difference without a finite 'measured' ({m!r})")
        elif v != max(0.0, m):
            out.append(f"{where}: value {v} is not the measured {m} settled at zero")
        elif m < 0 and not (r.get("note") or "").startswith("within noise: measured"):
            out.append(f"{where}: measured {m} recorded as 0 without a 'within noise' note")
    elif v < 0 and fig is not None and fig.better == "higher":
        out.append(f"{where}: negative value {v}")  # a rate, index or share
    samples = r.get("samples")
    if samples is not None and not all(_finite(x) for x in samples):
        out.append(f"{where}: samples that are not finite numbers")
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
