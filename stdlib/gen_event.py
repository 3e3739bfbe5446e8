"""gen_event: event managers and their handlers (OTP's gen_event).

An event manager is a process holding a list of *handlers*. An event sent
to it is handed to every handler in turn; a handler is a callback class
with its own state, added and removed while the manager runs. Logging,
alarms and notifications are the classic uses.

    you call                                   a handler runs
    ------------------------------------------------------------------------
    add_handler(mgr, H, args)                  init(args)
    add_sup_handler(mgr, H, args)              init(args); the handler is tied
                                               to the caller (below)
    notify(mgr, event) / sync_notify           handle_event(event, state), each handler
    call(mgr, H, request)                      handle_call(request, state)
    any other message to the manager           handle_info(msg, state), each handler
    delete_handler(mgr, H, args)               terminate(args, state)
    swap_handler(mgr, (H1, a1), (H2, a2))      H1.terminate(a1, s1), then
                                               H2.init((a2, what it returned))
    stop(mgr) / the manager's parent exits     terminate("stop", state), each handler

A handler is named by its class `H`, or by `(H, id)` when one class is
installed several times. Newest handlers come first (which_handlers and
event order). Return forms, as OTP's:

    init           ("ok", state) | ("ok", state, "hibernate") | anything else:
                   the handler is not added and add_handler returns it
    handle_event, handle_info
                   ("ok", state[, "hibernate"]) | "remove_handler"
                   | ("swap_handler", args1, state, handler2, args2)
    handle_call    ("ok", reply, state[, "hibernate"]) | ("remove_handler", reply)
                   | ("swap_handler", reply, args1, state, handler2, args2)

A handler that raises, exits or returns anything else is removed: its
`terminate(("error", why), state)` runs, where `why` is `("EXIT", reason)`
for a crash (reason a `vm.Crash` for an exception) or the bad value, and an
ERROR REPORT ("gen_event handler ... crashed", label gen_event_terminate)
is logged. The manager itself keeps running: one bad handler never takes
the others down. A call to a crashing handler returns `("error", why)`;
to a handler that is not there, `("error", "bad_module")`.

**Supervised handlers.** `add_sup_handler` links the manager and the
caller. When the handler is removed, the caller gets
`("gen_event_EXIT", handler, reason)`, reason being "normal" (deleted or
removed itself), "shutdown" (the manager stopped), `("swapped", new,
pid)` (swapped out), or the crash reason. When the caller dies, its
handlers are removed (terminate gets `("stop", reason)`).

Manager API: `start`/`start_link`/`start_monitor(name=None, *, timeout,
spawn_opts, debug, hibernate_after)`, `add_handler`, `add_sup_handler`,
`delete_handler`, `swap_handler`, `swap_sup_handler`, `notify`,
`sync_notify`, `call(mgr, handler, request, timeout=5.0)`, `which_handlers`,
`stop(mgr, reason="normal", timeout=None)`, and the asynchronous requests
(`send_request(mgr, handler, request[, label, reqids])` with gen's
`wait_response`/`receive_response`/`check_response`, a handler's error
coming back as `("error", why)`). A manager that is not there makes the
requests exit with "noproc", `notify` to an unknown name raises BadArg
(as OTP's `!` does), to a dead pid does nothing.

`otp_sys.get_state(mgr)` is `[(handler class, id or False, state), ...]`.

What it refuses: what a handler does with its events (the handler class),
and where beamlet's own reports go (logger.py, which can route them to
gen_event handlers through `logger.add_report_handler`).
"""

from __future__ import annotations

import logging

import vm

from . import _behaviour, gen, otp_sys, proc_lib
from ._behaviour import OK, try_callback
from .gen import reqids_add, reqids_new, reqids_size, reqids_to_list  # gen's, as in OTP
from .logger import allows, log_report

__all__ = [
    "Handler",
    "add_handler",
    "add_sup_handler",
    "call",
    "check_response",
    "delete_handler",
    "notify",
    "receive_response",
    "reqids_add",
    "reqids_new",
    "reqids_size",
    "reqids_to_list",
    "send_request",
    "start",
    "start_link",
    "start_monitor",
    "stop",
    "swap_handler",
    "swap_sup_handler",
    "sync_notify",
    "wait_response",
    "which_handlers",
]

EXIT_TAG = vm.Atom("EXIT")
NOTIFY = vm.Atom("notify")
GEN_EVENT_EXIT = vm.Atom("gen_event_EXIT")
SYSTEM = gen.SYSTEM
DEFAULT_CALL_TIMEOUT = 5.0
_DEFAULT = object()  # "no timeout passed": OTP's call/3 versus call/4
_QUIET = ("normal", "shutdown")


class Handler:
    """Base class of event handlers. Override what you need; `handle_event` and
    `handle_call` raise when an event or call comes that the class does not
    handle (the handler is then removed, as OTP does with `undef`)."""

    def init(self, args):
        return ("ok", args)

    def handle_event(self, event, state):
        raise NotImplementedError(
            f"{type(self).__qualname__} got event {event!r} but defines no handle_event")

    def handle_call(self, request, state):
        raise NotImplementedError(
            f"{type(self).__qualname__} got call {request!r} but defines no handle_call")

    def handle_info(self, info, state):
        _behaviour.undefined_handle_info(type(self).__qualname__, info)
        return ("ok", state)

    def terminate(self, arg, state):
        return None

    def code_change(self, old_vsn, state, extra):
        return ("ok", state)

    def format_status(self, status: dict) -> dict:
        return status


# ----------------------------------------------------------------------
# starting and stopping


def _start(link, monitor, name, timeout, spawn_opts, debug, hibernate_after):
    what = "gen_event." + _behaviour.start_kind(link, monitor)
    _behaviour.check_start_options(what, debug, hibernate_after)
    parent = vm.self() if link else None
    return _behaviour.start(_init_it, (parent, debug, hibernate_after), link=link,
                            monitor=monitor, name=name, timeout=timeout, spawn_opts=spawn_opts)


def start(name=None, *, timeout=None, spawn_opts=None, debug=None, hibernate_after=None):
    """Start an event manager (no handlers yet), not linked: ("ok", pid) or
    ("error", ("already_started", pid)). `name`: a str or ("via", registry, key)."""
    return _start(False, False, name, timeout, spawn_opts, debug, hibernate_after)


def start_link(name=None, *, timeout=None, spawn_opts=None, debug=None, hibernate_after=None):
    """As `start`, linked to the caller (its parent)."""
    return _start(True, False, name, timeout, spawn_opts, debug, hibernate_after)


def start_monitor(name=None, *, timeout=None, spawn_opts=None, debug=None,
                  hibernate_after=None):
    """As `start`, monitored: ("ok", (pid, ref))."""
    return _start(False, True, name, timeout, spawn_opts, debug, hibernate_after)


def stop(mgr, reason="normal", timeout=None):
    """Stop the manager (each handler's terminate runs with "stop") and wait: "ok"."""
    return gen.stop(mgr, reason, timeout)


def _init_it(name, parent, debug, hibernate_after):
    vm.process_flag("trap_exit", True)
    vm.put("$initial_call", ("gen_event", "init_it", 6))
    m = _Manager(name, parent or vm.self(), otp_sys.debug_options(debug), hibernate_after)
    proc_lib.init_ack(("ok", vm.self()))
    m.loop()


# ----------------------------------------------------------------------
# the client API


def _check_handler(handler, what):
    """A handler is a class or (class, id) ((class, None) is the class); refused
    here, in the caller."""
    if isinstance(handler, type):
        return handler
    if type(handler) is tuple and len(handler) == 2 and isinstance(handler[0], type):
        try:
            hash(handler[1])
        except TypeError:
            raise vm.BadArg(f"gen_event.{what}: a handler id must be hashable, "
                            f"not {handler[1]!r}") from None
        return handler[0] if handler[1] is None else handler
    raise vm.BadArg(f"gen_event.{what}: a handler is its class or (class, id), not "
                    f"{handler!r}; define `class MyHandler(gen_event.Handler)`")


def _rpc(mgr, cmd):
    """A request the manager always answers; the caller exits with the bare reason
    ("noproc", the manager's exit reason) if it cannot (OTP's rpc)."""
    try:
        return gen.call(mgr, vm.self(), cmd, None, ("gen_event", "rpc", (cmd,)))
    except vm.Exit as e:
        r = e.reason
        raise vm.Exit(r[0] if type(r) is tuple and len(r) == 2 else r) from None


def add_handler(mgr, handler, args=None):
    """Add `handler` (its init(args) runs in the manager): "ok", or what init
    returned instead (("EXIT", reason) if it raised)."""
    return _rpc(mgr, ("add_handler", _check_handler(handler, "add_handler"), args))


def add_sup_handler(mgr, handler, args=None):
    """As add_handler, and tie the handler to the caller (see the module docstring)."""
    return _rpc(mgr, ("add_sup_handler", _check_handler(handler, "add_sup_handler"), args,
                      vm.self()))


def delete_handler(mgr, handler, args=None):
    """Remove `handler`: what its terminate(args, state) returned, or
    ("error", "module_not_found")."""
    return _rpc(mgr, ("delete_handler", _check_handler(handler, "delete_handler"), args))


def _check_swap(pair, what):
    if type(pair) is not tuple or len(pair) != 2:
        raise vm.BadArg(f"gen_event.{what}: expected (handler, args) pairs, not {pair!r}")
    return (_check_handler(pair[0], what), pair[1])


def swap_handler(mgr, old, new):
    """Replace `old` = (handler1, args1) by `new` = (handler2, args2): handler1's
    terminate(args1, s) runs, then handler2's init((args2, what terminate
    returned)). "ok" or ("error", what init returned)."""
    (h1, a1), (h2, a2) = _check_swap(old, "swap_handler"), _check_swap(new, "swap_handler")
    return _rpc(mgr, ("swap_handler", h1, a1, h2, a2))


def swap_sup_handler(mgr, old, new):
    """As swap_handler; the new handler is tied to the caller."""
    (h1, a1) = _check_swap(old, "swap_sup_handler")
    (h2, a2) = _check_swap(new, "swap_sup_handler")
    return _rpc(mgr, ("swap_sup_handler", h1, a1, h2, a2, vm.self()))


def notify(mgr, event):
    """Send `event` to every handler; returns "ok" at once."""
    _send(mgr, (NOTIFY, event))
    return OK


def sync_notify(mgr, event):
    """Send `event` to every handler and wait until all have handled it: "ok"."""
    return _rpc(mgr, ("sync_notify", event))


def call(mgr, handler, request, timeout=_DEFAULT):
    """Call one handler's handle_call (default 5 s; None waits forever): its reply,
    ("error", "bad_module") if it is not installed, ("error", why) if it crashed.
    A manager that is not there or dies makes the caller exit with
    `(reason, ("gen_event", "call", args))`."""
    args = (mgr, handler, request) if timeout is _DEFAULT else (mgr, handler, request, timeout)
    handler = _check_handler(handler, "call")
    return gen.call(mgr, vm.self(), ("call", handler, request),
                    DEFAULT_CALL_TIMEOUT if timeout is _DEFAULT else timeout,
                    ("gen_event", "call", args))


def which_handlers(mgr):
    """The installed handlers, newest first: [class or (class, id), ...]."""
    return _rpc(mgr, "which_handlers")


def _send(mgr, msg):
    if type(mgr) is tuple and len(mgr) == 3 and mgr[0] == "via":
        gen.send_nofail(mgr, msg)
    else:
        vm.send(mgr, msg)  # a dead pid: nothing; an unknown name: BadArg, as OTP's `!`


# --- asynchronous requests: gen's, with a handler's error as ("error", why)


def send_request(mgr, handler, request, label=None, reqids=None):
    """Call a handler without waiting (see gen's send_request)."""
    return gen.send_request(mgr, vm.self(), ("call", _check_handler(handler, "send_request"),
                                             request), label, reqids)


def _unwrap(r):
    if type(r) is tuple and len(r) == 2 and r[0] == "reply" and type(r[1]) is tuple \
            and len(r[1]) == 2 and r[1][0] == "error":
        return r[1]
    if type(r) is tuple and len(r) == 3 and type(r[0]) is tuple:
        return (_unwrap(r[0]), r[1], r[2])
    return r


def wait_response(req, timeout=None, delete=gen._NO_DELETE):
    return _unwrap(gen.wait_response(req, timeout, delete))


def receive_response(req, timeout=None, delete=gen._NO_DELETE):
    return _unwrap(gen.receive_response(req, timeout, delete))


def check_response(msg, req, delete=gen._NO_DELETE):
    return _unwrap(gen.check_response(msg, req, delete))


wait_response.__doc__ = gen.wait_response.__doc__
receive_response.__doc__ = gen.receive_response.__doc__
check_response.__doc__ = gen.check_response.__doc__


# ----------------------------------------------------------------------
# the manager


class _Installed:
    """One installed handler: its class, id (None: no id), instance, state, and the
    pid it is tied to (add_sup_handler) or None."""

    __slots__ = ("cls", "id", "instance", "state", "supervised")

    def __init__(self, cls, hid, supervised):
        self.cls = cls
        self.id = hid
        self.instance = None
        self.state = None
        self.supervised = supervised

    @property
    def name(self):
        """How OTP names it: the class, or (class, id)."""
        return self.cls if self.id is None else (self.cls, self.id)

    def matches(self, handler):
        if type(handler) is tuple:
            return self.cls is handler[0] and self.id is not None and self.id == handler[1]
        return self.cls is handler and self.id is None


def _split_name(handler):
    return (handler[0], handler[1]) if type(handler) is tuple else (handler, None)


def _catch(fn, *args):
    """Erlang's `catch`: what fn returned, or ("EXIT", reason) if it failed."""
    kind, value = try_callback(fn, *args)
    return value if kind is OK else (EXIT_TAG, value)


def _callback(h, name):
    """h's callback `name`; one that is missing fails like a crash when called."""
    fn = getattr(h.instance, name, None)
    if fn is not None:
        return fn

    def missing(*_args):
        raise AttributeError(f"{h.cls.__qualname__} has no {name}; define it (or subclass "
                             "gen_event.Handler)")
    return missing


def _new_and_init(h, args):
    h.instance = h.cls()
    return h.instance.init(args)


class _Manager(otp_sys.SystemHooks):
    system_module = "gen_event"
    __slots__ = ("name", "parent", "handlers", "debug", "hib_after", "hibernate")

    def __init__(self, name, parent, debug, hib_after):
        self.name = name if name is not None else vm.self()
        self.parent = parent
        self.handlers = []  # newest first
        self.debug = debug
        self.hib_after = hib_after
        self.hibernate = False

    def loop(self):
        recv = vm.receive
        while True:
            if self.hibernate:
                self.hibernate = False
                proc_lib.hibernate(self.loop)
            if self.hib_after is None:
                msg = recv()
            else:
                msg = recv(timeout=self.hib_after)
                if msg is vm.TIMEOUT:
                    proc_lib.hibernate(self.loop)
            if self.debug is not None and not (type(msg) is tuple and len(msg) == 3
                                               and msg[0] == SYSTEM):
                self.debug.event(_print_event, self.name, ("in", msg))
            self.handle_msg(msg)

    def handle_msg(self, msg):
        if type(msg) is tuple:
            n = len(msg)
            if n == 2 and msg[0] == NOTIFY:
                self.notify(msg[1], "handle_event")
                return
            if n == 3:
                tag, from_, cmd = msg
                if tag == SYSTEM:
                    self.debug = otp_sys.handle_system_msg(cmd, from_, self.parent, self,
                                                           self.debug)
                    return
                if tag == EXIT_TAG:
                    if from_ == self.parent:
                        self.terminate_server(cmd)
                    self.handle_exit(from_, cmd)
                    return
                if type(tag) is vm.Pid and type(from_) is tuple and len(from_) == 2 \
                        and type(from_[1]) is vm.Ref and self.command(from_, cmd):
                    return
        self.notify(msg, "handle_info")

    def command(self, from_, cmd):
        """A request from the client API; False if `cmd` is none (then it is info)."""
        if cmd == "which_handlers":
            gen.reply(from_, [h.name for h in self.handlers])
            return True
        if type(cmd) is not tuple or not cmd:
            return False
        tag, n = cmd[0], len(cmd)
        if tag == "sync_notify" and n == 2:
            self.notify(cmd[1], "handle_event")
            reply = OK
        elif tag == "call" and n == 3:
            reply = self.server_call(cmd[1], cmd[2])
        elif tag == "add_handler" and n == 3:
            reply = self.add_handler(cmd[1], cmd[2], None)
        elif tag == "add_sup_handler" and n == 4:
            vm.link(cmd[3])
            reply = self.add_handler(cmd[1], cmd[2], cmd[3])
        elif tag == "delete_handler" and n == 3:
            reply = self.delete_handler(cmd[1], cmd[2])
        elif tag == "swap_handler" and n == 5:
            reply = self.swap_handler(cmd[1], cmd[2], cmd[3], cmd[4], None)
        elif tag == "swap_sup_handler" and n == 6:
            reply = self.swap_handler(cmd[1], cmd[2], cmd[3], cmd[4], cmd[5])
        else:
            return False
        gen.reply(from_, reply)
        return True

    # --- handlers

    def add_handler(self, handler, args, supervised):
        cls, hid = _split_name(handler)
        h = _Installed(cls, hid, supervised)
        r = _catch(_new_and_init, h, args)
        if type(r) is tuple and r and r[0] == "ok" and (len(r) == 2 or
                                                         (len(r) == 3 and r[2] == "hibernate")):
            h.state = r[1]
            self.handlers.insert(0, h)
            self.hibernate = self.hibernate or len(r) == 3
            return OK
        return r

    def find(self, handler):
        return next((h for h in self.handlers if h.matches(handler)), None)

    def notify(self, event, func):
        """Hand `event` to every handler (OTP's server_notify)."""
        for h in list(self.handlers):
            self.update(h, func, event)

    def update(self, h, func, event):
        if func == "handle_info" and getattr(h.instance, func, None) is None:
            # OTP: an undefined handle_info is a warning, not a crash
            _behaviour.undefined_handle_info(h.cls.__qualname__, event)
            return
        r = _catch(_callback(h, func), event, h.state)
        if type(r) is tuple and r:
            if r[0] == "ok" and (len(r) == 2 or (len(r) == 3 and r[2] == "hibernate")):
                h.state = r[1]
                self.hibernate = self.hibernate or len(r) == 3
                return
            if r[0] == "swap_handler" and len(r) == 5:
                self.swap_in_place(h, r[1], r[2], r[3], r[4])
                return
        elif r == "remove_handler":
            self.remove(h)
            self.do_terminate(h, "remove_handler", h.state, "remove", "normal")
            return
        self.remove(h)
        self.do_terminate(h, ("error", r), h.state, event, "crash")

    def remove(self, h):
        self.handlers.remove(h)

    def swap_in_place(self, h, args1, state1, handler2, args2):
        """A handler returned swap_handler: the new one takes its place in the list."""
        state2 = self.do_terminate(h, args1, state1, "swapped",
                                   ("swapped", handler2, h.supervised))
        cls2, hid2 = _split_name(handler2)
        new = _Installed(cls2, hid2, h.supervised)
        r = _catch(_new_and_init, new, (args2, state2))
        i = self.handlers.index(h)
        if type(r) is tuple and len(r) == 2 and r[0] == "ok":
            new.state = r[1]
            self.handlers[i] = new
        else:
            del self.handlers[i]
            self.report_terminate(new, r, None, ("swap_handler", handler2))

    def server_call(self, handler, request):
        h = self.find(handler)
        if h is None:
            return ("error", vm.Atom("bad_module"))
        r = _catch(_callback(h, "handle_call"), request, h.state)
        if type(r) is tuple and r:
            tag, n = r[0], len(r)
            if tag == "ok" and (n == 3 or (n == 4 and r[3] == "hibernate")):
                h.state = r[2]
                self.hibernate = self.hibernate or n == 4
                return r[1]
            if tag == "swap_handler" and n == 6:
                self.swap_in_place(h, r[2], r[3], r[4], r[5])
                return r[1]
            if tag == "remove_handler" and n == 2:
                self.remove(h)
                self.do_terminate(h, "remove_handler", h.state, "remove", "normal")
                return r[1]
        self.remove(h)
        self.do_terminate(h, ("error", r), h.state, request, "crash")
        return ("error", r)

    def delete_handler(self, handler, args):
        h = self.find(handler)
        if h is None:
            return ("error", vm.Atom("module_not_found"))
        self.remove(h)
        return self.do_terminate(h, args, h.state, "delete", "normal")

    def swap_handler(self, handler1, args1, handler2, args2, sup):
        h = self.find(handler1)
        if h is None:
            state2, old_sup = vm.Atom("error"), None
        else:
            self.remove(h)
            old_sup = h.supervised
            new_sup = sup if sup is not None else old_sup
            state2 = self.do_terminate(h, args1, h.state, "swapped",
                                       ("swapped", handler2, new_sup))
        if sup is not None:
            vm.link(sup)
        r = self.add_handler(handler2, (args2, state2), sup if sup is not None else old_sup)
        return OK if r == "ok" else ("error", r)

    def do_terminate(self, h, args, state, last_in, how):
        """Run h's terminate(args, state); report and tell its supervisor. Returns
        what terminate returned (("EXIT", reason) if it failed)."""
        fn = getattr(h.instance, "terminate", None)
        res = _catch(fn, args, state) if fn is not None else OK
        reason = args[1] if how == "crash" else how
        self.report_terminate(h, reason, state, last_in)
        return res

    def report_terminate(self, h, reason, state, last_in):
        if not (reason in _QUIET or (type(reason) is tuple and reason and
                                     reason[0] == "swapped")) and allows(logging.ERROR):
            status = {"state": state, "message": last_in, "reason": reason}
            fs = getattr(h.instance, "format_status", None)
            if fs is not None and type(h.instance).format_status is not Handler.format_status:
                out = _catch(fs, dict(status))
                status = {**status, **out} if type(out) is dict else status
            log_report(logging.ERROR, {"label": "gen_event_terminate", "handler": h.name,
                                       "name": self.name, "last_message": status["message"],
                                       "state": status["state"], "reason": status["reason"]})
        if h.supervised is not None:
            vm.send(h.supervised, (GEN_EVENT_EXIT, h.name, reason))

    def handle_exit(self, pid, reason):
        """An EXIT: the handlers tied to `pid` go; then every handler hears of it."""
        for h in [h for h in self.handlers if h.supervised == pid]:
            self.remove(h)
            self.do_terminate(h, ("stop", reason), h.state,
                              ("parent_terminated", (pid, reason)), "shutdown")
        self.notify((EXIT_TAG, pid, reason), "handle_info")

    def terminate_server(self, reason):
        """Stop: every handler's terminate("stop", state), then exit with `reason`."""
        for h in list(self.handlers):
            self.do_terminate(h, "stop", h.state, "stop", "shutdown")
        for h in self.handlers:
            if h.supervised is not None and h.supervised != self.parent:
                vm.unlink(h.supervised)
        self.handlers = []
        raise vm.Exit(reason)

    # --- otp_sys hooks

    def system_get_state(self):
        return [(h.cls, False if h.id is None else h.id, h.state) for h in self.handlers]

    def system_replace_state(self, fn):
        out = []
        for h in self.handlers:
            current = (h.cls, False if h.id is None else h.id, h.state)
            kind, new = try_callback(fn, current)
            if kind is OK and type(new) is tuple and len(new) == 3 and new[:2] == current[:2]:
                h.state = new[2]
                current = new
            out.append(current)
        return out

    def system_get_status(self, sys_state, parent, debug):
        return [("header", f"Status for event handler {otp_sys.name_text(self.name)}"),
                ("data", [("Status", sys_state), ("Parent", parent)]),
                ("items", ("Installed handlers", self.system_get_state()))]

    def system_terminate(self, reason, parent, debug):
        self.terminate_server(reason)

    def system_code_change(self, module, old_vsn, extra):
        for h in self.handlers:
            if h.cls is module:
                r = h.instance.code_change(old_vsn, h.state, extra)
                if type(r) is tuple and len(r) == 2 and r[0] == "ok":
                    h.state = r[1]
        return OK


def _print_event(event, name):
    """How a manager's events read in a trace (OTP's print_event)."""
    who = otp_sys.name_text(name)
    msg = event[1] if event[0] == "in" else event
    if type(msg) is tuple and len(msg) == 2 and msg[0] == NOTIFY:
        return f"{who} got event {msg[1]!r}"
    if type(msg) is tuple and len(msg) == 3 and type(msg[2]) is tuple and msg[2] and \
            msg[2][0] == "call":
        return f"{who}({msg[2][1]!r}) got call {msg[2][2]!r}"
    return f"{who} got {msg!r}"
