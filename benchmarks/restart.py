"""Supervisor restarts: a one-for-one supervisor with one permanent worker;
the worker is killed and the benchmark waits for its replacement to report
in. Ten fresh supervisors each restart their worker the same number of times
(as the BEAM anchor does: OTP's restart-intensity bookkeeping grows with the
recent restart count, so a short history per supervisor is the fair figure).

asyncio, gevent and Pykka have no supervisors: their versions are the
idiomatic hand-written loop (a task that starts the worker, waits for it to
end, and starts another).

    python -m benchmarks.restart [--quick]
"""

from __future__ import annotations

from .common import Figure, Recorder, Target, pc

NAME = "restart"
FIGURES = (Figure("restarts_per_s", "restarts/s", "higher",
                  "worker killed and restarted by its supervisor, per second"),)
TARGETS = (Target("restarts_per_s", None, "ratio", 0.2, "erlang"),)


def params(quick: bool) -> dict:
    return {"sups": 10, "restarts": 100 if quick else 1000}


def adjust(system: str, p: dict, quick: bool) -> dict:
    if system == "pykka":
        p["restarts"] = min(p["restarts"], 20 if quick else 100)
        p["scaled"] = f"restarts={p['restarts']} per supervisor (one OS thread per actor)"
    return p


def _report(rec, p, seconds, how):
    total = p["sups"] * p["restarts"]
    rates = [p["restarts"] / s for s in seconds]
    rec.add("restarts_per_s", total / sum(seconds), "restarts/s",
            note=f"{p['sups']} fresh supervisors x {p['restarts']} restarts; {how}; "
                 f"per-supervisor rates=[" + ", ".join(f"{r:,.0f}" for r in rates) + "]")


# ------------------------------------------------------------------ beamlet

try:  # the callback class must be module-level; stdlib may not be there yet
    from stdlib.supervisor import Supervisor as _Supervisor
except Exception:  # noqa: BLE001
    _Supervisor = object


def worker_process():
    import vm
    vm.receive("never")


def start_worker(notify):
    """The child's start function: spawn_link the worker and report its pid."""
    import vm
    pid = vm.spawn_link(worker_process)
    vm.send(notify, ("worker", pid))
    return ("ok", pid)


class RestartTree(_Supervisor):
    """one_for_one, one permanent worker, an intensity that never gives up."""

    def init(self, notify):
        child = {"id": "worker", "start": (start_worker, (notify,)),
                 "restart": "permanent", "shutdown": "brutal_kill", "type": "worker"}
        return ("ok", ({"strategy": "one_for_one", "intensity": 1_000_000, "period": 1},
                       [child]))


def beamlet_one_supervisor(restarts):
    import vm
    from stdlib import supervisor
    started = supervisor.start_link(RestartTree, vm.self())
    if not (isinstance(started, tuple) and started[0] == "ok"):
        raise RuntimeError(f"supervisor.start_link(RestartTree) returned {started!r}")
    sup = started[1]
    vm.unlink(sup)
    _, worker = vm.receive(("worker", vm.Pid))
    t0 = pc()
    for _ in range(restarts):
        vm.exit(worker, "kill")
        _, worker = vm.receive(("worker", vm.Pid))
    seconds = pc() - t0
    vm.exit(sup, "shutdown")
    return seconds


def beamlet_main(p):
    return [beamlet_one_supervisor(p["restarts"]) for _ in range(p["sups"])]


def run_beamlet(p):
    import logging

    from .beamlet_support import require_stdlib
    require_stdlib("supervisor", "Supervisor", "start_link")
    import vm
    previous = logging.root.manager.disable
    logging.disable(logging.CRITICAL)  # no report per restart (the BEAM side: logger level none)
    try:
        rec = Recorder(NAME, "beamlet", p)
        _report(rec, p, vm.run(beamlet_main, p), "stdlib.supervisor, one_for_one, brutal_kill")
    finally:
        logging.disable(previous)  # run in-process by the selftest: leave logging as it was
    return rec.records


# ------------------------------------------------------------------ asyncio

async def aio_worker():
    import asyncio
    await asyncio.get_running_loop().create_future()  # idles until cancelled


async def aio_supervisor(notify):
    """Starts the worker, waits for it to end however it ends, starts another."""
    import asyncio
    while True:
        child = asyncio.create_task(aio_worker())
        notify.put_nowait(child)
        try:
            await asyncio.wait({child})
        except asyncio.CancelledError:
            child.cancel()
            raise


async def aio_main(p):
    import asyncio
    seconds = []
    for _ in range(p["sups"]):
        notify = asyncio.Queue()
        sup = asyncio.create_task(aio_supervisor(notify))
        worker = await notify.get()
        t0 = pc()
        for _ in range(p["restarts"]):
            worker.cancel()
            worker = await notify.get()
        seconds.append(pc() - t0)
        sup.cancel()
        await asyncio.gather(sup, return_exceptions=True)
    return seconds


def run_asyncio(p):
    import asyncio
    rec = Recorder(NAME, "asyncio", p)
    _report(rec, p, asyncio.run(aio_main(p)), "a supervisor task awaits its worker task")
    return rec.records


# ------------------------------------------------------------------- gevent

def gevent_worker():
    import gevent
    gevent.sleep(1e9)


def gevent_supervisor(notify):
    import gevent
    while True:
        child = gevent.spawn(gevent_worker)
        notify.put(child)
        child.join()


def run_gevent(p):
    import gevent
    from gevent.queue import Queue
    rec = Recorder(NAME, "gevent", p)
    seconds = []
    for _ in range(p["sups"]):
        notify = Queue()
        sup = gevent.spawn(gevent_supervisor, notify)
        worker = notify.get()
        t0 = pc()
        for _ in range(p["restarts"]):
            worker.kill(block=False)
            worker = notify.get()
        seconds.append(pc() - t0)
        sup.kill()
        worker.kill()
    _report(rec, p, seconds, "a supervisor greenlet joins its worker")
    return rec.records


# -------------------------------------------------------------------- pykka

def run_pykka(p):
    import queue

    import pykka

    class Worker(pykka.ThreadingActor):
        use_daemon_thread = True

        def __init__(self, sup):
            super().__init__()
            self.sup = sup

        def on_stop(self):
            self.sup.tell(("down", self.actor_ref))

    class Supervisor(pykka.ThreadingActor):
        use_daemon_thread = True

        def __init__(self, notify):
            super().__init__()
            self.notify = notify
            self.stopping = False

        def on_start(self):
            self.start_child()

        def start_child(self):
            self.notify.put(Worker.start(self.actor_ref))

        def on_receive(self, message):
            if message == "shutdown":
                self.stopping = True
            elif message[0] == "down" and not self.stopping:
                self.start_child()

    rec = Recorder(NAME, "pykka", p)
    seconds = []
    for _ in range(p["sups"]):
        notify = queue.SimpleQueue()
        sup = Supervisor.start(notify)
        worker = notify.get()
        t0 = pc()
        for _ in range(p["restarts"]):
            worker.stop(block=False)
            worker = notify.get()
        seconds.append(pc() - t0)
        sup.ask("shutdown")
        worker.stop()
        sup.stop()
    _report(rec, p, seconds, "a supervisor actor restarts a worker whose on_stop tells it")
    return rec.records


if __name__ == "__main__":
    from .cli import main_for
    main_for(NAME)
