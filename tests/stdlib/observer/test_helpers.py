"""The shell helpers (Erlang's c module and the observer views), inside a process
and from another thread."""

import contextlib
import json

import pytest

import vm
from stdlib import gen_server, observer
from stdlib.observer import helpers
from stdlib.observer.views import View
from vm.testing import run


def idle():
    vm.receive()


class Store(gen_server.GenServer):
    def init(self, arg):
        return ("ok", {"items": arg})

    def handle_call(self, req, from_, state):
        return ("reply", state, state)


def test_pid_from_text_and_numbers():
    def main():
        me = vm.self()
        return me, helpers.pid(repr(me)), helpers.pid(0, me.id, 0)

    me, a, b = run(main)
    assert a == me and b == me

    def bad():
        with pytest.raises(vm.BadArg, match="three numbers"):
            helpers.pid(0, 1)
        with pytest.raises(vm.BadArg):
            helpers.pid(42)
        return True

    assert run(bad)


def test_i_lists_processes_and_i_pid_shows_one():
    def main():
        p = vm.spawn(idle)
        vm.register("idler", p)
        vm.sleep(0)
        return p, helpers.i(), helpers.i(p), helpers.i("idler"), helpers.i(0, p.id, 0), \
            helpers.i(p, json=True)

    p, all_, one, by_name, by_numbers, as_json = run(main)
    assert isinstance(all_, View) and all_.kind == "i"
    assert repr(p) in all_.text and "idler" in all_.text
    assert one.text.startswith(f"Process {p!r} (idler)")
    assert by_name.text == one.text == by_numbers.text
    data = json.loads(as_json)
    assert data["pid"] == repr(p) and data["name"] == "idler"


def test_i_shows_the_first_hundred_unless_all():
    def main():
        for _ in range(150):
            vm.spawn(idle)
        vm.sleep(0)
        return helpers.i(), helpers.i(all=True)

    some, every = run(main)
    assert "51 more processes not shown" in some.text
    assert len(every.data["rows"]) == 151


def test_i_of_a_behaviour_reads_its_state_through_sys():
    def main():
        ok, srv = gen_server.start_link(Store, ["a" * 300])
        vm.sleep(0)
        return helpers.i(srv), helpers.i(srv, full=True), helpers.i(vm.spawn(idle))

    cut, full, plain = run(main)
    assert "state (sys.get_state)" in cut.text and "a" * 300 not in cut.text
    assert "a" * 300 in full.text
    assert "state (sys.get_state)" not in plain.text  # not a behaviour: nothing is asked


def test_procs_sorts_filters_and_windows():
    def hog():
        vm.receive()
        vm.bump_reductions(8000)
        vm.receive()

    def main():
        for _ in range(5):
            vm.spawn(idle)
        h = vm.spawn(hog)
        vm.register("hog", h)
        vm.sleep(0)
        first = helpers.procs(3)
        vm.send(h, "go")
        vm.sleep(0.1)
        second = helpers.procs(3)  # since the last look
        by_name = helpers.procs(10, "name", match="hog")
        windowed = helpers.procs(2, window=1.0)
        as_json = helpers.procs(2, json=True)
        return h, first, second, by_name, windowed, as_json

    h, first, second, by_name, windowed, as_json = run(main)
    assert first.data["window"] is None
    assert second.data["window"] is not None
    assert second.data["rows"][0]["pid"] == repr(h)
    assert second.data["rows"][0]["reductions_delta"] >= 8000
    assert [r["name"] for r in by_name.data["rows"]] == ["hog"]
    assert windowed.data["window"] == pytest.approx(1.0)
    assert json.loads(as_json)["kind"] == "processes"


def test_regs_flush_bt(capsys):
    def main():
        p = vm.spawn(idle)
        vm.register("idler", p)
        vm.send(vm.self(), ("hello", 1))
        vm.send(vm.self(), "world")
        vm.sleep(0)
        out = helpers.flush()
        return p, helpers.regs(), out, helpers.bt(p), helpers.flush()

    p, regs, out, bt, again = run(main)
    printed = capsys.readouterr().out
    assert printed == "Shell got ('hello', 1)\nShell got 'world'\n"
    assert out is None and again is None
    assert "idler" in regs.text and repr(p) in regs.text
    assert bt.text.splitlines()[1].strip().startswith("tests.stdlib.observer.test_helpers.idle/0")
    assert "vm.receive()" in bt.text


def test_kill_and_exit():
    def trapper():
        vm.process_flag("trap_exit", True)
        while True:
            vm.receive()

    def main():
        a = vm.spawn(trapper)
        b = vm.spawn(trapper)
        vm.sleep(0)
        helpers.exit(b, "please")  # trapped: it becomes a message
        vm.sleep(0)
        alive_b = vm.is_process_alive(b)
        helpers.kill(a)  # kill is untrappable
        vm.sleep(0)
        with pytest.raises(vm.Exit):
            helpers.exit("bye")
        with pytest.raises(vm.BadArg, match="q\\(\\) leaves"):
            helpers.exit()
        return vm.is_process_alive(a), alive_b

    assert run(main) == (False, True)


def test_destructive_helpers_need_the_switch():
    def main():
        ok, srv = gen_server.start_link(Store, 1)
        for fn in (helpers.suspend, helpers.resume):
            with pytest.raises(helpers.DestructiveRefused, match="allow_destructive=True"):
                fn(srv)
        with pytest.raises(helpers.DestructiveRefused):
            helpers.replace_state(srv, lambda s: s)
        helpers.suspend(srv, allow_destructive=True)
        helpers.resume(srv, allow_destructive=True)
        new = helpers.replace_state(srv, lambda s: {"items": 2}, allow_destructive=True)
        return new, helpers.get_state(srv)

    assert run(main) == ({"items": 2}, {"items": 2})


def test_system_view_rates_since_the_last_look():
    def main():
        first = helpers.system(window=1.0)
        vm.spawn(lambda: vm.bump_reductions(20000))
        vm.sleep(2)
        second = helpers.system()
        return first, second, helpers.system(json=True)

    first, second, as_json = run(main)
    assert first.data["rates"]["seconds"] == pytest.approx(1.0)
    assert second.data["rates"]["seconds"] == pytest.approx(2.0)
    assert second.data["rates"]["reductions_per_s"] >= 10000
    assert json.loads(as_json)["kind"] == "system"


def test_system_shows_the_dirty_pool_and_its_abandoned_jobs_once_used():
    import threading

    release = threading.Event()

    def abandon():
        with contextlib.suppress(TimeoutError):  # the job runs on, abandoned
            vm.to_thread(release.wait, 5, timeout=0.01)

    def main():
        before = helpers.system(window=0)
        vm.to_thread(sum, range(10))
        pid, ref = vm.spawn_monitor(abandon)
        vm.receive(("DOWN", ref, "process", pid, vm.ANY))
        during = helpers.system(window=0)
        release.set()
        return before, during

    before, during = vm.run(main)
    assert "outside" not in before.text  # a node that never used the pool says nothing
    line = next(x for x in during.text.splitlines() if x.strip().startswith("outside"))
    assert "dirty pool" in line and "1 of them abandoned by their callers" in line, line
    assert "1 done" in line and "1 abandoned ever" in line, line
    assert during.data["outside"]["dirty"]["abandoned_running"] == 1


def test_seq_of_a_function_and_of_the_last_trace(capsys):
    def echo():
        m, s = vm.receive()
        vm.send(s, m)

    def main():
        p = vm.spawn(echo)

        def talk():
            vm.send(p, ("hi", vm.self()))
            return vm.receive()

        v = helpers.seq(talk)
        m = helpers.seq(mermaid=True)
        return v, m

    v, m = run(main)
    assert "result: 'hi'" in capsys.readouterr().out
    assert v.kind == "sequence" and "INFO 'hi'" in v.text
    assert m.startswith("sequenceDiagram") and repr(m) == str(m)


def test_seq_without_a_trace_says_what_to_do():
    def main():
        with pytest.raises(vm.VMError, match="no trace yet"):
            helpers.seq(node=vm.lowlevel.current_node())
        return True

    import vm.lowlevel

    # a fresh node has no trace
    assert run(main)


def test_helpers_from_another_thread():
    with vm.Node() as node:
        observer.use_node(node)
        try:
            p = node.spawn(idle)
            assert repr(p) in observer.i().text
            assert observer.i(p).data["pid"] == repr(p)
            assert observer.procs(5).data["count"] == 1
            assert observer.regs().data["rows"] == []
            observer.kill(p)
            assert observer.i(p).text == "the process is not alive"
            assert observer.system(window=0.05).data["processes"] == 0
        finally:
            observer.use_node(None)


def test_no_node_says_what_to_do():
    observer.use_node(None)
    with pytest.raises(vm.VMError, match="no node to observe"):
        observer.i()


def test_help_lists_every_helper():
    from stdlib.observer import commands

    text = commands.help_text()
    names = {c.name for c in commands.commands()}
    for name in ("i", "procs", "regs", "flush", "bt", "pid", "kill", "exit", "system", "tree",
                 "trace", "trace_stop", "seq", "get_state", "suspend", "resume",
                 "replace_state"):
        assert name in names
        assert commands.lookup(name).usage in text
    assert helpers.i is commands.lookup("i").fn


def test_i_on_a_busy_server_says_why_the_state_is_missing():
    class Slow(gen_server.GenServer):
        def init(self, _arg):
            return ("ok", "the state")

        def handle_cast(self, msg, state):
            vm.sleep(60)  # busy in a callback: sys requests wait
            return ("noreply", state)

    def main():
        ok, pid = gen_server.start(Slow, None)
        gen_server.cast(pid, "work")
        vm.sleep(0.1)
        return observer.i(pid)

    view = run(main)
    assert "state     unavailable: the process did not answer sys.get_state within 2.5 s" \
        in view.text
    assert "('error', 'timeout')" not in view.text
