"""Latency under load: a process waits 10 ms in a loop and records how late
each wake-up is, first alone, then beside 8 CPU-bound processes that never
yield. Figures: p50, p99 and max lateness in ms for each run, and how much
the hogs add to p99 (the target: at most 5 ms).

Two ways to wait, each alone and beside three kinds of hog
(benchmarks/hogs.py: `n += 1`, a ~1 ms C call per iteration, ~1 ms of pure
Python per iteration):

- a timer: `vm.sleep(0.01)` (the rows `[0 hogs]`, `[8 hogs]`,
  `[8 C-call hogs]`, `[8 Python-loop hogs]`);
- the dirty pool: `vm.to_thread(time.sleep, 0.01)`, woken when the thread's
  job is done (the rows `[to_thread, ...]`). asyncio uses
  `asyncio.to_thread`, gevent its threadpool, Erlang a 10 ms wait on a dirty
  I/O scheduler (`erts_debug:dirty_io/2`); a Pykka actor is an OS thread of
  its own, so it makes the blocking call itself.

A cooperative scheduler wakes the sleeper only when the hogs are done, so it
gets one sample, as late as the whole run: measured and reported as it is.

    python -m benchmarks.latency [--quick]
"""

from __future__ import annotations

import time

from . import hogs as H
from .common import Figure, Recorder, Target, pct

NAME = "latency"
FIGURES = (
    Figure("lateness_ms_p50", "ms", "lower", "median lateness of a 10 ms wait"),
    Figure("lateness_ms_p99", "ms", "lower", "99th percentile lateness of a 10 ms wait"),
    Figure("lateness_ms_max", "ms", "lower", "worst lateness of a 10 ms wait"),
    Figure("p99_added_by_hogs_ms", "ms", "lower", "p99 with 8 hogs minus p99 with none",
           difference=True),
)
WAKERS = ("sleep", "to_thread")


def case_of(waker, kind, count):
    """The case of the lateness rows: "8 C-call hogs", "to_thread, 0 hogs"."""
    base = H.case_of(kind, count)
    return base if waker == "sleep" else f"{waker}, {base}"


def added_case(waker, kind, count):
    """The case of a p99_added row: None for the timer beside `n += 1` hogs."""
    if waker == "sleep" and kind == "n += 1":
        return None
    return case_of(waker, kind, count)


TARGETS = tuple(Target("p99_added_by_hogs_ms", added_case(w, k, 8), "max", 5.0)
                for w in WAKERS for k in H.KINDS)


def params(quick: bool) -> dict:
    return {"period_ms": 10, "seconds": 0.5 if quick else 2.0, "hogs": 8,
            "kinds": list(H.KINDS), "wakers": list(WAKERS), "sizes": H.slow_sizes()}


adjust = H.adjust  # BEAM calibrates its own ~1 ms of Erlang code


def runs_of(p):
    """(waker, kind, hog count) of each run, the quiet run of each waker first."""
    out = []
    for w in p["wakers"]:
        out.append((w, "n += 1", 0))
        out.extend((w, k, p["hogs"]) for k in p["kinds"])
    return out


def expected_rows(p):
    rows = set()
    for w, k, n in runs_of(p):
        case = case_of(w, k, n)
        rows |= {(m, case) for m in ("lateness_ms_p50", "lateness_ms_p99", "lateness_ms_max")}
        if n:
            rows.add(("p99_added_by_hogs_ms", added_case(w, k, n)))
    return rows


def _report(rec, p, runs: dict, how: dict):
    sizes = H.sizes_note(p)
    p99 = {}
    for (w, k, n), late in runs.items():
        case = case_of(w, k, n)
        note = f"{len(late)} samples in {p['seconds']} s; {how[w]}"
        if n and k in H.SLOW_KINDS and sizes:
            note += f"; {sizes}"
        rec.add("lateness_ms_p50", pct(late, 50), "ms", case=case, note=note, samples=late)
        p99[w, k, n] = pct(late, 99)
        rec.add("lateness_ms_p99", p99[w, k, n], "ms", case=case, note=note)
        rec.add("lateness_ms_max", max(late), "ms", case=case, note=note)
    for (w, k, n), v in p99.items():
        if n:
            quiet = p99[w, "n += 1", 0]
            rec.add("p99_added_by_hogs_ms", v - quiet, "ms", case=added_case(w, k, n),
                    note=f"p99 {v:.3g} ms with {case_of(w, k, n)}, {quiet:.3g} ms with none")


# ------------------------------------------------------------------ beamlet

def sleeper_process(parent, deadline, period, waker):
    """Wait `period` again and again until the deadline (at least once)."""
    import vm
    pc = time.perf_counter
    late = []
    while True:
        t = pc()
        if waker == "sleep":
            vm.sleep(period)
        else:
            vm.to_thread(time.sleep, period)
        late.append((pc() - t - period) * 1000.0)
        if pc() >= deadline:
            break
    vm.send(parent, ("late", late))


def beamlet_main(p, waker, kind, hogs):
    import vm
    period = p["period_ms"] / 1000.0
    deadline = time.perf_counter() + p["seconds"]
    vm.spawn(sleeper_process, vm.self(), deadline, period, waker)
    vm.sleep(0.001)  # the sleeper starts its first wait before the hogs start
    for _ in range(hogs):
        vm.spawn(H.beamlet_hog, None, 0, deadline, kind, H.size_of(p, kind))
    _, late = vm.receive(("late", list))
    return late


def run_beamlet(p):
    from .beamlet_support import require_vm
    vm = require_vm()
    rec = Recorder(NAME, "beamlet", p)
    _report(rec, p, {r: vm.run(beamlet_main, p, *r) for r in runs_of(p)},
            {"sleep": "vm.sleep", "to_thread": "vm.to_thread(time.sleep, period)"})
    return rec.records


# ------------------------------------------------------------------ asyncio

async def aio_sleeper(deadline, period, waker):
    import asyncio
    pc = time.perf_counter
    late = []
    while True:
        t = pc()
        if waker == "sleep":
            await asyncio.sleep(period)
        else:
            await asyncio.to_thread(time.sleep, period)
        late.append((pc() - t - period) * 1000.0)
        if pc() >= deadline:
            return late


async def aio_main(p, waker, kind, hogs):
    import asyncio
    period = p["period_ms"] / 1000.0
    deadline = time.perf_counter() + p["seconds"]
    sleeper = asyncio.create_task(aio_sleeper(deadline, period, waker))
    await asyncio.sleep(0.001)
    await asyncio.gather(*(H.aio_spin(deadline, kind, H.size_of(p, kind)) for _ in range(hogs)))
    return await sleeper


def run_asyncio(p):
    import asyncio
    rec = Recorder(NAME, "asyncio", p)
    _report(rec, p, {r: asyncio.run(aio_main(p, *r)) for r in runs_of(p)},
            {"sleep": "asyncio.sleep", "to_thread": "asyncio.to_thread(time.sleep, period)"})
    return rec.records


# ------------------------------------------------------------------- gevent

def gevent_sleeper(deadline, period, waker):
    import gevent
    pc = time.perf_counter
    pool = gevent.get_hub().threadpool
    late = []
    while True:
        t = pc()
        if waker == "sleep":
            gevent.sleep(period)
        else:
            pool.apply(time.sleep, (period,))
        late.append((pc() - t - period) * 1000.0)
        if pc() >= deadline:
            return late


def gevent_once(p, waker, kind, hogs):
    import gevent
    period = p["period_ms"] / 1000.0
    deadline = time.perf_counter() + p["seconds"]
    sleeper = gevent.spawn(gevent_sleeper, deadline, period, waker)
    gevent.sleep(0.001)
    gevent.joinall([gevent.spawn(H.spin, deadline, kind, H.size_of(p, kind))  # never yield
                    for _ in range(hogs)] + [sleeper])
    return sleeper.value


def run_gevent(p):
    rec = Recorder(NAME, "gevent", p)
    _report(rec, p, {r: gevent_once(p, *r) for r in runs_of(p)},
            {"sleep": "gevent.sleep",
             "to_thread": "the hub's threadpool: threadpool.apply(time.sleep, (period,))"})
    return rec.records


# -------------------------------------------------------------------- pykka

def pykka_sleeper(deadline, period):
    pc = time.perf_counter
    late = []
    while True:
        t = pc()
        time.sleep(period)
        late.append((pc() - t - period) * 1000.0)
        if pc() >= deadline:
            return late


def run_pykka(p):
    import pykka

    class Sleeper(pykka.ThreadingActor):
        use_daemon_thread = True

        def on_receive(self, message):
            return pykka_sleeper(*message)

    class Hog(pykka.ThreadingActor):
        use_daemon_thread = True

        def on_receive(self, message):
            return H.spin(*message)

    def once(waker, kind, hogs):
        sl = Sleeper.start()
        hs = [Hog.start() for _ in range(hogs)]
        deadline = time.perf_counter() + p["seconds"]
        fut = sl.ask((deadline, p["period_ms"] / 1000.0), block=False)
        hf = [h.ask((deadline, kind, H.size_of(p, kind)), block=False) for h in hs]
        late = fut.get()
        for f in hf:
            f.get()
        for a in [sl, *hs]:
            a.stop()
        return late

    rec = Recorder(NAME, "pykka", p)
    _report(rec, p, {r: once(*r) for r in runs_of(p)},
            {"sleep": "time.sleep in an actor (an OS thread)",
             "to_thread": "time.sleep in the actor itself: a Pykka actor is an OS thread, "
                          "it needs no pool for a blocking call"})
    return rec.records


if __name__ == "__main__":
    from .cli import main_for
    main_for(NAME)
