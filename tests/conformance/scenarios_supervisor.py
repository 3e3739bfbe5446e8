"""Python twins of the supervisor scenarios in erlang/scenarios_supervisor.erl.

Every public function is a scenario with the same name as its Erlang twin
and must log the same trace (golden/supervisor/<name>.trace). Literal
translations (see scenarios.py): conf_sup is callbacks.ConfSup (started by
`sup_start_link`), conf_worker's start functions are callbacks.worker_*,
a child spec map is a dict with ``"start": (fn, args)``, times are
seconds. Pythonic return values are put in Erlang's shape by trace.py:
count_children's dict by `T.counts`, a shutdown in seconds by `T.ms`.
"""
from __future__ import annotations

import vm
from stdlib import gen_server, supervisor
from vm import ANY

from . import trace as T
from .callbacks import (
    sup_start_link,
    worker_start_fail,
    worker_start_ignore,
    worker_start_link,
    worker_start_once,
)

# ================================================================ helpers


def _spec(id_, **extra):
    return {"id": id_, "start": (worker_start_link, (vm.self(), id_)), **extra}


def _sup(flags, specs, role="sup"):
    vm.process_flag("trap_exit", True)
    ok, sup = sup_start_link(("ok", (flags, specs)))
    return T.name(sup, role)


def _event(msg):
    if type(msg) is tuple and len(msg) == 3 and msg[0] == "started":
        T.name(msg[2], msg[1])
        return ("started", msg[1])
    return msg


def _until(done):
    while True:
        msg = vm.receive(timeout=2.0)
        if msg is vm.TIMEOUT:
            T.log("no_more")
            return
        event = _event(msg)
        T.log(event)
        if done(event):
            return


def _until_event(event):
    _until(lambda e: e == event)


def _until_exit():
    _until(lambda e: type(e) is tuple and len(e) > 0 and e[0] == "EXIT")


def _settled(sup):
    supervisor.count_children(sup)
    for msg in T.flush():
        T.log(_event(msg))


def _child(sup, id_):
    for cid, pid, _type, _modules in supervisor.which_children(sup):
        if cid == id_:
            return pid
    raise LookupError(f"no child {id_!r}")


def _stop_child(sup, id_, cast):
    p = _child(sup, id_)
    r = vm.monitor(p)
    gen_server.cast(p, cast)
    vm.receive(("DOWN", r, ANY, ANY, ANY))


def _which(sup):
    return [(cid, child, ctype) for cid, child, ctype, _modules in supervisor.which_children(sup)]


def _count(sup):
    return T.counts(supervisor.count_children(sup))


def _shutdown(sup):
    vm.exit(sup, "shutdown")
    _until_exit()


def _rest():
    T.log(("rest", T.flush()))


# ============================================ start order, strategies

def sup_start_and_shutdown_order():
    sup = _sup({"strategy": "one_for_one"}, [_spec("a"), _spec("b"), _spec("c")])
    _until_event(("started", "c"))
    T.log(("which", _which(sup)))
    T.log(("count", _count(sup)))
    _shutdown(sup)
    _rest()


def sup_one_for_one():
    sup = _sup({"strategy": "one_for_one"}, [_spec("a"), _spec("b"), _spec("c")])
    _until_event(("started", "c"))
    _stop_child(sup, "b", "crash")
    _settled(sup)
    T.log(("which", _which(sup)))
    _shutdown(sup)
    _rest()


def sup_one_for_all():
    sup = _sup({"strategy": "one_for_all"}, [_spec("a"), _spec("b"), _spec("c")])
    _until_event(("started", "c"))
    _stop_child(sup, "b", "crash")
    _settled(sup)
    T.log(("which", _which(sup)))
    _shutdown(sup)
    _rest()


def sup_rest_for_one():
    sup = _sup({"strategy": "rest_for_one", "intensity": 10},
               [_spec("a"), _spec("b"), _spec("c"), _spec("d")])
    _until_event(("started", "d"))
    _stop_child(sup, "b", "crash")
    _settled(sup)
    _stop_child(sup, "d", "crash")
    _settled(sup)
    T.log(("which", _which(sup)))
    _shutdown(sup)
    _rest()


# ============================================================ intensity

def sup_intensity_gives_up():
    sup = _sup({"strategy": "one_for_one", "intensity": 2, "period": 5},
               [_spec("a"), _spec("b"), _spec("c")])
    _until_event(("started", "c"))
    _stop_child(sup, "b", "crash")
    _settled(sup)
    _stop_child(sup, "b", "crash")
    _settled(sup)
    gen_server.cast(_child(sup, "b"), "crash")
    _until_exit()
    _rest()


def sup_intensity_zero():
    sup = _sup({"strategy": "one_for_one", "intensity": 0}, [_spec("a"), _spec("b")])
    _until_event(("started", "b"))
    gen_server.cast(_child(sup, "a"), "crash")
    _until_exit()
    _rest()


def sup_intensity_default_flags():
    sup = _sup({}, [_spec("a"), _spec("b")])
    _until_event(("started", "b"))
    _stop_child(sup, "b", "crash")
    _settled(sup)
    gen_server.cast(_child(sup, "b"), "crash")
    _until_exit()
    _rest()


def sup_intensity_period_expires():
    sup = _sup({"strategy": "one_for_one", "intensity": 1, "period": 1}, [_spec("a")])
    _until_event(("started", "a"))
    _stop_child(sup, "a", "crash")
    _settled(sup)
    vm.sleep(2.5)
    _stop_child(sup, "a", "crash")
    _settled(sup)
    gen_server.cast(_child(sup, "a"), "crash")
    _until_exit()
    _rest()


def sup_restart_failure_retried():
    main = vm.self()
    sup = _sup({"strategy": "one_for_one", "intensity": 3, "period": 5},
               [{"id": "a", "start": (worker_start_once, (main, "a"))}, _spec("b")])
    _until_event(("started", "b"))
    gen_server.cast(_child(sup, "a"), "crash")
    _until_exit()
    _rest()


def sup_nested_gives_up():
    main = vm.self()

    def inner(id_, child_id, restart):
        init = ("ok", ({"intensity": 0},
                       [{"id": child_id, "start": (worker_start_link, (main, child_id))}]))
        return {"id": id_, "restart": restart, "type": "supervisor",
                "start": (sup_start_link, (init,))}

    sup = _sup({"strategy": "one_for_one"},
               [inner("perm", "perm_a", "permanent"), inner("trans", "trans_a", "transient")])
    _until_event(("started", "trans_a"))
    for id_, child_id in [("perm", "perm_a"), ("trans", "trans_a")]:
        inner_sup = _child(sup, id_)
        r = vm.monitor(inner_sup)
        gen_server.cast(_child(inner_sup, child_id), "crash")
        reason = vm.receive(("DOWN", r, ANY, ANY, ANY))[4]
        T.log(("inner_exit", id_, reason))
        _settled(sup)
    T.log(("which", [(cid, isinstance(c, vm.Pid), t) for cid, c, t in _which(sup)]))
    _shutdown(sup)
    _rest()


# ======================================================== restart types

def sup_transient():
    sup = _sup({"strategy": "one_for_one", "intensity": 10},
               [_spec("t", restart="transient")])
    _until_event(("started", "t"))
    for reason in ["normal", "shutdown", ("shutdown", "x"), "myreason"]:
        _stop_child(sup, "t", ("stop", reason))
        _settled(sup)
        T.log(("which", _which(sup)))
        if _which(sup) == [("t", None, "worker")]:
            ok, _ = supervisor.restart_child(sup, "t")
            assert ok == "ok"
            _until_event(("started", "t"))
    _stop_child(sup, "t", "crash")
    _settled(sup)
    _shutdown(sup)
    _rest()


def sup_transient_one_for_all():
    sup = _sup({"strategy": "one_for_all"},
               [_spec("a"), _spec("t", restart="transient"), _spec("c")])
    _until_event(("started", "c"))
    _stop_child(sup, "t", ("stop", "normal"))
    _settled(sup)
    T.log(("which", _which(sup)))
    _shutdown(sup)
    _rest()


def sup_temporary():
    sup = _sup({"strategy": "one_for_one"}, [_spec("a"), _spec("tmp", restart="temporary")])
    _until_event(("started", "tmp"))
    _stop_child(sup, "tmp", "crash")
    _settled(sup)
    T.log(("which", _which(sup)))
    T.log(("count", _count(sup)))
    T.log(("restart", supervisor.restart_child(sup, "tmp")))
    _shutdown(sup)
    _rest()


def sup_temporary_one_for_all():
    sup = _sup({"strategy": "one_for_all"},
               [_spec("a"), _spec("tmp", restart="temporary"), _spec("c")])
    _until_event(("started", "c"))
    _stop_child(sup, "a", "crash")
    _settled(sup)
    T.log(("which", _which(sup)))
    _shutdown(sup)
    _rest()


# ============================================================ child API

def sup_child_api():
    sup = _sup({"strategy": "one_for_one"}, [_spec("a"), _spec("b")])
    _until_event(("started", "b"))
    T.log(("terminate", supervisor.terminate_child(sup, "a")))
    _settled(sup)
    T.log(("which", _which(sup)))
    T.log(("count", _count(sup)))
    restarted = supervisor.restart_child(sup, "a")
    _settled(sup)
    T.log(("restart", restarted))
    T.log(("restart", supervisor.restart_child(sup, "a")))
    T.log(("delete", supervisor.delete_child(sup, "a")))
    T.log(("terminate", supervisor.terminate_child(sup, "a")))
    _settled(sup)
    T.log(("terminate", supervisor.terminate_child(sup, "a")))
    T.log(("delete", supervisor.delete_child(sup, "a")))
    T.log(("delete", supervisor.delete_child(sup, "a")))
    T.log(("restart", supervisor.restart_child(sup, "a")))
    T.log(("terminate", supervisor.terminate_child(sup, "a")))
    T.log(("which", _which(sup)))
    T.log(("count", _count(sup)))
    _shutdown(sup)
    _rest()


def sup_start_child():
    sup = _sup({"strategy": "one_for_one"}, [_spec("a")])
    _until_event(("started", "a"))
    started = supervisor.start_child(sup, _spec("b"))
    _settled(sup)
    T.log(("start_child", started))
    T.log(("start_child", supervisor.start_child(sup, _spec("b"))))
    assert supervisor.terminate_child(sup, "b") == "ok"
    _settled(sup)
    T.log(("start_child", supervisor.start_child(sup, _spec("b"))))
    # {error, {Reason, Child}}: logged as `child` (OTP returns its internal record).
    error, (reason, _child) = supervisor.start_child(
        sup, {"id": "f", "start": (worker_start_fail, (vm.self(), "f"))})
    assert error == "error"
    _settled(sup)
    T.log(("start_child", ("error", (reason, "child"))))
    T.log(("which", _which(sup)))
    _shutdown(sup)
    _rest()


def sup_get_childspec():
    sup = _sup({"strategy": "one_for_one"}, [_spec("a"), _spec("s", type="supervisor")])
    _until_event(("started", "s"))
    for id_ in ["a", "s"]:
        ok, spec = supervisor.get_childspec(sup, id_)
        T.log((id_, {"id": spec["id"], "restart": spec["restart"],
                     "shutdown": T.ms(spec["shutdown"]), "type": spec["type"]}))
    T.log(("get_childspec", supervisor.get_childspec(sup, "nope")))
    _shutdown(sup)
    _rest()


def sup_pid_is_an_id():
    """Outside simple_one_for_one a pid is a child id like any other (OTP)."""
    sup = _sup({"strategy": "one_for_one"}, [_spec("a"), _spec("t", restart="temporary")])
    _until_event(("started", "t"))
    a = _child(sup, "a")
    t = _child(sup, "t")
    T.log(("terminate", supervisor.terminate_child(sup, a)))
    T.log(("terminate", supervisor.terminate_child(sup, t)))
    T.log(("get_childspec", supervisor.get_childspec(sup, t)))
    T.log(("restart", supervisor.restart_child(sup, a)))
    T.log(("delete", supervisor.delete_child(sup, t)))
    _settled(sup)
    T.log(("which", _which(sup)))
    T.log(("alive", vm.is_process_alive(a), vm.is_process_alive(t)))
    T.log(("by_id", supervisor.get_childspec(sup, "t") != ("error", "not_found")))
    _shutdown(sup)
    _rest()


# ======================================================= start failures

def sup_child_start_fails_in_init():
    vm.process_flag("trap_exit", True)
    main = vm.self()
    res = sup_start_link(("ok", ({"strategy": "one_for_one"},
                                 [_spec("a"),
                                  {"id": "b", "start": (worker_start_fail, (main, "b"))},
                                  _spec("c")])))
    T.log(("start", res))
    T.settle()
    vm.receive(("EXIT", ANY, ("shutdown", ANY)), timeout=0)
    for msg in T.flush():
        T.log(_event(msg))


def sup_child_start_ignore():
    main = vm.self()
    sup = _sup({"strategy": "one_for_one"},
               [_spec("a"), {"id": "b", "start": (worker_start_ignore, (main, "b"))}])
    _settled(sup)
    T.log(("which", _which(sup)))
    T.log(("count", _count(sup)))
    T.log(("restart", supervisor.restart_child(sup, "b")))
    _settled(sup)
    _shutdown(sup)
    _rest()


def sup_init_results():
    vm.process_flag("trap_exit", True)
    for init in ["ignore",
                 ("ok", ({"strategy": "bogus"}, [])),
                 ("ok", ({"intensity": -1}, [])),
                 ("ok", ({}, [{"id": "x"}])),
                 ("ok", ({}, [_spec("x"), _spec("x")]))]:
        T.log(("start", sup_start_link(init)))
        T.settle()
        vm.receive(("EXIT", ANY, ANY), timeout=0)
    _rest()


# ===================================== simple_one_for_one, auto_shutdown

def sup_simple_one_for_one():
    main = vm.self()
    sup = _sup({"strategy": "simple_one_for_one"},
               [{"id": "tmpl", "start": (worker_start_link, (main,))}])
    T.log(("which", _which(sup)))
    ok, x = supervisor.start_child(sup, ["x"])
    _until_event(("started", "x"))
    T.log(("start_child", ("ok", x)))
    ok, y = supervisor.start_child(sup, ["y"])
    _until_event(("started", "y"))
    T.log(("start_child", ("ok", y)))
    T.log(("which", _which(sup)))
    T.log(("count", _count(sup)))
    r = vm.monitor(x)
    gen_server.cast(x, "crash")
    vm.receive(("DOWN", r, ANY, ANY, ANY))
    _settled(sup)
    T.log(("terminate", supervisor.terminate_child(sup, y)))
    _settled(sup)
    # OTP 25: a pid that is dead gives ok, a live non-child not_found.
    T.log(("terminate", supervisor.terminate_child(sup, y)))
    T.log(("terminate", supervisor.terminate_child(sup, vm.self())))
    T.log(("terminate", supervisor.terminate_child(sup, "tmpl")))
    T.log(("restart", supervisor.restart_child(sup, "tmpl")))
    T.log(("delete", supervisor.delete_child(sup, "tmpl")))
    T.log(("count", _count(sup)))
    _shutdown(sup)
    _rest()


def sup_auto_shutdown_any_significant():
    sup = _sup({"strategy": "one_for_one", "auto_shutdown": "any_significant"},
               [_spec("a"), _spec("t", restart="transient", significant=True)])
    _until_event(("started", "t"))
    gen_server.cast(_child(sup, "t"), ("stop", "normal"))
    _until_exit()
    _rest()


def sup_auto_shutdown_all_significant():
    sup = _sup({"strategy": "one_for_one", "auto_shutdown": "all_significant"},
               [_spec("a"), _spec("t1", restart="temporary", significant=True),
                _spec("t2", restart="temporary", significant=True)])
    _until_event(("started", "t2"))
    _stop_child(sup, "t1", "crash")
    _settled(sup)
    T.log(("which", _which(sup)))
    gen_server.cast(_child(sup, "t2"), ("stop", "normal"))
    _until_exit()
    _rest()
