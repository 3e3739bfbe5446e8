"""A B+ tree: the ordered map under `ordered_set` tables.

What this module owns: `BTree`, a map from sort keys (any values Python
orders totally; ETS passes `keys.order(key)`) to values, kept sorted, with

    get, insert, delete             O(log n)
    first, last, after, before      O(log n) (the next/previous key, present or not)
    items_from(k)                   O(log n) to start, then O(1) per item

Why a B+ tree: every operation descends from the root through nodes of up
to `FANOUT` sorted keys, and a node is searched with `bisect` (C speed), so
a million entries are three levels deep and a lookup costs three `bisect`
calls. Leaves are linked both ways, so walking in order (`ets.next`,
`tab2list`, a select) moves from leaf to leaf without going back up. Nodes
split when they overflow and borrow from or merge with a sibling when they
fall under a quarter full, so the height stays logarithmic whatever the
mix of inserts and deletes.

Invariants (checked by `check()`, which the property tests call):
- every leaf but the root holds between `MIN_FILL` and `FANOUT` keys, sorted;
- an inner node has `len(keys) + 1` children; every key in child `i` is
  `>= keys[i - 1]` and `< keys[i]` (a separator may be a key that has since
  been deleted: it still separates);
- all leaves are at the same depth, and the leaf chain lists every key once,
  in order.

What it refuses: knowing about terms, tables or processes.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right

__all__ = ["BTree", "FANOUT"]

FANOUT = 128
MIN_FILL = FANOUT // 4


class _Leaf:
    __slots__ = ("keys", "vals", "next", "prev")

    def __init__(self, keys, vals):
        self.keys = keys
        self.vals = vals
        self.next = None
        self.prev = None


class _Inner:
    __slots__ = ("keys", "kids")

    def __init__(self, keys, kids):
        self.keys = keys
        self.kids = kids


class BTree:
    """An ordered map. `len(tree)`, `k in tree`, `tree.get(k)`, `tree.insert(k, v)`, ..."""

    __slots__ = ("root", "head", "tail", "size")

    def __init__(self):
        self.clear()

    def clear(self):
        leaf = _Leaf([], [])
        self.root = leaf
        self.head = leaf
        self.tail = leaf
        self.size = 0

    def __len__(self):
        return self.size

    # ------------------------------------------------------------------
    # lookups

    def _leaf(self, k):
        node = self.root
        while type(node) is _Inner:
            node = node.kids[bisect_right(node.keys, k)]
        return node

    def get(self, k, default=None):
        leaf = self.root  # self._leaf(k), inlined: this is every ordered_set lookup
        while type(leaf) is _Inner:
            leaf = leaf.kids[bisect_right(leaf.keys, k)]
        keys = leaf.keys
        i = bisect_left(keys, k)
        if i < len(keys) and keys[i] == k:
            return leaf.vals[i]
        return default

    def __contains__(self, k):
        keys = self._leaf(k).keys
        i = bisect_left(keys, k)
        return i < len(keys) and keys[i] == k

    def first(self):
        """`(key, value)` of the smallest key, or None when empty."""
        leaf = self.head
        return (leaf.keys[0], leaf.vals[0]) if leaf.keys else None

    def last(self):
        leaf = self.tail
        return (leaf.keys[-1], leaf.vals[-1]) if leaf.keys else None

    def after(self, k):
        """`(key, value)` of the smallest key > k (k need not be present), or None."""
        leaf = self._leaf(k)
        i = bisect_right(leaf.keys, k)
        if i < len(leaf.keys):
            return (leaf.keys[i], leaf.vals[i])
        leaf = leaf.next
        return (leaf.keys[0], leaf.vals[0]) if leaf is not None else None

    def before(self, k):
        """`(key, value)` of the largest key < k, or None."""
        leaf = self._leaf(k)
        i = bisect_left(leaf.keys, k)
        if i > 0:
            return (leaf.keys[i - 1], leaf.vals[i - 1])
        leaf = leaf.prev
        return (leaf.keys[-1], leaf.vals[-1]) if leaf is not None else None

    def items_from(self, k=None, *, inclusive=True):
        """Yield `(key, value)` in order, from the first key >= k (> k when not
        inclusive), or from the start when k is None. Do not change the tree
        while iterating; resume with `items_from(last_key, inclusive=False)`."""
        if k is None:
            leaf, i = self.head, 0
        else:
            leaf = self._leaf(k)
            i = (bisect_left if inclusive else bisect_right)(leaf.keys, k)
        while leaf is not None:
            keys, vals = leaf.keys, leaf.vals
            while i < len(keys):
                yield keys[i], vals[i]
                i += 1
            leaf, i = leaf.next, 0

    def items_back_from(self, k=None, *, inclusive=True):
        """Yield `(key, value)` in descending order from the last key <= k (< k)."""
        if k is None:
            leaf = self.tail
            i = len(leaf.keys) - 1
        else:
            leaf = self._leaf(k)
            i = (bisect_right if inclusive else bisect_left)(leaf.keys, k) - 1
        while leaf is not None:
            keys, vals = leaf.keys, leaf.vals
            while i >= 0:
                yield keys[i], vals[i]
                i -= 1
            leaf = leaf.prev
            if leaf is not None:
                i = len(leaf.keys) - 1

    def values(self):
        leaf = self.head
        while leaf is not None:
            yield from leaf.vals
            leaf = leaf.next

    # ------------------------------------------------------------------
    # changes

    def _path(self, k):
        """The inner nodes from the root down and the child index taken in each."""
        path = []
        node = self.root
        while type(node) is _Inner:
            i = bisect_right(node.keys, k)
            path.append((node, i))
            node = node.kids[i]
        return path, node

    def insert(self, k, v, replace=True):
        """Set k to v. Returns True if k was new; an existing k keeps its value
        when `replace` is False (and False is returned either way)."""
        leaf = self.root  # self._path(k), inlined: this is every new ordered_set key
        path = []
        while type(leaf) is _Inner:
            i = bisect_right(leaf.keys, k)
            path.append((leaf, i))
            leaf = leaf.kids[i]
        keys = leaf.keys
        i = bisect_left(keys, k)
        if i < len(keys) and keys[i] == k:
            if replace:
                keys[i] = k  # an equal key of another type (1.0 for 1): the newest wins
                leaf.vals[i] = v
            return False
        keys.insert(i, k)
        leaf.vals.insert(i, v)
        self.size += 1
        if len(keys) > FANOUT:
            self._split(path, leaf)
        return True

    def _split(self, path, node):
        half = len(node.keys) // 2
        if type(node) is _Leaf:
            right = _Leaf(node.keys[half:], node.vals[half:])
            del node.keys[half:], node.vals[half:]
            right.next = node.next
            right.prev = node
            if node.next is not None:
                node.next.prev = right
            else:
                self.tail = right
            node.next = right
            sep = right.keys[0]
        else:
            sep = node.keys[half]
            right = _Inner(node.keys[half + 1:], node.kids[half + 1:])
            del node.keys[half:], node.kids[half + 1:]
        if not path:
            self.root = _Inner([sep], [node, right])
            return
        parent, i = path.pop()
        parent.keys.insert(i, sep)
        parent.kids.insert(i + 1, right)
        if len(parent.keys) > FANOUT:
            self._split(path, parent)

    def delete(self, k):
        """Remove k; returns its value, or None when it was absent."""
        path, leaf = self._path(k)
        keys = leaf.keys
        i = bisect_left(keys, k)
        if i >= len(keys) or keys[i] != k:
            return None
        del keys[i]
        v = leaf.vals.pop(i)
        self.size -= 1
        if len(keys) < MIN_FILL and path:
            self._rebalance(path, leaf)
        return v

    def _rebalance(self, path, node):
        parent, i = path.pop()
        kids = parent.kids
        left = kids[i - 1] if i > 0 else None
        right = kids[i + 1] if i + 1 < len(kids) else None
        leafy = type(node) is _Leaf
        if left is not None and len(left.keys) > MIN_FILL:
            if leafy:
                node.keys.insert(0, left.keys.pop())
                node.vals.insert(0, left.vals.pop())
                parent.keys[i - 1] = node.keys[0]
            else:
                node.keys.insert(0, parent.keys[i - 1])
                parent.keys[i - 1] = left.keys.pop()
                node.kids.insert(0, left.kids.pop())
            return
        if right is not None and len(right.keys) > MIN_FILL:
            if leafy:
                node.keys.append(right.keys.pop(0))
                node.vals.append(right.vals.pop(0))
                parent.keys[i] = right.keys[0]
            else:
                node.keys.append(parent.keys[i])
                parent.keys[i] = right.keys.pop(0)
                node.kids.append(right.kids.pop(0))
            return
        # Neither sibling can lend: merge with one of them (into the left node).
        if left is not None:
            self._merge(parent, i - 1, left, node)
        elif right is not None:
            self._merge(parent, i, node, right)
        else:
            return  # an only child: the root collapse below handles it
        if parent is self.root:
            if not parent.keys:
                self.root = parent.kids[0]
        elif len(parent.keys) < MIN_FILL:
            self._rebalance(path, parent)

    def _merge(self, parent, i, left, right):
        """Fold kids[i + 1] (right) into kids[i] (left); drop separator i."""
        if type(left) is _Leaf:
            left.keys.extend(right.keys)
            left.vals.extend(right.vals)
            left.next = right.next
            if right.next is not None:
                right.next.prev = left
            else:
                self.tail = left
        else:
            left.keys.append(parent.keys[i])
            left.keys.extend(right.keys)
            left.kids.extend(right.kids)
        del parent.keys[i]
        del parent.kids[i + 1]

    # ------------------------------------------------------------------
    # checking

    def check(self):
        """Assert every invariant in the module docstring (for tests)."""
        depths = set()
        count = self._check(self.root, None, None, 0, depths, True)
        assert len(depths) <= 1, f"leaves at depths {depths}"
        assert count == self.size, f"size {self.size} but {count} keys"
        chained = []
        leaf, prev = self.head, None
        while leaf is not None:
            assert leaf.prev is prev
            chained.extend(leaf.keys)
            prev, leaf = leaf, leaf.next
        assert prev is self.tail
        assert chained == sorted(chained) and len(chained) == self.size
        assert len(set(chained)) == len(chained), "a key appears twice"

    def _check(self, node, lo, hi, depth, depths, is_root):
        keys = node.keys
        assert keys == sorted(keys), "unsorted node"
        for k in keys:
            assert lo is None or k >= lo, "key below its separator"
            assert hi is None or k < hi, "key at or above its separator"
        if type(node) is _Leaf:
            assert len(keys) == len(node.vals)
            assert is_root or MIN_FILL <= len(keys) <= FANOUT, f"leaf of {len(keys)} keys"
            depths.add(depth)
            return len(keys)
        assert len(node.kids) == len(keys) + 1
        assert is_root or MIN_FILL <= len(keys) <= FANOUT, f"inner node of {len(keys)} keys"
        assert not is_root or keys, "an inner root needs two children"
        total = 0
        bounds = [lo] + keys + [hi]
        for j, kid in enumerate(node.kids):
            total += self._check(kid, bounds[j], bounds[j + 1], depth + 1, depths, False)
        return total
