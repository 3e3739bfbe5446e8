"""Spawning, sending, receiving, and what vm.run returns."""

import pytest

import vm
from vm.testing import run


def test_run_returns_main_result():
    assert run(lambda: 42) == 42


def test_run_passes_args_and_kwargs():
    def main(a, b=0):
        return a + b

    assert run(main, 1, b=2) == 3


def test_run_raises_process_exit_with_reason():
    def main():
        vm.exit("boom")

    with pytest.raises(vm.ProcessExit) as info:
        run(main)
    assert info.value.reason == "boom"


def test_crash_reason_carries_type_message_and_traceback():
    def main():
        1 / 0  # noqa: B018 - the crash under test

    with pytest.raises(vm.ProcessExit) as info:
        run(main)
    reason = info.value.reason
    assert isinstance(reason, vm.Crash)
    assert reason.exc_type == "ZeroDivisionError"
    assert reason.message == "division by zero"
    assert "1 / 0" in reason.traceback


def test_echo_round_trip():
    def echo():
        text, sender = vm.receive()
        vm.send(sender, text)

    def main():
        pid = vm.spawn(echo)
        vm.send(pid, ("hello", vm.self()))
        return vm.receive()

    assert run(main) == "hello"


def test_spawn_returns_before_child_runs():
    log = []

    def child():
        log.append("child")

    def main():
        vm.spawn(child)
        log.append("parent")
        vm.sleep(0)
        return log

    assert run(main) == ["parent", "child"]


def test_pid_prints_like_erlang():
    def main():
        return repr(vm.self())

    text = run(main)
    assert text.startswith("<0.") and text.endswith(".0>")


def test_pid_parse_round_trips():
    def main():
        me = vm.self()
        return vm.Pid.parse(repr(me), me.node, me.creation) == me

    assert run(main)


def test_send_to_dead_pid_is_silently_dropped():
    def main():
        pid, ref = vm.spawn_monitor(lambda: None)
        vm.receive(("DOWN", ref, vm.ANY, vm.ANY, vm.ANY))
        return vm.send(pid, "hi")

    assert run(main) == "hi"


def test_send_to_unregistered_name_is_badarg():
    def main():
        with pytest.raises(vm.BadArg, match="no process is registered"):
            vm.send("nobody", "hi")
        return True

    assert run(main)


def test_send_to_name_node_pair_never_fails():
    def main():
        return vm.send(("nobody", vm.node_name()), "hi")

    assert run(main) == "hi"


def test_messages_between_a_pair_keep_order():
    def collector(n, parent):
        vm.send(parent, [vm.receive() for _ in range(n)])

    def main():
        pid = vm.spawn(collector, 100, vm.self())
        for i in range(100):
            vm.send(pid, i)
        return vm.receive()

    assert run(main) == list(range(100))


def test_main_return_kills_remaining_processes():
    cleaned = []

    def forever():
        try:
            vm.receive()
        finally:
            cleaned.append(True)

    def main():
        vm.spawn(forever)
        vm.sleep(0)
        return "done"

    assert run(main) == "done"
    assert cleaned == [True]


def test_deadlock_is_reported():
    def main():
        vm.receive()

    with pytest.raises(vm.Deadlock, match="every process is waiting"):
        run(main)


def test_calls_outside_a_process_raise_not_in_process():
    for call in (vm.self, lambda: vm.send(None, 1), vm.receive, lambda: vm.spawn(print)):
        with pytest.raises(vm.NotInProcess, match="inside a process"):
            call()


def test_run_inside_a_process_is_refused():
    def main():
        with pytest.raises(vm.VMError, match="inside a process"):
            vm.run(lambda: 1)
        return True

    assert run(main)


def test_bad_node_options():
    with pytest.raises(vm.BadArg, match="reductions"):
        vm.run(lambda: 1, reductions=0)
    with pytest.raises(vm.BadArg, match="clock"):
        vm.run(lambda: 1, clock="wall")
    with pytest.raises(vm.BadArg, match="seed"):
        vm.run(lambda: 1, seed="x")


def test_spawn_needs_a_callable():
    def main():
        with pytest.raises(vm.BadArg, match="callable"):
            vm.spawn(42)
        return True

    assert run(main)
