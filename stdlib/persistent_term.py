"""persistent_term: a node-wide store of terms that are read often and written rarely.

    from stdlib import persistent_term

    persistent_term.put(("myapp", "config"), {"retries": 3})
    persistent_term.get(("myapp", "config"))            # {'retries': 3}
    persistent_term.get("missing", "fallback")           # 'fallback'

What this module owns: OTP's `persistent_term` for one node: `put`, `get`
(with a default, or every pair), `erase`, `info`. Keys are any terms,
compared exactly (`1`, `1.0` and `True` are three keys, as in OTP).

The cost model, and how it differs from OTP's:

- `put` copies the value (as a send does), so the caller may change what
  it passed afterwards; putting a value equal (`=:=`) to the stored one
  does nothing, as in OTP. A put costs one copy of the value and nothing
  else: OTP's "global garbage collection" (every process scanned for
  references to the old value when a term is replaced or erased) does not
  exist here, because Python counts references: a process that read the
  old value keeps it alive exactly as long as it needs it.
- `get` of a value made only of immutable terms (numbers, strings, atoms,
  bytes, pids, refs, and tuples of those) is O(1) and returns the stored
  object itself, shared by every reader, as OTP's literal area is. A value
  holding lists or dicts is copied on every `get`, since handing out the
  stored object would let one reader change what all others see. Store
  tuples rather than lists in a term that is read often.
- The store belongs to the node: it lives as long as the node, not as long
  as the process that put the term.

What it refuses: anything per process (that is the process dictionary) and
anything written often (that is a job for ETS).
"""

from __future__ import annotations

import weakref

import vm
from vm.lowlevel import copy_term, current_node, term_size

from .ets.keys import exact, exact_equal

__all__ = ["erase", "get", "info", "put"]

_NO = object()
_stores: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
OK = vm.Atom("ok")


def _store() -> dict:
    node = current_node()
    store = _stores.get(node)
    if store is None:
        store = _stores[node] = {}
    return store


def put(key, value):
    """Store `value` (a copy) under `key`; returns "ok"."""
    store = _store()
    ek = exact(key)
    old = store.get(ek)
    if old is not None and exact_equal(old[1], value):
        return OK
    stored = copy_term(value)
    shared = copy_term(stored) is stored  # immutable all the way down
    store[ek] = (copy_term(key), stored, shared)
    return OK


def get(key=_NO, default=_NO):
    """The value stored under `key`; `default` if there is none, or `vm.BadArg`
    without a default. With no arguments, every `(key, value)` pair."""
    store = _store()
    if key is _NO:
        return [(k, v if shared else copy_term(v)) for k, v, shared in store.values()]
    entry = store.get(exact(key))
    if entry is None:
        if default is _NO:
            raise vm.BadArg(f"persistent_term.get: no term is stored under {key!r} "
                            "(pass a default to get one back instead)")
        return default
    return entry[1] if entry[2] else copy_term(entry[1])


def erase(key) -> bool:
    """Remove `key`; True if it was there."""
    return _store().pop(exact(key), None) is not None


def info() -> dict:
    """`{"count": terms stored, "memory": bytes they hold (an estimate)}`."""
    store = _store()
    seen: set = set()
    memory = sum(term_size(k, seen) + term_size(v, seen) for k, v, _ in store.values())
    return {"count": len(store), "memory": memory}
