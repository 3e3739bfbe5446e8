"""Two beamlet nodes over the distribution: the same scenarios as against Erlang."""

import logging
import queue
import threading

import pytest

import vm
import vm.lowlevel
from vm import Atom, Crash, dist
from vm.dist import rpc

from .cluster import PyNode, get, wait_for
from .erlang import unique


def test_ping_and_nodes(two_py):
    a, b = two_py
    assert a.call(lambda: dist.ping(b.name)) == "pong"
    assert b.call(lambda: dist.ping(a.name)) == "pong"
    assert a.call(lambda: dist.nodes("hidden")) == [b.name]
    assert b.call(lambda: dist.nodes("connected")) == [a.name]


def test_messages_keep_every_python_type(two_py):
    a, b = two_py
    inbox = b.inbox("inbox")
    values = [None, True, 3, 2**100, 1.5, "str", b"bytes", b"", "", Atom("atom"), (1, [2]),
              {"k": [b"v"]}, Crash("ValueError", "bad", "tb"), dist.ImproperList([1], 2)]
    for v in values:
        a.call(lambda v=v: (dist.send(("inbox", b.name), v), None)[1])
        got = get(inbox)
        assert got == v and type(got) is type(v), v
    me = a.call(lambda: dist.send(("inbox", b.name), vm.self()))
    seen = get(inbox)  # on b, a's pid carries a's name and creation
    assert (seen.node, seen.id) == (a.name, me.id)
    with pytest.raises(vm.ProcessExit, match="function"):
        a.call(lambda: dist.send(("inbox", b.name), lambda: 1))


def test_per_pair_order_is_kept(two_py):
    a, b = two_py
    inbox = b.inbox("seq")
    a.call(lambda: [dist.send(("seq", b.name), i) for i in range(2000)])
    assert [get(inbox) for _ in range(2000)] == list(range(2000))


def test_links_and_exit_signals_both_ways(two_py):
    a, b = two_py
    inbox = a.inbox("box")

    def remote_worker():
        vm.exit(vm.receive())

    worker = b.spawn_registered("worker", remote_worker)

    def linker():
        vm.process_flag("trap_exit", True)
        dist.link(worker)
        dist.ping(b.name)  # a round trip on the same connection: the LINK has arrived
        dist.send(("box", vm.node_name()), "linked")
        dist.send(("box", vm.node_name()), vm.receive(timeout=10))

    a.node.spawn(linker)
    assert get(inbox) == "linked"
    b.call(lambda: dist.send(worker, "crashed_badly"))
    assert get(inbox) == ("EXIT", worker, "crashed_badly")

    # a process that does not trap exits dies with the remote reason
    worker = b.spawn_registered("worker", remote_worker)
    q = queue.Queue()

    def plain():
        dist.link(worker)
        dist.ping(b.name)
        q.put("linked")
        vm.receive()

    def spawner():
        pid, ref = vm.spawn_monitor(plain)
        q.put(vm.receive(timeout=10))

    a.node.spawn(spawner)
    assert q.get(timeout=10) == "linked"
    b.call(lambda: dist.send(worker, "boom"))
    down = q.get(timeout=10)
    assert down[0] == "DOWN" and down[4] == "boom"

    # exit/2 across nodes, and unlink
    t = b.spawn_registered("target", vm.receive)
    a.call(lambda: dist.exit(t, "stop_it"))
    assert wait_for(lambda: b.call(lambda: vm.whereis("target")) is None)


def test_unlink_removes_the_link(two_py):
    a, b = two_py
    q = queue.Queue()

    def remote():
        vm.receive()
        vm.exit("late")

    r = b.spawn_registered("r", remote)

    def local():
        vm.process_flag("trap_exit", True)
        dist.link(r)
        dist.unlink(r)
        dist.ping(b.name)
        q.put("unlinked")
        q.put(vm.receive(timeout=1.0))

    a.node.spawn(local)
    assert q.get(timeout=10) == "unlinked"
    b.call(lambda: dist.send(r, "go"))
    assert q.get(timeout=10) is vm.TIMEOUT


def test_monitors_and_node_going_away(beamlet_epmd, home):
    a = PyNode(unique("a"), "c", beamlet_epmd)
    b = PyNode(unique("b"), "c", beamlet_epmd)
    try:
        b.spawn_registered("idle", vm.receive)
        q = queue.Queue()

        def watcher():
            r1 = dist.monitor(("idle", b.name))
            r2 = dist.monitor(("nobody", b.name))
            dist.monitor_node(b.name)
            dist.ping(b.name)
            q.put(vm.receive(timeout=10))  # the noproc one
            q.put("ready")
            q.put((r1, vm.receive(timeout=20)))
            q.put(vm.receive(timeout=20))
            del r2

        a.node.spawn(watcher)
        noproc = q.get(timeout=10)
        assert noproc[0] == "DOWN" and noproc[3] == ("nobody", b.name) and noproc[4] == "noproc"
        assert q.get(timeout=10) == "ready"
        b.close()
        r1, down = q.get(timeout=20)
        assert down == ("DOWN", r1, "process", ("idle", b.name), "noconnection")
        assert q.get(timeout=20) == ("nodedown", b.name)
    finally:
        a.close()
        b.close()


def test_calls_and_rpc_both_ways(two_py):
    a, b = two_py

    def server():
        while True:
            msg = vm.receive()
            if msg[0] == "$gen_call":
                dist.reply(msg[1], ("echo", msg[2]))

    b.spawn_registered("srv", server)
    assert a.call(lambda: dist.call(("srv", b.name), "hi")) == ("echo", "hi")
    b.call(lambda: rpc.expose("calc", "mul", lambda x, y: x * y))
    assert a.call(lambda: rpc.call(b.name, "calc", "mul", [6, 7])) == 42
    assert a.call(lambda: rpc.call(b.name, "calc", "div", [6, 7]))[0] == "badrpc"
    a.call(lambda: rpc.expose("calc", "neg", lambda x: -x))
    assert b.call(lambda: rpc.call(a.name, "calc", "neg", [5])) == -5


def test_a_remote_alias_with_the_id_of_a_local_alias_still_reaches_its_node(two_py):
    """Reference ids start small on every node, so a call's reply alias from
    another node often has the id of an alias alive here: the send must still
    leave for the other node, and a reply must not be delivered here."""
    a, b = two_py
    aliases: queue.Queue = queue.Queue()

    def owner():
        r = vm.alias()
        aliases.put(r)
        aliases.put(vm.receive(timeout=10))

    a.node.spawn(owner)
    local = aliases.get(timeout=10)
    theirs = a.call(lambda: _as_peers_see(local))

    def on_b():
        mine = [vm.alias() for _ in range(theirs.id + 1)]  # one with theirs.id is alive here
        assert any(m.id == theirs.id for m in mine)
        vm.send(theirs, "hello")
        vm.lowlevel.call_reply(theirs, "not here")  # a local reply never goes out: dropped
        return vm.flush()

    assert b.call(on_b) == []
    assert aliases.get(timeout=10) == "hello"


def _as_peers_see(term):
    from vm.dist.codec import decode

    return decode(dist.current().make_encoder().encode(term))


def test_simultaneous_connect(two_py):
    a, b = two_py
    results = {}
    go = threading.Barrier(2)

    def dial(src, dst):
        go.wait()
        results[src.name] = src.call(lambda: dist.connect(dst.name))

    threads = [threading.Thread(target=dial, args=(a, b)),
               threading.Thread(target=dial, args=(b, a))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert results == {a.name: True, b.name: True}
    # each side settles on one connection in its own time (the loser of the
    # simultaneous connect closes its attempt): wait for both views
    assert wait_for(lambda: a.call(lambda: dist.nodes("connected")) == [b.name])
    assert wait_for(lambda: b.call(lambda: dist.nodes("connected")) == [a.name])
    assert a.call(lambda: dist.ping(b.name)) == "pong"


def test_wrong_cookie(beamlet_epmd, home, caplog):
    a = PyNode(unique("a"), "one", beamlet_epmd)
    b = PyNode(unique("b"), "two", beamlet_epmd)
    try:
        with caplog.at_level(logging.INFO, logger="beamlet.dist"):
            assert a.call(lambda: dist.ping(b.name)) == "pang"
            assert wait_for(lambda: "rejected" in caplog.text)
        assert "one" not in caplog.text.replace(a.name, "").replace(b.name, "")
        assert b.call(lambda: dist.nodes("connected")) == []
    finally:
        a.close()
        b.close()


def test_monitor_nodes_reports_hidden_peers_up_and_down(two_py):
    a, b = two_py
    q = queue.Queue()

    def watcher():
        dist.monitor_nodes(True)
        q.put("subscribed")
        while True:
            q.put(vm.receive())

    a.node.spawn(watcher)
    assert get(q) == "subscribed"
    assert a.call(lambda: dist.connect(b.name))
    assert get(q) == ("nodeup", b.name)
    assert b.call(lambda: dist.disconnect(a.name))
    assert get(q) == ("nodedown", b.name)
