"""Python twins of the gen_event scenarios in erlang/scenarios_gen_event.erl.

Every public function is a scenario with the same name as its Erlang twin
and must log the same trace (golden/gen_event/<name>.trace). Literal
translations (see scenarios.py): the handler is callbacks.ConfEH
(conf_eh); a handler is its class, so every logged term goes through `_log`,
which writes the class ConfEH as the module name conf_eh; a fun in `{do, F}`
is a Python function; `error(boom)` is `raise RuntimeError("boom")`.
"""
from __future__ import annotations

import vm
from stdlib import gen_event, otp_sys

from . import trace as T
from .callbacks import ConfEH

# ================================================================ helpers

def _erl(x):
    """A term with the handler class written as its Erlang module name."""
    if x is ConfEH:
        return "conf_eh"
    if type(x) is tuple:
        return tuple(_erl(e) for e in x)
    if type(x) is list:
        return [_erl(e) for e in x]
    return x


def _log(x):
    T.log(_erl(x))


def _mgr():
    ok, m = gen_event.start()
    return T.name(m, "mgr")


def _h(name):
    return (vm.self(), name)


def _rest():
    _log(("rest", T.flush()))


def _log_all():
    for m in T.flush():
        _log(m)


def _stop(m):
    _log(("stop", gen_event.stop(m)))
    _log_all()


def _crash(*_args):
    raise RuntimeError("boom")


# ================================================================ scenarios

def ge_add_notify_which():
    m = _mgr()
    _log(("add", gen_event.add_handler(m, ConfEH, _h("a"))))
    _log(("add", gen_event.add_handler(m, (ConfEH, 2), _h("b"))))
    _log(("which", gen_event.which_handlers(m)))
    assert gen_event.notify(m, "one") == "ok"
    _log(("sync_notify", gen_event.sync_notify(m, "two")))
    _log_all()
    _log(("state", [(mod, hid, s[1]) for mod, hid, s in otp_sys.get_state(m)]))
    _stop(m)
    _rest()


def ge_init_results():
    m = _mgr()

    def bye():
        vm.exit("bye")

    for init in (lambda: ("error", "nope"), _crash, lambda: "junk", bye):
        _log(("add", gen_event.add_handler(m, ConfEH, ("init", init))))
    _log(("which", gen_event.which_handlers(m)))
    _stop(m)
    _rest()


def ge_crashing_handler():
    m = _mgr()
    gen_event.add_handler(m, ConfEH, _h("a"))
    gen_event.add_handler(m, (ConfEH, 2), _h("b"))
    _log_all()

    def crash_b(state):
        main, name = state
        if name == "b":
            raise RuntimeError("boom")
        vm.send(main, ("event", name, "crash"))
        return ("ok", state)

    gen_event.sync_notify(m, ("do", crash_b))
    _log_all()
    _log(("which", gen_event.which_handlers(m)))
    gen_event.sync_notify(m, "after_crash")
    _log_all()
    _stop(m)
    _rest()


def ge_bad_return():
    m = _mgr()
    gen_event.add_handler(m, ConfEH, _h("a"))
    gen_event.sync_notify(m, ("do", lambda _s: "wrong"))
    _log_all()
    _log(("which", gen_event.which_handlers(m)))
    _stop(m)
    _rest()


def ge_remove_handler():
    m = _mgr()
    gen_event.add_handler(m, ConfEH, _h("a"))
    gen_event.add_handler(m, (ConfEH, 2), _h("b"))
    gen_event.sync_notify(m, ("do", lambda s: "remove_handler" if s[1] == "a" else ("ok", s)))
    _log_all()
    _log(("which", gen_event.which_handlers(m)))
    _stop(m)
    _rest()


def ge_delete_handler():
    m = _mgr()
    gen_event.add_handler(m, ConfEH, _h("a"))
    gen_event.add_handler(m, (ConfEH, "x"), _h("b"))
    _log(("delete", gen_event.delete_handler(m, ConfEH, "bye")))
    _log(("delete", gen_event.delete_handler(m, ConfEH, "bye")))
    _log(("delete", gen_event.delete_handler(m, (ConfEH, "y"), "bye")))
    _log(("delete", gen_event.delete_handler(m, (ConfEH, "x"), "see_you")))
    _log_all()
    _log(("which", gen_event.which_handlers(m)))
    _stop(m)
    _rest()


def ge_call():
    m = _mgr()
    gen_event.add_handler(m, ConfEH, _h("a"))
    gen_event.add_handler(m, (ConfEH, 2), _h("b"))
    _log(("call", gen_event.call(m, ConfEH, "hello")))
    _log(("call", gen_event.call(m, (ConfEH, 2), "hello")))
    _log(("call", gen_event.call(m, (ConfEH, 3), "hello")))
    _log(("call", gen_event.call(m, ConfEH, ("do", lambda _s: ("remove_handler", "gone")))))
    _log(("call", gen_event.call(m, (ConfEH, 2), ("do", _crash))))
    _log_all()
    _log(("which", gen_event.which_handlers(m)))
    _stop(m)
    _log(("call", T.attempt(gen_event.call, m, ConfEH, "hello")))
    _rest()


def ge_swap_handler():
    m = _mgr()
    gen_event.add_handler(m, ConfEH, _h("a"))
    gen_event.add_handler(m, (ConfEH, "z"), _h("z"))
    _log_all()
    me = vm.self()
    _log(("swap", gen_event.swap_handler(m, (ConfEH, "out"),
                                         ((ConfEH, "b"), ("swap", me, "b")))))
    _log_all()
    _log(("which", gen_event.which_handlers(m)))
    _log(("swap", gen_event.swap_handler(m, (ConfEH, "nothing"),
                                         ((ConfEH, "c"), ("swap", me, "c")))))
    _log_all()
    _log(("swap", gen_event.swap_handler(m, (ConfEH, "nothing"),
                                         ((ConfEH, "d"), ("init", lambda: ("error", "no"))))))
    _log(("which", gen_event.which_handlers(m)))
    _stop(m)
    _rest()


def ge_swap_from_callback():
    m = _mgr()
    main = vm.self()
    gen_event.add_handler(m, ConfEH, _h("a"))
    gen_event.add_handler(m, (ConfEH, "z"), _h("z"))
    _log_all()

    def swap_a(state):
        if state[1] == "a":
            return ("swap_handler", "out", state, (ConfEH, "b"), ("swap", main, "b"))
        return ("ok", state)

    gen_event.sync_notify(m, ("do", swap_a))
    _log_all()
    _log(("which", gen_event.which_handlers(m)))
    gen_event.sync_notify(m, "after_swap")
    _log_all()
    _stop(m)
    _rest()


def ge_sup_handler_exit():
    m = _mgr()
    _log(("add", gen_event.add_sup_handler(m, ConfEH, _h("a"))))
    _log(("links", m in vm.process_info(vm.self(), "links")))
    gen_event.delete_handler(m, ConfEH, "bye")
    _log_all()
    gen_event.add_sup_handler(m, ConfEH, _h("b"))
    gen_event.sync_notify(m, ("do", _crash))
    _log_all()
    gen_event.add_sup_handler(m, ConfEH, _h("c"))
    gen_event.sync_notify(m, ("do", lambda _s: "remove_handler"))
    _log_all()
    gen_event.add_sup_handler(m, (ConfEH, 1), _h("d"))
    _stop(m)
    _rest()


def ge_sup_handler_owner_dies():
    m = _mgr()
    main = vm.self()
    gen_event.add_handler(m, ConfEH, _h("a"))

    def owner_body():
        gen_event.add_sup_handler(m, (ConfEH, "owned"), (main, "owned"))
        vm.send(main, "added")
        vm.receive("go")
        vm.exit("bye")

    owner = T.name(vm.spawn(owner_body), "owner")
    vm.receive("added")
    _log_all()
    r = vm.monitor(owner)
    vm.send(owner, "go")
    vm.receive(("DOWN", r, vm.ANY, vm.ANY, vm.ANY))
    _log(("which", gen_event.which_handlers(m)))
    _log_all()
    _stop(m)
    _rest()


def ge_swap_sup_handler():
    m = _mgr()
    _log(("add", gen_event.add_sup_handler(m, ConfEH, _h("a"))))
    _log(("swap", gen_event.swap_sup_handler(m, (ConfEH, "out"),
                                             ((ConfEH, "b"), ("swap", vm.self(), "b")))))
    _log_all()
    _log(("which", gen_event.which_handlers(m)))
    gen_event.delete_handler(m, (ConfEH, "b"), "bye")
    _log_all()
    _stop(m)
    _rest()


def ge_handle_info():
    m = _mgr()
    gen_event.add_handler(m, ConfEH, _h("a"))
    gen_event.add_handler(m, (ConfEH, 2), _h("b"))
    _log_all()
    vm.send(m, "hello")
    vm.send(m, ("three", "element", "tuple"))
    gen_event.sync_notify(m, "sync")
    _log_all()
    _stop(m)
    _rest()


def ge_send_request():
    m = _mgr()
    gen_event.add_handler(m, ConfEH, _h("a"))
    _log_all()
    r1 = gen_event.send_request(m, ConfEH, "hello")
    _log(("receive_response", gen_event.receive_response(r1, 1.0)))
    r2 = gen_event.send_request(m, (ConfEH, 9), "hello")
    _log(("missing", gen_event.wait_response(r2, 1.0)))
    c0 = gen_event.reqids_new()
    c1 = gen_event.send_request(m, ConfEH, "one", "label_1", c0)
    c2 = gen_event.send_request(m, ConfEH, ("do", _crash), "label_2", c1)
    resp1, l1, c3 = gen_event.receive_response(c2, 1.0, True)
    _log((resp1, l1, gen_event.reqids_size(c3)))
    resp2, l2, c4 = gen_event.receive_response(c3, 1.0, True)
    _log((resp2, l2, gen_event.reqids_size(c4)))
    _log_all()
    _stop(m)
    r3 = gen_event.send_request(m, ConfEH, "hello")
    _log(("dead", gen_event.receive_response(r3, 1.0)))
    _rest()


def ge_parent_exit():
    main = vm.self()

    def parent_body():
        ok, mgr = gen_event.start_link()
        vm.send(main, ("mgr", mgr))
        vm.receive("go")
        vm.exit("bye")

    parent = T.name(vm.spawn(parent_body), "parent")
    m = T.name(vm.receive(("mgr", vm.ANY))[1], "mgr")
    gen_event.add_handler(m, ConfEH, _h("a"))
    _log_all()
    r = vm.monitor(m)
    vm.send(parent, "go")
    down = vm.receive(("DOWN", r, vm.ANY, vm.ANY, vm.ANY))
    _log(("mgr_down", down[4]))
    _log_all()
    _rest()


def ge_no_manager():
    m = _mgr()
    _stop(m)
    _log(("notify_name", T.attempt(gen_event.notify, "nobody", "x")))
    _log(("notify_pid", T.attempt(gen_event.notify, m, "x")))
    _log(("sync_notify", T.attempt(gen_event.sync_notify, m, "x")))
    _log(("which", T.attempt(gen_event.which_handlers, "nobody")))
    _log(("add", T.attempt(gen_event.add_handler, m, ConfEH, _h("a"))))
    _log(("stop", T.attempt(gen_event.stop, m)))
    _rest()
