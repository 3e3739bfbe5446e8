"""gen_server: the generic server (reference §3).

The generic part owns the loop: it receives, decodes, dispatches to the
callback class, replies, and terminates. The callback class owns the domain.

    client call                          server callback it triggers
    ------------------------------------------------------------------------
    start / start_link / start_monitor   init(arg)
    call(server, request)                handle_call(request, from_, state)
    cast(server, msg)                    handle_cast(msg, state)
    any other message                    handle_info(msg, state)
    action ("continue", c)               handle_continue(c, state)
    stop / a stop return / parent EXIT   terminate(reason, state)
    otp_sys.change_code                  code_change(old_vsn, state, extra)
    otp_sys.get_status / crash report    format_status(status) -> status

A callback class subclasses `GenServer`; it is instantiated once, with no
arguments, inside the server process, and the state travels explicitly from
callback to callback, as in OTP. Return forms are OTP's, as tuples of
strings:

    init           ("ok", state) | ("ok", state, action) | ("stop", reason)
                   | "ignore" | ("error", reason)
    handle_call    ("reply", reply, state[, action]) | ("noreply", state[, action])
                   | ("stop", reason, reply, state) | ("stop", reason, state)
    handle_cast, handle_info, handle_continue
                   ("noreply", state[, action]) | ("stop", reason, state)
    action         seconds (int/float: handle_info("timeout", state) if no
                   message arrives in time; restarted by every message) |
                   "hibernate" | ("continue", c) | None (no action)

How `init` maps onto what `start` returns (OTP 26):

    ("ok", s[, a])   -> ("ok", pid)               the server runs
    ("stop", r)      -> ("error", r)              the process exits r
    "ignore"         -> "ignore"                  exits normal
    ("error", r)     -> ("error", r)              exits normal, silently
    raises e         -> ("error", Crash(e))       exits with it (crash report)
    anything else x  -> ("error", ("bad_return_value", x))

In every failure case the process is dead (its name free, any EXIT from the
link consumed) when `start` returns. A name already taken gives
`("error", ("already_started", pid))`.

When `terminate` is called (exactly as OTP): a callback returned a stop
form; a callback raised (reason `vm.Crash(...)` for an exception, the
reason for `vm.exit(r)`); a callback returned a bad value (reason
`("bad_return_value", x)`); the parent's `("EXIT", parent, r)` arrived,
which happens only if the server traps exits (otherwise the signal kills it
and nothing runs); `otp_sys.terminate`; `stop`. A supervisor's
`brutal_kill` never lets it run. After terminate the process exits with the
same reason. Reasons other than normal, shutdown and ("shutdown", x) are
reported: an ERROR REPORT (label gen_server_terminate: name, last message,
state after format_status, reason, logged sys events, client) and
proc_lib's CRASH REPORT.

`call` failures raise `vm.Exit((reason, ("gen_server", "call", args)))` in
the caller, where args is `(server, request)`, or `(server, request,
timeout)` when a timeout was passed, as OTP's arities. A reply arriving
after a timeout is dropped.

What it refuses: supervision (supervisor.py), state machines
(gen_statem.py), and the system-message protocol's details (otp_sys.py).
"""

from __future__ import annotations

import logging

import vm
from vm.lowlevel import call_reply, call_request

from . import gen, otp_sys, proc_lib
from .reports import is_quiet, log_report

__all__ = [
    "GenServer",
    "abcast",
    "call",
    "cast",
    "enter_loop",
    "multi_call",
    "reply",
    "start",
    "start_link",
    "start_monitor",
    "stop",
]

ANY = vm.ANY
TIMEOUT = vm.TIMEOUT
GEN_CALL = gen.GEN_CALL
GEN_CAST = gen.GEN_CAST
SYSTEM = gen.SYSTEM
EXIT = vm.Atom("EXIT")
OK = vm.Atom("ok")
TIMEOUT_MSG = vm.Atom("timeout")
DEFAULT_CALL_TIMEOUT = 5.0
_DEFAULT = object()  # "no timeout passed" (OTP's call/2 versus call/3)
_NUMBERS = (int, float)

log = logging.getLogger("beamlet.otp")


class GenServer:
    """Base class of gen_server callback classes. Override what you need.

    `init` is required; `handle_call` and `handle_cast` crash the server when
    a request arrives that the class does not handle (OTP: `undef`);
    `handle_info` logs and drops an unexpected message, as OTP's default does.
    """

    def init(self, arg):
        raise NotImplementedError(
            f"{type(self).__qualname__} must define init(self, arg) returning ('ok', state)"
        )

    def handle_call(self, request, from_, state):
        raise NotImplementedError(
            f"{type(self).__qualname__} got call {request!r} but defines no handle_call"
        )

    def handle_cast(self, msg, state):
        raise NotImplementedError(
            f"{type(self).__qualname__} got cast {msg!r} but defines no handle_cast"
        )

    def handle_info(self, msg, state):
        log.warning("** Undefined handle_info in %s\n** Unhandled message: %r",
                    type(self).__qualname__, msg)
        return ("noreply", state)

    def handle_continue(self, cont, state):
        raise NotImplementedError(
            f"{type(self).__qualname__} returned ('continue', {cont!r}) but defines no "
            "handle_continue"
        )

    def terminate(self, reason, state):
        return OK

    def code_change(self, old_vsn, state, extra):
        return ("ok", state)

    def format_status(self, status: dict) -> dict:
        return status

    # --- conveniences (Elixir style): Counter.start_link(0, name="c")

    @classmethod
    def start(cls, arg=None, **opts):
        return start(cls, arg, **opts)

    @classmethod
    def start_link(cls, arg=None, **opts):
        return start_link(cls, arg, **opts)

    @classmethod
    def child_spec(cls, arg=None) -> dict:
        """The child spec a supervisor uses for the shorthand `(cls, arg)`.

        Override it (calling super) to change restart, shutdown, id, ...
        """
        return {"id": cls, "start": (cls.start_link, (arg,)), "restart": "permanent",
                "type": "worker", "modules": [cls]}


# ----------------------------------------------------------------------
# starting


def _check_class(cls, what):
    if isinstance(cls, type) and issubclass(cls, GenServer):
        return cls
    if isinstance(cls, GenServer):
        raise vm.BadArg(f"{what} takes the callback class, not an instance: pass "
                        f"{type(cls).__qualname__}, it is instantiated inside the server")
    raise vm.BadArg(f"{what}: {cls!r} is not a GenServer subclass; define "
                    "`class MyServer(gen_server.GenServer)` with init/handle_call/...")


def _check_opts(what, debug, hibernate_after):
    dbg = otp_sys.debug_options(debug)  # raises on bad options, in the caller
    if hibernate_after is not None and (type(hibernate_after) is bool or
                                        not isinstance(hibernate_after, _NUMBERS)
                                        or hibernate_after < 0):
        raise vm.BadArg(f"{what}: hibernate_after must be seconds >= 0 or None, "
                        f"not {hibernate_after!r}")
    return dbg is not None


def start(cls, arg=None, *, name=None, timeout=None, spawn_opts=None, debug=None,
          hibernate_after=None):
    """Start a server, not linked; returns ("ok", pid), ("error", r) or "ignore"."""
    _check_class(cls, "gen_server.start")
    _check_opts("gen_server.start", debug, hibernate_after)
    return gen.start(_init_it, False, name, (cls, arg, vm.self(), False, debug, hibernate_after),
                     timeout=timeout, spawn_opts=spawn_opts)


def start_link(cls, arg=None, *, name=None, timeout=None, spawn_opts=None, debug=None,
               hibernate_after=None):
    """Start a server linked to the caller (its parent)."""
    _check_class(cls, "gen_server.start_link")
    _check_opts("gen_server.start_link", debug, hibernate_after)
    return gen.start(_init_it, True, name, (cls, arg, vm.self(), True, debug, hibernate_after),
                     timeout=timeout, spawn_opts=spawn_opts)


def start_monitor(cls, arg=None, *, name=None, timeout=None, spawn_opts=None, debug=None,
                  hibernate_after=None):
    """Start a server monitored by the caller; returns ("ok", (pid, ref)) or as start."""
    _check_class(cls, "gen_server.start_monitor")
    _check_opts("gen_server.start_monitor", debug, hibernate_after)
    r = gen.start(_init_it, False, name, (cls, arg, vm.self(), False, debug, hibernate_after),
                  timeout=timeout, spawn_opts=spawn_opts, monitor=True)
    return monitor_result(r)


def monitor_result(r):
    """Shape gen.start(..., monitor=True)'s answer as OTP's start_monitor does."""
    if type(r) is tuple and len(r) == 2 and isinstance(r[1], vm.Ref):
        res, ref = r
        if type(res) is tuple and len(res) == 2 and res[0] == "ok":
            return ("ok", (res[1], ref))
        vm.demonitor(ref, flush=True)  # the process is gone (or going); forget it
        return res
    return r  # refused before any process was spawned (already_started)


def _init_it(name, cls, arg, starter, linked, debug, hibernate_after):
    """Runs in the new process (under proc_lib and gen's name registration)."""
    me = vm.self()
    parent = starter if linked else me  # OTP: a server started unlinked is its own parent
    vm.put("$initial_call", (cls.__module__, cls.__qualname__ + ".init", 1))
    server = _Server(cls, name, parent, otp_sys.debug_options(debug), hibernate_after)
    try:
        server.mod = mod = cls()
        r = mod.init(arg)
    except vm.Exit as e:
        _init_failed(name, starter, ("error", e.reason), e.reason)
    except Exception as e:
        crash = vm.Crash.from_exception(e)
        _init_failed(name, starter, ("error", crash), crash)
    if type(r) is tuple:
        n = len(r)
        tag = r[0] if n else None
        if tag == "ok" and (n == 2 or n == 3):
            action = r[2] if n == 3 else None
            if n == 3 and not _valid_action(action):
                bad = ("bad_return_value", r)
                _init_failed(name, starter, ("error", bad), bad)
            proc_lib.init_ack(("ok", me), starter)
            server.loop(r[1], action)
            return
        if tag == "stop" and n == 2:
            _init_failed(name, starter, ("error", r[1]), r[1])
        if tag == "error" and n == 2:
            _init_failed(name, starter, ("error", r[1]), "normal")
    elif r == "ignore":
        _init_failed(name, starter, "ignore", "normal")
    bad = ("bad_return_value", r)
    _init_failed(name, starter, ("error", bad), bad)


def _init_failed(name, starter, ret, reason):
    if name is not None and not isinstance(name, str):
        gen.unregister_name(name)  # a via registry does not see the death
    proc_lib.init_fail(ret, reason, starter)


def _valid_action(a):
    if a is None or a == "hibernate":
        return True
    t = type(a)
    if t is int or t is float:
        return a >= 0
    return t is tuple and len(a) == 2 and a[0] == "continue"


def enter_loop(cls, state, *, name=None, action=None, debug=None, hibernate_after=None):
    """Turn the calling process into a gen_server with callback class `cls` and
    `state`; never returns.

    The process must have been started by proc_lib (its parent is its
    starter, or itself if it was not linked); if `name` is given it must be
    registered to the caller already (OTP: `process_not_registered`).
    """
    _check_class(cls, "gen_server.enter_loop")
    _check_opts("gen_server.enter_loop", debug, hibernate_after)
    if not _valid_action(action):
        raise vm.BadArg(f"enter_loop: action must be seconds, 'hibernate', ('continue', c) "
                        f"or None, not {action!r}")
    me = vm.self()
    ancestors = vm.get("$ancestors")
    if ancestors is None:
        vm.exit("process_was_not_started_by_proc_lib")
    if name is not None and gen.whereis(name) != me:
        vm.exit("process_not_registered")
    parent = ancestors[0] if ancestors else me  # OTP's gen:get_parent: the first ancestor
    if isinstance(parent, str):
        parent = vm.whereis(parent) or me
    server = _Server(cls, name, parent, otp_sys.debug_options(debug), hibernate_after)
    server.mod = cls()
    server.loop(state, action)


# ----------------------------------------------------------------------
# client API


def call(server, request, timeout=_DEFAULT):
    """Send a request and wait for the reply (default 5 s; None waits forever)."""
    if timeout is _DEFAULT:
        if type(server) is vm.Pid:  # the hot path: straight to the VM's call step
            ok, answer = call_request(server, GEN_CALL, request, DEFAULT_CALL_TIMEOUT)
            if ok:
                return answer
            if answer == "noproc" and gen.is_remote(server):  # a pid of another node
                return gen.call(server, GEN_CALL, request, DEFAULT_CALL_TIMEOUT,
                                ("gen_server", "call", (server, request)))
            raise vm.Exit((answer, ("gen_server", "call", (server, request))))
        return gen.call(server, GEN_CALL, request, DEFAULT_CALL_TIMEOUT,
                        ("gen_server", "call", (server, request)))
    return gen.call(server, GEN_CALL, request, timeout,
                    ("gen_server", "call", (server, request, timeout)))


def cast(server, msg):
    """Send a message for handle_cast; always "ok", even if no server is there."""
    gen.send_nofail(server, (GEN_CAST, msg))
    return OK


def reply(from_, message):
    """Reply to a call whose handle_call returned noreply (from any callback, later)."""
    return gen.reply(from_, message)


def stop(server, reason="normal", timeout=None):
    """Stop a server and wait for it: "ok", or raises vm.Exit("noproc" | "timeout" |
    the reason it exited with, when that differs)."""
    pid = gen.whereis(server)
    if pid is None:
        raise vm.Exit("noproc")
    try:
        return proc_lib.stop(pid, reason, timeout)
    except vm.Exit as e:
        r = e.reason
        if type(r) is tuple and len(r) == 2 and r[0] in ("noproc", "timeout"):
            raise vm.Exit(r[0]) from None  # OTP's gen_server:stop exits with the bare atom
        raise


def multi_call(name, request, timeout=None, nodes=None):
    """Call the server registered as `name` on each node (this one by default; other
    nodes over the distribution); returns `([(node, reply), ...], [bad_node, ...])`."""
    here = vm.node_name()
    nodes = [here] if nodes is None else list(nodes)
    replies, bad = [], []
    for node in nodes:
        if not isinstance(name, str) or not isinstance(node, str):
            bad.append(node)
            continue
        server = name if node == here else (name, node)
        try:
            replies.append((vm.Atom(node), gen.call(server, GEN_CALL, request, timeout,
                                                    ("gen_server", "multi_call", (name,)))))
        except vm.Exit:
            bad.append(vm.Atom(node))
    return (replies, bad)


def abcast(name, msg, nodes=None):
    """Cast to the server registered as `name` on each node; returns "abcast"."""
    here = vm.node_name()
    for node in ([here] if nodes is None else nodes):
        gen.send_nofail((name, node), (GEN_CAST, msg))
    return vm.Atom("abcast")


# ----------------------------------------------------------------------
# the server loop


class _Server(otp_sys.SystemHooks):
    """One running server: its callback instance and the loop's context."""

    system_module = "gen_server"
    __slots__ = ("cls", "mod", "name", "parent", "state", "debug", "hib_after")

    def __init__(self, cls, name, parent, debug, hib_after):
        self.cls = cls
        self.mod = None
        self.name = name
        self.parent = parent
        self.state = None
        self.debug = debug
        self.hib_after = hib_after

    def _wake(self):
        """Where a hibernated server resumes: a fresh stack, the same loop."""
        self.loop(self.state, None)

    def loop(self, state, action):
        mod = self.mod
        handle_call = mod.handle_call
        handle_cast = mod.handle_cast
        handle_info = mod.handle_info
        node_name = vm.node_name()  # a reply tag of this node is a plain alias Ref
        Ref = vm.Ref
        parent = self.parent
        recv = vm.receive
        while True:
            # --- wait for the next message, as the last action says
            if action is None:
                if self.hib_after is None:
                    msg = recv()
                else:
                    msg = recv(timeout=self.hib_after)
                    if msg is TIMEOUT:
                        self.state = state
                        proc_lib.hibernate(self._wake)
            elif type(action) in _NUMBERS:
                msg = recv(timeout=action)
                if msg is TIMEOUT:
                    msg = TIMEOUT_MSG
            elif action == "hibernate":
                self.state = state
                proc_lib.hibernate(self._wake)
            else:  # ("continue", c): runs before any message is taken
                c = action[1]
                try:
                    r = mod.handle_continue(c, state)
                except vm.Exit as e:
                    self.terminate(e.reason, state, c, None)
                except Exception as e:
                    self.terminate(vm.Crash.from_exception(e), state, c, None)
                state, action = self.noreply_result(r, state, c, None)
                continue
            waited, action = action, None
            # --- decode and dispatch
            if type(msg) is tuple:
                n = len(msg)
                tag = msg[0] if n else None
                if tag == GEN_CALL and n == 3:
                    from_ = msg[1]
                    debug = self.debug
                    if debug is not None:
                        debug.event(_print_event, self.name or vm.self(), ("in", msg))
                    try:
                        r = handle_call(msg[2], from_, state)
                    except vm.Exit as e:
                        self.terminate(e.reason, state, msg, from_)
                    except Exception as e:
                        self.terminate(vm.Crash.from_exception(e), state, msg, from_)
                    if type(r) is tuple and (len(r) == 3 or len(r) == 4) and r[0] == "reply":
                        if type(from_[1]) is Ref and from_[1].node == node_name:
                            call_reply(from_[1], r[1])
                        else:  # a call from another node
                            gen.reply(from_, r[1])
                        state = r[2]
                        if len(r) == 4:
                            action = r[3]
                            if not _valid_action(action):
                                self.terminate(("bad_return_value", r), state, msg, from_)
                        if debug is not None:
                            debug.event(_print_event, self.name or vm.self(),
                                        ("out", r[1], from_, state))
                        continue
                    state, action = self.call_result(r, state, msg, from_)
                    continue
                if tag == GEN_CAST and n == 2:
                    if self.debug is not None:
                        self.debug.event(_print_event, self.name or vm.self(), ("in", msg))
                    try:
                        r = handle_cast(msg[1], state)
                    except vm.Exit as e:
                        self.terminate(e.reason, state, msg, None)
                    except Exception as e:
                        self.terminate(vm.Crash.from_exception(e), state, msg, None)
                    state, action = self.noreply_result(r, state, msg, None)
                    continue
                if tag == SYSTEM and n == 3:
                    self.state = state
                    self.debug = otp_sys.handle_system_msg(msg[2], msg[1], parent, self,
                                                           self.debug)
                    state = self.state
                    action = waited  # OTP: a timeout starts over after a system message
                    continue
                if tag == EXIT and n == 3 and msg[1] == parent:
                    # Only a trapping server sees its parent's EXIT; it terminates.
                    self.terminate(msg[2], state, msg, None)
            if self.debug is not None:
                self.debug.event(_print_event, self.name or vm.self(), ("in", msg))
            try:
                r = handle_info(msg, state)
            except vm.Exit as e:
                self.terminate(e.reason, state, msg, None)
            except Exception as e:
                self.terminate(vm.Crash.from_exception(e), state, msg, None)
            state, action = self.noreply_result(r, state, msg, None)

    # --- return values

    def noreply_result(self, r, state, msg, from_):
        """Interpret a handle_cast/info/continue result: (state, action) or terminate."""
        if type(r) is tuple and r:
            tag = r[0]
            n = len(r)
            if tag == "noreply" and (n == 2 or n == 3):
                action = r[2] if n == 3 else None
                if n == 2 or _valid_action(action):
                    if self.debug is not None:
                        self.debug.event(_print_event, self.name or vm.self(),
                                         ("noreply", r[1]))
                    return r[1], action
            elif tag == "stop" and n == 3:
                self.terminate(r[1], r[2], msg, from_)
        self.terminate(("bad_return_value", r), state, msg, from_)

    def call_result(self, r, state, msg, from_):
        """The rarer handle_call results (reply was handled inline)."""
        if type(r) is tuple and r:
            tag = r[0]
            n = len(r)
            if tag == "stop" and n == 4:
                try:
                    self.terminate(r[1], r[3], msg, from_)
                except vm.Exit:
                    gen.reply(from_, r[2])  # OTP replies after terminate has run
                    raise
            if tag == "reply":
                self.terminate(("bad_return_value", r), state, msg, from_)
        return self.noreply_result(r, state, msg, from_)

    # --- termination

    def terminate(self, reason, state, last_msg, from_):
        """Run the callback's terminate, report if abnormal, exit with `reason`."""
        mod = self.mod
        try:
            mod.terminate(reason, state)
        except vm.Exit as e:
            self.error_report(e.reason, state, last_msg, from_)
            raise vm.Exit(e.reason) from None
        except Exception as e:
            crash = vm.Crash.from_exception(e)
            self.error_report(crash, state, last_msg, from_)
            raise vm.Exit(crash) from None
        if not is_quiet(reason):
            self.error_report(reason, state, last_msg, from_)
        raise vm.Exit(reason)

    def format_status(self, status):
        """Apply the callback's format_status to a status dict (state, message, reason, log)."""
        fs = getattr(type(self.mod), "format_status", None)
        if fs is None or fs is GenServer.format_status:
            return status
        try:
            out = self.mod.format_status(dict(status))
        except Exception as e:  # a crashing format_status must not hide the report
            return {**status, "state": ("format_status_crashed", vm.Crash.from_exception(e))}
        if isinstance(out, dict):
            return {**status, **out}
        return status

    def error_report(self, reason, state, last_msg, from_):
        if not log.isEnabledFor(logging.ERROR):
            return
        logged = self.debug.events() if self.debug is not None else []
        status = self.format_status({"state": state, "message": last_msg, "reason": reason,
                                     "log": logged})
        report = {
            "label": "gen_server_terminate",
            "name": self.name if self.name is not None else vm.self(),
            "last_message": status.get("message"),
            "state": status.get("state"),
            "reason": status.get("reason"),
            "log": status.get("log"),
            "client": _client_info(from_),
        }
        label = vm.process_info(vm.self(), "label")
        if label is not None:
            report["process_label"] = label
        log_report(logging.ERROR, report)

    # --- otp_sys hooks

    def system_get_state(self):
        return self.state

    def system_replace_state(self, fn):
        new = fn(self.state)
        self.state = new
        return new

    def system_get_status(self, sys_state, parent, debug):
        name = self.name if self.name is not None else vm.self()
        logged = debug.events() if debug is not None else []
        status = self.format_status({"state": self.state, "log": logged})
        return [
            ("header", f"Status for generic server {otp_sys.name_text(name)}"),
            ("data", [("Status", sys_state), ("Parent", parent),
                      ("Logged events", status.get("log", logged))]),
            ("data", [("State", status.get("state"))]),
        ]

    def system_terminate(self, reason, parent, debug):
        self.debug = debug
        self.terminate(reason, self.state, None, None)

    def system_code_change(self, module, old_vsn, extra):
        r = self.mod.code_change(old_vsn, self.state, extra)
        if type(r) is tuple and len(r) == 2 and r[0] == "ok":
            self.state = r[1]
            return OK
        return r


def _client_info(from_):
    """Who was calling when the server died: OTP's client info."""
    if type(from_) is not tuple or len(from_) != 2 or not isinstance(from_[0], vm.Pid):
        return None
    pid = from_[0]
    if pid.node != vm.node_name():
        return (pid, "remote")
    info = vm.process_info(pid, ["registered_name", "current_stacktrace"])
    if info is None:
        return (pid, "dead")
    return (pid, (info.get("registered_name") or pid, info.get("current_stacktrace")))


def _print_event(event, name):
    """How gen_server events read in a trace (OTP's print_event)."""
    who = otp_sys.name_text(name)
    tag = event[0]
    if tag == "in":
        msg = event[1]
        if type(msg) is tuple and len(msg) == 3 and msg[0] == GEN_CALL:
            return f"{who} got call {msg[2]!r} from {msg[1][0]!r}"
        if type(msg) is tuple and len(msg) == 2 and msg[0] == GEN_CAST:
            return f"{who} got cast {msg[1]!r}"
        return f"{who} got {msg!r}"
    if tag == "out":
        to = event[2][0] if type(event[2]) is tuple else event[2]
        return f"{who} sent {event[1]!r} to {to!r}, new state {event[3]!r}"
    if tag == "noreply":
        return f"{who} new state {event[1]!r}"
    return f"{who} dbg  {event!r}"
