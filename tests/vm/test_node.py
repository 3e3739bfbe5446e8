"""Nodes on background threads, shutdown, and instruments."""

import threading

import pytest

import vm
from tests.conftest import run_vm
from vm.testing import Recorder


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
    with vm.Node() as node:
        with pytest.raises(TimeoutError):
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

    pid = run_vm(main, instruments=[rec])
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

    assert run_vm(main, instruments=[Bad()]) == [1, 2]
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
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        vm.run(main)
    assert cleaned == [1]
