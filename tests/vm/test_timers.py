"""send_after, start_timer, cancel_timer, read_timer, sleep."""

import math

import pytest

import vm
import vm.lowlevel
from vm.testing import run


def test_send_after_delivers_plain_message_at_time():
    def main():
        t0 = vm.monotonic()
        vm.send_after(0.5, vm.self(), "tick")
        msg = vm.receive()
        return msg, vm.monotonic() - t0

    assert run(main) == ("tick", 0.5)


def test_start_timer_wraps_in_timeout_tuple():
    def main():
        ref = vm.start_timer(0.1, vm.self(), "x")
        return vm.receive(), ref

    msg, ref = run(main)
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

    assert run(main) == (0.75, False, False, False, [])


def test_read_timer():
    def main():
        ref = vm.send_after(2.0, vm.self(), "a")
        vm.sleep(0.5)
        return vm.read_timer(ref)

    assert run(main) == 1.5


def test_timer_to_dead_pid_is_cancelled():
    def main():
        pid = vm.spawn(vm.receive)
        ref = vm.send_after(1.0, pid, "x")
        vm.exit(pid, "kill")
        return vm.cancel_timer(ref)

    assert run(main) is False


def test_timer_to_name_looked_up_at_expiry():
    def main():
        vm.send_after(0.1, "later", "hello")
        vm.register("later", vm.self())
        return vm.receive(timeout=1)

    assert run(main) == "hello"


def test_timer_to_unregistered_name_is_dropped():
    def main():
        vm.send_after(0.1, "nobody", "hello")
        vm.sleep(0.2)
        return vm.flush()

    assert run(main) == []


def test_none_is_not_a_timer_time():
    def main():
        with pytest.raises(vm.BadArg, match="infinity"):
            vm.send_after(None, vm.self(), "x")
        with pytest.raises(vm.BadArg):
            vm.send_after(-1, vm.self(), "x")
        with pytest.raises(vm.BadArg):
            vm.cancel_timer("not a ref")
        return True

    assert run(main)


def test_math_inf_means_infinity_everywhere():
    def main():
        me = vm.self()
        ref = vm.send_after(math.inf, me, "never")
        assert vm.read_timer(ref) == math.inf
        vm.send_after(0.5, me, "soon")
        got = vm.receive("soon", timeout=math.inf)
        assert vm.receive(timeout=1.0) is vm.TIMEOUT  # the infinite timer did not fire
        left = vm.cancel_timer(ref)
        sleeper = vm.spawn(vm.sleep, math.inf)
        vm.sleep(100)
        alive = vm.is_process_alive(sleeper)
        vm.exit(sleeper, "kill")
        return got, left, alive, vm.monotonic() >= 100

    assert run(main) == ("soon", math.inf, True, True)


def test_an_inf_receive_timeout_does_not_stop_the_other_timers():
    # An inf deadline once made the timer heap's arithmetic NaN: every timer
    # in the node stopped and the loop spun.
    def main():
        waiter = vm.spawn(lambda: vm.receive("never", timeout=math.inf))
        vm.sleep(0.01)
        t0 = vm.monotonic()
        for _ in range(5):
            vm.sleep(0.01)
        vm.exit(waiter, "kill")
        return round(vm.monotonic() - t0, 3)

    assert run(main) == 0.05
    assert vm.run(main) < 1.0  # the real clock too: the ticks came on time


def test_timers_far_in_the_future_do_not_crash_the_node():
    import time

    def main():
        vm.send_after(30 * 86400, vm.self(), "in a month")
        vm.send_after(1e20, vm.self(), "much later")
        # The node idles on its selector while the job runs, with the month-away
        # timer as its next deadline: the wait must be clamped.
        vm.to_thread(time.sleep, 0.05)
        return "alive"

    assert vm.run(main) == "alive"


def test_a_long_wait_on_the_real_clock_is_clamped_not_refused():
    import threading

    node = vm.Node().start()
    try:
        node.spawn(vm.sleep, 1e20)  # the node's idle wait must clamp this
        node.spawn(vm.receive, timeout=40 * 86400)
        threading.Event().wait(0.05)
        assert node.call(lambda: "still answering", timeout=5) == "still answering"
    finally:
        node.stop()


def test_cancel_timer_guarantees_no_delivery():
    # cancel_timer used to charge a reduction (and maybe get preempted, so that
    # a due timer fired) before removing the timer.
    def main():
        me = vm.self()
        lost = 0
        for i in range(300):
            ref = vm.send_after(0, me, ("t", i))
            budget = vm.lowlevel.current_process().budget
            if budget > 1:
                vm.bump_reductions(budget - 1)  # cancel_timer's own charge will preempt
            left = vm.cancel_timer(ref)
            got = vm.receive(("t", i), timeout=0)
            if left is not False and got is not vm.TIMEOUT:
                lost += 1
        return lost

    assert run(main) == 0


def test_cancel_and_read_timer_options():
    def main():
        me = vm.self()
        a = vm.send_after(5, me, "a")
        assert vm.cancel_timer(a, info=False) == "ok"
        b = vm.send_after(5, me, "b")
        assert vm.cancel_timer(b, async_=True) == "ok"
        msg = vm.receive(("cancel_timer", b, vm.ANY))
        c = vm.send_after(5, me, "c")
        assert vm.read_timer(c, async_=True) == "ok"
        rmsg = vm.receive(("read_timer", c, vm.ANY))
        assert vm.cancel_timer(b, async_=True, info=False) == "ok"
        return msg[2], rmsg[2], vm.receive(timeout=0)

    assert run(main) == (5.0, 5.0, vm.TIMEOUT)


def test_sleep_keeps_messages_queued():
    def main():
        vm.send(vm.self(), "m")
        vm.sleep(0.1)
        return vm.flush()

    assert run(main) == ["m"]


def test_timers_fire_in_deadline_then_creation_order():
    def main():
        me = vm.self()
        vm.send_after(0.2, me, "c")
        vm.send_after(0.1, me, "a")
        vm.send_after(0.1, me, "b")
        return [vm.receive() for _ in range(3)]

    assert run(main) == ["a", "b", "c"]


def test_real_clock_sleep_actually_waits():
    import time

    def main():
        t0 = time.monotonic()
        vm.sleep(0.02)
        return time.monotonic() - t0

    assert vm.run(main) >= 0.019
