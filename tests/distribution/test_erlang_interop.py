"""A beamlet node and a real Erlang node (started by each test) talking over the distribution."""

import logging

import pytest

import vm
from vm import Atom, Pid, dist
from vm.dist import rpc

from .cluster import get, wait_for
from .erlang import requires_erl

pytestmark = requires_erl


def test_ping_both_ways_and_nodes(erl_and_py):
    erl, py = erl_and_py
    assert erl.eval(f"net_adm:ping('{py.name}').") == "pong"
    assert erl.eval("nodes(hidden).") == f"[{py.name}]"
    assert erl.eval("nodes().") == "[]"  # beamlet starts hidden, as erl -hidden does
    assert py.call(lambda: dist.ping(erl.name)) == "pong"
    assert py.call(lambda: (dist.nodes(), dist.nodes("hidden"), dist.nodes("connected"))) == (
        [], [erl.name], [erl.name])
    assert py.call(lambda: dist.ping("nosuchnode@localhost")) == "pang"


TERMS = [
    ("ok", Atom("ok")), ("undefined", None), ("true", True), ("42", 42), ("-7", -7),
    ("1 bsl 80", 2**80), ("2.5", 2.5), ('<<"text">>', "text"), ("<<255,0>>", b"\xff\x00"),
    ('"abc"', [97, 98, 99]), ("{a, [1, {b}], #{k => v}}", (Atom("a"), [1, (Atom("b"),)],
                                                          {Atom("k"): Atom("v")})),
    ("[]", []), ("{}", ()), ("list_to_atom([104, 233, 8364])", Atom("hé€")),
]


def test_messages_both_ways_with_every_term_type(erl_and_py):
    erl, py = erl_and_py
    inbox = py.inbox("inbox")
    erl.eval("register(tester, self()).")
    for expr, want in TERMS:
        erl.eval(f"{{inbox, '{py.name}'}} ! {{{expr}, self()}}.")
        got, sender = get(inbox)
        assert got == want and type(got) is type(want), (expr, got)
        assert type(sender) is Pid and sender.node == erl.name
        # and back: Python sends the value it got to the registered Erlang process
        py.call(lambda v=got: dist.send(("tester", erl.name), (Atom("back"), v)))
        assert erl.eval(f"(fun() -> receive {{back, X}} -> X =:= ({expr}) after 5000 -> "
                        "timeout end end)().") == "true", expr
    # a Python pid and ref travel to Erlang and back unchanged
    pid, ref = py.call(lambda: (vm.self(), vm.make_ref()))
    py.call(lambda: dist.send(("tester", erl.name), (pid, ref)))
    erl.eval("receive {P, R} -> {inbox, node(P)} ! {P, R, is_pid(P), is_reference(R)} end.")
    assert get(inbox) == (pid, ref, True, True)


def test_registered_name_unknown_is_dropped_silently(erl_and_py):
    erl, py = erl_and_py
    inbox = py.inbox("inbox2")
    erl.eval(f"{{nobody_here, '{py.name}'}} ! x, {{inbox2, '{py.name}'}} ! after_it.")
    assert get(inbox) == Atom("after_it")


def test_erlang_links_to_python_process_and_gets_its_exit(erl_and_py):
    erl, py = erl_and_py

    def victim():
        vm.receive()
        vm.exit("its_reason")

    py.spawn_registered("victim", victim)
    erl.eval("register(tester, self()), process_flag(trap_exit, true).")
    py.call(lambda: dist.send(("tester", erl.name), (Atom("victim_is"), vm.whereis("victim"))))
    erl.eval("V = receive {victim_is, P} -> P end, link(V), V ! go.")
    out = erl.eval("receive {'EXIT', V, R} -> R after 5000 -> timeout end.")
    assert out == "<<\"its_reason\">>"
    # linking to a pid that is already dead: EXIT noproc
    erl.eval("link(V).")
    assert erl.eval("receive {'EXIT', V, R2} -> R2 after 5000 -> timeout end.") == "noproc"


def test_python_links_to_erlang_process_and_gets_its_exit(erl_and_py):
    erl, py = erl_and_py
    inbox = py.inbox("box")
    erl.eval("Worker = spawn(fun() -> receive {die, R} -> exit(R) end end), "
             "register(worker, Worker), ok.")

    def linker(q):
        vm.process_flag("trap_exit", True)
        dist.send(("worker_owner", erl.name), None)
        worker = erl_worker()
        dist.link(worker)
        dist.send(("box", vm.node_name()), "linked")
        q.put(vm.receive(timeout=10))

    def erl_worker():
        return rpc.call(erl.name, "erlang", "whereis", [Atom("worker")])

    import queue

    q = queue.Queue()
    py.node.spawn(lambda: linker(q))
    assert get(inbox) == "linked"
    erl.eval("worker ! {die, boom}.")
    msg = q.get(timeout=10)
    assert msg[0] == "EXIT" and msg[1].node == erl.name and msg[2] == Atom("boom")


def test_monitors_both_ways(erl_and_py):
    erl, py = erl_and_py
    inbox = py.inbox("mbox")
    # Erlang monitors a Python process by name and by pid
    def sleeper():
        vm.receive()
        vm.exit("bye")

    py.spawn_registered("sleeper", sleeper)
    erl.eval(f"MR = erlang:monitor(process, {{sleeper, '{py.name}'}}), ok.")
    erl.eval(f"{{sleeper, '{py.name}'}} ! go.")
    out = erl.eval(
        "receive {'DOWN', MR, process, Obj, Why} -> {Obj, Why} after 5000 -> timeout end.")
    assert out == f"{{{{sleeper,{py.name}}},<<\"bye\">>}}"
    # a monitor of a name nobody has: DOWN noproc at once
    erl.eval(f"MR2 = erlang:monitor(process, {{ghost, '{py.name}'}}), ok.")
    assert erl.eval("receive {'DOWN', MR2, _, _, W} -> W after 5000 -> timeout end.") == "noproc"
    # Python monitors an Erlang process
    erl.eval("P2 = spawn(fun() -> receive stop -> exit(stopped) end end), register(p2, P2), ok.")

    def watcher(q):
        ref = dist.monitor(("p2", erl.name))
        dist.send(("mbox", vm.node_name()), "watching")
        q.put((ref, vm.receive(timeout=10)))

    import queue

    q = queue.Queue()
    py.node.spawn(lambda: watcher(q))
    assert get(inbox) == "watching"
    erl.eval("p2 ! stop.")
    ref, down = q.get(timeout=10)
    assert down == ("DOWN", ref, "process", (Atom("p2"), Atom(erl.name)), Atom("stopped"))


def test_erlang_node_killed_gives_noconnection(erl_and_py):
    erl, py = erl_and_py
    erl.eval("register(lonely, spawn(fun() -> receive _ -> ok end end)).")
    import queue

    q = queue.Queue()

    def watcher():
        vm.process_flag("trap_exit", True)
        ref = dist.monitor(("lonely", erl.name))
        dist.monitor_node(erl.name)
        q.put("ready")
        q.put((ref, vm.receive(timeout=15)))
        q.put(vm.receive(timeout=15))

    py.node.spawn(watcher)
    assert q.get(timeout=10) == "ready"
    erl.eval(f"net_adm:ping('{py.name}').")
    erl.kill()
    ref, down = q.get(timeout=15)
    assert down == ("DOWN", ref, "process", (Atom("lonely"), Atom(erl.name)),
                    Atom("noconnection"))
    assert q.get(timeout=15) == ("nodedown", erl.name)
    assert wait_for(lambda: py.call(lambda: dist.nodes("connected")) == [])


def test_gen_server_call_each_way(erl_and_py):
    erl, py = erl_and_py

    def server():
        while True:
            msg = vm.receive()
            if msg[0] == "$gen_call":
                _, from_, req = msg
                dist.reply(from_, ("you_said", req))

    py.spawn_registered("py_srv", server)
    out = erl.eval(f"gen_server:call({{py_srv, '{py.name}'}}, hello).")
    assert out == "{<<\"you_said\">>,hello}"
    # and the reverse: a call to a real OTP gen_server on the Erlang node
    apps = py.call(lambda: dist.call((Atom("application_controller"), Atom(erl.name)),
                                     Atom("which_applications")))
    assert any(a[0] == "kernel" for a in apps)
    with pytest.raises(vm.ProcessExit, match="noproc"):
        py.call(lambda: dist.call((Atom("nobody"), Atom(erl.name)), Atom("x"), timeout=5))


def test_rpc_each_way(erl_and_py):
    erl, py = erl_and_py
    assert py.call(lambda: rpc.call(erl.name, "lists", "reverse", [[1, 2, 3]])) == [3, 2, 1]
    assert py.call(lambda: rpc.call(erl.name, "erlang", "node", [])) == Atom(erl.name)
    bad = py.call(lambda: rpc.call(erl.name, "no_such_module", "f", []))
    assert bad[0] == "badrpc"
    # nothing is callable from Erlang until exposed
    out = erl.eval(f"rpc:call('{py.name}', pymath, add, [1, 2]).")
    assert out == "{badrpc,{'EXIT',{undef,[{pymath,add,[1,2],[]}]}}}"
    py.call(lambda: rpc.expose("pymath", "add", lambda a, b: a + b))
    assert erl.eval(f"rpc:call('{py.name}', pymath, add, [1, 2]).") == "3"
    assert erl.eval(f"erpc:call('{py.name}', pymath, add, [40, 2]).") == "42"
    py.call(lambda: rpc.expose("pymath", "boom", lambda: 1 / 0))
    out = erl.eval(f"rpc:call('{py.name}', pymath, boom, []).")
    assert out.startswith("{badrpc,{'EXIT',{{crash,<<\"ZeroDivisionError\">>"), out
    # a remote io:format with our rex as group leader does not hang
    assert py.call(lambda: rpc.call(erl.name, "io", "format", ["hi~n"])) == Atom("ok")


def test_a_visible_node_is_in_erlangs_nodes(system_epmd, home):
    from .cluster import PyNode
    from .erlang import ErlangNode, unique

    erl = ErlangNode(unique("erl"), "vis", system_epmd)
    py = PyNode(unique("py"), "vis", system_epmd, start_epmd=False, hidden=False)
    try:
        assert py.call(lambda: dist.ping(erl.name)) == "pong"
        assert erl.eval("nodes().") == f"[{py.name}]"
        assert py.call(lambda: vm.nodes()) == [erl.name]
    finally:
        py.close()
        erl.close()


def test_wrong_cookie_is_refused_and_logged_without_the_cookie(system_epmd, home, caplog):
    from .cluster import PyNode
    from .erlang import ErlangNode, unique

    erl = ErlangNode(unique("erl"), "right-cookie", system_epmd)
    try:
        py = PyNode(unique("py"), "wrong-cookie-xyz", system_epmd, start_epmd=False)
        try:
            with caplog.at_level(logging.INFO, logger="beamlet.dist"):
                assert erl.eval(f"net_adm:ping('{py.name}').") == "pang"
                assert wait_for(lambda: "rejected" in caplog.text)
                assert py.call(lambda: dist.ping(erl.name)) == "pang"
            assert erl.name in caplog.text
            assert "wrong-cookie-xyz" not in caplog.text and "right-cookie" not in caplog.text
            assert py.call(lambda: dist.nodes("connected")) == []
        finally:
            py.close()
    finally:
        erl.close()


def test_an_exit_reason_holding_a_fun_still_ends_the_link(erl_and_py):
    erl, py = erl_and_py
    erl.eval("register(funny, spawn(fun() -> receive go -> exit({bad, fun() -> ok end}) end "
             "end)).")
    import queue

    q = queue.Queue()

    def linker():
        vm.process_flag("trap_exit", True)
        target = rpc.call(erl.name, "erlang", "whereis", [Atom("funny")])
        vm.link(target)
        dist.ping(erl.name)
        q.put("linked")
        q.put(vm.receive(timeout=10))

    py.node.spawn(linker)
    assert q.get(timeout=15) == "linked"
    erl.eval("funny ! go.")
    msg = q.get(timeout=10)
    assert msg[0] == "EXIT" and msg[2][0] == "unsupported_term" and "fun" in msg[2][1]
