"""Fan-out: one process sends a request to each of 1,000 servers and collects
the 1,000 replies; complete fan-outs per second.

beamlet and BEAM use OTP 25's asynchronous requests as their users would:
`send_request` into a request-id collection, then `receive_response(...,
delete=True)` until it is empty. beamlet also has a row that keeps the
request ids in a list and waits for each in turn (what the collection's
copying costs). asyncio puts a `(request, future)` pair on each server
task's queue and gathers the futures; gevent the same with `AsyncResult`;
Pykka `ask(..., block=False)` on each actor and `pykka.get_all`.

    python -m benchmarks.fanout [--quick]
"""

from __future__ import annotations

from .call import PingServer, aio_server, gevent_server, pykka_ping_server
from .common import Figure, Recorder, median, pc, runs_note

NAME = "fanout"
FIGURES = (Figure("fanouts_per_s", "fanouts/s", "higher",
                  "requests to every server and all replies collected, per second"),)
TARGETS = ()  # the issue sets no target: measured against BEAM
COLLECTION = "request-id collection"
ID_LIST = "request ids in a list"


def params(quick: bool) -> dict:
    return {"servers": 1000, "fanouts": 10 if quick else 50, "reps": 1 if quick else 3}


def adjust(system: str, p: dict, quick: bool) -> dict:
    if system == "pykka":
        p["servers"] = min(p["servers"], 100)
        p["scaled"] = f"servers={p['servers']} (one OS thread per actor)"
    return p


def _report(rec, p, rates, how, case=COLLECTION):
    rec.add("fanouts_per_s", median(rates), "fanouts/s", case=case,
            note=f"{p['servers']:,} servers x {p['fanouts']} fan-outs; {how}; "
                 f"{median(rates) * p['servers']:,.0f} replies/s; " + runs_note(rates))


def _time(p, fan_out):
    rates = []
    for _ in range(p["reps"]):
        t0 = pc()
        for _ in range(p["fanouts"]):
            fan_out()
        rates.append(p["fanouts"] / (pc() - t0))
    return rates


# ------------------------------------------------------------------ beamlet
# The servers are call.py's: a gen_server (asyncio task, gevent greenlet) that
# answers every request with "pong".

def beamlet_main(p):
    from stdlib import gen_server
    servers = [gen_server.start(PingServer)[1] for _ in range(p["servers"])]
    send_request, receive_response = gen_server.send_request, gen_server.receive_response

    def with_collection():
        reqids = gen_server.reqids_new()
        for i, server in enumerate(servers):
            reqids = send_request(server, "ping", i, reqids)
        replies = 0
        while True:
            r = receive_response(reqids, None, True)
            if r == "no_request":
                break
            replies += r[0][1] == "pong"
            reqids = r[2]
        assert replies == len(servers)

    def with_list():
        ids = [send_request(server, "ping") for server in servers]
        replies = [receive_response(req_id)[1] for req_id in ids]
        assert replies.count("pong") == len(servers)

    rates = {COLLECTION: _time(p, with_collection), ID_LIST: _time(p, with_list)}
    for server in servers:
        gen_server.stop(server)
    return rates


def run_beamlet(p):
    from .beamlet_support import require_stdlib
    require_stdlib("gen_server", "GenServer", "start", "send_request", "receive_response",
                   "reqids_new", "stop")
    import vm
    rec = Recorder(NAME, "beamlet", p)
    rates = vm.run(beamlet_main, p)
    _report(rec, p, rates[COLLECTION], "send_request into a collection, receive_response "
                                       "with delete=True")
    _report(rec, p, rates[ID_LIST], "send_request, then receive_response on each id",
            case=ID_LIST)
    return rec.records


# ------------------------------------------------------------------ asyncio

async def aio_main(p):
    import asyncio
    loop = asyncio.get_running_loop()
    queues = [asyncio.Queue() for _ in range(p["servers"])]
    tasks = [asyncio.create_task(aio_server(q)) for q in queues]
    rates = []
    for _ in range(p["reps"]):
        t0 = pc()
        for _ in range(p["fanouts"]):
            futures = []
            for q in queues:
                f = loop.create_future()
                q.put_nowait(("ping", f))
                futures.append(f)
            replies = await asyncio.gather(*futures)
            assert replies.count("pong") == len(queues)
        rates.append(p["fanouts"] / (pc() - t0))
    for q in queues:
        q.put_nowait(("stop", loop.create_future()))
    await asyncio.gather(*tasks)
    return rates


def run_asyncio(p):
    import asyncio
    rec = Recorder(NAME, "asyncio", p)
    _report(rec, p, asyncio.run(aio_main(p)), "(request, future) on each server task's queue, "
                                              "asyncio.gather")
    return rec.records


# ------------------------------------------------------------------- gevent

def run_gevent(p):
    import gevent
    from gevent.event import AsyncResult
    from gevent.queue import Queue
    rec = Recorder(NAME, "gevent", p)
    queues = [Queue() for _ in range(p["servers"])]
    servers = [gevent.spawn(gevent_server, q) for q in queues]

    def fan_out():
        results = []
        for q in queues:
            r = AsyncResult()
            q.put(("ping", r))
            results.append(r)
        assert [r.get() for r in results].count("pong") == len(queues)

    rates = _time(p, fan_out)
    for q in queues:
        q.put(("stop", AsyncResult()))
    gevent.joinall(servers)
    _report(rec, p, rates, "(request, AsyncResult) on each server greenlet's queue")
    return rec.records


# -------------------------------------------------------------------- pykka

def run_pykka(p):
    import pykka
    rec = Recorder(NAME, "pykka", p)
    server_class = pykka_ping_server()
    servers = [server_class.start() for _ in range(p["servers"])]

    def fan_out():
        futures = [s.ask("ping", block=False) for s in servers]
        assert pykka.get_all(futures).count("pong") == len(servers)

    rates = _time(p, fan_out)
    for s in servers:
        s.stop()
    _report(rec, p, rates, "ask(block=False) on each actor, pykka.get_all")
    return rec.records


if __name__ == "__main__":
    from .cli import main_for
    main_for(NAME)
