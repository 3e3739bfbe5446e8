"""ETS: tables of tuples that processes share by name, owned by a process.

    from stdlib import ets

    def main():
        t = ets.new("cache", access="public", named_table=True)
        ets.insert(t, ("answer", 42))
        return ets.lookup("cache", "answer")      # [("answer", 42)]

What this package owns: OTP's `ets` module for one node. A table belongs to
the process that made it; it is deleted when that process dies, or handed
to its heir (see table.py for the exact rule). Types:

    set            one object per key (keys compared exactly: 1, 1.0, True differ)
    ordered_set    one object per key, traversed in Erlang's term order; keys
                   compared with == (1 and 1.0 are the same key); new and
                   deleted keys O(log n), lookups O(1)
    bag            many objects per key, no two exactly equal
    duplicate_bag  many objects per key, duplicates kept

Access (`access=`): "protected" (the default: anyone reads, the owner
writes), "public" (anyone reads and writes), "private" (only the owner).

Objects are tuples, copied into the table and out again, so no process
ever holds a list or dict that another can change (tuples made only of
numbers, strings, atoms, pids and refs are immutable and shared, not
copied). Positions (`keypos`, `lookup_element`, `update_counter`,
`update_element`) are Python tuple indexes: they count from 0, and the key
is element 0 unless `keypos=` says otherwise (OTP counts from 1).

Each call runs to completion, as a BIF does; a call that scans the whole
table charges the caller reductions in proportion, so a long select is
followed by a preemption rather than interleaved with one. Work through a
big table in chunks with the `limit=` forms and their continuations.
`read_concurrency`, `write_concurrency` and `decentralized_counters` are
accepted and reported by `info`, and change nothing: one node runs one
scheduler, so there is no lock to tune. `compressed` is accepted likewise.

Errors: every case where OTP raises `badarg` raises `vm.BadArg` here,
with a message naming the problem (no such table, no access, a bad
object, a position out of range, ...).

Modules: `keys` (exact equality and term order), `btree` (the ordered
store), `store` (the four types), `table` (ownership, access, the node's
registry), `match_spec` (match specifications compiled to Python),
`query` (select, match and their continuations).
"""

from __future__ import annotations

import builtins

import vm
from vm import Atom, BadArg, Crash
from vm.lowlevel import copy_term

from . import table as _t
from .match_spec import MatchSpec
from .query import (
    charge,
    match,
    match_delete,
    match_object,
    match_spec_compile,
    match_spec_run,
    select,
    select_count,
    select_delete,
)
from .store import END

__all__ = [
    "END_OF_TABLE", "MatchSpec", "all", "delete", "delete_all_objects", "delete_object", "first",
    "foldl", "foldr", "give_away", "info", "insert", "insert_new", "last", "lookup",
    "lookup_element", "match", "match_delete", "match_object", "match_spec_compile",
    "match_spec_run", "member", "new", "next", "prev", "rename", "select", "select_count",
    "select_delete", "setopts", "tab2list", "take", "update_counter", "update_element", "whereis",
]

#: What first/next/last/prev return past the end, and select continuations at the end.
END_OF_TABLE = END
_NO = object()
_TUPLES = (tuple, Crash)


# ----------------------------------------------------------------------
# creating


def new(name, options=(), *, type=None, access=None, named_table=None, keypos=None,  # noqa: A002
        heir=_NO, read_concurrency=None, write_concurrency=None, decentralized_counters=None,
        compressed=None):
    """Create a table owned by the caller; returns its id: the name if
    `named_table=True`, else a fresh `vm.Ref`.

    Options as keywords (`type="bag", access="public", named_table=True,
    keypos=1, heir=(pid, data)`) or as OTP's option list (`["bag",
    "public", "named_table", ("keypos", 1), ("heir", pid, data)]`); a
    keyword wins over the list. `heir=None` (or `("heir", "none")`) means no
    heir. A name already used by a named table, an unknown option or a
    negative keypos raise `vm.BadArg`.
    """
    if not isinstance(name, str):
        raise BadArg(f"ets.new: the name must be a str or vm.Atom, not {name!r}")
    cfg = _parse_options(options)
    for key, value in (("type", type), ("access", access), ("named_table", named_table),
                       ("keypos", keypos), ("read_concurrency", read_concurrency),
                       ("write_concurrency", write_concurrency),
                       ("decentralized_counters", decentralized_counters),
                       ("compressed", compressed)):
        if value is not None:
            cfg[key] = value
    if heir is not _NO:
        cfg["heir"] = heir
    kind = cfg.get("type", "set")
    if kind not in _t.TYPES:
        raise BadArg(f"ets.new: type must be one of {', '.join(_t.TYPES)}, not {kind!r}")
    protection = cfg.get("access", "protected")
    if protection not in _t.ACCESS:
        raise BadArg(f"ets.new: access must be one of {', '.join(_t.ACCESS)}, not {protection!r}")
    kp = cfg.get("keypos", 0)
    if builtins.type(kp) is not int or kp < 0:
        raise BadArg(f"ets.new: keypos must be an int >= 0 (a Python tuple index), not {kp!r}")
    for flag in ("named_table", "read_concurrency", "decentralized_counters", "compressed"):
        if builtins.type(cfg.get(flag, False)) is not bool:
            raise BadArg(f"ets.new: {flag} must be True or False, not {cfg[flag]!r}")
    wc = cfg.get("write_concurrency", False)
    if builtins.type(wc) is not bool and wc != "auto":
        raise BadArg(f"ets.new: write_concurrency must be True, False or 'auto', not {wc!r}")
    pid, reg = _t.living_owner("new")
    named = cfg.get("named_table", False)
    name = Atom(name)
    if named and name in reg.ids:
        raise BadArg(f"ets.new: a table named {name!r} already exists (owned by "
                     f"{reg.ids[name].owner!r}); pick another name or delete it first")
    t = _t.Table(vm.make_ref(), name, named, kind, Atom(protection), pid, kp, vm.node_name())
    t.read_concurrency = cfg.get("read_concurrency", False)
    t.write_concurrency = wc
    t.decentralized_counters = cfg.get("decentralized_counters", False)
    t.compressed = cfg.get("compressed", False)
    reg.add(t)
    _set_heir(reg, t, cfg.get("heir"), "new")
    return t.id


def _parse_options(options) -> dict:
    if type(options) not in (list, tuple):
        raise BadArg(f"ets.new: options must be a list, not {options!r}")
    cfg: dict = {}
    for opt in options:
        if opt in _t.TYPES:
            cfg["type"] = opt
        elif opt in _t.ACCESS:
            cfg["access"] = opt
        elif opt == "named_table":
            cfg["named_table"] = True
        elif opt == "compressed":
            cfg["compressed"] = True
        elif type(opt) is tuple and len(opt) == 2 and opt[0] in (
                "keypos", "read_concurrency", "write_concurrency", "decentralized_counters"):
            cfg[opt[0]] = opt[1]
        elif type(opt) is tuple and opt[:1] == ("heir",) and len(opt) in (2, 3):
            cfg["heir"] = None if opt[1:] == ("none",) else opt[1:]
        else:
            raise BadArg(f"ets.new: unknown option {opt!r}")
    return cfg


def _set_heir(reg, t, heir, what):
    if heir is None or heir == "none":
        reg.set_heir(t, None, None, False)
        return
    if type(heir) is not tuple or len(heir) != 2 or type(heir[0]) is not vm.Pid:
        raise BadArg(f"ets.{what}: heir must be (pid, data) or None, not {heir!r}")
    pid, data = heir
    alive = pid.node == vm.node_name() and vm.is_process_alive(pid)
    reg.set_heir(t, pid, copy_term(data), alive)


def setopts(tab, options=(), *, heir=_NO):
    """Change a table's heir (the owner only): `heir=(pid, data)` or `None`,
    or OTP's list `[("heir", pid, data)]` / `[("heir", "none")]`."""
    t, _ = _t.owned(tab, "setopts")
    cfg = {}
    for opt in options if type(options) is list else [options]:
        if type(opt) is tuple and opt[:1] == ("heir",) and len(opt) in (2, 3):
            cfg["heir"] = None if opt[1:] == ("none",) else opt[1:]
        else:
            raise BadArg(f"ets.setopts: unknown option {opt!r} (only heir can be changed)")
    if heir is not _NO:
        cfg["heir"] = heir
    if "heir" in cfg:
        _set_heir(_t.caller()[1], t, cfg["heir"], "setopts")
    return True


# ----------------------------------------------------------------------
# writing


def _checked(obj, t, what):
    """A copy of `obj` fit for table `t` (a tuple long enough to hold the key)."""
    if type(obj) not in _TUPLES or len(obj) <= t.keypos:
        hint = " (convert it with tuple(obj))" if isinstance(obj, tuple) else ""
        raise BadArg(f"ets.{what}: objects must be tuples with at least {t.keypos + 1} "
                     f"element(s) (the key is at index {t.keypos}), not {obj!r}{hint}")
    if _flat(map(type, obj)):
        return obj  # immutable all the way down: shared, not copied
    c = copy_term(obj)
    if c is not obj:
        t.mutable = True
    return c


# Element types that make a tuple immutable without looking deeper.
_flat = frozenset({int, float, str, Atom, bytes, bool, type(None), vm.Pid,
                   vm.Ref}).issuperset


def _objects(objs, t, what):
    if type(objs) is list:
        out = [_checked(o, t, what) for o in objs]
        if t.store.kind == "bag":
            out.reverse()  # OTP's bag takes a list from its end (its order shows in lookup)
        return out
    return [_checked(objs, t, what)]


def insert(tab, objects):
    """Insert one object (a tuple) or a list of them; returns True.

    In a set or ordered_set an object replaces the one with the same key. A
    list is checked whole before anything is inserted.
    """
    t = _t.writable(tab, "insert")
    if type(objects) is tuple:
        if len(objects) > t.keypos and _flat(map(type, objects)):
            t.store.put(objects)  # the common case, inlined: immutable, nothing to copy
        else:
            t.store.put(_checked(objects, t, "insert"))
        return True
    put = t.store.put
    for obj in _objects(objects, t, "insert"):
        put(obj)
    return True


def insert_new(tab, objects):
    """Like insert, but only if none of the keys is in the table yet; returns
    True if it inserted (everything), False if it inserted nothing."""
    t = _t.writable(tab, "insert_new")
    objs = _objects(objects, t, "insert_new")
    store, kp = t.store, t.keypos
    for obj in objs:
        if store.has(obj[kp]):
            return False
    for obj in objs:
        store.put(obj)
    return True


def delete(tab, key=_NO):
    """`delete(tab)` deletes the table; `delete(tab, key)` every object with `key`.
    Returns True. Needs write access."""
    if key is _NO:
        t = _t.writable(tab, "delete")
        _t.caller()[1].drop(t)
        return True
    _t.writable(tab, "delete").store.pop(key)
    return True


def delete_object(tab, obj):
    """Delete the objects exactly equal to `obj` (all copies in a duplicate_bag)."""
    t = _t.writable(tab, "delete_object")
    if type(obj) not in _TUPLES or len(obj) <= t.keypos:
        raise BadArg(f"ets.delete_object: expected a tuple with a key at index {t.keypos}, "
                     f"not {obj!r}")
    t.store.remove_object(obj)
    return True


def delete_all_objects(tab):
    """Empty the table; returns True."""
    t = _t.writable(tab, "delete_all_objects")
    t.store.clear()
    t.mutable = False
    return True


def take(tab, key):
    """Remove and return the objects with `key` (a list, empty if none)."""
    t = _t.writable(tab, "take")
    return t.store.pop(key)  # removed from the table: nobody else holds them


def _position(pos, obj, t, what):
    if type(pos) is not int or not 0 <= pos < len(obj):
        raise BadArg(f"ets.{what}: position {pos!r} is outside the object {obj!r} "
                     f"(positions count from 0)")
    if pos == t.keypos:
        raise BadArg(f"ets.{what}: position {pos} is the key; the key cannot be changed")


def _updatable(t, what):
    if t.store.kind not in ("set", "ordered_set"):
        raise BadArg(f"ets.{what}: works on set and ordered_set tables, not {t.store.kind}")


def update_counter(tab, key, op, default=_NO):
    """Add to integer elements of the object with `key`; returns the new value(s).

    `op` is an int (added to the element after the key), `(pos, incr)`,
    `(pos, incr, threshold, set_value)` (past the threshold, in the
    direction of incr, the element becomes set_value), or a list of those
    (returns a list of results, applied in order). A missing key raises
    `vm.BadArg` unless `default` (an object) is given: it is inserted with
    its key replaced by `key`, then updated. Works on set and ordered_set;
    all-or-nothing.
    """
    t = _t.writable(tab, "update_counter")
    _updatable(t, "update_counter")
    found = t.store.get(key)
    if found:
        obj = found[0]
    elif default is _NO:
        raise BadArg(f"ets.update_counter: no object with key {key!r} in {t.id!r} "
                     "(pass default= to create it)")
    else:
        if type(default) not in _TUPLES or len(default) <= t.keypos:
            raise BadArg(f"ets.update_counter: the default must be a tuple with a key at index "
                         f"{t.keypos}, not {default!r}")
        kp = t.keypos
        obj = _checked(default[:kp] + (key,) + default[kp + 1:], t, "update_counter")
    ops = op if type(op) is list else [op]
    new = list(obj)
    results = []
    for o in ops:
        if type(o) is int:
            pos, incr, threshold = t.keypos + 1, o, None
        elif type(o) is tuple and len(o) == 2:
            (pos, incr), threshold = o, None
        elif type(o) is tuple and len(o) == 4:
            pos, incr, threshold, set_value = o
        else:
            raise BadArg(f"ets.update_counter: an update is incr, (pos, incr) or (pos, incr, "
                         f"threshold, set_value), not {o!r}")
        _position(pos, new, t, "update_counter")
        value = new[pos]
        if type(value) is not int or type(incr) is not int:
            raise BadArg(f"ets.update_counter: element {pos} of {obj!r} and the increment "
                         f"must be ints, not {value!r} and {incr!r}")
        value += incr
        if threshold is not None:
            if type(threshold) is not int or type(set_value) is not int:
                raise BadArg(f"ets.update_counter: threshold and set_value must be ints in {o!r}")
            if (incr >= 0 and value > threshold) or (incr < 0 and value < threshold):
                value = set_value
        new[pos] = value
        results.append(value)
    t.store.replace(tuple(new))
    return results if type(op) is list else results[0]


def update_element(tab, key, change):
    """Set elements of the object with `key` in place: `(pos, value)` or a
    list of them. Returns False if there is no such object. set and
    ordered_set only; the key's position cannot be changed."""
    t = _t.writable(tab, "update_element")
    _updatable(t, "update_element")
    found = t.store.get(key)
    changes = change if type(change) is list else [change]
    for c in changes:
        if type(c) is not tuple or len(c) != 2:
            raise BadArg(f"ets.update_element: a change is (pos, value), not {c!r}")
    if not found:
        return False
    new = list(found[0])
    for pos, value in changes:
        _position(pos, new, t, "update_element")
        copied = copy_term(value)
        if copied is not value:
            t.mutable = True
        new[pos] = copied
    t.store.replace(tuple(new))
    return True


# ----------------------------------------------------------------------
# reading


def _out(t, objs):
    return [copy_term(o) for o in objs] if t.mutable else objs


def lookup(tab, key):
    """The objects with `key`, as a list (empty if none)."""
    t = _t.readable(tab, "lookup")
    objs = t.store.get(key)
    return [copy_term(o) for o in objs] if t.mutable else objs


def member(tab, key) -> bool:
    return _t.readable(tab, "member").store.has(key)


def lookup_element(tab, key, pos, default=_NO):
    """Element `pos` (from 0) of the object with `key`; for a bag, a list with
    that element of each object. A missing key raises `vm.BadArg` unless
    `default` is given (OTP 26's lookup_element/4)."""
    t = _t.readable(tab, "lookup_element")
    objs = t.store.get(key)
    if not objs:
        if default is not _NO:
            return default
        raise BadArg(f"ets.lookup_element: no object with key {key!r} in {t.id!r}")
    for obj in objs:
        if type(pos) is not int or not 0 <= pos < len(obj):
            raise BadArg(f"ets.lookup_element: position {pos!r} is outside {obj!r} "
                         "(positions count from 0)")
    values = [copy_term(o[pos]) for o in objs]
    return values if t.store.kind in ("bag", "duplicate_bag") else values[0]


def first(tab):
    """The first key (smallest in an ordered_set), or END_OF_TABLE."""
    return _t.readable(tab, "first").store.first_key()


def last(tab):
    """The last key of an ordered_set (first for the other types), or END_OF_TABLE."""
    return _t.readable(tab, "last").store.last_key()


def next(tab, key):  # noqa: A001 - OTP's name
    """The key after `key`, or END_OF_TABLE. In an ordered_set `key` need not
    be present; in the other types it must be (`vm.BadArg` otherwise)."""
    return _step(tab, key, "next")


def prev(tab, key):
    """The key before `key` in an ordered_set (the next one for other types)."""
    return _step(tab, key, "prev")


def _step(tab, key, what):
    t = _t.readable(tab, what)
    store = t.store
    try:
        k = store.next_key(key) if what == "next" else store.prev_key(key)
    except KeyError:
        raise BadArg(f"ets.{what}: the key {key!r} is not in the {store.kind} table "
                     f"{t.id!r} (only ordered_set steps from an absent key)") from None
    return copy_term(k)


def tab2list(tab):
    """Every object, in traversal order."""
    t = _t.readable(tab, "tab2list")
    objs = list(t.store.objects())
    charge(len(objs))
    return _out(t, objs)


def foldl(fn, acc, tab):
    """`fn(obj, acc)` over every object in traversal order; returns the last acc."""
    t = _t.readable(tab, "foldl")
    for obj in _out(t, list(t.store.objects())):
        acc = fn(obj, acc)
    return acc


def foldr(fn, acc, tab):
    """foldl from the other end."""
    t = _t.readable(tab, "foldr")
    for obj in reversed(_out(t, list(t.store.objects()))):
        acc = fn(obj, acc)
    return acc


_INFO_ITEMS = ("id", "decentralized_counters", "read_concurrency", "write_concurrency",
               "compressed", "memory", "owner", "heir", "name", "size", "node", "named_table",
               "type", "keypos", "protection")


def info(tab, item=None):
    """A dict of the table's properties (OTP's items, in OTP's order), or one
    item's value; None if the table does not exist. `memory` is in words,
    estimated from a sample of objects."""
    if item is not None and item not in _INFO_ITEMS:
        raise BadArg(f"ets.info: unknown item {item!r}; known: {', '.join(_INFO_ITEMS)}")
    pid, reg = _t.caller()
    try:
        t = reg.ids.get(tab)
    except TypeError:
        raise BadArg(f"ets.info: a table is named by its name or id, not {tab!r}") from None
    if t is None:
        return None
    if item is not None:
        return _info_item(t, item)
    return {it: _info_item(t, it) for it in _INFO_ITEMS}


def _info_item(t, item):
    if item == "id":
        return t.tid
    if item == "memory":
        return t.memory()
    if item == "heir":
        return t.heir if t.heir is not None else _t.NONE
    if item == "size":
        return t.store.size
    if item == "node":
        return Atom(t.node_name)
    if item == "type":
        return t.store.kind
    if item == "protection":
        return t.protection
    if item == "named_table":
        return t.named
    return getattr(t, item)


def all():  # noqa: A001 - OTP's name
    """The ids of every table of the node (names for named tables)."""
    _, reg = _t.caller()
    return [t.id for t in reg.tables.values()]


def whereis(name):
    """The tid of the named table `name`, or None."""
    _, reg = _t.caller()
    t = reg.ids.get(name) if isinstance(name, str) else None
    return t.tid if t is not None else None


def rename(tab, name):
    """Rename a table (a named table is then reachable by the new name only);
    returns its id."""
    if not isinstance(name, str):
        raise BadArg(f"ets.rename: the name must be a str or vm.Atom, not {name!r}")
    t = _t.writable(tab, "rename")
    _t.caller()[1].rename(t, Atom(name))
    return t.id


def give_away(tab, pid, gift_data):
    """Make `pid` the owner (the owner only); it receives
    `("ETS-TRANSFER", tab, old_owner, gift_data)`. Returns True."""
    t, me = _t.owned(tab, "give_away")
    _t.check_pid_alive(pid, "give_away", "new owner")
    if pid == me:
        raise BadArg(f"ets.give_away: {pid!r} already owns {t.id!r}")
    _t.caller()[1].set_owner(t, pid)
    vm.send(pid, (_t.ETS_TRANSFER, t.id, me, gift_data))
    return True
