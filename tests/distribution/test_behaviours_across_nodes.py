"""The VM's own API and stdlib's gen_server across nodes: vm.send, vm.link, vm.monitor,
exit signals, gen_server.call/cast, with real Erlang and between beamlet nodes."""

import queue

import pytest

import vm
from stdlib import gen_server
from vm import Atom
from vm.dist import epmd, rpc

from .cluster import get, wait_for
from .erlang import requires_erl, unique


class Counter(gen_server.GenServer):
    def init(self, start):
        return ("ok", start)

    def handle_call(self, request, from_, n):
        match request:
            case ("add", k):
                return ("reply", n + k, n + k)
            case "get":
                return ("reply", n, n)
            case "later":
                vm.spawn(lambda: gen_server.reply(from_, ("late", n)))
                return ("noreply", n)
            case "crash":
                raise ValueError("asked to crash")
        return ("reply", ("error", request), n)

    def handle_cast(self, msg, n):
        return ("noreply", n + msg[1]) if msg[0] == "add" else ("noreply", n)


def start_counter(py, name="counter"):
    py.call(lambda: gen_server.start(Counter, 0, name=name))
    assert wait_for(lambda: py.call(lambda: vm.whereis(name)) is not None)


@requires_erl
def test_erlang_calls_a_python_gen_server(erl_and_py):
    erl, py = erl_and_py
    start_counter(py)
    srv = f"{{counter, '{py.name}'}}"
    assert erl.eval(f"gen_server:call({srv}, {{<<\"add\">>, 5}}).") == "5"
    erl.eval(f"gen_server:cast({srv}, {{<<\"add\">>, 10}}).")
    assert erl.eval(f"gen_server:call({srv}, <<\"get\">>).") == "15"
    assert erl.eval(f"gen_server:call({srv}, <<\"later\">>).") == "{<<\"late\">>,15}"
    # the server crashes during the call: Erlang's caller gets the exit reason
    out = erl.eval(f"catch gen_server:call({srv}, <<\"crash\">>).")
    assert out.startswith("{'EXIT',{{crash,<<\"ValueError\">>")
    out = erl.eval(f"catch gen_server:call({{nobody, '{py.name}'}}, x).")
    assert out.startswith("{'EXIT',{noproc,")


@requires_erl
def test_python_calls_an_erlang_gen_server_and_sends_with_vm_send(erl_and_py):
    erl, py = erl_and_py
    apps = py.call(lambda: gen_server.call((Atom("application_controller"), Atom(erl.name)),
                                           Atom("which_applications")))
    assert any(a[0] == "kernel" for a in apps)
    with pytest.raises(vm.ProcessExit, match="timeout"):
        erl.eval("register(silent, spawn(fun() -> receive never -> ok end end)).")
        py.call(lambda: gen_server.call(("silent", erl.name), "x", 0.5))
    erl.eval("register(tester, self()).")
    py.call(lambda: (vm.send(("tester", erl.name), (Atom("hi"), vm.self())), None)[1])
    out = erl.eval("receive {hi, P} -> node(P) after 5000 -> timeout end.")
    assert out == py.name


@requires_erl
def test_vm_link_monitor_and_exit_with_erlang(erl_and_py):
    erl, py = erl_and_py
    erl.eval("register(target, spawn(fun() -> receive {die, R} -> exit(R) end end)).")
    q = queue.Queue()

    def watcher():
        vm.process_flag("trap_exit", True)
        target = rpc.call(erl.name, "erlang", "whereis", [Atom("target")])
        vm.link(target)
        ref = vm.monitor(target)
        q.put(("ready", repr(target)))
        q.put(vm.receive(timeout=10))
        q.put(vm.receive(timeout=10))
        q.put(ref)

    py.node.spawn(watcher)
    ready, printed = q.get(timeout=15)
    assert printed.startswith("<") and not printed.startswith("<0.")  # a remote pid
    erl.eval("target ! {die, gone}.")
    got = {q.get(timeout=10)[0], q.get(timeout=10)[0]}
    assert got == {"EXIT", "DOWN"}


def test_gen_server_between_beamlet_nodes(two_py):
    a, b = two_py
    start_counter(b)
    assert a.call(lambda: gen_server.call(("counter", b.name), ("add", 2))) == 2
    a.call(lambda: gen_server.cast(("counter", b.name), ("add", 3)))
    assert a.call(lambda: gen_server.call(("counter", b.name), "get")) == 5
    assert a.call(lambda: gen_server.call(("counter", b.name), "later")) == ("late", 5)
    with pytest.raises(vm.ProcessExit, match="ValueError"):
        a.call(lambda: gen_server.call(("counter", b.name), "crash"))
    start_counter(b)  # the crash ended it
    replies = a.call(lambda: gen_server.multi_call("counter", "get", 5, [a.name, b.name]))
    assert replies == ([(b.name, 0)], [a.name])  # no counter on a


def test_vm_api_between_beamlet_nodes(two_py):
    a, b = two_py
    inbox = b.inbox("inbox")
    q = queue.Queue()

    def worker():
        vm.exit(vm.receive())

    w = b.spawn_registered("w", worker)

    def local():
        vm.process_flag("trap_exit", True)
        vm.link(w)
        ref = vm.monitor(w)
        vm.send(("inbox", b.name), ("linked", vm.self()))
        q.put(vm.receive(timeout=10))
        q.put(vm.receive(timeout=10))
        q.put(ref)

    a.node.spawn(local)
    tag, me = get(inbox)
    assert tag == "linked" and me.node == a.name
    b.call(lambda: (vm.send(vm.whereis("w"), "bye"), None)[1])
    msgs = [q.get(timeout=10), q.get(timeout=10)]
    ref = q.get(timeout=10)
    assert ("EXIT", w, "bye") in msgs
    assert ("DOWN", ref, "process", w, "bye") in msgs
    # vm.exit/2 to a remote pid, and vm.demonitor of a remote monitor
    w2 = b.spawn_registered("w", worker)

    def killer():
        ref = vm.monitor(w2)
        assert vm.demonitor(ref, info=True) is True
        vm.exit(w2, "kill")
        q.put("done")

    a.node.spawn(killer)
    assert q.get(timeout=10) == "done"
    assert wait_for(lambda: b.call(lambda: vm.whereis("w")) is None)


def test_start_names_a_node_from_the_start(beamlet_epmd, home):
    """vm.run(main, sname=...): pids carry the name; vm.node() and vm.nodes() answer."""
    name = unique("named")

    def main():
        here = vm.node()
        return here, vm.self().node == here, vm.nodes(), repr(vm.self()).startswith("<0.")

    for _ in range(2):  # the node leaves EPMD when it stops: the name is free again
        here, same, nodes, printed = vm.run(main, sname=name, cookie="x",
                                              dist={"epmd_port": beamlet_epmd})
        assert here.startswith(name + "@") and same and nodes == [] and printed
    assert epmd.names(epmd=beamlet_epmd) == {}


@requires_erl
def test_an_erlang_call_holding_a_fun_or_bit_string_fails_at_once_with_nodedown(erl_and_py):
    erl, py = erl_and_py
    start_counter(py)
    srv = f"{{counter, '{py.name}'}}"
    for request in ["{<<\"add\">>, fun() -> ok end}", "<<5:3>>"]:
        # the call reaches the node, which cannot represent the request: it closes the
        # connection (as OTP does on a term it cannot decode), so the caller's monitor
        # fires now instead of the call timing out
        out = erl.eval(f"catch gen_server:call({srv}, {request}, 30000).")
        assert out.startswith("{'EXIT',{{nodedown,"), out
        # the node serves the next call, over a new connection
        assert erl.eval(f"gen_server:call({srv}, <<\"get\">>).") == "0"
