"""Naming the process a helper acts on, and asking a behaviour for its state.

What this module owns: the small reads every view and helper shares, kept
below both `helpers.py` and `suptree.py` so neither imports the other:

- `pid("<0.42.0>")` / `pid(0, 42, 0)`: a pid from its printed form;
- `target(x)`: a pid from a pid, its printed form or a registered name;
- `is_behaviour(detail)`: does a behaviour loop run in that process (so a
  sys request will be answered, not left in a plain mailbox)?
- `behaviour_state(pid)`: `otp_sys.get_state` with a short timeout, as a
  `StateUnavailable` (with the reason) when it cannot be read.

What it refuses: views and snapshots of whole tables (views.py, helpers.py).
"""

from __future__ import annotations

import vm
from vm import lowlevel

from .source import in_process, on_node, resolve_node
from .views import StateUnavailable

#: Modules whose frames on a process's stack mean "a behaviour loop runs here,
#: so a sys request will be answered" (and not left in a plain mailbox).
BEHAVIOUR_MODULES = ("stdlib.gen_server", "stdlib.gen_statem", "stdlib.supervisor",
                     "stdlib.dynamic_supervisor", "stdlib.otp_sys", "stdlib.task",
                     "stdlib.application")
STATE_TIMEOUT = 2.5  # observer_cli's timeout for reading a state


def pid(x, y=None, z=None, *, node=None) -> vm.Pid:
    """A pid from its printed form: `pid("<0.42.0>")`, or `pid(0, 42, 0)`."""
    if y is not None:
        if z is None:
            raise vm.BadArg("pid(x, y, z) takes three numbers, like Erlang's c:pid/3")
        x = f"<{x}.{y}.{z}>"
    if isinstance(x, vm.Pid):
        return x
    if not isinstance(x, str):
        raise vm.BadArg(f"pid: expected '<0.42.0>' or three numbers, not {x!r}")
    return lowlevel.parse_pid(x, resolve_node(node))


def target(x, node=None) -> vm.Pid:
    """A pid from a pid, its printed form, or a registered name."""
    if isinstance(x, vm.Pid):
        return x
    if isinstance(x, str) and x.startswith("<"):
        return pid(x, node=node)
    if isinstance(x, str):
        found = on_node(lambda n: lowlevel.whereis(x, node=n), node)
        if found is None:
            raise vm.BadArg(f"no process is registered as {x!r}")
        return found
    raise vm.BadArg(f"expected a pid, '<0.42.0>' or a registered name, not {x!r}")


def is_behaviour(detail) -> bool:
    """Does a behaviour loop run in this process (see BEHAVIOUR_MODULES)?"""
    return any(f[0] in BEHAVIOUR_MODULES for f in detail.stacktrace)


def _why(reason, timeout) -> str:
    head = reason[0] if type(reason) is tuple and reason else reason
    if head == "timeout":
        return (f"the process did not answer sys.get_state within {timeout:g} s "
                "(it is busy in a callback, or suspended)")
    if head in ("noproc", "normal", "shutdown", "killed"):
        return f"the process exited ({head})"
    return f"sys.get_state failed: {head!r}"


def behaviour_state(target_pid, *, timeout=STATE_TIMEOUT, node=None):
    """`otp_sys.get_state` with a short timeout; a `StateUnavailable` if it fails."""
    from stdlib import otp_sys

    try:
        me = vm.self()
    except vm.NotInProcess:
        me = None
    if me == target_pid:
        return StateUnavailable("the shell cannot ask itself for its state")

    def ask():
        try:
            return otp_sys.get_state(target_pid, timeout)
        except vm.Exit as e:
            return StateUnavailable(_why(e.reason, timeout))

    return in_process(ask, node=node)


__all__ = ["BEHAVIOUR_MODULES", "STATE_TIMEOUT", "StateUnavailable", "behaviour_state",
           "is_behaviour", "pid", "target"]
