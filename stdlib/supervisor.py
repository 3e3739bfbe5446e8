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

**Built as a gen_server callback** (`_SupervisorServer`): the supervisor
loop is gen_server's loop, so calls, `otp_sys`, hibernation and crash
reports come for free, and its state is a plain dict of terms that
`otp_sys.get_state` can show.

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

import logging

import vm

from . import gen_server
from . import _child_spec as _cs
from ._child_spec import SpecError, check_childspec, check_flags, expand
from .reports import is_quiet, log_report

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

ANY = vm.ANY
OK = vm.Atom("ok")
RESTARTING = vm.Atom("restarting")
SHUTDOWN = vm.Atom("shutdown")
log = logging.getLogger("beamlet.otp")


class Supervisor:
    """Base class of supervisor callback classes: define `init(self, arg)` returning
    `("ok", (flags, [child, ...]))` or `"ignore"`."""

    def init(self, arg):
        raise NotImplementedError(
            f"{type(self).__qualname__} must define init(self, arg) returning "
            "('ok', (flags, [child_spec, ...]))"
        )

    @classmethod
    def start_link(cls, arg=None, **opts):
        return start_link(cls, arg, **opts)

    @classmethod
    def child_spec(cls, arg=None) -> dict:
        """The spec used for the shorthand `(cls, arg)`: a supervisor child, waited for."""
        return {"id": cls, "start": (cls.start_link, (arg,)), "restart": "permanent",
                "type": "supervisor", "shutdown": None, "modules": [cls]}


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
    spec = expand(child)
    if type(spec) is tuple:
        spec = dict(zip(("id", "start", "restart", "shutdown", "type", "modules"), spec))
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
# the supervisor as a gen_server callback


class _SupervisorServer(gen_server.GenServer):
    """The generic supervisor. Its state is a dict of terms:

        name, module, args, strategy, intensity, period, auto_shutdown,
        ids        child ids, newest first (OTP's order; which_children's order)
        children   id -> child (spec keys + "pid": Pid | None | "restarting")
        by_pid     Pid -> id, for the children that run
        dynamic    simple_one_for_one only: Pid or ("restarting", old) -> extra args
        restarts   times of the recent restarts, oldest first
    """

    def init(self, arg):
        vm.process_flag("trap_exit", True)
        kind, name, a, b = arg
        me = vm.self()
        module = a if kind == "callback" else vm.Atom("supervisor")
        st = {"name": name if name is not None else (me, module), "module": module,
              "args": b if kind == "callback" else None}
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
        st.update(flags)
        try:
            if type(specs) in (list, tuple):
                specs = [expand(c) for c in specs]  # the (Cls, arg) / Cls shorthand too
            children = _cs.check_childspecs(specs, flags["auto_shutdown"])
        except SpecError as e:
            return ("stop", ("start_spec", e.reason))
        except vm.BadArg as e:
            return ("stop", ("start_spec", str(e)))
        st["ids"] = []
        st["children"] = {}
        st["by_pid"] = {}
        st["restarts"] = []
        st["dynamic"] = None
        if flags["strategy"] == "simple_one_for_one":
            if len(children) != 1:
                return ("stop", ("bad_start_spec", list(specs)))
            c = children[0]
            c["pid"] = None
            st["ids"] = [c["id"]]
            st["children"] = {c["id"]: c}
            st["dynamic"] = {}
            return ("ok", st)
        for c in children:
            c["pid"] = None
        failure = _start_children(st, [c for c in children], "info")
        if failure is not None:
            _terminate_children(st)
            return ("stop", ("shutdown", failure))
        return ("ok", st)

    # --- calls

    def handle_call(self, request, from_, st):
        if type(request) is tuple and len(request) == 2:
            tag, arg = request
            if tag == "start_child":
                return ("reply", _handle_start_child(st, arg), st)
            if tag == "terminate_child":
                return ("reply", _handle_terminate_child(st, arg), st)
            if tag == "restart_child":
                return ("reply", _handle_restart_child(st, arg), st)
            if tag == "delete_child":
                return ("reply", _handle_delete_child(st, arg), st)
            if tag == "get_childspec":
                return ("reply", _handle_get_childspec(st, arg), st)
        if request == "which_children":
            return ("reply", _which_children(st), st)
        if request == "count_children":
            return ("reply", _count_children(st), st)
        log.error("Supervisor %r received unexpected call: %r", st["name"], request)
        return ("reply", ("error", ("unknown_call", request)), st)

    def handle_cast(self, msg, st):
        if type(msg) is tuple and len(msg) == 2 and msg[0] == "try_again_restart":
            key = msg[1]
            child, extra = _find_restarting(st, key)
            if child is not None:
                if _restart(st, child, key, extra) == "shutdown":
                    return ("stop", SHUTDOWN, st)
            return ("noreply", st)
        log.error("Supervisor %r received unexpected cast: %r", st["name"], msg)
        return ("noreply", st)

    def handle_info(self, msg, st):
        if type(msg) is tuple and len(msg) == 3 and msg[0] == "EXIT":
            if _child_exited(st, msg[1], msg[2]) == "shutdown":
                return ("stop", SHUTDOWN, st)
            return ("noreply", st)
        log.error("Supervisor %r received unexpected message: %r", st["name"], msg)
        return ("noreply", st)

    def terminate(self, reason, st):
        if st.get("strategy") == "simple_one_for_one":
            _terminate_dynamic_children(st)
        elif "ids" in st:
            _terminate_children(st)
        return OK

    def code_change(self, old_vsn, st, extra):
        return ("ok", st)


# ----------------------------------------------------------------------
# starting children


def _start_one(child, extra=()):
    """Call a child's start function in the supervisor; normalize what it returns to
    ("ok", pid) | ("ok", pid, info) | ("ok", None) | ("error", reason)."""
    fn, args = child["start"]
    try:
        r = fn(*args, *extra) if extra else fn(*args)
    except vm.Exit as e:
        return ("error", ("EXIT", e.reason))
    except Exception as e:
        return ("error", ("EXIT", vm.Crash.from_exception(e)))
    if type(r) is tuple:
        n = len(r)
        if n >= 2 and r[0] == "ok" and isinstance(r[1], vm.Pid) and n in (2, 3):
            return r
        if n == 2 and r[0] == "error":
            return r
    elif r == "ignore":
        return ("ok", None)
    return ("error", r)


def _start_children(st, children, level):
    """Start children in order (mutating st); None, or the failure term
    ("failed_to_start_child", id, reason). Children are added to st as they go."""
    for i, c in enumerate(children):
        cid = c["id"]
        if cid not in st["children"]:
            st["children"][cid] = c
            st["ids"].insert(0, cid)
        r = _start_one(c)
        if r[0] == "ok" and r[1] is not None:
            c["pid"] = r[1]
            st["by_pid"][r[1]] = cid
            _progress(st, c, level)
        elif r[0] == "ok":
            c["pid"] = None
            if c["restart"] == "temporary":
                _remove_child(st, cid)
        else:
            _report(st, "start_error", r[1], c)
            return ("failed_to_start_child", cid, r[1])
    return None


def _handle_start_child(st, arg):
    if st["strategy"] == "simple_one_for_one":
        if type(arg) not in (list, tuple):
            return ("error", ("badarg", arg))
        c = st["children"][st["ids"][0]]
        r = _start_one(c, tuple(arg))
        if r[0] == "ok" and r[1] is not None:
            st["dynamic"][r[1]] = tuple(arg)
        return r
    try:
        c = check_childspec(expand(arg), st["auto_shutdown"])
    except SpecError as e:
        return ("error", e.reason)
    except vm.BadArg as e:
        return ("error", ("invalid_child_spec", str(e)))
    old = st["children"].get(c["id"])
    if old is not None:
        if isinstance(old["pid"], vm.Pid):
            return ("error", ("already_started", old["pid"]))
        return ("error", "already_present")
    r = _start_one(c)
    if r[0] == "ok":
        if r[1] is None and c["restart"] == "temporary":
            return r  # an ignored temporary child leaves no trace
        c["pid"] = r[1]
        st["children"][c["id"]] = c
        st["ids"].insert(0, c["id"])
        if r[1] is not None:
            st["by_pid"][r[1]] = c["id"]
            _progress(st, c, "debug")
        return r
    return ("error", (r[1], _spec_of(c)))


def _handle_restart_child(st, cid):
    if st["strategy"] == "simple_one_for_one":
        return ("error", "simple_one_for_one")
    c = st["children"].get(cid) if _hashable(cid) else None
    if c is None:
        return ("error", "not_found")
    if isinstance(c["pid"], vm.Pid):
        return ("error", "running")
    if c["pid"] == RESTARTING:
        return ("error", "restarting")
    r = _start_one(c)
    if r[0] == "ok":
        if r[1] is not None:
            c["pid"] = r[1]
            st["by_pid"][r[1]] = cid
            _progress(st, c, "debug")
        elif c["restart"] == "temporary":
            _remove_child(st, cid)
        return r
    return r


def _handle_delete_child(st, cid):
    if st["strategy"] == "simple_one_for_one":
        return ("error", "simple_one_for_one")
    c = st["children"].get(cid) if _hashable(cid) else None
    if c is None:
        return ("error", "not_found")
    if isinstance(c["pid"], vm.Pid):
        return ("error", "running")
    if c["pid"] == RESTARTING:
        return ("error", "restarting")
    _remove_child(st, cid)
    return OK


def _handle_terminate_child(st, key):
    if st["strategy"] == "simple_one_for_one":
        if not isinstance(key, vm.Pid):
            return ("error", "simple_one_for_one")
        if key not in st["dynamic"]:
            return ("error", "not_found")
        c = st["children"][st["ids"][0]]
        del st["dynamic"][key]
        _do_terminate(st, c, key)
        return OK
    if isinstance(key, vm.Pid):
        cid = st["by_pid"].get(key)
    else:
        cid = key if _hashable(key) and key in st["children"] else None
    if cid is None:
        return ("error", "not_found")
    c = st["children"][cid]
    pid = c["pid"]
    if isinstance(pid, vm.Pid):
        del st["by_pid"][pid]
        _do_terminate(st, c, pid)
    if c["restart"] == "temporary":
        _remove_child(st, cid)
    else:
        c["pid"] = None
    return OK


def _handle_get_childspec(st, key):
    if isinstance(key, vm.Pid):
        if st["strategy"] == "simple_one_for_one":
            if key in st["dynamic"]:
                return ("ok", _spec_of(st["children"][st["ids"][0]]))
            return ("error", "not_found")
        cid = st["by_pid"].get(key)
    else:
        cid = key if _hashable(key) and key in st["children"] else None
    if cid is None:
        return ("error", "not_found")
    return ("ok", _spec_of(st["children"][cid]))


def _which_children(st):
    if st["strategy"] == "simple_one_for_one":
        c = st["children"][st["ids"][0]]
        return [(None, k if isinstance(k, vm.Pid) else RESTARTING, c["type"], c["modules"])
                for k in st["dynamic"]]
    out = []
    for cid in st["ids"]:
        c = st["children"][cid]
        out.append((cid, c["pid"], c["type"], c["modules"]))
    return out


def _count_children(st):
    if st["strategy"] == "simple_one_for_one":
        c = st["children"][st["ids"][0]]
        n = len(st["dynamic"])
        active = sum(1 for k in st["dynamic"] if isinstance(k, vm.Pid))
        sups = n if c["type"] == "supervisor" else 0
        return {"specs": 1, "active": active, "supervisors": sups, "workers": n - sups}
    specs = active = sups = 0
    for c in st["children"].values():
        specs += 1
        if isinstance(c["pid"], vm.Pid):
            active += 1
        if c["type"] == "supervisor":
            sups += 1
    return {"specs": specs, "active": active, "supervisors": sups, "workers": specs - sups}


def _spec_of(c):
    return {k: c[k] for k in ("id", "start", "restart", "significant", "shutdown", "type",
                              "modules")}


def _hashable(x):
    try:
        hash(x)
    except TypeError:
        return False
    return True


def _remove_child(st, cid):
    c = st["children"].pop(cid, None)
    if c is not None:
        st["ids"].remove(cid)
        if isinstance(c["pid"], vm.Pid):
            st["by_pid"].pop(c["pid"], None)


# ----------------------------------------------------------------------
# a child exited


def _child_exited(st, pid, reason):
    """Handle ("EXIT", pid, reason) from a child; returns "shutdown" to give up."""
    dyn = st["dynamic"]
    if dyn is not None:
        if pid not in dyn:
            return None  # not a child (e.g. a process it linked to): ignore, as OTP
        extra = dyn.pop(pid)
        c = st["children"][st["ids"][0]]
        return _do_restart(st, c, pid, reason, extra)
    cid = st["by_pid"].pop(pid, None)
    if cid is None:
        return None
    c = st["children"][cid]
    return _do_restart(st, c, pid, reason, None)


def _do_restart(st, c, pid, reason, extra):
    restart = c["restart"]
    if restart == "permanent":
        _report(st, "child_terminated", reason, c, pid)
        return _restart(st, c, pid, extra)
    if is_quiet(reason):
        _del_child(st, c)
        return _auto_shutdown(st, c)
    _report(st, "child_terminated", reason, c, pid)
    if restart == "transient":
        return _restart(st, c, pid, extra)
    _del_child(st, c)
    return _auto_shutdown(st, c)


def _del_child(st, c):
    """A child is gone for good: temporary specs are dropped, others keep pid None."""
    if st["dynamic"] is not None:
        return
    if c["restart"] == "temporary":
        _remove_child(st, c["id"])
    else:
        c["pid"] = None


def _auto_shutdown(st, c):
    mode = st["auto_shutdown"]
    if mode == "never" or not c["significant"]:
        return None
    if mode == "any_significant":
        return "shutdown"
    for other in st["children"].values():
        if other["significant"] and isinstance(other["pid"], vm.Pid):
            return None
    return "shutdown"


def _add_restart(st):
    """OTP's intensity rule; True while within bounds."""
    now = vm.monotonic()
    restarts = st["restarts"]
    threshold = now - st["period"]
    while restarts and restarts[0] < threshold:
        restarts.pop(0)
    restarts.append(now)
    return len(restarts) <= st["intensity"]


def _restart(st, c, old_pid, extra):
    """Restart child `c` by the strategy; returns "shutdown" when giving up."""
    if not _add_restart(st):
        _report(st, "shutdown", "reached_max_restart_intensity", c, old_pid)
        if st["dynamic"] is None:
            _del_child(st, c)
        return "shutdown"
    strategy = st["strategy"]
    if strategy == "simple_one_for_one":
        r = _start_one(c, extra)
        if r[0] == "ok":
            if r[1] is not None:
                st["dynamic"][r[1]] = extra
            return None
        key = ("restarting", old_pid)
        st["dynamic"][key] = extra
        _report(st, "start_error", r[1], c, old_pid)
        _try_again(key)
        return None
    if strategy == "one_for_one":
        r = _start_one(c)
        if r[0] == "ok":
            if r[1] is not None:
                c["pid"] = r[1]
                st["by_pid"][r[1]] = c["id"]
                _progress(st, c, "info")
            elif c["restart"] == "temporary":
                _remove_child(st, c["id"])
            else:
                c["pid"] = None
            return None
        c["pid"] = RESTARTING
        _report(st, "start_error", r[1], c, old_pid)
        _try_again(c["id"])
        return None
    # one_for_all / rest_for_one: terminate the others (newest first), restart in order
    ids = st["ids"]
    if strategy == "one_for_all":
        affected = list(ids)
    else:
        affected = ids[:ids.index(c["id"]) + 1]
    _del_child(st, c)  # a temporary child that crashed is gone; others wait with pid None
    for cid in affected:
        _stop_child(st, cid)
    to_start = [st["children"][cid] for cid in reversed(affected) if cid in st["children"]]
    failure = _start_children(st, to_start, "info")
    if failure is not None:
        failed = st["children"].get(failure[1])
        if failed is not None:
            failed["pid"] = RESTARTING
        _try_again(failure[1])
    return None


def _try_again(key):
    """Retry a failed restart later, through the mailbox, so that other requests
    (a terminate_child, the parent's shutdown) can get in between."""
    gen_server.cast(vm.self(), ("try_again_restart", key))


def _find_restarting(st, key):
    if st["dynamic"] is not None:
        extra = st["dynamic"].get(key) if type(key) is tuple else None
        if extra is None:
            return None, None
        del st["dynamic"][key]
        return st["children"][st["ids"][0]], extra
    c = st["children"].get(key) if _hashable(key) else None
    if c is None or c["pid"] != RESTARTING:
        return None, None
    return c, None


# ----------------------------------------------------------------------
# terminating children


def _terminate_children(st):
    """Terminate every running child, newest first (supervisor shutdown)."""
    for cid in list(st["ids"]):
        _stop_child(st, cid)


def _stop_child(st, cid):
    """Terminate child `cid` if running; a temporary one's spec goes, others keep it."""
    c = st["children"].get(cid)
    if c is None:
        return
    pid = c["pid"]
    if isinstance(pid, vm.Pid):
        st["by_pid"].pop(pid, None)
        _do_terminate(st, c, pid)
    if c["restart"] == "temporary":
        _remove_child(st, cid)
    else:
        c["pid"] = None


def _do_terminate(st, c, pid):
    err = shutdown_child(pid, c["shutdown"], c["restart"] == "permanent")
    if err is not None:
        _report(st, "shutdown_error", err, c, pid)


def shutdown_child(pid, shutdown, permanent):
    """OTP's shutdown protocol for one child; None if it ended as asked, else the
    unexpected exit reason."""
    ref = vm.monitor(pid)
    if shutdown == "brutal_kill":
        vm.exit(pid, "kill")
        down = vm.receive(("DOWN", ref, ANY, ANY, ANY))
        reason = _unlink_flush(pid, down[4])
        if reason == "killed":
            return None
    else:
        vm.exit(pid, SHUTDOWN)
        down = vm.receive(("DOWN", ref, ANY, ANY, ANY), timeout=shutdown)
        if down is vm.TIMEOUT:
            vm.exit(pid, "kill")
            down = vm.receive(("DOWN", ref, ANY, ANY, ANY))
        reason = _unlink_flush(pid, down[4])
        if reason == "shutdown":
            return None
    if not permanent and is_quiet(reason):
        return None
    return reason


def _unlink_flush(pid, default):
    vm.unlink(pid)
    msg = vm.receive(("EXIT", pid, ANY), timeout=0)
    return default if msg is vm.TIMEOUT else msg[2]


def _terminate_dynamic_children(st):
    """simple_one_for_one: all children at once, each given the spec's shutdown."""
    c = st["children"][st["ids"][0]]
    pids = [k for k in st["dynamic"] if isinstance(k, vm.Pid)]
    st["dynamic"].clear()
    errors = shutdown_children_parallel([(pid, c) for pid in pids])
    if errors:
        _report(st, "shutdown_error", errors[0][1], c, None, nb_children=len(errors))


def shutdown_children_parallel(children):
    """Terminate many children at once (each with its own shutdown setting); returns
    [(pid, reason)] for those that ended with an unexpected reason. Shared with
    dynamic_supervisor."""
    if not children:
        return []
    now = vm.monotonic()
    waiting = {}  # monitor ref -> (pid, child, deadline or None)
    for pid, c in children:
        ref = vm.monitor(pid)
        sd = c["shutdown"]
        if sd == "brutal_kill":
            vm.exit(pid, "kill")
            waiting[ref] = (pid, c, None)
        else:
            vm.exit(pid, SHUTDOWN)
            waiting[ref] = (pid, c, None if sd is None else now + sd)
    errors = []

    def is_down(m):
        return (type(m) is tuple and len(m) == 5 and type(m[1]) is vm.Ref and m[1] in waiting
                and m[0] == "DOWN")

    while waiting:
        deadlines = [d for (_p, _c, d) in waiting.values() if d is not None]
        timeout = None if not deadlines else max(0.0, min(deadlines) - vm.monotonic())
        msg = vm.receive(is_down, timeout=timeout)
        if msg is vm.TIMEOUT:
            now = vm.monotonic()
            for ref, (pid, c, d) in list(waiting.items()):
                if d is not None and d <= now:
                    vm.exit(pid, "kill")  # past its shutdown time: no more waiting
                    waiting[ref] = (pid, c, None)
            continue
        pid, c, _d = waiting.pop(msg[1])
        reason = _unlink_flush(pid, msg[4])
        expected = "killed" if c["shutdown"] == "brutal_kill" else "shutdown"
        if reason != expected and not (c["restart"] != "permanent" and is_quiet(reason)):
            errors.append((pid, reason))
    return errors


# ----------------------------------------------------------------------
# reports


def _offender(c, pid, nb_children=None):
    off = {"pid": pid, "id": c["id"], "mfargs": c["start"], "restart_type": c["restart"],
           "significant": c["significant"], "shutdown": c["shutdown"], "child_type": c["type"]}
    if nb_children is not None:
        off = {"nb_children": nb_children, **{k: v for k, v in off.items() if k != "pid"}}
    return off


def _report(st, context, reason, c, pid=None, nb_children=None):
    if not log.isEnabledFor(logging.ERROR):
        return
    if pid is None and isinstance(c.get("pid"), vm.Pid):
        pid = c["pid"]
    log_report(logging.ERROR, {"label": "supervisor_report", "supervisor": st["name"],
                               "errorContext": context, "reason": reason,
                               "offender": _offender(c, pid, nb_children)})


def _progress(st, c, level):
    lvl = logging.INFO if level == "info" else logging.DEBUG
    if not log.isEnabledFor(lvl):
        return
    log_report(lvl, {"label": "progress", "supervisor": st["name"],
                     "started": _offender(c, c["pid"])})
