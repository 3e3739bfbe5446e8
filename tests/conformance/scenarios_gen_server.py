"""Python twins of the gen_server scenarios in erlang/scenarios_gen_server.erl.

Every public function is a scenario with the same name as its Erlang twin
and must log the same trace (golden/gen_server/<name>.trace). Literal
translations (see scenarios.py): the server is callbacks.ConfGS (conf_gs),
a fun in ``{do, F}`` is a Python function, ``gen_server:start(conf_gs,
Init, [])`` is ``gen_server.start(ConfGS, init)``, times are seconds.
"""
from __future__ import annotations

import vm
from stdlib import gen_server, otp_sys
from vm import ANY

from . import trace as T
from .callbacks import ConfGS, sup_start_link, worker_start_link

# ================================================================ helpers


def _crash(*_args):
    raise RuntimeError("boom")


def _until(done):
    """Log every message as it arrives until done(message) holds (included)."""
    while True:
        msg = vm.receive(timeout=2.0)
        if msg is vm.TIMEOUT:
            T.log("no_more")
            return
        T.log(msg)
        if done(msg):
            return


def _tag(tag):
    return lambda m: type(m) is tuple and len(m) > 0 and m[0] == tag


def _rest():
    T.log(("rest", T.flush()))


def _server(role="server"):
    main = vm.self()
    ok, p = gen_server.start(ConfGS, lambda: ("ok", main))
    return T.name(p, role)


def _watcher():
    main = vm.self()

    def body():
        p = vm.receive(("watch", ANY))[1]
        r = vm.monitor(p)
        vm.send(p, "watching")
        reason = vm.receive(("DOWN", r, ANY, ANY, ANY))[4]
        vm.send(main, ("watched", reason))

    return vm.spawn(body)


def _init_result(init):
    vm.process_flag("trap_exit", True)
    main = vm.self()
    w = _watcher()

    def server_init():
        vm.send(w, ("watch", vm.self()))
        vm.receive("watching")
        return init(main)

    res = gen_server.start_link(ConfGS, server_init)
    if type(res) is tuple and res[0] == "ok":
        p = T.name(res[1], "server")
        T.log(("start", res))
        T.log(("call", gen_server.call(p, "hello")))
        T.log(("stop", gen_server.stop(p)))
        _until(_tag("watched"))
    else:
        T.log(("start", res))
        T.log(T.receive(("watched", ANY), timeout=2.0, after="no_watched"))
        T.settle()
        vm.receive(("EXIT", ANY, ANY), timeout=0)
    _rest()


def _sleep_then(seconds, value):
    vm.sleep(seconds)
    return value


def _forever():
    """``receive after infinity -> ok end``."""
    vm.receive(("never_sent", ANY))


# ==================================================== start results

def gs_init_ok():
    _init_result(lambda main: ("ok", main))


def gs_init_stop():
    _init_result(lambda _: ("stop", "myreason"))


def gs_init_ignore():
    _init_result(lambda _: "ignore")


def gs_init_error():
    """OTP 25 (recorded) treats {error, R} as a bad return value."""
    _init_result(lambda _: ("error", "myreason"))


def gs_init_crash():
    _init_result(_crash)


def gs_init_exit():
    _init_result(lambda _: vm.exit("myreason"))


def gs_init_bad_return():
    _init_result(lambda _: "wrong")


def gs_init_failed_start_leaves_exit():
    vm.process_flag("trap_exit", True)
    for init in [lambda: ("stop", "myreason"),
                 lambda: "ignore",
                 lambda: vm.exit("myreason")]:
        T.log(("start", gen_server.start_link(ConfGS, init)))
        T.settle()
        T.log(("mailbox", T.flush()))


def gs_init_stop_kills_linked_caller():
    def caller():
        gen_server.start_link(ConfGS, lambda: ("stop", "myreason"))
        _forever()

    c = vm.spawn(caller)
    T.name(c, "caller")
    vm.monitor(c)
    _until(_tag("DOWN"))
    _rest()


def gs_init_stop_unregisters_name():
    vm.process_flag("trap_exit", True)
    main = vm.self()
    res = gen_server.start_link(ConfGS, lambda: ("stop", "myreason"), name="srv")
    T.log(("start", res))
    T.log(("whereis", vm.whereis("srv")))
    T.settle()
    vm.receive(("EXIT", ANY, "myreason"), timeout=0)
    ok, p = gen_server.start_link(ConfGS, lambda: ("ok", main), name="srv")
    T.name(p, "server")
    T.log(("whereis", vm.whereis("srv")))
    T.log(("call", gen_server.call("srv", "hello")))
    T.log(("stop", gen_server.stop("srv")))
    _until(_tag("terminate"))
    T.log(("whereis", vm.whereis("srv")))
    T.log(T.receive(("EXIT", ANY, ANY), timeout=0, after="no_exit"))
    _rest()


def gs_init_timeout_option():
    vm.process_flag("trap_exit", True)
    main = vm.self()
    res = gen_server.start_link(ConfGS, lambda: _sleep_then(1.0, ("ok", main)), timeout=0.1)
    T.log(("start", res))
    T.settle()
    _rest()


def gs_already_started():
    main = vm.self()
    ok, p = gen_server.start(ConfGS, lambda: ("ok", main), name="srv")
    T.name(p, "server")

    def init():
        vm.send(main, "init_ran")
        return ("ok", main)

    T.log(("start", gen_server.start(ConfGS, init, name="srv")))
    T.log(("start_link", gen_server.start_link(ConfGS, init, name="srv")))
    T.settle()
    _rest()


def gs_start_monitor():
    main = vm.self()
    res = gen_server.start_monitor(ConfGS, lambda: ("ok", main))
    ok, (p, _) = res
    T.name(p, "server")
    T.log(("start", res))
    T.log(("links", T.info(vm.self(), "links")))
    gen_server.cast(p, ("do", lambda s: ("stop", "bye", s)))
    _until(_tag("DOWN"))
    _rest()


# ===================================================== handle_continue

def gs_continue_before_queued_message():
    main = vm.self()

    def c1(s):
        vm.send(s, ("continue", "c1"))
        return ("noreply", s, ("continue", "c2"))

    def init():
        vm.send(vm.self(), "early")
        return ("ok", main, ("continue", ("do", c1)))

    ok, p = gen_server.start(ConfGS, init)
    T.name(p, "server")
    _until(lambda m: m == ("info", "early"))
    gen_server.stop(p)
    _until(_tag("terminate"))
    _rest()


def gs_continue_after_call():
    p = _server()

    def call(_from, s):
        vm.send(vm.self(), "later")
        return ("reply", "ok", s, ("continue", "c1"))

    reply = gen_server.call(p, ("do", call))
    T.log(("call", reply))
    _until(lambda m: m == ("info", "later"))
    gen_server.stop(p)
    _until(_tag("terminate"))
    _rest()


# ================================================================ calls

def gs_call_timeout_late_reply_dropped():
    p = _server()
    slow = ("do", lambda _from, s: _sleep_then(0.2, ("reply", "late", s)))
    T.log(T.attempt(gen_server.call, p, slow, 0.1))
    vm.sleep(0.3)
    T.log(("mailbox", T.flush()))
    T.log(("call", gen_server.call(p, "hello")))
    T.log(("monitors", T.info(vm.self(), "monitors")))
    _rest()


def gs_call_default_timeout():
    p = _server()
    T.log(T.attempt(gen_server.call, p,
                    ("do", lambda _, s: _sleep_then(4.0, ("reply", "in_time", s)))))
    T.log(T.attempt(gen_server.call, p,
                    ("do", lambda _, s: _sleep_then(6.0, ("reply", "too_late", s)))))
    vm.sleep(1.5)
    T.log(("mailbox", T.flush()))


def gs_call_noproc():
    T.log(T.attempt(gen_server.call, "nobody", "hello"))
    T.log(T.attempt(gen_server.call, "nobody", "hello", 0.1))
    T.log(T.attempt(gen_server.call, ("nobody", vm.node_name()), "hello"))
    p = _server()
    gen_server.stop(p)
    _until(_tag("terminate"))
    T.log(T.attempt(gen_server.call, p, "hello"))
    _rest()


def gs_call_server_stops():
    p = _server()
    vm.monitor(p)
    T.log(T.attempt(gen_server.call, p, ("do", lambda _, s: ("stop", "myreason", s))))
    _until(_tag("DOWN"))
    _rest()


def gs_call_server_crashes():
    p = _server()
    vm.monitor(p)
    T.log(T.attempt(gen_server.call, p, ("do", _crash)))
    _until(_tag("DOWN"))
    _rest()


def gs_call_calling_self():
    main = vm.self()
    ok, p = gen_server.start(ConfGS, lambda: ("ok", main), name="srv")
    T.name(p, "server")

    def attempt(target):
        return ("do", lambda _, s: ("reply", T.attempt(gen_server.call, target, "x"), s))

    T.log(("call", gen_server.call(p, attempt(p))))
    T.log(("call", gen_server.call(p, attempt("srv"))))
    T.log(("alive", vm.is_process_alive(p)))
    _rest()


def gs_call_reply_later():
    p = _server()

    def later(from_, s):
        def reply_now(s2):
            vm.send(s2, ("reply_returned", gen_server.reply(from_, "later")))
            return ("noreply", s2)

        vm.send(vm.self(), ("do", reply_now))
        return ("noreply", s)

    T.log(("call", gen_server.call(p, ("do", later))))
    _until(_tag("reply_returned"))
    _rest()


def gs_call_stop_with_reply():
    p = _server()
    vm.monitor(p)
    T.log(("call", gen_server.call(p, ("do", lambda _, s: ("stop", "normal", "bye", s)))))
    _until(_tag("DOWN"))
    _rest()


def gs_call_bad_return():
    p = _server()
    vm.monitor(p)
    T.log(T.attempt(gen_server.call, p, ("do", lambda _, __: "wrong")))
    _until(_tag("DOWN"))
    _rest()


# ================================================================ casts

def gs_cast_always_ok():
    T.log(("cast", gen_server.cast("nobody", "hello")))
    T.log(("cast", gen_server.cast(("nobody", vm.node_name()), "hello")))
    p = _server()
    T.log(("cast", gen_server.cast(p, "hello")))
    _until(_tag("cast"))
    vm.send(p, ("$gen_cast", "raw"))
    _until(_tag("cast"))
    gen_server.stop(p)
    _until(_tag("terminate"))
    T.log(("cast", gen_server.cast(p, "hello")))
    _rest()


# ============================================================= timeouts

def gs_timeout_restarted_by_messages():
    main = vm.self()
    ok, p = gen_server.start(ConfGS, lambda: ("ok", main, 0.3))
    T.name(p, "server")

    def tick(n):
        def f(s):
            vm.send(s, ("info", n))
            return ("noreply", s, 0.3)
        return ("do", f)

    vm.sleep(0.2)
    vm.send(p, tick(1))
    vm.sleep(0.2)
    vm.send(p, tick(2))
    _until(lambda m: m == ("info", "timeout"))
    _rest()


def gs_timeout_zero_queued_message():
    main = vm.self()

    def early(s):
        vm.send(s, ("info", "early"))
        return ("noreply", s, 0)

    def init():
        vm.send(vm.self(), ("do", early))
        return ("ok", main, 0)

    ok, p = gen_server.start(ConfGS, init)
    T.name(p, "server")
    _until(lambda m: m == ("info", "timeout"))
    T.settle()
    _rest()


def gs_timeout_restarted_by_system_message():
    main = vm.self()
    ok, p = gen_server.start(ConfGS, lambda: ("ok", main, 0.3))
    T.name(p, "server")
    vm.sleep(0.2)
    T.log(("state", otp_sys.get_state(p)))
    vm.sleep(0.2)
    vm.send(p, "ping")
    _until(lambda m: m == ("info", "ping"))
    vm.sleep(0.4)
    _rest()


# ============================================================ terminate

def _terminate_cases(cases):
    for case, trigger in cases:
        T.log(case)
        p = _server()
        vm.monitor(p)
        trigger(p)
        _until(_tag("DOWN"))
    _rest()


def _continue_with(fn):
    return lambda s: ("noreply", s, ("continue", ("do", fn)))


def gs_terminate_stop_tuples():
    _terminate_cases([
        ("from_cast", lambda p: gen_server.cast(
            p, ("do", lambda s: ("stop", ("shutdown", "x"), s)))),
        ("from_info", lambda p: vm.send(p, ("do", lambda s: ("stop", "myreason", s)))),
        ("from_continue", lambda p: gen_server.cast(
            p, ("do", _continue_with(lambda s2: ("stop", "normal", s2))))),
    ])


def gs_terminate_crash():
    _terminate_cases([
        ("from_cast", lambda p: gen_server.cast(p, ("do", _crash))),
        ("from_info", lambda p: vm.send(p, ("do", _crash))),
        ("from_continue", lambda p: gen_server.cast(p, ("do", _continue_with(_crash)))),
    ])


def gs_terminate_bad_return():
    _terminate_cases([
        ("from_cast", lambda p: gen_server.cast(p, ("do", lambda _: "wrong"))),
        ("from_info", lambda p: vm.send(p, ("do", lambda s: ("reply", "oops", s)))),
        ("from_continue", lambda p: gen_server.cast(p, ("do", _continue_with(lambda _: "wrong")))),
    ])


def gs_terminate_exit():
    p = _server()
    vm.monitor(p)
    gen_server.cast(p, ("do", lambda _: vm.exit("myexit")))
    _until(_tag("DOWN"))
    _rest()


def gs_stop_results():
    p = _server()
    T.log(("stop", gen_server.stop(p)))
    _until(_tag("terminate"))
    T.log(("stop_again", T.attempt(gen_server.stop, p)))
    T.log(("stop_unknown", T.attempt(gen_server.stop, "nobody")))
    p2 = _server("s2")
    T.log(("stop", gen_server.stop(p2, ("shutdown", "x"), None)))
    _until(_tag("terminate"))
    _rest()


def _parent_exit(trap, reason):
    main = vm.self()

    def par():
        def init():
            vm.process_flag("trap_exit", trap)
            return ("ok", main)

        ok, p = gen_server.start_link(ConfGS, init)
        vm.send(main, ("server", p))
        vm.exit(vm.receive(("die", ANY))[1])

    par_pid = vm.spawn(par)
    T.name(par_pid, "par")
    p = vm.receive(("server", ANY))[1]
    T.name(p, "server")
    rp = vm.monitor(par_pid)
    rs = vm.monitor(p)
    vm.send(par_pid, ("die", reason))
    vm.receive(("DOWN", rp, ANY, ANY, ANY))
    T.settle()
    T.log(("alive", vm.is_process_alive(p)))
    if vm.is_process_alive(p):
        gen_server.stop(p)
    _until(lambda m: type(m) is tuple and len(m) == 5 and m[0] == "DOWN" and m[1] == rs)
    _rest()


def gs_parent_exit_trap():
    _parent_exit(True, "bye")


def gs_parent_exit_no_trap():
    _parent_exit(False, "bye")


def gs_parent_normal_trap():
    _parent_exit(True, "normal")


def gs_parent_normal_no_trap():
    _parent_exit(False, "normal")


def gs_nonparent_exit_trap():
    main = vm.self()

    def init():
        vm.process_flag("trap_exit", True)
        return ("ok", main)

    ok, p = gen_server.start(ConfGS, init)
    T.name(p, "server")

    def link_other(s):
        def other():
            vm.receive("go")
            vm.exit("bye")

        o = vm.spawn_link(other)
        T.name(o, "other")
        vm.send(o, "go")
        return ("noreply", s)

    vm.send(p, ("do", link_other))
    _until(_tag("info"))
    T.log(("alive", vm.is_process_alive(p)))
    gen_server.stop(p)
    _until(_tag("terminate"))
    _rest()


def gs_supervisor_shutdown():
    vm.process_flag("trap_exit", True)
    main = vm.self()

    def spec(id_, shutdown, opts):
        return {"id": id_, "start": (worker_start_link, (main, id_, opts)),
                "shutdown": shutdown}

    ok, sup = sup_start_link(("ok", ({"strategy": "one_for_one"},
                                     [spec("brutal", "brutal_kill", []),
                                      spec("timeout", 1.0, []),
                                      spec("slow", 0.1, [("slow_terminate", 1.0)]),
                                      spec("no_trap", 1.0, ["no_trap"])])))
    T.name(sup, "sup")
    pids = [T.name(vm.receive(("started", id_, ANY))[2], id_)
            for id_ in ["brutal", "timeout", "slow", "no_trap"]]
    for p in pids:
        vm.monitor(p)
    vm.exit(sup, "shutdown")
    _until(_tag("EXIT"))
    _rest()


# ================================================ multi_call and abcast

def gs_multi_call_abcast():
    main = vm.self()
    ok, p = gen_server.start(ConfGS, lambda: ("ok", main), name="srv")
    T.name(p, "server")
    T.log(("multi_call", gen_server.multi_call("srv", "hello")))
    T.log(("multi_call", gen_server.multi_call("nobody", "hello")))
    T.log(("abcast", gen_server.abcast("srv", "hi")))
    _until(_tag("cast"))
    T.log(("abcast", gen_server.abcast("nobody", "hi")))
    _rest()
