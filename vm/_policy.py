"""The seam between the scheduler loop and whoever observes or steers its choices.

What this module owns: `Seam`, installed on a runtime as `rt.sched` while
per-process accounting is on or a scheduling policy other than the built-in
one runs (`vm.scheduling`). With neither, `rt.sched` is None and the loop's
fast path runs BEAM's queues itself (`_core.enqueue`, `_scheduler.loop`).

While installed, the seam is told of every process that becomes runnable
(`runnable`), every slice's start and end (`started`, `ended`) and every
death (`exited`). It feeds `_accounting.Accounting` and, with a policy,
keeps the runnable processes itself and asks the policy who runs next and
for how many reductions. Every answer is checked before it is used: a
policy can order the runnable processes however it likes, but it cannot
run a process that is not runnable, run none while some are, or grant a
slice of no reductions. An answer that would is a `PolicyError` naming the
policy and the rule, and the node stops with it.

The order of events a policy sees for one process: `runnable` (reason
"new", "woken", "preempted" or "yielded"), then the slice (`ran`, with the
outcome "preempted", "yielded", "parked" or "exited"), then `runnable`
again or, at the end, `exited`. A process preempted or yielding is
reported runnable after its `ran`, so a policy updates its figures first.

What it refuses: the accounting arithmetic (`_accounting.py`), the public
interface and the shipped policies (`vm/scheduling.py`), and the built-in
policy's fast path (`_core`, `_scheduler`).
"""

from __future__ import annotations

from typing import Any

from ._accounting import EXITED, NEW, PARKED, PREEMPTED, WOKEN, YIELDED, Accounting
from ._process import EXITING, RUNNABLE
from .errors import VMError, show
from .terms import Pid

#: The most reductions a policy may grant a slice (a slice is not a sleep).
MAX_GRANT = 10_000_000


class PolicyError(VMError):
    """A scheduling policy answered something the runtime cannot do."""


class PolicyContext:
    """What a policy is told when it is installed (`Policy.attach`)."""

    __slots__ = ("slice", "rng", "seeded", "virtual")

    def __init__(self, rt):
        import random

        self.slice = rt.base_slice  # the node's reductions per slice
        self.seeded = rt.seed is not None
        # Randomised policies (lottery) draw from this: reproducible under a seed.
        self.rng = random.Random(rt.seed if rt.seed is not None else None)
        self.virtual = rt.clock.virtual

    def __repr__(self):
        return f"PolicyContext(slice={self.slice}, seeded={self.seeded})"


class Seam:
    """See the module docstring. One per runtime, made and dropped by `install`."""

    def __init__(self, rt):
        self.rt = rt
        self.policy: Any = None  # a vm.scheduling.Policy (any object with its four methods)
        self.acct: Accounting | None = None
        self.ready: dict = {}  # pid id -> Process runnable under the policy (arrival order)
        self.why: dict = {}  # pid id -> why it became runnable, until its slice starts
        self.running: Any = None  # the Process whose slice the seam saw start, or None
        self.t_start = 0.0
        self.wait = 0.0
        self.reason = None
        self.requeue = None  # None, or `front` of a runnable() deferred to ended()
        self.yielding = False  # set by vm.yield_/sleep(0) before they preempt
        self.exit_seen = False  # the running process died before its slice closed

    # ------------------------------------------------------------------
    # what the runtime tells the seam

    def _why(self, p):
        """Why the runnable `p` became so: as recorded, or (for one that became
        runnable before the seam was there) new if it never ran, else woken."""
        why = self.why.get(p.pid.id)
        if why is None:
            why = NEW if p.entry is not None else WOKEN
        return why

    def runnable(self, p, front):
        """`p` became runnable (`_core.enqueue`, `Runtime.wake_from_outside`)."""
        if p is self.running:
            # Preempted or yielding: its slice is still open. Report the slice
            # first, then this (`ended`), so a policy sees them in order.
            self.requeue = front
            return
        # Not running, so it was parked, or it is new (it has not started yet).
        self._enqueue(p, NEW if p.entry is not None else WOKEN, front)

    def _enqueue(self, p, why, front):
        rt = self.rt
        self.why[p.pid.id] = why
        if self.acct is not None:
            self.acct.ready(p, why, rt.now())
        if self.policy is None:
            rt.queue_builtin(p, front)
            return
        self.ready[p.pid.id] = p
        self.policy.runnable(p.pid, p.priority, why, rt.now())

    def started(self, p):
        """`p`'s slice begins (the loop picked it through `pick_slow`)."""
        self.running = p
        self.exit_seen = False
        now = self.t_start = self.rt.now()
        self.reason = self._why(p)
        self.why.pop(p.pid.id, None)
        self.wait = self.acct.started(p, now) if self.acct is not None else 0.0

    def ended(self, p, used):
        """`p`'s slice closed (`_scheduler.after_slice`) after `used` reductions."""
        if p is not self.running:
            return  # a dead process unwinding its stack, or a slice begun before the seam
        self.running = None
        rt = self.rt
        now = rt.now()
        state = p.state
        if state is EXITING:
            outcome = EXITED
        elif state is RUNNABLE:
            outcome = YIELDED if self.yielding else PREEMPTED
        else:
            outcome = PARKED
        self.yielding = False
        if self.acct is not None:
            self.acct.ended(p, self.t_start, now, used, outcome, self.wait, self.reason)
        if self.policy is not None:
            self.policy.ran(p.pid, now - self.t_start, used, outcome, now)
        if self.exit_seen:
            self._forget(p)
        front = self.requeue
        if front is not None:
            self.requeue = None
            if p.state is RUNNABLE:
                self._enqueue(p, outcome, front)

    def exited(self, p):
        """`p` died (`_signals.process_died`)."""
        if p is self.running:
            self.exit_seen = True  # told after its last slice closes (`ended`)
            return
        if self.ready.pop(p.pid.id, None) is not None and p:
            # It was runnable under the policy: the hub still has to unwind its stack.
            self.rt.rq.append(p)
        self._forget(p)

    def _forget(self, p):
        self.why.pop(p.pid.id, None)
        if self.acct is not None:
            self.acct.exited(p, self.rt.now())
        if self.policy is not None:
            self.policy.exited(p.pid)

    # ------------------------------------------------------------------
    # what the seam asks the policy

    def pick(self):
        """The next process to run and its grant, or None when none is runnable.

        Dead processes waiting to be unwound come first (they run no code of
        their own: the hub switches in to run their finally blocks)."""
        rt = self.rt
        if rt.rq:
            return rt.rq.popleft()
        if not self.ready:
            return None
        answer = self.policy.pick(rt.now())
        if type(answer) is tuple and len(answer) == 2:
            pid, grant = answer
        else:
            pid, grant = answer, rt.base_slice
        if answer is None or type(pid) is not Pid:
            raise PolicyError(
                f"scheduling policy {self._name()} answered {show(answer)} to pick() while "
                f"{len(self.ready)} processes are runnable; pick() must return one of the pids "
                "it was told are runnable (or (pid, reductions))")
        p = self.ready.get(pid.id)
        if p is None or p.pid != pid:
            raise PolicyError(
                f"scheduling policy {self._name()} picked {pid!r}, which is not runnable (it "
                "was not reported runnable, or it already ran or exited since); pick() must "
                "return a pid from runnable() that has not been picked since")
        if type(grant) is not int or not 1 <= grant <= MAX_GRANT:
            raise PolicyError(
                f"scheduling policy {self._name()} granted {show(grant)} reductions to "
                f"{pid!r}; a grant is an int from 1 to {MAX_GRANT}")
        del self.ready[pid.id]
        rt.slice = grant
        return p

    def _name(self):
        name = getattr(self.policy, "name", None)
        return repr(name) if name else type(self.policy).__name__

    # ------------------------------------------------------------------
    # changing what is installed

    def queued(self):
        """The processes runnable under the policy, in arrival order."""
        return list(self.ready.values())

    def set_policy(self, policy):
        """Hand the runnable processes over from the current policy to `policy`."""
        rt = self.rt
        if self.policy is not None:
            moving = list(self.ready.values())
            self.ready.clear()
            old, self.policy = self.policy, None
            detach = getattr(old, "detach", None)
            if detach is not None:
                detach()
        else:
            moving = rt.take_builtin_queued()
        rt.slice = rt.base_slice
        self.policy = policy
        if policy is not None:
            policy.attach(PolicyContext(rt))
        for p in moving:
            if self.policy is None:
                rt.queue_builtin(p, False)
            else:
                self.ready[p.pid.id] = p
                self.policy.runnable(p.pid, p.priority, self._why(p), rt.now())

    def set_accounting(self, on, timeline):
        rt = self.rt
        if on:
            self.acct = Accounting(rt.now(), timeline)
            now = rt.now()
            for p in list(rt.rq_max) + list(rt.rq_high) + list(rt.rq) + self.queued():
                if p.state is RUNNABLE:  # already waiting: its wait is measured from now
                    self.acct.ready(p, self._why(p), now)
        else:
            self.acct = None

    def idle(self) -> bool:
        """Nothing to observe or steer: the seam can go."""
        return self.policy is None and self.acct is None

