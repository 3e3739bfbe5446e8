"""Selective receive: messages that no pattern matches sit in a process's
mailbox.

- `match_after_queue_us [N queued]`: the time of one selective receive that
  has to pass over N unmatched messages (1,000 to 1,000,000) to find the one
  message that matches (BEAM scans them too: this is linear by design).
- `scan_cost_growth`: the cost per queued message of that receive at 100,000
  queued over its cost at 1,000 queued: 1x is a linear scan, and a scan
  that grows quadratic shows here (the target: at most 2x).
- `round_trips_per_s`: request/reply round trips the process makes to a server
  with an empty mailbox and while 10,000 messages wait. Real BEAM marks
  the mailbox when a fresh reference is made just before the send, so the
  reply's receive skips the old messages and the rate barely moves. beamlet
  does the same when every pattern of the receive holds that reference; its
  explicit receive markers (`vm.lowlevel.mailbox_mark()`, what gen_server's
  call uses) get their own row.

asyncio, gevent and Pykka have no selective receive: their idiomatic request
reply goes through a future of its own, so the queued messages are not in
its way. Their scan figures are n/a.

    python -m benchmarks.selective [--quick]
"""

from __future__ import annotations

from .common import Figure, Recorder, Target, median, pc

NAME = "selective"
FIGURES = (
    Figure("match_after_queue_us", "us", "lower",
           "one selective receive that finds its message behind the unmatched ones"),
    Figure("scan_cost_growth", "x", "lower",
           "cost per queued message of that receive at 100,000 queued over at 1,000",
           ratio=False),
    Figure("round_trips_per_s", "rt/s", "higher",
           "request/reply round trips, mailbox empty vs unmatched messages queued"),
)
NO_SELECTIVE = "no selective receive: a request/reply uses its own future"


def params(quick: bool) -> dict:
    if quick:
        return {"queued": 10_000, "scan_sizes": [1_000, 10_000, 100_000], "matches": 20,
                "scan_budget_s": 0.3, "rounds": 5_000, "budget_s": 0.5}
    return {"queued": 10_000, "scan_sizes": [1_000, 10_000, 100_000, 1_000_000],
            "matches": 100, "scan_budget_s": 1.0, "rounds": 50_000, "budget_s": 1.0}


def growth_pair(p):
    """(small, big): the queue lengths whose per-message costs are compared."""
    sizes = sorted(p["scan_sizes"])
    small = min(sizes)
    big = 100_000 if 100_000 in sizes and small < 100_000 else max(sizes)
    return small, big


def growth_case(p):
    small, big = growth_pair(p)
    return f"{big:,} vs {small:,} queued"


TARGETS = (Target("scan_cost_growth", "100,000 vs 1,000 queued", "max", 2.0),)


def scan_sizes(p):
    """The queue lengths measured, in the order they are reached (always with `queued`)."""
    return sorted(set(p["scan_sizes"]) | {p["queued"]})


def expected_rows(p):
    q = p["queued"]
    return ({("match_after_queue_us", f"{n:,} queued") for n in scan_sizes(p)}
            | {("scan_cost_growth", growth_case(p)),
               ("round_trips_per_s", "empty mailbox"), ("round_trips_per_s", f"{q:,} queued")})


def _report(rec, p, match_us, rt_empty, rt_queued, rt_marked=None):
    """match_us: {queue length: [us, ...]}, or None where there is no selective receive."""
    q = p["queued"]
    for n in scan_sizes(p):
        if match_us is None:
            rec.na("match_after_queue_us", "us", NO_SELECTIVE, case=f"{n:,} queued")
        else:
            us = median(match_us[n])
            rec.add("match_after_queue_us", us, "us", case=f"{n:,} queued",
                    note=f"median of {len(match_us[n])} receives; "
                         f"{us * 1e3 / n:.3g} ns per queued message")
    if match_us is None:
        rec.na("scan_cost_growth", "x", NO_SELECTIVE, case=growth_case(p))
    else:
        small, big = growth_pair(p)
        per_small = median(match_us[small]) / small
        per_big = median(match_us[big]) / big
        rec.add("scan_cost_growth", per_big / per_small, "x", case=growth_case(p),
                note=f"{per_big * 1e3:.3g} ns per message at {big:,} queued, "
                     f"{per_small * 1e3:.3g} ns at {small:,}")
    rec.add("round_trips_per_s", rt_empty[0], "rt/s", case="empty mailbox",
            note=f"{rt_empty[1]:,} round trips")
    rec.add("round_trips_per_s", rt_queued[0], "rt/s", case=f"{q:,} queued",
            note=f"{rt_queued[1]:,} round trips (stops after {p['budget_s']} s)")
    if rt_marked is not None:
        rec.add("round_trips_per_s", rt_marked[0], "rt/s", case=f"{q:,} queued, receive mark",
                note=f"{rt_marked[1]:,} round trips; mark taken before the send, "
                     "as gen_server.call does")


def _bounded(step, rounds, budget_s):
    """Run step() up to `rounds` times or until the budget is spent."""
    t0 = pc()
    end = t0 + budget_s
    done = 0
    while done < rounds:
        for _ in range(16):
            step()
        done += 16
        if pc() > end:
            break
    return done / (pc() - t0), done


# ------------------------------------------------------------------ beamlet

def echo_server():
    import vm
    while True:
        match vm.receive(("req", vm.Pid, vm.Ref), "stop"):
            case ("req", sender, ref):
                vm.send(sender, ("reply", ref))
            case "stop":
                return


def beamlet_call(server, me):
    import vm
    ref = vm.make_ref()
    vm.send(server, ("req", me, ref))
    vm.receive(("reply", ref))


def beamlet_call_marked(server, me, mailbox_mark):
    import vm
    ref = vm.make_ref()
    m = mailbox_mark()
    vm.send(server, ("req", me, ref))
    vm.receive(("reply", ref), mark=m)


def scans(me, p, n):
    """Time selective receives behind n queued messages (at least 3, up to
    `matches`, within `scan_budget_s`)."""
    import vm
    out = []
    end = pc() + p["scan_budget_s"]
    while len(out) < p["matches"] and (len(out) < 3 or pc() < end):
        vm.send(me, ("match", len(out)))
        t0 = pc()
        vm.receive(("match", int))
        out.append((pc() - t0) * 1e6)
    return out


def beamlet_main(p):
    import vm
    try:
        from vm.lowlevel import mailbox_mark
    except ImportError:
        mailbox_mark = None
    me = vm.self()
    server = vm.spawn(echo_server)
    rt_empty = _bounded(lambda: beamlet_call(server, me), p["rounds"], p["budget_s"])
    rt_queued = rt_marked = None
    match_us = {}
    queued = 0
    for n in scan_sizes(p):
        for i in range(queued, n):
            vm.send(me, ("unmatched", i))
        queued = n
        if n == p["queued"]:
            rt_queued = _bounded(lambda: beamlet_call(server, me), p["rounds"], p["budget_s"])
            if mailbox_mark is not None:
                rt_marked = _bounded(lambda: beamlet_call_marked(server, me, mailbox_mark),
                                     p["rounds"], p["budget_s"])
        match_us[n] = scans(me, p, n)
    vm.send(server, "stop")
    return match_us, rt_empty, rt_queued, rt_marked


def run_beamlet(p):
    from .beamlet_support import require_vm
    vm = require_vm()
    rec = Recorder(NAME, "beamlet", p)
    _report(rec, p, *vm.run(beamlet_main, p))
    return rec.records


# ------------------------------------------------------------------ asyncio

async def aio_server(requests):
    while True:
        item = await requests.get()
        if item is None:
            return
        item[1].set_result(("reply", item[0]))


async def aio_main(p):
    import asyncio
    loop = asyncio.get_running_loop()
    requests, inbox = asyncio.Queue(), asyncio.Queue()
    server = asyncio.create_task(aio_server(requests))

    async def measure():
        t0 = pc()
        end = t0 + p["budget_s"]
        done = 0
        while done < p["rounds"]:
            for _ in range(16):
                fut = loop.create_future()
                requests.put_nowait(("ping", fut))
                await fut
            done += 16
            if pc() > end:
                break
        return done / (pc() - t0), done

    rt_empty = await measure()
    for i in range(p["queued"]):
        inbox.put_nowait(("unmatched", i))  # this task's own mailbox, unread
    rt_queued = await measure()
    requests.put_nowait(None)
    await server
    return None, rt_empty, rt_queued


def run_asyncio(p):
    import asyncio
    rec = Recorder(NAME, "asyncio", p)
    _report(rec, p, *asyncio.run(aio_main(p)))
    return rec.records


# ------------------------------------------------------------------- gevent

def gevent_server(requests):
    while True:
        item = requests.get()
        if item is None:
            return
        item[1].set(("reply", item[0]))


def run_gevent(p):
    import gevent
    from gevent.event import AsyncResult
    from gevent.queue import Queue
    rec = Recorder(NAME, "gevent", p)
    requests, inbox = Queue(), Queue()
    server = gevent.spawn(gevent_server, requests)

    def call():
        result = AsyncResult()
        requests.put(("ping", result))
        result.get()

    rt_empty = _bounded(call, p["rounds"], p["budget_s"])
    for i in range(p["queued"]):
        inbox.put(("unmatched", i))
    rt_queued = _bounded(call, p["rounds"], p["budget_s"])
    requests.put(None)
    server.join()
    _report(rec, p, None, rt_empty, rt_queued)
    return rec.records


# -------------------------------------------------------------------- pykka

def run_pykka(p):
    import pykka

    class Echo(pykka.ThreadingActor):
        use_daemon_thread = True

        def on_receive(self, message):
            return ("reply", message)

    class Caller(pykka.ThreadingActor):
        """Makes its round trips from inside on_receive("go"); the unmatched
        messages are queued in its own inbox behind "go"."""
        use_daemon_thread = True

        def __init__(self, server):
            super().__init__()
            self.server = server

        def on_receive(self, message):
            if message == "go":
                return _bounded(lambda: self.server.ask("ping"), p["rounds"], p["budget_s"])
            return None

    rec = Recorder(NAME, "pykka", p)
    server = Echo.start()
    caller = Caller.start(server)
    rt_empty = caller.ask("go")
    caller.stop()
    caller = Caller.start(server)
    fut = caller.ask("go", block=False)
    for i in range(p["queued"]):
        caller.tell(("unmatched", i))
    rt_queued = fut.get()
    caller.stop()
    server.stop()
    _report(rec, p, None, rt_empty, rt_queued)
    return rec.records


if __name__ == "__main__":
    from .cli import main_for
    main_for(NAME)
