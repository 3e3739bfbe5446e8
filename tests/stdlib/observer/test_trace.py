"""Tracing on the instruments: dbg lines, mandatory limits, one trace at a time,
what is traced, and sequence diagrams."""

import pytest

import vm
from stdlib import gen_server
from stdlib.observer import tracing as tr
from vm.testing import run


def echo():
    while True:
        msg = vm.receive()
        if msg == "stop":
            return
        m, sender = msg
        vm.send(sender, m)


def ask(pid, m):
    vm.send(pid, (m, vm.self()))
    return vm.receive()


def test_send_and_receive_lines_as_dbg_prints_them():
    out = []

    def main():
        p = vm.spawn(echo)
        t = tr.trace(p, count=10, output=out.append)
        ask(p, "hi")
        return p, vm.self(), t

    p, me, t = run(main)
    assert out[:2] == [f"({p!r}) << ('hi', {me!r})", f"({p!r}) {me!r} ! 'hi'"]
    assert t.shown == 2


def test_a_trace_needs_a_limit_and_a_known_target():
    def main():
        p = vm.spawn(echo)
        with pytest.raises(vm.BadArg, match="needs a limit"):
            tr.trace(p)
        with pytest.raises(vm.BadArg, match="count must be"):
            tr.trace(p, count=0)
        with pytest.raises(vm.BadArg, match="seconds must be"):
            tr.trace(p, seconds=-1)
        with pytest.raises(vm.BadArg, match="events must be"):
            tr.trace(p, "gc", count=1)
        with pytest.raises(vm.BadArg, match="not registered|no process is registered"):
            tr.trace("nobody", count=1)
        pid, ref = vm.spawn_monitor(lambda: None)
        vm.receive(("DOWN", ref, vm.ANY, vm.ANY, vm.ANY))
        with pytest.raises(vm.BadArg, match="not alive"):
            tr.trace(pid, count=1)
        return True

    assert run(main)


def test_count_limit_stops_by_itself():
    out = []

    def main():
        p = vm.spawn(echo)
        t = tr.trace(p, count=3, output=out.append)
        for k in range(5):
            ask(p, k)
        return t

    t = run(main)
    assert len(out) == 4 and out[-1] == "trace stopped: 3 events (count limit)"
    assert not t.running and t.stopped_because == "count limit"


def test_time_limit_stops_by_itself_on_the_node_clock():
    out = []

    def main():
        p = vm.spawn(echo)
        t = tr.trace(p, seconds=5, output=out.append)
        ask(p, "a")
        vm.sleep(4)
        ask(p, "b")
        vm.sleep(2)  # the limit passes while nothing happens: a timer stops it
        running_after = t.running
        ask(p, "c")
        return t, running_after

    t, running_after = run(main)
    assert not running_after
    assert out[-1] == "trace stopped: 4 events (time limit)"
    assert not any("'c'" in line for line in out)


def test_one_trace_at_a_time():
    out = []

    def main():
        p = vm.spawn(echo)
        first = tr.trace(p, count=100, output=out.append)
        second = tr.trace(p, count=100, output=out.append)
        ask(p, 1)
        return first, second, tr.last()

    first, second, last = run(main)
    assert out[0] == "trace stopped: 0 events (replaced by a new trace)"
    assert not first.running and second.running and last is second


def test_trace_by_name_and_stop():
    out = []

    def main():
        p = vm.spawn(echo)
        vm.register("echo", p)
        t = tr.trace("echo", "receive", count=100, output=out.append)
        ask(p, 1)
        tr.stop()
        ask(p, 2)
        return p, t

    p, t = run(main)
    assert out == [f"({p!r}) << (1, {out[0].split(', ')[1][:-1]})",
                   "trace stopped: 1 event (stopped)"]
    assert t.names[p] == "echo"


def test_new_processes_spawn_exit_and_links():
    out = []

    def child():
        vm.receive()

    def main():
        me = vm.self()
        t = tr.trace("new", ("spawn", "exit", "link", "send"), count=20, output=out.append)
        a = vm.spawn(child)
        b = vm.spawn(lambda: (vm.link(a), vm.receive()))  # b is new, traced: links to a
        vm.sleep(0)
        vm.send(a, "bye")
        vm.sleep(0)
        vm.exit(b, "kill")
        t.stop()
        return me, a, b

    me, a, b = run(main)
    assert f"({b!r}) link {a!r}" in out
    assert f"({a!r}) getting_linked {b!r}" in out
    assert f"({a!r}) exit normal" in out
    assert f"({b!r}) exit killed" in out
    assert not any(line.startswith(f"({me!r})") for line in out)  # main is not new


def test_follow_traces_what_a_traced_process_spawns():
    out = []

    def parent():
        c = vm.spawn(lambda: vm.send(vm.self(), "x") and vm.receive())
        vm.receive()
        return c

    def main():
        p = vm.spawn(parent)
        tr.trace(p, ("spawn", "send"), count=10, follow=True, output=out.append)
        vm.sleep(0)
        vm.send(p, "go")
        vm.sleep(0)
        tr.stop()
        return p

    p = run(main)
    spawned = [line for line in out if " spawn " in line]
    assert len(spawned) == 1 and spawned[0].startswith(f"({p!r}) spawn <0.")
    child = spawned[0].split(" spawn ")[1].split(" as ")[0]
    assert f"({child}) {child} ! 'x'" in out


def test_monitor_events_and_timestamps():
    out = []

    def main():
        p = vm.spawn(echo)
        tr.trace(vm.self(), "monitor", count=2, timestamps=True, output=out.append)
        ref = vm.monitor(p)
        vm.demonitor(ref)
        return p, ref

    p, ref = run(main)
    assert out[0].startswith("(") and f"monitor {p!r} (Timestamp: 0.0" in out[0]
    assert f"demonitor {ref!r}" in out[1]


class Counter(gen_server.GenServer):
    def init(self, n):
        return ("ok", n)

    def handle_call(self, req, from_, n):
        return ("reply", n + req, n + req)


def test_calls_and_replies():
    out = []

    def main():
        ok, srv = gen_server.start_link(Counter, 10)
        tr.trace(srv, "call", count=4, output=out.append)
        me = vm.self()
        gen_server.call(srv, 5)
        return me, srv

    me, srv = run(main)
    assert out[0] == f"({me!r}) call {srv!r} 5"
    assert out[1] == f"({srv!r}) reply {me!r} -> 15"


def test_messages_are_cut_unless_full():
    out = []

    def main():
        p = vm.spawn(echo)
        tr.trace(p, "receive", count=2, output=out.append)
        ask(p, "x" * 1000)
        tr.trace(p, "receive", count=1, full=True, output=out.append)
        ask(p, "y" * 1000)

    run(main)
    assert len(out[0]) <= tr.LINE_LIMIT + 20 and out[0].endswith("...")
    assert "y" * 1000 in out[-2]


def test_a_broken_output_never_breaks_the_node():
    def boom(line):
        raise OSError("terminal closed")

    def main():
        p = vm.spawn(echo)
        tr.trace(p, count=5, output=boom)
        return ask(p, 1)

    assert run(main) == 1


def test_sequence_diagram_of_a_conversation():
    def main():
        ok, srv = gen_server.start_link(Counter, 0)
        vm.register("counter", srv)
        worker = vm.spawn(echo)

        def conversation():
            gen_server.call(srv, 2)
            ask(worker, "ping")
            helper = vm.spawn(lambda: vm.exit("done"))
            vm.monitor(helper)
            vm.receive(("DOWN", vm.ANY, vm.ANY, vm.ANY, vm.ANY))
            return "ok"

        result, view = tr.seq(conversation)
        return vm.self(), srv, worker, result, view

    me, srv, worker, result, view = run(main)
    assert result == "ok"
    steps = view.data["steps"]
    labels = [s["label"] for s in steps]
    assert labels[0] == "CALL 2" and labels[1] == "REPLY 2"
    assert "INFO ('ping', " in labels[2] and labels[3] == "INFO 'ping'"
    assert labels[4].startswith("SPAWN ") and labels[5] == "EXIT 'done'"
    assert labels[6] == "DOWN 'done'"
    parts = view.data["participants"]
    assert parts[0]["pid"] == repr(me) and {"pid": repr(srv), "name": "counter"} in parts
    m = view.mermaid().splitlines()
    assert m[0] == "sequenceDiagram"
    assert f"    participant p{srv.id}_0 as #60;0.{srv.id}.0#62; counter" in m
    assert f"    p{me.id}_0->>p{srv.id}_0: CALL 2" in m
    assert f"    p{srv.id}_0-->>p{me.id}_0: REPLY 2" in m
    assert any(x.startswith(f"    p{me.id}_0-)p") and "SPAWN" in x for x in m)
    assert any(x.startswith("    Note over p") and "EXIT #39;done#39;" not in x for x in m)
    text = view.text.splitlines()
    assert repr(me) in text[0] and "counter" in text[1]
    assert any("CALL 2" in x for x in text) and any("▶" in x for x in text)
    assert any("◀" in x for x in text) and any(x.strip().startswith("│") or "X EXIT" in x
                                             for x in text)


def test_sequence_text_falls_back_to_a_list_when_too_wide():
    def main():
        pids = [vm.spawn(echo) for _ in range(10)]

        def talk():
            for p in pids:
                ask(p, 1)

        return tr.seq(talk)[1]

    view = run(main)
    lines = view.text.splitlines()
    assert " -> " in lines[0] and ": INFO (1, " in lines[0]


def test_classify():
    ref = vm.Ref("n", 1, 1)
    calls = set()
    pid = vm.Pid("n", 1, 0, 1)
    assert tr.classify(("$gen_call", (pid, ref), "get"), calls) == ("CALL", "get")
    assert tr.classify((ref, 3), calls) == ("REPLY", 3)
    assert tr.classify(("$gen_cast", "x")) == ("CAST", "x")
    assert tr.classify(("EXIT", pid, "normal")) == ("EXIT", "normal")
    assert tr.classify(("DOWN", ref, "process", pid, "boom")) == ("DOWN", "boom")
    assert tr.classify((vm.Ref("n", 2, 1), 3), calls) == ("INFO", (vm.Ref("n", 2, 1), 3))
    assert tr.classify("hello") == ("INFO", "hello")


def test_state_changes_of_a_gen_statem():
    from stdlib import gen_statem

    class Door(gen_statem.GenStatem):
        def callback_mode(self):
            return "state_functions"

        def init(self, code):
            return ("ok", "locked", code)

        def locked(self, event_type, event, code):
            return ("next_state", "open", code) if event == code else "keep_state_and_data"

        def open(self, event_type, event, code):
            return ("next_state", "locked", code)

    out = []

    def main():
        ok, door = gen_statem.start_link(Door, "1", name="door")
        t = tr.trace("door", "state", count=2, output=out.append)
        for ev in ("2", "1", "x", "y"):
            gen_statem.cast("door", ev)
        vm.sleep(0.1)
        with pytest.raises(vm.BadArg, match="needs the machines as targets"):
            tr.trace("new", "state", count=1)
        return door, t

    door, t = run(main)
    assert out[:2] == [f"({door!r}) state 'locked' -> 'open'",
                       f"({door!r}) state 'open' -> 'locked'"]
    assert out[2] == "trace stopped: 2 events (count limit)"
    assert "Note over" in t.view().mermaid() and "STATE 'open'" in t.view().mermaid()
