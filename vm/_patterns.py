"""Receive patterns: turning `receive(("ping", Pid), "stop")` into one predicate.

What this module owns: the pattern language of selective receive, compiled
once per distinct pattern tuple into a single function `match(msg) -> bool`.

    ANY                 anything
    a class             isinstance(msg, cls)          (int, str, vm.Pid, ...; int skips bools)
    (p1, p2, ...)       a tuple of that length whose elements match
    [p1, p2, ...]       a list of that length whose elements match
    {k: p, ...}         a dict holding every key k with a value matching p
    a function          a predicate: matches when it returns a true value
    anything else       equality; True does not match 1 (Erlang keeps them apart)

Why compile: a receive may test hundreds of queued messages against the same
patterns, and gen_server's reply wait runs on every call; a closure per
pattern keeps the per-message cost to one or two Python calls. Compiled
matchers are cached by pattern (when hashable) in a small bounded cache.

What it refuses: binding variables. Python's `match` statement does that
better on the message `receive` returns.
"""

from __future__ import annotations

import numbers
import types
from typing import TYPE_CHECKING, Any

from .errors import BadArg, show
from .terms import ANY

if TYPE_CHECKING:
    from .terms import Ref

COMPILED = __name__ != "vm._patterns"  # True in the compiled module (see the end of this file)
_FUNCS = (types.FunctionType, types.BuiltinFunctionType, types.MethodType)
_cache: dict = {}
_CACHE_MAX = 512


def compile_patterns(patterns: tuple):
    """One predicate that is true when a message matches any of `patterns`."""
    try:
        return _cache[patterns]
    except KeyError:
        pass
    except TypeError:  # unhashable pattern (holds a list or dict): compile every time
        return _compile_many(patterns)
    fn = _compile_many(patterns)
    if not _bool_like(patterns):
        if len(_cache) >= _CACHE_MAX:
            _cache.clear()
        _cache[patterns] = fn
    return fn


def _bool_like(p) -> bool:
    """Does the pattern hold a value equal to True or False (a bool, or 0 or 1 of
    any numeric type)?

    Such patterns are never cached: `(True,) == (1,)` and they hash alike, yet
    True must not match 1 (Erlang keeps booleans apart from integers). Caching
    only patterns free of such values makes a wrong hit impossible: a pattern
    equal to a cached one holds values equal to the cached one's, so none of
    them can be a bool.
    """
    t = type(p)
    if t is tuple or t is list:
        return any(_bool_like(x) for x in p)
    if t is dict:
        return any(_bool_like(k) or _bool_like(v) for k, v in p.items())
    if t is bool:
        return True
    if isinstance(p, numbers.Number) and not isinstance(p, type):
        try:
            return bool(p == 0 or p == 1)  # type: ignore[comparison-overlap]
        except Exception:  # noqa: BLE001 - an odd number type: do not cache
            return True
    return False


def _compile_many(patterns):
    if len(patterns) == 1:
        return _compile(patterns[0])
    ms = tuple(_compile(p) for p in patterns)

    def any_of(msg):
        # A plain loop, not any(<generator>): this runs per message in a receive.
        for m in ms:  # noqa: SIM110
            if m(msg):
                return True
        return False

    return any_of


def _compile(p):
    if p is ANY:
        return _always
    if isinstance(p, type):
        cls = p
        if cls is int:  # Erlang's is_integer(true) is false: keep bools out
            return lambda msg: isinstance(msg, int) and type(msg) is not bool
        return lambda msg: isinstance(msg, cls)
    tp = type(p)
    if tp is tuple or tp is list:
        return _compile_seq(p, tp)
    if tp is dict:
        return _compile_map(p)
    if isinstance(p, _FUNCS) or (callable(p) and not isinstance(p, (str, bytes, int, float))):
        return _predicate(p)
    return _compile_literal(p)


def _always(msg):
    return True


def _predicate(fn):
    def pred(msg):
        return bool(fn(msg))

    pred.__wrapped__ = fn  # type: ignore[attr-defined]
    return pred


def _compile_literal(value):
    if type(value) is bool:
        return lambda msg: msg is value
    if value is None:
        return lambda msg: msg is None
    # Guard against True == 1 and 1.0 == True sneaking through equality.
    return lambda msg: msg == value and type(msg) is not bool


def _compile_seq(p, tp):
    n = len(p)
    subs = [(i, _compile(e)) for i, e in enumerate(p) if e is not ANY]
    # Fast path: every element is a literal or ANY (the common `(tag, ...)` shape).
    literals = [(i, e) for i, e in enumerate(p) if e is not ANY and _is_plain_literal(e)]
    if len(literals) == len(subs):
        if len(literals) == 1:
            (i0, v0), = literals

            def seq1(msg):
                return (
                    type(msg) is tp and len(msg) == n and msg[i0] == v0
                    and type(msg[i0]) is not bool
                )

            return seq1

        def seq_lit(msg):
            if type(msg) is not tp or len(msg) != n:
                return False
            for i, v in literals:
                e = msg[i]
                if e != v or type(e) is bool:
                    return False
            return True

        return seq_lit

    def seq(msg):
        if type(msg) is not tp or len(msg) != n:
            return False
        for i, m in subs:  # noqa: SIM110 - per message in a receive: no generator
            if not m(msg[i]):
                return False
        return True

    return seq


def _is_plain_literal(v):
    t = type(v)
    return (
        t is not bool
        and v is not None
        and not isinstance(v, type)
        and t not in (tuple, list, dict)
        and not callable(v)
    )


def _compile_map(p):
    items = [(k, _compile(v)) for k, v in p.items()]

    def mapping(msg):
        if type(msg) is not dict:
            return False
        for k, m in items:  # noqa: SIM110 - per message in a receive: no generator
            if k not in msg or not m(msg[k]):
                return False
        return True

    return mapping


def mentions(pattern: Any, ref: Ref) -> bool:
    """Does a pattern contain this ref, so that no message older than the ref can
    match it?"""
    if pattern is ref:
        return True
    t = type(pattern)
    if t is tuple or t is list:
        for x in pattern:
            if x is ref or ((type(x) is tuple or type(x) is list or type(x) is dict)
                            and mentions(x, ref)):
                return True
    elif t is dict:
        for v in pattern.values():  # noqa: SIM110 - a plain loop: compiled, a cpdef function
            if mentions(v, ref):
                return True
    return False


def all_mention(patterns: tuple, ref: Ref) -> bool:
    """Does every pattern contain `ref`? (Then a receive may skip the messages
    queued before the ref was made: none of them can match.)"""
    for pat in patterns:  # noqa: SIM110 - a plain loop: the compiled core calls this
        if not mentions(pat, ref):
            return False
    return True


def check_timeout(timeout):
    """Validate a timeout in seconds: None or `math.inf` (both mean infinity, and
    give None), or a finite number >= 0. NaN, negative numbers, non-numbers and
    integers too large for a float are `BadArg`."""
    if timeout is None:
        return None
    tt = type(timeout)
    if tt is bool or not isinstance(timeout, (int, float)):
        raise BadArg(
            f"timeout must be a number of seconds >= 0 or None (infinity), not {show(timeout)}"
        )
    if timeout != timeout or timeout < 0:
        raise BadArg(f"timeout must be >= 0 seconds, not {show(timeout)}; use None to wait forever")
    if tt is not float and not isinstance(timeout, float):
        try:
            float(timeout)
        except OverflowError:
            raise BadArg(
                f"timeout of {show(timeout)} s is too large for a clock; use None to wait forever"
            ) from None
    elif timeout == _INF:
        return None
    return timeout


_INF = float("inf")


# Replace this module's names with those of its compiled twin `vm._patterns_c`
# when it was built from this very source (see vm/_compiled.py).
if __name__ == "vm._patterns":
    from ._compiled import load_compiled

    load_compiled(globals())
