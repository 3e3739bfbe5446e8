"""Spawn: (1) processes that exit at once, spawns per second; (2) idle
processes parked in a receive, bytes per idle process.

The memory figure is the VmRSS delta of a fresh interpreter (or a fresh BEAM)
around spawning N idle processes, measured before anything else runs in it;
it includes the list of handles the spawner keeps (a pid, a Task, ...). A
second population, under tracemalloc, gives the Python-heap share as a note.
With several rounds, only the first measures memory (idle_n=0 skips it).

    python -m benchmarks.spawn [--quick] [--vs asyncio,erlang]
"""

from __future__ import annotations

from .common import (
    Figure,
    Recorder,
    Target,
    median,
    pc,
    rss_bytes,
    runs_note,
    settle,
    tracemalloc_start,
    tracemalloc_stop,
)

NAME = "spawn"
FIGURES = (
    Figure("spawn_exit_per_s", "spawns/s", "higher",
           "processes spawned that exit at once, per second (spawner waits for all)"),
    Figure("bytes_per_idle_process", "bytes", "lower",
           "VmRSS delta per idle process (parked in receive), fresh OS process"),
)
TARGETS = (
    Target("spawn_exit_per_s", None, "ratio", 1.0, "asyncio"),
    Target("bytes_per_idle_process", None, "max", 6144),
)


def params(quick: bool) -> dict:
    if quick:
        return {"n": 10_000, "reps": 1, "idle_n": 20_000, "traced_n": 10_000}
    return {"n": 100_000, "reps": 1, "idle_n": 1_000_000, "traced_n": 100_000}


def adjust(system: str, p: dict, quick: bool) -> dict:
    if system == "pykka":
        p.update(n=min(p["n"], 1_000 if quick else 5_000),
                 idle_n=min(p["idle_n"], 1_000 if quick else 5_000),
                 traced_n=min(p["traced_n"], 1_000 if quick else 5_000))
        p["scaled"] = f"n={p['n']:,}, idle_n={p['idle_n']:,} (one OS thread per actor)"
    elif system == "gevent" and p["idle_n"] > 300_000:
        p["idle_n"] = 300_000
        p["scaled"] = "idle_n=300,000 (about 11 KB each: 1M would need 11 GB)"
    return p


def per_round(p: dict, index: int) -> dict:
    if index > 0:
        p["idle_n"] = 0  # memory is measured once, in the first fresh process
    return p


def _report(rec, p, rates, how, rss=None, traced=None):
    rec.add("spawn_exit_per_s", median(rates), "spawns/s",
            note=f"n={p['n']:,}; {how}; " + runs_note(rates))
    if p["idle_n"]:
        rec.add("bytes_per_idle_process", rss / p["idle_n"], "bytes",
                note=f"n={p['idle_n']:,}; VmRSS delta, fresh process; tracemalloc: "
                     f"{traced / p['traced_n']:,.0f} B/process (n={p['traced_n']:,})")


# ------------------------------------------------------------------ beamlet

def idle_process():
    import vm
    vm.receive("stop")


def exit_at_once(parent):
    import vm
    vm.send(parent, "done")


def _wait_parked(pids):
    import vm
    for pid in (pids[0], pids[-1]):
        for _ in range(1000):
            try:
                if vm.process_info(pid, "status") == "waiting":
                    break
            except Exception:  # noqa: BLE001 - process_info not there yet
                vm.sleep(0.2)
                break
            vm.sleep(0.005)


def beamlet_idle_rss(n):
    import vm
    settle()
    before = rss_bytes()
    pids = [vm.spawn(idle_process) for _ in range(n)]
    _wait_parked(pids)
    settle()
    return rss_bytes() - before


def beamlet_idle_traced(n):
    import vm
    t0 = tracemalloc_start()
    pids = [vm.spawn(idle_process) for _ in range(n)]
    _wait_parked(pids)
    return tracemalloc_stop(t0)


def beamlet_spawn_exit(n, reps):
    import vm
    me = vm.self()
    rates = []
    for _ in range(reps):
        t0 = pc()
        for _ in range(n):
            vm.spawn(exit_at_once, me)
        for _ in range(n):
            vm.receive("done")
        rates.append(n / (pc() - t0))
    return rates


def run_beamlet(p):
    from .beamlet_support import require_vm
    vm = require_vm()
    rec = Recorder(NAME, "beamlet", p)
    rss = traced = None
    if p["idle_n"]:
        rss = vm.run(beamlet_idle_rss, p["idle_n"])  # first, while the heap is fresh
        traced = vm.run(beamlet_idle_traced, p["traced_n"])
    rates = vm.run(beamlet_spawn_exit, p["n"], p["reps"])
    _report(rec, p, rates, "each child sends 'done'; the spawner counts them", rss, traced)
    return rec.records


# ------------------------------------------------------------------ asyncio

async def aio_idle(inbox):
    await inbox.get()


async def aio_nothing():
    return None


async def aio_population(n):
    import asyncio
    boxes = [asyncio.Queue() for _ in range(n)]
    tasks = [asyncio.create_task(aio_idle(b)) for b in boxes]
    await asyncio.sleep(0)  # every task runs up to its get()
    await asyncio.sleep(0)
    return boxes, tasks


async def aio_stop(pop):
    import asyncio
    for t in pop[1]:
        t.cancel()
    await asyncio.gather(*pop[1], return_exceptions=True)


async def aio_main(p):
    import asyncio
    rss = traced = None
    if p["idle_n"]:
        settle()
        before = rss_bytes()
        pop = await aio_population(p["idle_n"])
        settle()
        rss = rss_bytes() - before
        await aio_stop(pop)
        del pop
        t0 = tracemalloc_start()
        pop = await aio_population(p["traced_n"])
        traced = tracemalloc_stop(t0)
        await aio_stop(pop)
        del pop
    rates = []
    for _ in range(p["reps"]):
        t0 = pc()
        await asyncio.gather(*[asyncio.create_task(aio_nothing()) for _ in range(p["n"])])
        rates.append(p["n"] / (pc() - t0))
    return rates, rss, traced


def run_asyncio(p):
    import asyncio
    rec = Recorder(NAME, "asyncio", p)
    rates, rss, traced = asyncio.run(aio_main(p))
    _report(rec, p, rates, "create_task + gather; idle = Task + Queue each", rss, traced)
    return rec.records


# ------------------------------------------------------------------- gevent

def gevent_idle(inbox):
    inbox.get()


def gevent_nothing():
    return None


def gevent_population(n):
    import gevent
    from gevent.queue import Queue
    boxes = [Queue() for _ in range(n)]
    gs = [gevent.spawn(gevent_idle, b) for b in boxes]
    gevent.sleep(0)  # every greenlet runs up to its get()
    return boxes, gs


def gevent_stop(pop):
    import gevent
    for box in pop[0]:
        box.put(None)
    gevent.joinall(pop[1])


def run_gevent(p):
    import gevent
    rec = Recorder(NAME, "gevent", p)
    rss = traced = None
    if p["idle_n"]:
        settle()
        before = rss_bytes()
        pop = gevent_population(p["idle_n"])
        settle()
        rss = rss_bytes() - before
        gevent_stop(pop)
        del pop
        t0 = tracemalloc_start()
        pop = gevent_population(p["traced_n"])
        traced = tracemalloc_stop(t0)
        gevent_stop(pop)
        del pop
    rates = []
    for _ in range(p["reps"]):
        t0 = pc()
        gevent.joinall([gevent.spawn(gevent_nothing) for _ in range(p["n"])])
        rates.append(p["n"] / (pc() - t0))
    _report(rec, p, rates, "gevent.spawn + joinall; idle = Greenlet + Queue each", rss, traced)
    return rec.records


# -------------------------------------------------------------------- pykka

def _pykka_actors():
    import pykka

    class Idle(pykka.ThreadingActor):
        use_daemon_thread = True

        def on_receive(self, message):
            return message

    class Quitter(pykka.ThreadingActor):
        use_daemon_thread = True

        def on_start(self):
            self.stop()

    return Idle, Quitter


def run_pykka(p):
    import time
    Idle, Quitter = _pykka_actors()
    rec = Recorder(NAME, "pykka", p)

    def population(n):
        refs = [Idle.start() for _ in range(n)]
        for r in refs:
            r.ask(None)  # its thread is up and blocked on its inbox
        return refs

    def stop(refs):
        for r in refs:
            r.stop(block=False)
        for r in refs:
            r.actor_stopped.wait()
        time.sleep(0.3)

    rss = traced = None
    if p["idle_n"]:
        settle()
        before = rss_bytes()
        refs = population(p["idle_n"])
        settle()
        rss = rss_bytes() - before
        stop(refs)
        del refs
        t0 = tracemalloc_start()
        refs = population(p["traced_n"])
        traced = tracemalloc_stop(t0)
        stop(refs)
    rates = []
    for _ in range(p["reps"]):
        t0 = pc()
        refs = [Quitter.start() for _ in range(p["n"])]
        for r in refs:
            r.actor_stopped.wait()
        rates.append(p["n"] / (pc() - t0))
    _report(rec, p, rates,
            "start() an actor that stops itself in on_start; tracemalloc excludes thread stacks",
            rss, traced)
    return rec.records


if __name__ == "__main__":
    from .cli import main_for
    main_for(NAME)
