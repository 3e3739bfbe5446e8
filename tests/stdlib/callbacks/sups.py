"""Workers and supervisors for the supervisor tests.

A `Worker` tells the test process (`report`) when it starts and terminates,
so tests can check start and stop order: ("start", id) and ("stop", id,
reason). It traps exits when asked, so that its terminate runs on shutdown.
"""

import vm
from stdlib import gen_server, supervisor


class Worker(gen_server.GenServer):
    def init(self, arg):
        cid, report, opts = arg
        if opts.get("trap", True):
            vm.process_flag("trap_exit", True)
        if opts.get("fail"):
            return ("stop", opts["fail"])
        vm.send(report, ("start", cid))
        return ("ok", arg)

    def handle_call(self, request, from_, state):
        if request == "pid":
            return ("reply", vm.self(), state)
        return ("reply", request, state)

    def handle_cast(self, msg, state):
        if type(msg) is tuple and msg[0] == "stop":
            return ("stop", msg[1], state)
        return ("noreply", state)

    def handle_info(self, msg, state):
        return ("noreply", state)

    def terminate(self, reason, state):
        cid, report, opts = state
        if opts.get("slow_stop"):
            vm.sleep(opts["slow_stop"])
        vm.send(report, ("stop", cid, reason))


def worker(cid, report, opts=None):
    return Worker.start_link((cid, report, opts or {}))


def spec(cid, report, **kw):
    opts = kw.pop("opts", {})
    return {"id": cid, "start": (worker, (cid, report, opts)), **kw}


class Tree(supervisor.Supervisor):
    """init returns its argument: ("ok", (flags, specs)), "ignore" or anything."""

    def init(self, arg):
        return arg


def failing_start(mode):
    if mode == "ignore":
        return "ignore"
    if mode == "error":
        return ("error", "nope")
    if mode == "raise":
        raise ValueError("bang")
    return mode


class Flaky:
    """A start function that fails while a shared counter says so (module state is
    fine here: the test and the supervisor run on one thread, one at a time)."""

    failures_left = 0

    @classmethod
    def start(cls, cid, report):
        if cls.failures_left > 0:
            cls.failures_left -= 1
            return ("error", "flaky")
        return worker(cid, report)
