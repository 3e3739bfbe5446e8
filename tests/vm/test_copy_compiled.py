"""The compiled copy of terms (vm._heap_c) against the pure-Python one (vm/_heap.py).

Both builds must make the same decisions on every term: what is shared (the
same object), what is rebuilt, what is refused and with which message. The
pure module is loaded here from its source under another name, beside the
compiled one, so one process runs both on the same random terms; in the
pure-Python run of the suite (BEAMLET_PURE_PYTHON=1) the compiled module is
imported directly, so the comparison runs there too.
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import importlib
import importlib.util
import os
import sys
import typing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vm
import vm._heap as live
from vm._compiled import source_digest


def _pure_heap():
    """vm/_heap.py run as a module of its own: the pure build, whatever is installed."""
    path = os.path.join(os.path.dirname(vm.__file__), "_heap.py")
    spec = importlib.util.spec_from_file_location("vm._heap_pure", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses and enum look their module up
    spec.loader.exec_module(module)
    return module


def _compiled_heap():
    """vm._heap_c when it is built from this source, else None."""
    try:
        module = importlib.import_module("vm._heap_c")
    except ImportError:
        return None
    source = os.path.join(os.path.dirname(vm.__file__), "_heap")
    return module if source_digest(source) == module._BUILT_FROM else None


pure = _pure_heap()
compiled = _compiled_heap()
needs_compiled = pytest.mark.skipif(compiled is None, reason="vm._heap_c is not built")


class Color(enum.IntEnum):
    RED = 1
    BLUE = 2


class MyInt(int):
    """An int subclass: not a term (exact types only), in both builds."""


class Point(typing.NamedTuple):
    x: object
    y: object


@dataclasses.dataclass
class Box:
    items: list
    label: str


class Registered:
    """Copied attribute by attribute once registered (in each module's tables)."""

    def __init__(self, v):
        self.v = v

    def __eq__(self, other):
        return type(other) is Registered and other.v == self.v

    def __hash__(self):
        return hash(self.v)


for _heap in {pure, live, compiled} - {None}:
    _heap.register_term_type(Registered)


# ----------------------------------------------------------------------
# what a copy did, as a value two copies can be compared by


def shape(orig, out):
    """(type, shared with the original?, [the same of each part]): a copy's decisions."""
    t = type(orig)
    parts: list = []
    if t in (list, tuple, collections.deque, Point):
        parts = [shape(a, b) for a, b in zip(orig, out, strict=True)]
    elif t is dict:
        for (k1, v1), (k2, v2) in zip(orig.items(), out.items(), strict=True):
            parts += [shape(k1, k2), shape(v1, v2)]
    elif t in (set, frozenset):  # pair each element with its equal original
        by_value = {e: e for e in orig}
        parts = [shape(by_value[e], e) for e in sorted(out, key=repr)]
    elif t is Box:
        parts = [shape(orig.items, out.items), shape(orig.label, out.label)]
    elif t is Registered:
        parts = [shape(orig.v, out.v)]
    return (type(out).__name__, out is orig, parts)


def outcome(heap, term):
    """shape of heap.copy_term(term), or the refusal's message."""
    try:
        out = heap.copy_term(term)
    except vm.Unsendable as e:
        return ("refused", str(e), e.args[1:])
    assert out == term  # the terms below hold no NaN
    return shape(term, out)


MUTABLE = {"list", "dict", "set", "deque", "Box", "Registered"}


def shares_no_mutable(s) -> bool:
    name, shared, parts = s
    if name == "refused":
        return True
    return not (name in MUTABLE and shared) and all(shares_no_mutable(p) for p in parts)


# ----------------------------------------------------------------------
# random terms

scalars = st.one_of(
    st.integers(),
    st.integers(min_value=2**64, max_value=2**300),  # huge ints: still int, shared
    st.booleans(),
    st.none(),
    st.floats(allow_nan=False),
    st.text(max_size=6),
    st.binary(max_size=6),
    st.sampled_from(list(Color)),
    st.builds(vm.Atom, st.text(min_size=1, max_size=4)),
)
# An int subclass is not a term: a few of them make a term refused.
leaves = st.one_of(scalars, st.builds(MyInt, st.integers()))
keys = st.one_of(scalars, st.tuples(scalars, scalars), st.frozensets(scalars, max_size=3))


def _containers(kids):
    return st.one_of(
        st.lists(kids, max_size=6),
        st.lists(kids, max_size=6).map(tuple),
        st.dictionaries(keys, kids, max_size=5),
        st.sets(keys, max_size=4),
        st.frozensets(keys, max_size=4),
        st.builds(Point, kids, kids),
        st.builds(Box, st.lists(kids, max_size=3), st.text(max_size=3)),
        st.lists(kids, max_size=4).map(collections.deque),
        st.builds(Registered, kids),
        st.tuples(st.lists(kids, max_size=3), kids),  # nested lists in tuples
    )


terms = st.recursive(leaves, _containers, max_leaves=40)


@needs_compiled
@settings(max_examples=400, deadline=None)
@given(terms)
def test_the_compiled_copy_decides_as_the_pure_one(term):
    expected = outcome(pure, term)
    assert outcome(compiled, term) == expected
    assert shares_no_mutable(expected)


@settings(max_examples=300, deadline=None)
@given(terms)
def test_the_compiled_forms_of_the_fast_paths_decide_as_the_pure_forms(term):
    # The loops the compiled build runs (_copy_tuple, _copy_list, _copy_dict) run
    # as Python in the pure module too: checked here even where nothing is built.
    t = type(term)
    form = {tuple: "_copy_tuple", list: "_copy_list", dict: "_copy_dict"}.get(t)
    if form is None:
        return
    try:
        expected = shape(term, pure._copy(term, t))
    except pure._NotATerm:
        expected = "refused"
    try:
        got = shape(term, getattr(pure, form)(term))
    except pure._NotATerm:
        got = "refused"
    assert got == expected


# ----------------------------------------------------------------------
# the cases the fast paths decide, one by one, in the build in use and the pure one


def both(fn):
    """Run a test body against the pure module and the copy in use (vm._heap)."""
    return pytest.mark.parametrize("heap", [pure, live], ids=["pure", "in-use"])(fn)


@both
def test_a_flat_list_is_a_new_list_of_the_same_objects(heap):
    xs = [10**30, -1, 2.5, "s", b"b", None, True, vm.Atom("a"), Color.RED]
    out = heap.copy_term(xs)
    assert out == xs and out is not xs
    assert all(a is b for a, b in zip(out, xs, strict=True))


@both
def test_tuples_of_immutables_are_shared_at_every_depth(heap):
    t = (1, (2, (3, "x")), frozenset({4}), Color.BLUE, Point(1, (2,)))
    assert heap.copy_term(t) is t


@both
def test_a_tuple_holding_a_list_is_rebuilt_around_shared_elements(heap):
    inner = (1, 2)
    t = (inner, [3], "s")
    out = heap.copy_term(t)
    assert out == t and out is not t
    assert out[0] is inner and out[1] is not t[1] and out[2] is t[2]


@both
def test_a_dict_keeps_its_order_and_copies_only_mutable_values(heap):
    d = {"b": [1], "a": 2, ("k", 1): (3,), "c": {"n": [4]}}
    out = heap.copy_term(d)
    assert out == d and list(out) == list(d)
    assert out["b"] is not d["b"] and out["c"]["n"] is not d["c"]["n"]
    assert out[("k", 1)] is d[("k", 1)]


@both
def test_a_dict_whose_keys_a_copy_changes_is_rebuilt_in_order(heap):
    k1, k2 = Registered(1), Registered(2)
    d = {"first": 0, k1: [1], k2: 2}
    out = heap.copy_term(d)
    assert list(out) == list(d)  # equal keys, same order
    assert [type(k) for k in out] == [str, Registered, Registered]
    assert all(a is not b for a, b in zip(list(out)[1:], [k1, k2], strict=True))


@both
@pytest.mark.parametrize("bad, where", [
    ([1, MyInt(2)], "msg[1]"),
    ((1, (2, MyInt(3))), "msg[1][1]"),
    ({"k": MyInt(1)}, "msg['k']"),
    ({MyInt(1): 1}, "msg key 1"),
])
def test_an_int_subclass_is_refused_by_exact_type(heap, bad, where):
    with pytest.raises(vm.Unsendable) as e:
        heap.copy_term(bad)
    assert f"(at {where})" in str(e.value) and "MyInt" in str(e.value)


@both
@pytest.mark.parametrize("make", [
    lambda: (lambda c: c.append(c) or c)([]),
    lambda: (lambda d: d.__setitem__("self", d) or d)({}),
    lambda: (lambda c: c.append((1, c)) or c)([]),
    lambda: (lambda c: c.append(collections.deque([c])) or c)([]),
])
def test_a_term_that_refers_to_itself_is_refused(heap, make):
    with pytest.raises(vm.Unsendable, match="refers to itself"):
        heap.copy_term(make())


@both
def test_the_depth_count_is_given_back(heap):
    # Compiled, each level is counted against the recursion limit by hand: a
    # refused self-referring term must leave the count as it found it.
    cyc: list = []
    cyc.append(cyc)
    for _ in range(50):
        with pytest.raises(vm.Unsendable):
            heap.copy_term(cyc)
    deep: object = [1]
    for _ in range(sys.getrecursionlimit() // 4):
        deep = [deep]
    assert heap.copy_term(deep) == deep


def test_the_build_in_use_copies_with_the_compiled_module_when_built():
    if compiled is None or os.environ.get("BEAMLET_PURE_PYTHON"):
        assert live.COMPILED is False
        assert live.copy_term.__module__ == "vm._heap"
    else:
        assert live.COMPILED is True
        assert live.copy_term is compiled.copy_term
    assert pure.COMPILED is False
