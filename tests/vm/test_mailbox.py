"""Selective receive: order, patterns, timeouts, markers."""

import pytest

import vm
from vm.testing import run


def fill(*msgs):
    me = vm.self()
    for m in msgs:
        vm.send(me, m)


def test_oldest_first_without_patterns():
    def main():
        fill("a", "b", "c")
        return [vm.receive() for _ in range(3)]

    assert run(main) == ["a", "b", "c"]


def test_selective_receive_leaves_others_in_order():
    def main():
        fill("a", "b", "c")
        got = vm.receive("c")
        return got, vm.flush()

    assert run(main) == ("c", ["a", "b"])


def test_each_message_tried_against_all_patterns_before_the_next():
    def main():
        fill(("x", 1), ("y", 2))
        return vm.receive(("y", int), ("x", int))

    assert run(main) == ("x", 1)


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

    assert run(main) == [7, {"k": 1, "other": 2}, ["l", 3], 1.5, True, "s"]


def test_literal_true_does_not_match_one():
    def main():
        fill(1, True)
        return vm.receive(True), vm.flush()

    assert run(main) == (True, [1])


def test_tuple_pattern_needs_same_length_and_type():
    def main():
        fill(["a", 1], ("a", 1, 2), ("a", 1))
        return vm.receive(("a", vm.ANY)), len(vm.flush())

    assert run(main) == (("a", 1), 2)


def test_atom_matches_equal_string():
    def main():
        fill(vm.Atom("ok"))
        return vm.receive("ok")

    assert run(main) == "ok"


def test_timeout_zero_looks_once():
    def main():
        fill("a")
        return vm.receive("b", timeout=0), vm.receive(timeout=0), vm.receive(timeout=0)

    assert run(main) == (vm.TIMEOUT, "a", vm.TIMEOUT)


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

    assert run(main) == (vm.TIMEOUT, 0.05)


def test_match_arriving_before_timeout_wins():
    def later(parent):
        vm.sleep(0.02)
        vm.send(parent, "x")

    def main():
        vm.spawn(later, vm.self())
        return vm.receive("x", timeout=0.05)

    assert run(main) == "x"


def test_bad_timeout_values():
    def main():
        for bad in (-1, "1", True, float("nan")):
            with pytest.raises(vm.BadArg, match="timeout"):
                vm.receive(timeout=bad)
        return True

    assert run(main)


def test_skipped_messages_cost_reductions():
    def main():
        fill(*range(100))
        before = vm.process_info(vm.self(), "reductions")
        vm.receive("absent", timeout=0)
        after = vm.process_info(vm.self(), "reductions")
        return after - before

    assert run(main) >= 100


def test_mark_skips_older_messages():
    def main():
        fill(("reply", 1))
        m = vm.lowlevel.mailbox_mark()
        fill(("reply", 2))
        got = vm.receive(("reply", int), mark=m)
        return got, vm.flush()

    import vm.lowlevel  # noqa: F401

    assert run(main) == (("reply", 2), [("reply", 1)])


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

    assert run(main, reductions=2000) == "target"
    assert order == ["other", "main"]


# ----------------------------------------------------------------------
# receive markers: only when every pattern needs the new ref (BEAM's rule)


def test_marker_is_not_used_when_one_pattern_does_not_need_the_ref():
    def main():
        me = vm.self()
        vm.send(me, "old")
        r = vm.make_ref()
        return vm.receive("old", ("reply", r), timeout=0)

    assert run(main) == "old"


def test_marker_skips_old_messages_when_every_pattern_needs_the_ref():
    def main():
        me = vm.self()
        vm.send(me, ("reply", "stale"))
        r = vm.make_ref()
        vm.send(me, ("reply", r))
        got = vm.receive(("reply", r), (r, vm.ANY))
        return got == ("reply", r), vm.flush()

    assert run(main) == (True, [("reply", "stale")])


def test_marker_survives_a_newest_message_taken_in_between():
    # Taking the newest message pops it from the list; a marker taken before
    # must still see the messages that arrive after it.
    def main():
        me = vm.self()
        for i in range(5):
            vm.send(me, ("junk", i))
        r = vm.make_ref()
        vm.send(me, "newest")
        assert vm.receive("newest") == "newest"
        vm.send(me, (r, "answer"))
        return vm.receive((r, vm.ANY), timeout=0), len(vm.flush())

    ok, left = run(main)
    assert ok[1] == "answer" and left == 5


# ----------------------------------------------------------------------
# the Mailbox structure against a plain list (a model)

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


class _Owner:
    received = 0


_ops = st.lists(
    st.one_of(
        st.tuples(st.just("deliver"), st.integers(0, 3)),
        st.tuples(st.just("take"), st.floats(0, 1, exclude_max=True)),
        st.tuples(st.just("popleft"), st.just(0)),
        st.tuples(st.just("mark"), st.just(0)),
    ),
    max_size=400,
)


@settings(max_examples=200, deadline=None)
@given(_ops)
def test_mailbox_behaves_like_a_list(ops):
    import vm._core as mbmod
    from vm._core import HOLE, Mailbox

    saved = mbmod.FRONT_CUT, mbmod.HOLES_MAX
    mbmod.FRONT_CUT = mbmod.HOLES_MAX = 4  # exercise compaction in small mailboxes
    try:
        owner = _Owner()
        mb = Mailbox()
        model = []  # (seq, value)
        marks = []
        for op, arg in ops:
            if op == "deliver":
                mb.q.append((owner.received, arg))
                model.append((owner.received, arg))
                owner.received += 1
            elif op == "take" and model:
                live = [i for i in range(mb.head, len(mb.q)) if mb.q[i] is not HOLE]
                k = int(arg * len(live))
                assert mb.take(owner, live[k]) == model.pop(k)
            elif op == "popleft" and model:
                assert mb.popleft() == model.pop(0)
            elif op == "mark":
                marks.append(owner.received)
            assert list(mb) == model and len(mb) == len(model)
            assert bool(mb.q) == bool(model)
            assert not mb.q or mb.q[mb.head] is not HOLE
            for m in marks:
                # A scan from the marker's start sees every message delivered since.
                start = mb.start(owner.received, m)
                seen = [x for x in mb.q[start:] if x is not HOLE]
                assert [x for x in model if x[0] >= m] == [x for x in seen if x[0] >= m]
    finally:
        mbmod.FRONT_CUT, mbmod.HOLES_MAX = saved


# ----------------------------------------------------------------------
# the pattern cache must keep True apart from 1 (they are equal and hash alike)


def test_pattern_cache_keeps_bools_apart_from_ints():
    def main():
        me = vm.self()
        vm.send(me, 1)
        assert vm.receive(1, timeout=0) == 1
        vm.send(me, True)
        got_true = vm.receive(True, timeout=0)
        vm.send(me, ("flag", 0))
        assert vm.receive(("flag", 0), timeout=0) == ("flag", 0)
        vm.send(me, ("flag", False))
        got_false = vm.receive(("flag", False), timeout=0)
        vm.send(me, ("n", 1.0))
        got_float = vm.receive(("n", True), timeout=0)
        return got_true, got_false, got_float, vm.flush()

    assert run(main) == (True, ("flag", False), vm.TIMEOUT, [("n", 1.0)])
