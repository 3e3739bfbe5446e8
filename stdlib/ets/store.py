"""The four table types' storage: set, bag, duplicate_bag (hashed) and ordered_set.

What this module owns: where a table's objects live and in which order a
traversal sees them. Every store offers the same operations, given key
terms and objects that the caller has already checked and copied:

    get(key) -> [obj]          has(key)             put(obj)
    pop(key) -> [obj]          remove_object(obj)   replace(obj) (set types)
    first_key() / next_key(key) / last_key() / prev_key(key)  (END at the end)
    objects()                  every object, in traversal order
    scan(position)             (position, obj) pairs from a continuation point
    size                       the number of objects

Keys: hashed stores key a dict by `keys.exact(key)` (so `1`, `1.0` and
`True` are three keys, as in OTP); `ordered_set` keys a dict and a B+ tree
by `keys.order(key)` (so `1` and `1.0` are one key, as in OTP).

Traversal order of a hashed store is insertion order (OTP's is the hash
order: unspecified either way). `next_key` must find the key after a given
one without walking the dict, so the first traversal takes a snapshot of
the keys (a list plus an index into it), which later inserts extend and
deletes leave stale; stale entries are skipped, and the snapshot is rebuilt
when more than half of it is stale. Tables that are never traversed never
pay for it. As in OTP, `next_key` of a key that is not in a hashed table
raises (`vm.BadArg`); in an `ordered_set` it gives the next key in order.

A continuation position is a term: for a hashed store
`(generation, index, offset, key)` (the snapshot it indexes, the key's
place in it, how many of that key's objects were already seen, and the key
itself to find its place again after a rebuild); for `ordered_set` the last
key seen. A table changed between two continuation calls may show an object
twice or skip it, as OTP warns for tables that are not fixed.

What it refuses: access rights, copying, ownership (table.py).
"""

from __future__ import annotations

from vm import Atom, BadArg

from .btree import BTree
from .keys import PLAIN, exact, order

END = Atom("$end_of_table")


class _Hashed:
    __slots__ = ("d", "keypos", "size", "_keys", "_pos", "gen")

    def __init__(self, keypos):
        self.keypos = keypos
        self.clear()

    def clear(self):
        self.d = {}
        self.size = 0
        self._keys = None
        self._pos = None
        self.gen = 0

    def has(self, key):
        return exact(key) in self.d

    # -------------------------------------------------------- the key snapshot

    def _snapshot(self):
        keys = self._keys
        if keys is None:
            keys = self._keys = list(self.d)
            self._pos = {k: i for i, k in enumerate(keys)}
            self.gen += 1
        return keys

    def _added(self, ek):
        keys = self._keys
        if keys is not None:
            if len(keys) > 2 * len(self.d) + 32:
                self._keys = self._pos = None  # mostly stale: rebuild on the next traversal
            else:
                self._pos[ek] = len(keys)
                keys.append(ek)

    def _live(self, i):
        """The first index >= i of a key still in the table, or -1."""
        keys, pos, d = self._keys, self._pos, self.d
        n = len(keys)
        while i < n:
            k = keys[i]
            if pos.get(k) == i and k in d:
                return i
            i += 1
        return -1

    def _key_at(self, i):
        raise NotImplementedError

    def first_key(self):
        if not self.d:
            return END
        self._snapshot()
        return self._key_at(self._live(0))

    def next_key(self, key):
        ek = exact(key)
        if ek not in self.d:
            raise KeyError(key)
        self._snapshot()
        i = self._live(self._pos[ek] + 1)
        return END if i < 0 else self._key_at(i)

    last_key = first_key  # OTP: for hashed tables last/prev are first/next
    prev_key = next_key

    def scan(self, position):
        """Yield `(position, obj)` after `position` (None: from the start)."""
        keys = self._snapshot()
        if position is None:
            i, offset = 0, 0
        else:
            gen, i, offset, key = position
            if gen != self.gen:  # rebuilt since: find the key again
                found = self._pos.get(exact(key))
                i, offset = (found, offset) if found is not None else (min(i, len(keys)), 0)
        while True:
            i = self._live(i)
            if i < 0:
                return
            objs = self._objects_at(keys[i])
            while offset < len(objs):
                obj = objs[offset]
                offset += 1
                yield (self.gen, i, offset, obj[self.keypos]), obj
            i += 1
            offset = 0


class SetStore(_Hashed):
    __slots__ = ()
    kind = Atom("set")

    def get(self, key):
        obj = self.d.get(key if type(key) in PLAIN else exact(key))
        return [] if obj is None else [obj]

    def put(self, obj):
        ek = obj[self.keypos]
        if type(ek) not in PLAIN:
            ek = exact(ek)
        d = self.d
        if ek not in d:
            self.size += 1
            d[ek] = obj
            self._added(ek)
        else:
            d[ek] = obj

    replace = put

    def pop(self, key):
        obj = self.d.pop(exact(key), None)
        if obj is None:
            return []
        self.size -= 1
        return [obj]

    def remove_object(self, obj):
        ek = exact(obj[self.keypos])
        stored = self.d.get(ek)
        if stored is not None and (stored is obj or exact(stored) == exact(obj)):
            del self.d[ek]
            self.size -= 1

    def objects(self):
        return self.d.values()

    def _key_at(self, i):
        return self.d[self._keys[i]][self.keypos]

    def _objects_at(self, ek):
        return (self.d[ek],)


class BagStore(_Hashed):
    """bag (no two objects exactly equal) or duplicate_bag (`dup=True`)."""

    __slots__ = ("dup",)

    def __init__(self, keypos, dup):
        super().__init__(keypos)
        self.dup = dup

    @property
    def kind(self):
        return Atom("duplicate_bag" if self.dup else "bag")

    def get(self, key):
        objs = self.d.get(exact(key))
        return [] if objs is None else list(objs)

    def put(self, obj):
        ek = exact(obj[self.keypos])
        objs = self.d.get(ek)
        if objs is None:
            self.d[ek] = [obj]
            self._added(ek)
        else:
            if not self.dup:
                eo = exact(obj)
                for o in objs:
                    if o is obj or exact(o) == eo:
                        return
            objs.append(obj)
        self.size += 1

    def pop(self, key):
        objs = self.d.pop(exact(key), None)
        if objs is None:
            return []
        self.size -= len(objs)
        return objs

    def remove_object(self, obj):
        ek = exact(obj[self.keypos])
        objs = self.d.get(ek)
        if objs is None:
            return
        eo = exact(obj)
        kept = [o for o in objs if exact(o) != eo]
        if len(kept) != len(objs):
            self.size -= len(objs) - len(kept)
            if kept:
                self.d[ek] = kept
            else:
                del self.d[ek]

    def replace(self, obj):
        raise BadArg("only set and ordered_set objects can be updated in place")

    def objects(self):
        for objs in self.d.values():
            yield from objs

    def _key_at(self, i):
        return self.d[self._keys[i]][0][self.keypos]

    def _objects_at(self, ek):
        return self.d[ek]


class OrderedStore:
    """ordered_set: a dict from sort key to object for point operations (O(1)),
    and a B+ tree of the same sort keys for order (O(log n) per new or deleted
    key). Sort keys compare as Erlang's `==` and hash alike when equal (`1`
    and `1.0` give equal tuples with equal hashes), so the dict has exactly
    the table's key equality. Replacing an object whose key is already there
    touches only the dict."""

    __slots__ = ("d", "t", "keypos")
    kind = Atom("ordered_set")

    def __init__(self, keypos):
        self.keypos = keypos
        self.d = {}
        self.t = BTree()

    def clear(self):
        self.d = {}
        self.t.clear()

    @property
    def size(self):
        return len(self.d)

    def has(self, key):
        return order(key) in self.d

    def get(self, key):
        obj = self.d.get(order(key))
        return [] if obj is None else [obj]

    def put(self, obj):
        k = order(obj[self.keypos])
        d = self.d
        if k not in d:
            self.t.insert(k, None)
        d[k] = obj  # an equal key of another type (1.0 for 1): the newest object wins

    replace = put

    def pop(self, key):
        k = order(key)
        obj = self.d.pop(k, None)
        if obj is None:
            return []
        self.t.delete(k)
        return [obj]

    def remove_object(self, obj):
        k = order(obj[self.keypos])
        stored = self.d.get(k)
        if stored is not None and (stored is obj or exact(stored) == exact(obj)):
            del self.d[k]
            self.t.delete(k)

    def _key(self, entry):
        return END if entry is None else self.d[entry[0]][self.keypos]

    def first_key(self):
        return self._key(self.t.first())

    def last_key(self):
        return self._key(self.t.last())

    def next_key(self, key):
        return self._key(self.t.after(order(key)))

    def prev_key(self, key):
        return self._key(self.t.before(order(key)))

    def objects(self):
        d = self.d
        return (d[k] for k, _ in self.t.items_from())

    def scan(self, position):
        d, keypos = self.d, self.keypos
        items = self.t.items_from(None if position is None else order(position), inclusive=False)
        for k, _ in items:
            obj = d[k]
            yield obj[keypos], obj


def make_store(kind, keypos):
    if kind == "set":
        return SetStore(keypos)
    if kind == "ordered_set":
        return OrderedStore(keypos)
    if kind == "bag":
        return BagStore(keypos, False)
    return BagStore(keypos, True)
