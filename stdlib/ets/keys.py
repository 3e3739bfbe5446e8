"""Keys: how ETS compares terms, exactly (`=:=`) or in Erlang's term order (`==`).

What this module owns: two translations of a term into a Python value that
Python's own dicts and comparisons handle at C speed.

- `exact(term)`: a hashable value that is equal for two terms exactly when
  Erlang's `=:=` says they are. Python's `==` is not that: `1 == 1.0` and
  `True == 1` hold in Python, but `1`, `1.0` and the atom `true` are three
  different keys of an Erlang `set` table; lists and dicts are not hashable
  at all. The common keys (ints, strings, atoms, bytes, pids, refs, and
  tuples of those) are returned unchanged, so they cost one type test.
  `set`, `bag` and `duplicate_bag` tables key their dicts by it; match
  patterns compare with it.
- `order(term)`: a value whose Python ordering is Erlang's term order

      number < atom < reference < fun < pid < tuple < map < list < binary

  where numbers compare by value (`1 == 1.0`, as Erlang's `==`), tuples by
  size first, maps by size, then keys, then values, lists element by
  element. `ordered_set` tables sort by it (so `1` and `1.0` are one key
  there, as in OTP); guard comparisons (`<`, `==`, ...) use it.

How Python values sit in that order: `int` and `float` (not `bool`) are
numbers; `str` and `vm.Atom` (equal in beamlet: `Atom("ok") == "ok"`) are
atoms, and so are `True`, `False` and `None` (Erlang's `true`, `false`,
`undefined`), placed next to the strings of the same text but never equal
to them; functions and classes are funs; `bytes` are binaries.

What it refuses: values that are not terms (the caller copies objects into
a table first, which rejects them with `vm.Unsendable`).
"""

from __future__ import annotations

import types

from vm import Atom, BadArg, Crash, Pid, Ref

__all__ = ["PLAIN", "exact", "order", "exact_equal", "equal", "less"]

#: Types whose Python equality and hash already are Erlang's exact equality:
#: `exact` returns values of these types unchanged (callers may test first).
PLAIN = frozenset({int, str, Atom, bytes, Pid, Ref, type(None)})
_PLAIN = PLAIN
_plain_only = _PLAIN.issuperset
_TUPLES = (tuple, Crash)
_FUNS = (types.FunctionType, types.BuiltinFunctionType, types.MethodType, type)


class _Tag:
    """A marker no term can contain, so a tagged key never equals a user's tuple."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"<{self.name}>"


_FLOAT = _Tag("float")
_BOOL = _Tag("bool")
_LIST = _Tag("list")
_MAP = _Tag("map")


def exact(term):
    """A hashable stand-in for `term` that equals another's iff the terms are `=:=`."""
    t = type(term)
    if t in _PLAIN:
        return term
    if t is tuple:
        if _plain_only(map(type, term)):
            return term
        return tuple([exact(e) for e in term])
    if t is float:
        return (_FLOAT, term)
    if t is bool:
        return (_BOOL, term)
    if t is list:
        return (_LIST, tuple([exact(e) for e in term]))
    if t is dict:
        return (_MAP, frozenset([(exact(k), exact(v)) for k, v in term.items()]))
    if t is Crash:
        return term
    if isinstance(term, str):  # a str subclass other than Atom
        return str(term)
    return term  # functions and classes: identity, as Erlang compares funs


def exact_equal(a, b) -> bool:
    """Erlang's `=:=`."""
    return a is b or exact(a) == exact(b)


# ----------------------------------------------------------------------
# term order

_NUMBER, _ATOM, _REF, _FUN, _PID, _TUPLE, _MAP_RANK, _LIST_RANK, _BINARY = range(9)
_ATOM_TEXT = {True: "true", False: "false", None: "undefined"}


def order(term):
    """A Python-comparable stand-in for `term` in Erlang's term order."""
    t = type(term)
    if t is int:
        return (_NUMBER, term)
    if t is float:
        if term != term:
            raise BadArg("NaN is not a term: it has no place in Erlang's term order, so it "
                         "cannot be an ordered_set key or be compared in a guard")
        return (_NUMBER, term)
    if t is str or t is Atom:
        return (_ATOM, term, 0)
    if t is tuple or t is Crash:
        return (_TUPLE, len(term), tuple([order(e) for e in term]))
    if t is bool or term is None:
        return (_ATOM, _ATOM_TEXT[term], 1)
    if t is list:
        return (_LIST_RANK, tuple([order(e) for e in term]))
    if t is dict:
        keys = sorted(term, key=order)
        return (_MAP_RANK, len(term), tuple([order(k) for k in keys]),
                tuple([order(term[k]) for k in keys]))
    if t is Pid:
        return (_PID, term.node, term.id, term.serial, term.creation)
    if t is Ref:
        return (_REF, term.node, term.creation, term.id)
    if t is bytes:
        return (_BINARY, term)
    if isinstance(term, str):
        return (_ATOM, str(term), 0)
    if isinstance(term, _FUNS):
        return (_FUN, getattr(term, "__module__", "") or "",
                getattr(term, "__qualname__", "") or "", id(term))
    raise BadArg(f"a {type(term).__name__} is not a term, so it has no place in Erlang's "
                 "term order (keys and compared values must be terms)")


def equal(a, b) -> bool:
    """Erlang's `==` (numbers by value, everything else exactly)."""
    ta = type(a)
    if ta is type(b) and (ta is int or ta is str or ta is Atom):
        return a == b
    return order(a) == order(b)


def less(a, b) -> bool:
    """Erlang's `<` over any two terms."""
    ta = type(a)
    if (ta is int or ta is float) and (type(b) is int or type(b) is float):
        return a < b
    return order(a) < order(b)
