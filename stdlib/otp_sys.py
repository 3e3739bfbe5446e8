"""otp_sys: OTP's `sys` module: looking inside a behaviour process, and the
system-message protocol every behaviour loop speaks.

Named `otp_sys` so that `import sys` keeps meaning Python's.

What this module owns:

1. **The client functions.** Each sends `("system", (caller, ref), request)`
   through `gen.call` and waits (default 5 s; `None` waits forever):

   - `get_state(server)`: the behaviour's state (gen_statem: `(state, data)`);
   - `replace_state(server, fn)`: the new state `fn(state)`; a raising `fn`
     leaves it unchanged;
   - `get_status(server)`: `("status", pid, ("module", mod), [pdict,
     "running"/"suspended", parent, debug, misc])`;
   - `suspend(server)` / `resume(server)`: `"ok"`; a suspended process
     handles only system messages;
   - `change_code(server, module, vsn, extra)`: `"ok"` or `("error",
     reason)`; only while suspended;
   - `terminate(server, reason)`: `"ok"` once the process has run its
     terminate and exited;
   - `trace(server, flag)`: `"ok"`; prints `*DBG*` lines to stdout;
   - `log(server, flag)`: `"ok"`, or `("ok", [event, ...])` for `"get"`;
     flag `True`, `(True, n)`, `False`, `"get"`, `"print"`;
   - `statistics(server, flag)`: `"ok"`, or `("ok", {...})` / `("ok",
     "no_statistics")` for `"get"`;
   - `install(server, fn)` / `remove(server, fn)`: `"ok"`: `fn(event, name)`
     runs in the process on each debug event until it returns `"done"`;
   - `no_debug(server)`: `"ok"`: trace, log, statistics and installed
     functions all off.

   A failed request raises `vm.Exit((reason, ("sys", name, args)))` in the
   caller, with OTP's reasons (`"noproc"`, `"timeout"`, the server's exit
   reason); `args` includes the timeout only when one was passed, as OTP's
   arity does. A `replace_state` function that raises gives
   `vm.Exit(("callback_failed", (module, "system_replace_state"), (kind, reason)))`.

2. **`handle_system_msg(request, from_, parent, hooks, debug) -> debug`**,
   the piece a behaviour loop calls when it receives a system message. It
   answers the request and returns the (possibly new) debug object. On
   `suspend` it does not return until a `resume` arrives: meanwhile it
   answers only system messages, and an `("EXIT", parent, reason)` (which a
   trapping process receives) terminates it. A `terminate` request never
   returns either: it calls `hooks.system_terminate`.

3. **The hooks contract** a behaviour implements (subclass `SystemHooks`):

       system_module                     "gen_server", "gen_statem", ... (shown by get_status)
       system_get_state()                -> the state get_state returns
       system_replace_state(fn)          -> apply fn to the state, store and return the result
       system_get_status(sys_state, parent, debug) -> misc: the list get_status shows last
       system_terminate(reason, parent, debug)     -> never returns (run terminate, exit)
       system_code_change(module, old_vsn, extra)  -> "ok" or ("error", reason)

   A state that is an object rather than a term (a supervisor's `State`)
   defines `sys_term()`, the plain term `get_state` and `get_status` show,
   and a classmethod `from_sys_term(term)` that `replace_state` rebuilds it
   with: `state_term(state)` and `replace_state_term(state, fn)` apply that
   at the boundary, so what leaves the process is always a term.

4. **`Debug`, the debug-options object** (OTP's `[Dbg]` list). A behaviour
   keeps `debug` as `None` when nothing is on (the hot path then costs one
   `is None` test) or a `Debug`, to which it reports each event with
   `debug.event(format_fn, name, event)`. `format_fn(event, name) -> str`
   renders an event for `trace` and `log(..., "print")`. Events are OTP's
   tuples: `("in", msg)`, `("out", reply, to, state)`, `("noreply", state)`,
   `("continue", c)`, ... Statistics count `"in"` events as messages in and
   `"out"` events as messages out. `debug_options(["trace", "log",
   ("log", 20), "statistics"])` builds one from a start option.

What it refuses: behaviour semantics. It never decides how a behaviour
terminates or what its state is; the hooks do.
"""

from __future__ import annotations

import sys as _py_sys
from collections import deque

import vm

from . import gen

ANY = vm.ANY
SYSTEM = gen.SYSTEM
OK = vm.Atom("ok")
_DEFAULT = gen.DEFAULT  # "no timeout passed": OTP's arity differs, so do the exit reasons
DEFAULT_TIMEOUT = 5.0
DEFAULT_LOG = 10

__all__ = [
    "Debug",
    "SystemHooks",
    "change_code",
    "debug_options",
    "default_format",
    "get_state",
    "get_status",
    "handle_system_msg",
    "install",
    "log",
    "name_text",
    "no_debug",
    "remove",
    "replace_state",
    "replace_state_term",
    "resume",
    "state_term",
    "statistics",
    "suspend",
    "terminate",
    "trace",
]


# ----------------------------------------------------------------------
# client API


def _send_system_msg(fname, server, request, timeout, extra=()):
    if timeout is _DEFAULT:
        where = ("sys", fname, (server, *extra))
        timeout = DEFAULT_TIMEOUT
    else:
        where = ("sys", fname, (server, *extra, timeout))
    return gen.call(server, SYSTEM, request, timeout, where), where


def get_state(server, timeout=_DEFAULT):
    """The state of a behaviour process (gen_server: its state; gen_statem: (state, data))."""
    reply, where = _send_system_msg("get_state", server, "get_state", timeout)
    return _unwrap(reply, where)


def replace_state(server, fn, timeout=_DEFAULT):
    """Replace the state with `fn(state)`, inside the process; returns the new state."""
    if not callable(fn):
        raise vm.BadArg(f"replace_state needs a function state -> new state, not {fn!r}")
    reply, where = _send_system_msg("replace_state", server, ("replace_state", fn), timeout, (fn,))
    return _unwrap(reply, where)


def get_status(server, timeout=_DEFAULT):
    """`("status", pid, ("module", mod), [pdict, sys_state, parent, debug, misc])`."""
    reply, _ = _send_system_msg("get_status", server, "get_status", timeout)
    return reply


def suspend(server, timeout=_DEFAULT):
    """Suspend: the process answers only system messages until `resume`."""
    reply, _ = _send_system_msg("suspend", server, "suspend", timeout)
    return reply


def resume(server, timeout=_DEFAULT):
    reply, _ = _send_system_msg("resume", server, "resume", timeout)
    return reply


def change_code(server, module, old_vsn, extra, timeout=_DEFAULT):
    """Ask a suspended process to run its code_change; "ok" or ("error", reason)."""
    reply, _ = _send_system_msg("change_code", server, ("change_code", module, old_vsn, extra),
                                timeout, (module, old_vsn, extra))
    return reply


def terminate(server, reason, timeout=None):
    """Terminate the process as its parent would (its terminate callback runs); waits
    until it has exited and returns "ok" (OTP 18+: synchronous)."""
    where = ("sys", "terminate", (server, reason) if timeout is None else (server, reason, timeout))
    pid = gen.whereis(server)
    if pid is None:
        raise vm.Exit(("noproc", where))
    ref = vm.monitor(pid)
    vm.send(pid, (SYSTEM, (vm.self(), ref), ("terminate", reason)))
    msg = vm.receive(("DOWN", ref, ANY, ANY, ANY), timeout=timeout)
    if msg is vm.TIMEOUT:
        vm.demonitor(ref, flush=True)
        raise vm.Exit(("timeout", where))
    if msg[4] == "noproc":
        raise vm.Exit(("noproc", where))
    return OK


def _debug_call(fname, server, request, timeout, flag):
    reply, _ = _send_system_msg(fname, server, ("debug", request), timeout, (flag,))
    return reply


def trace(server, flag, timeout=_DEFAULT):
    """Print every event of the process (`*DBG* ...` lines on stdout) while `flag` is True."""
    if type(flag) is not bool:
        raise vm.BadArg(f"trace(server, flag): flag must be True or False, not {flag!r}")
    return _debug_call("trace", server, ("trace", flag), timeout, flag)


def log(server, flag, timeout=_DEFAULT):
    """Keep the last events: flag True (10 events), (True, n), False, "get" or "print"."""
    if not (type(flag) is bool or flag in ("get", "print") or
            (type(flag) is tuple and len(flag) == 2 and flag[0] is True
             and type(flag[1]) is int and flag[1] > 0)):
        raise vm.BadArg(f"log(server, flag): flag must be True, (True, n), False, 'get' or "
                        f"'print', not {flag!r}")
    reply = _debug_call("log", server, ("log", flag), timeout, flag)
    if flag == "print" and type(reply) is tuple and reply and reply[0] == "ok":
        out = _py_sys.stdout
        for line in reply[1]:
            print(line, file=out)
        return OK
    return reply


def statistics(server, flag, timeout=_DEFAULT):
    """Count messages in/out and reductions: flag True, False or "get"."""
    if not (type(flag) is bool or flag == "get"):
        raise vm.BadArg(
            f"statistics(server, flag): flag must be True, False or 'get', not {flag!r}")
    return _debug_call("statistics", server, ("statistics", flag), timeout, flag)


def install(server, fn, timeout=_DEFAULT):
    """OTP's sys:install/2: call `fn(event, name)` inside the process on each of
    its debug events (the events `trace` prints); `fn` returning "done" (or
    raising) removes it. Returns "ok"."""
    if not callable(fn):
        raise vm.BadArg(f"install(server, fn): fn must be a function (event, name), not {fn!r}")
    return _debug_call("install", server, ("install", fn), timeout, fn)


def remove(server, fn, timeout=_DEFAULT):
    """OTP's sys:remove/2: take an installed debug function out. Returns "ok"."""
    return _debug_call("remove", server, ("remove", fn), timeout, fn)


def no_debug(server, timeout=_DEFAULT):
    """Turn trace, log and statistics off."""
    reply, _ = _send_system_msg("no_debug", server, ("debug", "no_debug"), timeout)
    return reply


def _unwrap(reply, where):
    if type(reply) is tuple and len(reply) == 2:
        if reply[0] == "ok":
            return reply[1]
        if reply[0] == "error":
            raise vm.Exit((reply[1], where))
    return reply  # a process that speaks the protocol loosely: hand back what it said


# ----------------------------------------------------------------------
# debug options


class Debug:
    """The debug state of one behaviour process: trace, log, statistics."""

    __slots__ = ("trace", "log", "stats", "funcs")

    def __init__(self):
        self.trace = False
        self.log = None  # deque of (event, format_fn, name), newest last
        self.stats = None  # dict of counters
        self.funcs = None  # installed debug functions (sys:install), oldest first

    def is_empty(self) -> bool:
        return not self.trace and self.log is None and self.stats is None and not self.funcs

    def event(self, format_fn, name, event):
        """Report one event (called by the behaviour loop)."""
        if self.funcs:
            for fn in list(self.funcs):
                try:
                    keep = fn(event, name) != "done"
                except Exception:  # noqa: BLE001 - OTP removes a failing debug function
                    keep = False
                if not keep:
                    self.funcs.remove(fn)
        if self.trace:
            print("*DBG* " + _render(format_fn, event, name), file=_py_sys.stdout)
        if self.log is not None:
            self.log.append((event, format_fn, name))
        if self.stats is not None and type(event) is tuple and event:
            if event[0] == "in":
                self.stats["messages_in"] += 1
            elif event[0] == "out":
                self.stats["messages_out"] += 1

    def events(self) -> list:
        """The logged events, oldest first."""
        return [e for e, _f, _n in self.log] if self.log is not None else []

    def as_term(self) -> list:
        """What get_status shows for the debug options."""
        out = []
        if self.trace:
            out.append(("trace", True))
        if self.log is not None:
            out.append(("log", (self.log.maxlen, self.events())))
        if self.stats is not None:
            out.append(("statistics", dict(self.stats)))
        return out

    # --- changes requested through sys

    def set_trace(self, flag):
        self.trace = flag

    def set_log(self, n):
        if n is None:
            self.log = None
        else:
            old = self.log or ()
            self.log = deque(old, maxlen=n)

    def set_statistics(self, on):
        if on:
            self.stats = {
                "start_time": vm.monotonic(),
                "reductions0": vm.process_info(vm.self(), "reductions") or 0,
                "messages_in": 0,
                "messages_out": 0,
            }
        else:
            self.stats = None

    def statistics_report(self):
        s = self.stats
        if s is None:
            return ("ok", "no_statistics")
        red = (vm.process_info(vm.self(), "reductions") or 0) - s["reductions0"]
        return ("ok", {
            "start_time": s["start_time"],
            "current_time": vm.monotonic(),
            "reductions": red,
            "messages_in": s["messages_in"],
            "messages_out": s["messages_out"],
        })


def _render(format_fn, event, name):
    try:
        text = format_fn(event, name) if format_fn is not None else None
    except Exception as e:  # a formatter must never crash the process it describes
        text = f"{_name_text(name)} dbg {event!r} (formatter raised {type(e).__name__}: {e})"
    return text if text is not None else f"{_name_text(name)} dbg  {event!r}"


def name_text(name):
    """How a server's name reads in trace lines and status headers: `kv`, `<0.42.0>`."""
    return str(name) if isinstance(name, (str, vm.Pid)) else repr(name)


_name_text = name_text  # the name gen_statem first used


def default_format(event, name):
    """A generic event formatter: `name dbg event`."""
    return f"{_name_text(name)} dbg  {event!r}"


def debug_options(opts):
    """Build a `Debug` (or None) from a start option: a list of "trace", "log",
    ("log", n), "statistics"."""
    if opts is None:
        return None
    if type(opts) not in (list, tuple):
        raise vm.BadArg(f"debug must be a list of 'trace', 'log', ('log', n), 'statistics', "
                        f"not {opts!r}")
    d = Debug()
    for o in opts:
        if o == "trace":
            d.set_trace(True)
        elif o == "log":
            d.set_log(DEFAULT_LOG)
        elif type(o) is tuple and len(o) == 2 and o[0] == "log" and type(o[1]) is int and o[1] > 0:
            d.set_log(o[1])
        elif o == "statistics":
            d.set_statistics(True)
        else:
            raise vm.BadArg(f"unknown debug option {o!r}; use 'trace', 'log', ('log', n) or "
                            "'statistics'")
    return None if d.is_empty() else d


# ----------------------------------------------------------------------
# the system-message protocol (the behaviour side)


class SystemHooks:
    """What a behaviour supplies to `handle_system_msg` (see the module docstring)."""

    system_module = "gen"

    def system_get_state(self):
        raise NotImplementedError

    def system_replace_state(self, fn):
        raise NotImplementedError

    def system_get_status(self, sys_state, parent, debug) -> list:
        return []

    def system_terminate(self, reason, parent, debug):
        raise vm.Exit(reason)

    def system_code_change(self, module, old_vsn, extra):
        return ("error", "code_change_not_supported")


def state_term(state):
    """What sys shows of a behaviour's state: the state itself, or `state.sys_term()`
    for a state object that defines it."""
    to_term = getattr(type(state), "sys_term", None)
    return state if to_term is None else to_term(state)


def replace_state_term(state, fn):
    """The state after a replace_state function `fn`: `fn(state)`, or for a state
    object, `type(state).from_sys_term(fn(state.sys_term()))`."""
    if getattr(type(state), "sys_term", None) is None:
        return fn(state)
    return type(state).from_sys_term(fn(state.sys_term()))


def _reply(from_, value):
    """Reply to a system request; a value that is not a term becomes an error reply."""
    try:
        gen.reply(from_, value)
    except vm.Unsendable as e:
        gen.reply(from_, ("error", ("unsendable", str(e))))


def _failure(e):
    if isinstance(e, vm.Exit):
        return ("exit", e.reason)
    return ("error", vm.Crash.from_exception(e))


def handle_system_msg(request, from_, parent, hooks, debug, suspended=False):
    """Answer one system message; return the debug object (None when all is off).

    Called by a behaviour loop when it receives `("system", from_, request)`.
    Returns once the process may go on running; suspends (answering only
    system messages) on "suspend"; never returns on "terminate".
    """
    sys_state = "suspended" if suspended else "running"
    while True:
        sys_state, debug = _do_cmd(request, from_, parent, hooks, debug, sys_state)
        if sys_state == "running":
            return debug
        # Suspended: only system messages, and the parent's EXIT (when trapping), get in.
        msg = vm.receive((SYSTEM, ANY, ANY), ("EXIT", parent, ANY))
        if msg[0] == "EXIT":
            hooks.system_terminate(msg[2], parent, debug)
            raise vm.VMError("system_terminate returned; it must exit the process")
        request, from_ = msg[2], msg[1]


def _do_cmd(request, from_, parent, hooks, debug, sys_state):
    if request == "suspend":
        _reply(from_, OK)
        return "suspended", debug
    if request == "resume":
        _reply(from_, OK)
        return "running", debug
    if request == "get_state":
        try:
            _reply(from_, ("ok", hooks.system_get_state()))
        except (Exception, vm.Exit) as e:
            _reply(from_, ("error", ("callback_failed", (hooks.system_module, "system_get_state"),
                                     _failure(e))))
        return sys_state, debug
    if request == "get_status":
        misc = hooks.system_get_status(sys_state, parent, debug)
        me = vm.self()
        status = ("status", me, ("module", hooks.system_module),
                  [vm.get(), sys_state, parent, debug.as_term() if debug else [], misc])
        _reply(from_, status)
        return sys_state, debug
    if type(request) is tuple and request:
        tag = request[0]
        if tag == "replace_state" and len(request) == 2:
            try:
                _reply(from_, ("ok", hooks.system_replace_state(request[1])))
            except (Exception, vm.Exit) as e:
                _reply(from_, ("error", ("callback_failed",
                                         (hooks.system_module, "system_replace_state"),
                                         _failure(e))))
            return sys_state, debug
        if tag == "terminate" and len(request) == 2:
            hooks.system_terminate(request[1], parent, debug)
            raise vm.VMError("system_terminate returned; it must exit the process")
        if tag == "debug" and len(request) == 2:
            reply, debug = _debug_cmd(request[1], debug)
            _reply(from_, reply)
            return sys_state, debug
        if tag == "change_code" and len(request) == 4 and sys_state == "suspended":
            try:
                res = hooks.system_code_change(request[1], request[2], request[3])
            except (Exception, vm.Exit) as e:
                res = ("error", ("EXIT", _failure(e)[1]))
            _reply(from_, OK if res == "ok" else res)
            return sys_state, debug
    _reply(from_, ("error", ("unknown_system_msg", request)))
    return sys_state, debug


def _debug_cmd(cmd, debug):
    d = debug if debug is not None else Debug()
    reply = OK
    if cmd == "no_debug":
        return OK, None
    if type(cmd) is tuple and len(cmd) == 2:
        what, flag = cmd
        if what == "trace":
            d.set_trace(bool(flag))
        elif what == "log":
            if flag is True:
                d.set_log(DEFAULT_LOG if d.log is None else d.log.maxlen)
            elif type(flag) is tuple:
                d.set_log(flag[1])
            elif flag is False:
                d.set_log(None)
            elif flag == "get":
                reply = ("ok", d.events())
            elif flag == "print":
                reply = ("ok", ["*DBG* " + _render(f, e, n) for e, f, n in (d.log or ())])
            else:
                reply = ("error", ("unknown_debug", cmd))
        elif what == "install" and callable(flag):
            d.funcs = (d.funcs or []) + [flag]
        elif what == "remove":
            if d.funcs and flag in d.funcs:
                d.funcs.remove(flag)
        elif what == "statistics":
            if flag is True:
                d.set_statistics(True)
            elif flag is False:
                d.set_statistics(False)
            elif flag == "get":
                reply = d.statistics_report()
            else:
                reply = ("error", ("unknown_debug", cmd))
        else:
            reply = ("error", ("unknown_debug", cmd))
    else:
        reply = ("error", ("unknown_debug", cmd))
    return reply, (None if d.is_empty() else d)
