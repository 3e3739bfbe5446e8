"""Running a program file in a fresh node (`beamlet run FILE`).

What this module owns: loading a user's file as a module, finding its
`main`, running it as the first process of a node, and turning the outcome
into an exit status (0 for a normal exit, 1 for an abnormal one, with the
reason printed).

What it refuses: deciding scheduling options; they come from the command
line.
"""

from __future__ import annotations

import importlib.util
import inspect
import os
import sys

import vm
import vm.code


def load_file(path: str, module_name: str = "__beamlet_main__"):
    """Import the file at `path` as a module, compiled with reduction checks."""
    path = os.path.abspath(path)
    folder = os.path.dirname(path)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    spec = importlib.util.spec_from_file_location(
        module_name, path, loader=vm.code.CheckedLoader(module_name, path)
    )
    if spec is None or spec.loader is None:
        raise SystemExit(f"beamlet: cannot load {path}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module


def find_main(module, path):
    main = getattr(module, "main", None)
    if main is None or not callable(main):
        raise SystemExit(
            f"beamlet: {path} has no main() function; define `def main():` "
            "(it runs as the node's first process)"
        )
    return main


def wants_args(fn) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    return any(p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
               for p in params)


def run_file(path: str, args: list, *, reductions: int = 4000, seed=None, instrument=(),
             timeslice=None) -> int:
    if instrument:
        vm.code.instrument_imports(*instrument)
    module = load_file(path)
    main = find_main(module, path)
    call_args = (args,) if wants_args(main) else ()
    try:
        result = vm.run(main, *call_args, reductions=reductions, seed=seed, timeslice=timeslice)
    except vm.ProcessExit as e:
        print(f"beamlet: main exited with reason {e.reason!r}", file=sys.stderr)
        if isinstance(e.reason, vm.Crash):
            print(e.reason.traceback, file=sys.stderr, end="")
        return 1
    except KeyboardInterrupt:
        print("beamlet: interrupted; every process was killed", file=sys.stderr)
        return 130
    if result is not None:
        print(repr(result))
    return 0
