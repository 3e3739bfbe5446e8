"""application: a supervision tree started, stopped and watched as one unit
(reference §6.2).

An application is a class:

    class Shop(application.Application):
        name = "shop"                       # default: the class name
        applications = ["db"]               # must be running first (names or classes)
        env = {"port": 8080}                # application.get_env("shop", "port")
        start_args = None                   # passed to start()

        def start(self, start_type, start_args):   # start_type "normal"
            return supervisor.start_link(ShopSup)  # ("ok", pid) or ("ok", pid, state)

        def prep_stop(self, state): return state   # before the tree is stopped
        def stop(self, state): pass                # after it is stopped

A class that does not define `start` is a library application: it is marked
running and owns no processes.

    load(cls)                          "ok" | ("error", ("already_loaded", name))
    start(app, type="temporary")       "ok" | ("error", ("not_started", dep))
                                       | ("error", ("already_started", name))
                                       | ("error", ("not_loaded", name))
                                       | ("error", (reason, (cls, "start", ("normal", args))))
                                       | ("error", ("bad_return", ((cls, "start", ...), x)))
    ensure_all_started(app, type=...)  ("ok", [names started now]) | ("error", (name, reason))
    ensure_started(app, type=...)      "ok" | ("error", reason)
    stop(name)                         "ok" | ("error", ("not_started", name))
    unload(name), which_applications(), loaded_applications(),
    get_env(app, key, default=None), set_env(app, key, value), get_all_env(app),
    get_application(pid=None)          ("ok", name) | None

`app` is a name or the class (which is loaded if needed). `start` does not
start dependencies (OTP's rule); `ensure_all_started` does, and stops the
ones it started if a later one fails.

**Start types** decide what happens when an application stops by itself
(its top supervisor exits): "temporary" - it is reported (INFO REPORT),
nothing else; "transient" - reported if the reason is normal, otherwise as
permanent; "permanent" - the node stops: the other running applications
are stopped, newest first, and then the node's first process (`main`) is
killed with reason `("application_terminated", name, reason)`, so
`vm.run` raises `vm.ProcessExit` with that reason (a node started with
`Node.start()` stops). An explicit `stop(name)` never stops anything else.

**The application master.** Each running application has a master process,
which calls `start`, links to the top supervisor, and on stop runs
`prep_stop`, shuts the tree down (`shutdown`, waiting for it), runs `stop`,
and then kills every process of the application still alive (processes
spawned outside the tree, by anything descended from the master). OTP
finds them by group leader; beamlet has no group leaders and tracks the
same inheritance with an instrument that records which application each
new process's parent belongs to.

**The application controller** is a gen_server registered as
"application_controller", started on first use. It starts and stops
applications asynchronously, so an application's `start` may call this
module (get_env, which_applications, ...) without deadlocking.

What it refuses: .app files, code loading, releases, takeover and failover
(there is no distribution yet), and config_change.
"""

from __future__ import annotations

import logging
import weakref

import vm
from vm.lowlevel import copy_term, current_node, halt

from . import gen_server, proc_lib
from .logger import allows, log_report

__all__ = [
    "Application",
    "ensure_all_started",
    "ensure_started",
    "get_all_env",
    "get_application",
    "get_env",
    "get_supervisor",
    "load",
    "loaded_applications",
    "set_env",
    "start",
    "stop",
    "unload",
    "which_applications",
]

OK = vm.Atom("ok")
CONTROLLER = "application_controller"
START_TYPES = ("temporary", "transient", "permanent")
log = logging.getLogger("beamlet.otp")


class Application:
    """Base class of applications; see the module docstring."""

    name = None
    description = ""
    vsn = ""
    applications: list = []
    env: dict = {}
    start_args = None

    def start(self, start_type, start_args):
        return None  # not overridden: a library application

    def prep_stop(self, state):
        return state

    def stop(self, state):
        return OK


def app_name(app) -> str:
    """The name of an application given as a name or a class."""
    if isinstance(app, str):
        return vm.Atom(app)
    if isinstance(app, type) and issubclass(app, Application):
        return vm.Atom(app.name or app.__name__)
    raise vm.BadArg(f"an application is an Application subclass or its name, not {app!r}")


def _is_library(cls):
    return cls.start is Application.start


# ----------------------------------------------------------------------
# per-node data: environments and which process belongs to which application


class _Tracker(vm.Instrument):
    """The node's application table (OTP keeps it in ETS and in group leaders).

    `members` maps a pid to its application: a new process inherits its
    parent's entry, as a new Erlang process inherits its group leader.
    """

    def __init__(self):
        self.members: dict = {}
        self.env: dict = {}

    def wants(self, event):
        return event in ("spawn", "exit")

    def spawn(self, parent, child, initial_call):
        if parent is not None:
            app = self.members.get(parent)
            if app is not None:
                self.members[child] = app

    def exit(self, pid, reason):
        self.members.pop(pid, None)


_trackers: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _tracker() -> _Tracker:
    node = current_node()
    t = _trackers.get(node)
    if t is None:
        t = _trackers[node] = _Tracker()
        vm.add_instrument(t)
    return t


def get_env(app, key, default=None):
    """The value of `key` in the application's environment, or `default`."""
    env = _tracker().env.get(app_name(app))
    if env is None or key not in env:
        return default
    return copy_term(env[key])


def get_all_env(app) -> dict:
    return copy_term(_tracker().env.get(app_name(app), {}))


def set_env(app, key, value):
    _tracker().env.setdefault(app_name(app), {})[key] = copy_term(value)
    return OK


def get_application(pid=None):
    """("ok", name) of the application `pid` (default: the caller) belongs to, or None."""
    name = _tracker().members.get(pid if pid is not None else vm.self())
    return ("ok", name) if name is not None else None


# ----------------------------------------------------------------------
# client API


def _controller():
    pid = vm.whereis(CONTROLLER)
    if pid is not None:
        return pid
    _tracker()
    r = gen_server.start(_Controller, None, name=CONTROLLER)
    if r[0] == "ok":
        return r[1]
    if type(r[1]) is tuple and r[1][0] == "already_started":
        return r[1][1]
    raise vm.VMError(f"could not start the application controller: {r!r}")


def _call(request):
    return gen_server.call(_controller(), request, None)


def load(cls):
    """Make an application known to the node."""
    app_name(cls)
    if not isinstance(cls, type):
        raise vm.BadArg(f"load takes an Application subclass, not {cls!r}")
    return _call(("load", cls))


def unload(app):
    return _call(("unload", app_name(app)))


def start(app, type="temporary"):  # noqa: A002 - OTP's argument name
    """Start an application whose dependencies already run."""
    if type not in START_TYPES:
        raise vm.BadArg(f"start type must be one of {', '.join(START_TYPES)}, not {type!r}")
    name = app_name(app)
    if not isinstance(app, str):
        r = load(app)
        if r != OK and r[1][0] != "already_loaded":
            return r
    return _call(("start", name, vm.Atom(type)))


def stop(app):
    """Stop a running application: prep_stop, its tree, stop, its leftover processes."""
    return _call(("stop", app_name(app)))


def ensure_started(app, type="temporary"):  # noqa: A002
    r = start(app, type)
    if _already_started(r):
        return OK
    return r


def _already_started(r):
    return (isinstance(r, tuple) and len(r) == 2 and r[0] == "error" and isinstance(r[1], tuple)
            and r[1][0] == "already_started")


def ensure_all_started(app, type="temporary"):  # noqa: A002
    """Start an application and, first, every dependency not yet running."""
    started: list = []
    err = _ensure(app, type, started, [])
    if err is not None:
        for name in reversed(started):
            stop(name)
        return ("error", err)
    return ("ok", started)


def _ensure(app, start_type, started, path):
    name = app_name(app)
    if name in path:
        return (name, ("circular_dependencies", path + [name]))
    if not isinstance(app, str):
        r = load(app)
        if r != OK and r[1][0] != "already_loaded":
            return (name, r[1])
    cls = _call(("get_class", name))
    if cls is None:
        return (name, ("not_loaded", name))
    for dep in cls.applications:
        err = _ensure(dep, "temporary", started, path + [name])
        if err is not None:
            return err
    r = start(name, start_type)
    if r == OK:
        started.append(name)
        return None
    if _already_started(r):
        return None
    return (name, r[1])


def which_applications():
    """[(name, description, vsn)] of the running applications, newest first."""
    return _call("which_applications")


def loaded_applications():
    return _call("loaded_applications")


def get_supervisor(app):
    """`("ok", pid)` of a running application's top supervisor, or "undefined" (OTP)."""
    name = app if isinstance(app, str) else app_name(app)
    master = _call(("get_master", name))
    if master is None:
        return vm.Atom("undefined")
    ref = vm.make_ref()
    vm.send(master, ("$which_top", vm.self(), ref))
    answer = vm.receive((ref, vm.ANY), timeout=5.0)
    return vm.Atom("undefined") if answer is vm.TIMEOUT else ("ok", answer[1])


# ----------------------------------------------------------------------
# the controller


class _Controller(gen_server.GenServer):
    """State: loaded {name: cls}, running {name: (type, master)} in start order,
    pending {name: from_} for starts and stops in progress."""

    def init(self, _arg):
        vm.process_flag("trap_exit", True)
        return ("ok", {"loaded": {}, "running": {}, "starting": {}, "stopping": {}})

    def handle_call(self, request, from_, st):
        if request == "which_applications":
            out = [(n, st["loaded"][n].description, st["loaded"][n].vsn)
                   for n in reversed(list(st["running"]))]
            return ("reply", out, st)
        if request == "loaded_applications":
            return ("reply", [(n, c.description, c.vsn) for n, c in st["loaded"].items()], st)
        tag = request[0]
        if tag == "get_master":
            entry = st["running"].get(request[1])
            return ("reply", entry[1] if entry else None, st)
        if tag == "load":
            cls = request[1]
            name = app_name(cls)
            if name in st["loaded"]:
                if st["loaded"][name] is cls:
                    return ("reply", ("error", ("already_loaded", name)), st)
                return ("reply", ("error", ("already_loaded", name)), st)
            st["loaded"][name] = cls
            _tracker().env[name] = copy_term(dict(cls.env))
            return ("reply", OK, st)
        if tag == "unload":
            name = request[1]
            if name not in st["loaded"]:
                return ("reply", ("error", ("not_loaded", name)), st)
            if name in st["running"]:
                return ("reply", ("error", ("running", name)), st)
            del st["loaded"][name]
            _tracker().env.pop(name, None)
            return ("reply", OK, st)
        if tag == "get_class":
            return ("reply", st["loaded"].get(request[1]), st)
        if tag == "start":
            return self.start_app(request[1], request[2], from_, st)
        if tag == "stop":
            name = request[1]
            if name not in st["running"]:
                return ("reply", ("error", ("not_started", name)), st)
            _type, master = st["running"][name]
            if master is None:  # a library application
                del st["running"][name]
                _exit_report(name, "stopped", _type)
                return ("reply", OK, st)
            st["stopping"][name] = from_
            vm.send(master, ("$app_stop",))
            return ("noreply", st)
        return ("reply", ("error", ("unknown_call", request)), st)

    def start_app(self, name, start_type, from_, st):
        cls = st["loaded"].get(name)
        if cls is None:
            return ("reply", ("error", ("not_loaded", name)), st)
        if name in st["running"] or name in st["starting"]:
            return ("reply", ("error", ("already_started", name)), st)
        for dep in cls.applications:
            dep = app_name(dep)
            if dep not in st["running"]:
                return ("reply", ("error", ("not_started", dep)), st)
        if _is_library(cls):
            st["running"][name] = (start_type, None)
            return ("reply", OK, st)
        master = proc_lib.spawn_link(_master, name, cls, vm.self())
        st["starting"][name] = (from_, start_type, master)
        return ("noreply", st)

    def handle_info(self, msg, st):
        if type(msg) is tuple and msg:
            tag = msg[0]
            if tag == "$app_started":
                _, name, result = msg
                from_, start_type, master = st["starting"].pop(name)
                if result == OK:
                    st["running"][name] = (start_type, master)
                else:
                    _exit_report(name, result[1], start_type)
                gen_server.reply(from_, result)
                return ("noreply", st)
            if tag == "$app_stopped":
                name = msg[1]
                entry = st["running"].pop(name, None)
                from_ = st["stopping"].pop(name, None)
                _exit_report(name, "stopped", entry[0] if entry else "temporary")
                if from_ is not None:
                    gen_server.reply(from_, OK)
                return ("noreply", st)
            if tag == "$app_exited":
                _, name, reason = msg
                return self.app_exited(name, reason, st)
            if tag == "EXIT" and len(msg) == 3:
                pid, reason = msg[1], msg[2]
                for name, (_t, master) in list(st["running"].items()):
                    if master == pid:
                        return self.app_exited(name, reason, st)
                for name, (from_, _t, master) in list(st["starting"].items()):
                    if master == pid:  # the master died before it could answer
                        del st["starting"][name]
                        gen_server.reply(from_, ("error", reason))
        return ("noreply", st)

    def app_exited(self, name, reason, st):
        entry = st["running"].pop(name, None)
        if entry is None:
            return ("noreply", st)
        start_type = entry[0]
        from_ = st["stopping"].pop(name, None)
        if from_ is not None:  # it died while being stopped: the stop is done
            _exit_report(name, "stopped", start_type)
            gen_server.reply(from_, OK)
            return ("noreply", st)
        _exit_report(name, reason, start_type)
        if start_type == "permanent" or (start_type == "transient" and reason != "normal"):
            self.stop_node(name, reason, st)
        return ("noreply", st)

    def stop_node(self, name, reason, st):
        """A permanent application is gone: stop the others, newest first, then the node."""
        for other in reversed(list(st["running"])):
            _type, master = st["running"].pop(other)
            if master is not None:
                ref = vm.monitor(master)
                vm.send(master, ("$app_stop",))
                vm.receive(("DOWN", ref, vm.ANY, vm.ANY, vm.ANY))
            _exit_report(other, "stopped", _type)
        _halt_node(("application_terminated", name, reason))


def _exit_report(name, reason, start_type):
    if allows(logging.INFO):
        log_report(logging.INFO, {"label": "application_exit", "application": name,
                                  "exited": reason, "type": start_type})


def _halt_node(reason):
    """Stop the node: its first process dies with `reason`, so vm.run raises
    ProcessExit(reason); a background node (Node.start) just stops."""
    halt(reason)


# ----------------------------------------------------------------------
# the application master


def _master(name, cls, controller):
    """One per running application: starts it, watches its top supervisor, stops it."""
    me = vm.self()
    vm.process_flag("trap_exit", True)
    tracker = _tracker()
    tracker.members[me] = name
    args = cls.start_args
    where = (cls, vm.Atom("start"), (vm.Atom("normal"), args))
    try:
        mod = cls()
        r = mod.start(vm.Atom("normal"), args)
    except vm.Exit as e:
        r = None
        result = ("error", ("bad_return", (where, ("EXIT", e.reason))))
    except Exception as e:
        r = None
        result = ("error", ("bad_return", (where, ("EXIT", vm.Crash.from_exception(e)))))
    else:
        if (type(r) is tuple and len(r) in (2, 3) and r[0] == "ok"
                and isinstance(r[1], vm.Pid)):
            result = OK
        elif type(r) is tuple and len(r) == 2 and r[0] == "error":
            result = ("error", (r[1], where))
        else:
            result = ("error", ("bad_return", (where, r)))
    if result != OK:
        _kill_members(tracker, name, me)
        vm.send(controller, ("$app_started", name, result))
        return
    top = r[1]
    state = r[2] if len(r) == 3 else None
    vm.link(top)
    vm.send(controller, ("$app_started", name, OK))
    while True:
        msg = vm.receive()
        if type(msg) is tuple and len(msg) == 3 and msg[0] == "$which_top":
            vm.send(msg[1], (msg[2], top))
            continue
        if msg == ("$app_stop",):
            state = _call_quietly(mod.prep_stop, state, state)
            ref = vm.monitor(top)
            vm.exit(top, "shutdown")
            vm.receive(("DOWN", ref, vm.ANY, vm.ANY, vm.ANY))
            vm.receive(("EXIT", top, vm.ANY), timeout=0)
            _call_quietly(mod.stop, state, None)
            _kill_members(tracker, name, me)
            vm.send(controller, ("$app_stopped", name))
            return
        if type(msg) is tuple and len(msg) == 3 and msg[0] == "EXIT":
            if msg[1] == top:
                state = _call_quietly(mod.prep_stop, state, state)
                _call_quietly(mod.stop, state, None)
                _kill_members(tracker, name, me)
                vm.send(controller, ("$app_exited", name, msg[2]))
                return
            if msg[1] == controller:
                vm.exit(top, msg[2])
                _kill_members(tracker, name, me)
                vm.exit(msg[2])


def _call_quietly(fn, arg, default):
    """OTP calls prep_stop/stop inside a catch: a failing one does not stop the stop."""
    try:
        return fn(arg)
    except Exception:
        log.exception("application callback %s raised", getattr(fn, "__qualname__", fn))
        return default


def _kill_members(tracker, name, me):
    for pid, app in list(tracker.members.items()):
        if app == name and pid != me:
            vm.exit(pid, "kill")
