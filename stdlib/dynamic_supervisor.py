"""dynamic_supervisor: Elixir's DynamicSupervisor (reference §6.6).

A supervisor that starts with no children and gets them one at a time,
through `start_child`; it restarts them one_for_one. Two ways to start one:

    dynamic_supervisor.start_link(name="pool", max_children=100)

    class Pool(dynamic_supervisor.DynamicSupervisor):
        def init(self, arg):
            return dynamic_supervisor.init(max_children=arg)
    dynamic_supervisor.start_link(Pool, 100, name="pool")

Options (Elixir's names and defaults): `strategy` "one_for_one" (the only
one), `max_restarts` 3 within `max_seconds` 5 (the intensity rule of
supervisor.py, exactly), `max_children` None (infinity), `extra_arguments`
() prepended to every child's start arguments.

Contract (stable: Task.Supervisor and others build on it):

    start_link([cls, arg], *, name=None, **options)  ("ok", pid) | "ignore" | ("error", r)
    init(**options)                            ("ok", flags), for a callback class's init
    start_child(sup, child)                    ("ok", pid) | ("ok", pid, info) | "ignore"
                                               | ("error", "max_children") | ("error", r)
    terminate_child(sup, pid)                  "ok" | ("error", "not_found")
    which_children(sup)                        [(None, pid | "restarting", type, modules)]
    count_children(sup)                        {"specs", "active", "supervisors", "workers"}
    stop(sup, reason="normal", timeout=None)   "ok"
    child_spec(**options)                      a spec to put this supervisor under another

`child` is a spec dict (its "id" is ignored and may be left out), OTP's
6-tuple, or the shorthand `(Cls, arg)` / `Cls`. A child that exits is
treated by its restart type as in supervisor.py; a restart that fails is
retried through a message to itself, counting against the intensity. On
shutdown every child is terminated at once, each within its own shutdown
time. Reports are supervisor.py's.

What it refuses: strategies other than one_for_one, named children and
their ids (use supervisor.py for a fixed set of children).
"""

from __future__ import annotations

import vm

from . import _child_spec as _cs
from . import gen_server
from .reports import is_quiet
from .supervisor import (
    SHUTDOWN,
    _progress,
    _report,
    _start_one,
    count_children,
    shutdown_child,
    shutdown_children_parallel,
    which_children,
)

__all__ = [
    "DynamicSupervisor",
    "child_spec",
    "count_children",
    "init",
    "start_child",
    "start_link",
    "stop",
    "terminate_child",
    "which_children",
]

OK = vm.Atom("ok")
RESTARTING = vm.Atom("restarting")
_OPTIONS = ("strategy", "max_restarts", "max_seconds", "max_children", "extra_arguments")


class DynamicSupervisor:
    """Base class for a module-based DynamicSupervisor: `init(self, arg)` returns
    `dynamic_supervisor.init(...)` or "ignore"."""

    def init(self, arg):
        return init()

    @classmethod
    def start_link(cls, arg=None, **opts):
        return start_link(cls, arg, **opts)

    @classmethod
    def child_spec(cls, arg=None) -> dict:
        return {"id": cls, "start": (cls.start_link, (arg,)), "type": "supervisor",
                "shutdown": None, "modules": [cls]}


def init(*, strategy="one_for_one", max_restarts=3, max_seconds=5, max_children=None,
         extra_arguments=()):
    """The flags a DynamicSupervisor runs with: ("ok", flags)."""
    return ("ok", _check_options(strategy, max_restarts, max_seconds, max_children,
                                 extra_arguments))


def _check_options(strategy, max_restarts, max_seconds, max_children, extra_arguments):
    if strategy != "one_for_one":
        raise vm.BadArg(f"DynamicSupervisor supports only strategy 'one_for_one', not "
                        f"{strategy!r}")
    if type(max_restarts) is not int or max_restarts < 0:
        raise vm.BadArg(f"max_restarts must be an int >= 0, not {max_restarts!r}")
    if not _cs._is_seconds(max_seconds, allow_zero=False):
        raise vm.BadArg(f"max_seconds must be seconds > 0, not {max_seconds!r}")
    if max_children is not None and (type(max_children) is not int or max_children < 0):
        raise vm.BadArg(f"max_children must be an int >= 0 or None (infinity), "
                        f"not {max_children!r}")
    if type(extra_arguments) not in (list, tuple):
        raise vm.BadArg(f"extra_arguments must be a list, not {extra_arguments!r}")
    return {"strategy": strategy, "intensity": max_restarts, "period": max_seconds,
            "max_children": max_children, "extra_arguments": tuple(extra_arguments)}


def start_link(cls=None, arg=None, *, name=None, timeout=None, **options):
    """Start a DynamicSupervisor linked to the caller.

    Without `cls`, the keyword options configure it; with a DynamicSupervisor
    subclass, its `init(arg)` returns the flags (options are then refused).
    """
    unknown = set(options) - set(_OPTIONS)
    if unknown:
        raise vm.BadArg(f"dynamic_supervisor.start_link: unknown options {sorted(unknown)}; "
                        f"known: name, timeout, {', '.join(_OPTIONS)}")
    if cls is None:
        flags = init(**options)[1]
        arg = ("flags", name, flags, None)
    else:
        if not (isinstance(cls, type) and issubclass(cls, DynamicSupervisor)):
            raise vm.BadArg(f"dynamic_supervisor.start_link: {cls!r} is not a "
                            "DynamicSupervisor subclass")
        if options:
            raise vm.BadArg("dynamic_supervisor.start_link: with a callback class the options "
                            "come from its init(); pass only name and timeout here")
        arg = ("callback", name, cls, arg)
    return gen_server.start_link(_DynamicServer, arg, name=name, timeout=timeout)


def _start_with_options(options):
    return start_link(**options)


def child_spec(**options) -> dict:
    """A child spec that starts a DynamicSupervisor with these start_link options."""
    return {"id": options.get("name") or vm.Atom("dynamic_supervisor"),
            "start": (_start_with_options, (options,)), "type": "supervisor", "shutdown": None}


def start_child(sup, child):
    """Start a child under the supervisor (see the module docstring for the returns)."""
    spec = _cs.expand(child)
    if type(spec) is dict and "id" not in spec:
        spec = {"id": None, **spec}
    return gen_server.call(sup, ("start_child", spec), None)


def terminate_child(sup, pid):
    return gen_server.call(sup, ("terminate_child", pid), None)


# which_children and count_children are the supervisor's: the same requests,
# answered by this module's callbacks.


def stop(sup, reason="normal", timeout=None):
    return gen_server.stop(sup, reason, timeout)


# ----------------------------------------------------------------------
# the server


class _DynamicServer(gen_server.GenServer):
    """State (a dict of terms): name, intensity, period, max_children, extra_arguments,
    children (Pid or ("restarting", old pid) -> child spec with the full start args),
    restarts."""

    def init(self, arg):
        vm.process_flag("trap_exit", True)
        kind, name, a, b = arg
        if kind == "callback":
            vm.put("$initial_call", (a.__module__, a.__qualname__ + ".init", 1))
            r = a().init(b)
            if r == "ignore":
                return "ignore"
            if not (type(r) is tuple and len(r) == 2 and r[0] == "ok" and type(r[1]) is dict):
                return ("stop", ("bad_return", (a, "init", r)))
            flags = r[1]
            module = a
        else:
            vm.put("$initial_call", ("dynamic_supervisor", "start_link", 1))
            flags = a
            module = vm.Atom("dynamic_supervisor")
        st = {"name": name if name is not None else (vm.self(), module), "module": module}
        st.update(flags)
        st["children"] = {}
        st["restarts"] = []
        st["dynamic"] = None  # lets supervisor.py's report helpers read this state
        return ("ok", st)

    def handle_call(self, request, from_, st):
        if type(request) is tuple and len(request) == 2:
            tag, arg = request
            if tag == "start_child":
                return ("reply", _start_child(st, arg), st)
            if tag == "terminate_child":
                return ("reply", _terminate_child(st, arg), st)
        if request == "which_children":
            return ("reply", [(None, k if isinstance(k, vm.Pid) else RESTARTING, c["type"],
                               c["modules"]) for k, c in st["children"].items()], st)
        if request == "count_children":
            n = len(st["children"])
            active = sum(1 for k in st["children"] if isinstance(k, vm.Pid))
            sups = sum(1 for c in st["children"].values() if c["type"] == "supervisor")
            return ("reply", {"specs": n, "active": active, "supervisors": sups,
                              "workers": n - sups}, st)
        return ("reply", ("error", ("unknown_call", request)), st)

    def handle_cast(self, msg, st):
        return ("noreply", st)

    def handle_info(self, msg, st):
        if type(msg) is tuple and len(msg) == 3 and msg[0] == "EXIT":
            pid = msg[1]
            c = st["children"].get(pid) if isinstance(pid, vm.Pid) else None
            if c is not None and _child_exited(st, pid, msg[2], c) == "shutdown":
                return ("stop", SHUTDOWN, st)
            return ("noreply", st)
        if type(msg) is tuple and len(msg) == 2 and msg[0] == "$gen_restart":
            key = msg[1]
            c = st["children"].get(key) if type(key) is tuple else None
            if c is not None and _restart(st, key, c) == "shutdown":
                return ("stop", SHUTDOWN, st)
            return ("noreply", st)
        return ("noreply", st)

    def terminate(self, reason, st):
        children = st.get("children") or {}
        pids = [(k, c) for k, c in children.items() if isinstance(k, vm.Pid)]
        children.clear()
        for pid, reason2 in shutdown_children_parallel(pids):
            c = next(c for p, c in pids if p == pid)
            _report(st, "shutdown_error", reason2, c, pid)
        return OK


def _start_child(st, spec):
    try:
        c = _cs.check_childspec(spec, "never")
    except _cs.SpecError as e:
        return ("error", e.reason)
    mc = st["max_children"]
    if mc is not None and len(st["children"]) >= mc:
        return ("error", vm.Atom("max_children"))
    extra = st["extra_arguments"]
    if extra:
        fn, args = c["start"]
        c["start"] = (fn, extra + args)
    r = _start_one(c)
    if r[0] == "ok":
        if r[1] is None:
            return vm.Atom("ignore")
        c["pid"] = r[1]
        st["children"][r[1]] = c
        _progress(st, c, "debug")
    return r


def _terminate_child(st, pid):
    c = st["children"].pop(pid, None) if isinstance(pid, vm.Pid) else None
    if c is None:
        return ("error", vm.Atom("not_found"))
    err = shutdown_child(pid, c["shutdown"], c["restart"] == "permanent")
    if err is not None:
        _report(st, "shutdown_error", err, c, pid)
    return OK


def _child_exited(st, pid, reason, c):
    restart = c["restart"]
    if restart == "permanent" or (restart == "transient" and not is_quiet(reason)):
        _report(st, "child_terminated", reason, c, pid)
        return _restart(st, pid, c)
    if not is_quiet(reason):
        _report(st, "child_terminated", reason, c, pid)
    del st["children"][pid]
    return None


def _restart(st, key, c):
    now = vm.monotonic()
    restarts = st["restarts"]
    threshold = now - st["period"]
    while restarts and restarts[0] < threshold:
        restarts.pop(0)
    restarts.append(now)
    if len(restarts) > st["intensity"]:
        _report(st, "shutdown", "reached_max_restart_intensity", c,
                key[1] if type(key) is tuple else key)
        del st["children"][key]
        return "shutdown"
    old = st["children"].pop(key)
    r = _start_one(c)
    if r[0] == "ok":
        if r[1] is not None:
            c["pid"] = r[1]
            st["children"][r[1]] = c
            _progress(st, c, "info")
        return None
    old_pid = key[1] if type(key) is tuple else key
    _report(st, "start_error", r[1], c, old_pid)
    rkey = ("restarting", old_pid)
    st["children"][rkey] = old
    vm.send(vm.self(), ("$gen_restart", rkey))  # retry later, letting other requests in
    return None
