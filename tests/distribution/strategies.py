"""Hypothesis strategies for terms that travel between nodes, and an exact comparison."""

from __future__ import annotations

from hypothesis import strategies as st

from vm import Atom, Crash, Pid, Ref
from vm.dist.codec import ImproperList

_text = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
atoms = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30).filter(
    lambda s: s not in ("true", "false", "undefined")).map(Atom)
nodes = st.sampled_from(["a@host", "py@127.0.0.1", "nonode@nohost", "ß@h"])
pids = st.builds(Pid, nodes, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1),
                 st.integers(0, 2**32 - 1))
refs = st.builds(Ref, nodes, st.integers(0, 2**96 - 1), st.integers(0, 2**32 - 1))
bignums = st.builds(lambda bits, low, neg: (-1 if neg else 1) * ((1 << bits) + low),
                    st.integers(0, 2000), st.integers(0, 2**64), st.booleans())
scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), bignums,
    st.floats(allow_nan=False, allow_infinity=False), _text, st.binary(max_size=30),
    atoms, pids, refs,
    st.builds(Crash, _text, _text, _text),
)
keys = st.one_of(st.integers(), _text, atoms, st.binary(max_size=8), pids)
terms = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=6).map(tuple),
        st.lists(inner, max_size=6),
        st.dictionaries(keys, inner, max_size=5),
        st.builds(ImproperList, st.lists(inner, min_size=1, max_size=4),
                  inner.filter(lambda t: type(t) is not list)),
    ),
    max_leaves=30,
)


def same(a, b) -> bool:
    """Equal and of the same type all the way down (1 == True == 1.0 in Python)."""
    if type(a) is not type(b):
        return False
    if type(a) in (tuple, list, ImproperList, Crash):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if type(a) is dict:
        if len(a) != len(b):
            return False
        bk = {(type(k), k): v for k, v in b.items()}
        return all((type(k), k) in bk and same(v, bk[(type(k), k)]) for k, v in a.items())
    if type(a) is float:
        return a == b and str(a) == str(b)  # keeps -0.0 apart from 0.0
    return a == b
