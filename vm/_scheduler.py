"""The scheduler: the loop, what a node does when nothing is runnable, and the
body every process greenlet runs.

What this layer promises:

1. One node runs on one OS thread; its processes are greenlets whose parent
   is the node's own greenlet, the *hub*, which runs `loop`. A process gives
   up the thread only through `park` (it waits for something) or `preempt`
   (its reductions ran out, or it yielded), both ending in `switch_out`
   (`vm._core`), which accounts for the slice and then switches straight to
   the next process in the run queue (direct handoff, in the order the hub
   would pick) or, when anything special is pending, to the hub. Process
   code never touches a run queue.
2. A slice is a budget of reductions (default 4000). VM operations charge
   the running process's `budget`, and so do the checks compiled into its
   code (vm.code); when it reaches zero the process goes to the back of its
   run queue. On a real clock without a seed, a slice of compiled code also
   ends after `slice_time` of wall time while others wait.
3. Priorities follow OTP: `max` and `high` are strict; `low` shares the
   `normal` queue and is passed over 8 times before it runs (RESCHEDULE_LOW).
4. Every wait is cancellable in one place: a parked process's `undo` (a
   timer, a lazily armed timeout, or a callable) is cancelled by whoever
   abandons the wait (`Runtime.cancel_undo`).
5. A dead process's stack is unwound by switching into it: `switch_out`
   raises `_Killed` in its own greenlet when it finds it EXITING (cheaper
   than greenlet.throw), so its `finally` blocks run; then its greenlet goes
   back to the pool for the next spawn.
6. Timers fire between slices; when nothing is runnable the node sleeps
   until the next deadline, waits on its selector (cross-thread wakeups,
   sockets), or, with a virtual clock, jumps time forward (`idle`). With a
   seed, the pick among runnable processes is pseudo-random and
   reproducible.

The fast path of the loop tests one flag, `special`; everything else
(stopping, requests from other threads, timers, high and max priorities,
low processes, a seed, slice instruments, heap limits, I/O waits, a
virtual clock, an empty queue) raises it (`Core.need_slow_path`) and goes
through `pick_slow`, the only place that clears it.

What it refuses: the meaning of signals (`_signals.py`), names
(`_registry.py`), the runtime's state (`_runtime.py`), threads and
lifecycle (`_node.py`), and the public API (`_api.py`).
"""

from __future__ import annotations

import logging
import time
from typing import TYPE_CHECKING, Any

from greenlet import GreenletExit, getcurrent

from . import _accounting, _io, _signals
from ._core import IO_POLL_INTERVAL, NORMAL_PRIORITY, switch_in
from ._heap import _SCALARS, is_term
from ._memory import check_max_heap
from ._process import EXITING, RUNNABLE, _Hibernate, _Killed
from ._watchdog import report_long_slice
from .errors import Deadlock, Exit, VMInternalError
from .terms import Crash

if TYPE_CHECKING:
    from collections.abc import Iterable

    from ._core import Process
    from ._runtime import Runtime

log = logging.getLogger("beamlet.process")
NORMAL = _signals.NORMAL
# Finished process greenlets kept for reuse. Creating a greenlet costs more
# than the rest of a spawn together (each gets a fresh Python data stack,
# mapped and unmapped by the allocator); reusing one makes spawn about twice
# as cheap. A burst of spawns within one slice (up to 4000) can all reuse
# greenlets freed by the previous burst; when the node goes idle the pool is
# trimmed back to POOL_IDLE so a burst does not pin memory.
POOL_MAX = 8192
POOL_IDLE = 256

RESCHEDULE_LOW = 8
# The longest single wait on the selector or in time.sleep (epoll refuses more
# than about 24.8 days; a day keeps well clear of every platform's limit).
MAX_WAIT = 86400.0


# ----------------------------------------------------------------------
# the loop


def loop(rt: Runtime) -> None:
    """Run slices until the node stops. Runs in the hub greenlet."""
    rq = rt.rq
    slice_ = rt.slice
    timer_heap = rt.timer_heap
    now = rt.now
    while True:
        if rt.special:
            p = pick_slow(rt)
            if p is None:
                if rt.stopping:
                    return
                continue
            if p.state is RUNNABLE:
                switch_in(p, rt.slice)  # a policy may have granted another length
                p.switch()
                continue
        else:
            if timer_heap and timer_heap[0][0] <= now():
                rt.fire_timers()
            if rq:
                p = rq.popleft()
            else:
                rt.need_slow_path()
                continue
        if p.state is not RUNNABLE:
            if p.state is EXITING and p:
                # Unwind a dead process's stack: it resumes in switch_out, which
                # raises _Killed in its own greenlet (greenlet.throw costs about
                # 7 us; a plain raise about 1 us). Its finally blocks run on a
                # fresh budget, so the slice it closes counts what they spend.
                p.budget = rt.slice
                p.switch()
            continue
        switch_in(p, slice_)
        p.switch()
        # Back in the hub: the process that switched here (p, or another one p
        # handed off to) has already accounted for its slice (switch_out).


def pick_slow(rt: Runtime) -> Process | None:
    """The next process to run, handling everything the fast path does not."""
    if rt.stopping:
        return None
    ms = rt.msacc
    if rt.attention:
        rt.service()
    th = rt.timer_heap
    if th and th[0][0] <= rt.now():
        if ms is not None:
            ms.enter(_accounting.TIMERS)
        rt.fire_timers()
    if rt.waiters and not rt.clock.virtual:
        now = rt.now()
        if now - rt.last_poll >= IO_POLL_INTERVAL:
            rt.last_poll = now
            if ms is not None:
                ms.enter(_accounting.IO)
            poll(rt, 0)
    if ms is not None:
        ms.enter(_accounting.SCHEDULER)
    sched = rt.sched
    if sched is not None and sched.policy is not None:
        p = sched.pick()
        if p is None:
            idle(rt)
            return None
        return _picked(rt, p)
    q = rt.rq_max or rt.rq_high or rt.rq
    if not q:
        idle(rt)
        return None
    if rt.rng is not None and len(q) > 1:
        q.rotate(-rt.rng.randrange(len(q)))
    p = q.popleft()
    if p.low_skips is not None and p.state is RUNNABLE:
        # OTP: a low process is passed over RESCHEDULE_LOW times while normal
        # ones wait, so it gets about one turn in eight.
        if p.low_skips < RESCHEDULE_LOW and len(q) >= 1 and _normal_waiting(q):
            p.low_skips += 1
            q.append(p)
            return None
        p.low_skips = 0
    return _picked(rt, p)


def _picked(rt: Runtime, p: Process) -> Process:
    """`p` runs next: recompute the slow-path flag, tell whoever watches."""
    rt.special = bool(
        rt.stopping or rt.attention or rt.rq_max or rt.rq_high
        or rt.rng is not None or rt.n_low or rt.slice_hooks or rt.n_heap_limits
        or rt.clock.virtual or rt.waiters or rt.long_slice_seen is not None
        or rt.sched is not None or rt.msacc is not None
    )
    if p.state is RUNNABLE:
        if rt.sched is not None:
            rt.sched.started(p)
        if rt.on_slice_start:
            rt.ins.emit("slice_start", p.pid)
        if rt.msacc is not None:
            rt.msacc.enter(_accounting.PROCESS)
    return p


def after_slice(rt: Runtime, p: Process, used: int) -> None:
    """What a slice's end needs while `special` is raised (`_core.account`)."""
    if rt.long_slice_seen is not None:
        report_long_slice(rt, p)
    if rt.msacc is not None:
        rt.msacc.enter(_accounting.SCHEDULER)
    if rt.clock.virtual:
        rt.clock.charge(used)
    if rt.sched is not None:
        rt.sched.ended(p, used)
    if rt.on_slice_end:
        rt.ins.emit("slice_end", p.pid, used)
    if p.max_heap is not None and p.state is not EXITING:
        check_max_heap(rt, p)


def _normal_waiting(q: Iterable[Process], n: int = 16) -> bool | None:
    """Is a normal-priority process among the first n of run queue q?"""
    for i, x in enumerate(q):
        if i >= n:
            return False
        if x.priority is NORMAL_PRIORITY:
            return True
    return False


# ----------------------------------------------------------------------
# nothing runnable


def idle(rt: Runtime) -> None:
    """Nothing is runnable: wait for a timer, a request, or I/O."""
    if rt.stopping or rt.attention:
        return
    ms = rt.msacc
    if ms is None:
        _idle(rt)
        return
    ms.enter(_accounting.OUTSIDE if rt.outside_work else _accounting.IDLE)
    try:
        _idle(rt)
    finally:
        ms.enter(_accounting.SCHEDULER)


def _idle(rt: Runtime) -> None:
    if len(rt.pool) > POOL_IDLE:
        rt.trim_pool()
    if rt.deadlines:
        rt.sweep()  # lazily armed timeouts must be real timers before we sleep
    deadline = rt.timers.next_deadline()
    can_be_woken = rt.background or rt.waiters > 0
    if rt.clock.virtual:
        if can_be_woken and _poll(rt, 0):
            return
        if deadline is not None:
            # Work running outside the node (a to_thread job, a to_process call)
            # takes no virtual time: wait for it before jumping to the next timer,
            # else a 10 ms job would lose the race to a 60 s timeout. The wait is
            # real and bounded by the virtual gap, so a job that hangs still lets
            # the timeout fire. Sockets do not hold the clock: a peer may never
            # answer, and simulated time is what tests of timeouts want.
            if rt.outside_work > 0 and _wait_outside_work(rt, deadline - rt.now()):
                return
            rt.jumped += max(0.0, deadline - rt.now())
            rt.clock.advance_to(deadline)
            return
        if not can_be_woken:
            raise deadlock(rt)
        rt.idling = True
        try:
            _poll(rt, None)
        finally:
            rt.idling = False
        return
    if deadline is None and not can_be_woken:
        raise deadlock(rt)
    t0 = rt.now()
    # A deadline may be years away (a 30-day send_after, sleep(1e20)); the
    # selector and time.sleep cannot wait that long, so wait at most MAX_WAIT
    # and come back round: the deadline itself is kept.
    timeout = None if deadline is None else min(MAX_WAIT, max(0.0, deadline - t0))
    rt.idling = True
    try:
        if rt.sel is not None:
            _poll(rt, timeout)
        elif timeout:
            time.sleep(timeout)
    finally:
        rt.idling = False
    rt.idle_time += rt.now() - t0


def _wait_outside_work(rt: Runtime, gap: float) -> bool:
    """Virtual clock: wait (real time, at most `gap` s) while outside work runs.

    True when something woke the node meanwhile (the scheduler looks again).
    """
    end = time.monotonic() + min(MAX_WAIT, max(0.0, gap))
    rt.idling = True
    try:
        while rt.outside_work > 0:
            left = end - time.monotonic()
            if left <= 0:
                return False
            if _poll(rt, left):
                return True
        return True
    finally:
        rt.idling = False


def poll(rt: Runtime, timeout: float | None) -> bool:
    return _poll(rt, timeout) if rt.sel is not None else False


def _poll(rt: Runtime, timeout: float | None) -> bool:
    """Wait on the selector; dispatch what is ready. True if anything was."""
    io = rt.io
    if io is not None and io.by_fd:
        # Descriptors closed under a wait are found by a sweep; keep it going.
        if time.monotonic() - io.last_sweep >= _io.CLOSED_SWEEP:
            io.sweep_closed()
        if timeout is None or timeout > _io.CLOSED_SWEEP:
            timeout = _io.CLOSED_SWEEP
    events = rt.selector().select(timeout)
    for key, mask in events:
        if key.data is None:
            # Drain first, then allow the next wake-up byte: in the other order a
            # byte sent in between could be drained while `woken` stays set, and
            # a later post() would send nothing (a lost wakeup).
            try:
                while rt.wake_r.recv(4096):  # type: ignore[union-attr]  # made with sel
                    pass
            except (BlockingIOError, OSError):
                pass
            rt.woken = False
        else:
            key.data(key, mask)
    return bool(events)


def deadlock(rt: Runtime) -> Deadlock:
    from ._introspect import current_function

    waiting = [p for p in rt.procs.values() if p.state is not EXITING]
    lines = []
    for p in waiting[:10]:
        cf = current_function(p)
        where = "{}.{}/{:d}".format(*cf) if cf else "?"
        lines.append(f"  {p.pid!r} {p.state} in {where}")
    more = f"\n  ... and {len(waiting) - 10} more" if len(waiting) > 10 else ""
    return Deadlock(
        f"every process is waiting and nothing can wake one ({len(waiting)} waiting, "
        f"no timers pending):\n" + "\n".join(lines) + more +
        "\nA receive with timeout=None waits forever; did a reply get lost, or does "
        "a process wait for itself?"
    )


# ----------------------------------------------------------------------
# the body of every process greenlet


def initial_call(p: Process) -> tuple[str, str, int]:
    """(module, qualified name, arity) of the function a process was spawned with."""
    fn = p.init_fn
    code = getattr(fn, "__code__", None)
    mod = getattr(fn, "__module__", None) or "?"
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__
    arity = code.co_argcount if code is not None else 0
    return (mod, name, arity)


def entry() -> None:
    """The body of every process greenlet: run a process, then wait in the pool for the next."""
    p = getcurrent()
    while True:
        if p.state is not EXITING:
            _run_process(p)
        rt = p.node
        rt.account(p)  # its last slice
        if rt.stopping or len(rt.pool) >= POOL_MAX:
            return None
        p.init_fn = None
        rt.pool.append(p)
        try:
            # Resumed by the scheduler once spawn_process reuses us (or, when that
            # new process was killed before it ran, to come straight back here).
            rt.hub.switch()
        except GreenletExit:  # the pool is being trimmed
            return None


def _run_process(p: Process) -> None:
    rt = p.node
    fn, args, kwargs = p.entry  # type: ignore[misc]  # set by spawn_process
    p.entry = None
    result = None
    reason: Any  # the exit reason: normal, a Crash, or what vm.exit gave
    while True:
        try:
            # Plain calls, not fn(*args): CPython inlines a Python-to-Python call
            # into the running eval loop, while a star-call starts a new C-level
            # eval frame, and every C frame is saved with an idle greenlet's
            # stack (about half a kilobyte per idle process).
            if kwargs:
                result = fn(*args, **kwargs)
            elif not args:
                result = fn()
            elif len(args) == 1:
                result = fn(args[0])
            elif len(args) == 2:
                result = fn(args[0], args[1])
            elif len(args) == 3:
                result = fn(args[0], args[1], args[2])
            else:
                result = fn(*args)
            reason = NORMAL
        except _Hibernate as h:
            fn, args, kwargs = h.fn, h.args, h.kwargs
            del h
            try:
                _signals.wait_for_message(rt, p)
            except _Killed:
                return
            continue
        except _Killed:
            return
        except Exit as e:
            reason = e.reason
            if type(reason) not in _SCALARS and not is_term(reason):
                # It must travel in EXIT and DOWN messages: replace it by a term
                # that names the problem instead of failing the node.
                reason = Crash("vm.errors.Unsendable",
                               f"the exit reason {reason!r} is not a term; exit with a term "
                               "(atoms, numbers, strings, tuples, lists, dicts, pids)", "")
                log.error("Error in process %r: %s", p.pid, reason.message,
                          extra={"pid": p.pid, "report": {"label": "crash", "pid": p.pid,
                                                          "reason": reason}})
        except GreenletExit:
            raise
        except KeyboardInterrupt as e:
            if rt.interrupted:  # Ctrl-C: it stops the node (see _node.py)
                raise
            reason = _crash(p, e)  # raised by code: a crash like any other
        except BaseException as e:
            if p.state is EXITING:
                return
            reason = _crash(p, e)  # SystemExit too: sys.exit() ends the process, not the node
        break
    if p.state is EXITING:
        return
    if p.is_main:
        rt.main_result = result
    rt.exit_self(p, reason)


def _crash(p: Process, e: BaseException) -> Crash:
    """The exit reason of a process whose code raised `e`, reported as a crash."""
    reason = Crash.from_exception(e)
    log.error(
        "Error in process %r with exit value: %s\n%s",
        p.pid, f"{reason.exc_type}: {reason.message}", reason.traceback.rstrip(),
        extra={"pid": p.pid, "report": {"label": "crash", "pid": p.pid, "reason": reason}},
    )
    return reason


def internal_error(exc: BaseException) -> VMInternalError:
    err = VMInternalError(f"internal error in beamlet (please file a bug): {exc!r}")
    err.__cause__ = exc
    return err
