"""The B+ tree under ordered_set: every operation against a sorted-dict model."""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stdlib.ets import btree
from stdlib.ets.btree import BTree


@pytest.fixture(params=[4, 8, btree.FANOUT])
def fanout(request, monkeypatch):
    """Small fanouts make splits, borrows and merges happen with few keys."""
    monkeypatch.setattr(btree, "FANOUT", request.param)
    monkeypatch.setattr(btree, "MIN_FILL", max(1, request.param // 4))
    return request.param


ops = st.lists(st.tuples(st.sampled_from(["ins", "del", "keep"]), st.integers(0, 300)),
               max_size=400)


def _apply(tree, model, steps):
    for op, k in steps:
        if op == "del":
            assert tree.delete(k) == model.pop(k, None)
        else:
            new = tree.insert(k, -k, replace=(op == "ins"))
            assert new == (k not in model)
            if op == "ins" or k not in model:
                model[k] = -k
    tree.check()


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # the fanout is constant
@given(steps=ops)
def test_matches_a_sorted_dict(fanout, steps):
    tree, model = BTree(), {}
    _apply(tree, model, steps)
    keys = sorted(model)
    assert [k for k, _ in tree.items_from()] == keys
    assert [k for k, _ in tree.items_back_from()] == keys[::-1]
    assert list(tree.values()) == [model[k] for k in keys]
    assert len(tree) == len(model)
    for q in range(-1, 302, 5):
        assert tree.get(q) == model.get(q)
        assert (q in tree) == (q in model)
        after = tree.after(q)
        assert (after[0] if after else None) == next((k for k in keys if k > q), None)
        before = tree.before(q)
        assert (before[0] if before else None) == next((k for k in reversed(keys) if k < q),
                                                      None)
        assert [k for k, _ in tree.items_from(q, inclusive=False)] == [k for k in keys if k > q]
        assert [k for k, _ in tree.items_from(q)] == [k for k in keys if k >= q]
        assert [k for k, _ in tree.items_back_from(q, inclusive=False)] == \
            [k for k in reversed(keys) if k < q]


def test_emptied_tree_shrinks_back_to_a_leaf(fanout):
    tree = BTree()
    for k in range(2000):
        tree.insert(k, k)
    tree.check()
    for k in range(0, 2000, 2):
        tree.delete(k)
    tree.check()
    for k in range(1, 2000, 2):
        tree.delete(k)
    tree.check()
    assert len(tree) == 0 and tree.first() is None and tree.last() is None
    assert type(tree.root) is btree._Leaf


def test_depth_is_logarithmic():
    tree = BTree()
    for k in range(100_000):
        tree.insert(k, None)
    depth, node = 0, tree.root
    while type(node) is btree._Inner:
        node, depth = node.kids[0], depth + 1
    assert depth <= 3  # 128-way: 100,000 keys fit in three levels
