"""The runtime: everything a running node is, behind the public `vm.Node`.

What this module owns: `Runtime`, the private state of one node and the
operations on it that are not hot (those are `vm._core`'s, and `Runtime`
extends `_core.Core`, the state they touch). Its parts, each with one owner:

    process table      procs, next_id; spawning (`spawn_process`), death
                       (`kill`, `exit_self`, the drain of cascades)
    run queues         rq, rq_high, rq_max (the `_core` primitives), priorities
    timer queue        timers, lazily armed receive timeouts, send timers
    registry           names (`_registry.py` holds the rules)
    aliases            aliases (`_signals.py` holds the rules)
    instruments        ins (`_instrument.py`), hooks installed with set_hooks
    I/O waits          io (`_io.IOWaits`), the selector, the wake-up socket
    dirty pool         `_io.DirtyPool`; to_process workers: `_ports.ProcessPool`
    doors              post() from other threads; the requests they queued

What a node *does* with this state (the loop, idling, the body of every
process) is `_scheduler.py`; its lifecycle and threads are `_node.py`.

What it refuses: being public. Only `vm/` touches a Runtime; stdlib, tools
and tests reach a node through `vm.Node`, `vm` and the documented functions
of `vm.lowlevel`, so this class may change behind them.
"""

from __future__ import annotations

import contextlib
import os
import random
import selectors
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from greenlet import GreenletExit, getcurrent

from . import _accounting, _core, _io, _policy, _ports, _signals
from ._core import MAX_REDUCTIONS, NORMAL_PRIORITY, Core, Mailbox, Process
from ._heap import copy_term
from ._instrument import Instruments
from ._memory import set_max_heap
from ._process import EXITING, RECEIVING, RUNNABLE, WAITING, _Killed
from ._scheduler import POOL_IDLE, after_slice, entry, initial_call
from ._timers import CALL, LAZY, SEND, WAKE, RealClock, Timer, TimerQueue, VirtualClock
from .code import decided_codes as _decided_codes
from .code import ensure_instrumented, forget_decisions
from .errors import BadArg, VMError, show
from .terms import Atom, Pid, Ref, new_pid, new_ref

NORMAL = Atom("normal")
KILLED = Atom("killed")
# Receive timeouts of at least LAZY_MIN seconds are armed lazily: the process
# is noted in a dict, and a sweep every SWEEP_EVERY seconds turns the notes
# still waiting into real timers (long before their deadline, so they fire on
# time). A gen_server call's 5 s timeout is set and cleared within
# microseconds almost always; a dict insert and delete is several times
# cheaper than a heap push, a Timer and its cancellation.
LAZY_MIN = 0.02
SWEEP_EVERY = 0.005
_creations = iter(range(1, 1 << 30))
# Priority names, kept as these exact objects so hot paths can test with `is`.
_PRIORITY = {"low": "low", "normal": NORMAL_PRIORITY, "high": "high", "max": "max"}


def check_priority(level: object) -> str:
    canonical = _PRIORITY.get(level) if isinstance(level, str) else None
    if canonical is None:
        raise BadArg(f"priority must be one of 'low', 'normal', 'high', 'max', not {show(level)}")
    return canonical


def _seconds_or_none(value: object, what: str) -> float | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                              or value <= 0):
        raise BadArg(f"{what} must be seconds > 0 or None, not {show(value)}")
    return value


class Runtime(Core):
    """One node's state and its cold operations (see the module docstring)."""

    def __init__(self, *, name: str, reductions: int = 4000, seed: int | None = None,
                 clock: str = "real", preempt: bool = True, slice_time: float | None = 0.00025,
                 dirty_threads: int = _io.DIRTY_MAX, long_slice: float | None = 0.1,
                 timeslice: float | None = None) -> None:
        if type(reductions) is not int or not 1 <= reductions <= MAX_REDUCTIONS:
            raise BadArg(
                f"reductions must be an int from 1 to {MAX_REDUCTIONS:_} (default 4000), "
                f"not {show(reductions)}"
            )
        if clock not in ("real", "virtual"):
            raise BadArg(f"clock must be 'real' or 'virtual', not {show(clock)}")
        if seed is not None and type(seed) is not int:
            raise BadArg(f"seed must be an int or None, not {show(seed)}")
        if type(dirty_threads) is not int or dirty_threads < 1:
            raise BadArg(f"dirty_threads must be an int >= 1 (default {_io.DIRTY_MAX}), "
                         f"not {show(dirty_threads)}")
        _seconds_or_none(slice_time, "slice_time")
        self.long_slice = _seconds_or_none(long_slice, "long_slice")
        self.timeslice = _seconds_or_none(timeslice, "timeslice")
        Core.__init__(self, name, next(_creations), reductions)
        self.compile_checks = bool(preempt)  # compile reduction checks into spawned code
        # Wall-time bound on a slice of compiled code (vm._core.timed_check); off
        # when the run must be reproducible (a seed or a virtual clock).
        self.slice_time = slice_time if (seed is None and clock == "real") else None
        if self.compile_checks:
            forget_decisions()
        self.seed = seed
        self.rng = random.Random(seed) if seed is not None else None
        self.clock = VirtualClock() if clock == "virtual" else RealClock()
        self.now = self.clock.now
        self.names: dict[str, Process] = {}  # registered name -> Process
        self.pool: list = []  # finished greenlets waiting to be reused
        self.n_low = 0
        self.n_heap_limits = 0  # processes with max_heap_size set: checked after slices
        self.timers = TimerQueue()
        self.timer_heap = self.timers._heap  # the same list for the node's life
        self.timer_refs: dict = {}  # Ref -> Timer, for cancel_timer / read_timer
        self.deadlines: dict = {}  # Process -> deadline of a lazily armed receive timeout
        self.sweep_pending = False
        self.ins = Instruments(self)
        self.dying: deque = deque()
        self.draining = False
        self.stopping = False
        self.interrupted = False  # set by the node's SIGINT handler (a real Ctrl-C)
        self.exit_hooks: tuple = ()  # run first when a process dies (vm.lowlevel.add_exit_hook)
        self.waiters = 0  # parks that something outside the run queue will end (I/O, dirty)
        # Dirty jobs and to_process calls in flight: a virtual clock waits for
        # them (in real time, up to the next deadline) before it jumps ahead.
        self.outside_work = 0
        self.idling = False  # inside idle(): the watchdog does not count that as a slice
        self.long_slice_seen = None  # (start, where, pid, what) set by the watchdog thread
        self.background = False  # runs on a thread of its own (Node.start)
        self.front: Any = None  # the public vm.Node over this runtime
        self.main_result: Any = None
        self.main_reason: Any = None
        self.started_at: float | None = None  # time.monotonic() when the loop started
        self.started_now: float | None = None  # the node's clock then
        self.idle_time = 0.0  # real seconds spent idle (real clock only)
        self.jumped = 0.0  # virtual seconds skipped while idle (virtual clock only)
        self.dirty_threads = dirty_threads
        self.dirty: _io.DirtyPool | None = None  # the dirty pool, made on first use
        self.workers: _ports.ProcessPool | None = None  # to_process workers, made on first use
        # doors from other threads (post) and the selector that wakes the node
        self.external: deque = deque()
        self.post_lock = threading.Lock()
        self.closed = False
        self.sel: selectors.BaseSelector | None = None
        self.wake_r: socket.socket | None = None
        self.wake_w: socket.socket | None = None
        self.woken = False

    # ------------------------------------------------------------------
    # the hot primitives, as methods (each defined once, in vm._core)

    park = _core.park
    preempt = _core.preempt
    switch_out = _core.switch_out
    account = _core.account
    enqueue = _core.enqueue

    def deliver(self, target: Process, msg: Any, token: Any = None) -> None:
        """Put an already-copied message in `target`'s mailbox; wake it if receiving."""
        _core.deliver(self, target, msg, token)

    def queue_builtin(self, p: Process, front: bool) -> None:
        """Queue the runnable `p` in BEAM's run queues (the built-in policy): `low`
        shares the normal queue; `front` puts a normal process at its head."""
        pr = p.priority
        if pr is NORMAL_PRIORITY:
            if front:
                self.rq.appendleft(p)
            else:
                self.rq.append(p)
        elif pr == "low":
            self.rq.append(p)
        elif pr == "high":
            self.rq_high.append(p)
            self.need_slow_path()
        else:
            self.rq_max.append(p)
            self.need_slow_path()

    def take_builtin_queued(self) -> list[Process]:
        """Empty BEAM's run queues of runnable processes (highest priority first);
        dead ones waiting to be unwound stay."""
        out: list[Process] = []
        for q in (self.rq_max, self.rq_high, self.rq):
            keep = [p for p in q if p.state is not RUNNABLE]
            out.extend(p for p in q if p.state is RUNNABLE)
            q.clear()
            self.rq.extend(keep)
        return out

    # ------------------------------------------------------------------
    # accounting and policies (`_policy.Seam`, `_accounting`, `vm.scheduling`)

    def seam(self) -> _policy.Seam:
        if self.sched is None:
            self.sched = _policy.Seam(self)
            self.need_slow_path()
        return self.sched

    def _drop_seam_if_idle(self) -> None:
        if self.sched is not None and self.sched.idle():
            self.sched = None
            self.slice = self.base_slice
            self.need_slow_path()

    def set_policy(self, policy: Any) -> Any:
        """Install `policy` (None: the built-in one); returns the previous one."""
        old = self.sched.policy if self.sched is not None else None
        if policy is None and self.sched is None:
            return None
        self.seam().set_policy(policy)
        self._drop_seam_if_idle()
        return old

    def set_accounting(self, on: bool, timeline: bool = False) -> bool:
        """Switch per-process accounting on (afresh) or off; returns whether it was on."""
        was = self.sched is not None and self.sched.acct is not None
        if on or self.sched is not None:
            self.seam().set_accounting(on, timeline)
            self._drop_seam_if_idle()
        return was

    def set_msacc(self, on: bool) -> bool:
        """Switch microstate accounting on (afresh) or off; returns whether it was on."""
        was = self.msacc is not None
        if self.msacc is not None:
            self.msacc.close()
            self.msacc = None
        if on:
            self.msacc = _accounting.Msacc()
        self.need_slow_path()
        return was

    def after_slice(self, p: Process, used: int) -> None:
        after_slice(self, p, used)

    # ------------------------------------------------------------------
    # identifiers

    def make_pid(self) -> Pid:
        i = self.next_id
        self.next_id = i + 1
        return new_pid(self.name, i, 0, self.creation)

    def make_ref(self) -> Ref:
        return new_ref(self.name, self.new_ref_id(), self.creation)

    def lookup(self, pid: Pid) -> Process | None:
        """The live Process for a local pid, or None."""
        if pid.creation != self.creation or pid.node != self.name:
            return None
        p = self.procs.get(pid.id)
        if p is None or p.state is EXITING:
            return None
        return p

    # ------------------------------------------------------------------
    # spawning and priorities

    def spawn_process(self, parent: Process | None, fn: Callable, args: tuple = (),
                      kwargs: dict | None = None, *, link: bool = False, monitor: bool = False,
                      priority: str = "normal", max_heap: Any = None,
                      is_main: bool = False) -> tuple[Process, Ref | None]:
        """Create a process (it starts when the scheduler picks it); return (process, ref)."""
        if parent is not None and parent.state is EXITING:
            # A dead process's finally blocks cannot start processes.
            raise _Killed("spawn: the calling process is already dead (killed, now running "
                          "its finally blocks); a dead process cannot spawn, link, monitor, "
                          "register or start timers")
        if not callable(fn):
            raise BadArg(f"spawn needs a callable, not {type(fn).__name__}: {show(fn)}")
        if priority is not NORMAL_PRIORITY:
            check_priority(priority)  # before anything changes: a failed spawn leaves no trace
        ms = self.msacc
        if ms is not None:  # the state of a failed spawn is put right by the next change
            prev = ms.enter(_accounting.SPAWN)
        if self.compile_checks and getattr(fn, "__code__", None) not in _decided_codes:
            ensure_instrumented(fn)
        if args:
            args = copy_term(tuple(args))
        if kwargs:
            kwargs = copy_term(dict(kwargs))
        p = self.pool.pop() if self.pool else Process(entry, self.hub)
        pid = self.make_pid()
        _core.fill_record(self, p, pid, parent, (fn, args, kwargs), is_main)
        if max_heap is not None:
            try:
                set_max_heap(self, p, max_heap)  # checks everything, then sets
            except BaseException:
                self.pool.append(p)
                raise
        if priority is not NORMAL_PRIORITY:
            self.set_priority(p, priority)  # cannot fail: checked above
        self.procs[pid.id] = p
        p.state = RUNNABLE
        _core.enqueue(self, p)
        if self.on_spawn:  # before the link/monitor events, as dbg shows them
            self.ins.emit("spawn", parent.pid if parent is not None else None, pid,
                          initial_call(p))
        ref = None
        if parent is not None:
            if link:
                _signals.add_link(self, parent, p)
            if monitor:
                ref = _signals.add_monitor(self, parent, p, pid)
        if ms is not None:
            ms.enter(prev)
        return p, ref

    def set_priority(self, p: Process, level: object) -> str:
        canonical = check_priority(level)
        old = p.priority
        if old == "low":
            self.n_low -= 1
        p.priority = canonical
        if canonical == "low":
            self.n_low += 1
            p.low_skips = 0
            self.need_slow_path()
        else:
            p.low_skips = None
        return old

    # ------------------------------------------------------------------
    # ending a park

    def cancel_undo(self, p: Process) -> None:
        """Cancel what `p`'s park registered (a timer, a lazy timeout, a callable)."""
        u = p.undo
        if u is not None:
            p.undo = None
            if type(u) is Timer:
                self.timers.cancel(u)
            elif u is LAZY:
                self.deadlines.pop(p, None)
            else:
                u()

    def make_runnable(self, p: Process) -> None:
        """End `p`'s park (from the hub or another process): cancel its undo, queue it."""
        self.cancel_undo(p)
        p.state = RUNNABLE
        _core.enqueue(self, p)

    def wake_from_outside(self, p: Process) -> None:
        """End `p`'s park for something outside the processes (a timer, a socket, a
        dirty job, another thread): cancel its undo and queue it.

        On a real clock a slice is cut by wall time, and such a wake-up goes to the
        front of its run queue: it was ready the moment the slice was cut, and
        behind eight CPU-bound processes whose iterations last a millisecond it
        would otherwise wait eight milliseconds. Processes woken by messages keep
        their place at the back, as on BEAM; so does everything under a seed or a
        virtual clock, where runs must be reproducible.
        """
        self.cancel_undo(p)
        p.state = RUNNABLE
        front = self.slice_time is not None
        if self.sched is not None:
            self.sched.runnable(p, front)
        else:
            self.queue_builtin(p, front)

    # ------------------------------------------------------------------
    # timers

    def arm_timeout(self, p: Process, timeout: float) -> None:
        """Arm the timeout of `p`'s coming park(s); `p.timed_out` is set when it fires."""
        deadline = self.now() + timeout
        if timeout >= LAZY_MIN:
            self.deadlines[p] = deadline
            p.undo = LAZY
            if not self.sweep_pending:
                self.sweep_pending = True
                self.timers.add(deadline - timeout + SWEEP_EVERY, CALL, None, self.sweep)
        else:
            p.undo = self.timers.add(deadline, WAKE, p)

    def disarm_timeout(self, p: Process) -> None:
        u = p.undo
        p.undo = None
        if u is LAZY:
            self.deadlines.pop(p, None)
        elif type(u) is Timer:
            self.timers.cancel(u)

    def sweep(self) -> None:
        """Turn lazily armed timeouts still waiting into real timers."""
        self.sweep_pending = False
        deadlines = self.deadlines
        if deadlines:
            add = self.timers.add
            for p, d in deadlines.items():
                if p.undo is LAZY:
                    p.undo = add(d, WAKE, p)
            deadlines.clear()

    def add_timer(self, seconds: float, kind: Any, target: Any, msg: Any = None,
                  ref: Ref | None = None) -> Timer:
        return self.timers.add(self.now() + seconds, kind, target, msg, ref)

    def fire_timers(self) -> None:
        for t in self.timers.pop_due(self.now()):
            kind = t.kind
            if kind == WAKE:
                p = t.target
                if p.undo is t:
                    p.undo = None
                p.timed_out = True
                if p.state is RECEIVING or p.state is WAITING:
                    # The wait ends here, whatever it waited on (a socket and a
                    # dirty job with a timeout also registered an undo).
                    self.wake_from_outside(p)
            elif kind == SEND:
                self._fire_send_timer(t)
            else:
                t.msg()

    def _fire_send_timer(self, t: Timer) -> None:
        if t.ref is not None:
            self.timer_refs.pop(t.ref, None)
        dest = t.target
        if type(dest) is Process:
            if dest.timers is not None:
                dest.timers.discard(t)
            if dest.state is not EXITING:
                self._deliver_from_outside(dest, t.msg)
        else:  # a registered name, looked up at expiry; dropped if unregistered
            p = self.names.get(dest)
            if p is not None:
                self._deliver_from_outside(p, copy_term(t.msg))

    def _deliver_from_outside(self, target: Process, msg: Any) -> None:
        """Deliver a timer's message: a receiver it wakes is woken as from outside."""
        if target.state is RECEIVING:
            mb = target.mailbox
            if mb is None:
                mb = target.mailbox = Mailbox()
            mb.q.append(msg)
            target.received += 1
            self.wake_from_outside(target)
        else:
            _core.deliver(self, target, msg, None)

    # ------------------------------------------------------------------
    # death

    def kill(self, p: Process, reason: Any) -> None:
        """Make `p` dead now: it stops running, its links and monitors fire.

        Safe to call for the running process (it raises `_Killed` when the VM
        call that caused this returns) and for any parked or runnable one.
        """
        if p.state is EXITING:
            return
        was_queued = p.state is RUNNABLE
        p.state = EXITING
        p.exit_reason = reason
        if not was_queued and p and p is not getcurrent():
            self.rq.append(p)  # the hub unwinds its stack when it comes up
        self.dying.append(p)
        if not self.draining:
            self._drain()

    def exit_self(self, p: Process, reason: Any) -> None:
        """The running process `p` finished: it is dead from now on."""
        p.state = EXITING
        p.exit_reason = reason
        if self.draining:
            self.dying.append(p)
            return
        self.draining = True
        try:
            _signals.process_died(self, p)
            self._drain_queued()
        finally:
            self.draining = False

    def _drain(self) -> None:
        self.draining = True
        try:
            self._drain_queued()
        finally:
            self.draining = False

    def _drain_queued(self) -> None:
        dying = self.dying
        while dying:
            _signals.process_died(self, dying.popleft())

    def halt(self, reason: Any) -> None:
        """Stop the node: its first process dies with `reason` (so `vm.run` raises
        ProcessExit(reason)); a node on its own thread just stops."""
        for p in self.procs.values():
            if p.is_main and p.state is not EXITING:
                self.kill(p, reason)
                break
        self.stopping = True
        self.need_slow_path()

    # ------------------------------------------------------------------
    # doors from other threads

    def post(self, fn: Callable[[], Any]) -> None:
        """Run `fn()` on the node's thread between two slices (callable from any thread).

        Raises `VMError("node stopped")` once the node has stopped. A request
        that also has a `fail(exc)` method (see `_node._Request`) is failed with
        that error if the node stops before running it, so no thread waits forever.
        """
        with self.post_lock:
            if self.closed:
                raise VMError("node stopped: it no longer accepts requests from other threads")
            self.external.append(fn)
        self.attention = True
        self.need_slow_path()  # the loop's fast path does not look at `attention`
        self.wake()

    def close_door(self) -> None:
        """Refuse new requests, and fail those still queued (the node is stopping)."""
        with self.post_lock:
            self.closed = True
            left = list(self.external)
            self.external.clear()
        stopped = VMError("node stopped before it could run this request")
        for request in left:
            fail = getattr(request, "fail", None)
            if fail is not None:
                fail(stopped)

    def service(self) -> None:
        """Run the requests other threads posted."""
        self.attention = False
        ext = self.external
        while ext:
            ext.popleft()()

    def selector(self) -> selectors.BaseSelector:
        """The node's selector (made on first use), with the wake-up socket in it."""
        if self.sel is None:
            sel = self.sel = selectors.DefaultSelector()
            wake_r, wake_w = self.wake_r, self.wake_w = socket.socketpair()
            wake_r.setblocking(False)
            wake_w.setblocking(False)
            sel.register(wake_r, selectors.EVENT_READ, None)
        return self.sel

    def wake(self) -> None:
        """Wake the node's thread out of its selector wait (any thread)."""
        if self.wake_w is not None and not self.woken:
            self.woken = True
            with contextlib.suppress(BlockingIOError, OSError):
                self.wake_w.send(b"\0")

    # ------------------------------------------------------------------
    # the pools and the descriptor waits (vm/_io.py, vm/_ports.py)

    def dirty_pool(self) -> _io.DirtyPool:
        """The node's dirty pool, made on first use."""
        pool = self.dirty
        if pool is None:
            self.selector()  # its workers wake the node through the selector
            pool = self.dirty = _io.DirtyPool(self, self.dirty_threads)
        return pool

    def process_pool(self) -> _ports.ProcessPool:
        """The node's worker subprocesses for vm.to_process, made on first use."""
        pool = self.workers
        if pool is None:
            pool = self.workers = _ports.ProcessPool(self)
        return pool

    def io_waits(self) -> _io.IOWaits:
        if self.io is None:
            self.io = _io.IOWaits(self)
        return self.io

    # ------------------------------------------------------------------
    # stopping

    def shutdown(self) -> None:
        """Kill every process still alive (newest first) and unwind its stack."""
        self.stopping = True
        self.close_door()
        for p in sorted(self.procs.values(), key=lambda q: -q.pid.id):
            if p.state is not EXITING:
                self.kill(p, KILLED)
        if self.sched is not None:
            self.rq.extend(self.sched.queued())
        for q in (self.rq_max, self.rq_high, self.rq):
            while q:
                _unwind(q.popleft())
        if self.msacc is not None:
            self.msacc.close()
        self.trim_pool(0)
        self.procs.clear()
        if self.dirty is not None:
            self.dirty.close()
        if self.workers is not None:
            self.workers.close()
        if self.sel is not None:
            self.sel.close()
            if self.wake_r is not None and self.wake_w is not None:  # made with sel
                self.wake_r.close()
                self.wake_w.close()
            self.sel = None

    def trim_pool(self, keep: int = POOL_IDLE) -> None:
        """End pooled greenlets until `keep` remain (GreenletExit makes the entry return)."""
        while len(self.pool) > keep:
            self.pool.pop().throw(GreenletExit)

    # ------------------------------------------------------------------
    # statistics (for vm.statistics and the observer)

    def run_queue_lengths(self) -> dict[str, int]:
        """Runnable processes by priority, in BEAM's queues or under a policy."""
        out = {"max": 0, "high": 0, "normal": 0, "low": 0}
        queued = [*self.rq_max, *self.rq_high, *self.rq]
        if self.sched is not None:
            queued += self.sched.queued()
        for p in queued:
            if p.state is RUNNABLE:
                out[p.priority] += 1
        return out

    def scheduler_wall_time(self) -> dict[str, float]:
        """OTP's statistics(scheduler_wall_time) for the node's one scheduler:
        `total` seconds since it started and the `active` part (not idle), in
        the node's clock (virtual time skipped while idle is idle)."""
        if self.started_now is None:
            return {"active": 0.0, "total": 0.0}
        total = self.now() - self.started_now
        idle = self.jumped if self.clock.virtual else self.idle_time
        return {"active": max(0.0, total - idle), "total": total}

    def statistics(self) -> dict[str, Any]:
        elapsed = (time.monotonic() - self.started_at) if self.started_at else 0.0
        busy = max(0.0, elapsed - self.idle_time) if not self.clock.virtual else None
        return {
            "processes": len(self.procs),
            "run_queue": self.run_queue_lengths(),
            "context_switches": self.context_switches,
            "reductions": self.total_reductions,
            "uptime": elapsed,
            "idle_time": self.idle_time,
            "utilization": (busy / elapsed) if busy is not None and elapsed > 0 else None,
            "registered": len(self.names),
            "timers": len(self.timers),
            "dirty": (self.dirty.stats() if self.dirty is not None
                      else _io.DirtyPool.unused_stats(self.dirty_threads)),
            "io_waits": sum(len(w) for w in self.io.by_fd.values()) if self.io else 0,
            "workers": (self.workers.stats() if self.workers is not None
                        else _ports.ProcessPool.unused_stats()),
            "pid": os.getpid(),
        }


def _unwind(p: Process) -> None:
    if p:  # started and not finished: run its finally blocks
        # It raises _Killed from where it waited (switch_out); a dying stack
        # may raise anything.
        with contextlib.suppress(BaseException):
            p.switch()
