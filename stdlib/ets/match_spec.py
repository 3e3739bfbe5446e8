"""Match specifications: OTP's little query language, compiled to Python.

What this module owns: turning a match specification into one Python
function, once, and running it over objects.

A match specification is a list of clauses `(head, guards, body)`, as in
OTP (`[{Head, Guards, Body}]`), written with Python values:

    [(("$1", "_", "$2"), [(">", "$2", 10)], [("$1", )])]   # wrong: a call to "$1"
    [(("$1", "_", "$2"), [(">", "$2", 10)], ["$1"])]       # keys whose 3rd element > 10
    [(("$1", "_", "$2"), [], [(("$2", "$1"),)])]           # build a tuple: wrap it once more

- The **head** is a pattern: `"$1"`, `"$2"`, ... bind (a variable met
  twice must match the same term both times), `"_"` matches anything,
  tuples, lists and dicts match structurally, anything else matches itself
  exactly (`=:=`: `1` does not match `1.0`, `True` does not match `1`).
- Each **guard** is an expression that must evaluate to `True`; a guard
  that raises (an `element` out of range, arithmetic on a string) is false.
- The **body** is a list of expressions; the clause's result is the last
  one's value. `"$_"` is the whole object, `"$$"` the list of the bound
  variables in number order. A body that raises gives the atom `'EXIT'`,
  as in OTP.

Expressions are OTP's: a variable, a constant (a tuple constant is written
`("const", t)`), a tuple to build written as a 1-tuple holding it
(`(("$1", "$2"),)` is OTP's `{{'$1','$2'}}`), a list or dict of
expressions, or a call `(name, arg, ...)` of one of

    boolean     and or xor not andalso orelse
    compare     == /= =:= =/= < =< > >=  (and Python's spellings <= != )
    arithmetic  + - * / div rem abs band bor bxor bnot bsl bsr
    type tests  is_atom is_binary is_boolean is_float is_function is_integer
                is_list is_map is_map_key is_number is_pid is_port is_reference is_tuple
    terms       element hd tl length size tuple_size map_get map_size byte_size
                float round trunc min max node self

Comparisons use Erlang's term order (`stdlib.ets.keys`). `element(N, T)`
counts from 1, as everywhere in this Erlang-language corner (ETS's own
positions, `keypos` and friends, count from 0 like Python's tuples).

Compiling generates Python source for the whole specification and compiles
it with `compile()` (constants are passed by reference, never pasted as
text), so a clause costs a few type tests and comparisons per object. The
compiled form is cached by the specification's value, so calling
`ets.select` again with an equal specification does not compile it again.

A Python **predicate** (any callable) may stand in for a specification:
it is called with a copy of each object and selects the object when it
returns a true value. What that costs, against a specification: a Python
call per object (a specification runs inline in one generated function),
a copy of each object that holds lists or dicts (a specification reads the
stored object), and always a full scan (a specification whose heads all
bind the key to a constant looks the keys up instead).

What it refuses: the tracing-only body functions (`message`,
`return_trace`, ...), `is_record`, and patterns over binaries or list
tails (`[H | T]`), which Python values cannot spell.
"""

from __future__ import annotations

import re

import vm
from vm import Atom, BadArg, Crash, Pid, Ref
from vm.lowlevel import copy_term

from . import keys as _keys

__all__ = ["MatchSpec", "compile_spec", "for_pattern", "is_literal", "NO_MATCH", "EXIT_RESULT"]

NO_MATCH = object()  # what a compiled specification returns for an object it does not select
EXIT_RESULT = Atom("EXIT")
_VAR = re.compile(r"\$(\d+)\Z")
_TUPLES = frozenset({tuple, Crash})
_NUMBERS = (int, float)


class MatchSpec:
    """A compiled match specification (or a wrapped predicate).

    `run(obj)` returns the clause result or `NO_MATCH`; `test(obj)` says
    whether the result is `True` (what `select_count` and `select_delete`
    count). `keys(keypos)` lists the constant keys every head binds, or
    None when a scan is needed. `source` is what was compiled.
    """

    __slots__ = ("source", "run", "test", "_bound_keys", "is_predicate")

    def __init__(self, source, run, test, bound_keys, is_predicate=False):
        self.source = source
        self.run = run
        self.test = test
        self._bound_keys = bound_keys
        self.is_predicate = is_predicate

    def keys(self, keypos):
        bound = self._bound_keys
        if bound is None:
            return None
        out = []
        seen = set()
        for head in bound:
            if type(head) not in _TUPLES or len(head) <= keypos or not is_literal(head[keypos]):
                return None
            k = head[keypos]
            ek = _keys.exact(k)
            if ek not in seen:
                seen.add(ek)
                out.append(k)
        return out

    def __repr__(self):
        return f"<MatchSpec {self.source!r}>"


# ----------------------------------------------------------------------
# the cache

_CACHE: dict = {}
_CACHE_LIMIT = 512


def compile_spec(spec, what="select") -> MatchSpec:
    """Compile a match specification (list of clauses) or wrap a predicate."""
    if type(spec) is MatchSpec:
        return spec
    if callable(spec):
        return _predicate(spec)
    if type(spec) is not list:
        raise BadArg(
            f"ets.{what}: a match specification is a list of (head, guards, body) clauses "
            f"or a callable predicate, not {type(spec).__name__} ({spec!r})"
        )
    try:
        key = _keys.exact(spec)
        cached = _CACHE.get(key)
    except TypeError:
        key = cached = None
    if cached is not None:
        return cached
    ms = _Compiler(what).compile(spec)
    if key is not None:
        if len(_CACHE) >= _CACHE_LIMIT:
            _CACHE.clear()
        _CACHE[key] = ms
    return ms


def for_pattern(pattern, result, what="match") -> MatchSpec:
    """The specification of `ets.match` ("$$") or `ets.match_object` ("$_")."""
    return compile_spec([(pattern, [], [result])], what)


def _predicate(fn) -> MatchSpec:
    def run(obj):
        c = copy_term(obj)
        return c if fn(c) else NO_MATCH

    def test(obj):
        return bool(fn(copy_term(obj)))

    return MatchSpec(fn, run, test, None, is_predicate=True)


def is_literal(term) -> bool:
    """Does `term`, used as a pattern, match exactly itself and nothing else?
    Not if it holds "_" or a "$..." string anywhere, nor a dict (a dict
    pattern matches every dict that has at least its keys)."""
    t = type(term)
    if t is str or t is Atom:
        return term != "_" and not term.startswith("$")
    if t in _TUPLES or t is list:
        return all(is_literal(e) for e in term)
    return t is not dict


# ----------------------------------------------------------------------
# runtime helpers the generated code calls


def _truth(x):
    if x is True:
        return True
    if x is False:
        return False
    raise TypeError("not a boolean")


def _num(x):
    if type(x) is int or type(x) is float:
        return x
    raise TypeError("not a number")


def _int(x):
    if type(x) is int:
        return x
    raise TypeError("not an integer")


def _element(n, t):
    if type(n) is not int or type(t) not in _TUPLES or not 1 <= n <= len(t):
        raise IndexError("element out of range")
    return t[n - 1]


def _hd(x):
    if type(x) is not list or not x:
        raise TypeError("hd of a non-list")
    return x[0]


def _tl(x):
    if type(x) is not list or not x:
        raise TypeError("tl of a non-list")
    return x[1:]


def _length(x):
    if type(x) is not list:
        raise TypeError("length of a non-list")
    return len(x)


def _size(x):
    if type(x) in _TUPLES or type(x) is bytes:
        return len(x)
    raise TypeError("size of a non-tuple")


def _tuple_size(x):
    if type(x) in _TUPLES:
        return len(x)
    raise TypeError("tuple_size of a non-tuple")


def _map_size(x):
    if type(x) is dict:
        return len(x)
    raise TypeError("map_size of a non-map")


def _map_get(k, m):
    if type(m) is not dict:
        raise TypeError("map_get on a non-map")
    return m[k]


def _is_map_key(k, m):
    if type(m) is not dict:
        raise TypeError("is_map_key on a non-map")
    return k in m


def _byte_size(x):
    if type(x) is bytes:
        return len(x)
    raise TypeError("byte_size of a non-binary")


def _div(a, b):
    a, b = _int(a), _int(b)
    q = abs(a) // abs(b)  # Erlang's div truncates toward zero
    return q if (a >= 0) == (b >= 0) else -q


def _rem(a, b):
    a, b = _int(a), _int(b)
    return a - _div(a, b) * b


def _fdiv(a, b):
    return _num(a) / _num(b)


def _round(x):
    x = _num(x)
    return int(x + 0.5) if x >= 0 else -int(-x + 0.5)  # Erlang rounds half away from zero


def _min(a, b):
    return b if _keys.less(b, a) else a


def _max(a, b):
    return b if _keys.less(a, b) else a


def _node(*args):
    if args:
        x = args[0]
        if type(x) is Pid or type(x) is Ref:
            return Atom(x.node)
        raise TypeError("node of a non-pid")
    return Atom(vm.node_name())


def _is_atom(x):
    return isinstance(x, str) or x is True or x is False or x is None


def _is_function(x, arity=None):
    return callable(x) and not isinstance(x, (str, bytes, tuple, list, dict, Pid, Ref))


_RUNTIME = {
    "_truth": _truth, "_num": _num, "_int": _int, "_element": _element, "_hd": _hd, "_tl": _tl,
    "_length": _length, "_size": _size, "_tuple_size": _tuple_size, "_map_size": _map_size,
    "_map_get": _map_get, "_is_map_key": _is_map_key, "_byte_size": _byte_size, "_div": _div,
    "_rem": _rem, "_fdiv": _fdiv, "_round": _round, "_min": _min, "_max": _max,
    "_node": _node, "_is_atom": _is_atom, "_is_function": _is_function,
    "_eq": _keys.equal, "_xeq": _keys.exact_equal, "_lt": _keys.less, "_self": vm.self,
    "_copy": copy_term, "_TUPLES": _TUPLES, "_EXIT": EXIT_RESULT, "_NO": NO_MATCH,
    "_Pid": Pid, "_Ref": Ref,
}

# name -> (arities, Python expression template over the compiled arguments a, b)
_CALLS = {
    "and": ((2,), "(_truth({a}) & _truth({b}))"),
    "or": ((2,), "(_truth({a}) | _truth({b}))"),
    "xor": ((2,), "(_truth({a}) ^ _truth({b}))"),
    "not": ((1,), "(not _truth({a}))"),
    "andalso": ((2,), "(_truth({b}) if _truth({a}) else False)"),
    "orelse": ((2,), "(True if _truth({a}) else _truth({b}))"),
    "==": ((2,), "_eq({a}, {b})"),
    "/=": ((2,), "(not _eq({a}, {b}))"),
    "=:=": ((2,), "_xeq({a}, {b})"),
    "=/=": ((2,), "(not _xeq({a}, {b}))"),
    "<": ((2,), "_lt({a}, {b})"),
    ">": ((2,), "_lt({b}, {a})"),
    "=<": ((2,), "(not _lt({b}, {a}))"),
    ">=": ((2,), "(not _lt({a}, {b}))"),
    "+": ((1, 2), "(_num({a}) + _num({b}))"),
    "-": ((1, 2), "(_num({a}) - _num({b}))"),
    "*": ((2,), "(_num({a}) * _num({b}))"),
    "/": ((2,), "_fdiv({a}, {b})"),
    "div": ((2,), "_div({a}, {b})"),
    "rem": ((2,), "_rem({a}, {b})"),
    "abs": ((1,), "abs(_num({a}))"),
    "band": ((2,), "(_int({a}) & _int({b}))"),
    "bor": ((2,), "(_int({a}) | _int({b}))"),
    "bxor": ((2,), "(_int({a}) ^ _int({b}))"),
    "bnot": ((1,), "(~_int({a}))"),
    "bsl": ((2,), "(_int({a}) << _int({b}))"),
    "bsr": ((2,), "(_int({a}) >> _int({b}))"),
    "is_atom": ((1,), "_is_atom({a})"),
    "is_binary": ((1,), "(type({a}) is bytes)"),
    "is_boolean": ((1,), "(({a}) is True or ({a}) is False)"),
    "is_float": ((1,), "(type({a}) is float)"),
    "is_function": ((1, 2), "_is_function({a})"),
    "is_integer": ((1,), "(type({a}) is int)"),
    "is_list": ((1,), "(type({a}) is list)"),
    "is_map": ((1,), "(type({a}) is dict)"),
    "is_map_key": ((2,), "_is_map_key({a}, {b})"),
    "is_number": ((1,), "(type({a}) is int or type({a}) is float)"),
    "is_pid": ((1,), "(type({a}) is _Pid)"),
    "is_port": ((1,), "False"),
    "is_reference": ((1,), "(type({a}) is _Ref)"),
    "is_tuple": ((1,), "(type({a}) in _TUPLES)"),
    "element": ((2,), "_element({a}, {b})"),
    "hd": ((1,), "_hd({a})"),
    "tl": ((1,), "_tl({a})"),
    "length": ((1,), "_length({a})"),
    "size": ((1,), "_size({a})"),
    "tuple_size": ((1,), "_tuple_size({a})"),
    "map_size": ((1,), "_map_size({a})"),
    "map_get": ((2,), "_map_get({a}, {b})"),
    "byte_size": ((1,), "_byte_size({a})"),
    "float": ((1,), "float(_num({a}))"),
    "round": ((1,), "_round({a})"),
    "trunc": ((1,), "int(_num({a}))"),
    "min": ((2,), "_min({a}, {b})"),
    "max": ((2,), "_max({a}, {b})"),
    "node": ((0, 1), "_node({a})"),
    "self": ((0,), "_self()"),
}
_ALIASES = {"<=": "=<", "!=": "/="}
_UNARY = {"+": "(+_num({a}))", "-": "(-_num({a}))"}


# ----------------------------------------------------------------------
# the compiler


class _Compiler:
    def __init__(self, what):
        self.what = what
        self.lines: list[str] = []
        self.consts: dict = {}
        self.temps = 0

    def fail(self, why):
        raise BadArg(f"ets.{self.what}: bad match specification: {why}")

    def const(self, value) -> str:
        name = f"_k{len(self.consts)}"
        self.consts[name] = value
        return name

    def emit(self, line, depth=1):
        self.lines.append("    " * depth + line)

    def compile(self, spec) -> MatchSpec:
        heads = []
        self.emit("def _run(o):", 0)
        for clause in spec:
            if type(clause) is not tuple or len(clause) != 3:
                self.fail(f"each clause is a (head, guards, body) tuple, not {clause!r}")
            head, guards, body = clause
            if type(guards) is not list or type(body) is not list:
                self.fail(f"guards and body must be lists in {clause!r}")
            if not body:
                self.fail(f"the body of {clause!r} is empty; it needs at least one expression")
            heads.append(head)
            self._clause(head, guards, body)
        self.emit("return _NO")
        source = "\n".join(self.lines)
        namespace = dict(_RUNTIME)
        namespace.update(self.consts)
        exec(compile(source, f"<match spec for ets.{self.what}>", "exec"), namespace)
        run = namespace["_run"]

        def test(obj, _run=run):
            return _run(obj) is True

        return MatchSpec(spec, run, test, heads)

    def _clause(self, head, guards, body):
        self.bound: dict[int, str] = {}
        self.emit("while True:")
        self._pattern(head, "o", 2)
        if guards:
            conds = " and ".join(f"({self._expr(g)}) is True" for g in guards)
            self.emit("try:", 2)
            self.emit(f"if not ({conds}): break", 3)
            self.emit("except Exception:", 2)
            self.emit("break", 3)
        exprs = [self._expr(e) for e in body]
        result = exprs[0] if len(exprs) == 1 else f"({', '.join(exprs)},)[-1]"
        self.emit("try:", 2)
        self.emit(f"return {result}", 3)
        self.emit("except Exception:", 2)
        self.emit("return _EXIT", 3)

    # -------------------------------------------------------------- heads

    def _temp(self) -> str:
        self.temps += 1
        return f"t{self.temps}"

    def _pattern(self, pat, src, d):
        t = type(pat)
        if t is str or t is Atom:
            if pat == "_":
                return
            m = _VAR.match(pat)
            if m:
                n = int(m.group(1))
                if n in self.bound:
                    self.emit(f"if not _xeq({self.bound[n]}, {src}): break", d)
                else:
                    var = f"v{n}"
                    self.emit(f"{var} = {src}", d)
                    self.bound[n] = var
                return
            if pat in ("$_", "$$"):
                self.fail(f"{pat!r} may appear in guards and bodies, not in a head")
            self.emit(f"if not isinstance({src}, str) or {src} != {self.const(pat)}: break", d)
            return
        if t in _TUPLES or t is list:
            tmp = self._temp()
            self.emit(f"{tmp} = {src}", d)
            check = "type({0}) not in _TUPLES" if t in _TUPLES else "type({0}) is not list"
            self.emit(f"if {check.format(tmp)} or len({tmp}) != {len(pat)}: break", d)
            for i, e in enumerate(pat):
                self._pattern(e, f"{tmp}[{i}]", d)
            return
        if t is dict:
            tmp = self._temp()
            self.emit(f"{tmp} = {src}", d)
            self.emit(f"if type({tmp}) is not dict: break", d)
            for k, v in pat.items():
                if not is_literal(k):
                    self.fail(f"a dict key in a head must be a constant, not {k!r}")
                kc = self.const(k)
                self.emit(f"if {kc} not in {tmp}: break", d)
                self._pattern(v, f"{tmp}[{kc}]", d)
            return
        c = self.const(pat)
        if t is int:
            self.emit(f"if type({src}) is not int or {src} != {c}: break", d)
        elif t is float:
            self.emit(f"if type({src}) is not float or {src} != {c}: break", d)
        elif t is bytes:
            self.emit(f"if type({src}) is not bytes or {src} != {c}: break", d)
        elif t is Pid or t is Ref:
            self.emit(f"if {src} != {c}: break", d)
        else:  # True, False, None, functions, classes
            self.emit(f"if {src} is not {c}: break", d)

    # -------------------------------------------------------------- expressions

    def _expr(self, e) -> str:
        t = type(e)
        if t is str or t is Atom:
            if e == "$_":
                return "o"
            if e == "$$":
                return "[" + ", ".join(self.bound[n] for n in sorted(self.bound)) + "]"
            m = _VAR.match(e)
            if m:
                n = int(m.group(1))
                if n not in self.bound:
                    self.fail(f"the variable {e!r} is used but not bound in the head")
                return self.bound[n]
            return self.const(e)
        if t is list:
            return "[" + ", ".join(self._expr(x) for x in e) + "]"
        if t is dict:
            return "{" + ", ".join(f"{self._expr(k)}: {self._expr(v)}"
                                   for k, v in e.items()) + "}"
        if t in _TUPLES:
            return self._call(e)
        return self.const(e)

    def _call(self, e) -> str:
        if len(e) == 1 and type(e[0]) in _TUPLES:
            inner = e[0]
            return "(" + "".join(f"{self._expr(x)}, " for x in inner) + ")"
        if not e or not isinstance(e[0], str):
            self.fail(f"{e!r} is neither a call (name, args...) nor a tuple to build; "
                      f"to build a tuple, wrap it once more: ({e!r},)")
        name = _ALIASES.get(e[0], e[0])
        args = e[1:]
        if name == "const":
            if len(args) != 1:
                self.fail(f"const takes one term, not {e!r}")
            c = self.const(args[0])
            return f"_copy({c})"
        known = _CALLS.get(name)
        if known is None:
            self.fail(f"unknown function {e[0]!r} in {e!r}; to build a tuple, wrap it once "
                      f"more: ({e!r},)")
        arities, template = known
        if len(args) not in arities:
            self.fail(f"{name} takes {' or '.join(map(str, arities))} argument(s), "
                      f"not {len(args)}, in {e!r}")
        compiled = [self._expr(a) for a in args]
        if len(compiled) == 1 and name in _UNARY:
            template = _UNARY[name]
        if name == "node":
            return f"_node({compiled[0]})" if compiled else "_node()"
        return template.format(a=compiled[0] if compiled else "", b=compiled[1]
                               if len(compiled) > 1 else "")
