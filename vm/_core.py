"""The hot core: the few primitives every message and every slice goes through.

What this module owns, each defined once:

- `Process`, the process record (a greenlet subclass: the record *is* the
  greenlet, so `getcurrent()` answers "which process runs" in one C call);
- `Mailbox` (a list with a head index and holes, see below) and `Traced`
  (a message carrying a trace token);
- `Core`, the part of the runtime's state these primitives touch: run
  queues, slice accounting, the "slow path needed" flag, instrument hooks;
- the primitives: `deliver` (put a message in a mailbox and wake its owner),
  `charge` (spend reductions; preempt when the slice is spent), `park` /
  `preempt` / `switch_out` (give up the thread), `enqueue`, `wake`;
- the hot operations built from them: `send`, `receive` (selective receive
  and its scan included), `call_request` / `reply` (the fused step under
  every OTP call), and the runtime side of the reduction checks compiled
  into process code.

This module is written in Python that Cython can compile (with `_core.pxd`
declaring its types), as gevent and msgpack ship theirs: `pip install`
builds `vm._core_c` when a C compiler and Cython are there, and the last
lines of this module then replace its names with the compiled ones. Without
them (or with `BEAMLET_PURE_PYTHON=1`), this source runs as it is, with the
same semantics. `COMPILED` says which one runs.

What it refuses: anything cold. Spawning, death, timers, names, idling and
the node's lifecycle live in `_runtime.py`, `_signals.py`, `_node.py`; the
hot paths here call into them only for the rare cases (a dead receiver, a
registered name, another node, a priority queue).

The mailbox. BEAM keeps a linked list with a save pointer, so skipping a
message and removing one at the saved position are both O(1). A deque
cannot do that (indexing it is O(i)), so `Mailbox` is a Python list plus a
head index: delivery appends; taking the oldest advances `head`; taking one
from the middle leaves a `HOLE` that scans step over (compacted once holes
outnumber live messages); taking the newest pops it. A scan is one list
index per message. Receive markers: `p.received` counts deliveries, so the
message delivered as number `s` sits at `len(q) - (p.received - s)`;
appending and cutting the front keep that; popping the newest makes it
point one slot early (harmless: one more message looked at); compacting
records `cut`, and a marker older than `cut` scans from the head.
"""

from __future__ import annotations

import builtins
import itertools
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from time import monotonic as _clock
from typing import TYPE_CHECKING, Any

from greenlet import getcurrent, greenlet

from . import _accounting, _registry, _remote
from ._heap import _SCALARS, copy_term
from ._patterns import all_mention, check_timeout, compile_patterns
from ._process import EXITING, RECEIVING, RUNNABLE, RUNNING, _Killed
from .terms import TIMEOUT, Atom, Pid, Ref, new_ref

if TYPE_CHECKING:
    from ._accounting import Msacc
    from ._instrument import Instruments
    from ._io import IOWaits
    from ._policy import Seam
    from ._runtime import Runtime

COMPILED = __name__ != "vm._core"  # True in the compiled module (see the end of this file)

NORMAL_PRIORITY = "normal"  # priority names are interned: hot paths compare with `is`
# The most reductions a slice may have (`reductions=`) and one `bump_reductions`
# charges: the compiled core keeps budgets and reduction counts as C integers,
# and this keeps every sum of them far from overflowing (10**12 reductions is
# hours of work per slice: in effect, never preempted).
MAX_REDUCTIONS = 10**12
CHARGE = 64  # reductions one compiled check charges; the countdown of loops
PROBE = 4  # iterations measured after a slice's first check, and a new process's grant
GAP_TARGET = 50e-6  # seconds between two checks that a process's grant aims for
IO_POLL_INTERVAL = 0.001  # poll the selector at least this often while sockets wait

# Where a message was taken from the middle of a mailbox.
HOLE = type("Hole", (), {"__repr__": lambda self: "<hole>", "__slots__": ()})()
# Cut the dead front off a mailbox's list once it is this long and more than
# half the list; compact holes once there are this many and they outnumber
# the live messages. Both keep the work per message O(1) amortised.
FRONT_CUT = 1024
HOLES_MAX = 1024


# ----------------------------------------------------------------------
# the records


class Process(greenlet):
    """One process. States (`state`), printed by the observer as OTP's statuses:

        RUNNABLE   in its node's run queue, waiting for a slice   -> "runnable"
        RUNNING    the one process executing now                  -> "running"
        RECEIVING  parked in receive; any new message wakes it    -> "waiting"
        WAITING    parked on a timer, I/O or the dirty pool       -> "waiting"
        EXITING    dead: links and monitors have fired, its name  -> "exiting"
                   is released; its stack may still be unwinding

    `undo` cancels what a park registered (a timer, a selector key, a dirty
    job); whoever ends a park calls it exactly once. `links`, `monitors`,
    `monitored_by`, `dictionary`, `timers` are None until first used: an
    idle process must stay small.
    """

    __slots__ = (
        "node",  # the Runtime this process lives on
        "pid",
        "mailbox",  # Mailbox, made on the first delivery, or None
        "received",  # count of messages ever delivered (receive markers)
        "state",
        "budget",  # reductions left in the current slice
        "grant",  # iterations between two reduction checks in its loops
        "reductions",  # reductions of finished slices
        "priority",
        "low_skips",  # times a low-priority process was passed over
        "trap_exit",
        "links",  # set of Pids, or None
        "monitors",  # {ref.id: (target_pid, object, ref)} monitors it holds, or None
        "monitored_by",  # {ref.id: watcher_pid}, or None
        "dictionary",  # the process dictionary, or None
        "name",  # registered name, or None
        "timers",  # set of Timer entries targeting this pid, or None
        "undo",  # cancels the current park, or None
        "timed_out",  # set by a receive timer that fired
        "exit_reason",
        "entry",  # (fn, args, kwargs) until the process starts
        "init_fn",  # the function it was spawned with (initial_call is derived)
        "parent_pid",
        "max_heap",  # words, or None
        "max_heap_kill",
        "max_heap_log",
        "label",
        "aliases",  # set of the ids of the alias refs it owns, or None
        "ref_mark",  # (ref, received) of the last make_ref/monitor: receive marker
        "token",  # its trace token (vm.lowlevel.set_trace_token), or None
        "is_main",
    )

    if TYPE_CHECKING:  # the slots' types, for mypy (the compiled build: _core.pxd)
        node: Runtime
        pid: Pid
        mailbox: Mailbox | None
        received: int
        state: str  # one of vm._process's state names
        budget: int
        grant: int
        reductions: int
        priority: str
        low_skips: int | None  # counted for low-priority processes only
        trap_exit: bool
        links: set[Pid] | None
        monitors: dict[int, tuple] | None
        monitored_by: dict[int, Pid] | None
        dictionary: dict | None
        name: str | None
        timers: set | None
        undo: Any  # a Timer, the lazy-timeout marker, a callable, or None
        timed_out: bool
        exit_reason: Any
        entry: tuple | None
        init_fn: Callable | None
        parent_pid: Pid | None
        max_heap: int | None
        max_heap_kill: bool
        max_heap_log: bool
        label: Any
        aliases: set[int] | None
        ref_mark: tuple | None
        token: Any
        is_main: bool

    def __repr__(self) -> str:
        return f"<Process {self.pid!r} {self.state}>"


class Traced:
    """A message sent by a process that carried a trace token: the token travels
    with it and becomes the receiver's when it is received, as Erlang's
    seq_trace token does. Only the mailbox sees this wrapper."""

    __slots__ = ("msg", "token")

    def __init__(self, msg: Any, token: Any) -> None:
        self.msg = msg
        self.token = token

    def __repr__(self) -> str:
        return f"Traced({self.msg!r}, {self.token!r})"


class Mailbox:
    """A process's queued messages, oldest first (see the module docstring).
    Invariants: `q[head]` is never a hole; `q` is empty exactly when no message
    is queued (so `if mb.q:` asks "anything queued?")."""

    __slots__ = ("q", "head", "holes", "cut", "traced")

    def __init__(self) -> None:
        self.q: list = []
        self.head = 0
        self.holes = 0
        self.cut = 0
        self.traced = 0  # Traced entries queued: scans unwrap only while there are any

    def __len__(self) -> int:
        return len(self.q) - self.head - self.holes

    def __iter__(self) -> Iterator[Any]:
        """The live messages, oldest first (a snapshot: safe to hold)."""
        q = self.q[self.head:]
        if self.traced:
            return iter([m.msg if type(m) is Traced else m for m in q if m is not HOLE])
        if self.holes:
            return iter([m for m in q if m is not HOLE])
        return iter(q)

    def __repr__(self) -> str:
        return f"<Mailbox of {len(self)}>"

    def start(self, received: int, mark: int) -> int:
        """The index a scan that skips messages delivered before `mark` starts at."""
        if mark < self.cut:
            return self.head
        i = len(self.q) - (received - mark)
        return i if i > self.head else self.head

    def take(self, p: Process, i: int) -> Any:
        """Remove and return the entry at index `i` (a live one) of `p`'s mailbox."""
        q = self.q
        msg = q[i]
        if i == self.head:
            self._advance(q, i)
        elif i == len(q) - 1:
            q.pop()
            while q[-1] is HOLE:  # q[head] is live, so this stops there
                q.pop()
                self.holes -= 1
        else:
            q[i] = HOLE
            self.holes += 1
            if self.holes > HOLES_MAX and self.holes * 2 > len(q) - self.head:
                self.q = [m for m in q[self.head:] if m is not HOLE]
                self.head = self.holes = 0
                self.cut = p.received
        return msg

    def popleft(self) -> Any:
        q = self.q
        h = self.head
        msg = q[h]
        if h + 1 == len(q):  # the only message: the usual case in a call or a ring
            q.clear()
            self.head = self.holes = 0
        else:
            self._advance(q, h)
        return msg

    def _advance(self, q: list, h: int) -> None:
        """The entry at the head `h` was taken: move the head past it (and past holes)."""
        h += 1
        if h == len(q):
            q.clear()
            self.head = self.holes = 0
            return
        q[h - 1] = None  # let the message go
        if self.holes:
            while q[h] is HOLE:
                q[h] = None
                h += 1
                self.holes -= 1
        if h > FRONT_CUT and h * 2 > len(q):
            del q[:h]  # keeps every marker's index (see the module docstring)
            h = 0
        self.head = h

    def remove_first(self, p: Process, pred: Callable[[Any], Any]) -> bool:
        """Remove the oldest message for which `pred(msg)` is true; True if one was."""
        q = self.q
        for i in range(self.head, len(q)):
            m = q[i]
            if m is not HOLE and pred(m):
                self.take(p, i)
                return True
        return False

    def clear(self) -> None:
        self.q = []
        self.head = self.holes = self.traced = 0


# ----------------------------------------------------------------------
# the hot state


class Core:
    """The runtime state the hot primitives touch (the rest of the runtime is
    `_runtime.Runtime`, which extends this). Declared in `_core.pxd`, so a
    compiled core reads these fields at C speed."""

    def __init__(self, name: str, creation: int, reductions: int) -> None:
        self.name = name
        self.creation = creation
        self.slice = reductions  # the running slice's grant (a policy may change it)
        self.base_slice = reductions  # the node's reductions per slice
        # The scheduler seam while accounting or a policy is on; microstate
        # accounting while on.
        self.sched: Seam | None = None
        self.msacc: Msacc | None = None
        self.procs: dict[int, Process] = {}  # pid id -> Process
        self.aliases: dict[int, tuple[Process, str]] = {}  # active alias ref.id -> (owner, mode)
        self.rq_max: deque[Process] = deque()
        self.rq_high: deque[Process] = deque()
        self.rq: deque[Process] = deque()  # normal and low
        self.special = True  # the loop must take its slow path (need_slow_path)
        self.hub: Any = None  # the scheduler's greenlet, once the loop runs
        self.timer_heap: list = []
        self.now: Callable[[], float] = _clock
        self.context_switches = 0
        self.total_reductions = 0
        self.next_ref = 1
        self.next_id = 1
        self.ins: Instruments = None  # type: ignore[assignment]  # set by Runtime.__init__
        self.slice_hooks = False
        # Each a tuple of callables, empty while no instrument wants the event.
        self.on_spawn: tuple = ()
        self.on_exit: tuple = ()
        self.on_send: tuple = ()
        self.on_receive: tuple = ()
        self.on_link: tuple = ()
        self.on_unlink: tuple = ()
        self.on_monitor: tuple = ()
        self.on_demonitor: tuple = ()
        self.on_slice_start: tuple = ()
        self.on_slice_end: tuple = ()
        self.on_long_slice: tuple = ()
        self.slice_time: float | None = None
        self.slice_mark = -1
        self.slice_t0 = 0.0
        self.check_t = 0.0
        self.checks = 0  # reduction checks run: the long-slice watchdog watches it move
        self.check_n = 0  # iterations handed out at the last timed check
        self.attention = False  # set (by any thread) when service() has work
        self.io: IOWaits | None = None  # made on first use
        self.last_poll = 0.0
        self.dist: Any = None  # the distribution hook (vm/_remote.py), set by vm.dist.start

    def need_slow_path(self) -> None:
        """Make the loop take its slow path at its next turn: every writer of the
        flag calls this (threads too: one attribute store is atomic)."""
        self.special = True

    def set_hooks(self, hooks: dict[str, tuple], slice_hooks: bool) -> None:
        """Instruments (`_instrument.py`) install the hooks of every event here:
        `hooks` maps an event name to a tuple of callables (empty when unused)."""
        self.on_spawn = hooks["spawn"]
        self.on_exit = hooks["exit"]
        self.on_send = hooks["send"]
        self.on_receive = hooks["receive"]
        self.on_link = hooks["link"]
        self.on_unlink = hooks["unlink"]
        self.on_monitor = hooks["monitor"]
        self.on_demonitor = hooks["demonitor"]
        self.on_slice_start = hooks["slice_start"]
        self.on_slice_end = hooks["slice_end"]
        self.on_long_slice = hooks["long_slice"]
        self.slice_hooks = slice_hooks
        self.need_slow_path()

    def new_ref_id(self) -> int:
        i = self.next_ref
        self.next_ref = i + 1
        return i

    def others_ready(self, now: float) -> bool:
        """Could anything but the running process run now? The run queues, and also
        what the hub would turn into runnable processes: a due timer, a request
        from another thread (finished dirty jobs post one), a socket (polled at
        most every IO_POLL_INTERVAL)."""
        if self.rq or self.rq_high or self.rq_max or self.attention:
            return True
        if self.sched is not None and self.sched.ready:
            return True  # runnable under a policy
        th = self.timer_heap
        if th and th[0][0] <= now:
            return True
        io = self.io
        return io is not None and bool(io.by_fd) and now - self.last_poll >= IO_POLL_INTERVAL

    # Methods the cold runtime supplies (`_runtime.Runtime`); the primitives
    # below call them only on their slow paths.

    def after_slice(self, p: Process, used: int) -> None:
        raise NotImplementedError

    def queue_builtin(self, p: Process, front: bool) -> None:
        raise NotImplementedError


def fill_record(rt: Runtime, p: Process, pid: Pid, parent: Process | None, entry: tuple,
                is_main: bool) -> None:
    """Make `p` (a fresh record, or one reused from the pool) the record of a new
    process `pid` that will run `entry`, (fn, args, kwargs): every field as a
    spawn sets it, so nothing of a previous process survives."""
    p.pid = pid
    p.node = rt
    p.mailbox = None
    p.received = 0
    p.budget = rt.slice
    p.grant = CHARGE if rt.slice_time is None else PROBE
    p.reductions = 0
    p.trap_exit = False
    p.links = p.monitors = p.monitored_by = p.dictionary = None
    p.name = p.timers = p.undo = p.exit_reason = p.label = p.aliases = p.ref_mark = None
    p.token = parent.token if parent is not None else None  # spawned work joins the trace
    p.timed_out = False
    p.entry = entry
    p.init_fn = entry[0]
    p.parent_pid = parent.pid if parent is not None else None
    p.max_heap = None
    p.max_heap_kill = p.max_heap_log = True
    p.is_main = is_main
    p.priority = NORMAL_PRIORITY
    p.low_skips = None


# ----------------------------------------------------------------------
# run queues, park and wake


def enqueue(rt: Core, p: Process) -> None:
    """Put the runnable `p` at the back of its run queue (or hand it to the seam
    while accounting or a policy is on: `_policy.Seam`)."""
    if rt.sched is not None:
        rt.sched.runnable(p, False)
    elif p.priority is NORMAL_PRIORITY:
        rt.rq.append(p)
    else:
        rt.queue_builtin(p, False)


def charge(p: Process, n: int) -> None:
    """Spend `n` reductions of `p`'s slice; preempt `p` when the slice is spent."""
    p.budget -= n
    if p.budget <= 0:
        preempt(p.node, p)


def park(rt: Core, p: Process, state: str, undo: Any = None) -> None:
    """Called in `p`'s greenlet: wait until someone makes `p` runnable.

    `undo` (a Timer, a lazy timeout or a callable) is what to cancel if the
    wait is abandoned (the process dies); the waker that ends the wait
    clears it.
    """
    if p.state is EXITING:
        raise _Killed()
    p.state = state
    p.undo = undo
    switch_out(rt, p)


def preempt(rt: Core, p: Process) -> None:
    """Called in `p`'s greenlet: go to the back of the run queue."""
    if p.state is EXITING:
        raise _Killed()
    p.state = RUNNABLE
    enqueue(rt, p)
    switch_out(rt, p)


def account(rt: Core, p: Process) -> None:
    """Close `p`'s slice: count the reductions it used (once: the budget resets)."""
    used = rt.slice - p.budget
    p.budget = rt.slice
    p.reductions += used
    rt.total_reductions += used
    rt.context_switches += 1
    if rt.special:
        rt.after_slice(p, used)


def switch_out(rt: Core, p: Process) -> None:
    """Called in `p`'s greenlet when it stops running (parked, preempted).

    Direct handoff: when nothing special is pending, the next process in the
    run queue is switched to right here, in the order the hub would have
    picked it, saving a trip through the hub (one greenlet switch and one
    loop turn per message in a ring or a call). Everything else (priorities,
    timers due, instruments, an empty queue) goes through the hub. Whoever
    switches a process in sets it RUNNING with a fresh budget; whoever
    switches out accounts for its own slice.
    """
    used = rt.slice - p.budget
    p.budget = rt.slice  # accounted: a second account() adds nothing
    p.reductions += used
    rt.total_reductions += used
    rt.context_switches += 1
    if rt.special:
        rt.after_slice(p, used)
    else:
        rq = rt.rq
        if rq:
            th = rt.timer_heap
            if not th or th[0][0] > rt.now():
                q = rq.popleft()
                # Only to a greenlet that has started: a fresh one starts from the
                # switching greenlet's recursion depth, and a chain of them would
                # overflow it. The hub starts fresh ones.
                if q.state is RUNNABLE and q:
                    switch_in(q, rt.slice)
                    if q is not p:
                        if C_API:
                            green_switch(q)  # type: ignore[name-defined]  # noqa: F405,F821
                        else:
                            q.switch()
                        if p.state is EXITING:  # killed while it waited
                            raise _Killed()
                    return
                rq.appendleft(q)  # fresh, or dead and to unwind: the hub does that
    if C_API:
        green_switch(rt.hub)  # type: ignore[name-defined]  # noqa: F405,F821 - see C_API
    else:
        rt.hub.switch()
    if p.state is EXITING:  # killed while it waited: unwind from here
        raise _Killed()


# The compiled build switches greenlets and asks which one runs through
# greenlet's C API (`green_switch`, `green_current`, declared in _core.pxd):
# no method lookup, no argument tuple, and fewer C frames on the stack a
# parked process's greenlet saves. Written inline where each message passes
# (switch_out, send, receive), as `if C_API:`: a helper function would cost
# the pure build a Python call each time.
C_API = COMPILED


def switch_in(p: Process, budget: int) -> None:
    """Make `p` the running process (the caller switches to it next)."""
    p.state = RUNNING
    p.budget = budget
    if p.grant != GRANT_NOW[0]:
        set_grant(p.grant)


# ----------------------------------------------------------------------
# delivery


def deliver(rt: Core, target: Process, msg: Any, token: Any) -> None:
    """Put `msg` (already copied) in `target`'s mailbox and wake it if it waits in
    receive. `token` is the sender's trace token (or None), which travels with it."""
    mb = target.mailbox
    if mb is None:
        mb = target.mailbox = Mailbox()
    if token is None:
        mb.q.append(msg)
    else:
        mb.q.append(Traced(msg, token))
        mb.traced += 1
    target.received += 1
    if target.state is RECEIVING:
        target.state = RUNNABLE
        enqueue(rt, target)


def send(dest: Any, msg: Any) -> Any:
    """Send `msg` to `dest` (a pid, a registered name or a `(name, node)` pair); returns msg.

    A dead pid drops the message silently; an unregistered name raises BadArg.
    """
    g = green_current() if C_API else getcurrent()  # type: ignore[name-defined]  # noqa: F405,F821
    try:
        node = g.node
    except AttributeError:  # not in a process
        from . import _io

        job = _io.current_job()
        if job is None:
            from ._mailbox import _not_in_process

            raise _not_in_process("send") from None
        return _io.send_from_thread(job, dest, msg)
    p = g  # a Process (typed in _core.pxd)
    td = type(dest)
    if td is Pid and dest.creation == node.creation and dest.node == node.name:
        target = node.procs.get(dest.id)
    elif td is Ref and dest.node == node.name:  # an alias of ours, or dropped
        from ._signals import resolve_alias  # the reply modes; an alias's send is rare

        target = resolve_alias(node, dest)
    else:
        remote = _remote.hook(node, dest)
        if remote is not None:  # another node: the distribution layer encodes and sends
            if p.state is not EXITING:
                remote.send(p.pid, dest, msg)
            charge(p, 1)
            return msg
        target = _registry.resolve(node, dest)
    if type(msg) in _SCALARS:
        copy = msg
    elif node.msacc is None:
        copy = copy_term(msg)
    else:
        copy = measured_copy(node.msacc, msg)
    if target is not None and p.state is not EXITING:  # a dead process sends nothing
        deliver(node, target, copy, p.token)  # the token, if any, rides along
        if node.on_send:
            node.ins.emit("send", p.pid, target.pid, copy)
    charge(p, 1)
    return msg


def measured_copy(ms: Msacc, msg: Any) -> Any:
    """`copy_term` while microstate accounting is on: the time counts as copying."""
    ms.enter(_accounting.COPY)
    try:
        return copy_term(msg)
    finally:
        ms.enter(_accounting.PROCESS)


# ----------------------------------------------------------------------
# receive


def receive(*patterns: Any, timeout: float | None = None, mark: int | None = None) -> Any:
    """Take the first message matching any of `patterns` (any message if none).

    Returns the message, or `vm.TIMEOUT` when `timeout` seconds pass (or,
    with `timeout=0`, when nothing matches right now). The common case (no
    pattern, no timeout) is `receive_any`; the rest is `selective_receive`
    (how it works: `vm._mailbox`'s docstring).
    """
    p = green_current() if C_API else getcurrent()  # type: ignore[name-defined]  # noqa: F405,F821
    if patterns or mark is not None or timeout is not None or type(p) is not Process:
        if type(p) is not Process:
            from ._mailbox import _not_in_process

            raise _not_in_process("receive")
        return selective_receive(p, patterns, timeout, mark)
    return receive_any(p)


def receive_any(p: Process) -> Any:
    """`receive()` by the running process `p`: any message, no timeout."""
    if p.state is EXITING:
        return selective_receive(p, (), None, None)
    rt = p.node
    mb = p.mailbox
    while mb is None or not mb.q:
        p.state = RECEIVING  # park(rt, p, RECEIVING, None), inline; a kill raises _Killed
        switch_out(rt, p)
        mb = p.mailbox
    msg = mb.popleft()
    if type(msg) is Traced or p.token is not None:
        msg = adopt_token(p, mb, msg)
    if rt.on_receive:
        rt.ins.emit("receive", p.pid, msg)
    charge(p, 1)
    return msg


def selective_receive(p: Process, patterns: tuple, timeout: float | None,
                      mark: int | None) -> Any:
    """`vm.receive` with patterns, a timeout or a marker (how it works: `vm._mailbox`)."""
    node = p.node
    if p.state is EXITING:
        raise _Killed()
    match = compile_patterns(patterns) if patterns else None
    timeout = check_timeout(timeout)
    if mark is None and p.ref_mark is not None and patterns:
        ref, at = p.ref_mark
        if all_mention(patterns, ref):
            mark = at  # every pattern needs a ref made after every older message
    i = -1  # the scan position: set once the mailbox exists
    armed = False
    try:
        while True:
            mb = p.mailbox
            if mb is not None and mb.q:
                if match is None:
                    return take(p, mb, mb.head)
                if i < 0:
                    i = mb.head if mark is None else mb.start(p.received, mark)
                ms = node.msacc
                if ms is None:
                    found, i = scan(p, mb, match, i)
                else:
                    ms.enter(_accounting.RECEIVE)
                    found, i = scan(p, mb, match, i)
                    ms.enter(_accounting.PROCESS)
                if found >= 0:
                    return take(p, mb, found)
            if p.timed_out:
                return TIMEOUT
            if timeout is not None:
                if timeout == 0:
                    return TIMEOUT
                if not armed:
                    node.arm_timeout(p, timeout)  # sets p.undo: what a kill cancels
                    armed = True
            park(node, p, RECEIVING, p.undo)
            # Woken by a message (the timeout stays armed) or by the timeout
            # (p.timed_out is set).
    finally:
        p.timed_out = False
        if armed:
            node.disarm_timeout(p)


def scan(p: Process, mb: Mailbox, match: Callable[[Any], Any], i: int) -> tuple[int, int]:
    """Scan `p`'s mailbox from index `i` for a message `match` accepts; each one
    skipped costs a reduction. Returns (index found or -1, the index to resume at)."""
    q = mb.q
    n = len(q)
    while i < n:
        m = q[i]
        if m is not HOLE:
            if match(m.msg if mb.traced and type(m) is Traced else m):
                return i, i
            p.budget -= 1
            if p.budget <= 0:
                preempt(p.node, p)  # others only append meanwhile: i stays valid
                n = len(q)
        i += 1
    return -1, i


def take(p: Process, mb: Mailbox, i: int) -> Any:
    """Take the entry at index `i` out of `p`'s mailbox as a receive does: its token
    becomes `p`'s, instruments hear of it, it costs a reduction."""
    rt = p.node
    msg = mb.take(p, i)
    if type(msg) is Traced or p.token is not None:
        msg = adopt_token(p, mb, msg)
    if rt.on_receive:
        rt.ins.emit("receive", p.pid, msg)
    charge(p, 1)
    return msg


def adopt_token(p: Process, mb: Mailbox, msg: Any) -> Any:
    """A message was received: its trace token (or none) becomes the process's."""
    if type(msg) is Traced:
        mb.traced -= 1
        p.token = msg.token
        return msg.msg
    p.token = None
    return msg


# ----------------------------------------------------------------------
# calls

DEMONITOR = "demonitor"
_PLAIN_TIMEOUT = 1e15  # seconds; anything else goes through check_timeout
CALLING_SELF = Atom("calling_self")
# The atoms of the messages a call waits for (`_signals` sends them).
DOWN = Atom("DOWN")
NOPROC = Atom("noproc")


def call_request(dest: Pid, label: Any, request: Any,
                 timeout: float | None) -> tuple[bool, Any]:
    """Send a call to the local process `dest` (a Pid) and wait for its answer:
    the request/reply protocol under every OTP call (`gen.call`, and so
    gen_server, gen_statem, supervisor and sys calls), as one VM step.

    A call in OTP 24+ is: monitor the server with an alias, send
    `(label, (caller, ref), request)`, wait for `(ref, reply)` or the monitor's
    DOWN, then remove monitor and alias. Written with the public API that is
    five VM calls, each with its own argument checks, instrument tests and
    dictionary updates; fused here it is one, which is what makes a call cost a
    few microseconds instead of twenty. The semantics are exactly those of the
    composed version:

    - the monitor makes a dead or dying server end the wait with its exit reason
      (`noproc` if it was already gone);
    - the alias makes a reply that arrives after the wait was given up (a
      timeout) vanish instead of lingering in the caller's mailbox;
    - the wait starts from a receive marker taken before the request is sent, so
      it costs O(new messages) however many unrelated messages are queued;
    - instruments see the monitor, the send, the receive and the demonitor, as
      they would see the composed calls.

    Returns `(True, reply)`, or `(False, reason)` where reason is "timeout",
    "noproc", "calling_self", or the server's exit reason if it died before
    replying.
    """
    p = getcurrent()
    node = p.node
    if p.state is EXITING:
        raise _Killed()
    if timeout is not None:
        tt = type(timeout)
        if not ((tt is float or tt is int) and 0 <= timeout < _PLAIN_TIMEOUT):
            timeout = check_timeout(timeout)  # NaN, inf, negative, 10**400, not a number
    if dest.creation != node.creation or dest.node != node.name:
        return (False, NOPROC)
    target = node.procs.get(dest.id)
    if target is None or target.state is EXITING:
        return (False, NOPROC)
    if target is p:
        return (False, CALLING_SELF)
    # monitor + alias, inline (vm.monitor(dest, alias="demonitor")). The alias is
    # not recorded in p.aliases: it is also a monitor ref, and a dying process
    # drops the aliases of its monitors (_signals.process_died).
    rid = node.new_ref_id()
    ref = new_ref(node.name, rid, node.creation)
    # Internal tables are keyed by the ref's id (an int hashes in C; a Ref's
    # hash is a Python method, and a call touches these tables seven times).
    node.aliases[rid] = (p, DEMONITOR)
    if p.monitors is None:
        p.monitors = {}
    tpid = target.pid
    p.monitors[rid] = (tpid, tpid, ref)
    if target.monitored_by is None:
        target.monitored_by = {}
    target.monitored_by[rid] = p.pid
    if node.on_monitor:
        node.ins.emit("monitor", p.pid, tpid, ref)
    # send, inline (vm.send(dest, (label, (self, ref), request)))
    mark = p.received
    msg = (label, (p.pid, ref), request if type(request) in _SCALARS else copy_term(request))
    deliver(node, target, msg, p.token)
    if node.on_send:
        node.ins.emit("send", p.pid, tpid, msg)
    # wait for (ref, reply) or ("DOWN", ref, ...)
    armed = False
    i = -1
    try:
        while True:
            mb = p.mailbox
            if mb is not None and mb.q:
                q = mb.q
                if i < 0:
                    i = mb.start(p.received, mark)
                n = len(q)
                while i < n:
                    m = q[i]
                    if mb.traced and type(m) is Traced:
                        m = m.msg
                    if type(m) is tuple:
                        k = len(m)
                        if k == 2 and m[0] is ref:  # refs are shared, never copied
                            raw = mb.take(p, i)
                            if type(raw) is Traced or p.token is not None:
                                adopt_token(p, mb, raw)
                            if not forget_call(node, p, rid, target):
                                from ._signals import flush_down  # rare: import here

                                flush_down(p, ref)  # the server died just after replying
                            if node.on_receive:
                                node.ins.emit("receive", p.pid, m)
                            charge(p, 1)
                            return (True, m[1])
                        if k == 5 and m[1] is ref and m[0] == DOWN:
                            raw = mb.take(p, i)
                            if type(raw) is Traced or p.token is not None:
                                adopt_token(p, mb, raw)
                            if node.on_receive:
                                node.ins.emit("receive", p.pid, m)
                            charge(p, 1)
                            return (False, m[4])
                    i += 1
            if p.timed_out:
                from ._signals import flush_down  # once per timeout: import here

                forget_call(node, p, rid, target)
                flush_down(p, ref)
                return (False, "timeout")
            if timeout is not None and not armed:
                if timeout <= 0:
                    p.timed_out = True
                    continue
                node.arm_timeout(p, timeout)
                armed = True
            p.state = RECEIVING  # park(node, p, RECEIVING, p.undo), inline
            switch_out(node, p)
    finally:
        p.timed_out = False
        if armed:
            node.disarm_timeout(p)


def forget_call(node: Core, p: Process, rid: int, target: Process) -> bool:
    """demonitor + drop the alias, inline; True if the monitor was still active."""
    entry = p.monitors.pop(rid, None) if p.monitors is not None else None
    if entry is not None:
        mb = target.monitored_by
        if mb is not None:
            mb.pop(rid, None)
        if node.on_demonitor:
            node.ins.emit("demonitor", p.pid, entry[2])
    node.aliases.pop(rid, None)
    return entry is not None


def reply(tag: Ref, message: Any) -> None:
    """Send `(tag, message)` to the alias `tag` (a call's reply); dropped if inactive."""
    p = getcurrent()
    node = p.node
    # Only a ref this node made: another node's ref may carry the same id.
    entry = (node.aliases.get(tag.id)
             if tag.creation == node.creation and tag.node == node.name else None)
    if entry is not None:
        owner, mode = entry
        if mode != DEMONITOR:
            from ._signals import resolve_alias

            owner = resolve_alias(node, tag)
        if owner is not None and owner.state is not EXITING and p.state is not EXITING:
            msg = (tag, message if type(message) in _SCALARS else copy_term(message))
            deliver(node, owner, msg, p.token)
            if node.on_send:
                node.ins.emit("send", p.pid, owner.pid, msg)
    charge(p, 1)


# ----------------------------------------------------------------------
# the runtime side of the compiled reduction checks (see vm/code.py)

# Each process's `grant` is how many iterations (calls, items) run between two
# checks: CHARGE while its iterations are quick; on a real clock it shrinks
# when the time between two of its checks passes GAP_TARGET, down to a check
# per iteration, and grows back when they are quick again. A loop's countdown
# starts at `__bl_grant__`, the running process's grant (`set_grant`, called
# when a process is switched in). Under a seed or a virtual clock every grant
# is CHARGE and never changes: runs stay reproducible.
GRANT_NOW = [CHARGE]  # the value of builtins.__bl_grant__


def set_grant(g: int) -> None:
    """Make `g` the countdown new loops start from (the running process's grant)."""
    GRANT_NOW[0] = g
    builtins.__bl_grant__ = g  # type: ignore[attr-defined]


def check_charge(p: Process, n: int) -> int:
    """Charge `n` reductions at a compiled check; end the slice when it is spent or
    (on a real clock) when it has run `slice_time` while others are ready.
    Returns how many iterations to run before the next check."""
    p.budget -= n
    rt = p.node
    rt.checks += 1  # the long-slice watchdog watches this move
    if p.budget <= 0:
        preempt(rt, p)
        return p.grant
    if rt.slice_time is None:
        return p.grant  # reproducible runs: the grant never changes
    return timed_check(rt, p)


# check_charge calls this only while rt.slice_time is set: the type-ignores
# below are for mypy, which cannot know it.
def timed_check(rt: Core, p: Process) -> int:
    now = _clock()
    if rt.slice_mark != rt.context_switches:
        # The first check of this slice: we do not know when the slice began,
        # so measure the next few iterations before trusting the grant.
        rt.slice_mark = rt.context_switches
        rt.slice_t0 = rt.check_t = now
        # Yet a wait we can date is already known to be long: a timer overdue
        # by more than a slice, or a thread's request (a finished dirty job)
        # posted while this slice ran. End the slice now rather than after
        # another iteration, which may be a millisecond-long C call.
        # Resumed, it checks again after one iteration: that first check of
        # its new slice knows when the slice began.
        th = rt.timer_heap
        if rt.attention or (th and th[0][0] < now - rt.slice_time):  # type: ignore[operator]
            preempt(rt, p)
            return 0
        n = p.grant
        if n > PROBE:
            n = PROBE
        rt.check_n = n
        return n
    gap = now - rt.check_t
    rt.check_t = now
    g = int(rt.check_n * GAP_TARGET / gap) if gap > 0.0 else CHARGE
    if g < 1:
        g = 1
    elif g > CHARGE:
        g = CHARGE
    if g != p.grant:
        p.grant = g
        set_grant(g)
    rt.check_n = g
    # A Python loop iteration costs about ten BEAM reductions, so 4000 of them
    # can last a millisecond or more: end the slice after `slice_time` of wall
    # time whenever anything else could run (others_ready looks at due timers,
    # finished dirty jobs, requests from threads and sockets too, not only the
    # run queue: a woken process must not wait for the hog's budget).
    if now - rt.slice_t0 > rt.slice_time and rt.others_ready(now):  # type: ignore[operator]
        preempt(rt, p)
    return g


def loop_check() -> int:
    """`__bl_loop__`: called at a loop head every `grant` iterations."""
    p = getcurrent()
    if type(p) is not Process:
        return CHARGE  # outside any process the checks do nothing
    return check_charge(p, p.grant)


def call_check() -> None:
    """`__bl_call__`: called every `grant` function entries."""
    p = getcurrent()
    n = check_charge(p, CHARGE) if type(p) is Process else CHARGE
    builtins.__bl_step__ = itertools.repeat(None, n).__next__  # type: ignore[attr-defined]


def iter_check(iterable: Iterable[Any]) -> Iterator[Any]:
    """`__bl_iter__`: wraps a comprehension's iterable, counting its items."""
    p = getcurrent()
    if type(p) is not Process:
        yield from iterable
        return
    n = p.grant
    for item in iterable:
        n -= 1
        if n < 0:
            n = check_charge(p, p.grant)
        yield item


def install_checks() -> None:
    """Put the check functions where compiled code finds them (builtins)."""
    b: Any = builtins  # names of our own on the builtins module
    b.__bl_loop__ = loop_check
    b.__bl_call__ = call_check
    b.__bl_iter__ = iter_check
    b.__bl_step__ = itertools.repeat(None, CHARGE).__next__
    set_grant(CHARGE)


# ----------------------------------------------------------------------
# the compiled build (see the module docstring)

if COMPILED:
    # Compiled functions (vm.send is one) travel in messages as a module's
    # functions do: as code, shared (a bound method is another type, still checked).
    from ._heap import _BASE_COPIERS, _COPIERS, _share

    _COPIERS[type(send)] = _BASE_COPIERS[type(send)] = _share
    # The records' object fields as member descriptors, read from Python code as
    # fast as __slots__ (`member_slots` is C: see _core.pxd, which explains why).
    for _cls, _instance in ((Process, Process(int)), (Mailbox, Mailbox()),
                            (Traced, Traced(None, None)), (Core, Core.__new__(Core))):
        member_slots(  # type: ignore[name-defined]  # noqa: F405,F821 - compiled build only
            _cls, _instance,
            tuple(k for k, v in vars(_cls).items()
                  if type(v).__name__ == "getset_descriptor" and not k.startswith("__")))
    del _cls, _instance


# Replace this module's names with those of its compiled twin `vm._core_c`
# when it was built from this very source (see vm/_compiled.py).
if __name__ == "vm._core":
    from ._compiled import load_compiled

    load_compiled(globals())
