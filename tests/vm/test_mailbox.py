"""Selective receive: order, patterns, timeouts, markers."""

import pytest

import vm
from tests.conftest import run_vm


def fill(*msgs):
    me = vm.self()
    for m in msgs:
        vm.send(me, m)


def test_oldest_first_without_patterns():
    def main():
        fill("a", "b", "c")
        return [vm.receive() for _ in range(3)]

    assert run_vm(main) == ["a", "b", "c"]


def test_selective_receive_leaves_others_in_order():
    def main():
        fill("a", "b", "c")
        got = vm.receive("c")
        return got, vm.flush()

    assert run_vm(main) == ("c", ["a", "b"])


def test_each_message_tried_against_all_patterns_before_the_next():
    def main():
        fill(("x", 1), ("y", 2))
        return vm.receive(("y", int), ("x", int))

    assert run_vm(main) == ("x", 1)


def test_pattern_kinds():
    def main():
        fill(1.5, {"k": 1, "other": 2}, ["l", 3], True, 7, "s")
        return [
            vm.receive(int),  # the class int does not match True (Erlang keeps them apart)
            vm.receive({"k": int}),
            vm.receive(["l", vm.ANY]),
            vm.receive(lambda m: isinstance(m, float)),
            vm.receive(True),
            vm.receive(str),
        ]

    assert run_vm(main) == [7, {"k": 1, "other": 2}, ["l", 3], 1.5, True, "s"]


def test_literal_true_does_not_match_one():
    def main():
        fill(1, True)
        return vm.receive(True), vm.flush()

    assert run_vm(main) == (True, [1])


def test_tuple_pattern_needs_same_length_and_type():
    def main():
        fill(["a", 1], ("a", 1, 2), ("a", 1))
        return vm.receive(("a", vm.ANY)), len(vm.flush())

    assert run_vm(main) == (("a", 1), 2)


def test_atom_matches_equal_string():
    def main():
        fill(vm.Atom("ok"))
        return vm.receive("ok")

    assert run_vm(main) == "ok"


def test_timeout_zero_looks_once():
    def main():
        fill("a")
        return vm.receive("b", timeout=0), vm.receive(timeout=0), vm.receive(timeout=0)

    assert run_vm(main) == (vm.TIMEOUT, "a", vm.TIMEOUT)


def test_timeout_not_restarted_by_nonmatching_arrivals():
    def junk(parent):
        for _ in range(20):
            vm.sleep(0.01)
            vm.send(parent, "junk")

    def main():
        vm.spawn(junk, vm.self())
        t0 = vm.monotonic()
        r = vm.receive("never", timeout=0.05)
        return r, round(vm.monotonic() - t0, 6)

    assert run_vm(main) == (vm.TIMEOUT, 0.05)


def test_match_arriving_before_timeout_wins():
    def later(parent):
        vm.sleep(0.02)
        vm.send(parent, "x")

    def main():
        vm.spawn(later, vm.self())
        return vm.receive("x", timeout=0.05)

    assert run_vm(main) == "x"


def test_bad_timeout_values():
    def main():
        for bad in (-1, "1", True, float("nan")):
            with pytest.raises(vm.BadArg, match="timeout"):
                vm.receive(timeout=bad)
        return True

    assert run_vm(main)


def test_skipped_messages_cost_reductions():
    def main():
        fill(*range(100))
        before = vm.process_info(vm.self(), "reductions")
        vm.receive("absent", timeout=0)
        after = vm.process_info(vm.self(), "reductions")
        return after - before

    assert run_vm(main) >= 100


def test_mark_skips_older_messages():
    def main():
        fill(("reply", 1))
        m = vm.lowlevel.mailbox_mark()
        fill(("reply", 2))
        got = vm.receive(("reply", int), mark=m)
        return got, vm.flush()

    import vm.lowlevel  # noqa: F401

    assert run_vm(main) == (("reply", 2), [("reply", 1)])


def test_long_scan_can_be_preempted_and_resumes():
    order = []

    def other():
        order.append("other")

    def main():
        fill(*range(10_000))
        vm.spawn(other)
        vm.send(vm.self(), "target")
        got = vm.receive("target")
        order.append("main")
        return got

    assert run_vm(main, reductions=2000) == "target"
    assert order == ["other", "main"]
