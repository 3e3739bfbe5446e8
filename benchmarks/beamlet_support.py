"""Finding out whether the beamlet side can run yet.

The `vm` package and the `stdlib` behaviours are being written alongside this
suite. A benchmark whose beamlet side cannot run reports "n/a" with the reason
instead of a number: it is never faked.
"""

from __future__ import annotations

import importlib

from .common import NotAvailable


def require_vm():
    """Import `vm` and check the calls the benchmarks use; else NotAvailable."""
    try:
        vm = importlib.import_module("vm")
    except Exception as e:
        raise NotAvailable(f"the vm package does not import: {type(e).__name__}: {e}") from e
    missing = [n for n in ("run", "spawn", "send", "receive", "self", "sleep", "exit")
               if not hasattr(vm, n)]
    if missing:
        raise NotAvailable("vm is incomplete (no " + ", ".join(missing) + ")")
    return vm


def require_stdlib(module: str, *names: str):
    """Import `stdlib.<module>` and check it has `names`; else NotAvailable."""
    require_vm()
    try:
        mod = importlib.import_module(f"stdlib.{module}")
    except ModuleNotFoundError as e:
        raise NotAvailable(f"not available yet: stdlib.{module} does not exist") from e
    except Exception as e:
        raise NotAvailable(f"not available yet: stdlib.{module} does not import "
                           f"({type(e).__name__}: {e})") from e
    missing = [n for n in names if not hasattr(mod, n)]
    if missing:
        raise NotAvailable(f"not available yet: stdlib.{module} has no "
                           + ", ".join(missing))
    return mod
