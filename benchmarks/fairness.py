"""Fairness: four CPU-bound processes that never yield (plain Python loops,
no VM call inside) run for the same wall-clock window; each one's share of
the loop iterations, and Jain's index over the four counts (1.0 is fair,
0.25 is one process taking everything).

A cooperative scheduler cannot preempt such a loop: the first process runs to
the deadline and the others get nothing. That is measured and reported as it
is. beamlet preempts plain Python code through reduction checks compiled into
the code (docs/architecture.md); the hog below is ordinary module-level code so that
it is instrumented like any user code.

    python -m benchmarks.fairness [--quick]
"""

from __future__ import annotations

import time

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
TARGETS = (Target("jain_index", None, "min", 0.99),)


def params(quick: bool) -> dict:
    return {"hogs": HOGS, "seconds": 0.5 if quick else 2.0}


def _report(rec, p, counts, how):
    rec.add("jain_index", jain(counts), "index",
            note=f"{p['hogs']} hogs, {p['seconds']} s; counts=" + "/".join(map(str, counts))
                 + f"; {how}")
    for i, s in enumerate(shares(counts)):
        rec.add("share", s, "fraction", case=f"hog {i + 1}")
    rec.add("loop_iters_per_s", sum(counts) / p["seconds"], "iters/s")


# ------------------------------------------------------------------ beamlet

def hog_process(parent, index, deadline):
    """Count until the deadline; no VM call in the loop."""
    import vm
    pc = time.perf_counter
    n = 0
    while pc() < deadline:
        n += 1
    vm.send(parent, ("count", index, n))


def beamlet_main(p):
    import vm
    me = vm.self()
    deadline = time.perf_counter() + p["seconds"]
    for i in range(p["hogs"]):
        vm.spawn(hog_process, me, i, deadline)
    counts = [0] * p["hogs"]
    for _ in range(p["hogs"]):
        _, i, n = vm.receive(("count", int, int))
        counts[i] = n
    return counts


def run_beamlet(p):
    from .beamlet_support import require_vm
    vm = require_vm()
    rec = Recorder(NAME, "beamlet", p)
    _report(rec, p, vm.run(beamlet_main, p), "vm.spawn")
    return rec.records


# ------------------------------------------------------------------ asyncio

async def aio_hog(deadline):
    pc = time.perf_counter
    n = 0
    while pc() < deadline:  # no await inside: never yields
        n += 1
    return n


async def aio_main(p):
    import asyncio
    deadline = time.perf_counter() + p["seconds"]
    return list(await asyncio.gather(*(aio_hog(deadline) for _ in range(p["hogs"]))))


def run_asyncio(p):
    import asyncio
    rec = Recorder(NAME, "asyncio", p)
    _report(rec, p, asyncio.run(aio_main(p)), "asyncio.gather of 4 coroutines")
    return rec.records


# ------------------------------------------------------------------- gevent

def gevent_hog(deadline):
    pc = time.perf_counter
    n = 0
    while pc() < deadline:  # no gevent call inside: never yields
        n += 1
    return n


def run_gevent(p):
    import gevent
    rec = Recorder(NAME, "gevent", p)
    deadline = time.perf_counter() + p["seconds"]
    gs = [gevent.spawn(gevent_hog, deadline) for _ in range(p["hogs"])]
    gevent.joinall(gs)
    _report(rec, p, [g.value for g in gs], "gevent.spawn + joinall")
    return rec.records


# -------------------------------------------------------------------- pykka

def pykka_hog(deadline):
    pc = time.perf_counter
    n = 0
    while pc() < deadline:
        n += 1
    return n


def run_pykka(p):
    import sys

    import pykka

    class Hog(pykka.ThreadingActor):
        use_daemon_thread = True

        def on_receive(self, deadline):
            return pykka_hog(deadline)

    rec = Recorder(NAME, "pykka", p)
    hogs = [Hog.start() for _ in range(p["hogs"])]
    deadline = time.perf_counter() + p["seconds"]
    futures = [h.ask(deadline, block=False) for h in hogs]
    counts = [f.get() for f in futures]
    for h in hogs:
        h.stop()
    _report(rec, p, counts, f"one OS thread each, GIL switch interval {sys.getswitchinterval()} s")
    return rec.records


if __name__ == "__main__":
    from .cli import main_for
    main_for(NAME)
