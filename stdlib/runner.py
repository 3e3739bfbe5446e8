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
             timeslice=None, sname=None, name=None, cookie=None, listen=None, hidden=True,
             nodes: int = 1, allow_remsh: bool = False, entry: str = "main") -> int:
    """Run FILE's `entry` (main) in a fresh node; named (`sname`/`name`) it is distributed.

    `nodes=N` (N > 1) starts N-1 more named nodes, one OS process each, that
    load the same file and run its `worker_node()` (or just stay up); `main`
    runs on the first once it is connected to all of them (`vm.nodes()`).
    """
    if instrument:
        vm.code.instrument_imports(*instrument)
    if nodes > 1 and sname is None and name is None:
        sname = "beamlet"
    module = load_file(path)
    main = find_main(module, path) if entry == "main" else _find_entry(module, entry)
    call_args = (args,) if main is not _stay_up and wants_args(main) else ()
    dist = {"hidden": hidden} if (sname or name) else None
    if allow_remsh:
        if dist is None:
            raise SystemExit("beamlet: --allow-remsh needs a node name (--sname or --name)")
        main = _with_remote_shell(main)
    others = []
    if nodes > 1:
        from . import multinode

        cookie = cookie or multinode.fresh_cookie()
        others = multinode.start_others(path, nodes, sname, name, cookie, listen, instrument)
        main = multinode.connected_first(main, [n for n, _ in others])
    try:
        result = vm.run(main, *call_args, reductions=reductions, seed=seed, timeslice=timeslice,
                        sname=sname, name=name, cookie=cookie, listen=listen, dist=dist)
    except vm.ProcessExit as e:
        print(f"beamlet: main exited with reason {e.reason!r}", file=sys.stderr)
        if isinstance(e.reason, vm.Crash):
            print(e.reason.traceback, file=sys.stderr, end="")
        return 1
    except KeyboardInterrupt:
        print("beamlet: interrupted; every process was killed", file=sys.stderr)
        return 130
    finally:
        if others:
            multinode.stop_others(others)
    if result is not None and entry == "main":
        print(repr(result))
    return 0


def _with_remote_shell(main):
    def first(*args, **kwargs):
        from .observer.remote import allow

        allow()
        return main(*args, **kwargs)

    return first


def _stay_up():
    vm.receive(lambda m: False)


def _find_entry(module, entry):
    fn = getattr(module, entry, None)
    return fn if callable(fn) else _stay_up
