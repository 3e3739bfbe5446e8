"""Clocks and the timer queue.

What this module owns:

- `RealClock` and `VirtualClock`. Both answer `now()` in seconds. A virtual
  clock moves only when the scheduler finds every process waiting and jumps
  it to the next deadline, so a test of a 5 s supervisor period runs in
  microseconds and never flakes.
- `TimerQueue`: a heap of `Timer` entries ordered by deadline, then by
  creation order (so two timers for the same instant fire in the order they
  were set, on every run).

Cancelling is lazy: a cancelled entry stays in the heap, marked, until it
reaches the top. gen_server calls set a 5 s timer and cancel it a few
microseconds later, so the heap could fill with dead entries; when they
outnumber the live ones the heap is rebuilt without them (amortised O(1)).

What it refuses: deciding what a timer does when it fires. A `Timer` carries
a kind and a target; the scheduler acts on it.
"""

from __future__ import annotations

import heapq
import time
from typing import Any, Literal

# A park whose timeout is armed lazily (see Scheduler.arm_timeout): the
# process's `undo` holds this until a sweep turns it into a real Timer.
LAZY = type("LazyTimeout", (), {"__repr__": lambda self: "<lazy timeout>"})()

INFINITY = float("inf")

# Timer kinds.
WAKE = 0  # wake a parked process (receive timeout, sleep); target is the Process
SEND = 1  # deliver `msg` to `target` (a Pid or a registered name): send_after / start_timer
CALL = 2  # call `msg()` in the scheduler (internal helpers)


class RealClock:
    virtual: Literal[False] = False
    now = staticmethod(time.monotonic)


class VirtualClock:
    """Time that only moves when the scheduler advances it.

    It jumps to the next deadline when every process waits, and it creeps
    forward by `SECONDS_PER_REDUCTION` for each reduction a slice used, so
    that a timer still fires among processes that never wait (a 4000-
    reduction slice is 4 ms of virtual time). Both moves depend only on
    what the processes did, never on the wall clock: runs are reproducible.
    """

    virtual: Literal[True] = True
    SECONDS_PER_REDUCTION = 1e-6

    def __init__(self, start: float = 0.0) -> None:
        self._t = start

    def now(self) -> float:
        return self._t

    def advance_to(self, t: float) -> None:
        if t > self._t:
            self._t = t

    def charge(self, reductions: int) -> None:
        self._t += reductions * self.SECONDS_PER_REDUCTION


class Timer:
    __slots__ = ("deadline", "seq", "kind", "target", "msg", "ref", "cancelled")

    def __init__(self, deadline: float, seq: int, kind: int, target: Any, msg: Any,
                 ref: Any) -> None:
        self.deadline = deadline
        self.seq = seq
        self.kind = kind
        self.target = target
        self.msg = msg
        self.ref = ref
        self.cancelled = False

    def __lt__(self, other: Timer) -> bool:
        return (self.deadline, self.seq) < (other.deadline, other.seq)


class TimerQueue:
    __slots__ = ("_heap", "_seq", "_dead")

    def __init__(self) -> None:
        self._heap: list = []
        self._seq = 0
        self._dead = 0

    def __len__(self) -> int:
        return len(self._heap) - self._dead

    def add(self, deadline: float, kind: int, target: Any, msg: Any = None,
            ref: Any = None) -> Timer:
        self._seq += 1
        t = Timer(deadline, self._seq, kind, target, msg, ref)
        heapq.heappush(self._heap, (deadline, self._seq, t))
        return t

    def never(self, kind: int, target: Any, msg: Any = None, ref: Any = None) -> Timer:
        """A timer for an infinite time: it is never queued and never fires, but
        it can be read and cancelled like any other."""
        self._seq += 1
        return Timer(INFINITY, self._seq, kind, target, msg, ref)

    def cancel(self, t: Timer) -> None:
        if t.cancelled:
            return
        t.cancelled = True
        if t.deadline == INFINITY:
            return  # never queued
        self._dead += 1
        heap = self._heap
        if self._dead > 256 and self._dead * 2 > len(heap):
            heap[:] = [e for e in heap if not e[2].cancelled]  # in place: the loop holds it
            heapq.heapify(heap)
            self._dead = 0

    def next_deadline(self) -> float | None:
        """The earliest live deadline, or None."""
        heap = self._heap
        while heap and heap[0][2].cancelled:
            heapq.heappop(heap)
            self._dead -= 1
        return heap[0][0] if heap else None

    def pop_due(self, now: float) -> list:
        """Remove and return the live timers whose deadline is <= now, in order."""
        heap = self._heap
        due = []
        while heap and heap[0][0] <= now:
            t = heapq.heappop(heap)[2]
            if t.cancelled:
                self._dead -= 1
            else:
                t.cancelled = True  # fired: a later cancel must report False
                due.append(t)
        return due
