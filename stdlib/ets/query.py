"""ETS queries: select, match, match_object, their counts, deletes and continuations.

What this module owns: running a compiled match specification (or a
predicate) over a table: which objects it must look at (the keys every
head binds, or all of them), copying results out, chunks with a limit and
the continuation that resumes a scan, and charging the caller for what it
visited (one reduction per `SCAN_CHARGE` objects).

A continuation is a term, `("$ets_continuation", tid, spec, limit,
position, made_by)`: it holds the specification's source (compiled again
through the cache) and the store's resume position, so it may be kept,
passed on or dropped freely.

What it refuses: the specification language (match_spec.py) and access
rules (table.py).
"""

from __future__ import annotations

import builtins

import vm
from vm import Atom, BadArg
from vm.lowlevel import copy_term

from . import table as _t
from .match_spec import NO_MATCH, MatchSpec, compile_spec, for_pattern
from .store import END

__all__ = ["charge", "match", "match_delete", "match_object", "match_spec_compile",
           "match_spec_run", "select", "select_count", "select_delete"]

_NO = object()
_CONTINUATION = Atom("$ets_continuation")
SCAN_CHARGE = 10  # objects visited per reduction charged


def match_spec_compile(spec) -> MatchSpec:
    """Compile a match specification once, for `select`/`match_spec_run`."""
    return compile_spec(spec, "match_spec_compile")


def match_spec_run(objects, compiled):
    """Run a compiled specification over a list of terms; the results of those it selects."""
    ms = compile_spec(compiled, "match_spec_run")
    run = ms.run
    out = []
    for obj in objects:
        r = run(obj)
        if r is not NO_MATCH:
            out.append(r)
    return out


def select(tab, spec=_NO, limit=None):
    """The results of a match specification (or the objects a predicate
    accepts). With `limit=n`: `(results, continuation)` with at most n
    results, or END_OF_TABLE when there are none; `select(continuation)`
    gives the next chunk."""
    if spec is _NO:
        return _continue(tab, "select")
    return _query(tab, compile_spec(spec, "select"), limit, "select")


def match(tab, pattern=_NO, limit=None):
    """For each object matching `pattern`, the list of its "$N" bindings in
    number order. `limit=` and `match(continuation)` as for select."""
    if pattern is _NO:
        return _continue(tab, "match")
    return _query(tab, for_pattern(pattern, "$$", "match"), limit, "match")


def match_object(tab, pattern=_NO, limit=None):
    """The objects matching `pattern`. `limit=` and continuations as for select."""
    if pattern is _NO:
        return _continue(tab, "match_object")
    return _query(tab, for_pattern(pattern, "$_", "match_object"), limit, "match_object")


def select_count(tab, spec) -> int:
    """How many objects the specification's result is True for (or the predicate accepts)."""
    t = _t.readable(tab, "select_count")
    ms = compile_spec(spec, "select_count")
    test = ms.test
    objs = _candidates(t, ms)
    charge(len(objs))
    return sum(1 for obj in objs if test(obj))


def select_delete(tab, spec) -> int:
    """Delete the objects the specification's result is True for (or the
    predicate accepts); returns how many."""
    t = _t.writable(tab, "select_delete")
    ms = compile_spec(spec, "select_delete")
    test = ms.test
    objs = _candidates(t, ms)
    charge(len(objs))
    doomed = [obj for obj in objs if test(obj)]
    store = t.store
    if store.kind in ("set", "ordered_set"):
        kp = t.keypos
        for obj in doomed:
            store.pop(obj[kp])
    else:
        for obj in doomed:
            store.remove_object(obj)
    return len(doomed)


def match_delete(tab, pattern):
    """Delete every object matching `pattern`; returns True."""
    select_delete(tab, [(pattern, [], [True])])
    return True


def _candidates(t, ms):
    """The objects a specification must look at: those with the keys every
    head binds, or all of them (a list: a predicate may change the table)."""
    keys = ms.keys(t.keypos)
    store = t.store
    if keys is None:
        return list(store.objects())
    out = []
    for k in keys:
        out.extend(store.get(k))
    return out


def _query(tab, ms, limit, what):
    t = _t.readable(tab, what)
    if limit is None:
        run = ms.run
        objs = _candidates(t, ms)
        charge(len(objs))
        out = []
        for obj in objs:
            r = run(obj)
            if r is not NO_MATCH:
                out.append(r)
        return out if ms.is_predicate or not t.mutable else [copy_term(r) for r in out]
    if builtins.type(limit) is not int or limit < 1:
        raise BadArg(f"ets.{what}: limit must be an int >= 1, not {limit!r}")
    return _chunk(t, ms, limit, None, what)


def _chunk(t, ms, limit, position, what):
    run = ms.run
    out = []
    last = position
    seen = 0
    scan = t.store.scan(position)
    if ms.is_predicate:
        scan = list(scan)  # the predicate is user code: it may change the table
    for pos, obj in scan:
        seen += 1
        last = pos
        r = run(obj)
        if r is not NO_MATCH:
            out.append(r)
            if len(out) >= limit:
                break
    charge(seen)
    if not out:
        return END
    if t.mutable and not ms.is_predicate:
        out = [copy_term(r) for r in out]
    return (out, (_CONTINUATION, t.tid, ms.source, limit, last, what))


def _continue(cont, what):
    if (builtins.type(cont) is not tuple or len(cont) != 6 or cont[0] != _CONTINUATION):
        if cont == END:
            return END
        raise BadArg(f"ets.{what}: expected a continuation from an earlier {what} with a "
                     f"limit, not {cont!r}")
    _, tid, source, limit, position, made_by = cont
    t = _t.readable(tid, what)
    return _chunk(t, compile_spec(source, what), limit, position, made_by)


def charge(visited):
    if visited >= SCAN_CHARGE:
        vm.bump_reductions(visited // SCAN_CHARGE)
