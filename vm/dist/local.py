"""The seam between the distribution layer and the core: signals arriving for local processes.

What this module owns: the only calls `vm/dist` makes into the runtime
beyond the public API, all of them from a connection's reader process, in
the order the peer sent the signals:

- `deliver(node, dest, msg)`: a message from another node to a local pid,
  a registered name, or an alias. The decoder built `msg` from bytes, so
  nobody else holds any part of it: it is queued without the copy a local
  send makes (which would also refuse the `ImproperList` of OTP call tags).
  A dead pid, an unregistered name, an inactive alias: dropped, as on BEAM.
- `exit_signal(node, dest, sender, reason, linked)`: an exit signal whose
  sender is a remote pid, with the meaning OTP gives it (a linked `kill`
  stays `kill`, `exit/2` with `kill` kills untrappably, ...).
- `down(node, watcher, ref, obj, reason)`: a monitor's DOWN message.
- `lookup(node, target)`: the live local process a pid or name stands for.

The other direction, local processes acting on remote ones (`vm.send`,
`vm.link`, `vm.monitor`, ... on another node's pid), comes from the core
through the hook described in `vm/_remote.py`, which `kernel.DistNode`
implements.

What it refuses: bookkeeping. Which remote pids a local process is linked
to, and which monitors cross the connection, are the connection's tables
(`connection.py`), not the process's own link and monitor sets.
"""

from __future__ import annotations

from .. import _signals
from ..terms import Atom, Pid, Ref

DOWN = _signals.DOWN
PROCESS = _signals.PROCESS


def node_of_current():
    from ..lowlevel import current_node

    return current_node()


def lookup(node, target):
    """The live local Process for a pid or a registered name, or None."""
    if type(target) is Pid:
        return node.lookup(target)
    if isinstance(target, str):
        return node.names.get(target)
    return None


def deliver(node, dest, msg) -> bool:
    """Queue `msg` (fresh from the decoder) for `dest`; False if nobody is there."""
    if type(dest) is Pid:
        target = node.lookup(dest)
    elif type(dest) is Ref:
        target = _signals.resolve_alias(node, dest)
    elif isinstance(dest, str):
        target = node.names.get(dest)
    else:
        target = None
    if target is None:
        return False
    node.deliver(target, msg)
    if node.on_send:
        node.ins.emit("send", dest if type(dest) is Pid else target.pid, target.pid, msg)
    return True


def exit_signal(node, dest: Pid, sender: Pid, reason, linked: bool) -> None:
    target = node.lookup(dest)
    if target is not None:
        _signals.exit_signal(node, target, sender, reason, linked)


def down(node, watcher: Pid, ref: Ref, obj, reason) -> None:
    """A monitor of a remote process fired: its DOWN, and its alias (if any) goes."""
    if ref.id in node.aliases:
        _signals.drop_monitor_alias(node, ref)
    target = node.lookup(watcher)
    if target is not None:
        node.deliver(target, (DOWN, ref, PROCESS, obj, reason))


def monitor_local(node, watcher: Pid, target, ref: Ref, obj) -> None:
    """A monitor the core took for remote (our own distribution name) but is local."""
    w = node.lookup(watcher)
    proc = lookup(node, target)
    if w is None:
        return
    if proc is None:
        node.deliver(w, (DOWN, ref, PROCESS, obj, _signals.NOPROC))
    elif proc is not w:
        _signals.add_monitor(node, w, proc, obj, ref)


def name_atom(name) -> Atom:
    return name if type(name) is Atom else Atom(name)
