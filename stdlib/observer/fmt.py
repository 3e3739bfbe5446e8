"""Formatting helpers shared by every view: terms as short text and as JSON.

What this module owns:

- `short(term, limit)`: a term's repr, cut to `limit` characters with an
  ellipsis ("..."), so a view never prints a megabyte mailbox message by
  accident. `limit=None` prints it whole (the views' `full=True`).
- `jsonable(term)`: a term as plain JSON data. Pids and refs become their
  printed form (`"<0.42.0>"`), atoms strings, tuples lists, a `Crash` an
  object `{"crash": type, "message": ...}`, dict keys strings, and anything
  else its repr. JSON output is meant for scripts and agents, so its shapes
  are documented in docs/observer.md and kept stable.
- `mfa(t)`, `size(n)`, `count(n)`, `seconds(s)`, `child_id(cid)`: small
  column formats.

What it refuses: layout. Tables and trees are drawn by the views.
"""

from __future__ import annotations

import itertools
import json
import reprlib

from vm import Atom, Crash, Pid, Ref

ELLIPSIS = "..."
#: How long a term may print in a view before it is cut (override with full=True).
TERM_LIMIT = 120


#: Elements of a list, tuple, dict or set a cut view looks at before "...".
SHOWN_ITEMS = 24


def _bounded_repr(limit):
    r = reprlib.Repr()
    r.maxlevel = 6
    r.maxlist = r.maxtuple = r.maxdict = r.maxset = r.maxfrozenset = r.maxdeque = \
        r.maxarray = SHOWN_ITEMS
    r.maxstring = r.maxother = r.maxlong = max(limit, 8)
    return r


def short(term, limit=TERM_LIMIT) -> str:
    """`repr(term)` cut to `limit` characters. The repr is built only as far as
    it can be shown (reprlib), so a view of a process holding a megabyte list
    costs what the line costs, not a walk of the list."""
    if limit is None:
        return repr(term)
    t = type(term)
    if t in (int, float, bool) or term is None or t in (Pid, Ref):
        return cut(repr(term), limit)
    if t is str or t is bytes:  # cut at the end, as a reader expects
        return cut(repr(term[: limit + 1]), limit)
    return cut(_bounded_repr(limit).repr(term), limit)


def cut(text: str, limit) -> str:
    if limit is None or len(text) <= limit:
        return text
    return text[: max(0, limit - len(ELLIPSIS))] + ELLIPSIS


def mfa(t) -> str:
    """`("kv", "loop", 1)` -> `"kv.loop/1"`; None -> `"-"`."""
    if not t:
        return "-"
    try:
        mod, fn, arity = t
        return f"{mod}.{fn}/{arity}"
    except (TypeError, ValueError):
        return repr(t)


def size(n) -> str:
    """Bytes as top prints them: 812, 4.3K, 12.1M, 1.2G."""
    if n is None:
        return "-"
    n = float(n)
    for unit in ("", "K", "M", "G"):
        if abs(n) < 1024 or unit == "G":
            return f"{int(n)}" if unit == "" else f"{n:.1f}{unit}"
        n /= 1024
    return f"{n:.1f}T"  # pragma: no cover


def count(n) -> str:
    return "-" if n is None else f"{n:,}"


def seconds(s) -> str:
    if s is None:
        return "-"
    if s < 1:
        return f"{s * 1000:.0f} ms"
    if s < 120:
        return f"{s:.1f} s"
    m, s = divmod(int(s), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m{s:02d}s" if h else f"{m}m{s:02d}s"


def duration(s) -> str:
    """A short time, finer than `seconds` below 0.1 s (queue delays): 35 us, 2.50 ms."""
    if s is not None and s < 0.001:
        return f"{s * 1e6:.0f} us"
    if s is not None and s < 0.1:
        return f"{s * 1000:.2f} ms"
    return seconds(s)


def child_id(cid, limit=40):
    """A supervisor child id as a tree shows it: a class or function by its name
    (`Counter`, not `<class 'app.Counter'>`), anything else as a short term."""
    if isinstance(cid, type) or callable(cid) and hasattr(cid, "__qualname__"):
        return cut(cid.__name__, limit)
    if isinstance(cid, str):
        return cut(str(cid), limit)
    return short(cid, limit)


def jsonable(x, limit=None):
    """A term as JSON-ready data (see the module docstring). `limit` cuts the
    repr of leaves that are not JSON types."""
    t = type(x)
    if x is None or t is bool or t is int or t is float:
        return x
    if t is str or t is Atom:
        return cut(str(x), limit) if limit else str(x)
    if t is Pid or t is Ref:
        return repr(x)
    if t is Crash:
        return {"crash": x.exc_type, "message": x.message}
    if t is tuple or t is list:
        if limit is not None and len(x) > SHOWN_ITEMS:
            return [jsonable(e, limit) for e in x[:SHOWN_ITEMS]] + [
                f"{ELLIPSIS} {len(x) - SHOWN_ITEMS} more"]
        return [jsonable(e, limit) for e in x]
    if t is dict:
        items = x.items() if limit is None or len(x) <= SHOWN_ITEMS else \
            itertools.islice(x.items(), SHOWN_ITEMS)
        out = {_key(k): jsonable(v, limit) for k, v in items}
        if len(out) < len(x):
            out[ELLIPSIS] = f"{len(x) - len(out)} more"
        return out
    if t is bytes:
        return cut(repr(x), limit)
    return cut(repr(x), limit)


def _key(k):
    if type(k) in (str, Atom):
        return str(k)
    return repr(k)


def dumps(data, indent=None) -> str:
    return json.dumps(data, indent=indent, ensure_ascii=False, default=repr)
