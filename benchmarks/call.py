"""gen_server calls: synchronous request/response calls per second against a
trivial server.

Peers use their idiomatic request/response: asyncio a server task that reads
(request, future) pairs from a queue and answers through the future; gevent
the same with an AsyncResult; Pykka `ActorRef.ask()`; real BEAM
`gen_server:call/2`.

    python -m benchmarks.call [--quick]
"""

from __future__ import annotations

from .common import Figure, Recorder, Target, median, pc, runs_note

NAME = "call"
FIGURES = (Figure("calls_per_s", "calls/s", "higher",
                  "synchronous calls to a trivial server per second"),)
TARGETS = (Target("calls_per_s", None, "ratio", 1.5, "asyncio"),)


def params(quick: bool) -> dict:
    return {"calls": 10_000, "reps": 1} if quick else {"calls": 100_000, "reps": 1}


def adjust(system: str, p: dict, quick: bool) -> dict:
    if system == "pykka":
        p["calls"] = min(p["calls"], 2_000 if quick else 10_000)
        p["scaled"] = f"calls={p['calls']:,} (OS threads)"
    return p


def _report(rec, p, rates, how):
    rec.add("calls_per_s", median(rates), "calls/s",
            note=f"{p['calls']:,} calls; {how}; " + runs_note(rates))


# ------------------------------------------------------------------ beamlet

try:  # the callback class must be module-level; stdlib may not be there yet
    from stdlib.gen_server import GenServer as _GenServer
except Exception:  # noqa: BLE001
    _GenServer = object


class PingServer(_GenServer):
    """A trivial gen_server: answers every call with "pong"."""

    def init(self, arg):
        return ("ok", None)

    def handle_call(self, request, from_, state):
        return ("reply", "pong", state)


def beamlet_main(p):
    from stdlib import gen_server
    started = gen_server.start(PingServer)
    if not (isinstance(started, tuple) and started[0] == "ok"):
        raise RuntimeError(f"gen_server.start(PingServer) returned {started!r}")
    server = started[1]
    call = gen_server.call
    rates = []
    for _ in range(p["reps"]):
        t0 = pc()
        for _ in range(p["calls"]):
            call(server, "ping")
        rates.append(p["calls"] / (pc() - t0))
    gen_server.stop(server)
    return rates


def run_beamlet(p):
    from .beamlet_support import require_stdlib
    require_stdlib("gen_server", "GenServer", "start", "call", "stop")
    import vm
    rec = Recorder(NAME, "beamlet", p)
    _report(rec, p, vm.run(beamlet_main, p), "stdlib.gen_server.call")
    return rec.records


# ------------------------------------------------------------------ asyncio

async def aio_server(requests):
    while True:
        request, reply = await requests.get()
        if request == "stop":
            reply.set_result("ok")
            return
        reply.set_result("pong")


async def aio_call(requests, request):
    import asyncio
    reply = asyncio.get_running_loop().create_future()
    await requests.put((request, reply))
    return await reply


async def aio_main(p):
    import asyncio
    requests = asyncio.Queue()
    server = asyncio.create_task(aio_server(requests))
    rates = []
    for _ in range(p["reps"]):
        t0 = pc()
        for _ in range(p["calls"]):
            await aio_call(requests, "ping")
        rates.append(p["calls"] / (pc() - t0))
    await aio_call(requests, "stop")
    await server
    return rates


def run_asyncio(p):
    import asyncio
    rec = Recorder(NAME, "asyncio", p)
    _report(rec, p, asyncio.run(aio_main(p)), "server task + queue of (request, future)")
    return rec.records


# ------------------------------------------------------------------- gevent

def gevent_server(requests):
    while True:
        request, reply = requests.get()
        reply.set("pong" if request != "stop" else "ok")
        if request == "stop":
            return


def gevent_call(requests, request):
    from gevent.event import AsyncResult
    reply = AsyncResult()
    requests.put((request, reply))
    return reply.get()


def run_gevent(p):
    import gevent
    from gevent.queue import Queue
    rec = Recorder(NAME, "gevent", p)
    requests = Queue()
    server = gevent.spawn(gevent_server, requests)
    rates = []
    for _ in range(p["reps"]):
        t0 = pc()
        for _ in range(p["calls"]):
            gevent_call(requests, "ping")
        rates.append(p["calls"] / (pc() - t0))
    gevent_call(requests, "stop")
    server.join()
    _report(rec, p, rates, "server greenlet + queue of (request, AsyncResult)")
    return rec.records


# -------------------------------------------------------------------- pykka

def pykka_ping_server():
    """A Pykka actor class that answers every message with "pong" (imported late:
    Pykka is optional)."""
    import pykka

    class Server(pykka.ThreadingActor):
        use_daemon_thread = True

        def on_receive(self, message):
            return "pong"

    return Server


def run_pykka(p):
    rec = Recorder(NAME, "pykka", p)
    server = pykka_ping_server().start()
    rates = []
    for _ in range(p["reps"]):
        t0 = pc()
        for _ in range(p["calls"]):
            server.ask("ping")
        rates.append(p["calls"] / (pc() - t0))
    server.stop()
    _report(rec, p, rates, "ActorRef.ask() from the main thread")
    return rec.records


if __name__ == "__main__":
    from .cli import main_for
    main_for(NAME)
