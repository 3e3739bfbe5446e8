"""Signals: links, monitors, exit signals, and what happens when a process dies.

What this module owns: the meaning of every signal between processes, as
OTP defines it (reference §1.2-1.3):

    exit signal     received by a process     not trapping        trapping
    --------------------------------------------------------------------------
    via a link      reason normal             ignored             ("EXIT", from, "normal")
                    reason kill               dies with kill      ("EXIT", from, "kill")
                    any other reason R        dies with R         ("EXIT", from, R)
    exit(P, R)      R = kill                  dies with killed    dies with killed
                    R = normal, P is self     dies with normal    ("EXIT", self, "normal")
                    R = normal, P not self    ignored             ("EXIT", from, "normal")
                    any other R               dies with R         ("EXIT", from, R)

Signals are handled synchronously, at the moment they are sent: the target is
never running then (one thread), so this is indistinguishable from BEAM's
asynchronous delivery while keeping per-pair order trivially (a message and
then an exit signal from A reach B in that order). A death can cascade along
links; the scheduler runs cascades from a queue, not by recursion, so a ring
of 100,000 linked processes cannot overflow the stack.

When a process dies (`process_died`), in this order: its registered name is
released (so a DOWN handler can register the name again), its pending wait
and timers are cancelled, the monitors it held are removed, linked processes
get exit signals, monitoring processes get DOWN messages, instruments hear
of it, and it leaves the process table.

What it refuses: scheduling, and the public argument checks (`_api.py`).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from ._core import DOWN, NOPROC  # noqa: F401 - defined where calls wait for them; used here and through _signals
from ._heap import copy_term

# max_heap_size lives in _memory; the scheduler and _api reach it through here.
from ._memory import check_max_heap, set_max_heap  # noqa: F401
from ._process import EXITING, RECEIVING
from .terms import Atom, Pid

if TYPE_CHECKING:
    from ._core import Process
    from ._runtime import Runtime
    from .terms import Ref

log = logging.getLogger("beamlet.process")

EXIT = Atom("EXIT")
PROCESS = Atom("process")
NORMAL = Atom("normal")
KILL = Atom("kill")
KILLED = Atom("killed")

# ----------------------------------------------------------------------
# links


def add_link(node: Runtime, a: Process, b: Process) -> None:
    if a is b:
        return
    if a.links is None:
        a.links = set()
    if b.pid in a.links:
        return
    a.links.add(b.pid)
    if b.links is None:
        b.links = set()
    b.links.add(a.pid)
    if node.on_link:
        node.ins.emit("link", a.pid, b.pid)


def remove_link(node: Runtime, a: Process, pid: Pid) -> None:
    """Remove the link between process `a` and `pid` (if any), on both sides."""
    if a.links is None or pid not in a.links:
        return
    a.links.discard(pid)
    b = node.procs.get(pid.id)
    if b is not None and b.links is not None:
        b.links.discard(a.pid)
    if node.on_unlink:
        node.ins.emit("unlink", a.pid, pid)


# ----------------------------------------------------------------------
# monitors


def add_monitor(node: Runtime, watcher: Process, target: Process, obj: Any,
                ref: Ref | None = None) -> Ref:
    if ref is None:
        ref = node.make_ref()
    # Monitor and alias tables are keyed by ref.id: an int hashes in C.
    rid = ref.id
    if watcher.monitors is None:
        watcher.monitors = {}
    watcher.monitors[rid] = (target.pid, obj, ref)
    if target.monitored_by is None:
        target.monitored_by = {}
    target.monitored_by[rid] = watcher.pid
    if node.on_monitor:
        node.ins.emit("monitor", watcher.pid, target.pid, ref)
    return ref


def remove_monitor(node: Runtime, watcher: Process, ref: Ref) -> bool:
    """Drop the monitor `ref` held by `watcher`; True if it was active."""
    if ref.creation != node.creation or ref.node != node.name:
        return False  # not one of ours
    rid = ref.id
    if rid in node.aliases:
        drop_monitor_alias(node, ref)
    if watcher.monitors is None:
        return False
    entry = watcher.monitors.pop(rid, None)
    if entry is None:
        return False
    target = node.procs.get(entry[0].id)
    if target is not None and target.monitored_by is not None:
        target.monitored_by.pop(rid, None)
    if node.on_demonitor:
        node.ins.emit("demonitor", watcher.pid, ref)
    return True


def flush_down(p: Process, ref: Ref) -> bool:
    """Remove the first ("DOWN", ref, ...) message from p's mailbox; True if one was there."""
    mb = p.mailbox
    if mb is None:
        return False
    return mb.remove_first(
        p, lambda m: type(m) is tuple and len(m) == 5 and m[1] == ref and m[0] == DOWN)


# ----------------------------------------------------------------------
# aliases (OTP 24): a ref that routes messages to its owner while active

def add_alias(node: Runtime, p: Process, mode: str, ref: Ref | None = None) -> Ref:
    if ref is None:
        ref = node.make_ref()
    node.aliases[ref.id] = (p, mode)
    if p.aliases is None:
        p.aliases = set()
    p.aliases.add(ref.id)
    return ref


def remove_alias(node: Runtime, ref: Ref) -> bool:
    if ref.creation != node.creation or ref.node != node.name:
        return False
    entry = node.aliases.pop(ref.id, None)
    if entry is None:
        return False
    owner = entry[0]
    if owner.aliases is not None:
        owner.aliases.discard(ref.id)
    return True


def drop_monitor_alias(node: Runtime, ref: Ref) -> None:
    """A monitor went away: its alias goes too, unless it was explicit_unalias."""
    entry = node.aliases.get(ref.id)
    if entry is not None and entry[1] in ("demonitor", "reply_demonitor"):
        remove_alias(node, ref)


def resolve_alias(node: Runtime, ref: Ref) -> Process | None:
    """The owner a message sent to alias `ref` goes to (or None); applies reply modes."""
    if ref.creation != node.creation or ref.node != node.name:
        return None
    entry = node.aliases.get(ref.id)
    if entry is None:
        return None
    owner, mode = entry
    if mode == "reply":
        remove_alias(node, ref)
    elif mode == "reply_demonitor":
        remove_alias(node, ref)
        remove_monitor(node, owner, ref)
    return owner


# ----------------------------------------------------------------------
# exit signals


def exit_signal(node: Runtime, target: Process, sender: Pid, reason: Any,
                linked: bool) -> None:
    """Deliver an exit signal from pid `sender` to the live process `target`."""
    if linked:
        if target.trap_exit:
            node.deliver(target, (EXIT, sender, copy_term(reason)))
        elif reason != NORMAL:
            node.kill(target, reason)  # a linked `kill` stays `kill`
        return
    if reason == KILL:
        node.kill(target, KILLED)
    elif target.trap_exit:
        node.deliver(target, (EXIT, sender, copy_term(reason)))
    elif reason == NORMAL:
        if target.pid == sender:
            node.kill(target, NORMAL)
    else:
        node.kill(target, reason)


# ----------------------------------------------------------------------
# death


def process_died(node: Runtime, p: Process) -> None:
    """Release everything `p` held and tell its links and monitors."""
    reason = p.exit_reason
    pid = p.pid
    if node.exit_hooks:
        _run_exit_hooks(node, p)
    if node.sched is not None:
        node.sched.exited(p)
    if p.name is not None:
        node.names.pop(p.name, None)
    if p.aliases:
        for rid in p.aliases:
            node.aliases.pop(rid, None)
        p.aliases = None
    node.cancel_undo(p)
    if p.timers:
        for t in p.timers:
            node.timers.cancel(t)
            if t.ref is not None:
                node.timer_refs.pop(t.ref, None)
        p.timers = None
    procs = node.procs
    if p.monitors:
        aliases = node.aliases
        for rid, entry in p.monitors.items():
            t = procs.get(entry[0].id)
            if t is not None and t.monitored_by is not None:
                t.monitored_by.pop(rid, None)
            aliases.pop(rid, None)  # a monitor's alias (a call waiting for its reply)
        p.monitors = None
    if p.links:
        links = p.links
        p.links = None
        for peer_pid in links:
            peer = procs.get(peer_pid.id)
            if peer is None or peer.state is EXITING:
                if peer is not None and peer.links is not None:
                    peer.links.discard(pid)
                continue
            peer.links.discard(pid)  # type: ignore[union-attr]  # links are symmetric
            exit_signal(node, peer, pid, reason, True)
    if p.monitored_by:
        watchers = p.monitored_by
        p.monitored_by = None
        for rid, wpid in watchers.items():
            w = procs.get(wpid.id)
            if w is None or w.state is EXITING or w.monitors is None:
                continue
            held = w.monitors.pop(rid, None)
            if held is not None:
                ref = held[2]
                if rid in node.aliases:
                    drop_monitor_alias(node, ref)
                node.deliver(w, (DOWN, ref, PROCESS, held[1], copy_term(reason)))
    dist = node.dist  # other nodes linked to or monitoring it (vm/_remote.py)
    if dist is not None and pid.id in dist.watched:
        dist.process_died(pid, reason)
    if node.on_exit:
        node.ins.emit("exit", pid, reason)
    procs.pop(pid.id, None)
    p.mailbox = None
    p.dictionary = None
    if p.priority == "low":
        node.n_low -= 1
    if p.max_heap is not None:
        node.n_heap_limits -= 1
    if p.is_main:
        node.main_reason = reason
        node.stopping = True
        node.need_slow_path()  # the loop's fast path looks only at `special`


def _run_exit_hooks(node: Runtime, p: Process) -> None:
    """Run the node's exit hooks (vm.lowlevel.add_exit_hook) for the dead `p`, first
    of all: what they release (an ETS table) is gone, or handed over, before the
    death can be observed, and what they return to send arrives ahead of the
    EXIT and DOWN messages."""
    pid = p.pid
    reason = p.exit_reason
    for hook in node.exit_hooks:
        try:
            sends = hook(pid, reason)
            if sends:
                for dest, msg in sends:
                    target = node.lookup(dest) if type(dest) is Pid else None
                    if target is None:
                        continue
                    msg = copy_term(msg)
                    node.deliver(target, msg)
                    if node.on_send:
                        node.ins.emit("send", pid, dest, msg)
        except Exception:  # noqa: BLE001 - a stdlib bug must not stop the node's death handling
            log.exception("exit hook %r failed for %r", hook, pid)


def wait_for_message(node: Runtime, p: Process) -> None:
    """Park until p's mailbox holds at least one message (used by hibernate)."""
    while p.mailbox is None or not p.mailbox.q:
        node.park(p, RECEIVING)
