"""Python twins of the asynchronous-request scenarios in erlang/scenarios_gen.erl.

Every public function is a scenario with the same name as its Erlang twin
and must log the same trace (golden/gen/<name>.trace). Literal
translations (see scenarios.py): the servers are callbacks.ConfGS (conf_gs)
and callbacks.ConfSM (conf_sm); `infinity` is None; `{abs, T}` is
`("abs", vm.monotonic() + seconds)`; OTP's `reqids_size(C)` shown in place
of a collection is `reqids_size(c)` here too.
"""
from __future__ import annotations

import vm
from stdlib import gen_server, gen_statem

from . import trace as T
from .callbacks import ConfGS, ConfSM

# ================================================================ helpers

def _server(role="server"):
    main = vm.self()
    ok, p = gen_server.start(ConfGS, lambda: ("ok", main))
    return T.name(p, role)


def _rest():
    T.log(("rest", T.flush()))


def _slow(x, seconds):
    """A request whose reply a helper process sends `seconds` later."""
    def later(from_, s):
        def helper():
            vm.sleep(seconds)
            gen_server.reply(from_, x)
        vm.spawn(helper)
        return ("noreply", s)
    return ("do", later)


def _crash():
    def boom(_from, _s):
        raise RuntimeError("boom")
    return ("do", boom)


def _col(r):
    """A collection result with the collection shown by its size."""
    if type(r) is tuple and len(r) == 3:
        return (r[0], r[1], gen_server.reqids_size(r[2]))
    return r


def _terminated():
    vm.receive(("terminate", vm.ANY))


# ================================================================ one request

def sr_reply():
    p = _server()
    r = gen_server.send_request(p, "hello")
    T.log(("wait", gen_server.wait_response(r, None)))
    r2 = gen_server.send_request(p, "again")
    T.log(("receive_response", gen_server.receive_response(r2, 1.0)))
    gen_server.stop(p)
    _rest()


def sr_wait_timeout_then_reply():
    p = _server()
    r = gen_server.send_request(p, _slow("late", 0.2))
    T.log(("wait", gen_server.wait_response(r, 0.05)))
    T.log(("wait", gen_server.wait_response(r, 1.0)))
    T.log(("wait", gen_server.wait_response(r, 0)))
    gen_server.stop(p)
    _rest()


def sr_receive_timeout_late_reply_dropped():
    p = _server()
    r = gen_server.send_request(p, _slow("late", 0.2))
    T.log(("receive_response", gen_server.receive_response(r, 0.05)))
    vm.sleep(0.4)
    T.log(("mailbox", T.flush()))
    T.log(("call", gen_server.call(p, "still_there")))
    gen_server.stop(p)
    _rest()


def sr_server_crashes():
    p = _server()
    r = gen_server.send_request(p, _crash())
    T.log(("receive_response", gen_server.receive_response(r, 1.0)))
    T.log(("terminate", vm.receive(("terminate", vm.ANY))[1]))
    _rest()


def sr_dead_server():
    p = _server()
    gen_server.stop(p)
    _terminated()
    r1 = gen_server.send_request(p, "hello")
    T.log(("by_pid", gen_server.receive_response(r1, 1.0)))
    r2 = gen_server.send_request("nobody", "hello")
    T.log(("by_name", gen_server.receive_response(r2, 1.0)))
    r3 = gen_server.send_request(("nobody", vm.node_name()), "hello")
    T.log(("by_name_node", gen_server.wait_response(r3, 1.0)))
    _rest()


def sr_check_response():
    p = _server()
    r = gen_server.send_request(p, "hello")
    msg = vm.receive()
    T.log(("other", gen_server.check_response("hello", r)))
    T.log(("check", gen_server.check_response(msg, r)))
    q = _server("other")
    r2 = gen_server.send_request(q, _crash())
    _terminated()
    down = vm.receive(("DOWN", vm.ANY, vm.ANY, vm.ANY, vm.ANY))
    T.log(("not_this_one", gen_server.check_response(down, r)))
    T.log(("check_down", gen_server.check_response(down, r2)))
    gen_server.stop(p)
    _rest()


def sr_abs_timeout():
    p = _server()
    r = gen_server.send_request(p, _slow("late", 0.2))
    deadline = vm.monotonic() + 0.05
    T.log(("receive_response", gen_server.receive_response(r, ("abs", deadline))))
    r2 = gen_server.send_request(p, "now")
    past = vm.monotonic() - 1.0
    vm.sleep(0.05)
    T.log(("past_deadline", gen_server.receive_response(r2, ("abs", past))))
    vm.sleep(0.3)
    gen_server.stop(p)
    _rest()


def sr_statem():
    main = vm.self()

    def handler(etype, content, _state, _data):
        if type(etype) is tuple and etype[0] == "call":
            return ("keep_state_and_data", [("reply", etype[1], ("got", content))])
        return "keep_state_and_data"

    ok, p = gen_statem.start(ConfSM, lambda: ("ok", "s", (main, handler)))
    T.name(p, "sm")
    r = gen_statem.send_request(p, "hello")
    T.log(("receive_response", gen_statem.receive_response(r, 1.0)))
    c = gen_statem.send_request(p, "a", "label_a", gen_statem.reqids_new())
    c2 = gen_statem.send_request(p, "b", "label_b", c)
    T.log(("size", gen_statem.reqids_size(c2)))
    resp1, l1, c3 = gen_statem.receive_response(c2, 1.0, True)
    T.log((resp1, l1))
    resp2, l2, c4 = gen_statem.wait_response(c3, 1.0, True)
    T.log((resp2, l2))
    T.log(("empty", gen_statem.wait_response(c4, 1.0, True)))
    gen_statem.stop(p)
    vm.receive(("terminate", vm.ANY, vm.ANY))
    T.log(("events", T.flush()))


# ================================================================ collections

def sr_reqids_basic():
    p = _server()
    c0 = gen_server.reqids_new()
    T.log(("new", gen_server.reqids_size(c0), gen_server.reqids_to_list(c0)))
    c1 = gen_server.send_request(p, "one", "label_1", c0)
    c2 = gen_server.send_request(p, "two", "label_2", c1)
    c3 = gen_server.send_request(p, "three", "label_3", c2)
    T.log(("sizes", gen_server.reqids_size(c0), gen_server.reqids_size(c1),
           gen_server.reqids_size(c3)))
    T.log(("labels", sorted(label for _, label in gen_server.reqids_to_list(c3))))
    r1 = gen_server.receive_response(c3, 1.0, True)
    T.log(_col(r1))
    r2 = gen_server.receive_response(r1[2], 1.0, True)
    T.log(_col(r2))
    r3 = gen_server.receive_response(r2[2], 1.0, True)
    T.log(_col(r3))
    T.log(("empty", gen_server.receive_response(r3[2], 1.0, True)))
    gen_server.stop(p)
    _rest()


def sr_reqids_delete_false():
    p = _server()
    c = gen_server.send_request(p, "one", "label_1", gen_server.reqids_new())
    r1 = gen_server.wait_response(c, 1.0, False)
    T.log(_col(r1))
    T.log(("same", r1[2] == c))
    T.log(("again", gen_server.wait_response(c, 0.1, False)))
    req_id = gen_server.send_request(p, "two")
    c2 = gen_server.reqids_add(req_id, "label_2", c)
    T.log(_col(gen_server.receive_response(c2, 1.0, False)))
    gen_server.stop(p)
    _rest()


def sr_reqids_receive_timeout_abandons_all():
    p = _server()
    c1 = gen_server.send_request(p, _slow("late_1", 0.2), "label_1", gen_server.reqids_new())
    c2 = gen_server.send_request(p, _slow("late_2", 0.25), "label_2", c1)
    T.log(("receive_response", gen_server.receive_response(c2, 0.05, True)))
    vm.sleep(0.5)
    T.log(("mailbox", T.flush()))
    T.log(("still_two", gen_server.reqids_size(c2)))
    T.log(("nothing_comes", gen_server.wait_response(c2, 0.1, True)))
    gen_server.stop(p)
    _rest()


def sr_reqids_wait_timeout_keeps():
    p = _server()
    c1 = gen_server.send_request(p, _slow("late_1", 0.2), "label_1", gen_server.reqids_new())
    T.log(("wait", gen_server.wait_response(c1, 0.05, True)))
    T.log(("wait", _col(gen_server.wait_response(c1, 1.0, True))))
    gen_server.stop(p)
    _rest()


def sr_reqids_check_response():
    p = _server()
    c = gen_server.send_request(p, "hello", "label_h", gen_server.reqids_new())
    msg = vm.receive()
    T.log(("other", gen_server.check_response("junk", c, True)))
    T.log(("empty", gen_server.check_response(msg, gen_server.reqids_new(), True)))
    T.log(("keep", _col(gen_server.check_response(msg, c, False))))
    T.log(("delete", _col(gen_server.check_response(msg, c, True))))
    gen_server.stop(p)
    _rest()


def sr_reqids_badarg():
    p = _server()
    r = gen_server.send_request(p, "hello")
    c = gen_server.reqids_add(r, "label", gen_server.reqids_new())
    T.log(("twice", T.attempt(gen_server.reqids_add, r, "other", c)))
    T.log(("not_a_ref", T.attempt(gen_server.reqids_add, "nope", "l", c)))
    T.log(("bad_timeout", T.attempt(gen_server.wait_response, r, -1)))
    T.log(("receive_response", _col(gen_server.receive_response(c, 1.0, True))))
    gen_server.stop(p)
    _rest()


def sr_reqids_dead_server():
    p = _server()
    dead = _server("dead")
    gen_server.stop(dead)
    _terminated()
    c1 = gen_server.send_request(dead, "hello", "to_dead", gen_server.reqids_new())
    c2 = gen_server.send_request("nobody", "hello", "to_nobody", c1)
    c3 = gen_server.send_request(p, "hello", "to_live", c2)
    rs = [_col(gen_server.receive_response(c3, 1.0, False)) for _ in range(3)]
    T.log(("results", T.sorted_terms(rs)))
    gen_server.stop(p)
    _rest()


# ================================================================ multi_call

def sr_multi_call_timeout():
    main = vm.self()
    ok, p = gen_server.start(ConfGS, lambda: ("ok", main), name="srv")
    T.name(p, "server")
    here = vm.node_name()
    T.log(("multi_call", gen_server.multi_call("srv", _slow("late", 0.2), 0.05, [here])))
    vm.sleep(0.4)
    T.log(("mailbox", T.flush()))
    T.log(("multi_call", gen_server.multi_call("srv", "hello", 1.0, [here])))
    gen_server.stop(p)
    _rest()
