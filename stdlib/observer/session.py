"""The shell's own commands, as Erlang's shell has them: results, bindings,
history, loading code.

What this module owns: the commands that need a shell session (its
numbered results, its bindings, its history), registered with
`session=True`, so the shell binds each to itself:

    v(N)        the value of prompt N (v(-1): the previous one), as Erlang's v/1
    b()         the bindings: every name you defined, with its value
    f()         forget every binding; f("x") forget one (f(x) forgets the names
                bound to that value)
    h()         the history: each prompt's input and what it gave
    l(mod)      reload a module from its file, compiled with reduction checks
    c(file)     load a file as a module into the shell
    q()         leave; top() the live table; help() this list

Reloading (`l`) follows Python, not the BEAM, in one respect: there is no
second, "old" version of a module. The module's body runs again in the
same module object, so every call made through the module's globals (a
function calling another by name, a process whose loop calls itself by
name) uses the new code from its next call; a frame already running keeps
the code it started with. Classes are updated in place: the methods of
the new class are copied onto the old class object, so instances that
exist (a gen_server's callback object) use the new code from their next
callback. An object that captured a function itself (`f = mod.fn`, a
`functools.partial`, a thread) keeps the old one.

What it refuses: the REPL and the evaluator (shell.py, repl.py).
"""

from __future__ import annotations

import contextlib
import importlib
import os
import re
import sys
import types

import vm
from vm.lowlevel import compile_checked

from . import fmt
from .commands import command
from .views import Text

SECTION = "The shell"
HIDDEN_PREFIXES = ("_",)  # private names, the checks' countdown, IPython's _i1, _2, ...


@command("v(N) the value of prompt N (v(-1) the previous one)", section=SECTION,
         session=True)
def v(shell, n):
    """The value prompt N gave (Erlang's v/1); v(-1) is the previous prompt's."""
    if isinstance(n, bool) or not isinstance(n, int):
        raise vm.BadArg(f"v(N) takes a prompt number, not {n!r}")
    k = n if n > 0 else shell.count - 1 + n if n < 0 else None
    if k is None or k not in shell.inputs:
        raise vm.BadArg(f"v({n}): there is no prompt {k if k is not None else n} yet")
    if k not in shell.results:
        raise vm.BadArg(f"v({n}): prompt {k} gave no value (it failed, or was a statement)")
    return shell.results[k]


def user_names(shell) -> list:
    """The names the user bound (not the ones the shell provides)."""
    return [k for k in shell.ns if k not in shell.provided and not k.startswith(HIDDEN_PREFIXES)]


@command("b() the bindings: every name you defined, with its value", section=SECTION,
         session=True)
def b(shell):
    """Every binding you made at the prompt, with its value (cut)."""
    names = user_names(shell)
    if not names:
        return Text("no bindings")
    lines = []
    for k in names:
        val = shell.ns[k]
        lines.append(f"{k} = {_describe(val)}")
    return Text("\n".join(lines))


def _describe(val) -> str:
    if isinstance(val, types.ModuleType):
        return f"<module {val.__name__} from {getattr(val, '__file__', '?')}>"
    if isinstance(val, (types.FunctionType, type)):
        return f"<{'class' if isinstance(val, type) else 'function'} {val.__qualname__}>"
    try:
        return fmt.short(val)
    except Exception as e:  # noqa: BLE001 - a broken __repr__
        return f"<unprintable {type(val).__name__}: {e!r}>"


@command("f() forget every binding; f('x') forget x", section=SECTION, session=True)
def f(shell, *names):
    """Forget bindings: f() all of yours; f("x") one by name; f(x) every name bound
    to that value. Returns the names forgotten."""
    if not names:
        gone = user_names(shell)
    else:
        gone = []
        for n in names:
            if isinstance(n, str) and n.isidentifier() and n in shell.ns:
                found = [n]
            else:
                found = [k for k in user_names(shell) if shell.ns[k] is n]
            if not found:
                raise vm.BadArg(f"f: no binding named or bound to {n!r}; b() lists them")
            gone += found
    for k in gone:
        if k in shell.provided:
            raise vm.BadArg(f"f: {k!r} is one of the shell's own names, not a binding")
        shell.ns.pop(k, None)
    return gone


@command("h() the history: each prompt's input and its value", section=SECTION, session=True)
def h(shell, n=20):
    """The last `n` prompts: number, input, and the value it gave (Erlang's h/0)."""
    lines = []
    for k in sorted(shell.inputs)[-n:]:
        src = shell.inputs[k].strip().replace("\n", "\n" + " " * (len(str(k)) + 2))
        lines.append(f"{k}: {src}")
        if k in shell.results:
            lines.append(f"{' ' * len(str(k))}  -> {_describe(shell.results[k])}")
    return Text("\n".join(lines) if lines else "no history yet")


def _module_of(shell, mod):
    if isinstance(mod, types.ModuleType):
        return mod
    if isinstance(mod, str):
        found = shell.ns.get(mod)
        if isinstance(found, types.ModuleType):
            return found
        if mod in sys.modules:
            return sys.modules[mod]
        return importlib.import_module(mod)
    raise vm.BadArg(f"l: expected a module or its name, not {mod!r}")


def reload_module(module) -> types.ModuleType:
    """Run a module's file again in the same module object, compiled with
    reduction checks, and update its classes in place (see the module docstring)."""
    path = getattr(module, "__file__", None)
    if not path or not path.endswith(".py") or not os.path.exists(path):
        raise vm.BadArg(f"l: {module.__name__} has no Python source file to reload")
    with open(path, "rb") as fh:
        code = compile_checked(fh.read(), path, "exec", top_level_loops=False)
    old = dict(vars(module))
    exec(code, module.__dict__)
    for name, was in old.items():
        now = module.__dict__.get(name)
        if getattr(was, "__module__", None) != module.__name__ or was is now:
            continue
        if isinstance(was, type) and isinstance(now, type):
            _update_class(was, now)
            module.__dict__[name] = was  # one class object: isinstance keeps working
        elif _swap_code(was, now):
            module.__dict__[name] = was  # who captured the function gets the new code too
    return module


def _swap_code(old, new) -> bool:
    """Give function `old` the code of `new` (same object, so bound methods and
    references already taken run the new code from their next call)."""
    if not (isinstance(old, types.FunctionType) and isinstance(new, types.FunctionType)):
        return False
    if old.__code__.co_freevars != new.__code__.co_freevars:
        return False
    if new.__closure__ and any(c.cell_contents is not o.cell_contents
                               for c, o in zip(new.__closure__, old.__closure__, strict=True)
                               if not _is_class_cell(c)):
        return False
    old.__code__ = new.__code__
    old.__defaults__ = new.__defaults__
    old.__kwdefaults__ = new.__kwdefaults__
    old.__doc__ = new.__doc__
    old.__annotations__ = new.__annotations__
    return True


def _is_class_cell(cell) -> bool:
    try:
        return isinstance(cell.cell_contents, type)
    except ValueError:
        return False


def _update_class(old, new):
    for key, value in vars(new).items():
        if key in ("__dict__", "__weakref__"):
            continue
        current = vars(old).get(key)
        if _swap_code(_func(current), _func(value)) and type(current) is type(value):
            continue
        _rebind_class_cell(value, new, old)
        with contextlib.suppress(AttributeError, TypeError):
            setattr(old, key, value)
    for key in [k for k in vars(old) if k not in vars(new)
                and not (k.startswith("__") and k.endswith("__"))]:
        with contextlib.suppress(AttributeError, TypeError):
            delattr(old, key)


def _func(value):
    return value.__func__ if isinstance(value, (classmethod, staticmethod)) else value


def _rebind_class_cell(value, new, old):
    """Methods that use super() or __class__ hold the class in a cell: point it
    at the class object that stays."""
    fn = value.__func__ if isinstance(value, (classmethod, staticmethod)) else value
    if isinstance(fn, property):
        for part in (fn.fget, fn.fset, fn.fdel):
            if part is not None:
                _rebind_class_cell(part, new, old)
        return
    code = getattr(fn, "__code__", None)
    if code is None or "__class__" not in code.co_freevars:
        return
    cell = fn.__closure__[code.co_freevars.index("__class__")]
    if cell.cell_contents is new:
        cell.cell_contents = old


@command("l(mod) reload a module from its file, with reduction checks", section=SECTION,
         session=True)
def l(shell, mod):  # noqa: E743 - Erlang's name for it (c:l/1)
    """Reload module `mod` (a module or its name) from its file; see the module
    docstring for what running processes see."""
    module = reload_module(_module_of(shell, mod))
    return Text(f"reloaded {module.__name__} from {module.__file__}")


@command("c(file) load a file as a module into the shell (bound to its name)",
         section=SECTION, session=True)
def c(shell, path):
    """Load `path` as a module named after the file, compiled with reduction
    checks (its `if __name__ == "__main__":` block does not run), bind it in
    the shell and return it. c() again reloads it."""
    if not isinstance(path, str):
        raise vm.BadArg(f"c: expected a file name, not {path!r}")
    if not path.endswith(".py") and not os.path.exists(path) and os.path.exists(path + ".py"):
        path += ".py"
    if not os.path.isfile(path):
        raise vm.BadArg(f"c: no such file: {path}")
    path = os.path.abspath(path)
    name = re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0]) or "module"
    module = sys.modules.get(name)
    if module is None or os.path.abspath(getattr(module, "__file__", "") or "") != path:
        module = types.ModuleType(name)
        module.__file__ = path
        folder = os.path.dirname(path)
        if folder not in sys.path:
            sys.path.insert(0, folder)
        sys.modules[name] = module
    reload_module(module)
    shell.ns[name] = module
    return module


__all__ = ["b", "c", "f", "h", "l", "reload_module", "user_names", "v"]
