"""vm.testing's helpers for the body of a test process: drain and catch."""

import pytest

import vm
from vm.testing import catch, drain, run

ANY = vm.ANY


def test_drain_with_no_timeout_takes_only_what_is_queued():
    def main():
        me = vm.self()
        vm.send(me, 1)
        vm.send(me, ("x", 2))
        vm.send_after(1.0, me, "late")
        first = drain()
        return first, drain(), vm.receive(timeout=5)

    assert run(main) == ([1, ("x", 2)], [], "late")


def test_drain_with_a_timeout_waits_for_what_is_still_coming():
    def main():
        me = vm.self()
        vm.send(me, "now")
        vm.send_after(0.05, me, "soon")
        vm.send_after(0.5, me, "later")  # more than 0.1 s after "soon": not waited for
        got = drain(timeout=0.1)
        return got, vm.receive(timeout=1)

    assert run(main) == (["now", "soon"], "later")


def test_drain_takes_only_matching_messages_and_leaves_the_rest_in_order():
    def main():
        me = vm.self()
        for m in [("a", 1), "other", ("a", 2), ("b", 3)]:
            vm.send(me, m)
        return drain(("a", ANY)), vm.flush()

    assert run(main) == ([("a", 1), ("a", 2)], ["other", ("b", 3)])


def test_drain_with_several_patterns_takes_any_of_them():
    def main():
        me = vm.self()
        for m in [("a", 1), "other", ("b", 2), 3]:
            vm.send(me, m)
        return drain(("a", ANY), ("b", ANY)), vm.flush()

    assert run(main) == ([("a", 1), ("b", 2)], ["other", 3])


def test_drain_outside_a_process_says_so():
    with pytest.raises(vm.NotInProcess):
        drain()


def test_catch_returns_the_value_or_the_exit_reason():
    def failing_call():
        return catch(vm.exit, ("shutdown", "why"))

    def main():
        ok = catch(lambda a, *, b: a + b, 1, b=2)
        return ok, failing_call(), catch(lambda: ("EXIT", "a value that looks like one"))

    assert run(main) == (3, ("EXIT", ("shutdown", "why")),
                         ("EXIT", "a value that looks like one"))


def test_catch_lets_other_exceptions_through():
    def main():
        with pytest.raises(ZeroDivisionError):
            catch(lambda: 1 / 0)
        return True

    assert run(main)
