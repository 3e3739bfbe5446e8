"""The one door from the core to other nodes.

What this module owns: telling that a destination, a pid or a monitor
target belongs to another node, so the core hands it to the node's
distribution hook instead of looking for a local process. The hook is
`node.dist`: None until `vm.dist.start` installs one, and then an object
with these methods, called on the node's thread, never blocking:

    send(sender, dest, msg)         dest: a remote Pid, a remote alias Ref or (name, node);
                                    raises BadArg if msg has no External Term Format form
    link(pid, remote)               `pid` (local, alive) links to the remote pid
    unlink(pid, remote)
    exit(sender, remote, reason)    exit/2 to a remote pid
    monitor(watcher, target, ref)   target: a remote Pid or (name, node); `ref` is made
                                    by the core (a marker, maybe an alias) and is the
                                    monitor's ref; a DOWN comes back as a message
    demonitor(watcher, ref) -> bool True if `ref` was a remote monitor still active
    watched                         a container of local pid ids whose death matters to
                                    other nodes (remote links and monitors, the
                                    monitors a local watcher holds on remote processes)
    process_died(pid, reason)       called by `_signals.process_died` for those only

Everything that arrives from other nodes enters through `vm/dist/local.py`
(delivery, exit signals, DOWN messages), written in terms of `_signals`.

Without a hook, a remote destination is an unreachable node: a send is
dropped, a monitor gets DOWN `noproc`, a link raises `noproc`; which is
what this module's callers did before distribution existed.

What it refuses: any knowledge of connections, frames or EPMD.
"""

from __future__ import annotations

from .terms import Pid, Ref


def is_remote(node, x) -> bool:
    """True when `x` (a pid, ref, or (name, node) pair) names another node than `node`."""
    t = type(x)
    if t is Pid or t is Ref:
        return x.node != node.name
    if t is tuple and len(x) == 2 and isinstance(x[1], str) and isinstance(x[0], str):
        return x[1] != node.name
    return False


def hook(node, x):
    """The distribution hook if `x` is remote and distribution is started, else None."""
    d = node.dist
    if d is not None and is_remote(node, x):
        return d
    return None
