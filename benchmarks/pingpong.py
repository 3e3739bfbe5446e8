"""Ping-pong: two processes bounce a message back and forth; round trips per
second (each round trip is two messages and two context switches).

    python -m benchmarks.pingpong [--quick] [--vs asyncio]
"""

from __future__ import annotations

from .common import Figure, Recorder, Target, median, pc, runs_note

NAME = "pingpong"
FIGURES = (Figure("round_trips_per_s", "rt/s", "higher",
                  "request/reply round trips per second between two processes"),)
TARGETS = (Target("round_trips_per_s", None, "ratio", 1.5, "asyncio"),)


def params(quick: bool) -> dict:
    return {"rounds": 30_000, "reps": 1} if quick else {"rounds": 300_000, "reps": 1}


def adjust(system: str, p: dict, quick: bool) -> dict:
    if system == "pykka":
        p["rounds"] = min(p["rounds"], 5_000 if quick else 30_000)
        p["scaled"] = f"rounds={p['rounds']:,} (OS threads: about 20-30k rt/s)"
    return p


def _report(rec, p, rates):
    rec.add("round_trips_per_s", median(rates), "rt/s",
            note=f"{p['rounds']:,} round trips; " + runs_note(rates))


# ------------------------------------------------------------------ beamlet

def ponger():
    import vm
    while True:
        match vm.receive(("ping", vm.Pid), "stop"):
            case ("ping", sender):
                vm.send(sender, "pong")
            case "stop":
                return


def pinger(pong, rounds):
    import vm
    me = vm.self()
    for _ in range(rounds):
        vm.send(pong, ("ping", me))
        vm.receive("pong")


def beamlet_main(p):
    import vm
    rates = []
    for _ in range(p["reps"]):
        pong = vm.spawn(ponger)
        t0 = pc()
        pinger(pong, p["rounds"])
        rates.append(p["rounds"] / (pc() - t0))
        vm.send(pong, "stop")
    return rates


def run_beamlet(p):
    from .beamlet_support import require_vm
    vm = require_vm()
    rec = Recorder(NAME, "beamlet", p)
    _report(rec, p, vm.run(beamlet_main, p))
    return rec.records


# ------------------------------------------------------------------ asyncio

async def aio_ponger(inbox):
    while True:
        msg = await inbox.get()
        if msg == "stop":
            return
        msg[1].put_nowait("pong")


async def aio_main(p):
    import asyncio
    rates = []
    for _ in range(p["reps"]):
        inbox, mine = asyncio.Queue(), asyncio.Queue()
        task = asyncio.create_task(aio_ponger(inbox))
        t0 = pc()
        for _ in range(p["rounds"]):
            inbox.put_nowait(("ping", mine))
            await mine.get()
        rates.append(p["rounds"] / (pc() - t0))
        inbox.put_nowait("stop")
        await task
    return rates


def run_asyncio(p):
    import asyncio
    rec = Recorder(NAME, "asyncio", p)
    _report(rec, p, asyncio.run(aio_main(p)))
    return rec.records


# ------------------------------------------------------------------- gevent

def gevent_ponger(inbox):
    while True:
        msg = inbox.get()
        if msg == "stop":
            return
        msg[1].put("pong")


def gevent_pinger(inbox, rounds):
    from gevent.queue import Queue
    mine = Queue()
    for _ in range(rounds):
        inbox.put(("ping", mine))
        mine.get()


def run_gevent(p):
    import gevent
    from gevent.queue import Queue
    rec = Recorder(NAME, "gevent", p)
    rates = []
    for _ in range(p["reps"]):
        inbox = Queue()
        g = gevent.spawn(gevent_ponger, inbox)
        t0 = pc()
        gevent.spawn(gevent_pinger, inbox, p["rounds"]).join()
        rates.append(p["rounds"] / (pc() - t0))
        inbox.put("stop")
        g.join()
    _report(rec, p, rates)
    return rec.records


# -------------------------------------------------------------------- pykka

def _pykka_actors():
    import pykka

    class Ponger(pykka.ThreadingActor):
        use_daemon_thread = True

        def on_receive(self, message):
            message[1].tell(("pong", message[2]))  # ("ping", sender_ref, i)

    class Pinger(pykka.ThreadingActor):
        use_daemon_thread = True

        def __init__(self, pong, rounds, done):
            super().__init__()
            self.pong, self.rounds, self.done = pong, rounds, done

        def on_receive(self, message):
            if message == "go":
                self.pong.tell(("ping", self.actor_ref, 1))
            elif message[1] >= self.rounds:
                self.done.put(True)
            else:
                self.pong.tell(("ping", self.actor_ref, message[1] + 1))

    return Ponger, Pinger


def run_pykka(p):
    import queue
    Ponger, Pinger = _pykka_actors()
    rec = Recorder(NAME, "pykka", p)
    rates = []
    for _ in range(p["reps"]):
        done = queue.SimpleQueue()
        pong = Ponger.start()
        ping = Pinger.start(pong, p["rounds"], done)
        t0 = pc()
        ping.tell("go")
        done.get()
        rates.append(p["rounds"] / (pc() - t0))
        ping.stop()
        pong.stop()
    _report(rec, p, rates)
    return rec.records


if __name__ == "__main__":
    from .cli import main_for
    main_for(NAME)
