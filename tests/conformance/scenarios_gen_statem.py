"""Python twins of the gen_statem scenarios in erlang/scenarios_gen_statem.erl.

Every public function is a scenario with the same name as its Erlang twin
and must log the same trace (golden/gen_statem/<name>.trace). Literal
translations (see scenarios.py): conf_sm is callbacks.ConfSM (ConfSMEnter
with state enter calls), conf_door is callbacks.ConfDoor, a handler fun is
a Python function of (event_type, content, state, data), times are seconds
(300 ms is 0.3) and infinity is None.
"""
from __future__ import annotations

import vm
from stdlib import gen_statem

from . import trace as T
from .callbacks import ConfDoor, ConfSM, ConfSMEnter

KEEP = "keep_state_and_data"

# ================================================================ helpers


def _crash(*_args):
    raise RuntimeError("boom")


def _sm(module, state, handler, actions=()):
    main = vm.self()
    ok, p = gen_statem.start(module, lambda: ("ok", state, (main, handler), list(actions)))
    return T.name(p, "sm")


def _until(done):
    while True:
        msg = vm.receive(timeout=2.0)
        if msg is vm.TIMEOUT:
            T.log("no_more")
            return
        T.log(msg)
        if done(msg):
            return


def _until_event(event):
    _until(lambda m: m == event)


def _is(tag):
    return lambda m: type(m) is tuple and len(m) > 0 and m[0] == tag


def _finish(p):
    gen_statem.stop(p)
    _until(_is("terminate"))
    T.log(("rest", T.flush()))


def _ignore(_t, _c, _s, _d):
    return KEEP


# =============================================== postpone, next_event

def sm_postpone_retried_on_state_change():
    def h(t, c, s, d):
        if t == "cast" and s == "s1":
            if c == "x":
                return (KEEP, ["postpone"])
            if c == "same":
                return ("next_state", "s1", d)
            if c == "rep":
                return "repeat_state_and_data"
            if c == "go":
                return ("next_state", "s2", d)
        return _ignore(t, c, s, d)

    p = _sm(ConfSM, "s1", h)
    for m in ["x", "y", "same", "rep", "go"]:
        gen_statem.cast(p, m)
    _until_event(("s2", "cast", "x"))
    _finish(p)


def sm_next_event_order():
    def h(t, c, s, d):
        if t == "cast" and c == "a":
            return (KEEP, [("next_event", "internal", "i1"), ("next_event", "internal", "i2")])
        if t == "internal" and c == "i1":
            return (KEEP, [("next_event", "cast", "i3")])
        return _ignore(t, c, s, d)

    p = _sm(ConfSM, "s1", h)
    gen_statem.cast(p, "a")
    gen_statem.cast(p, "b")
    _until_event(("s1", "cast", "b"))
    _finish(p)


def sm_next_event_before_postponed():
    def h(t, c, s, d):
        if t == "cast" and s == "s1":
            if c == "go":
                return ("next_state", "s2", d, [("next_event", "internal", "n")])
            return (KEEP, ["postpone"])
        return _ignore(t, c, s, d)

    p = _sm(ConfSM, "s1", h)
    for m in ["x1", "x2", "go", "z"]:
        gen_statem.cast(p, m)
    _until_event(("s2", "cast", "z"))
    _finish(p)


# ============================================================= timeouts

def sm_event_timeout():
    def h(t, c, s, d):
        if t == "cast" and c == "set":
            return (KEEP, [("timeout", 0.3, "t2")])
        return _ignore(t, c, s, d)

    p = _sm(ConfSM, "s1", h, [("timeout", 0.3, "t1")])
    _until_event(("s1", "timeout", "t1"))
    gen_statem.cast(p, "set")
    vm.sleep(0.2)
    vm.send(p, "poke")
    vm.sleep(0.4)
    gen_statem.cast(p, "check")
    _until_event(("s1", "cast", "check"))
    _finish(p)


def sm_event_timeout_cancelled_by_inserted_events():
    def h(t, c, s, d):
        if t == "cast" and c == "x" and s == "s1":
            return (KEEP, ["postpone"])
        if t == "cast" and c == "go" and s == "s1":
            return ("next_state", "s2", d, [("timeout", 0.3, "t1")])
        if t == "cast" and c == "ins" and s == "s2":
            return (KEEP, [("timeout", 0.3, "t2"), ("next_event", "internal", "n")])
        if t == "cast" and c == "plain" and s == "s2":
            return (KEEP, [("timeout", 0.3, "t3")])
        return _ignore(t, c, s, d)

    p = _sm(ConfSM, "s1", h)
    gen_statem.cast(p, "x")
    gen_statem.cast(p, "go")
    _until_event(("s2", "cast", "x"))
    vm.sleep(0.4)
    gen_statem.cast(p, "ins")
    _until_event(("s2", "internal", "n"))
    vm.sleep(0.4)
    gen_statem.cast(p, "plain")
    _until_event(("s2", "timeout", "t3"))
    _finish(p)


def sm_event_timeout_zero():
    def h(t, c, s, d):
        if t == "cast" and c == "hold":
            vm.receive("release")
            return (KEEP, [("timeout", 0, "z")])
        return _ignore(t, c, s, d)

    p = _sm(ConfSM, "s1", h)
    gen_statem.cast(p, "hold")
    gen_statem.cast(p, "a")
    vm.send(p, "release")
    _until_event(("s1", "cast", "a"))
    _finish(p)


def sm_state_timeout_survives_events():
    p = _sm(ConfSM, "s1", _ignore, [("state_timeout", 0.3, "st")])
    vm.sleep(0.2)
    gen_statem.cast(p, "poke")
    _until_event(("s1", "state_timeout", "st"))
    _finish(p)


def sm_state_timeout_cancelled_by_state_change():
    def h(t, c, s, d):
        if t == "cast" and c == "set" and s == "s1":
            return (KEEP, [("state_timeout", 0.3, "st1")])
        if t == "cast" and c == "go" and s == "s1":
            return ("next_state", "s2", d)
        if t == "cast" and c == "go" and s == "s2":
            return ("next_state", "s3", d, [("state_timeout", 0.3, "st3")])
        return _ignore(t, c, s, d)

    p = _sm(ConfSM, "s1", h)
    gen_statem.cast(p, "set")
    vm.sleep(0.1)
    gen_statem.cast(p, "go")
    vm.sleep(0.4)
    gen_statem.cast(p, "go")
    _until_event(("s3", "state_timeout", "st3"))
    _finish(p)


def sm_state_timeout_restart_and_cancel():
    def h(t, c, s, d):
        if t == "cast":
            if type(c) is tuple and c[0] == "set":
                return (KEEP, [("state_timeout", 0.3, c[1])])
            if c == "infinity":
                return (KEEP, [("state_timeout", None, "never")])
            if c == "cancel":
                return (KEEP, [("state_timeout", "cancel")])
        return _ignore(t, c, s, d)

    p = _sm(ConfSM, "s1", h)
    gen_statem.cast(p, ("set", "a"))
    vm.sleep(0.2)
    gen_statem.cast(p, ("set", "b"))
    _until(lambda m: m[1] == "state_timeout")
    gen_statem.cast(p, ("set", "c"))
    vm.sleep(0.1)
    gen_statem.cast(p, "infinity")
    vm.sleep(0.4)
    gen_statem.cast(p, ("set", "d"))
    vm.sleep(0.1)
    gen_statem.cast(p, "cancel")
    vm.sleep(0.4)
    gen_statem.cast(p, "check")
    _until_event(("s1", "cast", "check"))
    _finish(p)


def sm_generic_timeouts():
    def h(t, c, s, d):
        if t == "cast":
            if type(c) is tuple and c[0] == "set":
                return (KEEP, [(("timeout", c[1]), 0.3, c[2])])
            if type(c) is tuple and c[0] == "cancel":
                return (KEEP, [(("timeout", c[1]), "cancel")])
            if c == "go" and s == "s1":
                return ("next_state", "s2", d)
        return _ignore(t, c, s, d)

    p = _sm(ConfSM, "s1", h)
    gen_statem.cast(p, ("set", "g", "g1"))
    vm.sleep(0.1)
    gen_statem.cast(p, "go")
    _until(lambda m: m[1] == ("timeout", "g"))
    gen_statem.cast(p, ("set", "g", "a"))
    gen_statem.cast(p, ("set", "h", "h1"))
    vm.sleep(0.2)
    gen_statem.cast(p, ("set", "g", "b"))
    _until(lambda m: m[2] == "b")
    gen_statem.cast(p, ("set", "g", "c"))
    vm.sleep(0.1)
    gen_statem.cast(p, ("cancel", "g"))
    vm.sleep(0.4)
    gen_statem.cast(p, "check")
    _until_event(("s2", "cast", "check"))
    _finish(p)


# ======================================= enter calls, calls, results

def sm_enter_calls():
    def h(t, c, s, d):
        if t == "enter":
            return KEEP
        if t == "cast":
            if c == "go" and s == "s1":
                return ("next_state", "s2", d)
            if c == "same":
                return ("next_state", s, d)
            if c == "rep":
                return "repeat_state_and_data"
        return _ignore(t, c, s, d)

    p = _sm(ConfSMEnter, "s1", h)
    for m in ["go", "same", "keep", "rep", "check"]:
        gen_statem.cast(p, m)
    _until_event(("s2", "cast", "check"))
    _finish(p)


def sm_call_replies():
    def h(t, c, s, d):
        if type(t) is tuple and t[0] == "call":
            from_ = t[1]
            if c == "ping":
                return (KEEP, [("reply", from_, "pong")])
            if c == "go" and s == "s1":
                return ("next_state", "s2", d, ("reply", from_, "went"))
            if c == "state":
                return (KEEP, [("reply", from_, s)])
            if c == "later":
                vm.put("pending", from_)
                return (KEEP, [("next_event", "internal", "reply_now")])
            if c == "stop":
                return ("stop_and_reply", "normal", [("reply", from_, "stopping")], d)
        if t == "internal" and c == "reply_now":
            assert gen_statem.reply(vm.get("pending"), "later") == "ok"
            return KEEP
        return _ignore(t, c, s, d)

    p = _sm(ConfSM, "s1", h)
    for req in ["ping", "go", "state", "later", "stop"]:
        T.log(("call", req, gen_statem.call(p, req)))
    _until(_is("terminate"))
    T.log(("rest", T.flush()))


def sm_call_failures():
    def h(t, c, s, d):
        if type(t) is tuple and t[0] == "call":
            if c == "silent":
                return KEEP
            if c == "die":
                return ("stop", "myreason", d)
        return _ignore(t, c, s, d)

    p = _sm(ConfSM, "s1", h)
    T.log(T.attempt(gen_statem.call, p, "silent", 0.1))
    T.log(T.attempt(gen_statem.call, p, "die"))
    _until(_is("terminate"))
    T.settle()
    T.log(T.attempt(gen_statem.call, p, "ping"))
    T.log(T.attempt(gen_statem.call, "nobody", "ping"))
    T.log(("rest", T.flush()))


def sm_init_results():
    main = vm.self()
    for init in [lambda: "ignore",
                 lambda: ("stop", "myreason"),
                 _crash,
                 lambda: "wrong"]:
        T.log(("start", gen_statem.start(ConfSM, init)))
    ok, p = gen_statem.start(ConfSM, lambda: ("ok", "s1", (main, _ignore)))
    T.name(p, "sm")
    T.log(("alive", vm.is_process_alive(p)))
    _finish(p)


def sm_terminate():
    def h(t, c, s, d):
        if t == "cast":
            if c == "stop":
                return ("stop", ("shutdown", "x"), d)
            if c == "crash":
                _crash()
            if c == "bad":
                return "wrong"
        return _ignore(t, c, s, d)

    for cast in ["stop", "crash", "bad"]:
        p = _sm(ConfSM, "s1", h)
        vm.monitor(p)
        gen_statem.cast(p, cast)
        _until(_is("DOWN"))
    T.log(("rest", T.flush()))


def sm_door_state_functions():
    main = vm.self()
    ok, p = gen_statem.start(ConfDoor, (main, [1, 2, 3]))
    T.name(p, "door")
    _until_event(("enter", "locked", "locked"))

    def call(req):
        T.log(("call", req, gen_statem.call(p, req)))

    call("status")
    call(("button", 1))
    call(("button", 9))
    call(("button", 1))
    call(("button", 1))
    call(("button", 2))
    call(("button", 3))
    _until_event(("enter", "open", "locked"))
    call("status")
    presser = vm.spawn(lambda: vm.send(main, ("presser", gen_statem.call(p, ("button", 7)))))
    T.name(presser, "presser")
    _until(_is("presser"))
    call("status")
    gen_statem.stop(p)
    T.log(("rest", T.flush()))
