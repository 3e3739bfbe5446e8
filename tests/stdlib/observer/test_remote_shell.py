"""The remote shell between two beamlet nodes in this process (the target
`a`, the client `b`): output comes to the client, sessions keep to their own
output, traces follow the session, and top reads the target.
tests/stdlib/observer/test_remote_cli.py runs the real commands."""

import io
import queue
import sys

import pytest

import vm
from stdlib.observer import remote, remote_io, remote_top, top, tracing
from tests.distribution.cluster import PyNode, wait_for
from tests.distribution.erlang import unique


class Lines(io.TextIOBase):
    """A client's terminal: what is written, and a queue to wait for it on."""

    def __init__(self):
        self.text = ""
        self.writes: queue.Queue = queue.Queue()

    def write(self, s):
        self.text += s
        self.writes.put(s)
        return len(s)

    def wait_for(self, needle, timeout=10.0):
        while needle not in self.text:
            self.writes.get(timeout=timeout)
        return self.text


@pytest.fixture
def shell(two_py):
    a, b = two_py
    a.call(remote.allow)
    out = Lines()
    sh = remote.RemoteShell(b.node, a.name, out=out)
    assert sh.connect()
    return a, b, sh, out


def test_what_an_evaluation_prints_comes_before_its_value(shell):
    a, _b, sh, out = shell
    assert sh.show(sh.evaluate("print('hello'); print('world', end='!'); 41 + 1"))
    assert out.text == "hello\nworld!42\n"
    assert sh.show(sh.evaluate("for k in range(3): print(k)\n")) and out.text.endswith("0\n1\n2\n")


def test_what_spawned_processes_print_follows_them_and_others_stay_on_the_target(shell,
                                                                                   capsys):
    a, _b, sh, out = shell
    sh.evaluate("def late():\n    vm.receive()\n    print('late line')\n\nlp = vm.spawn(late)\n")
    sh.evaluate("vm.send(lp, 'go')")
    out.wait_for("late line\n")  # printed after its evaluation ended: still the session's
    a.call(lambda: print("the target's own line"))  # a process of no session
    assert "the target's own line" in capsys.readouterr().out
    assert "target's own" not in out.text


def test_concurrent_sessions_see_only_their_own_output(shell):
    a, b, sh, out = shell
    other_out = Lines()
    other = remote.RemoteShell(b.node, a.name, out=other_out)
    sh.evaluate("x = 'mine'")
    other.evaluate("x = 'theirs'")
    for k in range(3):
        sh.evaluate(f"print(x, {k})")
        other.evaluate(f"print(x, {k})")
    assert out.text == "mine 0\nmine 1\nmine 2\n"
    assert other_out.text == "theirs 0\ntheirs 1\ntheirs 2\n"


def test_a_trace_prints_in_the_shell_that_started_it_and_is_hidden_from_itself(shell):
    a, b, sh, out = shell
    a.spawn_registered("keeper", lambda: [vm.receive() for _ in range(10)])
    other_out = Lines()
    other = remote.RemoteShell(b.node, a.name, out=other_out)
    assert sh.show(sh.evaluate("trace('keeper', 'receive', count=2)"))
    other.evaluate("vm.send(vm.whereis('keeper'), 'one'); vm.send(vm.whereis('keeper'), 'two')")
    out.wait_for("trace stopped: 2 events (count limit)")
    assert "<< 'one'" in out.text and "<< 'two'" in out.text
    assert other_out.text == ""
    # a trace of everything does not trace the messages that carry its own lines
    sh.evaluate("trace('all', 'send', count=50)")
    sh.evaluate("print('between')")
    sh.evaluate("trace_stop()")
    out.wait_for("trace stopped")
    assert "$remsh_io" not in out.text


def test_when_the_client_goes_away_its_trace_stops_and_prints_go_home(two_py, beamlet_epmd):
    a, _b = two_py
    a.call(remote.allow)
    a.spawn_registered("keeper", lambda: [vm.receive() for _ in range(10)])
    client = PyNode(unique("c"), "shared", beamlet_epmd)
    try:
        out = Lines()
        sh = remote.RemoteShell(client.node, a.name, out=out)
        sh.evaluate("trace('keeper', count=5)")
        assert a.call(lambda: tracing.last().running)
        assert isinstance(sys.stdout, remote_io._Router)
    finally:
        client.close()
    assert wait_for(lambda: not a.call(lambda: tracing.last().running))
    assert a.call(lambda: tracing.last().stopped_because) == "the shell that started it is gone"
    assert wait_for(lambda: not isinstance(sys.stdout, remote_io._Router))
    assert a.call(lambda: [p for p in vm.processes()
                           if vm.process_info(p, "label") == "remsh output"]) == []


def test_nregs_in_the_remote_shell_asks_the_client_node_too(shell):
    a, b, sh, out = shell
    assert sh.show(sh.evaluate("nregs()"))
    assert f"** Registered procs on node {a.name} **" in out.text
    assert f"** Registered procs on node {b.name} **" in out.text
    assert "beamlet_remsh" in out.text


def test_top_typed_in_the_remote_shell_draws_the_target_here(shell):
    a, _b, sh, out = shell
    a.spawn_registered("keeper", vm.receive)
    assert sh.show(sh.evaluate("top(n=100, interval=0.25, frames=2)"))
    blocks = out.text.strip().split("\n\n")
    assert len(blocks) == 2
    assert blocks[0].startswith(f"beamlet top - {a.name}") and "keeper" in blocks[1]
    assert not sh.show(sh.evaluate("top(sort='nonsense', frames=1)"))
    assert "top: sort must be one of" in out.text


def test_top_reads_act_on_the_target(shell):
    a, _b, sh, _out = shell
    keeper = a.spawn_registered("keeper", lambda: vm.receive())
    source = remote_top.RemoteSource(sh.read, a.name)
    state = top.TopState(n=100, sort="memory")
    first, stats = source.refresh(state, None)
    table, stats2 = source.refresh(state, first.sample)
    assert stats2["node"] == a.name and table.sort == "memory"
    assert table.window is not None  # the second look is measured against the first
    assert keeper in [r.pid for r in table.rows]
    state.filter = "keeper"
    filtered, _ = source.refresh(state, table.sample)
    assert [r.pid for r in filtered.rows] == [keeper]
    detail, _state = source.detail(keeper, True)
    assert detail.pid == keeper and detail.name == "keeper"
    assert source.stats()["node"] == a.name
    assert source.kill(keeper) is True
    assert wait_for(lambda: a.call(lambda: vm.whereis("keeper")) is None)
    assert source.kill(keeper) is False
    assert source.detail(keeper, False)[0] is None


def test_top_panels_run_on_the_target(shell):
    a, _b, sh, _out = shell
    top.register_panel("z", "zed", lambda node: [f"zed on {vm.node()}"])
    try:
        source = remote_top.RemoteSource(sh.read, a.name)
        assert source.panel(top.TopState(panel="z")) == [f"zed on {a.name}"]
    finally:
        top.PANELS.pop("z", None)
    assert "no such panel" in source.panel(top.TopState(panel="y"))[0]


def test_plain_makes_any_value_encodable():
    obj = object()
    value = {"label": obj, "msgs": [("ok", 1.5, b"x", None, {1, 2})], vm.Atom("a"): (obj,)}
    got = remote_top.plain(value)
    assert got["label"] == repr(obj) and got[vm.Atom("a")] == (repr(obj),)
    assert got["msgs"] == [("ok", 1.5, b"x", None, repr({1, 2}))]


def test_a_target_node_that_stops_closes_its_sessions_output(beamlet_epmd):
    """The node a shell is attached to stops while the session is open: its
    sessions' output goes with it (sys.stdout is the process's own again)."""
    target = PyNode(unique("t"), "shared", beamlet_epmd)
    client = PyNode(unique("c"), "shared", beamlet_epmd)
    try:
        target.call(remote.allow)
        out = Lines()
        sh = remote.RemoteShell(client.node, target.name, out=out)
        sh.evaluate("print('attached')")
        out.wait_for("attached")
        assert isinstance(sys.stdout, remote_io._Router)
        target.close()
        assert not isinstance(sys.stdout, remote_io._Router)
    finally:
        target.close()
        client.close()
