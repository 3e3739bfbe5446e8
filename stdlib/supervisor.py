"""supervisor: processes that start, watch and restart other processes (reference §4).

Two ways to write one:

    class Tree(supervisor.Supervisor):                 # OTP style
        def init(self, arg):
            return ("ok", ({"strategy": "one_for_all"}, [spec, ...]))
    supervisor.start_link(Tree, arg, name="tree")

    supervisor.start_link_children([(Worker, 1), spec],  # Elixir style
                                   strategy="one_for_one", name="tree")

A child is a spec dict (see `_child_spec` for keys and defaults), OTP's
6-tuple, or the shorthand `(Cls, arg)` / `Cls` for a class with a
`child_spec` (every GenServer and Supervisor subclass has one). `init` may
also return "ignore" (start returns "ignore").

**Built as a gen_server callback** over the core it shares with
dynamic_supervisor (`_supervision.py`): the supervisor loop is
gen_server's loop, so calls, `otp_sys`, hibernation and crash reports come
for free. Its state is a `_supervision.State` dataclass; `otp_sys.get_state`
shows it as a dict of terms ("strategy", "ids", "children", ...).

**Startup.** Children start left to right; `start_link` returns when all
are up. A child that fails to start makes the supervisor terminate the ones
already started (reverse order) and exit with
`("shutdown", ("failed_to_start_child", id, reason))`, which start returns
as an error. Bad flags give `("supervisor_data", reason)`, bad specs
`("start_spec", reason)`, a bad init return `("bad_return", (cls, "init", x))`.

**Restart types.** permanent: always restarted. transient: restarted unless
it exits normal, shutdown or ("shutdown", x). temporary: never restarted,
not even when terminated as a sibling under one_for_all/rest_for_one, and
its spec is dropped when it exits. A start that fails during a restart is
retried through a message to itself (so other requests get in between),
each try counting as a restart; meanwhile the child shows as "restarting".

**The intensity rule** (OTP's, exactly): on each restart, the restart
times older than `now - period` are forgotten and `now` is added; if more
than `intensity` remain, the supervisor gives up: it reports
`reached_max_restart_intensity`, terminates all its children and exits
with reason `shutdown`. So intensity 0 gives up at the first crash, and the
default (1 in 5 s) gives up at the second crash within 5 s. beamlet uses
the node clock in float seconds where OTP truncates to whole seconds.

**Shutdown protocol.** A child is terminated through a monitor, not its
EXIT (a child that unlinked itself cannot hang its supervisor):
`brutal_kill` sends `kill`; a timeout T sends `shutdown` and waits T
seconds for the DOWN, then sends `kill`; None (infinity) waits forever (the
default for supervisor children). Then the link is removed and any EXIT
flushed. Children are terminated in reverse start order; simple_one_for_one
children all at once. An unexpected exit reason gives a `shutdown_error`
report.

**auto_shutdown** (OTP 24): with "any_significant" the supervisor shuts
itself down when a significant child exits and is not restarted; with
"all_significant" when the last running significant child does. Children
terminated through `terminate_child` never trigger it.

API (all calls wait forever, as in OTP):

    start_child(sup, spec | extra_args)  ("ok", pid) | ("ok", pid, info) | ("ok", None)
                                         | ("error", "already_present")
                                         | ("error", ("already_started", pid))
                                         | ("error", (reason, spec)) | ("error", spec_error)
    terminate_child(sup, id | pid)       "ok" | ("error", "not_found" | "simple_one_for_one")
                                         (a pid only for simple_one_for_one: elsewhere it is
                                         an id like any other, and no child has it)
    restart_child(sup, id)               ("ok", pid) | ("ok", pid, info) | ("ok", None)
                                         | ("error", "running" | "restarting" | "not_found"
                                         | "simple_one_for_one" | reason)
    delete_child(sup, id)                "ok" | ("error", "running" | "restarting" | ...)
    which_children(sup)                  [(id, pid | "restarting" | None, type, modules)],
                                         newest first (simple_one_for_one: id None)
    count_children(sup)                  {"specs", "active", "supervisors", "workers"}
    get_childspec(sup, id | pid)         ("ok", spec) | ("error", "not_found")
    check_childspecs(specs)              "ok" | ("error", reason)

Reports: SUPERVISOR REPORT (label supervisor_report; errorContext
start_error, child_terminated, shutdown_error, shutdown) at error level;
PROGRESS REPORT (label progress) at info level when a child starts (debug
level for start_child).

What it refuses: dynamic pools with extra arguments and a child limit
(dynamic_supervisor.py), and applications (application.py).
"""

from __future__ import annotations

import dataclasses

import vm

from . import _child_spec as _cs
from . import _supervision as core
from . import gen_server
from ._behaviour import LinkedCallbacks
from ._child_spec import SpecError, check_childspec, check_flags, expand
from ._supervision import Child, State

__all__ = [
    "Supervisor",
    "check_childspecs",
    "child_spec",
    "count_children",
    "delete_child",
    "get_childspec",
    "restart_child",
    "start_child",
    "start_link",
    "start_link_children",
    "terminate_child",
    "which_children",
]

OK = vm.Atom("ok")
RESTARTING = core.RESTARTING
SHUTDOWN = core.SHUTDOWN


class Supervisor(LinkedCallbacks):
    """Base class of supervisor callback classes: define `init(self, arg)` returning
    `("ok", (flags, [child, ...]))` or `"ignore"`. `Cls.start_link(arg, **opts)`
    and `Cls.child_spec(arg)` (a supervisor child, waited for) come with it."""

    _behaviour = __name__  # the module these conveniences call
    _child_type = "supervisor"

    def init(self, arg):
        raise NotImplementedError(
            f"{type(self).__qualname__} must define init(self, arg) returning "
            "('ok', (flags, [child_spec, ...]))"
        )


# ----------------------------------------------------------------------
# starting


def start_link(cls, arg=None, *, name=None, timeout=None, spawn_opts=None, debug=None,
               hibernate_after=None):
    """Start a supervisor whose callback class is `cls`; ("ok", pid) | "ignore" |
    ("error", reason)."""
    if not (isinstance(cls, type) and issubclass(cls, Supervisor)):
        raise vm.BadArg(f"supervisor.start_link: {cls!r} is not a Supervisor subclass; define "
                        "`class Tree(supervisor.Supervisor)` with init(self, arg), or use "
                        "start_link_children([...]) for a plain list of children")
    return gen_server.start_link(_SupervisorServer, ("callback", name, cls, arg), name=name,
                                 timeout=timeout, spawn_opts=spawn_opts, debug=debug,
                                 hibernate_after=hibernate_after)


def start_link_children(children, *, strategy="one_for_one", intensity=3, period=5,
                        auto_shutdown="never", name=None, timeout=None, debug=None):
    """Elixir's `Supervisor.start_link(children, opts)`: a supervisor for a plain list
    of children. Defaults are Elixir's: 3 restarts in 5 seconds."""
    if type(children) not in (list, tuple):
        raise vm.BadArg(f"start_link_children takes a list of children, not {children!r}")
    specs = [expand(c) for c in children]
    flags = {"strategy": strategy, "intensity": intensity, "period": period,
             "auto_shutdown": auto_shutdown}
    return gen_server.start_link(_SupervisorServer, ("children", name, flags, specs), name=name,
                                 timeout=timeout, debug=debug)


def child_spec(child, **overrides) -> dict:
    """The full spec dict for a child written in any accepted form, with overrides
    (Elixir's Supervisor.child_spec/2): child_spec((Worker, 1), id="w1")."""
    spec = _cs.from_tuple(expand(child))
    if type(spec) is not dict:
        check_childspec(spec)  # raises: a tuple that is not a 6-tuple is no spec
    out = {**spec, **overrides}
    check_childspec(out)
    return out


def check_childspecs(specs, auto_shutdown=None):
    """"ok" if every spec is valid and the ids are unique, else ("error", reason)."""
    try:
        _cs.check_childspecs(specs, auto_shutdown)
    except SpecError as e:
        return ("error", e.reason)
    return OK


# ----------------------------------------------------------------------
# API (calls to the supervisor process; they wait forever, as OTP's do)


def start_child(sup, child):
    """Add and start a child (a spec, or for simple_one_for_one the extra args list)."""
    return gen_server.call(sup, ("start_child", child), None)


def terminate_child(sup, child_id):
    return gen_server.call(sup, ("terminate_child", child_id), None)


def restart_child(sup, child_id):
    return gen_server.call(sup, ("restart_child", child_id), None)


def delete_child(sup, child_id):
    return gen_server.call(sup, ("delete_child", child_id), None)


def which_children(sup):
    return gen_server.call(sup, "which_children", None)


def count_children(sup):
    return gen_server.call(sup, "count_children", None)


def get_childspec(sup, child_id):
    return gen_server.call(sup, ("get_childspec", child_id), None)


# ----------------------------------------------------------------------
# the supervisor as a gen_server callback (over the shared core)


def _init_state(arg):
    """(State, children to start) for start_link's arguments, or what init returns
    instead ("ignore", ("stop", reason))."""
    kind, name, a, b = arg
    module = a if kind == "callback" else vm.Atom("supervisor")
    if kind == "callback":
        vm.put("$initial_call", (a.__module__, a.__qualname__ + ".init", 1))
        r = a().init(b)
        if r == "ignore":
            return "ignore"
        if not (type(r) is tuple and len(r) == 2 and r[0] == "ok"
                and type(r[1]) is tuple and len(r[1]) == 2):
            return ("stop", ("bad_return", (a, "init", r)))
        flags, specs = r[1]
    else:
        vm.put("$initial_call", ("supervisor", "start_link_children", 1))
        flags, specs = a, b
    try:
        flags = check_flags(flags)
    except SpecError as e:
        return ("stop", ("supervisor_data", e.reason))
    try:
        if type(specs) in (list, tuple):
            specs = [expand(c) for c in specs]  # the (Cls, arg) / Cls shorthand too
        children = [Child.from_spec(c) for c in
                    _cs.check_childspecs(specs, flags["auto_shutdown"])]
    except SpecError as e:
        return ("stop", ("start_spec", e.reason))
    except vm.BadArg as e:
        return ("stop", ("start_spec", str(e)))
    st = State(name=name if name is not None else (vm.self(), module), module=module,
               args=b if kind == "callback" else None, **flags)
    if flags["strategy"] == "simple_one_for_one":
        if len(children) != 1:
            return ("stop", ("bad_start_spec", list(specs)))
        core.save_child(st, children[0])
        st.dynamics = {}
        return st, []
    return st, children


class _SupervisorServer(core.Core):
    """The generic supervisor: the core's callbacks plus OTP's child requests."""

    def init(self, arg):
        vm.process_flag("trap_exit", True)
        r = _init_state(arg)
        if type(r) is not tuple or type(r[0]) is not State:
            return r
        st, children = r
        failure = core.start_children(st, children, "info")
        if failure is not None:
            core.terminate_all(st)
            return ("stop", ("shutdown", failure))
        return ("ok", st)


def _start_child(st, arg):
    if st.dynamic:
        if type(arg) not in (list, tuple):
            return ("error", ("badarg", arg))
        c = dataclasses.replace(core.template(st), pid=None, extra=tuple(arg))
        r = core.start_process(c)
        if r[0] == "ok":
            core.set_pid(st, c, r[1])
        return r
    try:
        c = Child.from_spec(check_childspec(expand(arg), st.auto_shutdown))
    except SpecError as e:
        return ("error", e.reason)
    except vm.BadArg as e:
        return ("error", ("invalid_child_spec", str(e)))
    old = core.find_child(st, c.id)
    if old is not None:
        return ("error", ("already_started", old.pid) if old.running else "already_present")
    r = core.start_process(c)
    if r[0] != "ok":
        return ("error", (r[1], c.spec()))
    if r[1] is None and c.restart == "temporary":
        return r  # an ignored temporary child leaves no trace
    core.save_child(st, c)
    core.set_pid(st, c, r[1])
    if r[1] is not None:
        core.progress(st, c, "debug")
    return r


def _terminate_child(st, key):
    if st.dynamic and type(key) is not vm.Pid:
        return ("error", "simple_one_for_one")
    c = core.find_child(st, key)
    if c is None:
        return ("error", "not_found")
    if st.dynamic:
        st.dynamics.pop(c.pid, None)
        if c.running:
            core.terminate_child_process(st, c, c.pid)
    else:
        core.stop_child(st, c.id)
    return OK


def _static_child(st, cid):
    """The static child `cid` for restart_child/delete_child, or their error."""
    if st.dynamic:
        return ("error", "simple_one_for_one")
    c = core.find_child(st, cid)
    if c is None:
        return ("error", "not_found")
    if c.running:
        return ("error", "running")
    if c.pid == RESTARTING:
        return ("error", "restarting")
    return c


def _restart_child(st, cid):
    c = _static_child(st, cid)
    if type(c) is not Child:
        return c
    r = core.start_process(c)
    if r[0] == "ok":
        if r[1] is not None:
            core.set_pid(st, c, r[1])
            core.progress(st, c, "debug")
        elif c.restart == "temporary":
            core.remove_child(st, c.id)
    return r


def _delete_child(st, cid):
    c = _static_child(st, cid)
    if type(c) is not Child:
        return c
    core.remove_child(st, c.id)
    return OK


def _get_childspec(st, key):
    c = core.find_child(st, key)
    return ("error", "not_found") if c is None else ("ok", c.spec())


_SupervisorServer.requests = {
    "start_child": _start_child,
    "terminate_child": _terminate_child,
    "restart_child": _restart_child,
    "delete_child": _delete_child,
    "get_childspec": _get_childspec,
}
