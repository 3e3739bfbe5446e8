"""The runtime's invariants, checked (for tests, and for anyone changing the core).

What this module owns: `violations(node)`, the list of ways a node's
bookkeeping disagrees with itself at a quiet moment (between two slices),
and nothing else. It reads the node; it never changes it.

The invariants:

1. Every process of the table is in exactly one place: a run queue
   (RUNNABLE), parked (RECEIVING or WAITING), running (the one RUNNING
   process, the caller), or dead (EXITING, out of the table or unwinding).
   A run queue holds no process twice, and only RUNNABLE processes or dead
   ones (killed while queued: the loop unwinds or recycles them).
2. A process's undo is live: a Timer it holds is not cancelled; a lazily
   armed timeout is in the node's deadline table. (A process woken by a
   message it may not match keeps its receive timeout armed: runnable
   processes may hold one too.)
3. Links are symmetric; monitors and `monitored_by` mirror each other.
4. No timer serves a dead process: a WAKE timer targets a live process, a
   process's send timers are still queued, and every timer ref maps to a
   live timer.
5. Counters equal what they count: low-priority processes, processes with
   a heap limit, descriptor waits, aliases (every alias's owner is alive).
6. Mailboxes are well formed: `q[head]` is never a hole, the hole and
   traced counts match the list, an empty list means an empty mailbox.

What it refuses: speed. It walks everything; call it in tests (after each
slice with `vm.testing.InvariantChecker`), not in production.
"""

from __future__ import annotations

from collections import Counter

from ._core import HOLE, Traced
from ._process import EXITING, RECEIVING, RUNNABLE, RUNNING, WAITING
from ._timers import LAZY, WAKE, Timer


def violations(node) -> list[str]:
    """Every invariant the node breaks right now (empty when all hold)."""
    out: list[str] = []
    procs = node.procs
    _places(node, procs, out)
    for p in procs.values():
        if p.state is EXITING:
            continue
        _undo(node, p, out)
        _links_and_monitors(procs, p, out)
        _mailbox(p, out)
    _timers(node, procs, out)
    _counters(node, procs, out)
    return out


def _places(node, procs, out):
    queued: Counter = Counter()
    for name, q in (("max", node.rq_max), ("high", node.rq_high), ("normal", node.rq)):
        for p in q:
            queued[id(p)] += 1
            if p.state is not RUNNABLE and p.state is not EXITING:
                out.append(f"{p.pid!r} is in the {name} run queue but {p.state}")
    if node.sched is not None:
        for p in node.sched.queued():
            queued[id(p)] += 1
            if p.state is not RUNNABLE:
                out.append(f"{p.pid!r} is runnable under the policy but {p.state}")
    for pid_id, p in procs.items():
        if p.pid.id != pid_id:
            out.append(f"the table maps {pid_id} to {p.pid!r}")
        n = queued[id(p)]
        if n > 1:
            out.append(f"{p.pid!r} is queued {n} times")
        if p.state is RUNNABLE and n != 1:
            out.append(f"{p.pid!r} is runnable but queued {n} times")
        if p.state in (RECEIVING, WAITING) and n:
            out.append(f"{p.pid!r} is parked ({p.state}) and queued")
    running = [p for p in procs.values() if p.state is RUNNING]
    if len(running) > 1:
        out.append(f"{len(running)} processes are RUNNING: {[p.pid for p in running]}")


def _undo(node, p, out):
    u = p.undo
    if u is None:
        return
    if type(u) is Timer:
        if u.cancelled:
            out.append(f"{p.pid!r} waits on a cancelled timer")
    elif u is LAZY and p not in node.deadlines:
        out.append(f"{p.pid!r} has a lazy timeout that is not in the deadline table")


def _links_and_monitors(procs, p, out):
    for other in p.links or ():
        q = procs.get(other.id) if other.node == p.pid.node else None
        if q is None or q.state is EXITING:
            continue  # a link to a dead or remote process (its EXIT may be on its way)
        if q.links is None or p.pid not in q.links:
            out.append(f"{p.pid!r} links to {other!r}, which does not link back")
    for rid, (target_pid, _obj, ref) in (p.monitors or {}).items():
        if ref.id != rid:
            out.append(f"{p.pid!r} keys monitor {ref!r} under {rid}")
        t = procs.get(target_pid.id) if target_pid.node == p.pid.node else None
        if t is None or t.state is EXITING:
            continue
        if (t.monitored_by or {}).get(rid) != p.pid:
            out.append(f"{p.pid!r} monitors {target_pid!r}, which does not list it")
    for rid, watcher in (p.monitored_by or {}).items():
        w = procs.get(watcher.id) if watcher.node == p.pid.node else None
        if w is None or w.state is EXITING:
            continue
        if rid not in (w.monitors or {}):
            out.append(f"{p.pid!r} lists {watcher!r} as a watcher, which holds no such monitor")


def _mailbox(p, out):
    mb = p.mailbox
    if mb is None:
        return
    q = mb.q
    if q and q[mb.head] is HOLE:
        out.append(f"{p.pid!r}'s mailbox head is a hole")
    live = q[mb.head:]
    holes = sum(1 for m in live if m is HOLE)
    if holes != mb.holes:
        out.append(f"{p.pid!r}'s mailbox counts {mb.holes} holes, holds {holes}")
    traced = sum(1 for m in live if type(m) is Traced)
    if traced != mb.traced:
        out.append(f"{p.pid!r}'s mailbox counts {mb.traced} traced messages, holds {traced}")
    if any(m is not None for m in q[:mb.head]):
        out.append(f"{p.pid!r}'s mailbox keeps taken messages before its head")


def _timers(node, procs, out):
    for _deadline, _seq, t in node.timer_heap:
        if t.cancelled:
            continue
        if t.kind == WAKE:
            p = t.target
            if procs.get(p.pid.id) is not p or p.state is EXITING:
                out.append(f"a wake-up timer targets the dead {p.pid!r}")
    for ref, t in node.timer_refs.items():
        if t.cancelled:
            out.append(f"timer ref {ref!r} maps to a cancelled timer")
    for p in procs.values():
        if p.state is EXITING:
            continue
        for t in p.timers or ():
            if t.cancelled:
                out.append(f"{p.pid!r} keeps a fired or cancelled send timer")


def _counters(node, procs, out):
    live = [p for p in procs.values() if p.state is not EXITING]
    low = sum(1 for p in live if p.priority == "low")
    if low != node.n_low:
        out.append(f"n_low is {node.n_low}, but {low} processes are low priority")
    limited = sum(1 for p in live if p.max_heap is not None)
    if limited != node.n_heap_limits:
        out.append(f"n_heap_limits is {node.n_heap_limits}, but {limited} processes have one")
    for rid, (owner, _mode) in node.aliases.items():
        if owner.state is EXITING or procs.get(owner.pid.id) is not owner:
            out.append(f"alias {rid} belongs to the dead {owner.pid!r}")
    io = node.io
    if io is not None:
        for fd, waiting in io.by_fd.items():
            for w in waiting.values():
                if w.ended or w.proc.state is EXITING:
                    out.append(f"descriptor {fd} keeps an ended wait of {w.proc.pid!r}")
