"""exact() is Erlang's =:=, order() is Erlang's term order."""

import pytest

import vm
from stdlib.ets.keys import equal, exact, exact_equal, less, order

PID = vm.Pid("nonode@nohost", 5)
REF = vm.Ref("nonode@nohost", 7)


def test_exact_keeps_apart_what_python_confuses():
    assert exact(1) != exact(1.0)
    assert exact(1) != exact(True) and exact(0) != exact(False)
    assert exact((1, 2)) != exact((1, 2.0))
    assert exact([1]) != exact((1,))
    assert exact({"a": [1]}) == exact({"a": [1]})
    assert exact(vm.Atom("ok")) == exact("ok")  # beamlet's Atom is a str
    hash(exact([{"k": [1, 2]}, (3.0,)]))  # lists and dicts become hashable


def test_common_keys_are_returned_unchanged():
    for k in (1, "a", vm.Atom("b"), b"c", PID, REF, None, (1, "a", PID)):
        assert exact(k) is k


def test_term_order():
    ordered = [-1, 1.5, 2, "a", "b", REF, len, PID, (9,), (1, 1), {"a": 1}, [], [1], b""]
    assert sorted(reversed(ordered), key=order) == ordered


def test_numbers_compare_by_value_booleans_are_atoms():
    assert equal(1, 1.0) and not exact_equal(1, 1.0)
    assert not equal(True, 1)
    assert less(1, True) and less(True, (1,))
    assert order(True) != order("true")  # next to it, never equal


def test_tuples_compare_by_size_first():
    assert less((9, 9), (1, 1, 1))
    assert less([1, 2], [1, 2, 0])


def test_not_a_term_raises():
    with pytest.raises(vm.BadArg, match="object is not a term"):
        order(object())
