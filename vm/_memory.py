"""How much memory a process holds: one estimate, used everywhere.

What this module owns: `process_memory(p)`, the one definition of the bytes
a process holds, behind `process_info(pid, "memory")` and
`"total_heap_size"`, the observer's `i()`, `procs()`, `top()` and
`system()` (through `vm._snapshot`) and the `max_heap_size` check; the same
estimate for one value (`term_size`); and `max_heap_size` itself.

What a process holds: a fixed overhead (its greenlet and saved stack,
`PROCESS_OVERHEAD`), its record, its mailbox, its dictionary, the locals of
its frames (the VM's own frames left out) and everything those reach:
elements of containers, attributes of objects (`__dict__` and slots), the
captured variables of closures, the object of a bound method, the locals of
a suspended generator. A gen_server's state is a local of its loop, so it
counts. Not counted: what every process shares (modules, classes, functions
defined at module level, builtins, `None`, booleans, small ints), other
processes, the node, and the runtime's own objects (threads, locks, loggers,
sockets, files count their own size only). An object reached twice counts
once. Sizes are `sys.getsizeof`: CPython's own objects, not the allocator's
rounding.

The method, bounded in cost whatever the process holds (the walk is an
estimate; docs/api.md gives its measured error):

- breadth first, level by level, each object carrying a weight (how many
  objects it stands for);
- a container of more than `SAMPLE` elements is sampled: `LOOK` of its
  elements are looked at (one at a pseudo-random point of each of `LOOK`
  equal slices; a set, a dict's keys and values, a deque are stepped
  through at C speed, up to `SCAN` elements), and `SAMPLE` of those are
  measured, standing for the rest. An
  object met 3 times or more in the look is shared by many slots and
  counts once; how many distinct objects the other slots hold is estimated
  from how many the look met twice (Chao's estimator), so a pool of a few
  hundred strings repeated a million times is not counted a million times;
- a level of more than `FRONT` objects is resampled down to `FRONT`
  (stratified by weight, so the total is kept);
- at most `VISITS` objects are measured; what is left when they run out
  counts its own size, not what it reaches (only a chain thousands of
  levels deep gets there).

A mailbox is a container like the others, so a million queued messages cost
`SAMPLE` measurements, not a million. The sample points depend only on the
positions and the length, so the same heap always gives the same figure.

The cache. An estimate is kept per process with a stamp (reductions,
messages delivered, the mailbox's shape, started or not) and reused while
the stamp holds: an idle process is measured once. A slice whose code
charged no reduction leaves the stamp as it was, so an estimate is also
dropped after `MAX_AGE` seconds. Ranking many processes (`memory_of`)
measures stale ones within a node-wide budget (`RANK_VISITS` objects per
call, 40 to 60 ms): never measured first, then those that ran, oldest
first; the rest show their last estimate (or, never measured, their record,
mailbox list and dictionary alone), so a sort by memory over 100,000 busy
processes never stalls the node and converges over a few refreshes.

Reading a suspended frame's locals makes CPython 3.11 build a dict for
them once per frame (a few hundred bytes, kept while the frame lives): the
price of looking, paid once per process.

`max_heap_size` (OTP checks it at garbage collection): checked after a
slice of a process that set it, with this estimate. A process whose
estimate costs many visits is checked every few slices instead of every
slice (one slice per `CHECK_VISITS` visits the last estimate cost), so the
check stays a small fraction of the work it watches.

What it refuses: scheduling, and deciding what may be sent (`_heap.py`).
"""

from __future__ import annotations

import enum
import gc
import logging
import os
import sys
import types
import weakref
from collections import Counter
from itertools import islice

from greenlet import getcurrent, greenlet

from ._core import HOLE, Traced
from ._process import EXITING, RUNNING
from .errors import BadArg, show
from .terms import Atom, Crash, Pid, Ref

log = logging.getLogger("beamlet.process")
KILLED = Atom("killed")

WORD = 8
# What a started, idle process costs beyond what its frames and mailbox hold:
# the greenlet, its saved C stack slice and its share of the Python data
# stack. Measured by benchmarks/spawn.py (bytes per idle process).
PROCESS_OVERHEAD = 4096

#: Elements measured in a container longer than this...
SAMPLE = 32
#: ...after checking the identity of this many (to tell shared objects).
LOOK = 256
#: Containers that cannot be indexed (sets, dicts, deques) are stepped through
#: to pick the look up to this size; stepping over SCAN_PER_VISIT elements
#: costs about one visit.
SCAN = 1 << 20
SCAN_PER_VISIT = 256
#: Objects kept per level of the walk.
FRONT = 256
#: Objects measured per estimate, at most.
VISITS = 5000
#: Objects measured per `memory_of` call (a ranking of many processes), at most;
#: each process measured also costs PROCESS_VISITS for reaching its frames.
#: About 1 us each: a ranking spends at most ~40-60 ms measuring.
RANK_VISITS = 40_000
PROCESS_VISITS = 10
#: Seconds (node time) an estimate is trusted without its stamp changing.
MAX_AGE = 10.0
#: A max_heap_size check may cost this many visits per slice it watches
#: (~50 us, a small part of a slice); a costlier estimate is redone less often.
CHECK_VISITS = 50

_VM_DIR = os.path.dirname(os.path.abspath(__file__))
_SCHEDULER_FILE = os.path.join(_VM_DIR, "_scheduler.py")
SKIP_DIRS = (_VM_DIR, os.path.dirname(os.path.abspath(str(sys.modules["greenlet"].__file__))))
_RECORD = None  # sys.getsizeof of a process record, set on first use

# ----------------------------------------------------------------------
# what each type is, for the walk

_ZERO, _LEAF, _SEQ, _MAP, _SET, _FUNC, _METHOD, _GEN, _OBJ, _OPAQUE = range(10)

_KINDS: dict = {
    type(None): _ZERO, bool: _ZERO, type(NotImplemented): _ZERO, type(Ellipsis): _ZERO,
    types.ModuleType: _ZERO, type: _ZERO, types.CodeType: _ZERO, types.FrameType: _ZERO,
    types.MethodDescriptorType: _ZERO, types.WrapperDescriptorType: _ZERO,
    types.ClassMethodDescriptorType: _ZERO, types.GetSetDescriptorType: _ZERO,
    types.MemberDescriptorType: _ZERO, types.MappingProxyType: _ZERO,
    int: _LEAF, float: _LEAF, complex: _LEAF, str: _LEAF, bytes: _LEAF, bytearray: _LEAF,
    Atom: _LEAF, Pid: _LEAF, Ref: _LEAF, range: _LEAF, memoryview: _LEAF,
    list: _SEQ, tuple: _SEQ, Crash: _SEQ,
    dict: _MAP,
    set: _SET, frozenset: _SET,
    types.FunctionType: _FUNC,
    types.MethodType: _METHOD, types.BuiltinFunctionType: _METHOD,
    types.MethodWrapperType: _METHOD,
    types.GeneratorType: _GEN, types.CoroutineType: _GEN, types.AsyncGeneratorType: _GEN,
}
_BASE_KINDS = dict(_KINDS)
# Objects of these modules are infrastructure shared by the node (threads,
# locks, loggers, sockets, files, the runtime itself): their own size counts,
# what they reach does not.
_OPAQUE_MODULES = frozenset({
    "vm", "greenlet", "threading", "_thread", "logging", "socket", "_socket", "ssl",
    "selectors", "io", "_io", "asyncio", "concurrent", "subprocess", "queue", "weakref",
    "_weakref", "multiprocessing",
})


def _kind_of(t) -> int:
    k = _KINDS.get(t)
    if k is not None:
        return k
    if issubclass(t, type) or issubclass(t, greenlet) or issubclass(t, enum.Enum):
        k = _ZERO  # classes, processes, enum members: shared
    elif t.__module__.partition(".")[0] in _OPAQUE_MODULES:
        k = _OPAQUE
    elif issubclass(t, (list, tuple)):
        k = _SEQ
    elif issubclass(t, dict):
        k = _MAP
    elif issubclass(t, (set, frozenset)):
        k = _SET
    elif t.__module__ == "collections" and t.__name__ == "deque":
        k = _SET  # stepped through like a set
    elif t.__module__ in ("datetime", "decimal", "_decimal", "fractions", "uuid",
                          "zoneinfo", "array"):
        k = _LEAF
    else:
        k = _OBJ
    if len(_KINDS) > 10_000:  # classes made on the fly: do not keep them all alive
        _KINDS.clear()
        _KINDS.update(_BASE_KINDS)
    _KINDS[t] = k
    return k


def _children(obj, kind):
    """What `obj` refers to that the walk follows (kinds _FUNC, _METHOD, _GEN, _OBJ)."""
    if kind == _OBJ:
        return [x for x in gc.get_referents(obj) if not isinstance(x, type)]
    if kind == _FUNC:
        out = []
        cells = obj.__closure__
        if cells:
            for c in cells:
                # Per cell of every function the walk meets: a plain try costs
                # nothing, contextlib.suppress builds a context manager each time.
                try:  # noqa: SIM105
                    out.append(c.cell_contents)
                except ValueError:  # an empty cell
                    pass
        if obj.__defaults__:
            out.append(obj.__defaults__)
        if obj.__kwdefaults__:
            out.append(obj.__kwdefaults__)
        return out
    if kind == _METHOD:
        s = getattr(obj, "__self__", None)  # a module's or a class's method: code
        return () if s is None or isinstance(s, (type, types.ModuleType)) else (s,)
    f = getattr(obj, "gi_frame", None) or getattr(obj, "cr_frame", None) or getattr(
        obj, "ag_frame", None)
    return list(f.f_locals.values()) if f is not None else ()


def _shared_function(f) -> bool:
    """A function defined at module or class level, closing over nothing: code."""
    return f.__closure__ is None and "<locals>" not in f.__qualname__


# ----------------------------------------------------------------------
# the walk


def _spread(seq, k):
    """About `k` elements of `seq`, one per stratum (k equal slices), at a
    pseudo-random point of each: a fixed stride aliases with the regular
    patterns containers have (keys and values alternating; a pool of objects
    repeated with a period), and an even spread never meets the same object
    twice, so could not tell that objects are repeated. The points depend
    only on (j, len): the same heap always gives the same figure."""
    m = len(seq)
    if m <= k:
        return seq
    return [seq[i] for i in _points(m, k)]


def _points(m, k):
    """k distinct indices in range(m) (m >= k), one in each of k equal slices."""
    step = m / k
    out = []
    for j in range(k):
        lo, hi = int(j * step), int((j + 1) * step)
        out.append(lo + int(_jitter(j, m) * (hi - lo)))
    return out


def _sample(seq, n, w, sample, push):
    """Push about `sample` elements of the sequence `seq` (of length n) after
    looking at `LOOK` of them, spread over it."""
    _push_part(_spread(seq, LOOK), n, w, sample, push)


def _step_through(items, n):
    """`LOOK` or so of the `n` elements of an iterable that cannot be indexed
    (a set, a dict's keys or values, a deque), and what looking cost in visits.

    Up to `SCAN` elements it is stepped through at C speed (their order may
    follow their values: a set of ints comes smallest first, a dict's keys in
    the order they were added); beyond, `LOOK` are taken from the start."""
    if n <= LOOK:
        return list(items), 0
    if n <= SCAN:
        step = n // LOOK
        return list(islice(items, step // 2, None, step)), n // SCAN_PER_VISIT
    return list(islice(items, LOOK)), 0


def _push_part(part, n, w, sample, push):
    """Push about `sample` representatives of a container of `n` elements of
    which `part` were looked at, weighted to stand for the whole.

    An object met 3 times or more in `part` is shared by many slots: it
    counts once. The others stand for the slots they were met in; how many
    distinct objects fill those slots is estimated from how often the look
    met one twice (Chao's estimator: a few objects repeated in many slots
    are not counted once per slot)."""
    m = len(part)
    count = Counter(map(id, part))
    if len(count) == m:  # nothing met twice: one object per slot
        reps = _spread(part, sample)
        each = w * n / len(reps)
        for x in reps:
            push((x, each))
        return
    f1 = f2 = 0
    low = []
    done = set()
    for x in part:
        i = id(x)
        c = count[i]
        if i in done:
            continue
        done.add(i)
        if c >= 3:
            push((x, w))
        else:
            low.append(x)
            if c == 1:
                f1 += 1
            else:
                f2 += 1
    if not low:
        return
    if m == n:  # looked at everything
        distinct = f1 + f2
    else:
        slots = (f1 + 2 * f2) * n / m
        distinct = slots if f2 == 0 else min(slots, f1 + f2 + f1 * f1 / (2 * f2))
    reps = _spread(low, sample)
    each = w * distinct / len(reps)
    for x in reps:
        push((x, each))


def _jitter(j, m) -> float:
    """A pseudo-random point in [0, 1) that depends only on (j, m)."""
    return (hash((j, m)) & 0xFFFFFF) / 0x1000000


def _resample(level, front):
    """Stratified resampling by weight: about `front` (object, weight) pairs,
    same total: one pick per stratum of weight, at a pseudo-random point of
    it (see `_spread`)."""
    total = 0.0
    for _, w in level:
        total += w
    step = total / front
    m = len(level)
    out = []
    acc = 0.0
    k = 0
    mark = _jitter(0, m) * step
    for obj, w in level:
        acc += w
        n = 0
        while mark < acc:
            n += 1
            k += 1
            mark = (k + _jitter(k, m)) * step
        if n:
            out.append((obj, n * step))
    return out


def _distinct(level, seen):
    """The level without what costs nothing more (seen already, shared by the
    interpreter) and with each object once: an object several parents point
    to is one object, and keeps the smallest weight it was given. Spends the
    resampling's picks on objects that count."""
    kinds = _KINDS
    best: dict = {}
    for obj, w in level:
        i = id(obj)
        if i in seen:
            continue
        t = type(obj)
        if kinds.get(t) == _ZERO or (t is int and -5 <= obj <= 256):
            continue
        prev = best.get(i)
        if prev is None or w < prev[1]:
            best[i] = (obj, w)
    return list(best.values())


def estimate(roots, sample=SAMPLE, front=FRONT, visits=VISITS, seen=None):
    """(estimated bytes reachable from `roots`, objects measured).

    `roots`: (object, weight) pairs. `sample=None, front=None, visits=None`
    walks everything exactly (what the estimate is measured against).
    `seen`: ids of objects counted already (by an earlier call), updated.
    """
    getsizeof = sys.getsizeof
    kinds = _KINDS
    if seen is None:
        seen = set()
    add = seen.add
    total = 0.0
    n_visits = 0
    level = list(roots)
    while level:
        nxt: list = []
        push = nxt.append
        for obj, w in level:
            t = type(obj)
            k = kinds.get(t)
            if k is None:
                k = _kind_of(t)
            if k == _ZERO:
                continue
            if t is int and -5 <= obj <= 256:
                continue  # the interpreter's small ints are shared by everyone
            i = id(obj)
            if i in seen:
                continue
            add(i)
            n_visits += 1
            if k == _LEAF:
                total += w * getsizeof(obj)
                continue
            if k == _FUNC and _shared_function(obj):
                continue
            total += w * getsizeof(obj)
            if k == _SEQ:
                n = len(obj)
                if sample is None or n <= sample:
                    for x in obj:
                        push((x, w))
                else:
                    _sample(obj, n, w, sample, push)
                if t is not tuple and t is not list and t.__dictoffset__:
                    push((obj.__dict__, w))  # a subclass's own attributes
            elif k == _MAP:
                n = len(obj)
                if sample is None or n <= sample:
                    for kv in dict.items(obj):
                        push((kv[0], w))
                        push((kv[1], w))
                else:
                    # keys and values apart: they differ in kind and size
                    for part in (dict.keys(obj), dict.values(obj)):
                        part, cost = _step_through(part, n)
                        n_visits += cost
                        _push_part(part, n, w, sample, push)
                if t is not dict and t.__dictoffset__:
                    push((obj.__dict__, w))
            elif k == _SET:
                n = len(obj)
                if sample is None or n <= sample:
                    for x in obj:
                        push((x, w))
                else:
                    part, cost = _step_through(obj, n)
                    n_visits += cost
                    _push_part(part, n, w, sample, push)
            elif k != _OPAQUE:
                for x in _children(obj, k):
                    push((x, w))
        if visits is not None and n_visits >= visits:
            for obj, w in nxt:  # out of budget: what is left counts its own size
                t = type(obj)
                k = kinds.get(t)
                if k is None:
                    k = _kind_of(t)
                if k != _ZERO and id(obj) not in seen and not (t is int and -5 <= obj <= 256):
                    add(id(obj))
                    total += w * getsizeof(obj)
            break
        if front is not None and len(nxt) > front:
            nxt = _resample(_distinct(nxt, seen), front)
        level = nxt
    return int(total), n_visits


def term_size(x, _seen=None, *, exact=False) -> int:
    """Estimated bytes occupied by `x` and everything it refers to (each object
    once), by the same method as a process's memory; `exact=True` walks it all.
    Pass the same set as `_seen` to several calls to count what they share once."""
    if exact:
        return estimate([(x, 1)], None, None, None, _seen)[0]
    return estimate([(x, 1)], seen=_seen)[0]


# ----------------------------------------------------------------------
# a process


def process_frames(p):
    """The Python frames of process `p`, innermost first (none before it starts),
    down to the scheduler's `_run_process`.

    The walk stops there on purpose: each `f_back` makes CPython build a
    frame object for that frame, and the frames below (`_entry`) outlive the
    process in the greenlet pool, where a frame object has no reason to be."""
    if p is getcurrent():  # the caller itself (or a slice just ending)
        f = sys._getframe()
    elif p.entry is not None:  # spawned, not started: no frames of its own yet
        f = None
    else:
        f = p.gr_frame if p else None
    while f is not None:
        yield f
        code = f.f_code
        if code.co_name == "_run_process" and code.co_filename == _SCHEDULER_FILE:
            return
        f = f.f_back


def user_frames(p):
    """The frames of `p` that are not the VM's own (nor greenlet's)."""
    for f in process_frames(p):
        if not f.f_code.co_filename.startswith(SKIP_DIRS):
            yield f


def _fixed(p) -> int:
    """The record and, once the process exists, its greenlet and stacks."""
    global _RECORD
    if _RECORD is None:
        _RECORD = sys.getsizeof(p)
    return _RECORD + (PROCESS_OVERHEAD if p or p.entry is not None else 0)


def _roots(p, sample=SAMPLE):
    """(object, weight) pairs for what process `p` holds, and its fixed part in bytes."""
    fixed = _fixed(p)
    roots: list = []
    mb = p.mailbox
    if mb is not None and mb.q:
        fixed += sys.getsizeof(mb) + sys.getsizeof(mb.q)
        _mailbox_roots(mb, roots.append, sample)
    if p.dictionary:
        roots.append((p.dictionary, 1))
    if p.entry is not None:
        roots.append((p.entry[1:], 1))
    for f in user_frames(p):
        for v in f.f_locals.values():
            roots.append((v, 1))
    return roots, fixed


def _mailbox_roots(mb, push, sample):
    q = mb.q
    live = len(mb)
    if sample is None or live <= sample:
        for m in q[mb.head:]:
            if m is not HOLE:
                push((m.msg if type(m) is Traced else m, 1))
        return
    head = mb.head
    span = len(q) - head
    part = []
    for i in _points(span, min(LOOK, live)):
        m = q[head + i]
        if m is HOLE:  # a slice of taken messages: look at none there
            continue
        part.append(m.msg if type(m) is Traced else m)
    _push_part(part, live, 1, sample, push)


def measure(p, exact=False):
    """(bytes held by process `p`, objects measured), computed now (no cache).
    `exact=True` walks every message and every object (slow; for comparison)."""
    if exact:
        roots, fixed = _roots(p, None)
        size, visits = estimate(roots, None, None, None)
    else:
        roots, fixed = _roots(p)
        size, visits = estimate(roots)
    return fixed + size, visits


class _Entry:
    """A process's last estimate, and what it was taken at."""

    __slots__ = ("reds", "recv", "size", "at", "cost", "wait")

    def __init__(self):
        self.wait = 0  # slices the max_heap_size check still skips


_caches: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _cache(node) -> dict:
    c = _caches.get(node)
    if c is None:
        c = _caches[node] = {}
    elif len(c) > 2 * len(node.procs) + 1024:  # forget the dead
        procs = node.procs
        for i in [i for i in c if i not in procs]:
            del c[i]
    return c


def _remember(node, cache, p, size, visits):
    """Keep an estimate just taken. The stamp is (reductions, messages
    delivered): a slice that charged nothing and a mailbox emptied by
    `flush` leave it as it was, hence also MAX_AGE."""
    e = cache.get(p.pid.id)
    if e is None:
        e = cache[p.pid.id] = _Entry()
    e.reds, e.recv, e.size, e.at, e.cost = p.reductions, p.received, size, node.now(), visits
    return e


def process_memory(p) -> int:
    """Estimated bytes held by process `p` (see the module docstring)."""
    node = p.node
    cache = _cache(node)
    if p.state is not RUNNING:
        e = cache.get(p.pid.id)
        if (e is not None and e.reds == p.reductions and e.recv == p.received
                and node.now() - e.at < MAX_AGE):
            return e.size
    size, visits = measure(p)
    if p.state is not RUNNING and p.entry is None:  # a running heap changes as we speak
        _remember(node, cache, p, size, visits)
    return size


def memory_of(node, procs, budget=RANK_VISITS) -> dict:
    """{pid id: estimated bytes} for the processes `procs`, for ranking many.

    Fresh cached estimates are reused; the others are measured until
    `budget` is spent: never measured first, then those that ran since
    (oldest estimate first), then those merely old. The rest keep their last
    estimate, or, never measured, `_floor`. The loop over fresh ones is the
    cost of a ranking of many idle processes: keep it lean.
    """
    cache = _cache(node)
    get = cache.get
    cutoff = node.now() - MAX_AGE
    me = getcurrent()
    out = {}
    never = []
    ran = []
    old = []
    for p in procs:
        i = p.pid.id
        e = get(i)
        if e is None or p is me:
            never.append(p)
        elif e.reds != p.reductions or e.recv != p.received:
            ran.append(p)
        elif e.at < cutoff:
            old.append(p)
        else:
            out[i] = e.size
    if not (never or ran or old):
        return out
    ran.sort(key=lambda p: cache[p.pid.id].at)
    old.sort(key=lambda p: cache[p.pid.id].at)
    spent = 0
    for group in (never, ran, old):
        for p in group:
            i = p.pid.id
            if spent >= budget:
                e = get(i)
                out[i] = e.size if e is not None else _floor(p)
                continue
            size, visits = measure(p)
            spent += visits + PROCESS_VISITS
            if p.state is not RUNNING and p.entry is None:
                _remember(node, cache, p, size, visits)
            out[i] = size
    return out


def _floor(p) -> int:
    size = _fixed(p)
    mb = p.mailbox
    if mb is not None and mb.q:
        size += sys.getsizeof(mb.q)
    if p.dictionary:
        size += sys.getsizeof(p.dictionary)
    return size


# ----------------------------------------------------------------------
# max_heap_size


def set_max_heap(node, p, value):
    """Apply a max_heap_size setting: words as an int (0 disables) or OTP's map form."""
    old = {"size": p.max_heap or 0, "kill": p.max_heap_kill, "error_logger": p.max_heap_log}
    if type(value) is dict:
        unknown = set(value) - {"size", "kill", "error_logger", "include_shared_binaries"}
        if unknown:
            raise BadArg(
                f"unknown max_heap_size keys {sorted(unknown)}; use 'size', 'kill', 'error_logger'"
            )
        size = value.get("size", 0)
        kill = value.get("kill", True)
        logit = value.get("error_logger", True)
    else:
        size, kill, logit = value, True, True
    if type(size) is not int or size < 0:
        raise BadArg(f"max_heap_size must be a number of words >= 0 (0 disables), not {show(size)}")
    if type(kill) is not bool or type(logit) is not bool:
        raise BadArg("max_heap_size 'kill' and 'error_logger' must be booleans")
    node.n_heap_limits += (1 if size else 0) - (1 if p.max_heap else 0)
    node.need_slow_path()
    p.max_heap = size or None
    p.max_heap_kill = kill
    p.max_heap_log = logit
    return old


def check_max_heap(node, p):
    """After a slice of `p` (which set max_heap_size): kill or log it if it holds too much."""
    cache = _cache(node)
    e = cache.get(p.pid.id)
    if e is not None and e.wait > 0:
        e.wait -= 1  # the last estimate was costly: check again in a few slices
        return
    size, visits = measure(p)
    e = _remember(node, cache, p, size, visits)
    e.wait = visits // CHECK_VISITS
    words = size // WORD
    if words <= p.max_heap or p.state is EXITING:
        return
    if p.max_heap_log:
        log.error(
            "Process %r exceeded max_heap_size: %d words > %d words%s",
            p.pid, words, p.max_heap, "; killed" if p.max_heap_kill else "",
            extra={"pid": p.pid, "report": {"label": "max_heap_size", "pid": p.pid,
                                              "heap_size": words, "max_heap_size": p.max_heap}},
        )
    if p.max_heap_kill:
        node.kill(p, KILLED)
