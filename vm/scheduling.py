"""Scheduling experiments: accounting, microstate accounting and policies.

Three things a user can switch on at run time, each free when off:

- **Accounting** (`accounting(True)`): per process, the time it ran inside
  its slices, its reductions and slices and how each ended (preempted,
  yielded, parked, exited), its queue delay (runnable to running) and its
  response time (woken or spawned to running); with `timeline=True`, a
  record of every slice. Read them with `process_stats()`, `timeline()` and
  `vm.process_info(pid, "scheduling")`.
- **Microstate accounting** (`msacc(True)`), as Erlang's `msacc`: where the
  node's thread spends its time (process code, copying terms, receive scans,
  spawning, the scheduler loop, timers, polling I/O, garbage collection,
  idle, idle while work runs outside). Read it with `msacc_stats()`.
- **A policy** (`set_policy(...)`, or `vm.run(..., policy=...)`): who runs
  next and for how many reductions. The built-in policy is BEAM's (run
  queues per priority, round robin, a slice of reductions); `Beam` is the
  same algorithm written as a `Policy` (a template for your own), and
  `Stride`, `Lottery` and `VirtualRuntime` (a CFS-like policy) are classics
  to compare with.

A policy is any object with the methods of `Policy`. The scheduler tells it
what happens (`runnable`, `ran`, `exited`) and asks it one question
(`pick`: who runs next, and optionally for how many reductions). Its answers
are checked: it can order the runnable processes as it likes, but naming a
process that is not runnable, naming none while some are, or granting no
reductions stops the node with a `PolicyError` that says which rule broke.
docs/fairness.md explains every figure and each policy.
"""

from __future__ import annotations

import heapq
from collections import deque

from greenlet import getcurrent

from ._accounting import STATES
from ._core import Process
from ._node import Node, runtime_of
from ._policy import MAX_GRANT, PolicyContext, PolicyError
from .errors import BadArg, NotInProcess, show

__all__ = [
    "Beam", "Lottery", "MAX_GRANT", "POLICIES", "Policy", "PolicyContext", "PolicyError",
    "STATES", "Stride", "VirtualRuntime", "accounting", "current_policy", "make_policy",
    "msacc", "msacc_stats", "process_stats", "set_policy", "timeline", "WEIGHTS",
]


# ----------------------------------------------------------------------
# reaching the node


def _apply(node, what, fn):
    """Run `fn(runtime)` on the right thread: in a process of `node` (or of the
    caller's node when `node` is None), or before `node` runs, or through
    `Node.call` from another thread while it runs there."""
    p = getcurrent()
    if node is None:
        if type(p) is not Process:
            raise NotInProcess(f"vm.scheduling.{what}: call it from a process, or pass node=")
        return fn(p.node)
    if type(node) is not Node:
        raise BadArg(f"vm.scheduling.{what}: node must be a vm.Node, not {show(node)}")
    rt = runtime_of(node)
    if type(p) is Process and p.node is rt:
        return fn(rt)
    if node.running() and not node.on_thread():
        return node.call(_call_in_node, fn)
    return fn(rt)  # the node has not started (or has stopped): nothing runs concurrently


def _call_in_node(fn):
    return fn(getcurrent().node)


# ----------------------------------------------------------------------
# accounting


def accounting(on=True, *, timeline=False, node=None) -> bool:
    """Switch per-process accounting on (starting afresh) or off; returns whether it
    was on. `timeline=True` also records every slice (`timeline()`)."""
    if type(on) is not bool or type(timeline) is not bool:
        raise BadArg(f"accounting: on and timeline must be True or False, not {show(on)} "
                     f"and {show(timeline)}")
    return _apply(node, "accounting", lambda rt: rt.set_accounting(on, timeline))


def process_stats(*, node=None) -> dict | None:
    """Every process's figures since accounting was switched on (live processes and
    the last 10,000 that died), keyed by pid; None while accounting is off.

    Each is a dict: `runtime` (seconds run inside its slices), `reductions`,
    `slices`, `preempted`, `yielded`, `parked` (how its slices ended),
    `queue_delay` and `queue_delay_max` (seconds runnable before running, total
    and worst), `queue_waits` (how many waits that total covers),
    `response_time` and `response_time_max` (the waits that followed a
    wake-up or the spawn), `wakeups`, `first_run`, `last_run`, `exited`
    (node-clock times or None), `runnable_since`, `label`.
    """
    def read(rt):
        sched = rt.sched
        if sched is None or sched.acct is None:
            return None
        return sched.acct.export(rt.procs)

    return _apply(node, "process_stats", read)


def timeline(*, clear=False, node=None) -> list:
    """The slices recorded since accounting(timeline=True), oldest first: dicts of
    `pid`, `start`, `end` (node clock), `reductions`, `outcome` ("preempted",
    "yielded", "parked", "exited"), `queue_delay` (the wait before it) and
    `reason` (why it had become runnable: "new", "woken", "preempted",
    "yielded"). `clear=True` empties the record."""
    def read(rt):
        sched = rt.sched
        if sched is None or sched.acct is None:
            return []
        return sched.acct.take_timeline(clear)

    return _apply(node, "timeline", read)


def msacc(on=True, *, node=None) -> bool:
    """Switch microstate accounting on (starting afresh) or off; returns whether it
    was on. Call it from a process of the node (or before the node runs)."""
    if type(on) is not bool:
        raise BadArg(f"msacc: on must be True or False, not {show(on)}")
    return _apply(node, "msacc", lambda rt: rt.set_msacc(on))


def msacc_stats(*, node=None) -> dict | None:
    """Seconds the node's thread spent in each state since msacc(True) (`states`,
    keyed as in STATES), how often it entered each (`counts`) and the wall time
    covered (`wall`); None while msacc is off."""
    return _apply(node, "msacc_stats",
                  lambda rt: rt.msacc.stats() if rt.msacc is not None else None)


# ----------------------------------------------------------------------
# policies


def set_policy(policy, *, node=None):
    """Install a scheduling policy: a `Policy` object, a name from POLICIES, or
    None / "beam" for the built-in one. The runnable processes move over to it.
    Returns the previous policy object (None for the built-in)."""
    policy = make_policy(policy)
    return _apply(node, "set_policy", lambda rt: rt.set_policy(policy))


def current_policy(*, node=None):
    """The installed policy object, or None for the built-in one."""
    return _apply(node, "current_policy",
                  lambda rt: rt.sched.policy if rt.sched is not None else None)


def make_policy(spec):
    """A policy object from a name in POLICIES (with default settings) or a policy
    object itself (checked for the methods of `Policy`); None for the built-in."""
    if spec is None or spec == "beam":
        return None
    if isinstance(spec, str):
        cls = POLICIES.get(spec)
        if cls is None:
            raise BadArg(f"unknown scheduling policy {spec!r}; known: beam (built in), "
                         f"{', '.join(sorted(POLICIES))}, or a vm.scheduling.Policy object")
        return cls()
    missing = [m for m in ("attach", "runnable", "ran", "exited", "pick")
               if not callable(getattr(spec, m, None))]
    if missing:
        raise BadArg(f"{show(spec)} is not a scheduling policy: it lacks {', '.join(missing)} "
                     "(subclass vm.scheduling.Policy)")
    return spec


class Policy:
    """The interface between the scheduler and a policy (subclass it).

    The scheduler calls, all on the node's thread:

    - `attach(ctx)` once, when installed: `ctx.slice` is the node's reductions
      per slice, `ctx.rng` a random.Random (seeded from the node's seed),
      `ctx.virtual` whether the clock is virtual.
    - `runnable(pid, priority, reason, now)`: `pid` can run. `reason` is
      "new" (spawned), "woken" (its wait ended), "preempted" (its slice ran
      out) or "yielded". A pid is reported runnable at most once until it
      is picked.
    - `pick(now)`: who runs next: a pid reported runnable and not picked since,
      or `(pid, reductions)` to grant a slice of that length (1 to
      MAX_GRANT; the node's slice when not given). Called only while at
      least one process is runnable.
    - `ran(pid, runtime, reductions, outcome, now)`: the slice `pick` started
      ended after `runtime` seconds (node clock) and `reductions`; `outcome`
      is "preempted", "yielded", "parked" or "exited". A process preempted
      or yielding is reported `runnable` right after.
    - `exited(pid)`: `pid` is dead (also when it dies while runnable: it is
      then no longer runnable, and must not be picked).

    After a switch of policy, `ran` and `exited` may name a pid this policy
    was never told about: ignore it.
    """

    name = "policy"

    def attach(self, ctx: PolicyContext) -> None:
        self.ctx = ctx

    def detach(self) -> None:
        """Another policy replaces this one."""

    def runnable(self, pid, priority, reason, now) -> None:
        raise NotImplementedError

    def pick(self, now):
        raise NotImplementedError

    def ran(self, pid, runtime, reductions, outcome, now) -> None:
        pass

    def exited(self, pid) -> None:
        pass

    def describe(self) -> dict:
        """The policy's settings, for reports."""
        return {"name": self.name}


class Beam(Policy):
    """BEAM's policy, as the built-in one runs it (a template for your own):
    `max` and `high` are strict priorities (each queue runs before the next
    one gets a turn); `normal` and `low` share a queue in which a `low`
    process is passed over 8 times while `normal` ones wait; round robin with
    a slice of the node's reductions. Without a seed it makes the same
    choices as the built-in policy (which, on a real clock, also puts a
    process woken by a timer or a socket at the front of its queue)."""

    name = "beam-python"
    RESCHEDULE_LOW = 8

    def attach(self, ctx):
        self.ctx = ctx
        self.queues: dict[str, deque] = {"max": deque(), "high": deque(), "normal": deque()}
        self.queued = {}  # pid -> its priority, while runnable
        self.skips = {}  # low pid -> times passed over

    def runnable(self, pid, priority, reason, now):
        self.queued[pid] = priority
        self.queues["normal" if priority == "low" else priority].append(pid)

    def pick(self, now):
        queued = self.queued
        for level in ("max", "high", "normal"):
            q = self.queues[level]
            while q:
                pid = q.popleft()
                priority = queued.get(pid)
                if priority is None:
                    continue  # it died while runnable
                if priority == "low" and self._normal_waiting(q):
                    n = self.skips.get(pid, 0)
                    if n < self.RESCHEDULE_LOW:
                        self.skips[pid] = n + 1
                        q.append(pid)
                        continue
                self.skips.pop(pid, None)
                del queued[pid]
                return pid, self.ctx.slice
        raise AssertionError("pick() called with no runnable process")

    def _normal_waiting(self, q, n=16):
        for i, pid in enumerate(q):
            if i >= n:
                return False
            priority = self.queued.get(pid)
            if priority is not None and priority != "low":
                return True
        return False

    def exited(self, pid):
        self.queued.pop(pid, None)
        self.skips.pop(pid, None)


#: Stride's and Lottery's tickets, VirtualRuntime's weights, by priority:
#: proportional shares instead of BEAM's strict levels (Linux's nice 5, 0,
#: -5, -10 weights for low, normal, high, max).
WEIGHTS = {"low": 335, "normal": 1024, "high": 3121, "max": 9548}


class _Shares(Policy):
    """Shared by the proportional-share policies: each process has a weight (its
    tickets), from its priority unless given its own with `set_weight`; the
    runnable ones wait in a heap ordered by a key the subclass keeps."""

    def __init__(self, weights=None):
        w = dict(WEIGHTS)
        if weights is not None:
            if type(weights) is not dict:
                raise BadArg(f"{type(self).__name__}: weights must be a dict, not {show(weights)}")
            unknown = set(weights) - set(w)
            bad = [v for v in weights.values() if type(v) is not int or v < 1]
            if unknown or bad:
                raise BadArg(f"{type(self).__name__}: weights maps priorities (low, normal, "
                             f"high, max) to ints >= 1, not {show(weights)}")
            w.update(weights)
        self.by_priority = w
        self.by_pid: dict = {}

    def set_weight(self, pid, weight):
        """Give `pid` its own weight (tickets), whatever its priority; it counts from
        the next time it becomes runnable."""
        if type(weight) is not int or weight < 1:
            raise BadArg(f"set_weight: weight must be an int >= 1, not {show(weight)}")
        self.by_pid[pid] = weight

    def attach(self, ctx):
        self.ctx = ctx
        self.key: dict = {}  # pid -> its key (pass, virtual runtime), kept across waits
        self.queued: dict = {}  # pid -> (weight, sequence number of its heap entry)
        self.heap: list = []
        self.seq = 0
        self.running = None  # (pid, weight) of the slice running now

    def _push(self, pid, priority, key):
        w = self.by_pid.get(pid) or self.by_priority[priority]
        self.key[pid] = key
        self.seq += 1
        self.queued[pid] = (w, self.seq)
        heapq.heappush(self.heap, (key, self.seq, pid))

    def _pop(self):
        """The runnable pid with the least key (ties: the earlier arrival)."""
        while True:
            key, seq, pid = heapq.heappop(self.heap)
            entry = self.queued.get(pid)
            if entry is not None and entry[1] == seq:  # else it died while runnable
                del self.queued[pid]
                self.running = (pid, entry[0])
                return key, pid, entry[0]

    def _ran_weight(self, pid):
        r = self.running
        self.running = None
        return r[1] if r is not None and r[0] == pid else None

    def exited(self, pid):
        self.by_pid.pop(pid, None)
        self.key.pop(pid, None)
        self.queued.pop(pid, None)

    def describe(self):
        return {"name": self.name, "weights": dict(self.by_priority)}


class Stride(_Shares):
    """Stride scheduling (Waldspurger and Weihl, 1995): each process holds
    tickets (its weight); its stride is BIG / tickets; the process with the
    lowest pass runs next, and a slice advances its pass by its stride times
    the share of a full slice it used. A process that becomes runnable after
    a wait (or new) joins no earlier than the global pass, the pass of the
    last process picked: it cannot bank credit while asleep. Deterministic:
    ties go to the earlier arrival."""

    name = "stride"
    BIG = 1 << 20

    def attach(self, ctx):
        super().attach(ctx)
        self.global_pass = 0.0

    def runnable(self, pid, priority, reason, now):
        p = self.key.get(pid)
        if p is None or reason == "woken":
            p = self.global_pass if p is None else max(p, self.global_pass)
        self._push(pid, priority, p)

    def pick(self, now):
        p, pid, _ = self._pop()
        self.global_pass = p
        return pid, self.ctx.slice

    def ran(self, pid, runtime, reductions, outcome, now):
        w = self._ran_weight(pid)
        if w is not None and pid in self.key:
            self.key[pid] += (self.BIG / w) * max(reductions, 1) / self.ctx.slice


class Lottery(_Shares):
    """Lottery scheduling (Waldspurger and Weihl, 1994): each pick draws a ticket
    at random among the runnable processes' tickets (their weights), so a
    process's share is proportional to its tickets in expectation. Draws come
    from the node's seed, so a seeded run is reproducible."""

    name = "lottery"

    def runnable(self, pid, priority, reason, now):
        self._push(pid, priority, 0)  # the key is unused: draws choose

    def pick(self, now):
        queued = self.queued
        draw = self.ctx.rng.randrange(sum(w for w, _ in queued.values()))
        for pid, (w, _) in queued.items():
            draw -= w
            if draw < 0:
                del queued[pid]
                return pid, self.ctx.slice
        raise AssertionError("unreachable: the draw is below the total")

    def _push(self, pid, priority, key):
        # No heap: the dict of runnable pids (in arrival order) is the whole state.
        self.queued[pid] = (self.by_pid.get(pid) or self.by_priority[priority], 0)


class VirtualRuntime(_Shares):
    """A CFS-like policy (Linux's Completely Fair Scheduler, simplified): each
    process accumulates virtual runtime, its run time scaled by 1024 / weight;
    the one with the least runs next. A slice's length is its weight's share
    of `latency` (seconds in which every runnable process should run once),
    at least `min_granularity`, converted to reductions at the rate the node
    has been running them. A process that wakes up rejoins at no less than
    the smallest virtual runtime minus half the latency (sleeper credit,
    bounded); a new one starts at the smallest virtual runtime."""

    name = "cfs"

    def __init__(self, weights=None, latency=0.006, min_granularity=0.00075):
        super().__init__(weights)
        for what, v in (("latency", latency), ("min_granularity", min_granularity)):
            if type(v) not in (int, float) or not 0 < v < 3600:
                raise BadArg(f"VirtualRuntime: {what} must be seconds > 0, not {show(v)}")
        self.latency = float(latency)
        self.min_granularity = float(min_granularity)

    def attach(self, ctx):
        super().attach(ctx)
        self.min_vruntime = 0.0
        self.rate = None  # reductions per second, measured from the slices

    def runnable(self, pid, priority, reason, now):
        v = self.key.get(pid)
        if v is None:
            v = self.min_vruntime
        elif reason == "woken":
            v = max(v, self.min_vruntime - self.latency / 2)
        self._push(pid, priority, v)

    def pick(self, now):
        v, pid, w = self._pop()
        total = w + sum(e[0] for e in self.queued.values())
        share = max(self.latency * w / total, self.min_granularity)
        grant = self.ctx.slice if self.rate is None else int(min(max(share * self.rate, 1),
                                                                  MAX_GRANT))
        self.min_vruntime = max(self.min_vruntime, min(v, self._least_queued(v)))
        return pid, grant

    def _least_queued(self, default):
        heap, queued = self.heap, self.queued
        while heap:
            _, seq, pid = heap[0]
            entry = queued.get(pid)
            if entry is not None and entry[1] == seq:
                return heap[0][0]
            heapq.heappop(heap)  # a dead process's entry
        return default

    def ran(self, pid, runtime, reductions, outcome, now):
        if runtime > 0 and reductions > 0:
            r = reductions / runtime
            self.rate = r if self.rate is None else 0.8 * self.rate + 0.2 * r
        w = self._ran_weight(pid)
        if w is not None and pid in self.key:
            self.key[pid] += runtime * 1024 / w

    def describe(self):
        return super().describe() | {"latency": self.latency,
                                     "min_granularity": self.min_granularity}


#: The policies known by name (besides "beam", the built-in one).
POLICIES = {"beam-python": Beam, "stride": Stride, "lottery": Lottery, "cfs": VirtualRuntime}
