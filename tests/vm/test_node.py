"""Nodes on background threads, shutdown, and instruments."""

import signal
import threading

import pytest

import vm
from vm.testing import Recorder, run


def test_background_node_spawn_send_call():
    with vm.Node() as node:
        def echo():
            while True:
                m, sender = vm.receive()
                vm.send(sender, m)

        pid = node.spawn(echo)
        assert isinstance(pid, vm.Pid)

        def ask():
            vm.send(pid, ("hi", vm.self()))
            return vm.receive()

        assert node.call(ask, timeout=5) == "hi"
        node.send(pid, ("dropped", pid))  # reply goes to echo itself; must not break anything
        assert node.call(lambda: 2 + 2) == 4


def test_background_node_call_raises_process_exit():
    with vm.Node() as node:
        with pytest.raises(vm.ProcessExit) as info:
            node.call(lambda: 1 / 0, timeout=5)
        assert info.value.reason.exc_type == "ZeroDivisionError"


def test_background_node_call_timeout():
    with vm.Node() as node, pytest.raises(TimeoutError):
        node.call(lambda: vm.receive(), timeout=0.05)


def test_background_node_stop_ends_thread_and_kills_processes():
    node = vm.Node().start()
    done = threading.Event()

    def waiter():
        try:
            vm.receive()
        finally:
            done.set()

    node.spawn(waiter)
    node.stop(timeout=5)
    assert done.is_set()
    with pytest.raises(vm.VMError, match="stopped"):
        node.spawn(waiter)


def test_door_methods_refuse_foreign_use():
    node = vm.Node()
    with pytest.raises(vm.VMError, match="start"):
        node.spawn(print)


def test_instrument_sees_events():
    rec = Recorder()

    def main():
        pid = vm.spawn(lambda: (vm.receive(), vm.receive()))
        vm.send(pid, "x")
        vm.sleep(0)
        vm.link(pid)
        vm.unlink(pid)
        ref = vm.monitor(pid)
        vm.demonitor(ref)
        vm.exit(pid, "kill")
        return pid

    pid = run(main, instruments=[rec])
    kinds = [e[0] for e in rec.events()]
    for k in ("spawn", "send", "receive", "link", "unlink", "monitor", "demonitor", "exit"):
        assert k in kinds, k
    assert ("exit", pid, "killed") in rec.events("exit")


def test_raising_instrument_is_removed_and_node_goes_on(caplog):
    class Bad(vm.Instrument):
        def send(self, sender, dest, msg):
            raise RuntimeError("oops")

    def main():
        me = vm.self()
        vm.send(me, 1)
        vm.send(me, 2)
        return vm.flush()

    assert run(main, instruments=[Bad()]) == [1, 2]
    assert any("was removed" in r.getMessage() for r in caplog.records)


def test_instrument_must_be_an_instrument():
    with pytest.raises(vm.BadArg, match="Instrument"):
        vm.run(lambda: 1, instruments=[object()])


def test_keyboard_interrupt_stops_node_and_propagates():
    cleaned = []

    def other():
        try:
            vm.receive()
        finally:
            cleaned.append(1)

    def main():
        vm.spawn(other)
        vm.sleep(0)
        signal.raise_signal(signal.SIGINT)  # a real Ctrl-C
        vm.sleep(10)

    with pytest.raises(KeyboardInterrupt):
        vm.run(main)
    assert cleaned == [1]


def test_keyboard_interrupt_raised_by_code_is_a_crash_of_that_process():
    def victim():
        raise KeyboardInterrupt("raised by code, not Ctrl-C")

    def main():
        pid, ref = vm.spawn_monitor(victim)
        _, _, _, _, reason = vm.receive(("DOWN", ref, vm.ANY, vm.ANY, vm.ANY))
        return reason.exc_type, vm.is_process_alive(vm.self())

    assert vm.run(main) == ("KeyboardInterrupt", True)


def test_sys_exit_in_a_process_ends_that_process_only():
    import sys

    def quitter(code):
        sys.exit(code)

    def main():
        vm.process_flag("trap_exit", True)
        linked = vm.spawn_link(quitter, 2)
        exit_msg = vm.receive(("EXIT", linked, vm.ANY))
        _, ref = vm.spawn_monitor(quitter, "bye")
        down = vm.receive(("DOWN", ref, vm.ANY, vm.ANY, vm.ANY))
        return exit_msg[2][:2], down[4][:2]

    assert run(main) == (("SystemExit", "2"), ("SystemExit", "bye"))


def test_sys_exit_in_a_supervised_worker_is_restarted():
    import sys

    from stdlib import supervisor

    def worker(counter):
        # a closure's captured list would be copied with it: count by message
        if vm.send(counter, ("started", vm.self())) and vm.receive() == "exit":
            sys.exit(1)
        vm.receive()

    def count(n):
        while True:
            _, pid = vm.receive()
            n += 1
            vm.send(pid, "exit" if n == 1 else "stay")
            vm.put("starts", n)

    def start_worker(counter):
        return ("ok", vm.spawn_link(worker, counter))

    def main():
        counter = vm.spawn(count, 0)
        _, sup = supervisor.start_link_children(
            [{"id": "w", "start": (start_worker, (counter,))}], strategy="one_for_one")
        vm.sleep(0.1)
        starts = vm.process_info(counter, ("dictionary", "starts"))
        return starts, supervisor.count_children(sup)["active"]

    assert run(main) == (2, 1)


def test_stop_while_other_threads_send_call_and_spawn():
    # Threads used to block forever in fut.result() when the node stopped
    # under them; now every door returns or raises VMError("node stopped").
    node = vm.Node().start()
    outcomes = []
    lock = threading.Lock()

    def hammer(kind):
        for _ in range(200):
            try:
                if kind == "send":
                    node.send(vm.Pid(node.name, 1, 0, node.creation), "x")
                elif kind == "spawn":
                    node.spawn(vm.receive)
                else:
                    node.call(lambda: vm.sleep(0.001), timeout=5)
                result = "ok"
            except vm.VMError as e:
                result = "stopped" if "node stopped" in str(e) else f"other: {e}"
            except Exception as e:  # noqa: BLE001
                result = f"unexpected {type(e).__name__}: {e}"
            with lock:
                outcomes.append(result)
            if result != "ok":
                return

    threads = [threading.Thread(target=hammer, args=(k,)) for k in ("send", "spawn", "call")]
    for t in threads:
        t.start()
    threading.Event().wait(0.05)
    node.stop()
    for t in threads:
        t.join(10)
    assert not any(t.is_alive() for t in threads), "a thread hung on a stopped node"
    assert all(o in ("ok", "stopped") for o in outcomes), outcomes


def test_node_call_copies_arguments_and_result():
    node = vm.Node().start()
    try:
        given = {"list": [1, 2]}
        kept = []

        def mutate(d):
            d["list"].append(3)  # the caller's object must not change
            kept.append(d)
            return d

        got = node.call(mutate, given, timeout=5)
        assert given == {"list": [1, 2]}
        assert got == {"list": [1, 2, 3]} and got is not kept[0]
        with pytest.raises(vm.Unsendable):
            node.call(lambda: threading.Lock(), timeout=5)
        with pytest.raises(vm.Unsendable):
            node.call(print, threading.Lock(), timeout=5)
    finally:
        node.stop()
