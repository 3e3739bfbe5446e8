"""_supervision: the core that supervisor and dynamic_supervisor are built on.

OTP's supervisor.erl is a gen_server callback module around a state record
and a set of functions over it; this module is that core, and
`supervisor.py` and `dynamic_supervisor.py` are two gen_server callbacks
over it (their request sets and start-up differ; the rest is this).

**The state.** `Child` is one child: its normalized spec and `pid` (a
`Pid` while it runs, None when it is not running, `RESTARTING` while a
failed restart waits to be retried). `State` is the supervisor: its name,
flags and children. Children come in two kinds:

- *static* children (one_for_one, one_for_all, rest_for_one): `ids` (newest
  first, OTP's order and which_children's), `children` (id -> Child) and
  `by_pid` (Pid -> id, for the running ones);
- *dynamic* children (simple_one_for_one, dynamic_supervisor): `dynamics`,
  key -> Child, where the key is the child's Pid or, while a failed restart
  waits, `("restarting", old_pid)`. A simple_one_for_one supervisor keeps
  its one spec as its only static child (`template(st)`), and each dynamic
  child carries the extra start arguments it was given (`Child.extra`).

The functions below the dataclasses are OTP's "Access #state.children"
section: `find_child`, `save_child`, `set_pid`, `del_child`,
`remove_child`, `template`, `which_children`, `count_children`; nothing
else reads the containers directly.

**What `otp_sys.get_state` shows.** `State.sys_term()` is a dict of terms
(the layout the observer reads: "strategy", "ids", "children", ...);
`State.from_sys_term` rebuilds the state after `otp_sys.replace_state`.

**Starting, restarting, stopping.** `start_process` calls a child's start
function; `start_children`, `restart` (with OTP's intensity rule),
`child_exited`, `retry_restart`, `terminate_child_process`,
`terminate_all` and the shutdown protocol (`shutdown_child`,
`shutdown_children_at_once`) do what supervisor.py's docstring describes.
Reports (`report`, `progress`) are OTP's SUPERVISOR and PROGRESS reports.

What it refuses: the request protocol (start_child, which_children, ...
calls) and how each kind of supervisor starts: supervisor.py and
dynamic_supervisor.py.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field

import vm

from . import gen_server, logger
from .logger import allows, log_report
from .reports import is_quiet

ANY = vm.ANY
RESTARTING = vm.Atom("restarting")
SHUTDOWN = vm.Atom("shutdown")
TRY_AGAIN = vm.Atom("try_again_restart")

_SPEC_KEYS = ("id", "start", "restart", "significant", "shutdown", "type", "modules")


@dataclass(slots=True, eq=False)
class Child:
    """One child: its normalized spec (see _child_spec) and where it is now."""

    id: object
    start: tuple  # (fn, args): fn(*args, *extra) starts and links the child
    restart: str
    significant: bool
    shutdown: object  # seconds | None (infinity) | "brutal_kill"
    type: str
    modules: object
    pid: object = None  # Pid | None | RESTARTING | ("restarting", old_pid) for a dynamic one
    extra: tuple = ()  # simple_one_for_one: the extra start arguments

    @classmethod
    def from_spec(cls, spec: dict) -> Child:
        return cls(**{k: spec[k] for k in _SPEC_KEYS})

    @property
    def running(self) -> bool:
        return type(self.pid) is vm.Pid

    def spec(self) -> dict:
        """The child's spec as a dict (OTP's child_to_spec)."""
        return {k: getattr(self, k) for k in _SPEC_KEYS}

    def sys_term(self) -> dict:
        return {**self.spec(), "pid": self.pid}


@dataclass(slots=True, eq=False)
class State:
    """A supervisor (see the module docstring for the two kinds of children)."""

    name: object
    module: object
    args: object
    strategy: str
    intensity: int
    period: float
    auto_shutdown: str = "never"
    ids: list = field(default_factory=list)
    children: dict = field(default_factory=dict)
    by_pid: dict = field(default_factory=dict)
    dynamics: dict | None = None
    restarts: list = field(default_factory=list)
    max_children: int | None = None  # dynamic_supervisor's limit
    extra_arguments: tuple = ()  # dynamic_supervisor: prepended to each child's args
    elixir: bool = False  # a dynamic_supervisor (Elixir's), not an OTP supervisor

    @property
    def dynamic(self) -> bool:
        return self.dynamics is not None

    # --- what otp_sys shows (plain terms), and back

    def sys_term(self) -> dict:
        if self.elixir:
            return {"name": self.name, "module": self.module, "strategy": self.strategy,
                    "intensity": self.intensity, "period": self.period,
                    "max_children": self.max_children,
                    "extra_arguments": self.extra_arguments,
                    "children": {k: c.sys_term() for k, c in self.dynamics.items()},
                    "restarts": list(self.restarts)}
        return {"name": self.name, "module": self.module, "args": self.args,
                "strategy": self.strategy, "intensity": self.intensity, "period": self.period,
                "auto_shutdown": self.auto_shutdown, "ids": list(self.ids),
                "children": {cid: c.sys_term() for cid, c in self.children.items()},
                "by_pid": dict(self.by_pid), "restarts": list(self.restarts),
                "dynamic": (None if self.dynamics is None else
                            {k: c.extra for k, c in self.dynamics.items()})}

    @classmethod
    def from_sys_term(cls, t) -> State:
        if type(t) is not dict or "children" not in t or "strategy" not in t:
            raise TypeError("replace_state: a supervisor's state is the dict get_state shows "
                            f"(with 'strategy' and 'children'); the function returned {t!r}")

        def child(d, extra=()):
            return Child(**{k: d[k] for k in _SPEC_KEYS}, pid=d.get("pid"), extra=extra)

        common = {k: t[k] for k in ("name", "module", "strategy", "intensity", "period")}
        if "max_children" in t:
            return cls(**common, args=None, max_children=t["max_children"],
                       extra_arguments=tuple(t.get("extra_arguments", ())), elixir=True,
                       dynamics={k: child(d) for k, d in t["children"].items()},
                       restarts=list(t.get("restarts", [])))
        st = cls(**common, args=t.get("args"), auto_shutdown=t.get("auto_shutdown", "never"),
                 ids=list(t.get("ids", t["children"])),
                 children={cid: child(d) for cid, d in t["children"].items()},
                 restarts=list(t.get("restarts", [])))
        st.by_pid = {c.pid: cid for cid, c in st.children.items() if c.running}
        if t.get("dynamic") is not None:
            tmpl = template(st)
            st.dynamics = {k: dataclasses.replace(tmpl, pid=k, extra=tuple(extra))
                           for k, extra in t["dynamic"].items()}
        return st


# ----------------------------------------------------------------------
# access to the children (OTP's "Access #state.children" section)


def template(st) -> Child:
    """A simple_one_for_one supervisor's one child spec."""
    return st.children[st.ids[0]]


def _hashable(x) -> bool:
    try:
        hash(x)
    except TypeError:
        return False
    return True


def find_child(st, key):
    """The child `key` names, or None. A static supervisor knows its children by id
    only (a pid is just an id nobody has, as in OTP); a dynamic one by pid, or
    by the pid a failed restart is replacing. (OTP 25 also answers for a pid of
    simple_one_for_one that is no longer alive; beamlet says not_found.)"""
    if not _hashable(key):
        return None
    if st.dynamics is None:
        return st.children.get(key)
    c = st.dynamics.get(key)
    if c is None and type(key) is vm.Pid and not st.elixir:
        c = st.dynamics.get(("restarting", key))
    return c


def save_child(st, c):
    """Add a static child, newest first."""
    st.children[c.id] = c
    st.ids.insert(0, c.id)


def set_pid(st, c, pid):
    """Record where child `c` now is: a started pid (or None: not running)."""
    if st.dynamics is not None:
        if type(pid) is vm.Pid:
            c.pid = pid
            st.dynamics[pid] = c
        return
    if c.running:
        st.by_pid.pop(c.pid, None)
    c.pid = pid
    if type(pid) is vm.Pid:
        st.by_pid[pid] = c.id


def del_child(st, c):
    """A child is gone for good: a temporary one's spec is dropped (a dynamic child
    always is), others stay with pid None."""
    if st.dynamics is not None:
        st.dynamics.pop(c.pid, None)
    elif c.restart == "temporary":
        remove_child(st, c.id)
    else:
        set_pid(st, c, None)


def remove_child(st, cid):
    c = st.children.pop(cid, None)
    if c is not None:
        st.ids.remove(cid)
        if c.running:
            st.by_pid.pop(c.pid, None)


def which_children(st) -> list:
    """[(id, pid | "restarting" | None, type, modules)], newest first; a dynamic
    child's id is None."""
    if st.dynamics is not None:
        return [(None, k if type(k) is vm.Pid else RESTARTING, c.type, c.modules)
                for k, c in st.dynamics.items()]
    return [(cid, c.pid, c.type, c.modules)
            for cid, c in ((cid, st.children[cid]) for cid in st.ids)]


def count_children(st) -> dict:
    if st.dynamics is not None:
        kids = st.dynamics
        specs = len(kids) if st.elixir else 1
        active = sum(1 for k in kids if type(k) is vm.Pid)
        sups = sum(1 for c in kids.values() if c.type == "supervisor")
        return {"specs": specs, "active": active, "supervisors": sups,
                "workers": len(kids) - sups}
    specs = active = sups = 0
    for c in st.children.values():
        specs += 1
        active += c.running
        sups += c.type == "supervisor"
    return {"specs": specs, "active": active, "supervisors": sups, "workers": specs - sups}


# ----------------------------------------------------------------------
# the gen_server callbacks both supervisors share


class Core(gen_server.GenServer):
    """What supervisor and dynamic_supervisor answer alike: which_children,
    count_children, children's EXITs, retried restarts, and the shutdown of
    every child when the supervisor stops. A subclass builds the `State` in
    `init` and adds its own requests in `requests`: tag -> function(st, arg)
    returning the reply."""

    requests: dict = {}

    def handle_call(self, request, from_, st):
        if request == "which_children":
            return ("reply", which_children(st), st)
        if request == "count_children":
            return ("reply", count_children(st), st)
        if type(request) is tuple and len(request) == 2:
            handler = self.requests.get(request[0])
            if handler is not None:
                return ("reply", handler(st, request[1]), st)
        _unexpected("call", request, st)
        return ("reply", ("error", ("unknown_call", request)), st)

    def handle_cast(self, msg, st):
        if type(msg) is tuple and len(msg) == 2 and msg[0] == TRY_AGAIN:
            if retry_restart(st, msg[1]) == "shutdown":
                return ("stop", SHUTDOWN, st)
            return ("noreply", st)
        _unexpected("cast", msg, st)
        return ("noreply", st)

    def handle_info(self, msg, st):
        if type(msg) is tuple and len(msg) == 3 and msg[0] == "EXIT":
            if child_exited(st, msg[1], msg[2]) == "shutdown":
                return ("stop", SHUTDOWN, st)
            return ("noreply", st)
        _unexpected("message", msg, st)
        return ("noreply", st)

    def terminate(self, reason, st):
        terminate_all(st)
        return vm.Atom("ok")

    def code_change(self, old_vsn, st, extra):
        return ("ok", st)


def _unexpected(what, msg, st):
    logger.log(logging.ERROR, f"Supervisor {st.name!r} received unexpected {what}: {msg!r}")


# ----------------------------------------------------------------------
# starting children


def start_process(c):
    """Call a child's start function (in the supervisor); its answer normalized to
    ("ok", pid) | ("ok", pid, info) | ("ok", None) | ("error", reason)."""
    fn, args = c.start
    try:
        r = fn(*args, *c.extra) if c.extra else fn(*args)
    except vm.Exit as e:
        return ("error", ("EXIT", e.reason))
    except Exception as e:
        return ("error", ("EXIT", vm.Crash.from_exception(e)))
    if type(r) is tuple:
        n = len(r)
        if n >= 2 and r[0] == "ok" and type(r[1]) is vm.Pid and n in (2, 3):
            return r
        if n == 2 and r[0] == "error":
            return r
    elif r == "ignore":
        return ("ok", None)
    return ("error", r)


def start_children(st, children, level):
    """Start static children in order, saving each; None, or the failure term
    ("failed_to_start_child", id, reason)."""
    for c in children:
        if c.id not in st.children:
            save_child(st, c)
        r = start_process(c)
        if r[0] == "ok":
            set_pid(st, c, r[1])
            if r[1] is not None:
                progress(st, c, level)
            elif c.restart == "temporary":
                remove_child(st, c.id)
        else:
            report(st, "start_error", r[1], c)
            return ("failed_to_start_child", c.id, r[1])
    return None


# ----------------------------------------------------------------------
# a child exited: restart it or not


def child_exited(st, pid, reason):
    """Handle a child's ("EXIT", pid, reason); "shutdown" when the supervisor gives
    up. EXITs from processes that are not children are ignored, as in OTP."""
    if st.dynamics is not None:
        c = st.dynamics.pop(pid, None)
    else:
        cid = st.by_pid.get(pid)
        c = None if cid is None else st.children[cid]
    if c is None:
        return None
    if c.restart == "permanent" or (c.restart == "transient" and not is_quiet(reason)):
        report(st, "child_terminated", reason, c, pid)
        return restart(st, c, pid)
    if not is_quiet(reason):
        report(st, "child_terminated", reason, c, pid)
    del_child(st, c)
    return auto_shutdown(st, c)


def auto_shutdown(st, c):
    """OTP 24's auto_shutdown after significant child `c` ended for good."""
    mode = st.auto_shutdown
    if mode == "never" or not c.significant:
        return None
    if mode == "any_significant":
        return "shutdown"
    if any(o.significant and o.running for o in st.children.values()):
        return None
    return "shutdown"


def add_restart(st) -> bool:
    """OTP's intensity rule; True while within bounds."""
    now = vm.monotonic()
    restarts = st.restarts
    threshold = now - st.period
    while restarts and restarts[0] < threshold:
        restarts.pop(0)
    restarts.append(now)
    return len(restarts) <= st.intensity


def restart(st, c, old_pid):
    """Restart child `c` (not running) by the strategy; "shutdown" when giving up."""
    if not add_restart(st):
        report(st, "shutdown", "reached_max_restart_intensity", c, old_pid)
        del_child(st, c)
        return "shutdown"
    if st.dynamics is not None or st.strategy == "one_for_one":
        r = start_process(c)
        if r[0] == "ok":
            if r[1] is None:
                del_child(st, c)  # ignore: a dynamic or temporary child is gone
                return None
            set_pid(st, c, r[1])
            if st.dynamics is None or st.elixir:
                progress(st, c, "info")
            return None
        report(st, "start_error", r[1], c, old_pid)
        _retry_later(st, c, old_pid)
        return None
    # one_for_all / rest_for_one: terminate the others (newest first), restart in order
    affected = list(st.ids) if st.strategy == "one_for_all" else \
        st.ids[:st.ids.index(c.id) + 1]
    del_child(st, c)  # a temporary child that crashed is gone; others wait with pid None
    for cid in affected:
        stop_child(st, cid)
    failure = start_children(st, [st.children[cid] for cid in reversed(affected)
                                  if cid in st.children], "info")
    if failure is not None:
        failed = st.children.get(failure[1])
        if failed is not None:
            _retry_later(st, failed, None)
    return None


def _retry_later(st, c, old_pid):
    """A restart failed: mark the child restarting and retry through the mailbox,
    so that other requests (a terminate_child, the parent's shutdown) get in
    between. Each retry counts as a restart."""
    if st.dynamics is not None:
        key = ("restarting", old_pid)
        c.pid = key
        st.dynamics[key] = c
    else:
        set_pid(st, c, RESTARTING)
        key = c.id
    gen_server.cast(vm.self(), (TRY_AGAIN, key))


def retry_restart(st, key):
    """The retry of a failed restart (`key` from _retry_later); "shutdown" when
    giving up. A child no longer waiting (terminated meanwhile) is left alone."""
    if st.dynamics is not None:
        c = st.dynamics.pop(key, None) if type(key) is tuple and _hashable(key) else None
        return None if c is None else restart(st, c, key[1])
    c = st.children.get(key) if _hashable(key) else None
    if c is None or c.pid != RESTARTING:
        return None
    return restart(st, c, None)


# ----------------------------------------------------------------------
# terminating children


def stop_child(st, cid):
    """Terminate static child `cid` if running; a temporary one's spec goes, the
    others keep theirs."""
    c = st.children.get(cid)
    if c is None:
        return
    if c.running:
        pid = c.pid
        set_pid(st, c, None)
        terminate_child_process(st, c, pid)
    del_child(st, c)


def terminate_child_process(st, c, pid):
    """OTP's shutdown protocol for one child, with a report if it ended badly."""
    err = shutdown_child(pid, c.shutdown, c.restart == "permanent")
    if err is not None:
        report(st, "shutdown_error", err, c, pid)


def terminate_all(st):
    """The supervisor is stopping: static children one by one, newest first;
    dynamic ones all at once."""
    if st.dynamics is None:
        for cid in list(st.ids):
            stop_child(st, cid)
        return
    kids = [(k, c) for k, c in st.dynamics.items() if type(k) is vm.Pid]
    st.dynamics.clear()
    errors = shutdown_children_at_once(kids)
    if not errors:
        return
    if st.elixir:  # Elixir reports each child
        for pid, reason in errors:
            report(st, "shutdown_error", reason, dict(kids)[pid], pid)
    else:  # OTP reports once, with the count
        report(st, "shutdown_error", errors[0][1], template(st), None,
               nb_children=len(errors))


def shutdown_child(pid, shutdown, permanent):
    """OTP's shutdown protocol for one child; None if it ended as asked, else the
    unexpected exit reason.

    Through a monitor, not the child's EXIT (a child that unlinked itself cannot
    hang its supervisor): `brutal_kill` sends kill; seconds T send shutdown and
    wait T for the DOWN, then kill; None waits forever. Then the link goes and
    any EXIT is flushed.
    """
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


def shutdown_children_at_once(children):
    """Terminate many children at once, each with its own shutdown time: `children`
    is [(pid, Child)]; returns [(pid, reason)] for those that ended with an
    unexpected reason."""
    if not children:
        return []
    now = vm.monotonic()
    waiting = {}  # monitor ref -> (pid, child, deadline or None)
    for pid, c in children:
        ref = vm.monitor(pid)
        if c.shutdown == "brutal_kill":
            vm.exit(pid, "kill")
            waiting[ref] = (pid, c, None)
        else:
            vm.exit(pid, SHUTDOWN)
            waiting[ref] = (pid, c, None if c.shutdown is None else now + c.shutdown)
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
        expected = "killed" if c.shutdown == "brutal_kill" else "shutdown"
        if reason != expected and not (c.restart != "permanent" and is_quiet(reason)):
            errors.append((pid, reason))
    return errors


# ----------------------------------------------------------------------
# reports


def _offender(c, pid, nb_children=None):
    off = {"pid": pid, "id": c.id, "mfargs": c.start, "restart_type": c.restart,
           "significant": c.significant, "shutdown": c.shutdown, "child_type": c.type}
    if nb_children is not None:
        off = {"nb_children": nb_children, **{k: v for k, v in off.items() if k != "pid"}}
    return off


def report(st, context, reason, c, pid=None, nb_children=None):
    """A SUPERVISOR REPORT (errorContext start_error, child_terminated,
    shutdown_error or shutdown) at error level."""
    if not allows(logging.ERROR):
        return
    if pid is None and c.running:
        pid = c.pid
    log_report(logging.ERROR, {"label": "supervisor_report", "supervisor": st.name,
                               "errorContext": context, "reason": reason,
                               "offender": _offender(c, pid, nb_children)})


def progress(st, c, level):
    """A PROGRESS REPORT for a started child ("info"; "debug" for start_child)."""
    lvl = logging.INFO if level == "info" else logging.DEBUG
    if not allows(lvl):
        return
    log_report(lvl, {"label": "progress", "supervisor": st.name,
                     "started": _offender(c, c.pid)})
