"""Per-process heaps: copy on send, and how much memory a process holds.

What this module owns:

1. `copy_term(x)`: the copy every message and spawn argument goes through.
   Lists and dicts are rebuilt, so no two processes ever share a mutable
   object. Immutable terms (numbers, strings, bytes, atoms, pids, refs,
   crashes, and tuples made only of those) are shared, as BEAM shares
   literals and large binaries: copying them would cost time and buy no
   isolation. Functions and classes are shared too (a deviation, see
   docs/deviations.md). Anything else raises `Unsendable`, naming its type
   and where in the message it sits.

   Why not msgpack: for the messages processes really send (a small tuple
   of atoms, ints and pids) a type-dispatching walk that returns immutable
   values untouched is several times faster than an encode/decode round
   trip, and it keeps every type exactly without extension hooks. The copy
   benchmark (benchmarks/copy.py) measures both.

2. `term_size(x)`: an estimate in bytes of what a term occupies, used for
   `process_info(pid, "memory")` and the `max_heap_size` check.

What it refuses: knowing about processes. The scheduler decides when to copy
and whose heap a size belongs to.
"""

from __future__ import annotations

import sys
import types

from .errors import Unsendable
from .terms import Atom, Crash, ImproperList, Pid, Ref

# Values that are immutable all the way down: shared, never copied.
# Values shared, never copied: immutable all the way down (data), or code
# (functions and classes are shared by reference: see docs/deviations.md).
_SCALARS = frozenset(
    {
        int, float, str, bytes, bool, type(None), Atom, Pid, Ref, Crash,
        types.FunctionType, types.BuiltinFunctionType, type,
    }
)
_is_all_shared = _SCALARS.issuperset  # _is_all_shared(map(type, xs)): one C-level pass


def copy_term(x):
    """Return a copy of `x` that shares no mutable object with it."""
    t = type(x)
    if t in _SCALARS:
        return x
    try:
        return _copy(x, t)
    except RecursionError:
        raise Unsendable(
            "message is nested too deeply or refers to itself; terms must be finite trees",
            "msg",
            type(x).__name__,
        ) from None
    except _NotATerm:
        raise _unsendable_error(x) from None


class _NotATerm(Exception):
    pass


def _copy(x, t):
    if t in _SCALARS:
        return x
    if t is tuple:
        if _is_all_shared(map(type, x)):
            return x  # immutable all the way down: share it
        out = [e if type(e) in _SCALARS else _copy(e, type(e)) for e in x]
        for a, b in zip(out, x):
            if a is not b:
                return tuple(out)
        return x  # nested tuples of immutables: still shareable
    if t is list:
        if _is_all_shared(map(type, x)):
            return x.copy()  # the common flat list: copied at C speed
        return [e if type(e) in _SCALARS else _copy(e, type(e)) for e in x]
    if t is dict:
        if _is_all_shared(map(type, x.values())) and _is_all_shared(map(type, x)):
            return x.copy()
        return {
            (k if type(k) in _SCALARS else _copy(k, type(k))): (
                v if type(v) in _SCALARS else _copy(v, type(v))
            )
            for k, v in x.items()
        }
    if t is ImproperList:  # from another node (OTP call tags): copied like a tuple
        items, tail = x
        items2 = _copy(items, tuple)
        tail2 = tail if type(tail) in _SCALARS else _copy(tail, type(tail))
        return x if (items2 is items and tail2 is tail) else ImproperList(items2, tail2)
    if isinstance(x, type):  # a class with a metaclass
        return x
    if t is types.MethodType and _is_module_level(x.__self__):
        return x
    raise _NotATerm()


def _is_module_level(obj):
    return isinstance(obj, (type, types.ModuleType))


def is_term(x) -> bool:
    """True when `x` can be sent."""
    try:
        copy_term(x)
    except Unsendable:
        return False
    return True


_HINTS = {
    "set": "send a list or a tuple instead (sorted(s) keeps it deterministic)",
    "frozenset": "send a list or a tuple instead",
    "generator": "send the values (list(gen)) instead of the generator",
    "socket": "keep the socket in one process and send it the data to write",
    "lock": "processes share no memory; coordinate through messages instead of locks",
    "TextIOWrapper": "keep the file in one process and send its contents or path",
    "BufferedReader": "keep the file in one process and send its contents or path",
    "BufferedWriter": "keep the file in one process and send its contents or path",
    "bytearray": "send bytes(b) instead",
}


def _unsendable_error(root) -> Unsendable:
    path, bad = _find_non_term(root, "msg") or ("msg", root)
    tname = type(bad).__qualname__
    hint = _HINTS.get(type(bad).__name__)
    if hint is None:
        if "lock" in tname.lower():
            hint = _HINTS["lock"]
        elif hasattr(bad, "__dataclass_fields__") or hasattr(bad, "_fields"):
            hint = "convert it to a tuple or dict of terms (dataclasses.astuple / ._asdict())"
        else:
            hint = (
                "messages may hold None, bool, int, float, str, bytes, tuple, list, dict, "
                "Atom, Pid, Ref and functions; convert it to one of those"
            )
    return Unsendable(
        f"cannot send a {tname} (at {path}): it is not a term; {hint}",
        path,
        tname,
    )


def _find_non_term(x, path):
    """Locate the first value inside `x` that is not a term (slow path, errors only)."""
    t = type(x)
    if t in (tuple, list):
        for i, e in enumerate(x):
            found = _find_non_term(e, f"{path}[{i}]")
            if found is not None:
                return found
        return None
    if t is dict:
        for k, v in x.items():
            found = _find_non_term(k, f"{path} key {k!r}")
            if found is not None:
                return found
            found = _find_non_term(v, f"{path}[{k!r}]")
            if found is not None:
                return found
        return None
    try:
        _copy(x, t)
    except _NotATerm:
        return (path, x)
    return None


def term_size(x, _seen=None) -> int:
    """Estimated bytes occupied by `x` and everything it refers to (each object once)."""
    if _seen is None:
        _seen = set()
    t = type(x)
    if t is int or t is bool or x is None:
        return 0 if (x is None or t is bool or -5 <= x <= 256) else sys.getsizeof(x)
    i = id(x)
    if i in _seen:
        return 0
    _seen.add(i)
    size = sys.getsizeof(x)
    if t is tuple or t is list or t is Crash or t is ImproperList:
        for e in x:
            size += term_size(e, _seen)
    elif t is dict:
        for k, v in x.items():
            size += term_size(k, _seen) + term_size(v, _seen)
    elif t is set or t is frozenset:
        for e in x:
            size += term_size(e, _seen)
    return size
