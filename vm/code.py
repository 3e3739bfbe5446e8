"""The code loader: compiling reduction checks into plain Python.

What this module owns: making a `while True: n += 1` in a process give way
to other processes, without the user changing a line. Trace hooks cannot do
it on CPython 3.11 (switching greenlets inside a trace callback leaves
tracing off); so, as the BEAM compiler does, we compile the checks into the
code itself, by rewriting the AST:

1. **Loop back-edges.** At the head of every `for` and `while` body:

       _bl_n -= 1
       if _bl_n < 0:
           _bl_n = __bl_loop__()

   `_bl_n` is a local countdown set at function entry; only every
   `CHARGE` iterations does the loop call `__bl_loop__()`, which charges
   that many reductions to the running process and preempts it when its
   slice is spent. Local variables are the cheapest thing CPython has, so a
   tight loop pays two fast instructions per iteration (measured: 1.1-1.5x).
   On a real clock the count between checks adapts: when iterations are
   slow (a millisecond-long C call each), it drops to one, so the slice can
   end on time whenever another process is ready (see `_timed_check`).

2. **Function entries** (of functions that call anything, since only
   calls can recurse):

       try:
           __bl_step__()
       except StopIteration:
           __bl_call__()

   `__bl_step__` is the `__next__` of an `itertools.repeat(None, CHARGE)`:
   a C call that raises StopIteration every CHARGE-th time; try blocks are
   free in 3.11, so the common path is one C call (measured: about 1.8x on
   a tiny recursive `fib`, much less on real functions).

3. **Comprehensions and generator expressions**: their outermost iterable is
   wrapped in `__bl_iter__(...)`, a generator that counts items the same way
   (they are separate code objects with loops the AST cannot reach).

The three names live in `builtins`, so instrumented code needs nothing in
its module. Each charge is CHARGE reductions to whichever process is running
(approximate per process, exact over a slice; deterministic under a seed).
Outside any process they do nothing.

Where the checks come from:

- `compile_source(source, filename)`: what `beamlet run FILE` uses;
- `instrument_imports("pkg", ...)`: an import hook; modules under those
  names are compiled with checks when imported (never cached as .pyc);
- `instrument_module(module)`: in place, for modules imported before the
  node started: the module's source is recompiled with checks and each of
  its functions gets the new `__code__` (same object, globals, closure and
  defaults). The scheduler does this automatically for the module of every
  function it spawns (`ensure_instrumented`), except Python's standard
  library and beamlet's own runtime.

What it refuses: C code. A C extension, `time.sleep`, a blocking socket
read cannot carry checks: send them to the dirty pool (`vm.to_thread`).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import importlib.abc
import importlib.machinery
import itertools
import logging
import os
import sys
import sysconfig
import types

from ._core import CHARGE, install_checks

__all__ = [
    "CHARGE",
    "compile_source",
    "ensure_instrumented",
    "instrument_imports",
    "instrument_module",
    "is_instrumented",
]

log = logging.getLogger("beamlet.code")

_COUNTDOWN = "_bl_n"
_LOOP = "__bl_loop__"
_STEP = "__bl_step__"
_GRANT = "__bl_grant__"
_CALL = "__bl_call__"
_ITER = "__bl_iter__"
_MARK = "__beamlet_instrumented__"


# The runtime side of the checks (the functions they call, each process's
# grant of iterations between two checks, the timed end of a slice) is in
# vm._core, with the other hot primitives.
install_checks()


# ----------------------------------------------------------------------
# the AST rewrite


def _loop_check_stmts(lineno: int) -> list[ast.stmt]:
    node = ast.parse(
        f"{_COUNTDOWN} -= 1\nif {_COUNTDOWN} < 0:\n    {_COUNTDOWN} = {_LOOP}()\n"
    ).body
    for n in node:
        for sub in ast.walk(n):
            _locate(sub, lineno)
    return node


def _locate(node: ast.AST, lineno: int) -> None:
    """Give a generated node the line of the code it checks."""
    node.lineno = node.end_lineno = lineno  # type: ignore[attr-defined]
    node.col_offset = node.end_col_offset = 0  # type: ignore[attr-defined]


def _entry_stmts(lineno, has_loops, has_calls):
    lines = []
    if has_calls:
        lines.append(f"try:\n    {_STEP}()\nexcept StopIteration:\n    {_CALL}()")
    if has_loops:
        lines.append(f"{_COUNTDOWN} = {_GRANT}")
    body = ast.parse("\n".join(lines)).body if lines else []
    for n in body:
        for sub in ast.walk(n):
            _locate(sub, lineno)
    return body


class _Scan(ast.NodeVisitor):
    """Does a function body (not counting nested functions) loop or call?"""

    def __init__(self):
        self.loops = False
        self.calls = False

    def visit_For(self, node):
        self.loops = True
        self.generic_visit(node)

    visit_AsyncFor = visit_While = visit_For

    def visit_Call(self, node):
        self.calls = True
        self.generic_visit(node)

    def visit_FunctionDef(self, node):
        pass  # nested functions are scanned on their own

    visit_AsyncFunctionDef = visit_Lambda = visit_ClassDef = visit_FunctionDef


class Instrumenter(ast.NodeTransformer):
    """Adds reduction checks to every function, loop and comprehension."""

    def _function(self, node):
        self.generic_visit(node)
        scan = _Scan()
        for stmt in node.body:
            scan.visit(stmt)
        body = node.body
        start = 1 if (body and isinstance(body[0], ast.Expr)
                      and isinstance(getattr(body[0], "value", None), ast.Constant)
                      and isinstance(body[0].value.value, str)) else 0  # type: ignore[attr-defined]
        node.body = body[:start] + _entry_stmts(node.lineno, scan.loops, scan.calls) + body[start:]
        if not node.body:
            node.body = [ast.Pass(lineno=node.lineno, col_offset=0)]
        return node

    visit_FunctionDef = visit_AsyncFunctionDef = _function

    def _loop(self, node):
        self.generic_visit(node)
        node.body = _loop_check_stmts(node.lineno) + node.body
        return node

    def visit_For(self, node):
        if self._inside_function:
            return self._loop(node)
        self.generic_visit(node)
        return node

    visit_While = visit_AsyncFor = visit_For

    def _comprehension(self, node):
        self.generic_visit(node)
        first = node.generators[0]
        if not first.is_async:
            first.iter = ast.Call(
                func=ast.Name(id=_ITER, ctx=ast.Load()), args=[first.iter], keywords=[]
            )
        return node

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension

    # Module-level loops run at import time, outside any process: leave them.
    _depth = 0

    @property
    def _inside_function(self):
        return self._depth > 0

    def visit(self, node):
        if isinstance(node, ast.ClassDef):  # a class body has no function locals
            saved, self._depth = self._depth, 0
            try:
                return super().visit(node)
            finally:
                self._depth = saved
        is_fn = isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda))
        if is_fn:
            self._depth += 1
        try:
            return super().visit(node)
        finally:
            if is_fn:
                self._depth -= 1


def instrument_tree(tree: ast.AST) -> ast.AST:
    tree = Instrumenter().visit(tree)
    return ast.fix_missing_locations(tree)


def compile_source(source, filename: str, mode: str = "exec"):
    """Compile `source` with reduction checks."""
    tree = ast.parse(source, filename, mode)
    checked = instrument_tree(tree)
    return compile(checked, filename, mode, dont_inherit=True)  # type: ignore[call-overload]


# ----------------------------------------------------------------------
# in-place instrumentation of an imported module


def _code_index(code, index=None):
    if index is None:
        index = {}
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            index.setdefault((const.co_qualname, const.co_firstlineno), const)
            _code_index(const, index)
    return index


def _functions_of(module):
    """Every function object reachable from a module's globals and its classes."""
    seen = set()
    name = module.__name__
    stack = list(vars(module).values())
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, types.FunctionType):
            if obj.__module__ == name:
                yield obj
                wrapped = getattr(obj, "__wrapped__", None)
                if wrapped is not None:
                    stack.append(wrapped)
                for cell in obj.__closure__ or ():
                    with contextlib.suppress(ValueError):  # an empty cell
                        stack.append(cell.cell_contents)
        elif isinstance(obj, (staticmethod, classmethod)):
            stack.append(obj.__func__)
        elif isinstance(obj, property):
            stack.extend(f for f in (obj.fget, obj.fset, obj.fdel) if f is not None)
        elif isinstance(obj, type) and obj.__module__ == name:
            stack.extend(vars(obj).values())


_compiled: dict = {}  # source path -> (mtime, {(qualname, firstlineno): checked code})


def _checked_index(path):
    mtime = os.stat(path).st_mtime_ns
    cached = _compiled.get(path)
    if cached is not None and cached[0] == mtime:
        return cached[1]
    with open(path, "rb") as f:
        index = _code_index(compile_source(f.read(), path))
    _compiled[path] = (mtime, index)
    return index


def instrument_module(module) -> bool:
    """Recompile `module`'s functions with reduction checks, in place.

    Every function object the module holds now gets checked code (same
    object, globals, closure and defaults). Functions the module defines
    later (its body still running) are covered the next time this is called:
    each new node calls it again for the modules it spawns from. Returns
    False if the module has no Python source to compile.
    """
    if getattr(module, _MARK, False):
        return True  # compiled with checks by the import hook
    path = getattr(module, "__file__", None)
    if not path or not path.endswith(".py") or not os.path.exists(path):
        return False
    try:
        index = _checked_index(path)
    except (OSError, SyntaxError, ValueError) as e:
        log.debug("cannot instrument %s: %s", module.__name__, e)
        return False
    replaced = 0
    for fn in _functions_of(module):
        old = fn.__code__
        if old.co_filename != path or _is_checked(old):
            continue
        new = index.get((old.co_qualname, old.co_firstlineno))
        if new is None or new.co_freevars != old.co_freevars:
            continue  # the source changed since import, or a shape we cannot swap
        fn.__code__ = new
        replaced += 1
    if replaced:
        log.debug("instrumented %s in place (%d functions)", module.__name__, replaced)
    return True


def forget_decisions() -> None:
    """Called when a node starts: rescan modules on their next spawn, and restart
    the call-check countdown so a seeded run switches at the same points."""
    _decided.clear()
    _decided[None] = False
    decided_codes.clear()
    builtins.__bl_step__ = itertools.repeat(None, CHARGE).__next__  # type: ignore[attr-defined]


def _is_checked(code) -> bool:
    names = code.co_names
    return _STEP in names or _LOOP in names or _ITER in names


def is_instrumented(fn) -> bool:
    """True when the function's code carries reduction checks (or needs none)."""
    code = getattr(fn, "__code__", None)
    return code is not None and _is_checked(code)


# Modules never instrumented automatically: Python's own library and
# beamlet's runtime (which yields through VM calls, not through checks).
_STDLIB_DIRS = tuple(
    os.path.realpath(p) + os.sep
    for p in {sysconfig.get_paths().get("stdlib"), sysconfig.get_paths().get("platstdlib")}
    if p
)
_RUNTIME_PREFIXES = ("vm", "stdlib", "greenlet", "msgpack", "click", "_pytest", "pytest",
                     "pluggy", "hypothesis")
_decided: dict = {None: False}  # module name -> instrumented? (decided once per node)
# Code objects of spawned functions already looked at: the scheduler's fast test.
decided_codes: set = set()


def ensure_instrumented(obj) -> None:
    """Instrument the module that defines `obj` (a function or class), once, and
    `obj` itself if it is a function the module scan could not reach (a closure
    made before its module was instrumented).

    Called by the scheduler for spawned functions whose code it has not seen:
    one set lookup per spawn after the first.
    """
    code = getattr(obj, "__code__", None)
    if code is not None:
        decided_codes.add(code)
    modname = getattr(obj, "__module__", None)
    if modname is None:
        return
    done = _decided.get(modname)
    if done is None:
        _decided[modname] = done = _instrumentable(modname) and instrument_module(
            sys.modules[modname])
    if done and code is not None and not _is_checked(code) and isinstance(obj, types.FunctionType):
        module = sys.modules.get(modname)
        path = getattr(module, "__file__", None)
        if path and code.co_filename == path:
            try:
                new = _checked_index(path).get((code.co_qualname, code.co_firstlineno))
            except (OSError, SyntaxError, ValueError):
                new = None
            if new is not None and new.co_freevars == code.co_freevars:
                obj.__code__ = new
                decided_codes.add(new)


def _instrumentable(modname) -> bool:
    module = sys.modules.get(modname)
    if module is None or modname.split(".")[0] in _RUNTIME_PREFIXES:
        return False
    path = os.path.realpath(getattr(module, "__file__", "") or "")
    return bool(path) and not path.startswith(_STDLIB_DIRS) and (
        "site-packages" + os.sep + "greenlet" not in path)


# ----------------------------------------------------------------------
# the import hook


class CheckedLoader(importlib.machinery.SourceFileLoader):
    """Loads a source module compiled with checks; never reads or writes .pyc."""

    def get_code(self, fullname):
        path = self.get_filename(fullname)
        return compile_source(self.get_data(path), path)

    def exec_module(self, module):
        super().exec_module(module)
        setattr(module, _MARK, True)
        _decided[module.__name__] = True


class _CheckedFinder(importlib.abc.MetaPathFinder):
    def __init__(self):
        self.prefixes: set = set()

    def wants(self, fullname):
        return any(fullname == p or fullname.startswith(p + ".") for p in self.prefixes)

    def find_spec(self, fullname, path=None, target=None):
        if not self.wants(fullname):
            return None
        spec = importlib.machinery.PathFinder.find_spec(fullname, path)
        if spec is None or not isinstance(spec.loader, importlib.machinery.SourceFileLoader):
            return spec
        spec.loader = CheckedLoader(fullname, str(spec.origin))  # a source file: has one
        return spec


_finder = _CheckedFinder()


def instrument_imports(*names: str) -> None:
    """Compile the named modules and packages with reduction checks when they are
    imported from now on; already-imported ones are instrumented in place."""
    for name in names:
        if not isinstance(name, str) or not name:
            from .errors import BadArg, show

            raise BadArg(f"instrument_imports takes module names, not {show(name)}")
    _finder.prefixes.update(names)
    if _finder not in sys.meta_path:
        sys.meta_path.insert(0, _finder)
    for modname, module in list(sys.modules.items()):
        if module is not None and _finder.wants(modname):
            instrument_module(module)
