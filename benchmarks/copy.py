"""Copy-on-send: the cost of sending one message against its size.

beamlet copies what it sends (lists and dicts are copied, immutable values are
shared, see docs/architecture.md), as BEAM copies a message into the receiver's heap
(large binaries excepted: they are reference-counted and shared). asyncio,
gevent and Pykka pass a reference: nothing is copied, so their cost is flat.

Each case sends the payload to an echo process that answers with a small ack;
the figure is microseconds per (payload send + ack), so the small tuple row is
the baseline of a round trip. For beamlet two more rows split the cost: the
copy alone (`vm.lowlevel.copy_term`) and, for comparison, what a msgpack
encode/decode round trip of the same payload would cost.

    python -m benchmarks.copy [--quick]
"""

from __future__ import annotations

from .common import Figure, Recorder, median, pc

NAME = "copy"
FIGURES = (
    Figure("us_per_message", "us", "lower", "one payload send plus a small ack, per message size"),
    Figure("copy_term_us", "us", "lower", "beamlet only: the copy alone (vm.lowlevel.copy_term)"),
    Figure("msgpack_us", "us", "lower",
           "beamlet only, for comparison: msgpack packb + unpackb of the payload"),
)
TARGETS = ()

# (label, kind, k). Sizes are CPython's in-memory size of the payload: a list
# of k distinct ints is about 36 bytes per element (8-byte slot + int object).
CASES = [
    ["small tuple", "tuple", 3],
    ["list of 30 ints (~1 KB)", "list", 30],
    ["list of 300 ints (~10 KB)", "list", 300],
    ["list of 3,000 ints (~100 KB)", "list", 3_000],
    ["list of 30,000 ints (~1 MB)", "list", 30_000],
    ["300 small dicts (~100 KB)", "nested", 300],
    ["bytes, 1 MB (immutable)", "bytes", 1 << 20],
]


def params(quick: bool) -> dict:
    return {"cases": CASES, "budget_s": 0.15 if quick else 0.5, "max_msgs": 20_000}


def make_payload(kind: str, k: int):
    if kind == "tuple":
        return ("msg", 1, 2.5)
    if kind == "list":
        return list(range(1000, 1000 + k))
    if kind == "nested":
        return [{"id": i, "name": f"n{i}", "tags": ["a", "b"]} for i in range(k)]
    if kind == "bytes":
        return bytes(k)
    raise ValueError(kind)


def _report(rec, p, results):
    for (label, _kind, _k), (us, n) in zip(p["cases"], results, strict=True):
        rec.add("us_per_message", us, "us", case=label, note=f"{n:,} messages")


def _bounded(step, p):
    """Time step() until max_msgs or the budget is spent; (us/msg, count)."""
    times = []
    end = pc() + p["budget_s"]
    n = 0
    while n < p["max_msgs"]:
        t0 = pc()
        for _ in range(8):
            step()
        times.append((pc() - t0) / 8)
        n += 8
        if pc() > end:
            break
    return median(times) * 1e6, n


# ------------------------------------------------------------------ beamlet

def echo_process():
    import vm
    while True:
        match vm.receive():
            case ("data", sender, _):
                vm.send(sender, "ack")
            case "stop":
                return


def beamlet_main(p):
    import vm
    me = vm.self()
    echo = vm.spawn(echo_process)
    results = []
    for _label, kind, k in p["cases"]:
        payload = make_payload(kind, k)

        def step(payload=payload):
            vm.send(echo, ("data", me, payload))
            vm.receive("ack")

        results.append(_bounded(step, p))
    vm.send(echo, "stop")
    return results


def _time_call(fn, budget_s):
    times = []
    end = pc() + budget_s
    while True:
        t0 = pc()
        fn()
        times.append(pc() - t0)
        if pc() > end or len(times) >= 20_000:
            return median(times) * 1e6, len(times)


def run_beamlet(p):
    from .beamlet_support import require_vm
    vm = require_vm()
    rec = Recorder(NAME, "beamlet", p)
    _report(rec, p, vm.run(beamlet_main, p))
    try:
        from vm.lowlevel import copy_term
    except ImportError:
        copy_term = None
    try:
        import msgpack
    except ImportError:
        msgpack = None
    budget = p["budget_s"] / 3
    payloads = [(label, make_payload(kind, k)) for label, kind, k in p["cases"]]
    if copy_term is not None:
        for label, payload in payloads:
            us, n = _time_call(lambda x=payload: copy_term(x), budget)
            rec.add("copy_term_us", us, "us", case=label, note=f"median of {n:,} copies")
    if msgpack is not None:
        for label, payload in payloads:
            us, n = _time_call(lambda x=payload: msgpack.unpackb(msgpack.packb(x)), budget)
            rec.add("msgpack_us", us, "us", case=label,
                    note=f"median of {n:,}; msgpack turns tuples into lists (not a faithful copy)")
    return rec.records


# ------------------------------------------------------------------ asyncio

async def aio_echo(inbox):
    while True:
        msg = await inbox.get()
        if msg == "stop":
            return
        msg[1].put_nowait("ack")


async def aio_main(p):
    import asyncio
    inbox, mine = asyncio.Queue(), asyncio.Queue()
    task = asyncio.create_task(aio_echo(inbox))
    results = []
    for _label, kind, k in p["cases"]:
        payload = make_payload(kind, k)
        times = []
        end = pc() + p["budget_s"]
        n = 0
        while n < p["max_msgs"]:
            t0 = pc()
            for _ in range(8):
                inbox.put_nowait(("data", mine, payload))
                await mine.get()
            times.append((pc() - t0) / 8)
            n += 8
            if pc() > end:
                break
        results.append((median(times) * 1e6, n))
    inbox.put_nowait("stop")
    await task
    return results


def run_asyncio(p):
    import asyncio
    rec = Recorder(NAME, "asyncio", p)
    _report(rec, p, asyncio.run(aio_main(p)))
    return rec.records


# ------------------------------------------------------------------- gevent

def gevent_echo(inbox):
    while True:
        msg = inbox.get()
        if msg == "stop":
            return
        msg[1].put("ack")


def run_gevent(p):
    import gevent
    from gevent.queue import Queue
    rec = Recorder(NAME, "gevent", p)
    inbox, mine = Queue(), Queue()
    g = gevent.spawn(gevent_echo, inbox)
    results = []
    for _label, kind, k in p["cases"]:
        payload = make_payload(kind, k)

        def step(payload=payload):
            inbox.put(("data", mine, payload))
            mine.get()

        results.append(_bounded(step, p))
    inbox.put("stop")
    g.join()
    _report(rec, p, results)
    return rec.records


# -------------------------------------------------------------------- pykka

def run_pykka(p):
    import pykka

    class Echo(pykka.ThreadingActor):
        use_daemon_thread = True

        def on_receive(self, message):
            return "ack"

    rec = Recorder(NAME, "pykka", p)
    echo = Echo.start()
    results = []
    for _label, kind, k in p["cases"]:
        payload = make_payload(kind, k)
        results.append(_bounded(lambda x=payload: echo.ask(("data", None, x)), p))
    echo.stop()
    _report(rec, p, results)
    return rec.records


if __name__ == "__main__":
    from .cli import main_for
    main_for(NAME)
