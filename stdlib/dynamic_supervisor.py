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

Built on the core it shares with supervisor.py (`_supervision.py`): the
same state (its children are dynamic children, keyed by pid), restarts,
shutdown protocol, which_children and count_children; this module adds
Elixir's options and its start_child/terminate_child.

What it refuses: strategies other than one_for_one, named children and
their ids (use supervisor.py for a fixed set of children).
"""

from __future__ import annotations

import vm

from . import _child_spec as _cs
from . import _supervision as core
from . import gen_server
from ._behaviour import LinkedCallbacks
from ._supervision import Child, State
from .supervisor import count_children, which_children

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
_OPTIONS = ("strategy", "max_restarts", "max_seconds", "max_children", "extra_arguments")


class DynamicSupervisor(LinkedCallbacks):
    """Base class for a module-based DynamicSupervisor: `init(self, arg)` returns
    `dynamic_supervisor.init(...)` or "ignore"."""

    _behaviour = __name__  # the module these conveniences call
    _child_type = "supervisor"

    def init(self, arg):
        return init()


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


# which_children and count_children are supervisor.py's: the same requests,
# answered by the core both servers share.


def stop(sup, reason="normal", timeout=None):
    return gen_server.stop(sup, reason, timeout)


# ----------------------------------------------------------------------
# the server: the core's callbacks plus Elixir's start_child / terminate_child


class _DynamicServer(core.Core):
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
        return ("ok", State(name=name if name is not None else (vm.self(), module),
                            module=module, args=None, dynamics={}, elixir=True, **flags))


def _start_child(st, spec):
    try:
        c = Child.from_spec(_cs.check_childspec(spec, "never"))
    except _cs.SpecError as e:
        return ("error", e.reason)
    mc = st.max_children
    if mc is not None and len(st.dynamics) >= mc:
        return ("error", vm.Atom("max_children"))
    if st.extra_arguments:
        fn, args = c.start
        c.start = (fn, st.extra_arguments + args)
    r = core.start_process(c)
    if r[0] == "ok":
        if r[1] is None:
            return vm.Atom("ignore")
        core.set_pid(st, c, r[1])
        core.progress(st, c, "debug")
    return r


def _terminate_child(st, pid):
    c = core.find_child(st, pid) if type(pid) is vm.Pid else None
    if c is None:
        return ("error", vm.Atom("not_found"))
    del st.dynamics[pid]
    core.terminate_child_process(st, c, pid)
    return OK


_DynamicServer.requests = {"start_child": _start_child, "terminate_child": _terminate_child}
