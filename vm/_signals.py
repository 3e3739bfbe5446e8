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
import os
import sys

from greenlet import getcurrent

from ._heap import copy_term, term_size
from ._process import EXITING, RECEIVING
from .errors import BadArg, show
from .terms import Atom, Pid

log = logging.getLogger("beamlet.process")

EXIT = Atom("EXIT")
DOWN = Atom("DOWN")
PROCESS = Atom("process")
NORMAL = Atom("normal")
KILL = Atom("kill")
KILLED = Atom("killed")
NOPROC = Atom("noproc")

# ----------------------------------------------------------------------
# links


def add_link(node, a, b):
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


def remove_link(node, a, pid):
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


def add_monitor(node, watcher, target, obj, ref=None):
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


def remove_monitor(node, watcher, ref) -> bool:
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


def flush_down(p, ref) -> bool:
    """Remove the first ("DOWN", ref, ...) message from p's mailbox; True if one was there."""
    mb = p.mailbox
    if mb is None:
        return False
    return mb.remove_first(
        p, lambda m: type(m) is tuple and len(m) == 5 and m[1] == ref and m[0] == DOWN)


# ----------------------------------------------------------------------
# aliases (OTP 24): a ref that routes messages to its owner while active

ALIAS_MODES = ("explicit_unalias", "reply", "demonitor", "reply_demonitor")


def add_alias(node, p, mode, ref=None):
    if ref is None:
        ref = node.make_ref()
    node.aliases[ref.id] = (p, mode)
    if p.aliases is None:
        p.aliases = set()
    p.aliases.add(ref.id)
    return ref


def remove_alias(node, ref) -> bool:
    if ref.creation != node.creation or ref.node != node.name:
        return False
    entry = node.aliases.pop(ref.id, None)
    if entry is None:
        return False
    owner = entry[0]
    if owner.aliases is not None:
        owner.aliases.discard(ref.id)
    return True


def drop_monitor_alias(node, ref):
    """A monitor went away: its alias goes too, unless it was explicit_unalias."""
    entry = node.aliases.get(ref.id)
    if entry is not None and entry[1] in ("demonitor", "reply_demonitor"):
        remove_alias(node, ref)


def resolve_alias(node, ref):
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


def exit_signal(node, target, sender, reason, linked):
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


def process_died(node, p):
    """Release everything `p` held and tell its links and monitors."""
    reason = p.exit_reason
    pid = p.pid
    if node.exit_hooks:
        _run_exit_hooks(node, p)
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
            peer.links.discard(pid)
            exit_signal(node, peer, pid, reason, True)
    if p.monitored_by:
        watchers = p.monitored_by
        p.monitored_by = None
        for rid, wpid in watchers.items():
            w = procs.get(wpid.id)
            if w is None or w.state is EXITING or w.monitors is None:
                continue
            entry = w.monitors.pop(rid, None)
            if entry is not None:
                ref = entry[2]
                if rid in node.aliases:
                    drop_monitor_alias(node, ref)
                node.deliver(w, (DOWN, ref, PROCESS, entry[1], copy_term(reason)))
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
        node.special = True  # the loop's fast path looks only at `special`


def _run_exit_hooks(node, p):
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


def wait_for_message(node, p):
    """Park until p's mailbox holds at least one message (used by hibernate)."""
    while p.mailbox is None or not p.mailbox.q:
        node.park(p, RECEIVING)


# ----------------------------------------------------------------------
# max_heap_size

WORD = 8
# What a started, idle process costs beyond what its frames and mailbox hold:
# the greenlet, its saved C stack slice and its share of the Python data
# stack. Measured by benchmarks/spawn.py (bytes per idle process).
PROCESS_OVERHEAD = 4096
_VM_DIR = os.path.dirname(os.path.abspath(__file__))


def set_max_heap(node, p, value):
    """Apply a max_heap_size setting: words as an int (0 disables) or OTP's map form."""
    old = {"size": p.max_heap or 0, "kill": p.max_heap_kill, "error_logger": p.max_heap_log}
    if type(value) is dict:
        unknown = set(value) - {"size", "kill", "error_logger", "include_shared_binaries"}
        if unknown:
            raise BadArg(
                f"unknown max_heap_size keys {sorted(unknown)}; use 'size', 'kill', 'error_logger'"
            )
        size = value.get("size", 0)
        kill = value.get("kill", True)
        logit = value.get("error_logger", True)
    else:
        size, kill, logit = value, True, True
    if type(size) is not int or size < 0:
        raise BadArg(f"max_heap_size must be a number of words >= 0 (0 disables), not {show(size)}")
    if type(kill) is not bool or type(logit) is not bool:
        raise BadArg("max_heap_size 'kill' and 'error_logger' must be booleans")
    node.n_heap_limits += (1 if size else 0) - (1 if p.max_heap else 0)
    node.special = True
    p.max_heap = size or None
    p.max_heap_kill = kill
    p.max_heap_log = logit
    return old


def process_memory(p) -> int:
    """Estimated bytes held by `p`: overhead, mailbox, dictionary, and its frames' locals."""
    seen: set = set()
    size = sys.getsizeof(p) + (PROCESS_OVERHEAD if p else 0)
    if p.mailbox:
        size += sys.getsizeof(p.mailbox)
        for m in p.mailbox:
            size += term_size(m, seen)
    if p.dictionary:
        size += term_size(p.dictionary, seen)
    if p is getcurrent():  # the running process (a slice ending in switch_out)
        f = sys._getframe()
    else:
        f = p.gr_frame if p else None
    while f is not None:
        if not f.f_code.co_filename.startswith(_VM_DIR):
            for v in f.f_locals.values():
                size += _object_size(v, seen)
        f = f.f_back
    return size


def _object_size(v, seen):
    size = term_size(v, seen)
    d = getattr(v, "__dict__", None)
    if type(d) is dict and id(d) not in seen:
        size += term_size(d, seen)
    return size


def check_max_heap(node, p):
    words = process_memory(p) // WORD
    if words <= p.max_heap:
        return
    if p.max_heap_log:
        log.error(
            "Process %r exceeded max_heap_size: %d words > %d words%s",
            p.pid, words, p.max_heap, "; killed" if p.max_heap_kill else "",
            extra={"pid": p.pid, "report": {"label": "max_heap_size", "pid": p.pid,
                                              "heap_size": words, "max_heap_size": p.max_heap}},
        )
    if p.max_heap_kill:
        node.kill(p, KILLED)

