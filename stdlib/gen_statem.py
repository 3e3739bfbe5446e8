"""gen_statem: the generic state machine (OTP's gen_statem, reference §5).

What this module owns: the loop of a state-machine process. It receives,
decodes, dispatches each event to the callback, applies the transition the
callback asked for (replies, state change, postponing, inserted events,
timeouts, hibernation), and terminates with a report when asked to or when
the callback fails. The callback class owns the domain: states, data and
what each event means.

    API call (any process)            callback run in the server
    ------------------------------------------------------------------------
    start / start_link / start_monitor  init(arg) -> ("ok", state, data[, actions])
    call(server, req)                   <event>(("call", from_), req, ...)
    send_request(server, req)           the same, the reply collected later (gen.py)
    cast(server, msg)                   <event>("cast", msg, ...)
    vm.send(server, msg)                <event>("info", msg, ...)
    a timeout action expiring           <event>("timeout" | ("timeout", name)
                                                | "state_timeout", content, ...)
    ("next_event", "internal", x)       <event>("internal", x, ...)
    entering a state (state_enter)      <event>("enter", old_state, ...)
    stop(server) / a stop result        terminate(reason, state, data)
    otp_sys.get_status(server)          format_status(status)

where `<event>` is `self.<state>(event_type, event_content, data)` in
"state_functions" mode and `self.handle_event(event_type, event_content,
state, data)` in "handle_event_function" mode (`callback_mode()` says
which, optionally with "state_enter" in a list).

A transition happens in this order, exactly as OTP does it:

1. the actions run in list order; replies are sent at once, and for
   option-like actions (postpone, hibernate, each timeout) the last wins;
2. the state enter call runs if the state changed (or `repeat_state*` was
   returned) and state enter calls are on; its actions join the list;
3. the current event is postponed if asked;
4. on a *state change* (compared exactly: 1 and 1.0 differ, as in Erlang)
   the postponed events go back to the head of the event queue, oldest
   first, and a running state timeout is cancelled;
5. `next_event`s are inserted ahead of everything queued, in action order;
6. timeouts are set: a zero-time timeout is queued after the queued events
   but before any message still in the mailbox; the event timeout is not
   started at all if events are queued (the next one would cancel it);
7. queued events are processed; then messages are received.

Any event, including a retried or inserted one and any timeout event,
cancels the event timeout. System messages (otp_sys) are not events.

Results are OTP's, as tuples of strings: `("next_state", s, d[, actions])`,
`("keep_state", d[, actions])`, `"keep_state_and_data"`,
`("keep_state_and_data", actions)`, `("repeat_state", d[, actions])`,
`"repeat_state_and_data"`, `("repeat_state_and_data", actions)`, `"stop"`,
`("stop", reason[, d])`, `("stop_and_reply", reason, replies[, d])`.
A malformed result or action stops the machine with OTP's named reason:
`("bad_return_from_state_function", result)`,
`("bad_action_from_state_function", action)`,
`("bad_state_enter_return_from_state_function", result)`,
`("bad_state_enter_action_from_state_function", action)`,
`("bad_reply_action_from_state_function", action)`,
`("bad_return_from_init", result)`, `("bad_return_from_callback_mode", m)`.

Times are seconds (floats allowed) and None is infinity, as everywhere in beamlet.

The guide is docs/gen_statem_and_tasks.md; differences from OTP are in
docs/deviations.md.

What it refuses: process start-up and naming (gen, proc_lib), the system
message protocol itself (otp_sys), and report rendering (reports).
"""

from __future__ import annotations

import logging
import math
from collections import deque

from greenlet import getcurrent

import vm

from . import _behaviour, gen, otp_sys, proc_lib
from ._behaviour import ERROR, EXIT, OK, Failure, client_info, report_name, try_callback
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
from .reports import is_quiet

__all__ = [
    "GenStatem",
    "call",
    "cast",
    "enter_loop",
    "reply",
    "start",
    "start_link",
    "start_monitor",
    "stop",
    *gen.REQUEST_FUNCTIONS,
]

GEN_CALL = gen.GEN_CALL
GEN_CAST = gen.GEN_CAST

# Result kinds, after parsing.
_NEXT, _KEEP, _REPEAT = 0, 1, 2

_INIT_EVENT = (vm.Atom("internal"), vm.Atom("init_state"))  # what sys logs for the init
_EVENT_TYPES = frozenset({"cast", "info", "timeout", "state_timeout", "internal"})
_MODES = ("state_functions", "handle_event_function")


class GenStatem(_behaviour.Callbacks):
    """Base class of a state machine's callbacks.

    Subclass it, define `callback_mode()` and `init(arg)`, and either one
    method per state ("state_functions") or `handle_event`
    ("handle_event_function"). One instance is made inside the server
    process, so `self` may hold per-process helpers; the machine's *data*
    is what `init` and the results carry, as in OTP. `Cls.start(arg,
    **opts)`, `Cls.start_link(arg, **opts)` and `Cls.child_spec(arg)` are
    the Elixir-style conveniences (CodeLock.start_link("1234", name="door")).
    """

    _behaviour = __name__  # the module these conveniences call

    def callback_mode(self):
        raise NotImplementedError(
            f"{type(self).__qualname__} must define callback_mode() returning "
            "'state_functions' or 'handle_event_function' (optionally in a list "
            "with 'state_enter')"
        )

    def init(self, arg):
        raise NotImplementedError(
            f"{type(self).__qualname__} must define init(self, arg) returning "
            "('ok', state, data[, actions]), 'ignore', ('stop', reason) or ('error', reason)"
        )

    def handle_event(self, event_type, event_content, state, data):
        raise NotImplementedError(
            f"{type(self).__qualname__} is in 'handle_event_function' mode but defines no "
            "handle_event(event_type, event_content, state, data)"
        )

    def terminate(self, reason, state, data):
        """Called once when the machine stops (not when killed or not trapping a parent exit)."""
        return None

    def code_change(self, old_vsn, state, data, extra):
        return ("ok", state, data)

    def format_status(self, status):
        """Redact what crash reports and otp_sys.get_status show.

        `status` is a dict with "state", "data", "queue", "postponed",
        "timeouts", "log" (and "reason" when terminating); return it with
        the values you want shown.
        """
        return status

# Names a state may not have in state_functions mode: the callbacks themselves
# (OTP reserves only `terminate`; a Python class carries more).
_RESERVED = frozenset({"callback_mode", "init", "handle_event", "terminate", "code_change",
                       "format_status"})


def _stop(reason):
    """A stop result: leave the transition and terminate with `reason` (class exit)."""
    return Failure(EXIT, reason)


_term = gen.term_safe  # reasons travel in EXIT/DOWN messages: they must be terms


def _bad(tag, x):
    """A malformed result or action: the machine stops with OTP's named reason
    (class error)."""
    return Failure(ERROR, (vm.Atom(tag), _term(x)))


# ----------------------------------------------------------------------
# the server's record


class _Machine(otp_sys.SystemHooks):
    """Everything the loop knows about one running machine (and its otp_sys hooks).

    Invariants: `postponed` is oldest first; `queue` holds events (type,
    content) not yet processed, next one at the left; `timers` maps a
    timeout type ("timeout", "state_timeout" or ("timeout", name)) to
    `[timer_ref, content]`, where a None ref means the timeout is a zero
    timeout waiting in `t0q` (type order = firing order). `debug` is None
    unless otp_sys debugging is on.
    """

    system_module = "gen_statem"
    __slots__ = ("parent", "name", "module", "stack", "mode", "state_fns", "fns", "enter",
                 "state", "data", "postponed", "queue", "timers", "t0q", "hibernate",
                 "hibernate_after", "debug", "last_event")

    def __init__(self, parent, name, module, state, data, hibernate_after, debug):
        self.parent = parent
        self.name = name
        self.module = module
        self.stack = []  # push_callback_module history
        self.mode = None  # callback mode, read lazily (and again after a module change)
        self.state_fns = False
        self.fns = {}  # state -> bound state function (state_functions mode)
        self.enter = False
        self.state = state
        self.data = data
        self.postponed = []
        self.queue = deque()
        self.timers = {}
        self.t0q = []
        self.hibernate = False
        self.hibernate_after = hibernate_after
        self.debug = debug
        self.last_event = None

    # _behaviour.terminate's hooks
    def call_terminate(self, reason):
        _call_terminate(self, reason)

    def error_info(self, kind, reason):
        _error_report(self, kind, _term(reason))

    # otp_sys hooks; they live with the rest of the system-message support below
    def system_get_state(self):
        return _system_get_state(self)

    def system_replace_state(self, fn):
        return _system_replace_state(self, fn)

    def system_get_status(self, sys_state, parent, debug):
        return _system_get_status(self, sys_state, parent, debug)

    def system_terminate(self, reason, parent, debug):
        _system_terminate(self, reason, parent, debug)

    def system_code_change(self, module, old_vsn, extra):
        return _system_code_change(self, module, old_vsn, extra)


class _Acc:
    """What a transition's actions asked for, accumulated across the enter call."""

    __slots__ = ("postpone", "hibernate", "next_events", "timeouts")

    def __init__(self):
        self.postpone = False
        self.hibernate = False
        self.next_events = []
        self.timeouts = []


# ----------------------------------------------------------------------
# start


def _start(link, monitor, module, arg, name, timeout, spawn_opts, debug, hibernate_after):
    what = "gen_statem." + _behaviour.start_kind(link, monitor)
    _check_module(module, what)
    _behaviour.check_start_options(what, debug, hibernate_after)
    parent = vm.self() if link else None
    return _behaviour.start(_init_it, (module, arg, parent, debug, hibernate_after),
                            link=link, monitor=monitor, name=name, timeout=timeout,
                            spawn_opts=spawn_opts)


start, start_link, start_monitor = _behaviour.start_functions(__name__, "a state machine", _start)


def _check_module(module, what):
    _behaviour.check_callback_class(module, GenStatem, what, needs=("callback_mode", "init"))


def _init_it(name, module, arg, parent, debug, hibernate_after):
    """Runs in the new process (under proc_lib and gen's name registration)."""
    me = vm.self()
    if parent is None:
        parent = me  # OTP: an unlinked gen_statem is its own parent
    vm.put("$initial_call", (module.__module__, f"{module.__qualname__}.init", 1))
    kind, result = try_callback(_new_and_init, module, arg)
    if kind is not OK:  # a crash in __init__ or init: start returns ("error", reason)
        _init_failed(name, kind, result, module)
    instance, result = result
    actions = None
    if type(result) is tuple and len(result) in (3, 4) and result[0] == "ok":
        state, data = result[1], result[2]
        if len(result) == 4:
            actions = result[3]
    elif result == "ignore":
        gen.unregister_name(name)
        proc_lib.init_fail(vm.Atom("ignore"), vm.Atom("normal"))
    elif type(result) is tuple and len(result) == 2 and result[0] == "stop":
        gen.unregister_name(name)
        proc_lib.init_fail(("error", _term(result[1])), _term(result[1]))
    elif type(result) is tuple and len(result) == 2 and result[0] == "error":
        gen.unregister_name(name)  # OTP 26: a silent failure
        proc_lib.init_fail(("error", _term(result[1])), vm.Atom("normal"))
    else:
        gen.unregister_name(name)
        reason = (vm.Atom("bad_return_from_init"), _term(result))
        proc_lib.init_fail(("error", reason), reason)
    proc_lib.init_ack(("ok", me))
    m = _Machine(parent, name, instance, state, data, hibernate_after,
                 otp_sys.debug_options(debug))
    _run(m, actions)


def _new_and_init(module, arg):
    instance = module()
    return instance, instance.init(arg)


def _init_failed(name, kind, reason, module):
    gen.unregister_name(name)
    if kind == "error" or not is_quiet(reason):
        # OTP 25 logs the machine's report for an init crash, with state unknown.
        log_report(logging.ERROR, {
            "label": "gen_statem_terminate",
            "name": report_name(name),
            "state": (None, None),
            "reason": reason,
            "callback_mode": None,
            "modules": [module.__qualname__],
        })
    proc_lib.init_fail(("error", reason), reason)


def enter_loop(module, state, data, actions=None, *, name=None, debug=None,
               hibernate_after=None):
    """Turn the calling process (started by proc_lib) into a gen_statem; never returns.

    `module` is the callback class (instantiated here) or an instance; no
    `init` runs: `state`, `data` and `actions` are the initial transition.
    If `name` is given the caller must already be registered under it
    (OTP's rule), else it exits with `process_not_registered`.
    """
    if isinstance(module, GenStatem):
        instance = module
    else:
        _check_module(module, "enter_loop")
        instance = module()
    _behaviour.check_start_options("gen_statem.enter_loop", debug, hibernate_after)
    parent = _behaviour.enter_loop_parent(name)
    m = _Machine(parent, name, instance, state, data, hibernate_after,
                 otp_sys.debug_options(debug))
    _run(m, actions)


def _run(m, actions):
    """The initial transition, then the loop; terminating on any failure."""
    if m.debug is not None:
        _sys_event(m, ("enter", type(m.module).__qualname__, m.state))
    kind, reason = try_callback(_init_transition, m, actions)
    if kind is not OK:
        _terminate(m, kind, reason)
    _loop(m)


# ----------------------------------------------------------------------
# the loop


def _loop(m):
    """Process queued events, zero timeouts, then messages; forever."""
    receive = vm.receive
    while True:
        if m.queue:
            event = m.queue.popleft()
        elif m.t0q:
            ttype = m.t0q.pop(0)
            event = (ttype, m.timers.pop(ttype)[1])
            if m.debug is not None:
                _sys_event(m, ("in", event, m.state))
        else:
            if m.hibernate:
                m.hibernate = False
                proc_lib.hibernate(_wake, m)
            if m.hibernate_after is None:
                msg = receive()
            else:
                msg = receive(timeout=m.hibernate_after)
                if msg is vm.TIMEOUT:
                    proc_lib.hibernate(_wake, m)
            event = _decode(m, msg)
            if event is None:
                continue
            if m.debug is not None:
                _sys_event(m, ("in", event, m.state))
        kind, reason = try_callback(_handle, m, event)
        if kind is not OK:
            _terminate(m, kind, reason)


def _wake(m):
    _loop(m)


def _decode(m, msg):
    """A message as an event, or None when it was a system message handled here."""
    if type(msg) is tuple:
        n = len(msg)
        if n == 3:
            tag = msg[0]
            if tag == GEN_CALL:
                return (("call", msg[1]), msg[2])
            if tag == "timeout" and type(msg[1]) is vm.Ref:
                ttype = msg[2]
                try:
                    entry = m.timers.get(ttype)
                except TypeError:  # an unhashable third element: not one of our timers
                    entry = None
                if entry is not None and entry[0] == msg[1]:
                    del m.timers[ttype]
                    return (ttype, entry[1])
                return ("info", msg)
            if tag == "system":
                _system(m, msg[1], msg[2])
                return None
            if tag == "EXIT" and msg[1] == m.parent:
                m.last_event = ("info", msg)
                _terminate(m, "exit", msg[2])
        elif n == 2 and msg[0] == GEN_CAST:
            return ("cast", msg[1])
    return ("info", msg)


def _handle(m, event):
    """Run the callback for one event and apply the transition it returns."""
    if "timeout" in m.timers:  # any event cancels the event timeout
        _cancel(m, "timeout")
    m.last_event = event
    if m.mode is None:
        _read_mode(m)
    state = m.state
    result = _call(m, event[0], event[1], state, m.data)
    acc = _Acc()
    kind, nstate, ndata = _result(m, result, acc, False)
    m.data = ndata
    changed = kind == _NEXT and not _same(nstate, state)
    m.state = nstate
    if m.enter and (changed or kind == _REPEAT):
        _enter_calls(m, state, acc)
    _finish(m, event, acc, changed, state)


def _init_transition(m, actions):
    """The transition into the initial state: its enter call, its actions (postpone ignored)."""
    if m.mode is None:
        _read_mode(m)
    acc = _Acc()
    if actions is not None:
        _actions(m, actions, acc, False)
    acc.postpone = False  # OTP ignores postpone in init: there is no event to postpone
    if m.enter:
        _enter_calls(m, m.state, acc)
    _finish(m, None, acc, True, m.state)


def _enter_calls(m, prev, acc):
    """Run the state enter call (again, while it returns repeat_state*)."""
    while True:
        result = _call(m, "enter", prev, m.state, m.data)
        kind, nstate, ndata = _result(m, result, acc, True)
        if kind == _NEXT and not _same(nstate, m.state):
            raise _bad("bad_state_enter_return_from_state_function", result)
        m.data = ndata
        if kind != _REPEAT:
            return


def _finish(m, event, acc, changed, old_state):
    """Steps 3-6 of a transition: postpone, queue reset, inserted events, timers."""
    if acc.postpone and event is not None:
        m.postponed.append(event)
        if m.debug is not None:
            _sys_event(m, ("postpone", event, old_state, m.state))
    elif m.debug is not None:
        _sys_event(m, ("consume", event or _INIT_EVENT, old_state, m.state))
    if changed:
        if m.postponed:
            m.queue.extendleft(reversed(m.postponed))
            m.postponed = []
        if "state_timeout" in m.timers:
            _cancel(m, "state_timeout")
    if acc.next_events:
        m.queue.extendleft(reversed(acc.next_events))
    for t in acc.timeouts:
        _timeout(m, t)
    m.hibernate = acc.hibernate


def _same(a, b):
    """Erlang's exact equality (=:=): 1 and 1.0 differ, True and 1 differ."""
    if a is b:
        return True
    ta = type(a)
    if ta is not type(b):
        return isinstance(a, str) and isinstance(b, str) and a == b
    if ta is tuple or ta is list:
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if ta is dict:
        return a.keys() == b.keys() and all(_same(v, b[k]) for k, v in a.items())
    return a == b


# ----------------------------------------------------------------------
# calling the callback


def _read_mode(m):
    """Read and cache the callback mode (OTP does it lazily, after init)."""
    raw = m.module.callback_mode()
    items = raw if isinstance(raw, (list, tuple)) else [raw]
    mode = None
    enter = False
    for item in items:
        if item == "state_enter" and not enter:
            enter = True
        elif isinstance(item, str) and item in _MODES and mode is None:
            mode = item
        else:
            mode = None
            break
    if mode is None:
        raise _bad("bad_return_from_callback_mode", raw)
    m.mode = vm.Atom(mode)
    m.state_fns = mode == "state_functions"
    m.enter = enter


def _call(m, etype, content, state, data):
    if not m.state_fns:
        return m.module.handle_event(etype, content, state, data)
    try:
        fn = m.fns[state]
    except (KeyError, TypeError):
        fn = _state_function(m, state)
    return fn(etype, content, data)


def _state_function(m, state):
    """Find (and cache) the method for `state` in state_functions mode, or explain."""
    cls = type(m.module)
    if not isinstance(state, str) or state.startswith("_") or state in _RESERVED:
        raise TypeError(
            f"state {state!r} cannot name a state function of {cls.__qualname__}: in "
            "'state_functions' mode a state is the name of a method (a str, not starting "
            "with '_' and not a callback name); use 'handle_event_function' for other states"
        )
    owner = next((k for k in cls.__mro__ if state in k.__dict__), None)
    fn = getattr(m.module, state, None)
    if owner is None or owner in GenStatem.__mro__ or not callable(fn):
        raise AttributeError(
            f"{cls.__qualname__} has no state function {state!r}: in 'state_functions' mode "
            f"define `def {state}(self, event_type, event_content, data)`"
        )
    m.fns[state] = fn
    return fn


# ----------------------------------------------------------------------
# results and actions


def _result(m, result, acc, enter):
    """Parse a callback result; returns (kind, state, data), applying its actions to acc.

    Stop results raise `_stop(...)` after their replies; malformed ones `_bad(...)`.
    """
    state, data = m.state, m.data
    if isinstance(result, str):
        if result == "keep_state_and_data":
            return _KEEP, state, data
        if result == "repeat_state_and_data":
            return _REPEAT, state, data
        if result == "stop":
            raise _stop(vm.Atom("normal"))
    elif type(result) is tuple and result:
        tag, n = result[0], len(result)
        if tag == "next_state" and n in (3, 4):
            if n == 4:
                _actions(m, result[3], acc, enter)
            return _NEXT, result[1], result[2]
        if tag == "keep_state" and n in (2, 3):
            if n == 3:
                _actions(m, result[2], acc, enter)
            return _KEEP, state, result[1]
        if tag == "keep_state_and_data" and n == 2:
            _actions(m, result[1], acc, enter)
            return _KEEP, state, data
        if tag == "repeat_state" and n in (2, 3):
            if n == 3:
                _actions(m, result[2], acc, enter)
            return _REPEAT, state, result[1]
        if tag == "repeat_state_and_data" and n == 2:
            _actions(m, result[1], acc, enter)
            return _REPEAT, state, data
        if tag == "stop" and n in (2, 3):
            if n == 3:
                m.data = result[2]
            raise _stop(result[1])
        if tag == "stop_and_reply" and n in (3, 4):
            replies = result[2] if isinstance(result[2], list) else [result[2]]
            for r in replies:
                if not (type(r) is tuple and len(r) == 3 and r[0] == "reply" and _is_from(r[1])):
                    raise _bad("bad_reply_action_from_state_function", r)
                _reply(m, r[1], r[2])
            if n == 4:
                m.data = result[3]
            raise _stop(result[1])
    raise _bad("bad_return_from_state_function", result)


def _is_from(f):
    return type(f) is tuple and len(f) == 2 and type(f[0]) is vm.Pid and type(f[1]) is vm.Ref


def _is_event_type(t):
    if isinstance(t, str):
        return t in _EVENT_TYPES
    return (type(t) is tuple and len(t) == 2
            and ((t[0] == "call" and _is_from(t[1])) or t[0] == "timeout"))


def _is_timeout_type(t):
    if isinstance(t, str):
        return t == "timeout" or t == "state_timeout"
    return type(t) is tuple and len(t) == 2 and t[0] == "timeout"


def _actions(m, actions, acc, enter):
    """Apply a transition's actions in order (replies now, the rest into acc)."""
    for a in (actions if type(actions) is list else (actions,)):
        if isinstance(a, str):
            if a == "postpone":
                if enter:
                    raise _bad("bad_state_enter_action_from_state_function", a)
                acc.postpone = True
            elif a == "hibernate":
                acc.hibernate = True
            elif a == "pop_callback_module":
                if enter:
                    raise _bad("bad_state_enter_action_from_state_function", a)
                if not m.stack:
                    raise _bad("bad_action_from_state_function", a)
                _set_module(m, m.stack.pop())
            else:
                raise _bad("bad_action_from_state_function", a)
            continue
        if a is None or (not isinstance(a, bool) and isinstance(a, (int, float))):
            # a bare time is an event timeout whose content is the time (OTP)
            acc.timeouts.append(_check_time(("timeout", a, a), "timeout", a, a, None, enter))
            continue
        if type(a) is not tuple or not a:
            raise _bad("bad_action_from_state_function", a)
        tag, n = a[0], len(a)
        if tag == "reply" and n == 3:
            if not _is_from(a[1]):
                raise _bad("bad_action_from_state_function", a)
            _reply(m, a[1], a[2])
        elif _is_timeout_type(tag) and n in (2, 3, 4):
            if n == 2:
                if a[1] != "cancel":
                    raise _bad("bad_action_from_state_function", a)
                acc.timeouts.append((tag, "cancel", None, False))
            elif a[1] == "update":
                if n != 3:
                    raise _bad("bad_action_from_state_function", a)
                acc.timeouts.append((tag, "update", a[2], False))
            else:
                acc.timeouts.append(_check_time(a, tag, a[1], a[2], a[3] if n == 4 else None,
                                                enter))
        elif tag == "postpone" and n == 2 and type(a[1]) is bool:
            if enter and a[1]:
                raise _bad("bad_state_enter_action_from_state_function", a)
            acc.postpone = a[1]
        elif tag == "hibernate" and n == 2 and type(a[1]) is bool:
            acc.hibernate = a[1]
        elif tag == "next_event" and n == 3:
            if enter:
                raise _bad("bad_state_enter_action_from_state_function", a)
            if not _is_event_type(a[1]):
                raise _bad("bad_action_from_state_function", a)
            acc.next_events.append((a[1], a[2]))
        elif tag in ("change_callback_module", "push_callback_module") and n == 2:
            if enter:
                raise _bad("bad_state_enter_action_from_state_function", a)
            new = _callback_instance(a[1])
            if new is None:
                raise _bad("bad_action_from_state_function", a)
            if tag == "push_callback_module":
                m.stack.append(m.module)
            _set_module(m, new)
        else:
            raise _bad("bad_action_from_state_function", a)


def _check_time(action, ttype, time, content, opts, enter):
    """Validate a set-timeout action; returns (type, time, content, absolute)."""
    absolute = False
    if opts is not None:
        items = list(opts.items()) if type(opts) is dict else opts
        if not isinstance(items, (list, tuple)):
            raise _bad("bad_action_from_state_function", action)
        for o in items:
            if type(o) is tuple and len(o) == 2 and o[0] == "abs" and type(o[1]) is bool:
                absolute = o[1]
            else:
                raise _bad("bad_action_from_state_function", action)
    if time is not None:
        if isinstance(time, bool) or not isinstance(time, (int, float)) or time != time:
            raise _bad("bad_action_from_state_function", action)
        if time == math.inf:
            time = None
        elif time < 0 and not absolute:
            raise _bad("bad_action_from_state_function", action)
    if ttype != "timeout" and type(ttype) is tuple:
        try:
            hash(ttype)
        except TypeError:  # generic timeout names key a dict: they must be hashable
            raise _bad("bad_action_from_state_function", action) from None
    return (ttype, time, content, absolute)


def _callback_instance(x):
    if isinstance(x, type):
        if callable(getattr(x, "callback_mode", None)):
            return x()
        return None
    if callable(getattr(x, "callback_mode", None)):
        return x
    return None


def _set_module(m, module):
    m.module = module
    m.fns = {}
    m.mode = None  # re-read from the new module before its next callback
    _read_mode(m)


def _reply(m, from_, msg):
    gen.reply(from_, msg)
    if m.debug is not None:
        _sys_event(m, ("out", msg, from_))


# ----------------------------------------------------------------------
# timeouts


def _timeout(m, t):
    ttype, time, content, absolute = t
    if m.debug is not None and time != "cancel" and time != "update":
        _sys_event(m, ("start_timer", (ttype, time, content, [("abs", True)] if absolute else []),
                       m.state))
    if ttype == "timeout" and m.queue:
        # Events are queued: the next one would cancel the event timeout anyway.
        return
    if time == "cancel":
        if ttype in m.timers:
            _cancel(m, ttype)
        return
    if time == "update":
        entry = m.timers.get(ttype)
        if entry is not None:
            entry[1] = content
            return
        time = 0  # updating an inactive timer fires it at once (OTP 22.1)
    if ttype in m.timers:
        _cancel(m, ttype)
    if time is None:
        return
    if absolute:
        time = max(0.0, time - vm.monotonic())
    elif time == 0:
        m.timers[ttype] = [None, content]
        m.t0q.append(ttype)
        return
    m.timers[ttype] = [vm.start_timer(time, vm.self(), ttype), content]


def _cancel(m, ttype):
    ref = m.timers.pop(ttype)[0]
    if ref is None:
        m.t0q.remove(ttype)
    elif vm.cancel_timer(ref) is False:
        # It fired already: its message is queued; take it out (OTP does the same).
        # A module-level predicate, not a pattern holding the fresh ref: patterns
        # are compiled and cached by value, so a new one per call churns the cache.
        p = getcurrent()
        _cancelled[p] = ref
        try:
            vm.receive(_is_cancelled_timer, timeout=0)
        finally:
            del _cancelled[p]


_cancelled: dict = {}  # process record -> the timer ref being flushed


def _is_cancelled_timer(m):
    return (type(m) is tuple and len(m) == 3 and m[1] == _cancelled[getcurrent()]
            and m[0] == "timeout")


# ----------------------------------------------------------------------
# terminate and reports


def _terminate(m, kind, reason):
    """Call terminate, report unless the reason is quiet, and exit (through
    _behaviour.terminate and the machine's hooks below). Never returns."""
    _behaviour.terminate(m, kind, _term(reason))


def _call_terminate(m, reason):
    terminate = getattr(m.module, "terminate", None)  # optional, as in OTP
    if terminate is not None:
        terminate(reason, m.state, m.data)
    if m.debug is not None:
        _sys_event(m, ("terminate", reason, m.state))


def _status(m, reason=None, terminating=False):
    """The status dict given to format_status (and what it returns, checked)."""
    status = {
        "state": m.state,
        "data": m.data,
        "queue": list(m.queue),
        "postponed": list(m.postponed),
        "timeouts": [(t, e[1]) for t, e in m.timers.items()],
        "log": _sys_log(m),
    }
    if terminating:
        status["reason"] = reason
    format_status = getattr(m.module, "format_status", None)
    if format_status is None:
        return status
    try:
        out = format_status(dict(status))
        if type(out) is not dict:
            raise TypeError(f"format_status must return a dict, not {type(out).__name__}")
        status.update(out)
    except Exception:  # OTP: the data is replaced by a note that format_status crashed
        status["data"] = f"{type(m.module).__qualname__}.format_status crashed"
    return status


def _error_report(m, kind, reason):
    if not allows(logging.ERROR):
        return  # nobody listens: do not even run format_status
    status = _status(m, reason, True)
    report = {
        "label": "gen_statem_terminate",
        "name": report_name(m.name),
        "state": (status["state"], status["data"]),
        "reason": status.get("reason", reason),
        "class": kind,  # "error" (an exception, a bad result) or "exit" (an exit reason)
        "callback_mode": m.mode,
        "state_enter": m.enter,
        "modules": [type(x).__qualname__ for x in [m.module, *reversed(m.stack)]],
        "postponed": status["postponed"],
        "queue": status["queue"],
        "timeouts": status["timeouts"],
        "log": status["log"],
    }
    if m.last_event is not None:
        report["last_message"] = m.last_event
        etype = m.last_event[0]
        if type(etype) is tuple and etype[0] == "call":
            report["client"] = client_info(etype[1][0])
    log_report(logging.ERROR, report)


# ----------------------------------------------------------------------
# client API


def call(server, request, timeout=None):
    """Send `request` as a ("call", from_) event and wait for the reply.

    gen_statem's default timeout is infinity (None). On failure the caller
    exits with `(reason, ("gen_statem", "call", (server, request, timeout)))`
    where reason is "timeout", "noproc", "calling_self" or the machine's exit
    reason; a reply arriving after a timeout is dropped.
    """
    return gen.call(server, GEN_CALL, request, timeout,
                    ("gen_statem", "call", (server, request, timeout)))


def send_request(server, request, label=None, reqids=None):
    """Send `request` as a ("call", from_) event without waiting: returns a request
    id for `wait_response`/`receive_response`/`check_response` (or, with
    `reqids`, a new collection holding it under `label`)."""
    return gen.send_request(server, GEN_CALL, request, label, reqids)


def cast(server, msg):
    """Send `msg` as a "cast" event; always returns "ok", even if nobody is there."""
    gen.send_nofail(server, (GEN_CAST, msg))
    return vm.Atom("ok")


_NO_MSG = object()


def reply(from_, msg=_NO_MSG):
    """Reply to a call: `reply(from_, msg)`, or OTP's reply/1 with a reply action or a
    list of them: `reply(("reply", from_, msg))`, `reply([("reply", from_, msg), ...])`."""
    if msg is not _NO_MSG:
        return gen.reply(from_, msg)
    actions = from_ if type(from_) is list else [from_]
    for r in actions:
        if not (type(r) is tuple and len(r) == 3 and r[0] == "reply"):
            raise vm.BadArg(
                f"gen_statem.reply: expected reply(from_, msg) or reply actions "
                f"('reply', from_, msg), not {r!r}"
            )
    for r in actions:
        gen.reply(r[1], r[2])
    return vm.Atom("ok")


def stop(server, reason="normal", timeout=None):
    """Stop the machine with `reason` (its terminate runs) and wait; returns "ok".

    As OTP's gen_statem:stop, the caller exits with the bare reason
    "noproc" (no such machine) or "timeout", or with the machine's own exit
    reason if it died of something else meanwhile.
    """
    return gen.stop(server, reason, timeout)


# ----------------------------------------------------------------------
# system messages and debugging (the otp_sys protocol)


def _system(m, from_, request):
    """A system message: not an event; otp_sys answers it through the hooks below."""
    m.debug = otp_sys.handle_system_msg(request, from_, m.parent, m, m.debug)


def _sys_event(m, event):
    m.debug.event(_print_event, m.name if m.name is not None else vm.self(), event)


def _sys_log(m):
    return m.debug.events() if m.debug is not None else []


def _system_get_state(m):
    return (m.state, m.data)


def _system_replace_state(m, fn):
    new = fn((m.state, m.data))
    if type(new) is not tuple or len(new) != 2:
        raise TypeError(
            f"replace_state: a gen_statem's state is (state, data); the function must "
            f"return a new (state, data) pair, not {new!r}"
        )
    m.state, m.data = new
    return new


def _system_get_status(m, sys_state, parent, debug):
    name = m.name if m.name is not None else vm.self()
    status = _status(m)
    return [
        ("header", f"Status for state machine {otp_sys.name_text(report_name(name))}"),
        ("data", [("Status", sys_state), ("Parent", parent),
                  ("Modules", [type(x).__qualname__ for x in [m.module, *reversed(m.stack)]]),
                  ("Time-outs", (len(status["timeouts"]), status["timeouts"])),
                  ("Logged Events", status["log"]),
                  ("Postponed", status["postponed"])]),
        ("data", [("State", (status["state"], status["data"]))]),
    ]


def _system_terminate(m, reason, parent, debug):
    m.debug = debug
    _terminate(m, "exit", reason)


def _system_code_change(m, module, old_vsn, extra):
    code_change = getattr(m.module, "code_change", None)
    if code_change is None:
        return ("error", "code_change_not_supported")
    r = code_change(old_vsn, m.state, m.data, extra)
    if type(r) is tuple and len(r) == 3 and r[0] == "ok":
        m.state, m.data = r[1], r[2]
        m.mode = None  # OTP re-reads the callback mode after a code change
        return vm.Atom("ok")
    return r


def _event_text(event):
    etype, content = event
    if type(etype) is tuple and len(etype) == 2 and etype[0] == "call":
        return f"call {content!r} from {etype[1][0]!r}"
    return f"{etype!r} {content!r}" if not isinstance(etype, str) else f"{etype} {content!r}"


def _print_event(event, name):
    """How gen_statem events read in a trace (OTP's print_event)."""
    who = otp_sys.name_text(name)
    tag = event[0]
    if tag == "in":
        return f"{who} receive {_event_text(event[1])} in state {event[2]!r}"
    if tag == "out":
        return f"{who} send {event[1]!r} to {event[2][0]!r}"
    if tag in ("postpone", "consume"):
        _, ev, state, nstate = event
        where = repr(state) if _same(state, nstate) else f"{state!r} => {nstate!r}"
        return f"{who} {tag} {_event_text(ev)} in state {where}"
    if tag == "enter":
        return f"{who} enter {event[1]} in state {event[2]!r}"
    if tag == "start_timer":
        return f"{who} start_timer {event[1]!r} in state {event[2]!r}"
    if tag == "terminate":
        return f"{who} terminate {event[1]!r} in state {event[2]!r}"
    return f"{who} dbg  {event!r}"
