"""Selective receive: 10,000 messages that no pattern matches sit in a
process's mailbox.

- `match_after_queue_us`: the time of one selective receive that has to pass
  over all of them to find the one message that matches (BEAM scans them too:
  this is linear by design).
- `round_trips_per_s`: request/reply round trips the process makes to a server
  with an empty mailbox and while the 10,000 messages wait. Real BEAM marks
  the mailbox when a fresh reference is made just before the send, so the
  reply's receive skips the old messages and the rate barely moves. beamlet
  does not do that for plain code; its receive markers (`vm.lowlevel.
  mailbox_mark()`, what gen_server's call uses) get their own row.

asyncio, gevent and Pykka have no selective receive: their idiomatic request
reply goes through a future of its own, so the queued messages are not in
its way. Their scan figure is n/a.

    python -m benchmarks.selective [--quick]
"""

from __future__ import annotations

from .common import Figure, Recorder, median, pc

NAME = "selective"
FIGURES = (
    Figure("match_after_queue_us", "us", "lower",
           "one selective receive that finds its message behind the unmatched ones"),
    Figure("round_trips_per_s", "rt/s", "higher",
           "request/reply round trips, mailbox empty vs unmatched messages queued"),
)
TARGETS = ()
NO_SELECTIVE = "no selective receive: a request/reply uses its own future"


def params(quick: bool) -> dict:
    if quick:
        return {"queued": 10_000, "matches": 20, "rounds": 5_000, "budget_s": 0.5}
    return {"queued": 10_000, "matches": 100, "rounds": 50_000, "budget_s": 1.0}


def _report(rec, p, match_us, rt_empty, rt_queued, rt_marked=None):
    q = p["queued"]
    if match_us is None:
        rec.na("match_after_queue_us", "us", NO_SELECTIVE, case=f"{q:,} queued")
    else:
        rec.add("match_after_queue_us", median(match_us), "us", case=f"{q:,} queued",
                note=f"median of {len(match_us)} receives")
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


def beamlet_main(p):
    import vm
    try:
        from vm.lowlevel import mailbox_mark
    except ImportError:
        mailbox_mark = None
    me = vm.self()
    server = vm.spawn(echo_server)
    rt_empty = _bounded(lambda: beamlet_call(server, me), p["rounds"], p["budget_s"])
    for i in range(p["queued"]):
        vm.send(me, ("unmatched", i))
    rt_queued = _bounded(lambda: beamlet_call(server, me), p["rounds"], p["budget_s"])
    rt_marked = None
    if mailbox_mark is not None:
        rt_marked = _bounded(lambda: beamlet_call_marked(server, me, mailbox_mark),
                             p["rounds"], p["budget_s"])
    match_us = []
    for k in range(p["matches"]):
        vm.send(me, ("match", k))
        t0 = pc()
        vm.receive(("match", int))
        match_us.append((pc() - t0) * 1e6)
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
