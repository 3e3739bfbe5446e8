"""Running a program file in a node (`beamlet run FILE`, `beamlet shell FILE`).

What this module owns: the rule for how a file becomes a program, and
turning the outcome into an exit status and a readable report.

The rule. FILE runs as the program `__main__`, as `python FILE` would run
it, except that its code carries reduction checks and its top level runs
inside the node, as the node's first process:

1. The module body runs in that process, named `__main__`, with `sys.argv`
   set to `[FILE, *ARGS]`. Top-level code may spawn, send and receive.
2. A `vm.run(main, ...)` the file calls itself (under
   `if __name__ == "__main__":` or not) runs `main` right there, in the
   same process, once, and returns what it returns, so a file that works
   with `python FILE` works the same with `beamlet run FILE`. The node
   already exists, so the node options of that call (`clock=`, `seed=`,
   `reductions=`, ...) are ignored with a warning; give them on the command
   line.
3. If the file does not call `vm.run` but defines `main`, the runner calls
   `main` after the body, in the same process, and prints what it returns
   unless that is None. The command line's ARGS reach it by its signature:
   `def main()` takes none, `def main(args)` (one parameter) gets them as a
   list of strings, `def main(a, b)` gets them one per parameter, and
   `def main(*args)` gets them spread.
4. A file that neither calls `vm.run` nor defines `main` is a plain script:
   its body was the program.

Exit statuses: 0 the program ended normally; 1 it failed (an exception, an
abnormal exit, a deadlock, a syntax error); 2 a usage error (wrong
arguments for `main`, no such file); 130 interrupted by Ctrl-C.

Reports are written for a person: a syntax error shows file, line and
caret; a failure shows its traceback once, with beamlet's own frames left
out; a deadlock shows the deadlock message alone.

What it refuses: deciding scheduling options; they come from the command
line.
"""

from __future__ import annotations

import inspect
import os
import sys
import traceback
import types

import vm
import vm.code
from vm.lowlevel import compile_checked

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

#: The options of `vm.run` that configure the node, not `main`.
NODE_OPTIONS = ("reductions", "seed", "clock", "instruments", "preempt", "long_slice",
                "timeslice", "slice_time", "dirty_threads", "sname", "name", "cookie",
                "listen", "dist")

_VM_DIR = os.path.dirname(os.path.abspath(vm.__file__)) + os.sep
_HERE = os.path.abspath(__file__)


class UsageError(Exception):
    """The command cannot be carried out as given (exit status 2)."""


class ProgramError(Exception):
    """FILE cannot be compiled; the message is Python's report (file, line, caret)."""


# ----------------------------------------------------------------------
# loading


def compile_file(path: str):
    """FILE's code, compiled with reduction checks (top-level loops included)."""
    try:
        with open(path, "rb") as f:
            source = f.read()
    except OSError as e:
        raise UsageError(f"cannot read {path}: {e.strerror}") from None
    try:
        return compile_checked(source, os.path.abspath(path), "exec", top_level_loops=True)
    except (SyntaxError, ValueError) as e:
        raise ProgramError("".join(traceback.format_exception_only(type(e), e)).rstrip()) \
            from None


def new_module(path: str, name: str) -> types.ModuleType:
    path = os.path.abspath(path)
    module = types.ModuleType(name)
    module.__file__ = path
    module.__builtins__ = __builtins__
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    return module


class Program:
    """FILE as a program: its module, its code, and what its own `vm.run` did."""

    def __init__(self, path: str, args=(), *, name="__main__", warn=None, entry="main"):
        self.path = path
        self.args = list(args)
        self.entry = entry
        self.code = compile_file(path)
        self.module = new_module(path, name)
        self.ran_main = False
        self.usage_error = None
        self.warn = warn or (lambda text: print(text, file=sys.stderr, flush=True))

    def _inline_run(self, main, *args, **kwargs):
        """What `vm.run` does while FILE's body runs: run `main` here, once."""
        ignored = [k for k in NODE_OPTIONS if k in kwargs]
        for k in ignored:
            kwargs.pop(k)
        if ignored:
            self.warn(f"beamlet: {os.path.basename(self.path)} calls vm.run with "
                      f"{', '.join(ignored)}; the node is already running, so they are ignored "
                      "(use the command line's options)")
        self.ran_main = True
        if self.entry != "main":
            return None  # a --nodes worker node: the first node runs main
        try:
            return main(*args, **kwargs)
        except vm.Exit as e:
            raise vm.ProcessExit(e.reason) from None
        except Exception as e:  # noqa: BLE001 - vm.run reports a crash as ProcessExit
            raise vm.ProcessExit(vm.Crash.from_exception(e)) from None

    def run_body(self):
        """Run the module body in the calling process (with `vm.run` running inline)."""
        saved = vm.run, sys.argv, sys.modules.get("__main__")
        vm.run = self._inline_run
        sys.argv = [self.path, *self.args]
        if self.module.__name__ == "__main__":
            sys.modules["__main__"] = self.module
        try:
            exec(self.code, self.module.__dict__)
        finally:
            vm.run, sys.argv = saved[0], saved[1]
            if saved[2] is not None:
                sys.modules["__main__"] = saved[2]

    def main(self):
        fn = self.module.__dict__.get("main")
        return fn if callable(fn) else None

    def run(self):
        """The program: the body, then `main` unless the body ran it. Returns
        (result, ran main here?). On a `--nodes` worker node (entry
        "worker_node") the body runs, then `worker_node()` if FILE has one;
        the node stays up either way, serving the first node."""
        self.run_body()
        if self.entry != "main":
            fn = self.module.__dict__.get(self.entry)
            if callable(fn):
                fn()
            vm.receive(lambda m: False)  # stay up until the first node stops us
        if self.ran_main:
            return None, False
        main = self.main()
        if main is None:
            return None, False
        return main(*main_args(main, self.args)), True


def main_args(main, args) -> tuple:
    """The positional arguments `main` gets from the command line's ARGS (see the rule)."""
    args = list(args)
    try:
        params = list(inspect.signature(main).parameters.values())
    except (TypeError, ValueError):
        return (args,) if args else ()
    keyword_only = [p.name for p in params if p.kind is p.KEYWORD_ONLY and p.default is p.empty]
    if keyword_only:
        raise UsageError(f"main has required keyword-only arguments ({', '.join(keyword_only)}), "
                         "which the command line cannot give: give them defaults, or make "
                         "them positional to take them from ARGS")
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    required = [p for p in positional if p.default is p.empty]
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        if len(args) < len(required):
            raise UsageError(f"main needs at least {len(required)} argument(s), got {len(args)}")
        return tuple(args)
    if not positional:
        if args:
            raise UsageError(f"main() takes no arguments, but {len(args)} were given; "
                             "define def main(args) to receive them as a list")
        return ()
    if len(positional) == 1:
        return (args,)
    if not len(required) <= len(args) <= len(positional):
        want = (f"{len(positional)}" if len(required) == len(positional)
                else f"{len(required)} to {len(positional)}")
        raise UsageError(f"main takes {want} arguments ({', '.join(p.name for p in positional)}),"
                         f" but {len(args)} were given")
    return tuple(args)


# ----------------------------------------------------------------------
# reporting


def clean_traceback(text: str) -> str:
    """A traceback's text without beamlet's own frames (the runtime, this
    runner, click, importlib): the frames left are the program's."""
    lines = text.splitlines()
    out = []
    skipping = False
    for line in lines:
        if line.startswith('  File "'):
            path = line[len('  File "'):].split('"', 1)[0]
            skipping = (path.startswith(_VM_DIR) or os.path.abspath(path) == _HERE
                        or path.startswith("<frozen ") or os.sep + "click" + os.sep in path)
            if not skipping:
                out.append(line)
            continue
        if skipping and line.startswith("    "):
            continue
        skipping = False
        out.append(line)
    return "\n".join(out) + ("\n" if out else "")


def describe_exit(reason) -> str:
    """An abnormal exit reason, told for a person (a crash: its traceback)."""
    if isinstance(reason, vm.Crash):
        tb = clean_traceback(reason.traceback) if reason.traceback else ""
        return tb or f"{reason.exc_type}: {reason.message}\n"
    return f"exit reason {reason!r}\n"


def report_failure(e: BaseException, err) -> int:
    """Print what went wrong for a person; return the exit status."""
    if isinstance(e, UsageError):
        print(f"beamlet: {e}", file=err)
        return EXIT_USAGE
    if isinstance(e, ProgramError):
        print(e, file=err)
        return EXIT_FAILED
    if isinstance(e, vm.Deadlock):
        print(f"beamlet: deadlock: {e}", file=err)
        return EXIT_FAILED
    if isinstance(e, vm.ProcessExit):
        print(f"beamlet: main exited abnormally:\n{describe_exit(e.reason)}", file=err, end="")
        return EXIT_FAILED
    if isinstance(e, KeyboardInterrupt):
        print("beamlet: interrupted; every process was killed", file=err)
        return EXIT_INTERRUPTED
    print("".join(traceback.format_exception(type(e), e, e.__traceback__)), file=err, end="")
    return EXIT_FAILED


# ----------------------------------------------------------------------
# beamlet run


def _first_process(program):
    """The node's first process: the program, its crash turned into an exit
    reason (so it is reported once, by the runner, not also by the node)."""
    try:
        return program.run()
    except UsageError as e:
        program.usage_error = e
        raise vm.Exit(vm.Atom("usage")) from None
    except (vm.Exit, vm.ProcessExit) as e:
        raise vm.Exit(e.reason) from None
    except Exception as e:  # noqa: BLE001 - the program's failure, reported by run_file
        raise vm.Exit(vm.Crash.from_exception(e)) from None


def run_file(path: str, args=(), *, reductions: int = 4000, seed=None, instrument=(),
             timeslice=None, sname=None, name=None, cookie=None, listen=None, hidden=True,
             nodes: int = 1, allow_remsh: bool = False, entry: str = "main", out=None,
             err=None) -> int:
    """What `beamlet run` does (see the module docstring); returns the exit status.

    Named (`sname`/`name`), the node joins Erlang's distribution
    (docs/distribution.md). `nodes=N` (N > 1) starts N-1 more named nodes, one
    OS process each, that run the same file with `entry="worker_node"`; `main`
    runs on the first once it is connected to all of them (`vm.nodes()`).
    """
    out = out or sys.stdout
    err = err or sys.stderr
    others = []
    try:
        if instrument:
            vm.code.instrument_imports(*instrument)
        if nodes > 1 and sname is None and name is None:
            sname = "beamlet"
        dist = {"hidden": hidden} if (sname or name) else None
        if allow_remsh and dist is None:
            raise UsageError("--allow-remsh needs a node name (--sname or --name)")
        program = Program(path, args, entry=entry)

        def first():
            if allow_remsh:
                from .observer.remote import allow

                allow()
            return _first_process(program)

        if nodes > 1:
            from . import multinode

            cookie = cookie or multinode.fresh_cookie()
            others = multinode.start_others(path, nodes, sname, name, cookie, listen, instrument)
            first = multinode.connected_first(first, [n for n, _ in others])
        result, print_it = vm.run(first, reductions=reductions, seed=seed, timeslice=timeslice,
                                  sname=sname, name=name, cookie=cookie, listen=listen,
                                  dist=dist)
    except (Exception, KeyboardInterrupt) as e:  # noqa: BLE001 - every failure is reported
        usage = getattr(locals().get("program"), "usage_error", None)
        return report_failure(usage or e, err)
    finally:
        if others:
            multinode.stop_others(others)
    if print_it and result is not None:
        print(repr(result), file=out, flush=True)
    return EXIT_OK

