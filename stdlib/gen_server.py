"""gen_server: the generic server (reference §3).

The generic part owns the loop: it receives, decodes, dispatches to the
callback class, replies, and terminates. The callback class owns the domain.

    client call                          server callback it triggers
    ------------------------------------------------------------------------
    start / start_link / start_monitor   init(arg)
    call(server, request)                handle_call(request, from_, state)
    send_request(server, request)        handle_call(request, from_, state), the
                                         reply collected later (gen.py)
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
after a timeout is dropped. `send_request` and its companions
(`wait_response`, `receive_response`, `check_response`, the `reqids_*`
collections) are gen's, re-exported here as OTP does; `multi_call` uses them.

What it refuses: supervision (supervisor.py), state machines
(gen_statem.py), and the system-message protocol's details (otp_sys.py).
"""

from __future__ import annotations

import logging

import vm
from vm.lowlevel import call_reply, call_request

from . import _behaviour, gen, otp_sys, proc_lib
from ._behaviour import try_callback
from .gen import (  # noqa: F401 - gen's, exported via gen.REQUEST_FUNCTIONS, as in OTP
    check_response,
    receive_response,
    reqids_add,
    reqids_new,
    reqids_size,
    reqids_to_list,
    wait_response,
)
from .logger import allows, log_report

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
    *gen.REQUEST_FUNCTIONS,
]

ANY = vm.ANY
TIMEOUT = vm.TIMEOUT
GEN_CALL = gen.GEN_CALL
GEN_CAST = gen.GEN_CAST
SYSTEM = gen.SYSTEM
EXIT = vm.Atom("EXIT")
OK = _behaviour.OK  # also try_callback's "it returned" (compared with `is`)
TIMEOUT_MSG = vm.Atom("timeout")
DEFAULT_CALL_TIMEOUT = 5.0
_DEFAULT = gen.DEFAULT  # "no timeout passed" (OTP's call/2 versus call/3)
_NUMBERS = (int, float)


class GenServer(_behaviour.Callbacks):
    """Base class of gen_server callback classes. Override what you need.

    `init` is required; `handle_call` and `handle_cast` crash the server when
    a request arrives that the class does not handle (OTP: `undef`);
    `handle_info` logs and drops an unexpected message, as OTP's default does.
    `Cls.start(arg, **opts)`, `Cls.start_link(arg, **opts)` and
    `Cls.child_spec(arg)` are the Elixir-style conveniences.
    """

    _behaviour = __name__  # the module these conveniences call

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
        _behaviour.undefined_handle_info(type(self).__qualname__, msg)
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


# ----------------------------------------------------------------------
# starting


def _start(link, monitor, cls, arg, name, timeout, spawn_opts, debug, hibernate_after):
    what = "gen_server." + _behaviour.start_kind(link, monitor)
    _behaviour.check_callback_class(cls, GenServer, what)
    _behaviour.check_start_options(what, debug, hibernate_after)
    return _behaviour.start(_init_it, (cls, arg, vm.self(), link, debug, hibernate_after),
                            link=link, monitor=monitor, name=name, timeout=timeout,
                            spawn_opts=spawn_opts)


start, start_link, start_monitor = _behaviour.start_functions(__name__, "a server", _start)


def _init_it(name, cls, arg, starter, linked, debug, hibernate_after):
    """Runs in the new process (under proc_lib and gen's name registration)."""
    me = vm.self()
    parent = starter if linked else me  # OTP: a server started unlinked is its own parent
    vm.put("$initial_call", (cls.__module__, cls.__qualname__ + ".init", 1))
    server = _Server(cls, name, parent, otp_sys.debug_options(debug), hibernate_after)
    kind, r = try_callback(_new_and_init, server, cls, arg)
    if kind is not OK:
        _init_failed(name, starter, ("error", r), r)
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


def _new_and_init(server, cls, arg):
    server.mod = mod = cls()
    return mod.init(arg)


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

    The process must have been started by proc_lib (its parent is its first
    ancestor, as OTP's); if `name` is given it must be registered to the
    caller already (OTP: `process_not_registered`).
    """
    _behaviour.check_callback_class(cls, GenServer, "gen_server.enter_loop")
    _behaviour.check_start_options("gen_server.enter_loop", debug, hibernate_after)
    if not _valid_action(action):
        raise vm.BadArg(f"enter_loop: action must be seconds, 'hibernate', ('continue', c) "
                        f"or None, not {action!r}")
    parent = _behaviour.enter_loop_parent(name)
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
    return gen.stop(server, reason, timeout)


def send_request(server, request, label=None, reqids=None):
    """Send a call without waiting: returns a request id for `wait_response`,
    `receive_response` or `check_response` (or, with `reqids`, a new collection
    holding it under `label`). See gen.py's asynchronous requests."""
    return gen.send_request(server, GEN_CALL, request, label, reqids)


def multi_call(name, request, timeout=None, nodes=None):
    """Call the server registered as `name` on each node (this one by default; other
    nodes over the distribution) at once, waiting at most `timeout` seconds in
    all; returns `([(node, reply), ...], [bad_node, ...])`. A late reply is
    dropped."""
    here = vm.node_name()
    nodes = [here] if nodes is None else list(nodes)
    if not isinstance(name, str):
        raise vm.BadArg(f"multi_call: name must be a registered name (a str), not {name!r}")
    reqids = gen.reqids_new()
    for node in nodes:
        reqids = gen.send_request((name, node), GEN_CALL, request, vm.Atom(node), reqids)
    timeout = gen.timeout_value(timeout)
    deadline = None if timeout is None else ("abs", vm.monotonic() + timeout)
    replies, bad = [], []
    while reqids:
        r = gen.receive_response(reqids, deadline, delete=True)
        if r == "timeout":  # every request left was abandoned: their nodes are bad
            bad.extend(label for _ref, label in gen.reqids_to_list(reqids))
            break
        (kind, value), node, reqids = r
        if kind == "reply":
            replies.append((node, value))
        else:
            bad.append(node)
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
    """One running server: its callback instance and the loop's context.

    `state`, `last_msg` and `from_` are kept here only when the loop leaves
    (hibernation, a system message, termination); inside the loop the state
    is a local variable.
    """

    system_module = "gen_server"
    __slots__ = ("cls", "mod", "name", "parent", "state", "debug", "hib_after", "last_msg",
                 "from_")

    def __init__(self, cls, name, parent, debug, hib_after):
        self.cls = cls
        self.mod = None
        self.name = name
        self.parent = parent
        self.state = None
        self.debug = debug
        self.hib_after = hib_after
        self.last_msg = self.from_ = None

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
                kind, r = try_callback(mod.handle_continue, c, state)
                state, action = self.handle_common_reply(kind, r, state, c, None)
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
                    kind, r = try_callback(handle_call, msg[2], from_, state)
                    if kind is OK and type(r) is tuple and (len(r) == 3 or len(r) == 4) \
                            and r[0] == "reply":
                        if type(from_[1]) is Ref and from_[1].node == node_name:
                            call_reply(from_[1], r[1])
                        else:  # a call from another node
                            gen.reply(from_, r[1])
                        state = r[2]
                        if len(r) == 4:
                            action = r[3]
                            if not _valid_action(action):
                                self.terminate(_behaviour.EXIT, ("bad_return_value", r), state,
                                               msg, from_)
                        if debug is not None:
                            debug.event(_print_event, self.name or vm.self(),
                                        ("out", r[1], from_, state))
                        continue
                    state, action = self.handle_call_reply(kind, r, state, msg, from_)
                    continue
                if tag == GEN_CAST and n == 2:
                    if self.debug is not None:
                        self.debug.event(_print_event, self.name or vm.self(), ("in", msg))
                    kind, r = try_callback(handle_cast, msg[1], state)
                    state, action = self.handle_common_reply(kind, r, state, msg, None)
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
                    self.terminate(_behaviour.EXIT, msg[2], state, msg, None)
            if self.debug is not None:
                self.debug.event(_print_event, self.name or vm.self(), ("in", msg))
            kind, r = try_callback(handle_info, msg, state)
            state, action = self.handle_common_reply(kind, r, state, msg, None)

    # --- return values (OTP's handle_msg and handle_common_reply)

    def handle_common_reply(self, kind, r, state, msg, from_):
        """What a callback's outcome means: `(state, action)` to go on, or terminate."""
        if kind is not OK:
            self.terminate(kind, r, state, msg, from_)
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
                self.terminate(_behaviour.EXIT, r[1], r[2], msg, from_)
        self.terminate(_behaviour.EXIT, ("bad_return_value", r), state, msg, from_)

    def handle_call_reply(self, kind, r, state, msg, from_):
        """The handle_call outcomes other than a plain reply (handled in the loop)."""
        if kind is OK and type(r) is tuple and r:
            tag = r[0]
            n = len(r)
            if tag == "stop" and n == 4:
                try:
                    self.terminate(_behaviour.EXIT, r[1], r[3], msg, from_)
                except vm.Exit:
                    gen.reply(from_, r[2])  # OTP replies after terminate has run
                    raise
            if tag == "reply":
                self.terminate(_behaviour.EXIT, ("bad_return_value", r), state, msg, from_)
        return self.handle_common_reply(kind, r, state, msg, from_)

    # --- termination (the hooks of _behaviour.terminate)

    def terminate(self, kind, reason, state, last_msg, from_):
        """Run the callback's terminate, report if abnormal, exit with `reason`."""
        self.state, self.last_msg, self.from_ = state, last_msg, from_
        _behaviour.terminate(self, kind, reason)

    def call_terminate(self, reason):
        self.mod.terminate(reason, self.state)

    def error_info(self, kind, reason):
        self.error_report(reason, self.state, self.last_msg, self.from_)

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
        if not allows(logging.ERROR):
            return
        logged = self.debug.events() if self.debug is not None else []
        status = self.format_status({"state": otp_sys.state_term(state), "message": last_msg,
                                     "reason": reason, "log": logged})
        report = {
            "label": "gen_server_terminate",
            "name": self.name if self.name is not None else vm.self(),
            "last_message": status.get("message"),
            "state": status.get("state"),
            "reason": status.get("reason"),
            "log": status.get("log"),
            "client": _behaviour.client_info(from_[0] if type(from_) is tuple else None),
        }
        label = vm.process_info(vm.self(), "label")
        if label is not None:
            report["process_label"] = label
        log_report(logging.ERROR, report)

    # --- otp_sys hooks

    def system_get_state(self):
        return otp_sys.state_term(self.state)

    def system_replace_state(self, fn):
        self.state = otp_sys.replace_state_term(self.state, fn)
        return otp_sys.state_term(self.state)

    def system_get_status(self, sys_state, parent, debug):
        name = self.name if self.name is not None else vm.self()
        logged = debug.events() if debug is not None else []
        status = self.format_status({"state": otp_sys.state_term(self.state), "log": logged})
        return [
            ("header", f"Status for generic server {otp_sys.name_text(name)}"),
            ("data", [("Status", sys_state), ("Parent", parent),
                      ("Logged events", status.get("log", logged))]),
            ("data", [("State", status.get("state"))]),
        ]

    def system_terminate(self, reason, parent, debug):
        self.debug = debug
        self.terminate(_behaviour.EXIT, reason, self.state, None, None)

    def system_code_change(self, module, old_vsn, extra):
        r = self.mod.code_change(old_vsn, self.state, extra)
        if type(r) is tuple and len(r) == 2 and r[0] == "ok":
            self.state = r[1]
            return OK
        return r


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
