"""Hypothesis strategies shared by the property tests (one place, as attrs does)."""

from hypothesis import strategies as st

import vm

atoms = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8).map(vm.Atom)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.binary(max_size=20),
    atoms,
)
hashable = st.recursive(scalars, lambda inner: st.tuples(inner, inner), max_leaves=4)
terms = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(hashable, inner, max_size=4),
    ),
    max_leaves=20,
)
seeds = st.integers(min_value=0, max_value=2**32 - 1)
