"""Scheduling accounting: how the scheduler treated each process, and where the
node's thread spent its time.

What this module owns:

- `Accounting`: per-process figures while accounting is on (switched on and
  off at run time with `vm.scheduling.accounting`): time run inside its
  slices, reductions, slices and how each ended (preempted, yielded, parked,
  exited), queue delay (runnable to running) and response time (woken or
  spawned to running), and, when asked, a timeline of every slice. It is fed
  by the scheduler seam (`_policy.Seam`), which exists only while accounting
  or a policy is on: with both off, the loop's fast path runs untouched.
- `Msacc`: microstate accounting in the spirit of Erlang's `msacc`: the
  node's thread is always in exactly one state (process code, copying terms,
  selective receive scans, spawning, the scheduler loop, timers, polling
  I/O, garbage collection, idle, idle while outside work runs), and the
  seconds in each are summed. Real time (`time.perf_counter`), virtual clock
  or not: it says where the machine's time went.

Times of `Accounting` are the node's clock (`rt.now()`): under a virtual
clock a slice lasts exactly its reductions in microseconds, so the sums are
exact and runs reproducible.

What it refuses: deciding anything (the scheduler and policies decide;
this only counts), and the presentation (reports, percentiles and charts
are `stdlib/fairness`'s, the observer's columns are the observer's).
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections import OrderedDict
from time import perf_counter

#: Figures of dead processes kept for reports (the oldest are dropped first).
DEAD_KEPT = 10_000
#: Slices a timeline keeps before it drops the oldest (about 100 bytes each).
TIMELINE_MAX = 1_000_000

# How a slice ended, and why a process became runnable.
PREEMPTED, YIELDED, PARKED, EXITED = "preempted", "yielded", "parked", "exited"
NEW, WOKEN = "new", "woken"


class ProcStats:
    """One process's figures since accounting was switched on."""

    __slots__ = ("pid", "label", "runtime", "reductions", "slices", "preempted", "yielded",
                 "parked", "queue_delay", "queue_delay_max", "runs", "response",
                 "response_max", "wakeups", "ready_at", "ready_reason", "first_run",
                 "last_run", "exited")

    def __init__(self, pid):
        self.pid = pid
        self.label = None
        self.runtime = 0.0
        self.reductions = 0
        self.slices = self.preempted = self.yielded = self.parked = 0
        self.queue_delay = self.queue_delay_max = 0.0
        self.runs = 0  # slices that began after a measured wait in a run queue
        self.response = self.response_max = 0.0
        self.wakeups = 0
        self.ready_at = None
        self.ready_reason = None
        self.first_run = self.last_run = None
        self.exited = None

    def export(self) -> dict:
        return {
            "pid": self.pid,
            "runtime": self.runtime,
            "reductions": self.reductions,
            "slices": self.slices,
            "preempted": self.preempted,
            "yielded": self.yielded,
            "parked": self.parked,
            "queue_delay": self.queue_delay,
            "queue_delay_max": self.queue_delay_max,
            "queue_waits": self.runs,
            "response_time": self.response,
            "response_time_max": self.response_max,
            "wakeups": self.wakeups,
            "first_run": self.first_run,
            "last_run": self.last_run,
            "exited": self.exited,
            "runnable_since": self.ready_at,
        }


class Accounting:
    """Per-process figures and the optional timeline (see the module docstring)."""

    def __init__(self, now, timeline):
        self.since = now
        self.stats: dict = {}  # pid id -> ProcStats of a live process
        self.dead: OrderedDict = OrderedDict()  # pid id -> ProcStats, newest last
        self.process_time = 0.0  # the sum of every slice's length
        self.slices = 0
        self.timeline: list | None = [] if timeline else None
        self.dropped = 0  # timeline records dropped (over TIMELINE_MAX)

    def of(self, p) -> ProcStats:
        s = self.stats.get(p.pid.id)
        if s is None:
            s = self.stats[p.pid.id] = ProcStats(p.pid)
        return s

    def ready(self, p, reason, now):
        s = self.of(p)
        if s.ready_at is None:
            s.ready_at = now
            s.ready_reason = reason
            if reason is WOKEN:
                s.wakeups += 1

    def started(self, p, now):
        """`p`'s slice begins: its wait in the run queue ends. Returns the wait."""
        s = self.of(p)
        wait = 0.0
        if s.ready_at is not None:
            wait = now - s.ready_at
            s.ready_at = None
            s.runs += 1
            s.queue_delay += wait
            if wait > s.queue_delay_max:
                s.queue_delay_max = wait
            if s.ready_reason is WOKEN or s.ready_reason is NEW:
                s.response += wait
                if wait > s.response_max:
                    s.response_max = wait
        if s.first_run is None:
            s.first_run = now
        return wait

    def ended(self, p, start, end, reductions, outcome, wait, reason):
        s = self.of(p)
        took = end - start
        s.runtime += took
        s.reductions += reductions
        s.slices += 1
        s.last_run = end
        if outcome is PREEMPTED:
            s.preempted += 1
        elif outcome is YIELDED:
            s.yielded += 1
        elif outcome is PARKED:
            s.parked += 1
        self.process_time += took
        self.slices += 1
        tl = self.timeline
        if tl is not None:
            if len(tl) >= TIMELINE_MAX:
                del tl[: TIMELINE_MAX // 10]
                self.dropped += TIMELINE_MAX // 10
            tl.append((p.pid, start, end, reductions, outcome, wait, reason))

    def exited(self, p, now):
        s = self.stats.pop(p.pid.id, None)
        if s is None:
            return
        s.exited = now
        s.ready_at = None
        s.label = p.label
        self.dead[p.pid.id] = s
        if len(self.dead) > DEAD_KEPT:
            self.dead.popitem(last=False)

    def export(self, procs) -> dict:
        """Every process's figures (live and recently dead), keyed by pid."""
        out = {}
        for s in self.dead.values():
            out[s.pid] = s.export() | {"label": s.label}
        for pid_id, s in self.stats.items():
            p = procs.get(pid_id)
            out[s.pid] = s.export() | {"label": p.label if p is not None else s.label}
        return out

    def take_timeline(self, clear) -> list:
        tl = self.timeline
        if tl is None:
            return []
        out = [{"pid": r[0], "start": r[1], "end": r[2], "reductions": r[3], "outcome": r[4],
                "queue_delay": r[5], "reason": r[6]} for r in tl]
        if clear:
            tl.clear()
        return out


# ----------------------------------------------------------------------
# microstate accounting

PROCESS, COPY, RECEIVE, SPAWN = "process", "copy", "receive", "spawn"
SCHEDULER, TIMERS, IO, GC, IDLE, OUTSIDE = ("scheduler", "timers", "io", "gc", "idle",
                                            "outside_wait")
#: Every state, in the order reports list them.
STATES = (PROCESS, COPY, RECEIVE, SPAWN, SCHEDULER, TIMERS, IO, GC, IDLE, OUTSIDE)


class Msacc:
    """The node thread's current state and the seconds spent in each.

    `enter(state)` switches state and returns the previous one, so a VM
    operation inside process code does `prev = ms.enter(COPY)` ... then
    `ms.enter(prev)`.
    """

    def __init__(self):
        self.times = dict.fromkeys(STATES, 0.0)
        self.counts = dict.fromkeys(STATES, 0)
        self.state = SCHEDULER
        self.t = self.started = perf_counter()
        self.gc_saved = None
        self.thread = threading.get_ident()  # the node's thread
        gc.callbacks.append(self._gc)

    def enter(self, state):
        t = perf_counter()
        prev = self.state
        self.times[prev] += t - self.t
        self.t = t
        self.state = state
        self.counts[state] += 1
        return prev

    def _gc(self, phase, info):
        # The collector runs on whatever thread allocates: only this node's
        # thread is counted, which is where the enter() calls happen too.
        if threading.get_ident() != self.thread:
            return
        if phase == "start":
            self.gc_saved = self.enter(GC)
        elif self.gc_saved is not None:
            self.enter(self.gc_saved)
            self.gc_saved = None

    def close(self):
        with contextlib.suppress(ValueError):  # removed already
            gc.callbacks.remove(self._gc)

    def stats(self) -> dict:
        t = perf_counter()
        times = dict(self.times)
        times[self.state] += t - self.t
        return {"wall": t - self.started, "states": times, "counts": dict(self.counts)}
