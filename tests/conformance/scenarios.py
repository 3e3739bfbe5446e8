"""Python twins of the conformance scenarios in erlang/scenarios.erl.

Every public function here is a scenario with the same name as its Erlang
twin and must log the same trace (golden/<name>.trace). Each one is a literal
translation: atoms become strings, ``Pid ! Msg`` becomes ``vm.send``, times
in ms become seconds, ``receive .. after T -> X end`` becomes
``T.receive(.., timeout=T, after=X)``, ``error(boom)`` becomes
``raise RuntimeError("boom")``. See trace.py for the canonical text and the
mapping of Pythonic return values. Helpers start with an underscore.
"""
from __future__ import annotations

import time

import vm
from vm import ANY

from . import trace as T

# ================================================================ helpers


def _crash():
    raise RuntimeError("boom")


def _agent_loop(main):
    """Forward every message to main as ("a_got", m), run ("do", fn), end on stop."""
    while True:
        msg = vm.receive()
        if msg == "stop":
            return
        if isinstance(msg, tuple) and len(msg) == 2 and msg[0] == "do":
            msg[1]()
        else:
            vm.send(main, ("a_got", msg))


def _agent(role, trap):
    main = vm.self()

    def body():
        vm.process_flag("trap_exit", trap)
        vm.send(main, ("ready", vm.self()))
        _agent_loop(main)

    p = vm.spawn(body)
    T.name(p, role)
    vm.receive(("ready", p))
    return p


def _idle(role):
    main = vm.self()

    def body():
        vm.send(main, ("ready", vm.self()))
        vm.receive("stop")

    p = vm.spawn(body)
    T.name(p, role)
    vm.receive(("ready", p))
    return p


def _dead_pid(role):
    p, r = vm.spawn_monitor(lambda: None)
    T.name(p, role)
    vm.receive(("DOWN", r, "process", p, ANY))
    return p


def _down(ref):
    return T.receive(("DOWN", ref, ANY, ANY, ANY), timeout=2.0, after="no_down")


def _aftermath(p, ref):
    T.settle()
    T.drain("a_got")
    T.log(("alive", vm.is_process_alive(p)))
    vm.send(p, "stop")
    T.log(_down(ref))


def _link_signal(trap, exit_fn):
    main = vm.self()

    def a_body():
        vm.process_flag("trap_exit", trap)

        def b_body():
            vm.receive("go")
            exit_fn()

        b = vm.spawn_link(b_body)
        vm.send(main, ("b", b))
        _agent_loop(main)

    a = vm.spawn(a_body)
    T.name(a, "a")
    b = vm.receive(("b", ANY))[1]
    T.name(b, "b")
    ra = vm.monitor(a)
    rb = vm.monitor(b)
    vm.send(b, "go")
    T.log(_down(rb))
    _aftermath(a, ra)


def _exit_signal(trap, reason):
    p = _agent("p", trap)
    r = vm.monitor(p)
    T.log(("exit_returned", vm.exit(p, reason)))
    _aftermath(p, r)


def _exit_self(trap, reason):
    main = vm.self()
    p = _agent("p", trap)
    r = vm.monitor(p)

    def do():
        ret = vm.exit(vm.self(), reason)
        vm.send(main, ("a_got", ("after_exit", ret)))

    vm.send(p, ("do", do))
    _aftermath(p, r)


def _chain():
    main = vm.self()

    def a_body():
        def b_body():
            c = vm.spawn_link(_agent_loop, main)
            vm.send(main, ("c", c))
            _agent_loop(main)

        b = vm.spawn_link(b_body)
        vm.send(main, ("b", b))
        _agent_loop(main)

    a = vm.spawn(a_body)
    T.name(a, "a")
    b = vm.receive(("b", ANY))[1]
    T.name(b, "b")
    c = vm.receive(("c", ANY))[1]
    T.name(c, "c")
    refs = [vm.monitor(p) for p in (a, b, c)]
    return a, refs


def _log_downs(refs):
    for r in refs:
        T.log(_down(r))


def _got(msg, label, after):
    """Erlang's ``receive x -> label after 0 -> after end`` after the fact."""
    return after if msg is vm.TIMEOUT else label


# ================================================ 1.2 exit signals, L rows

def link_normal_no_trap():
    _link_signal(False, lambda: None)


def link_normal_trap():
    _link_signal(True, lambda: None)


def link_kill_no_trap():
    _link_signal(False, lambda: vm.exit("kill"))


def link_kill_trap():
    _link_signal(True, lambda: vm.exit("kill"))


def link_reason_no_trap():
    _link_signal(False, lambda: vm.exit("boom"))


def link_reason_trap():
    _link_signal(True, lambda: vm.exit("boom"))


def link_crash_no_trap():
    _link_signal(False, _crash)


def link_crash_trap():
    _link_signal(True, _crash)


def link_killed_no_trap():
    _link_signal(False, lambda: vm.exit(vm.self(), "kill"))


def link_killed_trap():
    _link_signal(True, lambda: vm.exit(vm.self(), "kill"))


# ================================================ 1.2 exit signals, X rows

def exit2_normal_no_trap():
    _exit_signal(False, "normal")


def exit2_normal_trap():
    _exit_signal(True, "normal")


def exit2_kill_no_trap():
    _exit_signal(False, "kill")


def exit2_kill_trap():
    _exit_signal(True, "kill")


def exit2_reason_no_trap():
    _exit_signal(False, "boom")


def exit2_reason_trap():
    _exit_signal(True, "boom")


def exit2_self_normal_no_trap():
    _exit_self(False, "normal")


def exit2_self_normal_trap():
    _exit_self(True, "normal")


def exit2_self_kill_trap():
    _exit_self(True, "kill")


def exit2_self_reason_no_trap():
    _exit_self(False, "boom")


def exit2_self_reason_trap():
    _exit_self(True, "boom")


def exit2_dead_target():
    p = _dead_pid("p")
    T.log(("exit_returned", vm.exit(p, "boom")))
    T.log(("exit_returned", vm.exit(p, "kill")))


def exit1_catchable():
    T.log(T.attempt(vm.exit, "foo"))
    T.log(T.attempt(vm.exit, ("shutdown", "x")))
    T.log(("alive", vm.is_process_alive(vm.self())))


def _busy(main):
    vm.send(main, ("started", vm.self()))
    # Erlang's twin loops forever; this one gives up after 2 s of wall-clock
    # time so that a VM that cannot preempt it fails the test instead of
    # hanging it (it then exits normally and the trace shows it).
    deadline = time.monotonic() + 2.0
    n = 0
    while time.monotonic() < deadline:
        n += 1


def exit2_busy_process():
    """Signals reach a process that never calls receive (and main only runs
    again if the busy process is preempted)."""
    p = vm.spawn(_busy, vm.self())
    T.name(p, "p")
    r = vm.monitor(p)
    vm.receive(("started", p))
    T.log(("alive", vm.is_process_alive(p)))
    vm.exit(p, "boom")
    T.log(_down(r))


def chain_exit2_kill():
    a, refs = _chain()
    vm.exit(a, "kill")
    _log_downs(refs)


def chain_exit_kill():
    a, refs = _chain()
    vm.send(a, ("do", lambda: vm.exit("kill")))
    _log_downs(refs)


def chain_exit_reason():
    a, refs = _chain()
    vm.send(a, ("do", lambda: vm.exit("boom")))
    _log_downs(refs)


# ================================================================ 1.3 links

def link_dead_no_trap():
    p = _dead_pid("p")
    T.log(("link", T.attempt(vm.link, p)))
    T.log(("links", T.info(vm.self(), "links")))


def link_dead_trap():
    vm.process_flag("trap_exit", True)
    p = _dead_pid("p")
    T.log(("link", T.attempt(vm.link, p)))
    T.log(T.receive(("EXIT", ANY, ANY), timeout=2.0, after="no_exit"))
    T.log(("links", T.info(vm.self(), "links")))


def link_badarg():
    T.log(("link", T.attempt(vm.link, "foo")))


def link_idempotent():
    vm.process_flag("trap_exit", True)
    p = _agent("p", False)
    T.log(("link", vm.link(p)))
    T.log(("link", vm.link(p)))
    T.log(("my_links", T.info(vm.self(), "links")))
    T.log(("p_links", T.info(p, "links")))
    vm.send(p, "stop")
    T.log(T.receive(("EXIT", ANY, ANY), timeout=2.0, after="no_exit"))
    extra = vm.receive(timeout=0.2)
    T.log("no_more" if extra is vm.TIMEOUT else ("extra", extra))


def link_self_noop():
    T.log(("link", vm.link(vm.self())))
    T.log(("links", T.info(vm.self(), "links")))
    T.log(("unlink", vm.unlink(vm.self())))


def link_from_peer():
    vm.process_flag("trap_exit", True)
    main = vm.self()
    p = _agent("p", False)
    vm.send(p, ("do", lambda: vm.link(main)))
    T.settle()
    T.log(("my_links", T.info(vm.self(), "links")))
    vm.send(p, ("do", lambda: vm.exit("boom")))
    T.log(T.receive(("EXIT", ANY, ANY), timeout=2.0, after="no_exit"))


def unlink_then_peer_dies():
    vm.process_flag("trap_exit", True)
    p = _agent("p", False)
    vm.link(p)
    T.log(("unlink", vm.unlink(p)))
    T.log(("my_links", T.info(vm.self(), "links")))
    T.log(("p_links", T.info(p, "links")))
    r = vm.monitor(p)
    vm.send(p, ("do", lambda: vm.exit("boom")))
    T.log(_down(r))
    extra = vm.receive(timeout=0.2)
    T.log("no_more" if extra is vm.TIMEOUT else ("extra", extra))


def unlink_no_trap_survives():
    p = _agent("p", False)
    vm.link(p)
    vm.unlink(p)
    r = vm.monitor(p)
    vm.send(p, ("do", lambda: vm.exit("boom")))
    T.log(_down(r))
    T.settle()
    T.log("survived")


def unlink_leaves_queued_exit():
    vm.process_flag("trap_exit", True)
    p = _agent("p", False)
    vm.link(p)
    r = vm.monitor(p)
    vm.send(p, ("do", lambda: vm.exit("boom")))
    T.log(_down(r))
    T.settle()
    T.log(("queued", T.info(vm.self(), "message_queue_len")))
    T.log(("unlink", vm.unlink(p)))
    T.log(T.receive(("EXIT", ANY, ANY), timeout=0, after="no_exit"))


def unlink_not_linked():
    p = _agent("p", False)
    T.log(("unlink", vm.unlink(p)))
    T.log(("p_links", T.info(p, "links")))


def link_removed_after_exit():
    vm.process_flag("trap_exit", True)
    p = _agent("p", False)
    vm.link(p)
    T.log(("my_links", T.info(vm.self(), "links")))
    vm.send(p, "stop")
    T.log(T.receive(("EXIT", ANY, ANY), timeout=2.0, after="no_exit"))
    T.log(("my_links", T.info(vm.self(), "links")))


# ============================================================= 1.3 monitors

def monitor_down_normal():
    p = _agent("p", False)
    r = vm.monitor(p)
    T.log(("monitor", r))
    vm.send(p, "stop")
    T.log(_down(r))


def monitor_down_reasons():
    cases = [
        ("p1", lambda p: vm.send(p, ("do", lambda: vm.exit("boom")))),
        ("p2", lambda p: vm.send(p, ("do", lambda: vm.exit("kill")))),
        ("p3", lambda p: vm.exit(p, "kill")),
        ("p4", lambda p: vm.send(p, ("do", _crash))),
        ("p5", lambda p: vm.send(p, ("do", lambda: vm.exit(("shutdown", "bye"))))),
        ("p6", lambda p: vm.exit(p, ("shutdown", "bye"))),
        ("p7", lambda p: vm.exit(p, ("error", [1, b"x", {"k": "v"}]))),
    ]
    for role, trigger in cases:
        p = _agent(role, False)
        r = vm.monitor(p)
        trigger(p)
        T.log(_down(r))


def monitor_dead_noproc():
    p = _dead_pid("p")
    r = vm.monitor(p)
    T.log(("monitor", r))
    T.log(_down(r))


def monitor_twice():
    p = _agent("p", False)
    r1 = vm.monitor(p)
    r2 = vm.monitor(p)
    T.log(("distinct", r1 != r2))
    T.log(("monitored_by", T.info(p, "monitored_by")))
    vm.send(p, "stop")
    T.log(_down(r1))
    T.log(_down(r2))


def monitor_by_name():
    p = _agent("p", False)
    vm.register("srv", p)
    r = vm.monitor("srv")
    T.log(("monitored_by", T.info(p, "monitored_by")))
    vm.send(p, "stop")
    T.log(_down(r))


def monitor_name_unregistered():
    r = vm.monitor("nobody")
    T.log(_down(r))


def monitor_name_resolved_once():
    p1 = _agent("p1", False)
    p2 = _agent("p2", False)
    vm.register("srv", p1)
    r = vm.monitor("srv")
    vm.unregister("srv")
    vm.register("srv", p2)
    vm.exit(p1, "kill")
    T.log(_down(r))
    T.log(("p2_alive", vm.is_process_alive(p2)))
    T.log(("whereis", vm.whereis("srv")))


def monitor_removed_after_down():
    p = _agent("p", False)
    r = vm.monitor(p)
    T.log(("monitors", T.info(vm.self(), "monitors")))
    vm.send(p, "stop")
    T.log(_down(r))
    T.log(("monitors", T.info(vm.self(), "monitors")))


def monitor_self():
    r = vm.monitor(vm.self())
    T.log(("monitors", T.info(vm.self(), "monitors")))
    T.log(("demonitor", vm.demonitor(r, info=True)))
    T.log(("monitors", T.info(vm.self(), "monitors")))


def _queued_down():
    """Make p exit with a DOWN for the returned ref queued."""
    p = _agent("p", False)
    r = vm.monitor(p)
    r2 = vm.monitor(p)
    vm.send(p, "stop")
    vm.receive(("DOWN", r2, ANY, ANY, ANY))
    T.settle()
    T.log(("queued", T.info(vm.self(), "message_queue_len")))
    return r


def demonitor_flush():
    r = _queued_down()
    T.log(("demonitor", vm.demonitor(r, flush=True)))
    T.log(("queued", T.info(vm.self(), "message_queue_len")))


def demonitor_flush_info_after_down():
    r = _queued_down()
    T.log(("demonitor", vm.demonitor(r, flush=True, info=True)))
    T.log(("queued", T.info(vm.self(), "message_queue_len")))


def demonitor_info_after_down():
    r = _queued_down()
    T.log(("demonitor", vm.demonitor(r, info=True)))
    T.log(("queued", T.info(vm.self(), "message_queue_len")))
    T.log(_down(r))


def demonitor_info_active():
    p = _agent("p", False)
    r = vm.monitor(p)
    T.log(("demonitor", vm.demonitor(r, info=True)))
    T.log(("monitored_by", T.info(p, "monitored_by")))
    vm.send(p, "stop")
    T.log(T.receive(("DOWN", ANY, ANY, ANY, ANY), timeout=0.2, after="no_down"))


def demonitor_after_down():
    p = _agent("p", False)
    r = vm.monitor(p)
    vm.send(p, "stop")
    T.log(_down(r))
    T.log(("demonitor", vm.demonitor(r)))
    T.log(("demonitor", vm.demonitor(r, info=True)))


def demonitor_leaves_queued_down():
    r = _queued_down()
    T.log(("demonitor", vm.demonitor(r)))
    T.log(T.receive(("DOWN", r, ANY, ANY, ANY), timeout=0, after="no_down"))


# ======================================= spawn_link, spawn_monitor, spawn_opt

def spawn_returns_pid():
    main = vm.self()
    p = vm.spawn(lambda: vm.send(main, ("hello", vm.self())))
    T.name(p, "child")
    msg = vm.receive(("hello", ANY))
    T.log(msg)
    T.log(("same", p == msg[1]))


def spawn_link_crash_immediately():
    vm.process_flag("trap_exit", True)
    p = vm.spawn_link(_crash)
    T.name(p, "child")
    T.log(T.receive(("EXIT", ANY, ANY), timeout=2.0, after="no_exit"))


def spawn_link_exit_immediately():
    vm.process_flag("trap_exit", True)
    p = vm.spawn_link(vm.exit, "boom")
    T.name(p, "child")
    T.log(T.receive(("EXIT", ANY, ANY), timeout=2.0, after="no_exit"))


def spawn_link_normal_immediately():
    vm.process_flag("trap_exit", True)
    p = vm.spawn_link(lambda: None)
    T.name(p, "child")
    T.log(T.receive(("EXIT", ANY, ANY), timeout=2.0, after="no_exit"))


def spawn_monitor_exit():
    p, r = vm.spawn_monitor(vm.exit, "boom")
    T.name(p, "child")
    T.log(("spawned", p, r))
    T.log(_down(r))


def spawn_monitor_crash():
    p, r = vm.spawn_monitor(_crash)
    T.name(p, "child")
    T.log(_down(r))


def spawn_opt_link_monitor():
    vm.process_flag("trap_exit", True)
    p, r = vm.spawn_opt(vm.exit, ("boom",), link=True, monitor=True)
    T.name(p, "child")
    T.log(("spawned", p, r))
    T.log(_down(r))
    T.log(T.receive(("EXIT", ANY, ANY), timeout=2.0, after="no_exit"))


def is_alive_after_kill():
    p = _agent("p", False)
    T.log(("alive", vm.is_process_alive(p)))
    vm.exit(p, "kill")
    T.log(("alive", vm.is_process_alive(p)))
    T.log(("self_alive", vm.is_process_alive(vm.self())))


# ================================================== 1.6 send, 1.7 registry

def send_dead_pid():
    p = _dead_pid("p")
    T.log(("send", T.attempt(vm.send, p, "hello")))


def send_unregistered_name():
    T.log(("send", T.attempt(vm.send, "nobody", "hello")))


def send_name_node_tuple():
    """Settles on a real node a point OTP's documentation leaves open."""
    p = _agent("p", False)
    vm.register("foo", p)
    T.log(("send", T.attempt(vm.send, ("foo", "nonode@nohost"), "hello")))
    T.log(T.receive(("a_got", ANY), timeout=2.0, after="nothing"))
    T.log(("send", T.attempt(vm.send, ("nobody", "nonode@nohost"), "hello")))


def send_name_after_death():
    p = _agent("p", False)
    vm.register("foo", p)
    r = vm.monitor(p)
    vm.exit(p, "kill")
    T.log(_down(r))
    T.log(("send", T.attempt(vm.send, "foo", "hello")))


def register_basic():
    p = _agent("p", False)
    T.log(("register", vm.register("foo", p)))
    T.log(("whereis", vm.whereis("foo")))
    T.log(("member", "foo" in vm.registered()))
    T.log(("send", vm.send("foo", "hello")))
    T.log(T.receive(("a_got", ANY), timeout=2.0, after="nothing"))
    T.log(("registered_name", T.info(p, "registered_name")))
    T.log(("unregister", vm.unregister("foo")))
    T.log(("whereis", vm.whereis("foo")))
    T.log(("member", "foo" in vm.registered()))
    T.log(("registered_name", T.info(p, "registered_name")))


def register_badarg_taken():
    p1 = _agent("p1", False)
    p2 = _agent("p2", False)
    T.log(("register", T.attempt(vm.register, "foo", p1)))
    T.log(("register", T.attempt(vm.register, "foo", p2)))
    T.log(("whereis", vm.whereis("foo")))


def register_badarg_has_name():
    p = _agent("p", False)
    T.log(("register", T.attempt(vm.register, "foo", p)))
    T.log(("register", T.attempt(vm.register, "bar", p)))
    T.log(("register", T.attempt(vm.register, "foo", p)))
    T.log(("whereis", vm.whereis("bar")))


def register_badarg_dead():
    p = _dead_pid("p")
    T.log(("register", T.attempt(vm.register, "foo", p)))
    T.log(("whereis", vm.whereis("foo")))


def register_badarg_undefined():
    T.log(("register", T.attempt(vm.register, "undefined", vm.self())))


def register_badarg_not_atom():
    T.log(("register", T.attempt(vm.register, 42, vm.self())))


def register_badarg_not_pid():
    T.log(("register", T.attempt(vm.register, "foo", 42)))


def unregister_unregistered():
    T.log(("unregister", T.attempt(vm.unregister, "nobody")))


def whereis_undefined():
    T.log(("whereis", vm.whereis("nobody")))


def name_released_before_down():
    p = _agent("p", False)
    vm.register("srv", p)
    r = vm.monitor(p)
    vm.exit(p, "kill")
    msg = vm.receive(("DOWN", r, ANY, ANY, ANY), timeout=2.0)
    if msg is vm.TIMEOUT:
        T.log("no_down")
    else:
        T.log(("down", msg[4]))
        T.log(("whereis", vm.whereis("srv")))
        T.log(("register", T.attempt(vm.register, "srv", vm.self())))
    T.log(("whereis", vm.whereis("srv")))


def name_released_before_exit():
    vm.process_flag("trap_exit", True)
    p = _agent("p", False)
    vm.link(p)
    vm.register("srv", p)
    vm.send(p, ("do", lambda: vm.exit("boom")))
    msg = vm.receive(("EXIT", p, ANY), timeout=2.0)
    if msg is vm.TIMEOUT:
        T.log("no_exit")
    else:
        T.log(("exit", msg[2]))
        T.log(("whereis", vm.whereis("srv")))
        T.log(("register", T.attempt(vm.register, "srv", vm.self())))
    T.log(("whereis", vm.whereis("srv")))


# ======================================================= 1.5 selective receive

def recv_selective():
    for m in ("a", "b", "c"):
        vm.send(vm.self(), m)
    vm.receive("c")
    T.log("got_c")
    T.log(("messages", T.info(vm.self(), "messages")))
    T.log(("rest", T.flush()))


def recv_oldest_message_first():
    vm.send(vm.self(), "b")
    vm.send(vm.self(), "a")
    T.log(("first", vm.receive("a", "b")))
    T.log(("rest", T.flush()))


def recv_skipped_stay_in_order():
    for m in [("x", 1), ("y", 1), ("x", 2), ("y", 2), ("x", 3)]:
        vm.send(vm.self(), m)
    T.log(vm.receive(("y", ANY)))
    T.log(vm.receive(("y", ANY)))
    T.log(T.receive(("y", ANY), timeout=0, after="no_y"))
    T.log(("rest", T.flush()))


def _junk(main):
    """20 junk messages, one every 20 ms."""
    for n in range(1, 21):
        vm.sleep(0.02)
        vm.send(main, ("junk", n))
    vm.send(main, "junk_done")


def recv_timeout_not_restarted():
    j = vm.spawn(_junk, vm.self())
    T.name(j, "j")
    T.log(_got(vm.receive("x", timeout=0.1), "got_x", "timeout"))
    T.log(T.receive("junk_done", timeout=5.0, after="no_junk_done"))
    T.log(("rest", T.flush()))


def recv_after_zero():
    T.log(_got(vm.receive("x", timeout=0), "got_x", "timeout"))
    vm.send(vm.self(), "junk")
    T.log(_got(vm.receive("x", timeout=0), "got_x", "timeout"))
    vm.send(vm.self(), "x")
    T.log(_got(vm.receive("x", timeout=0), "got_x", "timeout"))
    T.log(("rest", T.flush()))


def recv_after_as_sleep():
    vm.send(vm.self(), "m")
    vm.sleep(0.05)
    T.log("slept")
    T.log(("messages", T.info(vm.self(), "messages")))


def recv_blocked_wakes_on_match():
    main = vm.self()

    def body():
        vm.send(main, ("ready", vm.self()))
        m = vm.receive(("match", ANY))
        vm.send(main, ("p_got", m, T.flush()))

    p = vm.spawn(body)
    T.name(p, "p")
    vm.receive(("ready", p))
    vm.send(p, "junk1")
    vm.send(p, "junk2")
    T.settle()
    T.log(("status", T.info(p, "status")))
    T.log(("p_messages", T.info(p, "messages")))
    vm.send(p, ("match", 1))
    T.log(T.receive(("p_got", ANY, ANY), timeout=2.0, after="nothing"))


# ================================================================ 1.4 ordering

def order_message_then_exit():
    p = _agent("p", True)
    r = vm.monitor(p)
    vm.send(p, "m1")
    vm.exit(p, "boom")
    vm.send(p, "m2")
    _aftermath(p, r)


def order_pair_fifo():
    main = vm.self()

    def body():
        for n in range(1, 11):
            vm.send(main, ("n", n))

    p = vm.spawn(body)
    T.name(p, "p")
    got = []
    for _ in range(10):
        msg = vm.receive(("n", ANY), timeout=2.0)
        got.append("timeout" if msg is vm.TIMEOUT else msg[1])
    T.log(got)


# ================================================================ 1.12 timers

def timer_send_after():
    r = vm.send_after(0.05, vm.self(), "hello")
    T.log(("timer", r))
    T.log(_got(vm.receive("hello", timeout=2.0), "got_hello", "timeout"))
    T.log(("rest", T.flush()))


def timer_start_timer():
    r = vm.start_timer(0.05, vm.self(), "hello")
    T.log(("timer", r))
    T.log(T.receive(("timeout", ANY, ANY), timeout=2.0, after="timeout"))


def timer_cancel_fired():
    r = vm.send_after(0.01, vm.self(), "hello")
    T.log(_got(vm.receive("hello", timeout=2.0), "got_hello", "timeout"))
    T.log(("cancel", T.timer_left(vm.cancel_timer(r))))
    T.log(("read", T.timer_left(vm.read_timer(r))))


def timer_cancel_pending():
    r = vm.send_after(0.2, vm.self(), "hello")
    T.log(("read", T.timer_left(vm.read_timer(r))))
    T.log(("cancel", T.timer_left(vm.cancel_timer(r))))
    T.log(("cancel", T.timer_left(vm.cancel_timer(r))))
    T.log(("read", T.timer_left(vm.read_timer(r))))
    T.log(_got(vm.receive("hello", timeout=0.4), "got_hello", "timeout"))


def timer_order():
    vm.send_after(0.15, vm.self(), "late")
    vm.send_after(0.05, vm.self(), "early")
    T.log(T.receive(timeout=2.0, after="timeout"))
    T.log(T.receive(timeout=2.0, after="timeout"))


def timer_auto_cancel_on_exit():
    p = _agent("p", False)
    t = vm.send_after(0.5, p, "hello")
    r = vm.monitor(p)
    vm.exit(p, "kill")
    T.log(_down(r))
    T.log(("cancel", T.timer_left(vm.cancel_timer(t))))


def timer_dead_target():
    p = _dead_pid("p")
    t = vm.send_after(0.5, p, "hello")
    T.log(("cancel", T.timer_left(vm.cancel_timer(t))))


def timer_name_delivered():
    p = _agent("p", False)
    vm.register("foo", p)
    vm.send_after(0.05, "foo", "hello")
    T.log(T.receive(("a_got", ANY), timeout=2.0, after="nothing"))


def timer_name_unregistered_dropped():
    p = _agent("p", False)
    vm.register("foo", p)
    t = vm.send_after(0.1, "foo", "hello")
    vm.unregister("foo")
    T.log(("read", T.timer_left(vm.read_timer(t))))
    vm.sleep(0.3)
    T.log(("read", T.timer_left(vm.read_timer(t))))
    T.drain("a_got")
    T.log(("alive", vm.is_process_alive(p)))
    T.log(("whereis", vm.whereis("foo")))


def timer_badarg():
    # Erlang's `infinity` is Python's None; -1 ms is -0.001 s.
    T.log(("infinity", T.attempt(vm.send_after, None, vm.self(), "x")))
    T.log(("negative", T.attempt(vm.send_after, -0.001, vm.self(), "x")))
    T.log(("start_timer", T.attempt(vm.start_timer, -0.001, vm.self(), "x")))
    T.log(("rest", T.flush()))


# ========================================================= 1.10 process_info

def pinfo_status_waiting():
    p = _idle("p")
    T.settle()
    T.log(("status", T.info(p, "status")))


def pinfo_status_running():
    T.log(("status", T.info(vm.self(), "status")))


def pinfo_message_queue():
    p = _idle("p")
    for m in ("a", "b", "c"):
        vm.send(p, m)
    T.log(("message_queue_len", T.info(p, "message_queue_len")))
    T.log(("messages", T.info(p, "messages")))
    T.log(("my_queue_len", T.info(vm.self(), "message_queue_len")))


def pinfo_links():
    vm.process_flag("trap_exit", True)
    p1 = _agent("p1", False)
    p2 = _agent("p2", False)
    vm.link(p1)
    vm.link(p2)
    T.log(("my_links", T.info(vm.self(), "links")))
    T.log(("p1_links", T.info(p1, "links")))
    T.log(("p2_links", T.info(p2, "links")))


def pinfo_monitors():
    p = _agent("p", False)
    q = _agent("q", False)
    vm.register("q", q)
    vm.monitor(p)
    vm.monitor("q")
    T.log(("monitors", T.info(vm.self(), "monitors")))
    T.log(("p_monitored_by", T.info(p, "monitored_by")))
    T.log(("q_monitored_by", T.info(q, "monitored_by")))
    T.log(("p_monitors", T.info(p, "monitors")))


def pinfo_registered_name():
    p = _agent("p", False)
    T.log(("registered_name", T.info(p, "registered_name")))
    vm.register("foo", p)
    T.log(("registered_name", T.info(p, "registered_name")))
    r = vm.monitor(p)
    vm.exit(p, "kill")
    _down(r)
    T.log(("registered_name", T.info(p, "registered_name")))


def pinfo_dead():
    p = _dead_pid("p")
    for item in ("status", "message_queue_len", "messages", "links", "monitors",
                 "monitored_by", "registered_name", "dictionary", "trap_exit"):
        T.log((item, T.info(p, item)))


def pinfo_trap_exit():
    T.log(("trap_exit", T.info(vm.self(), "trap_exit")))
    vm.process_flag("trap_exit", True)
    T.log(("trap_exit", T.info(vm.self(), "trap_exit")))
    p = _agent("p", True)
    T.log(("p_trap_exit", T.info(p, "trap_exit")))


def pinfo_dictionary():
    main = vm.self()
    p = _agent("p", False)
    T.log(("dictionary", T.info(p, "dictionary")))

    def do():
        vm.put("k2", "two")
        vm.put("k1", "one")
        vm.send(main, ("a_got", "put_done"))

    vm.send(p, ("do", do))
    T.log(T.receive(("a_got", ANY), timeout=2.0, after="nothing"))
    T.log(("dictionary", T.info(p, "dictionary")))


# ============================================== 1.8 dictionary, 1.9 flags

def pdict_return_values():
    T.log(("put", vm.put("a", 1)))
    T.log(("put", vm.put("a", 2)))
    T.log(("get", vm.get("a")))
    T.log(("get", vm.get("b")))
    vm.put("b", 3)
    T.log(("get_keys", T.sorted_terms(vm.get_keys())))
    T.log(("get_all", T.pairs(vm.get())))
    T.log(("erase", vm.erase("a")))
    T.log(("erase", vm.erase("a")))
    vm.put("c", 4)
    T.log(("erase_all", T.pairs(vm.erase())))
    T.log(("get_all", T.pairs(vm.get())))


def flag_trap_exit_old_value():
    T.log(("old", vm.process_flag("trap_exit", True)))
    T.log(("old", vm.process_flag("trap_exit", True)))
    T.log(("old", vm.process_flag("trap_exit", False)))
    T.log(("now", T.info(vm.self(), "trap_exit")))


def flag_priority_old_value():
    T.log(("old", vm.process_flag("priority", "high")))
    T.log(("now", T.info(vm.self(), "priority")))
    T.log(("old", vm.process_flag("priority", "low")))
    T.log(("old", vm.process_flag("priority", "normal")))
    T.log(("now", T.info(vm.self(), "priority")))


# ======================================================== 1.11 hibernation

def _hib_wake(main):
    m = vm.receive()
    vm.send(main, ("woke", m))


def hibernate_wakes_on_message():
    main = vm.self()

    def body():
        vm.send(main, ("ready", vm.self()))
        vm.hibernate(_hib_wake, main)

    p = vm.spawn(body)
    T.name(p, "p")
    vm.receive(("ready", p))
    T.settle()
    T.log(("status", T.info(p, "status")))
    T.log(("alive", vm.is_process_alive(p)))
    vm.send(p, "hello")
    T.log(T.receive(("woke", ANY), timeout=2.0, after="nothing"))


def hibernate_with_queued_message():
    main = vm.self()

    def body():
        vm.receive("go")
        vm.hibernate(_hib_wake, main)

    p = vm.spawn(body)
    T.name(p, "p")
    vm.send(p, "go")
    vm.send(p, "hello")
    T.log(T.receive(("woke", ANY), timeout=2.0, after="nothing"))


# ================================================== the printers agree

def format_selfcheck():
    T.log(["EXIT", "DOWN", "after", "a b", "it's", "a\\b", "", "Caps",
           "nonode@nohost", "ok_2"])
    T.log([0, -5, 123456789012345678901234567890])
    T.log([True, False, None, (), [], ([],), [()]])
    T.log([b"", b"hi", b'q"b\\s\n' + bytes([0, 255])])
    T.log({"b": 2, "a": [1], ("k",): {}})
    T.log((vm.self(), vm.self(), vm.make_ref()))
    r = vm.make_ref()
    T.log([r, vm.make_ref(), r])
    p = vm.spawn(lambda: None)
    T.log(("unnamed", p))
    T.name(p, "late_name")
    T.log(("named", p))
    T.log(T.sorted_terms(["c", ("b",), ["a"], 10, 9, "b"]))
