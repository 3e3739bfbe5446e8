"""Ring: N processes in a ring pass a token, decremented at each hop, until it
reaches zero. Figures: hops per second at N=1000, and the rate against N from
10 to 100,000 (does the scheduler slow down as the run queue and the number of
parked processes grow?).

Every system does the same steps: spawn N processes, tell each its successor,
wait until every one of them has answered "ready" (so the clock does not time
first-run start-up), then time the token's trip.

    python -m benchmarks.ring [--quick] [--vs asyncio,erlang]
"""

from __future__ import annotations

from .common import Figure, Recorder, Target, median, pc, runs_note

NAME = "ring"
FIGURES = (
    Figure("hops_per_s", "hops/s", "higher", "token hops per second, N=1000 processes"),
    Figure("hops_per_s_by_n", "hops/s", "higher", "token hops per second against ring size N"),
)
TARGETS = (Target("hops_per_s", None, "ratio", 2.0, "asyncio"),)
PYKKA_MAX_N = 1000  # one OS thread per Pykka actor


def params(quick: bool) -> dict:
    if quick:
        return {"n": 1000, "hops": 100_000, "reps": 1,
                "scan": [10, 100, 1000, 10_000], "scan_hops": 50_000}
    return {"n": 1000, "hops": 1_000_000, "reps": 1,
            "scan": [10, 100, 1000, 10_000, 100_000], "scan_hops": 300_000}


def adjust(system: str, p: dict, quick: bool) -> dict:
    if system == "pykka":
        p["hops"] = min(p["hops"], 20_000 if quick else 100_000)
        p["scan_hops"] = min(p["scan_hops"], 10_000 if quick else 30_000)
        p["reps"] = 1
        p["scaled"] = (f"hops={p['hops']:,}, scan_hops={p['scan_hops']:,}, 1 rep, "
                       f"N <= {PYKKA_MAX_N} (one OS thread per actor)")
    return p


def _report(rec: Recorder, p: dict, headline: list, scan: dict):
    rec.add("hops_per_s", median(headline), "hops/s",
            note=f"N={p['n']}, {p['hops']:,} hops; " + runs_note(headline))
    for n in p["scan"]:
        if n in scan:
            hops = max(p["scan_hops"], n)
            rec.add("hops_per_s_by_n", scan[n], "hops/s", case=f"N={n}",
                    note=f"{hops:,} hops")
        else:
            rec.na("hops_per_s_by_n", "hops/s",
                   f"not run above N={PYKKA_MAX_N}: one OS thread per actor", case=f"N={n}")


# ------------------------------------------------------------------ beamlet

def ring_node(main):
    """One ring member: learn the successor, say ready, then forward the token."""
    import vm
    _, nxt = vm.receive(("next", vm.Pid))
    vm.send(main, "ready")
    while True:
        k = vm.receive()
        if k == 0:
            vm.send(main, "ring_done")
        else:
            vm.send(nxt, k - 1)


def beamlet_ring_once(n, hops):
    import vm
    me = vm.self()
    pids = [vm.spawn(ring_node, me) for _ in range(n)]
    for i, pid in enumerate(pids):
        vm.send(pid, ("next", pids[(i + 1) % n]))
    for _ in range(n):
        vm.receive("ready")
    t0 = pc()
    vm.send(pids[0], hops)
    vm.receive("ring_done")
    dt = pc() - t0
    for pid in pids:
        vm.exit(pid, "kill")
    return hops / dt


def beamlet_main(p):
    headline = [beamlet_ring_once(p["n"], p["hops"]) for _ in range(p["reps"])]
    scan = {n: beamlet_ring_once(n, max(p["scan_hops"], n)) for n in p["scan"]}
    return headline, scan


def run_beamlet(p):
    from .beamlet_support import require_vm
    vm = require_vm()
    rec = Recorder(NAME, "beamlet", p)
    headline, scan = vm.run(beamlet_main, p)
    _report(rec, p, headline, scan)
    return rec.records


# ------------------------------------------------------------------ asyncio

async def aio_ring_node(inbox, main_box):
    nxt = await inbox.get()
    main_box.put_nowait("ready")
    while True:
        k = await inbox.get()
        if k == 0:
            main_box.put_nowait("ring_done")
        else:
            nxt.put_nowait(k - 1)


async def aio_ring_once(n, hops):
    import asyncio
    main_box = asyncio.Queue()
    boxes = [asyncio.Queue() for _ in range(n)]
    tasks = [asyncio.create_task(aio_ring_node(b, main_box)) for b in boxes]
    for i, b in enumerate(boxes):
        b.put_nowait(boxes[(i + 1) % n])
    for _ in range(n):
        await main_box.get()
    t0 = pc()
    boxes[0].put_nowait(hops)
    await main_box.get()
    dt = pc() - t0
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return hops / dt


async def aio_main(p):
    headline = [await aio_ring_once(p["n"], p["hops"]) for _ in range(p["reps"])]
    scan = {n: await aio_ring_once(n, max(p["scan_hops"], n)) for n in p["scan"]}
    return headline, scan


def run_asyncio(p):
    import asyncio
    rec = Recorder(NAME, "asyncio", p)
    _report(rec, p, *asyncio.run(aio_main(p)))
    return rec.records


# ------------------------------------------------------------------- gevent

def gevent_ring_node(inbox, main_box):
    nxt = inbox.get()
    main_box.put("ready")
    while True:
        k = inbox.get()
        if k == 0:
            main_box.put("ring_done")
        else:
            nxt.put(k - 1)


def gevent_ring_once(n, hops):
    import gevent
    from gevent.queue import Queue
    main_box = Queue()
    boxes = [Queue() for _ in range(n)]
    gs = [gevent.spawn(gevent_ring_node, b, main_box) for b in boxes]
    for i, b in enumerate(boxes):
        b.put(boxes[(i + 1) % n])
    for _ in range(n):
        main_box.get()
    t0 = pc()
    boxes[0].put(hops)
    main_box.get()
    dt = pc() - t0
    gevent.killall(gs)
    return hops / dt


def run_gevent(p):
    rec = Recorder(NAME, "gevent", p)
    headline = [gevent_ring_once(p["n"], p["hops"]) for _ in range(p["reps"])]
    scan = {n: gevent_ring_once(n, max(p["scan_hops"], n)) for n in p["scan"]}
    _report(rec, p, headline, scan)
    return rec.records


# -------------------------------------------------------------------- pykka

def _pykka_ring_actor():
    import pykka

    class RingMember(pykka.ThreadingActor):
        use_daemon_thread = True

        def __init__(self, done):
            super().__init__()
            self.done = done
            self.next = None

        def on_receive(self, message):
            if isinstance(message, tuple):  # ("next", ref): answered through ask()
                self.next = message[1]
                return "ready"
            if message == 0:
                self.done.put("ring_done")
            else:
                self.next.tell(message - 1)

    return RingMember


def pykka_ring_once(n, hops):
    import queue
    RingMember = _pykka_ring_actor()
    done = queue.SimpleQueue()
    refs = [RingMember.start(done) for _ in range(n)]
    for i, r in enumerate(refs):
        r.ask(("next", refs[(i + 1) % n]))
    t0 = pc()
    refs[0].tell(hops)
    done.get()
    dt = pc() - t0
    for r in refs:
        r.stop(block=False)
    for r in refs:
        r.actor_stopped.wait()
    return hops / dt


def run_pykka(p):
    rec = Recorder(NAME, "pykka", p)
    headline = [pykka_ring_once(p["n"], p["hops"]) for _ in range(p["reps"])]
    scan = {n: pykka_ring_once(n, max(p["scan_hops"], n))
            for n in p["scan"] if n <= PYKKA_MAX_N}
    _report(rec, p, headline, scan)
    return rec.records


if __name__ == "__main__":
    from .cli import main_for
    main_for(NAME)
