"""The scheduler: run queues, the loop, and the park/wake primitives.

What this layer promises:

1. One node runs on one OS thread; its processes are greenlets whose parent
   is the scheduler's own greenlet, the *hub*. A process gives up the
   thread only through `park` (it waits for something) or `preempt` (its
   reductions ran out, or it yielded), both ending in `switch_out`, which
   accounts for the slice and then switches straight to the next process
   in the run queue (direct handoff, in the order the hub would pick) or,
   when anything special is pending, to the hub. Process code never touches
   a run queue.
2. A slice is a budget of reductions (default 4000). VM operations charge
   the running process's `budget`, and so do the checks compiled into its
   code (vm.code); when it reaches zero the process is put at the back of
   its run queue. On a real clock without a seed, a slice of compiled
   code also ends after `slice_time` of wall time while others wait.
3. Priorities follow OTP: `max` and `high` are strict; `low` shares the
   `normal` queue and is passed over 8 times before it runs (RESCHEDULE_LOW).
4. Every wait is cancellable in one place: a parked process's `undo`
   (a timer, a lazily armed timeout, or a callable) is cancelled by whoever
   abandons the wait (`cancel_undo`).
4b. A dead process's stack is unwound by switching into it: `switch_out`
   raises `_Killed` in its own greenlet when it finds it EXITING (cheaper
   than greenlet.throw), so its `finally` blocks run; then its greenlet goes
   back to the pool for the next spawn.
5. Timers fire between slices; when nothing is runnable the loop sleeps until
   the next deadline, waits on its selector (cross-thread wakeups, sockets),
   or, with a virtual clock, jumps time forward. With a seed, the pick
   among runnable processes is pseudo-random and reproducible.

What it refuses: the meaning of signals (`_signals.py`), names
(`_registry.py`), threads and lifecycle (`_node.py`), and the public API
(`_api.py`). The loop below is meant to be read on one screen.
"""

from __future__ import annotations

import logging
import random
from collections import deque

from greenlet import GreenletExit, getcurrent

from . import _signals
from ._heap import _SCALARS, copy_term, is_term
from ._instrument import Instruments
from ._mailbox import Mailbox
from ._process import (
    EXITING,
    RECEIVING,
    RUNNABLE,
    RUNNING,
    WAITING,
    Process,
    _Hibernate,
    _Killed,
)
from ._timers import CALL, LAZY, SEND, WAKE, RealClock, Timer, TimerQueue, VirtualClock
from .code import decided_codes as _decided_codes
from ._watchdog import report_long_slice
from .code import CHARGE, GRANT_NOW, PROBE, ensure_instrumented, forget_decisions, set_grant
from .errors import BadArg, Exit, VMInternalError, show
from .terms import Atom, Crash, Pid, Ref, new_pid, new_ref

log = logging.getLogger("beamlet.process")

NORMAL = Atom("normal")
KILLED = Atom("killed")
RESCHEDULE_LOW = 8
# Receive timeouts of at least LAZY_MIN seconds are armed lazily: the process
# is noted in a dict, and a sweep every SWEEP_EVERY seconds turns the notes
# still waiting into real timers (long before their deadline, so they fire on
# time). A gen_server call's 5 s timeout is set and cleared within
# microseconds almost always; a dict insert and delete is several times
# cheaper than a heap push, a Timer and its cancellation.
LAZY_MIN = 0.02
SWEEP_EVERY = 0.005
# While processes wait on sockets or the dirty pool, poll the selector at
# least this often (seconds) between slices, even when the run queue is busy.
IO_POLL_INTERVAL = 0.001
# Finished process greenlets kept for reuse. Creating a greenlet costs more
# than the rest of a spawn together (each gets a fresh Python data stack,
# mapped and unmapped by the allocator); reusing one makes spawn about twice
# as cheap. A burst of spawns within one slice (up to 4000) can all reuse
# greenlets freed by the previous burst; when the node goes idle the pool is
# trimmed back to POOL_IDLE so a burst does not pin memory.
POOL_MAX = 8192
POOL_IDLE = 256
_creations = iter(range(1, 1 << 30))
# Priority names, kept as these exact objects so hot paths can test with `is`.
_PRIORITY = {"low": "low", "normal": "normal", "high": "high", "max": "max"}
NORMAL_PRIORITY = _PRIORITY["normal"]


class Scheduler:
    def __init__(self, *, reductions=4000, seed=None, clock="real", name="nonode@nohost",
                 preempt=True, slice_time=0.00025):
        if type(reductions) is not int or reductions < 1:
            raise BadArg(f"reductions must be a positive int (default 4000), not {show(reductions)}")
        if clock not in ("real", "virtual"):
            raise BadArg(f"clock must be 'real' or 'virtual', not {show(clock)}")
        if seed is not None and type(seed) is not int:
            raise BadArg(f"seed must be an int or None, not {show(seed)}")
        self.name = name
        self.creation = next(_creations)
        self.slice = reductions
        self.compile_checks = bool(preempt)  # compile reduction checks into spawned code (vm.code)
        if slice_time is not None and (isinstance(slice_time, bool)
                                       or not isinstance(slice_time, (int, float))
                                       or slice_time <= 0):
            raise BadArg(f"slice_time must be seconds > 0 or None, not {show(slice_time)}")
        # Wall-time bound on a slice of compiled code (code.py); off when the run
        # must be reproducible (a seed or a virtual clock): wall time is not.
        self.slice_time = slice_time if (seed is None and clock == "real") else None
        self.slice_mark = -1
        self.slice_t0 = self.check_t = 0.0
        self.checks = 0  # reduction checks run (vm.code): the watchdog watches it move
        self.check_n = 0  # iterations handed out at the last timed check (vm.code)
        if self.compile_checks:
            forget_decisions()
        self.seed = seed
        self.rng = random.Random(seed) if seed is not None else None
        self.clock = VirtualClock() if clock == "virtual" else RealClock()
        self.now = self.clock.now
        self.procs: dict = {}  # pid id -> Process
        self.names: dict = {}  # registered name -> Process
        self.pool: list = []  # finished greenlets waiting to be reused
        self._next_id = 1
        self._next_ref = 1
        self.rq_max: deque = deque()
        self.rq_high: deque = deque()
        self.rq: deque = deque()  # normal and low
        self.n_low = 0
        self.n_heap_limits = 0  # processes with max_heap_size set: checked after each slice
        self.timers = TimerQueue()
        self.timer_heap = self.timers._heap  # the same list for the node's life
        self.timer_refs: dict = {}  # Ref -> Timer, for cancel_timer / read_timer
        self.aliases: dict = {}  # active alias ref.id -> (owner Process, mode)
        self.deadlines: dict = {}  # Process -> deadline of a lazily armed receive timeout
        self.sweep_pending = False
        self.special = True  # the loop must take its slow path (see loop())
        self.ins = Instruments(self)  # sets self.on_<event>, self.slice_hooks
        self.hub = None
        self.dying: deque = deque()
        self._draining = False
        self.stopping = False
        self.interrupted = False  # set by the node's SIGINT handler (a real Ctrl-C)
        self.exit_hooks = ()  # run first when a process dies (vm.lowlevel.add_exit_hook)
        self.attention = False  # set (by any thread) when service() has work
        self.waiters = 0  # parks that something outside the run queue will end (I/O, dirty pool)
        self.last_poll = 0.0
        self.idling = False  # inside idle(): the watchdog does not count that as a slice
        self.long_slice_seen = None  # (start, where, pid, what) set by the watchdog thread
        self.io = None  # IOWaits, made on first use (Node.io_waits)
        self.dist = None  # the distribution hook (vm/_remote.py), set by vm.dist.start
        # statistics
        self.context_switches = 0
        self.total_reductions = 0
        self.idle_time = 0.0

    # ------------------------------------------------------------------
    # identifiers

    def make_pid(self) -> Pid:
        i = self._next_id
        self._next_id = i + 1
        return new_pid(self.name, i, 0, self.creation)

    def make_ref(self) -> Ref:
        i = self._next_ref
        self._next_ref = i + 1
        return new_ref(self.name, i, self.creation)

    def lookup(self, pid):
        """The live Process for a local pid, or None."""
        if pid.creation != self.creation or pid.node != self.name:
            return None
        p = self.procs.get(pid.id)
        if p is None or p.state is EXITING:
            return None
        return p

    # ------------------------------------------------------------------
    # spawning

    def spawn_process(self, parent, fn, args=(), kwargs=None, *, link=False, monitor=False,
                      priority="normal", max_heap=None, is_main=False):
        """Create a process (it starts when the scheduler picks it); return (process, ref)."""
        if parent is not None and parent.state is EXITING:
            raise _Killed()  # a dead process's finally blocks cannot start processes
        if not callable(fn):
            raise BadArg(f"spawn needs a callable, not {type(fn).__name__}: {show(fn)}")
        if priority is not NORMAL_PRIORITY:
            _check_priority(priority)  # before anything changes: a failed spawn leaves no trace
        if self.compile_checks and getattr(fn, "__code__", None) not in _decided_codes:
            ensure_instrumented(fn)
        if args:
            args = copy_term(tuple(args))
        if kwargs:
            kwargs = copy_term(dict(kwargs))
        p = self.pool.pop() if self.pool else Process(_entry, self.hub)
        i = self._next_id
        self._next_id = i + 1
        pid = p.pid = new_pid(self.name, i, 0, self.creation)
        p.node = self
        p.mailbox = None
        p.received = 0
        p.budget = self.slice
        p.grant = CHARGE if self.slice_time is None else PROBE
        p.reductions = 0
        p.trap_exit = False
        p.links = p.monitors = p.monitored_by = p.dictionary = None
        p.name = p.timers = p.undo = p.exit_reason = p.label = p.aliases = p.ref_mark = None
        p.token = parent.token if parent is not None else None  # spawned work joins the trace
        p.timed_out = False
        p.entry = (fn, args, kwargs)
        p.init_fn = fn
        p.parent_pid = parent.pid if parent is not None else None
        p.max_heap = None
        p.max_heap_kill = p.max_heap_log = True
        p.is_main = is_main
        p.priority = NORMAL_PRIORITY
        p.low_skips = None
        if max_heap is not None:
            try:
                _signals.set_max_heap(self, p, max_heap)  # checks everything, then sets
            except BaseException:
                self.pool.append(p)
                raise
        if priority is not NORMAL_PRIORITY:
            self.set_priority(p, priority)  # cannot fail: checked above
        self.procs[i] = p
        p.state = RUNNABLE
        if p.priority is NORMAL_PRIORITY:
            self.rq.append(p)
        else:
            self.enqueue(p)
        if self.on_spawn:  # before the link/monitor events, as dbg shows them
            self.ins.emit("spawn", parent.pid if parent is not None else None, pid,
                          initial_call(p))
        ref = None
        if parent is not None:
            if link:
                _signals.add_link(self, parent, p)
            if monitor:
                ref = _signals.add_monitor(self, parent, p, pid)
        return p, ref

    def set_priority(self, p, level):
        canonical = _check_priority(level)
        old = p.priority
        if old == "low":
            self.n_low -= 1
        p.priority = canonical
        if canonical == "low":
            self.n_low += 1
            p.low_skips = 0
            self.special = True
        else:
            p.low_skips = None
        return old

    # ------------------------------------------------------------------
    # run queues and the park / wake primitives

    def enqueue(self, p):
        pr = p.priority
        if pr is NORMAL_PRIORITY or pr == "low":
            self.rq.append(p)
        elif pr == "high":
            self.rq_high.append(p)
            self.special = True
        else:
            self.rq_max.append(p)
            self.special = True

    def park(self, p, state, undo=None):
        """Called in `p`'s greenlet: wait until someone makes `p` runnable.

        `undo` (a Timer or a callable) is what to cancel if the wait is
        abandoned (the process dies); the waker that ends the wait clears it.
        """
        if p.state is EXITING:
            raise _Killed()
        p.state = state
        p.undo = undo
        self.switch_out(p)

    def preempt(self, p):
        """Called in `p`'s greenlet: go to the back of the run queue."""
        if p.state is EXITING:
            raise _Killed()
        p.state = RUNNABLE
        if p.priority is NORMAL_PRIORITY:
            self.rq.append(p)
        else:
            self.enqueue(p)
        self.switch_out(p)

    def account(self, p):
        """Close `p`'s slice: count the reductions it used (once: the budget resets)."""
        used = self.slice - p.budget
        p.budget = self.slice
        p.reductions += used
        self.total_reductions += used
        self.context_switches += 1
        if self.special:
            self._after_slice(p, used)

    def switch_out(self, p):
        """Called in `p`'s greenlet when it stops running (parked, preempted).

        Direct handoff: when nothing special is pending, the next process in
        the run queue is switched to right here, in the order the hub would
        have picked it, saving a trip through the hub (one greenlet switch
        and one loop turn per message in a ring or a call). Everything else
        (priorities, timers due, instruments, an empty queue) goes through
        the hub. Whoever switches a process in sets it RUNNING with a fresh
        budget; whoever switches out accounts for its own slice.
        """
        used = self.slice - p.budget
        p.budget = self.slice  # accounted: a second account() adds nothing
        p.reductions += used
        self.total_reductions += used
        self.context_switches += 1
        if self.special:
            self._after_slice(p, used)
        else:
            rq = self.rq
            if rq:
                th = self.timer_heap
                if not th or th[0][0] > self.now():
                    q = rq.popleft()
                    # Only to a greenlet that has started: a fresh one starts from
                    # the switching greenlet's recursion depth, and a chain of
                    # them would overflow it. The hub starts fresh ones.
                    if q.state is RUNNABLE and q:
                        q.state = RUNNING
                        q.budget = self.slice
                        if q.grant != GRANT_NOW[0]:
                            set_grant(q.grant)
                        if q is not p:
                            q.switch()
                            if p.state is EXITING:  # killed while it waited
                                raise _Killed()
                        return
                    rq.appendleft(q)  # fresh, or dead and to unwind: the hub does that
        self.hub.switch()
        if p.state is EXITING:  # killed while it waited: unwind from here
            raise _Killed()

    def cancel_undo(self, p):
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

    def make_runnable(self, p):
        """End `p`'s park (from the hub or another process): cancel its undo, queue it."""
        self.cancel_undo(p)
        p.state = RUNNABLE
        self.enqueue(p)

    def wake_from_outside(self, p):
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
        if self.slice_time is not None and p.priority is NORMAL_PRIORITY:
            self.rq.appendleft(p)
        else:
            self.enqueue(p)

    def others_ready(self, now) -> bool:
        """Could anything but the running process run now? The run queues, and also
        what the hub would turn into runnable processes: a due timer, a request
        from another thread (finished dirty jobs post one), a socket (polled at
        most every IO_POLL_INTERVAL)."""
        if self.rq or self.rq_high or self.rq_max or self.attention:
            return True
        th = self.timer_heap
        if th and th[0][0] <= now:
            return True
        io = self.io
        return io is not None and bool(io.by_fd) and now - self.last_poll >= IO_POLL_INTERVAL

    def deliver(self, target, msg):
        """Append an already-copied message to `target`'s mailbox; wake it if receiving."""
        mb = target.mailbox
        if mb is None:
            mb = target.mailbox = Mailbox()
        mb.q.append(msg)
        target.received += 1
        if target.state is RECEIVING:
            target.state = RUNNABLE
            if target.priority is NORMAL_PRIORITY:
                self.rq.append(target)
            else:
                self.enqueue(target)

    # ------------------------------------------------------------------
    # timers

    def arm_timeout(self, p, timeout):
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

    def disarm_timeout(self, p):
        u = p.undo
        p.undo = None
        if u is LAZY:
            self.deadlines.pop(p, None)
        elif type(u) is Timer:
            self.timers.cancel(u)

    def sweep(self):
        """Turn lazily armed timeouts still waiting into real timers."""
        self.sweep_pending = False
        deadlines = self.deadlines
        if deadlines:
            add = self.timers.add
            for p, d in deadlines.items():
                if p.undo is LAZY:
                    p.undo = add(d, WAKE, p)
            deadlines.clear()

    def add_timer(self, seconds, kind, target, msg=None, ref=None):
        return self.timers.add(self.now() + seconds, kind, target, msg, ref)

    def _fire_timers(self):
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

    def _fire_send_timer(self, t):
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

    def _deliver_from_outside(self, target, msg):
        """Deliver a timer's message: a receiver it wakes is woken as from outside."""
        if target.state is RECEIVING:
            mb = target.mailbox
            if mb is None:
                mb = target.mailbox = Mailbox()
            mb.q.append(msg)
            target.received += 1
            self.wake_from_outside(target)
        else:
            self.deliver(target, msg)

    # ------------------------------------------------------------------
    # death

    def kill(self, p, reason):
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
        if not self._draining:
            self._drain()

    def exit_self(self, p, reason):
        """The running process `p` finished: it is dead from now on."""
        p.state = EXITING
        p.exit_reason = reason
        if self._draining:
            self.dying.append(p)
            return
        self._draining = True
        try:
            _signals.process_died(self, p)
            dying = self.dying
            while dying:
                _signals.process_died(self, dying.popleft())
        finally:
            self._draining = False

    def _drain(self):
        self._draining = True
        try:
            dying = self.dying
            while dying:
                _signals.process_died(self, dying.popleft())
        finally:
            self._draining = False

    # ------------------------------------------------------------------
    # the loop

    def loop(self):
        """Run slices until the node stops. Runs in the hub greenlet.

        The fast path pops the normal run queue and runs a slice. Everything
        else (stopping, requests from other threads, timers, high and max
        priorities, low processes, a seed, slice instruments, heap limits,
        an empty queue) raises `self.special` and goes through `_pick_slow`.
        """
        rq = self.rq
        slice_ = self.slice
        timer_heap = self.timer_heap
        grant_now = GRANT_NOW
        now = self.now
        while True:
            if self.special:
                p = self._pick_slow()
                if p is None:
                    if self.stopping:
                        return
                    continue
            else:
                if timer_heap and timer_heap[0][0] <= now():
                    self._fire_timers()
                if rq:
                    p = rq.popleft()
                else:
                    self.special = True
                    continue
            if p.state is not RUNNABLE:
                if p.state is EXITING and p:
                    # Unwind a dead process's stack: it resumes in switch_out,
                    # which raises _Killed in its own greenlet (greenlet.throw
                    # costs about 7 us; a plain raise about 1 us).
                    p.switch()
                continue
            p.state = RUNNING
            p.budget = slice_
            if p.grant != grant_now[0]:
                set_grant(p.grant)
            p.switch()
            # Back in the hub: the process that switched here (p, or another one
            # p handed off to) has already accounted for its slice (switch_out).

    def _pick_slow(self):
        """The next process to run, handling everything the fast path does not."""
        if self.stopping:
            return None
        if self.attention:
            self.service()
        timers = self.timers
        if timers._heap and timers._heap[0][0] <= self.now():
            self._fire_timers()
        if self.waiters and not self.clock.virtual:
            now = self.now()
            if now - self.last_poll >= IO_POLL_INTERVAL:
                self.last_poll = now
                self.poll(0)
        q = self.rq_max or self.rq_high or self.rq
        if not q:
            self.idle()
            return None
        if self.rng is not None and len(q) > 1:
            q.rotate(-self.rng.randrange(len(q)))
        p = q.popleft()
        if p.low_skips is not None and p.state is RUNNABLE:
            # OTP: a low process is passed over RESCHEDULE_LOW times while
            # normal ones wait, so it gets about one turn in eight.
            if p.low_skips < RESCHEDULE_LOW and len(q) >= 1 and _normal_waiting(q):
                p.low_skips += 1
                q.append(p)
                return None
            p.low_skips = 0
        self.special = bool(
            self.stopping or self.attention or self.rq_max or self.rq_high
            or self.rng is not None or self.n_low or self.slice_hooks or self.n_heap_limits
            or self.clock.virtual or self.waiters or self.long_slice_seen is not None
        )
        if self.on_slice_start and p.state is RUNNABLE:
            self.ins.emit("slice_start", p.pid)
        return p

    def _after_slice(self, p, used):
        if self.long_slice_seen is not None:
            report_long_slice(self, p)
        if self.clock.virtual:
            self.clock.charge(used)
        if self.on_slice_end:
            self.ins.emit("slice_end", p.pid, used)
        if p.max_heap is not None and p.state is not EXITING:
            _signals.check_max_heap(self, p)


def _check_priority(level):
    canonical = _PRIORITY.get(level) if isinstance(level, str) else None
    if canonical is None:
        raise BadArg(f"priority must be one of 'low', 'normal', 'high', 'max', not {show(level)}")
    return canonical


def _normal_waiting(q, n=16):
    """Is a normal-priority process among the first n of run queue q?"""
    for i, x in enumerate(q):
        if i >= n:
            return False
        if x.priority is NORMAL_PRIORITY:
            return True
    return False


def initial_call(p):
    """(module, qualified name, arity) of the function a process was spawned with."""
    fn = p.init_fn
    code = getattr(fn, "__code__", None)
    mod = getattr(fn, "__module__", None) or "?"
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or type(fn).__name__
    arity = code.co_argcount if code is not None else 0
    return (mod, name, arity)


def _entry():
    """The body of every process greenlet: run a process, then wait in the pool for the next."""
    p = getcurrent()
    while True:
        if p.state is not EXITING:
            _run_process(p)
        node = p.node
        node.account(p)  # its last slice
        if node.stopping or len(node.pool) >= POOL_MAX:
            return None
        p.init_fn = None
        node.pool.append(p)
        try:
            # Resumed by the scheduler once spawn_process reuses us (or, when that
            # new process was killed before it ran, to come straight back here).
            node.hub.switch()
        except GreenletExit:  # the pool is being trimmed
            return None


def _run_process(p):
    node = p.node
    fn, args, kwargs = p.entry
    p.entry = None
    result = None
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
                _signals.wait_for_message(node, p)
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
            if node.interrupted:  # Ctrl-C: it stops the node (see _node.py)
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
        node.main_result = result
    node.exit_self(p, reason)


def _crash(p, e):
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
