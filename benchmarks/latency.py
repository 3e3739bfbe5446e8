"""Latency under load: a process sleeps 10 ms in a loop and records how late
each wake-up is, first alone, then beside 8 CPU-bound processes that never
yield. Figures: p50, p99 and max lateness in ms for both runs, and how much
the hogs add to p99 (the target: at most 5 ms).

A cooperative scheduler wakes the sleeper only when the hogs are done, so it
gets one sample, as late as the whole run: measured and reported as it is.

    python -m benchmarks.latency [--quick]
"""

from __future__ import annotations

import time

from .common import Figure, Recorder, Target, pct

NAME = "latency"
FIGURES = (
    Figure("lateness_ms_p50", "ms", "lower", "median lateness of a 10 ms sleep"),
    Figure("lateness_ms_p99", "ms", "lower", "99th percentile lateness of a 10 ms sleep"),
    Figure("lateness_ms_max", "ms", "lower", "worst lateness of a 10 ms sleep"),
    Figure("p99_added_by_hogs_ms", "ms", "lower", "p99 with 8 hogs minus p99 with none"),
)
TARGETS = (Target("p99_added_by_hogs_ms", None, "max", 5.0),)


def params(quick: bool) -> dict:
    return {"period_ms": 10, "seconds": 0.5 if quick else 2.0, "hog_counts": [0, 8]}


def _report(rec, p, runs: dict):
    p99 = {}
    for hogs, late in runs.items():
        case = f"{hogs} hogs"
        note = f"{len(late)} samples in {p['seconds']} s"
        rec.add("lateness_ms_p50", pct(late, 50), "ms", case=case, note=note, samples=late)
        p99[hogs] = pct(late, 99)
        rec.add("lateness_ms_p99", p99[hogs], "ms", case=case, note=note)
        rec.add("lateness_ms_max", max(late), "ms", case=case, note=note)
    lo, hi = min(runs), max(runs)
    rec.add("p99_added_by_hogs_ms", p99[hi] - p99[lo], "ms",
            note=f"p99 with {hi} hogs minus p99 with {lo}")


# ------------------------------------------------------------------ beamlet

def sleeper_process(parent, deadline, period):
    import vm
    pc = time.perf_counter
    late = []
    while pc() < deadline:
        t = pc()
        vm.sleep(period)
        late.append((pc() - t - period) * 1000.0)
    vm.send(parent, ("late", late))


def hog_process(deadline):
    """Spin until the deadline; no VM call in the loop."""
    pc = time.perf_counter
    n = 0
    while pc() < deadline:
        n += 1


def beamlet_main(p, hogs):
    import vm
    period = p["period_ms"] / 1000.0
    deadline = time.perf_counter() + p["seconds"]
    vm.spawn(sleeper_process, vm.self(), deadline, period)
    vm.sleep(0.001)  # the sleeper arms its first timer before the hogs start
    for _ in range(hogs):
        vm.spawn(hog_process, deadline)
    _, late = vm.receive(("late", list))
    return late


def run_beamlet(p):
    from .beamlet_support import require_vm
    vm = require_vm()
    rec = Recorder(NAME, "beamlet", p)
    _report(rec, p, {h: vm.run(beamlet_main, p, h) for h in p["hog_counts"]})
    return rec.records


# ------------------------------------------------------------------ asyncio

async def aio_sleeper(deadline, period):
    import asyncio
    pc = time.perf_counter
    late = []
    while pc() < deadline:
        t = pc()
        await asyncio.sleep(period)
        late.append((pc() - t - period) * 1000.0)
    return late


async def aio_hog(deadline):
    pc = time.perf_counter
    n = 0
    while pc() < deadline:  # never awaits
        n += 1


async def aio_main(p, hogs):
    import asyncio
    period = p["period_ms"] / 1000.0
    deadline = time.perf_counter() + p["seconds"]
    sleeper = asyncio.create_task(aio_sleeper(deadline, period))
    await asyncio.sleep(0.001)
    await asyncio.gather(*(aio_hog(deadline) for _ in range(hogs)))
    return await sleeper


def run_asyncio(p):
    import asyncio
    rec = Recorder(NAME, "asyncio", p)
    _report(rec, p, {h: asyncio.run(aio_main(p, h)) for h in p["hog_counts"]})
    return rec.records


# ------------------------------------------------------------------- gevent

def gevent_sleeper(deadline, period):
    import gevent
    pc = time.perf_counter
    late = []
    while pc() < deadline:
        t = pc()
        gevent.sleep(period)
        late.append((pc() - t - period) * 1000.0)
    return late


def gevent_hog(deadline):
    pc = time.perf_counter
    n = 0
    while pc() < deadline:  # never yields to the hub
        n += 1


def gevent_once(p, hogs):
    import gevent
    period = p["period_ms"] / 1000.0
    deadline = time.perf_counter() + p["seconds"]
    sleeper = gevent.spawn(gevent_sleeper, deadline, period)
    gevent.sleep(0.001)
    gevent.joinall([gevent.spawn(gevent_hog, deadline) for _ in range(hogs)] + [sleeper])
    return sleeper.value


def run_gevent(p):
    rec = Recorder(NAME, "gevent", p)
    _report(rec, p, {h: gevent_once(p, h) for h in p["hog_counts"]})
    return rec.records


# -------------------------------------------------------------------- pykka

def pykka_sleeper(deadline, period):
    pc = time.perf_counter
    late = []
    while pc() < deadline:
        t = pc()
        time.sleep(period)
        late.append((pc() - t - period) * 1000.0)
    return late


def pykka_hog(deadline):
    pc = time.perf_counter
    n = 0
    while pc() < deadline:
        n += 1


def run_pykka(p):
    import pykka

    class Sleeper(pykka.ThreadingActor):
        use_daemon_thread = True

        def on_receive(self, message):
            return pykka_sleeper(*message)

    class Hog(pykka.ThreadingActor):
        use_daemon_thread = True

        def on_receive(self, deadline):
            return pykka_hog(deadline)

    rec = Recorder(NAME, "pykka", p)
    runs = {}
    period = p["period_ms"] / 1000.0
    for h in p["hog_counts"]:
        sl = Sleeper.start()
        hogs = [Hog.start() for _ in range(h)]
        deadline = time.perf_counter() + p["seconds"]
        fut = sl.ask((deadline, period), block=False)
        hf = [x.ask(deadline, block=False) for x in hogs]
        runs[h] = fut.get()
        for f in hf:
            f.get()
        for a in [sl, *hogs]:
            a.stop()
    _report(rec, p, runs)
    return rec.records


if __name__ == "__main__":
    from .cli import main_for
    main_for(NAME)
