"""Snapshots: what the observer reads from a node, cheaply, between slices.

What this module owns: read-only copies of a node's process table, of one
process, of the registry and of the scheduler's counters, taken on the
node's own thread (inside a process, or in a function posted with
`Node.post`). Between two slices nothing runs, so a snapshot is consistent:
every row describes the same instant. The observer (stdlib/observer) turns
snapshots into views; nothing here formats anything.

1. `process_table(node, sort=, n=, since=, match=, status=)`: the top `n`
   processes by a column, as `ProcessRow`s. It never builds a row, a sorted
   list or a frame walk for every process: one pass computes the sort key,
   `heapq` keeps the best `n`, and only those `n` get a full row (current
   function, initial call, label). With `since=` (the `sample` of an earlier
   table) each row carries the change in reductions since then, and the
   table can be ranked by it: recon's `proc_window`, observer's "Reds" delta.
   With 100,000 idle processes a refresh costs tens of milliseconds
   (benchmarks/observer_refresh.py).
2. Memory, in rows, in details and in `system()`, is `vm._memory`'s one
   estimate (the same figure `process_info(pid, "memory")` gives): cached
   per process until it runs or its mailbox changes, and, when a table
   ranks many processes by it, measured within a node-wide budget (the
   others show their last estimate).
3. `process_detail(node, pid, messages=20)`: everything `process_info`
   knows, the first `messages` queued messages (copied, so the observer can
   never touch the process's heap), and the full memory estimate.
4. `system(node, since=)`: process and name counts, run queues, reductions,
   context switches, idle time, memory; `rates(a, b)` turns two of them into
   per-second figures (reductions/s, messages/s, scheduler utilization).
5. `registered(node)`: the registry with a few columns per name.
6. `call_later(node, seconds, fn)`: run `fn()` on the node's thread after
   `seconds` of node time (the tracer's time limit); virtual clocks included.

What it refuses: changing anything, and formatting. A snapshot holds pids,
never `Process` records (records are reused after a process dies).
"""

from __future__ import annotations

import heapq
import logging
import os
import time
from dataclasses import dataclass, field
from operator import itemgetter

from ._core import Process
from ._introspect import (
    _user_frames,
    current_function,
    current_stacktrace,
    export,
    first_messages,
    info_item,
)
from ._memory import memory_of, process_memory
from ._process import EXITING, OTP_STATUS, RUNNING
from ._scheduler import initial_call
from ._timers import CALL
from .errors import BadArg, VMError, show
from .terms import Pid

log = logging.getLogger("beamlet.observer")

__all__ = [
    "SORT_KEYS",
    "ProcessDetail",
    "ProcessRow",
    "ProcessTable",
    "RegisteredRow",
    "Sample",
    "SystemInfo",
    "call_later",
    "process_detail",
    "process_table",
    "rates",
    "registered",
    "system",
]

#: Columns `process_table` can rank by, and whether bigger comes first.
SORT_KEYS = {
    "reductions": True,  # total reductions
    "reductions_delta": True,  # change since `since` (needs since=, else equals the total)
    "message_queue_len": True,
    "memory": True,  # vm._memory's estimate
    "pid": False,
    "name": False,  # registered name; unnamed processes last
    "status": False,
    "initial_call": False,
    "current_function": False,  # walks every process's frames: the slowest key
}



# ----------------------------------------------------------------------
# the records


@dataclass(frozen=True, slots=True)
class Sample:
    """Per-process counters at one instant, kept to compute changes later."""

    node: str
    creation: int
    time: float  # node clock
    reductions: dict  # pid id -> reductions (absent: 0)
    received: dict | None = None  # pid id -> messages ever delivered (absent: 0; system() only)


@dataclass(frozen=True, slots=True)
class ProcessRow:
    pid: Pid
    name: str | None
    label: object
    initial_call: tuple | None  # (module, qualified name, arity); proc_lib's if set
    current_function: tuple | None
    status: str  # OTP's: running, runnable, waiting, exiting
    reductions: int
    reductions_delta: int | None  # since the `since` sample; None without one
    message_queue_len: int
    memory: int  # estimate, bytes (vm._memory)
    priority: str


@dataclass(frozen=True, slots=True)
class ProcessTable:
    node: str
    time: float  # node clock when taken
    count: int  # live processes on the node
    matched: int  # of those, how many passed match= and status=
    sort: str
    rows: tuple  # ProcessRow, best first, at most n
    window: float | None  # seconds since the `since` sample, None without one
    sample: Sample | None  # pass as since= to the next call


@dataclass(frozen=True, slots=True)
class ProcessDetail:
    pid: Pid
    node: str
    time: float
    name: str | None
    label: object
    status: str
    state: str  # beamlet's own state: runnable, running, receiving, waiting, exiting
    initial_call: tuple | None  # proc_lib's "$initial_call" if set, else the spawned function
    spawned_as: tuple | None  # the function the process was really spawned with
    parent: Pid | None
    ancestors: list
    current_function: tuple | None
    stacktrace: list  # (module, qualname, arity, (file, line)), innermost first
    reductions: int
    message_queue_len: int
    messages: list  # the first `messages` queued, oldest first (copies)
    memory: int  # estimate, bytes (vm._memory)
    links: list
    monitors: list
    monitored_by: list
    dictionary: dict  # copy; values that are not terms become their repr
    trap_exit: bool
    priority: str
    max_heap_size: dict
    timers: int


@dataclass(frozen=True, slots=True)
class RegisteredRow:
    name: str
    pid: Pid
    initial_call: tuple | None
    reductions: int
    message_queue_len: int


@dataclass(frozen=True, slots=True)
class SystemInfo:
    node: str
    time: float  # node clock
    wall: float  # time.monotonic() of the OS, for rates on a virtual-clock node
    clock: str  # "real" or "virtual"
    uptime: float
    idle_time: float
    utilization: float | None  # busy share since the node started (None on a virtual clock)
    processes: int
    registered: int
    run_queue: dict  # {"max", "high", "normal", "low"}
    reductions: int  # total since the node started, dead processes included
    context_switches: int
    timers: int
    message_queue_total: int
    memory_processes: int  # sum of the per-process estimates, bytes
    memory_os: int | None  # resident set size of the OS process, bytes
    reductions_per_slice: int
    sample: Sample = field(repr=False)
    # Work outside the node's thread: statistics()'s "dirty", "workers", "io_waits"
    outside: dict = field(default_factory=dict, repr=False)


# ----------------------------------------------------------------------
# helpers


def _check_thread(node):
    """Snapshots read the table without locks, so they must run on the node's
    thread. Returns the runtime behind `node` (a vm.Node, or the runtime)."""
    from ._node import runtime_of

    rt = runtime_of(node)
    front = rt.front
    if rt.background and front is not None and not front.on_thread():
        raise VMError(
            "a snapshot must be taken on the node's thread: call it inside a process, or "
            "hand it to node.post(); stdlib.observer.on_node(node, fn) does that for you"
        )
    return rt


def _reductions(node, p):
    if p.state is RUNNING:  # the process taking the snapshot: count its current slice
        return p.reductions + (node.slice - p.budget)
    return p.reductions


def _initial_call(p):
    d = p.dictionary
    if d:
        ic = d.get("$initial_call")
        if type(ic) is tuple and len(ic) == 3:
            return ic
    return initial_call(p) if p.init_fn is not None else None


def _fmt_call(mfa):
    return "{}.{}/{:d}".format(*mfa) if mfa else ""


def _running(node):
    """The process taking the snapshot, if it is taken from inside one."""
    from greenlet import getcurrent

    p = getcurrent()
    return (p,) if type(p) is Process and p.node is node and p.state is RUNNING else ()


def _live(node):
    return [p for p in node.procs.values() if p.state is not EXITING]


def _key_fn(node, sort, prev):
    if sort == "reductions" or (sort == "reductions_delta" and prev is None):
        slice_ = node.slice

        def key(p):
            return p.reductions + (slice_ - p.budget if p.state is RUNNING else 0)

        return key
    if sort == "reductions_delta":
        get = prev.get

        def key(p):
            return _reductions(node, p) - get(p.pid.id, 0)

        return key
    if sort == "message_queue_len":
        return lambda p: len(p.mailbox) if p.mailbox else 0
    if sort == "memory":  # process_table ranks by memory_of's figures instead
        return None
    if sort == "pid":
        return lambda p: p.pid.id
    if sort == "name":
        return lambda p: (p.name is None, p.name or "", p.pid.id)
    if sort == "status":
        return lambda p: (OTP_STATUS[p.state], p.pid.id)
    if sort == "initial_call":
        return lambda p: (_fmt_call(_initial_call(p)), p.pid.id)
    if sort == "current_function":
        return lambda p: (_fmt_call(current_function(p)), p.pid.id)
    raise BadArg(f"process_table: sort must be one of {', '.join(SORT_KEYS)}, not {show(sort)}")


def _top_reductions(node, n, prev):
    """(the `n` live processes with the most reductions, or the biggest change
    since `prev`, best first; the sample {id: reductions} for the next call).

    Reading an attribute of 100,000 process records scattered in memory is
    what costs (a cache miss each), so the records are read in one pass; the
    ranking and the sample work on plain ints, with a C-level key.
    """
    procs_d = node.procs
    ids = list(procs_d)
    procs = list(procs_d.values())
    reds = [p.reductions for p in procs]
    for me in _running(node):  # the caller's current slice counts too
        reds[procs.index(me)] += node.slice - me.budget
    if node.dying:  # a death cascade in progress: leave the dead out
        for k, p in enumerate(procs):
            if p.state is EXITING:
                reds[k] = -1 << 62
    if prev is None:
        vals = reds
    else:
        get = prev.get
        vals = [r - get(i, 0) for i, r in zip(ids, reds, strict=True)]
    best = [procs[k] for k in heapq.nlargest(n, range(len(vals)), key=vals.__getitem__)]
    if node.dying:
        best = [p for p in best if p.state is not EXITING]
    sample = {i: r for i, r in zip(ids, reds, strict=True) if r > 0}  # absent means 0
    return best, sample


def _matcher(needle):
    """A predicate for match=: pid text, registered name, label or initial call.

    Initial calls are formatted once per function (most processes share a
    few), and the pid is only printed when the needle could be part of one.
    """
    pidish = all(c in "<>.0123456789" for c in needle)
    calls: dict = {}

    def call_text(p):
        d = p.dictionary
        ic = d.get("$initial_call") if d else None
        key = ic if type(ic) is tuple else p.init_fn
        try:
            text = calls.get(key)
        except TypeError:  # an unhashable initial call: format it every time
            return _fmt_call(_initial_call(p)).lower()
        if text is None:
            text = calls[key] = _fmt_call(_initial_call(p)).lower()
        return text

    def matches(p):
        if p.name is not None and needle in p.name.lower():
            return True
        if pidish and needle in repr(p.pid):
            return True
        if p.label is not None and needle in repr(p.label).lower():
            return True
        return needle in call_text(p)

    return matches


def _where(p, hide):
    """(current function, stack) of `p`, leaving out the innermost frames of modules
    in `hide` (the observer's own frames, in the process taking the snapshot)."""
    if not hide or p.state is not RUNNING:
        return current_function(p), None
    stack: list = []
    for f in _user_frames(p):
        mod = f.f_globals.get("__name__", "?")
        if not stack and mod.startswith(hide):
            continue
        code = f.f_code
        stack.append((mod, code.co_qualname, code.co_argcount, (code.co_filename, f.f_lineno)))
    return (stack[0][:3] if stack else None), stack


def _row(node, p, prev, hide, memory):
    reds = _reductions(node, p)
    return ProcessRow(
        pid=p.pid,
        name=p.name,
        label=export(p.label) if p.label is not None else None,
        initial_call=_initial_call(p),
        current_function=_where(p, hide)[0],
        status=OTP_STATUS[p.state],
        reductions=reds,
        reductions_delta=None if prev is None else reds - prev.get(p.pid.id, 0),
        message_queue_len=len(p.mailbox) if p.mailbox else 0,
        memory=memory,
        priority=str(p.priority),
    )


_second = itemgetter(1)


def _usable(since, node):
    return (
        since is not None and since.creation == node.creation and since.node == node.name
    )


# ----------------------------------------------------------------------
# the snapshots


def process_table(node, *, sort="reductions", n=20, since=None, match=None, status=None,
                  reverse=False, sample=True, hide=()) -> ProcessTable:
    """The top `n` processes by `sort` (see `SORT_KEYS`), best first.

    `since`: a `Sample` from an earlier table; rows then carry
    `reductions_delta` and `sort="reductions_delta"` ranks by it.
    `match`: a case-insensitive substring of the pid, registered name, label
    or initial call. `status`: keep only that OTP status. `reverse`: worst
    first. `sample=False` skips recording the counters for the next call
    (saves one pass when no delta will be wanted). `n=None` returns every
    matching row (sorted; costs a row per process). `hide`: module-name
    prefixes whose innermost frames the process taking the snapshot leaves
    out of its current function (the observer hides its own).
    """
    node = _check_thread(node)
    if n is not None and (type(n) is not int or n < 0):
        raise BadArg(f"process_table: n must be an int >= 0 or None, not {show(n)}")
    if status is not None and status not in ("running", "runnable", "waiting", "exiting"):
        raise BadArg(
            "process_table: status must be running, runnable, waiting or exiting, "
            f"not {show(status)}"
        )
    prev = since.reductions if _usable(since, node) else None
    key = _key_fn(node, sort, prev)
    procs = node.procs.values()
    candidates = procs
    matched = None
    if match is not None or status is not None:
        matches = _matcher(str(match).lower()) if match is not None else None
        candidates = [
            p for p in procs
            if p.state is not EXITING
            and (status is None or OTP_STATUS[p.state] == status)
            and (matches is None or matches(p))
        ]
        matched = len(candidates)
    else:
        candidates = [p for p in procs if p.state is not EXITING] if node.dying else procs
    bigger_first = SORT_KEYS[sort] != bool(reverse)
    sizes = None
    if sort == "memory":
        sizes = memory_of(node, candidates)
        key = lambda p: sizes[p.pid.id]  # noqa: E731
    fast_sample = None
    if sizes is not None and n is not None:
        # rank the plain {id: bytes} at C speed, then fetch the n records
        pick = heapq.nlargest if bigger_first else heapq.nsmallest
        table = node.procs
        best = [table[i] for i, _ in pick(n, sizes.items(), key=_second)]
    elif matched is None and n is not None and bigger_first and sort in (
            "reductions", "reductions_delta"):
        # The common refresh (top, procs): rank (id, record) pairs so the key
        # needs no attribute chain to reach the pid's id.
        best, fast_sample = _top_reductions(node, n, prev if sort == "reductions_delta" else None)
    elif n is None:
        best = sorted(candidates, key=key, reverse=bigger_first)
    elif bigger_first:
        best = heapq.nlargest(n, candidates, key=key)
    else:
        best = heapq.nsmallest(n, candidates, key=key)
    hide = tuple(hide)
    if sizes is None:
        sizes = memory_of(node, best)
    rows = tuple(_row(node, p, prev, hide, sizes[p.pid.id]) for p in best)
    count = len(node.procs) if not node.dying else len(_live(node))
    now = node.now()
    new_sample = None
    if sample:
        reds = fast_sample
        if reds is None:
            # a missing entry means 0: idle processes cost no insert
            reds = {i: p.reductions for i, p in node.procs.items() if p.reductions}
            for p in _running(node):
                reds[p.pid.id] = _reductions(node, p)
        new_sample = Sample(node.name, node.creation, now, reds)
    return ProcessTable(
        node=node.name,
        time=now,
        count=count,
        matched=count if matched is None else matched,
        sort=sort,
        rows=rows,
        window=(now - since.time) if prev is not None else None,
        sample=new_sample,
    )


def process_detail(node, pid, *, messages=20, hide=()) -> ProcessDetail | None:
    """Everything about one live local process, or None if it is not alive.

    `messages`: how many queued messages to copy (None: all of them).
    `hide`: as for `process_table`, for the current function and the stack.
    """
    node = _check_thread(node)
    if type(pid) is not Pid:
        raise BadArg(f"process_detail: expected a Pid, not {show(pid)}")
    p = node.lookup(pid)
    if p is None:
        return None
    mb = p.mailbox
    shown = first_messages(p, messages)
    d = p.dictionary or {}
    ancestors = d.get("$ancestors")
    cf, stack = _where(p, tuple(hide))
    return ProcessDetail(
        pid=p.pid,
        node=node.name,
        time=node.now(),
        name=p.name,
        label=export(p.label) if p.label is not None else None,
        status=OTP_STATUS[p.state],
        state=p.state,
        initial_call=_initial_call(p),
        spawned_as=initial_call(p) if p.init_fn is not None else None,
        parent=p.parent_pid,
        ancestors=export(list(ancestors)) if isinstance(ancestors, list) else [],
        current_function=cf,
        stacktrace=stack if stack is not None else current_stacktrace(p),
        reductions=_reductions(node, p),
        message_queue_len=len(mb) if mb else 0,
        messages=shown,
        memory=process_memory(p),
        links=sorted(p.links) if p.links else [],
        monitors=info_item(node, p, "monitors"),
        monitored_by=sorted(set(p.monitored_by.values())) if p.monitored_by else [],
        dictionary=export(dict(d)) if d else {},
        trap_exit=p.trap_exit,
        priority=str(p.priority),
        max_heap_size=info_item(node, p, "max_heap_size"),
        timers=len(p.timers) if p.timers else 0,
    )


def registered(node) -> list:
    """One `RegisteredRow` per registered name, sorted by name."""
    node = _check_thread(node)
    out = []
    for name, p in sorted(node.names.items()):
        if p.state is EXITING:
            continue
        out.append(RegisteredRow(
            name=name,
            pid=p.pid,
            initial_call=_initial_call(p),
            reductions=_reductions(node, p),
            message_queue_len=len(p.mailbox) if p.mailbox else 0,
        ))
    return out


def _rss():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        try:
            import resource

            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        except Exception:  # noqa: BLE001 - no way to tell on this platform
            return None


def system(node) -> SystemInfo:
    """The node's counters now; two of them give rates (`rates`)."""
    node = _check_thread(node)
    st = node.statistics()
    mq = 0
    received = {}
    live = []
    for i, p in node.procs.items():
        if p.state is EXITING:
            continue
        live.append(p)
        mb = p.mailbox
        if mb:
            mq += len(mb)
        r = p.received
        if r:  # most processes never got a message: keep the sample small
            received[i] = r
    now = node.now()
    return SystemInfo(
        node=node.name,
        time=now,
        wall=time.monotonic(),
        clock="virtual" if node.clock.virtual else "real",
        uptime=st["uptime"],
        idle_time=st["idle_time"],
        utilization=st["utilization"],
        processes=len(live),
        registered=st["registered"],
        run_queue=dict(st["run_queue"]),
        reductions=st["reductions"],
        context_switches=st["context_switches"],
        timers=st["timers"],
        message_queue_total=mq,
        memory_processes=sum(memory_of(node, live).values()),
        memory_os=_rss(),
        reductions_per_slice=node.slice,
        sample=Sample(node.name, node.creation, now, {}, received),
        outside={"dirty": st["dirty"], "workers": st["workers"], "io_waits": st["io_waits"]},
    )


def rates(before: SystemInfo, after: SystemInfo) -> dict:
    """Per-second figures between two `system()` snapshots of the same node.

    `messages_per_s` counts messages delivered to processes alive at the
    second look (a process that died in between took its count with it).
    Scheduler utilization is the busy share of the wall time in between
    (None on a virtual clock, where wall time means nothing).
    """
    if before.node != after.node or before.sample.creation != after.sample.creation:
        raise BadArg("rates: the two snapshots come from different nodes")
    dt_node = after.time - before.time
    dt_wall = after.wall - before.wall
    dt = dt_node if dt_node > 0 else dt_wall
    prev = before.sample.received or {}
    delivered = 0
    for i, r in (after.sample.received or {}).items():
        delivered += r - prev.get(i, 0)
    util = None
    if after.clock == "real" and after.uptime > before.uptime:
        span = after.uptime - before.uptime
        busy = span - (after.idle_time - before.idle_time)
        util = min(1.0, max(0.0, busy / span))
    return {
        "seconds": dt,
        "reductions_per_s": (after.reductions - before.reductions) / dt if dt > 0 else 0.0,
        "context_switches_per_s":
            (after.context_switches - before.context_switches) / dt if dt > 0 else 0.0,
        "messages_per_s": delivered / dt if dt > 0 else 0.0,
        "utilization": util,
    }


def call_later(node, seconds, fn):
    """Run `fn()` on the node's thread after `seconds` of node time; returns a
    callable that cancels it. An exception in `fn` is logged, never raised
    into the scheduler."""
    node = _check_thread(node)

    def fire():
        try:
            fn()
        except Exception:
            log.exception("call_later callback %r raised", fn)

    t = node.add_timer(float(seconds), CALL, None, fire)
    return lambda: node.timers.cancel(t)
