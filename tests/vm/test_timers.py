"""send_after, start_timer, cancel_timer, read_timer, sleep."""

import pytest

import vm
from tests.conftest import run_vm


def test_send_after_delivers_plain_message_at_time():
    def main():
        t0 = vm.monotonic()
        vm.send_after(0.5, vm.self(), "tick")
        msg = vm.receive()
        return msg, vm.monotonic() - t0

    assert run_vm(main) == ("tick", 0.5)


def test_start_timer_wraps_in_timeout_tuple():
    def main():
        ref = vm.start_timer(0.1, vm.self(), "x")
        return vm.receive(), ref

    msg, ref = run_vm(main)
    assert msg == ("timeout", ref, "x")


def test_cancel_pending_returns_time_left_and_fired_returns_false():
    def main():
        ref = vm.send_after(1.0, vm.self(), "a")
        vm.sleep(0.25)
        left = vm.cancel_timer(ref)
        again = vm.cancel_timer(ref)
        ref2 = vm.send_after(0.1, vm.self(), "b")
        vm.receive()
        return left, again, vm.cancel_timer(ref2), vm.read_timer(ref2), vm.flush()

    assert run_vm(main) == (0.75, False, False, False, [])


def test_read_timer():
    def main():
        ref = vm.send_after(2.0, vm.self(), "a")
        vm.sleep(0.5)
        return vm.read_timer(ref)

    assert run_vm(main) == 1.5


def test_timer_to_dead_pid_is_cancelled():
    def main():
        pid = vm.spawn(vm.receive)
        ref = vm.send_after(1.0, pid, "x")
        vm.exit(pid, "kill")
        return vm.cancel_timer(ref)

    assert run_vm(main) is False


def test_timer_to_name_looked_up_at_expiry():
    def main():
        vm.send_after(0.1, "later", "hello")
        vm.register("later", vm.self())
        return vm.receive(timeout=1)

    assert run_vm(main) == "hello"


def test_timer_to_unregistered_name_is_dropped():
    def main():
        vm.send_after(0.1, "nobody", "hello")
        vm.sleep(0.2)
        return vm.flush()

    assert run_vm(main) == []


def test_infinity_is_not_a_timer_time():
    def main():
        with pytest.raises(vm.BadArg, match="infinity"):
            vm.send_after(None, vm.self(), "x")
        with pytest.raises(vm.BadArg):
            vm.send_after(-1, vm.self(), "x")
        with pytest.raises(vm.BadArg):
            vm.cancel_timer("not a ref")
        return True

    assert run_vm(main)


def test_sleep_keeps_messages_queued():
    def main():
        vm.send(vm.self(), "m")
        vm.sleep(0.1)
        return vm.flush()

    assert run_vm(main) == ["m"]


def test_timers_fire_in_deadline_then_creation_order():
    def main():
        me = vm.self()
        vm.send_after(0.2, me, "c")
        vm.send_after(0.1, me, "a")
        vm.send_after(0.1, me, "b")
        return [vm.receive() for _ in range(3)]

    assert run_vm(main) == ["a", "b", "c"]


def test_real_clock_sleep_actually_waits():
    import time

    def main():
        t0 = time.monotonic()
        vm.sleep(0.02)
        return time.monotonic() - t0

    assert vm.run(main) >= 0.019
