"""Fairness: four CPU-bound processes that never yield (plain Python loops,
no VM call inside) run for the same wall-clock window; each one's share of
the loop iterations, and Jain's index over the four counts (1.0 is fair,
0.25 is one process taking everything).

Three kinds of hog (benchmarks/hogs.py), each in a run of its own: `n += 1`
(the rows without a case), a ~1 ms C call per iteration (`sum(range(size))`,
`[C-call hogs]`) and ~1 ms of pure Python per iteration (an inner loop,
`[Python-loop hogs]`); the size is calibrated to a millisecond on the machine
at the start of the run, and the note says what one iteration took.

A cooperative scheduler cannot preempt such a loop: the first process runs to
the deadline and the others get nothing. That is measured and reported as it
is. beamlet preempts plain Python code through reduction checks compiled into
the code (docs/architecture.md), between two C calls and inside a Python
loop; BEAM preempts inside its hogs too (they are Erlang code).

    python -m benchmarks.fairness [--quick]
"""

from __future__ import annotations

import time

from . import hogs as H
from .common import Figure, Recorder, Target, jain, shares

NAME = "fairness"
HOGS = 4
FIGURES = (
    Figure("jain_index", "index", "higher", "Jain's index over the 4 hogs' loop counts"),
    Figure("share", "fraction", "higher", "each hog's share of all loop iterations",
           ratio=False),
    Figure("loop_iters_per_s", "iters/s", "higher",
           "all hogs' loop iterations per second (the cost of preemption checks shows here)"),
)
TARGETS = tuple(Target("jain_index", H.case_of(kind), "min", 0.99) for kind in H.KINDS)


def params(quick: bool) -> dict:
    return {"hogs": HOGS, "seconds": 0.5 if quick else 2.0, "kinds": list(H.KINDS),
            "sizes": H.slow_sizes()}


adjust = H.adjust  # BEAM calibrates its own ~1 ms of Erlang code


def expected_rows(p):
    """(metric, case) of every row a system reports (the selftest checks them)."""
    rows = set()
    for kind in p["kinds"]:
        case = H.case_of(kind)
        rows |= {("jain_index", case), ("loop_iters_per_s", case)}
        if case is None:
            rows |= {("share", f"hog {i + 1}") for i in range(p["hogs"])}
    return rows


def _report(rec, p, counts_by_kind, how):
    sizes = H.sizes_note(p)
    for kind, counts in counts_by_kind.items():
        case = H.case_of(kind)
        sh = shares(counts)
        note = (f"{p['hogs']} hogs, {p['seconds']} s; counts=" + "/".join(map(str, counts))
                + f"; {how}")
        if case is not None:
            note += "; shares=" + "/".join(f"{s:.3f}" for s in sh) + (f"; {sizes}" if sizes else "")
        rec.add("jain_index", jain(counts), "index", case=case, note=note)
        if case is None:
            for i, s in enumerate(sh):
                rec.add("share", s, "fraction", case=f"hog {i + 1}")
        rec.add("loop_iters_per_s", sum(counts) / p["seconds"], "iters/s", case=case)


# ------------------------------------------------------------------ beamlet

def beamlet_main(p, kind):
    import vm
    me = vm.self()
    deadline = time.perf_counter() + p["seconds"]
    for i in range(p["hogs"]):
        vm.spawn(H.beamlet_hog, me, i, deadline, kind, H.size_of(p, kind))
    counts = [0] * p["hogs"]
    for _ in range(p["hogs"]):
        i, n = vm.receive((int, int))
        counts[i] = n
    return counts


def run_beamlet(p):
    from .beamlet_support import require_vm
    vm = require_vm()
    rec = Recorder(NAME, "beamlet", p)
    _report(rec, p, {k: vm.run(beamlet_main, p, k) for k in p["kinds"]}, "vm.spawn")
    return rec.records


# ------------------------------------------------------------------ asyncio

async def aio_main(p, kind):
    import asyncio
    deadline = time.perf_counter() + p["seconds"]
    return list(await asyncio.gather(*(H.aio_spin(deadline, kind, H.size_of(p, kind))
                                       for _ in range(p["hogs"]))))


def run_asyncio(p):
    import asyncio
    rec = Recorder(NAME, "asyncio", p)
    _report(rec, p, {k: asyncio.run(aio_main(p, k)) for k in p["kinds"]},
            "asyncio.gather of 4 coroutines")
    return rec.records


# ------------------------------------------------------------------- gevent

def gevent_once(p, kind):
    import gevent
    deadline = time.perf_counter() + p["seconds"]
    gs = [gevent.spawn(H.spin, deadline, kind, H.size_of(p, kind))  # never yields to the hub
          for _ in range(p["hogs"])]
    gevent.joinall(gs)
    return [g.value for g in gs]


def run_gevent(p):
    rec = Recorder(NAME, "gevent", p)
    _report(rec, p, {k: gevent_once(p, k) for k in p["kinds"]}, "gevent.spawn + joinall")
    return rec.records


# -------------------------------------------------------------------- pykka

def run_pykka(p):
    import sys

    import pykka

    class Hog(pykka.ThreadingActor):
        use_daemon_thread = True

        def on_receive(self, message):
            return H.spin(*message)

    def once(kind):
        hogs = [Hog.start() for _ in range(p["hogs"])]
        deadline = time.perf_counter() + p["seconds"]
        futures = [h.ask((deadline, kind, H.size_of(p, kind)), block=False) for h in hogs]
        counts = [f.get() for f in futures]
        for h in hogs:
            h.stop()
        return counts

    rec = Recorder(NAME, "pykka", p)
    _report(rec, p, {k: once(k) for k in p["kinds"]},
            f"one OS thread each, GIL switch interval {sys.getswitchinterval()} s")
    return rec.records


if __name__ == "__main__":
    from .cli import main_for
    main_for(NAME)
