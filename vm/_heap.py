"""Per-process heaps: copy on send, and what may be sent.

What this module owns: `copy_term(x)`, the copy every message and spawn
argument goes through, and so the term set (docs/api.md, Terms, lists it
with the shape each type takes in Erlang's External Term Format).

- Immutable values are shared, as BEAM shares literals and large binaries:
  copying them would cost time and buy no isolation. Numbers, strings,
  bytes, atoms, pids, refs, crashes, `date`, `timedelta`, `timezone`,
  `Decimal`, `UUID`, `range`, `complex`, enum members, and tuples,
  frozensets and NamedTuples made only of those.
- Mutable values are rebuilt, so no two processes ever share one: `list`,
  `dict`, `set`, `bytearray`, `deque`, `OrderedDict`, `defaultdict`,
  `Counter`, `Fraction` (its slots can be assigned), `functools.partial`,
  dataclasses (frozen or not: a copy shares nothing, so a plain dataclass
  travels as safely as a dict), and classes registered with
  `register_term_type` (copied attribute by attribute, or shared when
  registered with `share=True`).
- Code is shared (a deviation, see docs/deviations.md): classes, modules,
  functions defined at module level, builtins, unbound methods. A callable that
  carries data is checked, because sharing it would share the data: a bound
  method is refused unless its `__self__` is a module, a class or an
  immutable term (`[].append`, `sock.send`, `lock.acquire`, `obj.method`
  carry their object); a closure or a function made inside another is
  copied (its captured variables, defaults and attributes are copies), so
  it travels only if what it captures is made of terms.
- Anything else raises `Unsendable`, naming its type, where in the message
  it sits, and what to do instead (`_HINTS`). User classes stay refused
  until registered or made dataclasses.

Why not msgpack: for the messages processes really send (a small tuple of
atoms, ints and pids) a type-dispatching walk that returns immutable values
untouched is several times faster than an encode/decode round trip, and it
keeps every type exactly. The copy benchmark (benchmarks/copy.py) measures
both. The fast paths (scalars, flat lists and dicts, tuples of scalars) are
tested first; every type added here is reached only after them.

Compiled: where it can, `pip install` builds this module into `vm._heap_c`
(with `_heap.pxd`), which the end of this file loads over it
(`vm/_compiled.py`). The fast paths then run as C loops (`COMPILED` below);
every decision stays the same.

What it refuses: knowing about processes (the scheduler decides when to
copy), and measuring sizes (`_memory.py`).
"""

from __future__ import annotations

import collections
import enum
import functools
import sys
import types

from .errors import BadArg, Unsendable
from .terms import Atom, Crash, ImproperList, Pid, Ref

_HEAPTYPE = 1 << 9  # Py_TPFLAGS_HEAPTYPE: a class written in Python

# Values shared, never copied: immutable all the way down. The standard
# library's immutable types (date, timedelta, timezone, Decimal, UUID) join
# when first met (`_stdlib_copier`): their modules are not imported for
# programs that never send them, and a value of one means its module is
# loaded.
_SCALARS = {int, float, str, bytes, bool, type(None), Atom, Pid, Ref, complex, range, type}
_is_all_shared = _SCALARS.issuperset  # _is_all_shared(map(type, xs)): one C-level pass

# The compiled build (vm._heap_c, see vm/_compiled.py) takes other forms of the
# fast paths below: explicit loops, which Cython turns into C loops of pointer
# compares (a few ns per element, where the pure form's map(type, ...) costs
# about 20). The pure build keeps the forms fastest in the interpreter. Both
# make the same decisions: `_shared_type(t)` is `t in _SCALARS`.
COMPILED = __name__ == "vm._heap_c"  # True in the compiled module only
# The same two facts as the compiled build reads them: C globals (typed in
# _heap.pxd), where a module global costs a dict lookup at every read.
# `_scalar_types` is the very set `_SCALARS` (mutated, never replaced).
_in_c = COMPILED
_scalar_types = _SCALARS


def copy_term(x):
    """Return a copy of `x` that shares no mutable object with it."""
    t = type(x)
    if t in _scalar_types:
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
    """Raised inside the copy; `why` (optional) says what is wrong with the value."""

    def __init__(self, why=None):
        super().__init__(why)
        self.why = why


def _copy(x, t):
    if t is tuple:
        if _in_c:
            return _copy_tuple(x)
        if _is_all_shared(map(type, x)):
            return x  # immutable all the way down: share it
        out = [e if type(e) in _SCALARS else _copy(e, type(e)) for e in x]
        for a, b in zip(out, x, strict=True):
            if a is not b:
                return tuple(out)
        return x  # nested tuples of immutables: still shareable
    if t is list:
        if _in_c:
            return _copy_list(x)
        if _is_all_shared(map(type, x)):
            return x.copy()  # the common flat list: copied at C speed
        return [e if type(e) in _SCALARS else _copy(e, type(e)) for e in x]
    if t is dict:
        if _in_c:
            return _copy_dict(x)
        if _is_all_shared(map(type, x.values())) and _is_all_shared(map(type, x)):
            return x.copy()
        return {
            (k if type(k) in _SCALARS else _copy(k, type(k))): (
                v if type(v) in _SCALARS else _copy(v, type(v))
            )
            for k, v in x.items()
        }
    if t in _scalar_types:
        return x
    f = _COPIERS.get(t)
    if f is None:
        f = _copier_for(t)
    return f(x)


def _c(x):
    """Copy one element (the shape every copier below uses)."""
    t = type(x)
    if _in_c:
        return x if _shared_type(t) else _nested(x, t)
    return x if t in _SCALARS else _copy(x, t)


def _copy_elements(x):
    """(copied elements as a list, whether any of them changed)."""
    out = [_c(e) for e in x]
    for a, b in zip(out, x, strict=True):
        if a is not b:
            return out, True
    return out, False


# The compiled build's forms of the three fast paths (called only there; in the
# pure build they are correct too, only slower than the forms in `_copy`).


def _shared_type(t) -> bool:
    """`t in _SCALARS`, the commonest types first (compiled: pointer compares)."""
    if t is int or t is str or t is float or t is bool or t is type(None):
        return True
    if t is list or t is dict or t is tuple:
        return False  # never in _SCALARS (only immutable types join it)
    return t in _scalar_types


def _nested(x, t):
    """`_copy(x, t)` of a value inside another. Compiled, the copy recurses as C
    calls, which count no depth: each level is counted here against Python's
    recursion limit, so a term that refers to itself raises RecursionError (as
    in the pure build) instead of overflowing the C stack."""
    if not _in_c:
        return _copy(x, t)
    _enter_recursive_call(" while copying a term")  # type: ignore[name-defined]  # noqa: F821
    try:
        return _copy(x, t)
    finally:
        _leave_recursive_call()  # type: ignore[name-defined]  # noqa: F821


def _copy_tuple(x):
    for i, e in enumerate(x):
        c = _c(e)
        if c is not e:  # a mutable inside: rebuild, copying the rest
            out = list(x[:i])
            out.append(c)
            out.extend([_c(rest) for rest in x[i + 1:]])
            return tuple(out)
    return x  # immutable all the way down: share it


def _copy_list(x):
    for e in x:
        if not _shared_type(type(e)):
            return [_c(e) for e in x]
    return x.copy()  # the common flat list: copied at C speed


def _copy_dict(x):
    # A copy of the table as it is (no key hashed again), then the values that
    # are not shared replaced in place: the keys keep their order.
    out = x.copy()
    for k, v in x.items():
        if not _shared_type(type(k)):  # rare: a key that a copy may change
            return {_c(k): _c(v) for k, v in x.items()}
        if not _shared_type(type(v)):
            out[k] = _nested(v, type(v))
    return out


# ----------------------------------------------------------------------
# the standard library's types


def _share(x):
    return x


def _frozenset(x):
    if _is_all_shared(map(type, x)):
        return x
    out, changed = _copy_elements(x)
    return frozenset(out) if changed else x


def _datetime(x):
    tz = x.tzinfo
    if tz is None or _is_stdlib(type(tz), "datetime", "timezone") or (
            _is_stdlib(type(tz), "zoneinfo", "ZoneInfo") and tz.key is not None):
        return x
    raise _NotATerm(
        f"its tzinfo is a {type(tz).__qualname__}, which could change under another "
        "process; use datetime.timezone or zoneinfo.ZoneInfo(key)"
    )


def _zoneinfo(x):
    if x.key is None:
        raise _NotATerm("a ZoneInfo read from a file has no key to travel by; "
                        "use zoneinfo.ZoneInfo(key)")
    return x


def _deque(x):
    return collections.deque([_c(e) for e in x], x.maxlen)


def _ordered_dict(x):
    return collections.OrderedDict([(_c(k), _c(v)) for k, v in x.items()])


def _defaultdict(x):
    out: collections.defaultdict = collections.defaultdict(_c(x.default_factory))
    dict.update(out, [(_c(k), _c(v)) for k, v in x.items()])
    return out


def _counter(x):
    out: collections.Counter = collections.Counter()
    dict.update(out, [(_c(k), _c(v)) for k, v in x.items()])
    return out


def _crash(x):
    """A Crash is shared; its constructor checks its fields, `tuple.__new__` does not."""
    for f in x:
        if type(f) is not str and type(f) is not Atom:
            raise _NotATerm("a Crash may hold only strings; build it with vm.Crash(...)")
    return x


def _improper_list(x):
    """From another node (OTP call tags `[alias | Ref]`): copied like a tuple."""
    items, tail = x
    items2 = _copy(items, tuple)
    tail2 = _c(tail)
    return x if (items2 is items and tail2 is tail) else ImproperList(items2, tail2)


def _partial(x):
    if x.__dict__:
        raise _NotATerm("it has attributes of its own; send a partial without them")
    return functools.partial(_c(x.func), *[_c(a) for a in x.args],
                             **{k: _c(v) for k, v in x.keywords.items()})


_COPIERS: dict = {
    frozenset: _frozenset,
    Crash: _crash,
    ImproperList: _improper_list,
    set: lambda x: {_c(e) for e in x},
    bytearray: bytearray,
    collections.deque: _deque,
    collections.OrderedDict: _ordered_dict,
    collections.defaultdict: _defaultdict,
    collections.Counter: _counter,
    functools.partial: _partial,
    types.MethodDescriptorType: _share,  # list.append, unbound: code
    types.WrapperDescriptorType: _share,
    types.ClassMethodDescriptorType: _share,
}


def _is_stdlib(t, module, name) -> bool:
    """Is `t` the standard library's `module.name` (its module is loaded)?"""
    m = sys.modules.get(module)
    return m is not None and getattr(m, name, None) is t


def _fraction(x):
    return type(x)(x.numerator, x.denominator)  # its slots can be assigned: a new one


def _decimal(x):
    return type(x)(x)  # the pure-Python implementation (the C one is a scalar)


# (module, name) of standard library types -> how they travel ("scalar": shared)
_STDLIB = {
    ("datetime", "date"): "scalar",
    ("datetime", "timedelta"): "scalar",
    ("datetime", "timezone"): "scalar",
    ("uuid", "UUID"): "scalar",
    ("decimal", "Decimal"): "scalar",
    ("datetime", "datetime"): _datetime,
    ("datetime", "time"): _datetime,
    ("zoneinfo", "ZoneInfo"): _zoneinfo,
    ("fractions", "Fraction"): _fraction,
}


def _stdlib_copier(t):
    """The copier of a standard library type met for the first time, or None."""
    how = _STDLIB.get((t.__module__.lstrip("_"), t.__name__))
    if how is None or not _is_stdlib(t, t.__module__.lstrip("_"), t.__name__):
        return None
    if how == "scalar":
        if t.__flags__ & _HEAPTYPE and t.__name__ == "Decimal":
            return _decimal  # the pure-Python fallback has assignable slots
        _SCALARS.add(t)
        return _share
    return how


# ----------------------------------------------------------------------
# code: shared, unless it carries data


def _function(f, memo=None):
    """A function defined at module or class level is code, shared like its
    module. Any other (a closure, a lambda made in a function) is copied: a
    new function with the same code and globals, whose captured variables,
    defaults and attributes are copies, so neither process sees the other's
    changes (`nonlocal` included)."""
    cells = f.__closure__
    if cells is None and "<locals>" not in f.__qualname__:
        return f
    if memo is None:
        memo = {}
    g = memo.get(id(f))
    if g is not None:
        return g  # a recursive closure refers to itself
    new_cells = None
    if cells:
        new_cells = tuple(memo.get(id(c)) or memo.setdefault(id(c), types.CellType())
                          for c in cells)
    g = types.FunctionType(f.__code__, f.__globals__, f.__name__, None, new_cells)
    memo[id(f)] = g
    if cells:
        for name, c, nc in zip(f.__code__.co_freevars, cells, new_cells or (), strict=True):
            if memo.get(("filled", id(c))):
                continue
            memo[("filled", id(c))] = True
            try:
                v = c.cell_contents
            except ValueError:  # not assigned yet
                continue
            nc.cell_contents = _captured(f, name, v, memo)
    if f.__defaults__:
        g.__defaults__ = tuple(_captured(f, "a default", v, memo) for v in f.__defaults__)
    if f.__kwdefaults__:
        g.__kwdefaults__ = {k: _captured(f, "a default", v, memo)
                            for k, v in f.__kwdefaults__.items()}
    if f.__dict__:
        g.__dict__.update({k: _captured(f, k, v, memo) for k, v in f.__dict__.items()})
    g.__qualname__ = f.__qualname__
    g.__module__ = f.__module__
    g.__doc__ = f.__doc__
    g.__annotations__ = f.__annotations__  # metadata (types, strings): shared as code is
    return g


def _captured(f, name, v, memo):
    if type(v) is types.FunctionType:
        return _function(v, memo)
    try:
        return _c(v)
    except _NotATerm:
        raise _NotATerm(
            f"the function {f.__qualname__} captures `{name}`, a {type(v).__qualname__}, "
            "which is not a term (a closure travels with copies of what it captures); pass "
            "what it needs as terms, or define it at module level, where what it uses is "
            "shared like code"
        ) from None


def _bound(m):
    s = m.__self__
    if s is None or isinstance(s, (type, types.ModuleType)):
        return m  # a module's function or a class's method: code
    if type(s) in _SCALARS or _REGISTERED.get(type(s)) is True:
        return m  # "-".join: the object is immutable and would be shared anyway
    raise _NotATerm(
        f"it is a method bound to a {type(s).__qualname__} object, which would travel "
        "with it and be shared by two processes; send a module-level function, or send "
        "the data and call the method on the receiver's own copy"
    )


_COPIERS[types.FunctionType] = _function
_COPIERS[types.ModuleType] = _share  # a closure may capture one (a local import)
_COPIERS[types.BuiltinFunctionType] = _bound  # len, math.sqrt; also [].append: checked
_COPIERS[types.MethodType] = _bound
_COPIERS[types.MethodWrapperType] = _bound
_BASE_COPIERS = dict(_COPIERS)  # what _copier_for adds is forgotten when there is too much


# ----------------------------------------------------------------------
# user classes: enum members, NamedTuples, dataclasses, registered classes

_REGISTERED: dict = {}  # class -> share?


def register_term_type(cls, *, share: bool = False):
    """Let instances of the class `cls` travel in messages.

    By default an instance is copied attribute by attribute (its `__dict__`
    and slots; every attribute must itself be a term), without calling
    `__init__`. `share=True` shares instances instead, never copying them:
    only for classes whose instances are immutable all the way down. Returns
    `cls`, so it can decorate a class. Subclasses are not included: register
    each class that travels.
    """
    if not isinstance(cls, type):
        raise BadArg(f"register_term_type needs a class, not {cls!r}")
    if issubclass(cls, enum.Enum) or (issubclass(cls, tuple) and hasattr(cls, "_fields")):
        raise BadArg(
            f"register_term_type: {cls.__qualname__} travels already (enum members are "
            "shared, NamedTuples copied field by field); no need to register it"
        )
    if not _plain_layout(cls):
        raise BadArg(
            f"register_term_type: {cls.__qualname__} derives from a built-in type other than "
            "object, whose contents cannot be copied attribute by attribute; send its data "
            "as a term (a tuple, dict or dataclass) instead"
        )
    if type(share) is not bool:
        raise BadArg(f"register_term_type: share must be a bool, not {share!r}")
    _REGISTERED[cls] = share
    _COPIERS.pop(cls, None)
    return cls


def _plain_layout(t) -> bool:
    """Only Python classes down to `object`: the state is `__dict__` plus slots."""
    return all(b is object or b.__flags__ & _HEAPTYPE for b in t.__mro__)


def _copier_for(t):
    """Classify a type met for the first time; remember the copier."""
    share = _REGISTERED.get(t)
    if share is not None:
        f = _share if share else _state_copier(t)
    elif (f := _stdlib_copier(t)) is not None:
        pass
    elif issubclass(t, type):
        f = _share  # a class with a metaclass
    elif issubclass(t, enum.Enum):
        f = _share  # a member: a module-level singleton, like its class
    elif issubclass(t, tuple) and hasattr(t, "_fields") and _plain_tuple(t):
        f = _namedtuple if t.__dictoffset__ == 0 else _namedtuple_with_dict
    elif hasattr(t, "__dataclass_fields__") and _plain_layout(t):
        f = _state_copier(t)
    else:
        f = _refuse
    if len(_COPIERS) > len(_BASE_COPIERS) + 10_000:  # classes made on the fly
        _COPIERS.clear()
        _COPIERS.update(_BASE_COPIERS)
    _COPIERS[t] = f
    return f


def _refuse(x):
    raise _NotATerm()


def _plain_tuple(t) -> bool:
    """A NamedTuple class made in Python on top of `tuple` alone."""
    return all(b in (tuple, object) or b.__flags__ & _HEAPTYPE for b in t.__mro__)


def _namedtuple(x):
    if _is_all_shared(map(type, x)):
        return x
    out, changed = _copy_elements(x)
    return tuple.__new__(type(x), out) if changed else x


def _namedtuple_with_dict(x):
    """A subclass that forgot `__slots__ = ()`: its instances may grow attributes,
    so they are always rebuilt."""
    out = tuple.__new__(type(x), [_c(e) for e in x])
    d = object.__getattribute__(x, "__dict__")
    if d:
        object.__getattribute__(out, "__dict__").update({k: _c(v) for k, v in d.items()})
    return out


_SLOTS: dict = {}


def _slots_of(t):
    """(name, descriptor) for every slot of `t` and its bases."""
    found = _SLOTS.get(t)
    if found is None:
        found = []
        for b in t.__mro__:
            names = b.__dict__.get("__slots__", ())
            for name in (names,) if isinstance(names, str) else names:
                if name in ("__dict__", "__weakref__"):
                    continue
                if name.startswith("__") and not name.endswith("__"):
                    name = f"_{b.__name__.lstrip('_')}{name}"  # name mangling
                d = b.__dict__.get(name)
                if isinstance(d, types.MemberDescriptorType):
                    found.append((name, d))
        if len(_SLOTS) > 10_000:
            _SLOTS.clear()
        _SLOTS[t] = found
    return found


def _state_copier(t):
    slots = _slots_of(t)
    has_dict = t.__dictoffset__ != 0
    new = object.__new__
    get_dict = object.__getattribute__

    def copy_state(x):
        out = new(t)
        if has_dict:
            d = get_dict(x, "__dict__")
            if d:
                get_dict(out, "__dict__").update({_c(k): _c(v) for k, v in d.items()})
        for _name, desc in slots:
            try:
                v = desc.__get__(x, t)
            except AttributeError:  # an unset slot stays unset
                continue
            desc.__set__(out, _c(v))
        return out

    return copy_state


def _state(x):
    """(name, value) pairs of an instance copied attribute by attribute."""
    t = type(x)
    out = []
    if t.__dictoffset__:
        out.extend(object.__getattribute__(x, "__dict__").items())
    for name, desc in _slots_of(t):
        # Per slot of every copied object: try/except costs nothing when no slot
        # is unset, where contextlib.suppress builds a context manager each time.
        try:  # noqa: SIM105
            out.append((name, desc.__get__(x, t)))
        except AttributeError:  # an unset slot
            pass
    return out


def is_term(x) -> bool:
    """True when `x` can be sent."""
    try:
        copy_term(x)
    except Unsendable:
        return False
    return True


# ----------------------------------------------------------------------
# errors: where the non-term sits, and what to do instead

_FILE = "keep the file in one process and send its contents or path"
_HINTS = {
    "generator": "send the values (list(gen)) instead of the generator",
    "socket": "keep the socket in one process and send it the data to write",
    "lock": "processes share no memory; coordinate through messages instead of locks",
    "TextIOWrapper": _FILE,
    "BufferedReader": _FILE,
    "BufferedWriter": _FILE,
    "methodcaller": "send a function (def or lambda) that makes the call instead",
    "attrgetter": "send a function (def or lambda) that reads the attribute instead",
    "itemgetter": "send a function (def or lambda) that reads the item instead",
    "_lru_cache_wrapper": "its cache would be shared; send the undecorated function",
}
_SYNC = frozenset({"threading", "_thread", "multiprocessing", "asyncio", "concurrent", "queue"})
_OTHERWISE = (
    "messages may hold None, bool, int, float, complex, str, bytes, bytearray, tuple, list, "
    "dict, set, frozenset, range, Atom, Pid, Ref, Crash, datetime values, Decimal, Fraction, "
    "UUID, enum members, collections' deque/OrderedDict/defaultdict/Counter, NamedTuples, "
    "dataclasses, classes registered with vm.register_term_type, and functions (a closure "
    "travels with copies of what it captures); convert it to one of those"
)


def _unsendable_error(root) -> Unsendable:
    path, bad, why = _find_non_term(root, "msg") or ("msg", root, None)
    tname = type(bad).__qualname__
    hint = why or _HINTS.get(type(bad).__name__)
    if hint is None:
        if "lock" in tname.lower() or type(bad).__module__.partition(".")[0] in _SYNC:
            hint = _HINTS["lock"]
        elif isinstance(bad, BaseException):
            hint = ("an exception is not a term; send vm.Crash.from_exception(e), or a tuple "
                    "such as (type(e).__name__, str(e))")
        elif type(bad).__flags__ & _HEAPTYPE and _plain_layout(type(bad)):
            hint = (
                "instances of your own classes travel once registered: "
                f"vm.register_term_type({type(bad).__qualname__}) copies them attribute by "
                "attribute (or make it a dataclass, or send a tuple or dict of its data)"
            )
        else:
            hint = _OTHERWISE
    return Unsendable(
        f"cannot send a {tname} (at {path}): it is not a term; {hint}",
        path,
        tname,
    )


def _parts(x, t, path):
    """(path, value) for the values inside a container term (slow path, errors only)."""
    if t is dict or t in (collections.OrderedDict, collections.defaultdict,
                          collections.Counter):
        for k, v in x.items():
            yield f"{path} key {k!r}", k
            yield f"{path}[{k!r}]", v
        if t is collections.defaultdict:
            yield f"{path}.default_factory", x.default_factory
    elif t in (tuple, list, collections.deque) or _COPIERS.get(t) in (
            _namedtuple, _namedtuple_with_dict):
        for i, e in enumerate(x):
            yield f"{path}[{i}]", e
    elif t in (set, frozenset):
        for e in x:
            yield f"{path} element {e!r:.40}", e
    elif t is functools.partial:
        yield f"{path}.func", x.func
        for i, a in enumerate(x.args):
            yield f"{path}.args[{i}]", a
        for k, v in x.keywords.items():
            yield f"{path}.keywords[{k!r}]", v
    elif _COPIERS.get(t) not in (None, _refuse, _share) and (
            hasattr(t, "__dataclass_fields__") or t in _REGISTERED):
        for name, v in _state(x):
            yield f"{path}.{name}", v


def _find_non_term(x, path):
    """(path, value, why) of the first value inside `x` that is not a term, or None."""
    t = type(x)
    for p, v in _parts(x, t, path):
        found = _find_non_term(v, p)
        if found is not None:
            return found
    try:
        _copy(x, t)
    except _NotATerm as e:
        return (path, x, e.why)
    return None


# ----------------------------------------------------------------------
# the compiled build

if COMPILED:
    # This module's functions (register_term_type, copy_term) are compiled
    # functions: code, shared like a module's functions.
    _COPIERS[type(copy_term)] = _BASE_COPIERS[type(copy_term)] = _share

# Replace this module's names with those of its compiled twin `vm._heap_c`
# when it was built from this very source (see vm/_compiled.py).
if __name__ == "vm._heap":
    from ._compiled import load_compiled

    load_compiled(globals())
