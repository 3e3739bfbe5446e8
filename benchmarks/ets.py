"""ETS: lookups and inserts per second, set and ordered_set, against a dict behind a server.

One process fills a fresh table with N objects `(k, k)` whose integer keys
come in a shuffled order (inserts_per_s), then looks every key up again in
another shuffled order (lookups_per_s). Cases:

- `set`, `ordered_set`: `stdlib.ets` on beamlet, `ets` on real BEAM;
- `dict behind a server`: what a program without ETS does to share a map
  between processes: a server process owns it and every get or put is a
  synchronous call (beamlet `gen_server.call`, BEAM `gen_server:call` with a
  map, asyncio a server task answering `(request, future)` pairs from a
  queue). It makes N // 10 calls of each kind, since a call costs tens of
  times a table operation.

    python -m benchmarks.ets [--quick]
"""

from __future__ import annotations

import random

from .common import Figure, Recorder, median, pc, runs_note

NAME = "ets"
FIGURES = (
    Figure("lookups_per_s", "ops/s", "higher",
           "lookups of present keys per second, by table type"),
    Figure("inserts_per_s", "ops/s", "higher",
           "inserts of new keys into an empty table per second, by table type"),
)
TARGETS = ()
SERVER = "dict behind a server"


def params(quick: bool) -> dict:
    return {"n": 20_000 if quick else 200_000, "reps": 1 if quick else 3, "seed": 7}


def keys(p, salt):
    ks = list(range(p["n"]))
    random.Random(p["seed"] + salt).shuffle(ks)
    return ks


def _report(rec, case, results, p, how):
    ins = [r[0] for r in results]
    look = [r[1] for r in results]
    n = p["n"] if case != SERVER else p["n"] // 10
    rec.add("inserts_per_s", median(ins), "ops/s", case=case,
            note=f"{n:,} inserts; {how}; " + runs_note(ins))
    rec.add("lookups_per_s", median(look), "ops/s", case=case,
            note=f"{n:,} lookups; {how}; " + runs_note(look))


# ------------------------------------------------------------------ beamlet

try:  # the callback class must be module-level; stdlib may not be there yet
    from stdlib.gen_server import GenServer as _GenServer
except Exception:  # noqa: BLE001
    _GenServer = object


class DictServer(_GenServer):
    """A dict behind a gen_server: ("put", k, v) and ("get", k) calls."""

    def init(self, arg):
        return ("ok", {})

    def handle_call(self, request, from_, state):
        if request[0] == "get":
            return ("reply", state.get(request[1]), state)
        state[request[1]] = request[2]
        return ("reply", "ok", state)


def beamlet_table(kind, p):
    from stdlib import ets
    ins_keys, look_keys = keys(p, 0), keys(p, 1)
    out = []
    for _ in range(p["reps"]):
        t = ets.new("bench", type=kind)
        insert, lookup = ets.insert, ets.lookup
        t0 = pc()
        for k in ins_keys:
            insert(t, (k, k))
        t1 = pc()
        for k in look_keys:
            lookup(t, k)
        t2 = pc()
        ets.delete(t)
        out.append((len(ins_keys) / (t1 - t0), len(look_keys) / (t2 - t1)))
    return out


def beamlet_server(p):
    from stdlib import gen_server
    n = p["n"] // 10
    ins_keys, look_keys = keys(p, 0)[:n], keys(p, 1)[:n]
    out = []
    for _ in range(p["reps"]):
        ok, server = gen_server.start(DictServer)
        call = gen_server.call
        t0 = pc()
        for k in ins_keys:
            call(server, ("put", k, k))
        t1 = pc()
        for k in look_keys:
            call(server, ("get", k))
        t2 = pc()
        gen_server.stop(server)
        out.append((n / (t1 - t0), n / (t2 - t1)))
    return out


def beamlet_main(p):
    return {kind: beamlet_table(kind, p) for kind in ("set", "ordered_set")} | \
        {SERVER: beamlet_server(p)}


def run_beamlet(p):
    from .beamlet_support import require_stdlib
    require_stdlib("ets", "new", "insert", "lookup")
    import vm
    rec = Recorder(NAME, "beamlet", p)
    results = vm.run(beamlet_main, p)
    for kind in ("set", "ordered_set"):
        _report(rec, kind, results[kind], p, f"stdlib.ets, {kind}")
    _report(rec, SERVER, results[SERVER], p, "a dict in a gen_server, one call per operation")
    return rec.records


# ------------------------------------------------------------------ asyncio

async def aio_server(requests):
    state = {}
    while True:
        request, reply = await requests.get()
        if request[0] == "get":
            reply.set_result(state.get(request[1]))
        elif request[0] == "put":
            state[request[1]] = request[2]
            reply.set_result("ok")
        else:
            reply.set_result("ok")
            return


async def aio_call(requests, request):
    import asyncio
    reply = asyncio.get_running_loop().create_future()
    await requests.put((request, reply))
    return await reply


async def aio_main(p):
    import asyncio
    n = p["n"] // 10
    ins_keys, look_keys = keys(p, 0)[:n], keys(p, 1)[:n]
    out = []
    for _ in range(p["reps"]):
        requests = asyncio.Queue()
        server = asyncio.create_task(aio_server(requests))
        t0 = pc()
        for k in ins_keys:
            await aio_call(requests, ("put", k, k))
        t1 = pc()
        for k in look_keys:
            await aio_call(requests, ("get", k))
        t2 = pc()
        await aio_call(requests, ("stop",))
        await server
        out.append((n / (t1 - t0), n / (t2 - t1)))
    return out


def run_asyncio(p):
    import asyncio
    rec = Recorder(NAME, "asyncio", p)
    _report(rec, SERVER, asyncio.run(aio_main(p)), p,
            "a dict in a server task, a (request, future) queue")
    return rec.records


if __name__ == "__main__":
    from .cli import main_for
    main_for(NAME)
