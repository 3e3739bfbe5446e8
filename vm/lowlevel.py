"""Low-level hooks for stdlib authors (behaviours, the observer, the tracer).

Application code should not need anything here. What this module offers:

- `current_process()` / `current_node()`: the running process record and
  its node (raise `NotInProcess` outside a process); `node_of(record)`: a
  record's node;
- `mailbox_mark()`: a receive marker (see `vm._mailbox`): pass it as
  `receive(..., mark=m)` to skip the messages queued before the mark. It
  is an optimisation: a scan may still look at a few older messages, so
  the patterns must be ones that no older message can match (a fresh ref);
- `copy_term`, `is_term`: the heap's copy (what may be sent);
- `term_size(x, _seen=None, *, exact=False)`: the bytes a value occupies, by the same
  estimate as a process's memory (`exact=True` walks all of it);
- `Instrument`, and the process-state names the observer prints.
- `snapshot`: the observer's read-only snapshots of the process table, one
  process, the registry and the scheduler's counters (see `vm._snapshot`).
- `add_exit_hook(hook)` / `remove_exit_hook(hook)`: run a function when a
  process of the node dies, before its name is released and before its
  links and monitors fire (how ETS tables follow their owner's death).
- The node, seen from tools that run beside its processes (the shell, the
  observer, a notebook): `on_node_thread`, `whereis`, `is_alive`,
  `registered_name`, `node_now`, `parse_pid`, `kill`, `spawn_system`,
  `add_instrument`, `remove_instrument`, `park`, `wake`, `interrupt`,
  `measure_memory`, `memory_estimates_cached`, and `compile_checked` for
  code typed at a prompt; `compiled()` says which build of the hot core
  runs. These are the only doors
  the stdlib uses into a node besides the public API: each is documented
  in docs/api.md ("vm.lowlevel"), and the node's internals may change
  behind them.

Unless a function says otherwise it runs on the node's thread: inside one
of its processes, or in a function run between slices (`Node.post`,
`Node.call`). `node=None` means the caller's node (inside a process).

Do not keep a `Process` record after the process died: records are reused
for new processes (greenlet pooling). Keep its pid instead.
"""

from __future__ import annotations

import ctypes
import os
import sys
import threading

from greenlet import getcurrent

from . import _core, _heap, _memory, _patterns
from . import _snapshot as snapshot
from ._core import Process, call_request
from ._core import reply as call_reply
from ._heap import copy_term, is_term
from ._instrument import EVENTS, Instrument
from ._introspect import export
from ._mailbox import _not_in_process
from ._mailbox import mark as mailbox_mark
from ._memory import term_size
from ._node import runtime_of
from ._process import EXITING, OTP_STATUS, RECEIVING, RUNNABLE, RUNNING, WAITING
from ._runtime import check_priority
from .code import CHARGE, Instrumenter
from .errors import BadArg
from .terms import Pid

__all__ = [
    "ACCOUNTING_COLUMNS",
    "accounting_read",
    "add_exit_hook",
    "call_reply",
    "call_request",
    "EVENTS",
    "EXITING",
    "Instrument",
    "OTP_STATUS",
    "Process",
    "RECEIVING",
    "RUNNABLE",
    "RUNNING",
    "WAITING",
    "add_instrument",
    "compile_checked",
    "compiled",
    "compiled_modules",
    "compiles_checks",
    "copy_term",
    "current_node",
    "current_process",
    "halt",
    "interrupt",
    "is_alive",
    "is_term",
    "kill",
    "mailbox_mark",
    "measure_memory",
    "memory_estimates_cached",
    "remove_exit_hook",
    "node_now",
    "node_of",
    "on_node_thread",
    "park",
    "parse_pid",
    "process_keys",
    "process_rows",
    "registered_name",
    "remove_instrument",
    "set_priority",
    "snapshot",
    "spawn_system",
    "term_size",
    "trace_token",
    "set_trace_token",
    "wake",
    "whereis",
]


# ----------------------------------------------------------------------
# trace tokens: a context that rides on messages, as Erlang's seq_trace token


def trace_token():
    """The calling process's trace token, or None."""
    return current_process().token


def set_trace_token(token):
    """Set the calling process's trace token (a term; None clears it); returns the old one.

    While a process has a token, every message it sends carries it (sends,
    calls, casts, replies), and so does every process it spawns; a process
    that receives a message takes the message's token as its own (or none,
    if the message had none), as Erlang's seq_trace token travels. Costs
    nothing measurable while no process has one. Agents build their trace
    context on this (`stdlib.agents`).
    """
    p = current_process()
    old = p.token
    p.token = None if token is None else copy_term(token)
    return old


def current_process() -> Process:
    p = getcurrent()
    if type(p) is not Process:
        raise _not_in_process("lowlevel.current_process")
    return p


def current_node():
    """The `vm.Node` the calling process runs on."""
    return current_process().node.front


def node_of(process: Process):
    """The `vm.Node` a process record (from `current_process()`) belongs to:
    `current_node()` for a caller that holds its record already (ETS asks on
    every read and write)."""
    return process.node.front


def halt(reason) -> None:
    """Stop the caller's node: its first process dies with `reason` (so `vm.run`
    raises `ProcessExit(reason)`), then every process is killed; a node on a
    thread of its own just stops. OTP's `init:stop` for an application whose
    permanent child died."""
    current_process().node.halt(reason)


def compiles_checks() -> bool:
    """Does the caller's node compile reduction checks into the code it spawns
    (`vm.run(..., preempt=False)` turns that off)? Behaviours ask before
    instrumenting their callback modules."""
    return current_process().node.compile_checks


def compiled_modules() -> dict[str, bool]:
    """Each module of the VM that has a compiled build (`vm._core`, the hot
    core; `vm._heap`, the copy of terms; `vm._patterns`, receive's matchers),
    and whether this interpreter runs it: the extension `pip install` builds
    where Cython and a C compiler are there, used unless it is missing, stale,
    or `BEAMLET_PURE_PYTHON=1` was set when `vm` was first imported. Any thread."""
    return {"_core": bool(_core.COMPILED), "_heap": bool(_heap.COMPILED),
            "_patterns": bool(_patterns.COMPILED)}


def compiled() -> bool:
    """Does this interpreter run the compiled build of every module that has one
    (`compiled_modules()`)? False for the pure-Python build, and for a partial
    one (an extension failed to build). Both builds behave the same;
    `beamlet --version` and the benchmark header say which one ran. Any thread."""
    return all(compiled_modules().values())


def _rt(node):
    """The runtime behind `node` (a vm.Node), or the caller's when None."""
    return runtime_of(node) if node is not None else current_process().node


# ----------------------------------------------------------------------
# exit hooks: resources that stdlib keeps on behalf of a process (ETS tables)



def add_exit_hook(hook) -> None:
    """Run `hook(pid, reason)` each time a process of the caller's node dies.

    The hook runs on the node's thread at the moment of death, before the
    dead process's registered name is released and before any EXIT or DOWN
    it causes is delivered, so nothing can observe the process dead while
    what the hook releases still exists (OTP's rule for ETS tables: they are
    gone, or handed to their heir, before the owner's links and monitors
    fire). No process is running on the hook's behalf: it must not call
    process functions (`vm.send`, `vm.self`, ...). To send, return an
    iterable of `(pid, message)` pairs; they are delivered in order, as if
    sent by the dead process, ahead of its EXIT and DOWN messages. Return
    None when there is nothing to send.

    Keep hooks short: every death on the node runs them. A hook that raises
    is logged with its traceback and stays installed. Adding the same hook
    twice installs it once.
    """
    node = current_process().node
    if not callable(hook):
        raise BadArg(f"add_exit_hook: expected a callable hook(pid, reason), not {hook!r}")
    if hook not in node.exit_hooks:
        node.exit_hooks = node.exit_hooks + (hook,)


def remove_exit_hook(hook) -> bool:
    """Remove a hook added by `add_exit_hook` on the caller's node; True if it was there."""
    node = current_process().node
    if hook not in node.exit_hooks:
        return False
    node.exit_hooks = tuple(h for h in node.exit_hooks if h is not hook)
    return True


# ----------------------------------------------------------------------
# the node, for tools that run beside its processes


def _live(node, pid):
    if type(pid) is not Pid:
        raise BadArg(f"expected a pid, not {pid!r}")
    return node.lookup(pid)


def on_node_thread(node) -> bool:
    """True when the caller runs on `node`'s thread: inside one of its
    processes, or in a function the node runs between slices. Callable from
    any thread; tools use it to decide whether to read a node directly or to
    post the read to it."""
    return runtime_of(node).front.on_thread()


def whereis(name, *, node=None):
    """The pid registered as `name` on the node, or None (`vm.whereis` without
    needing to be a process)."""
    p = _rt(node).names.get(name)
    return p.pid if p is not None else None


def is_alive(pid, *, node=None) -> bool:
    """Is `pid` a live process of the node?"""
    return _live(_rt(node), pid) is not None


def registered_name(pid, *, node=None):
    """The name `pid` is registered under, or None (also None when it is dead)."""
    p = _live(_rt(node), pid)
    return p.name if p is not None else None


def process_keys(pid, *, node=None) -> dict | None:
    """`{"name", "label", "priority"}` of a process (`name` and `label` None when
    it has none), or None if it is not in the node's table. Unlike
    `registered_name`, it also answers for a process that is exiting, from an
    exit hook (`add_exit_hook`) or an instrument's `exit` event, the last
    moment these exist: how a measurement tool keeps the keys it groups and
    reports dead processes by."""
    n = _rt(node)
    if type(pid) is not Pid:
        raise BadArg(f"expected a pid, not {pid!r}")
    p = n.procs.get(pid.id) if pid.node == n.name and pid.creation == n.creation else None
    if p is None:
        return None
    return {"name": p.name, "label": export(p.label) if p.label is not None else None,
            "priority": str(p.priority)}


def set_priority(pid, level, *, node=None):
    """Set another process's priority, as `vm.process_flag("priority", level)`
    sets the caller's: how a measurement tool assigns priorities to a
    workload it did not write (`beamlet fairness --priority`). A process
    waiting in a run queue keeps its place there; the new level counts from
    the next time it becomes runnable. Returns the old level, or None if
    `pid` is not alive (`BadArg` for an unknown level)."""
    n = _rt(node)
    p = _live(n, pid)
    if p is None:
        check_priority(level)
        return None
    return str(n.set_priority(p, level))


def node_now(node=None) -> float:
    """The node's clock, in seconds (`vm.monotonic()` for code outside a process).
    Callable from any thread."""
    return _rt(node).now()


def parse_pid(text, node) -> Pid:
    """A pid of `node` from its printed form `"<0.42.0>"`. Callable from any thread."""
    rt = runtime_of(node)
    return Pid.parse(text, rt.name, rt.creation)


#: The figures `accounting_read(columns=...)` can give for every process.
ACCOUNTING_COLUMNS = {
    "runtime": lambda s: s.runtime,
    "queue_delay_mean": lambda s: s.queue_delay / s.runs if s.runs else 0.0,
    "queue_delay_max": lambda s: s.queue_delay_max,
    "response_time_max": lambda s: s.response_max,
}


def accounting_read(pids=(), *, columns=(), node=None):
    """Scheduling accounting (`vm.scheduling.accounting`) read cheaply, for tools
    that show a few processes among many: None while it is off, else a dict of
    `since` (the node-clock time it was switched on: a later one means the
    figures started afresh), `process_time` (seconds of every slice so far, of
    every process, dead ones included), `figures` ({pid: what
    `vm.scheduling.process_stats()` gives} for the live processes among
    `pids`; one that has not run since is absent) and `columns` ({name: {pid:
    figure}} over every live process, for each name in `columns`, from
    ACCOUNTING_COLUMNS)."""
    rt = snapshot._check_thread(node) if node is not None else current_process().node
    sched = rt.sched
    acct = sched.acct if sched is not None else None
    if acct is None:
        return None
    unknown = [c for c in columns if c not in ACCOUNTING_COLUMNS]
    if unknown:
        raise BadArg(f"accounting_read: unknown columns {unknown!r}; known: "
                     f"{', '.join(ACCOUNTING_COLUMNS)}")
    stats = acct.stats
    figures = {}
    for pid in pids:
        if type(pid) is not Pid:
            raise BadArg(f"accounting_read: expected pids, not {pid!r}")
        s = stats.get(pid.id)
        if s is not None and s.pid == pid:
            p = rt.procs.get(pid.id)
            figures[pid] = s.export() | {"label": p.label if p is not None else s.label}
    read = {c: ACCOUNTING_COLUMNS[c] for c in columns}
    return {"since": acct.since, "process_time": acct.process_time, "figures": figures,
            "columns": {c: {s.pid: get(s) for s in stats.values()} for c, get in read.items()}}


def process_rows(pids, *, since=None, hide=(), node=None) -> tuple:
    """The process-table rows (`snapshot.ProcessRow`) of the live processes among
    `pids`, in the order given; dead ones are left out. `since` and `hide` as
    `snapshot.process_table` takes them. For a table ranked by a figure the
    snapshot does not know (the observer's scheduling columns): rank the pids
    yourself, then build rows for the top few only."""
    rt = snapshot._check_thread(node) if node is not None else current_process().node
    prev = since.reductions if snapshot._usable(since, rt) else None
    procs, seen = [], set()
    for pid in pids:
        p = _live(rt, pid)
        if p is not None and p.pid.id not in seen:
            seen.add(p.pid.id)
            procs.append(p)
    sizes = snapshot.memory_of(rt, procs)
    hide = tuple(hide)
    return tuple(snapshot._row(rt, p, prev, hide, sizes[p.pid.id]) for p in procs)


def kill(pid, reason="killed", *, node=None) -> bool:
    """Make `pid` exit with `reason` now, untrappably: its links and monitors
    fire with `reason` (the observer's kill, the shell's Ctrl-C). Returns
    False if it was not alive. `vm.exit(pid, "kill")` is the same from a
    process; this one also works between slices."""
    n = _rt(node)
    p = _live(n, pid)
    if p is None:
        return False
    n.kill(p, reason)
    return True


def spawn_system(fn, *args, node=None, **kwargs) -> Pid:
    """Spawn `fn(*args, **kwargs)` as a process with no parent (nothing is
    linked to it and nothing monitors it): how tools start the processes
    they own, such as the shell's evaluator. Returns its pid."""
    n = _rt(node)
    p, _ = n.spawn_process(None, fn, args, kwargs or None)
    return p.pid


def add_instrument(inst, *, node) -> None:
    """Attach an instrument to `node` (`vm.add_instrument` from outside a
    process). Callable from any thread: from another one it waits until the
    node has attached it."""
    runtime_of(node).front.add_instrument(inst)


def remove_instrument(inst, *, node) -> bool:
    """Detach an instrument; False if it was not attached. Callable from any thread."""
    return runtime_of(node).front.remove_instrument(inst)


def measure_memory(pid, *, exact=False, node=None) -> tuple[int, int]:
    """`(bytes, objects visited)` of a live process, measured now, bypassing
    the cache `process_info(pid, "memory")` reads: the estimate, or with
    `exact=True` a walk of every message and object (slow; what the estimate
    is checked against in benchmarks/memory_estimate.py). BadArg if `pid` is
    not a live process of the node."""
    p = _live(_rt(node), pid)
    if p is None:
        raise BadArg(f"measure_memory: {pid!r} is not a live process of this node")
    return _memory.measure(p, exact=exact)


def memory_estimates_cached(node=None) -> int:
    """How many processes of the node have a cached memory estimate (the
    observer's memory ranking fills the cache a bounded slice at a time)."""
    return len(_memory._cache(_rt(node)))


def park() -> None:
    """Suspend the calling process (status `waiting`) until `wake(pid)`.

    Messages that arrive meanwhile stay in its mailbox: this is a wait
    outside `receive`, for a process whose work is handed to it by a tool
    (the shell's evaluator waiting for the next expression), so that no
    plumbing message ever shows in its mailbox or in a trace. A kill ends
    the wait as it ends any other."""
    p = current_process()
    p.node.park(p, WAITING)


def wake(pid, *, node=None) -> bool:
    """Make a process suspended in `park()` runnable; False if it is not
    parked there (dead, running, or waiting in `receive` or a timer)."""
    n = _rt(node)
    p = _live(n, pid)
    if p is None or p.state is not WAITING or p.undo is not None:
        return False
    n.make_runnable(p)
    return True


_VM_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


def _running_pid(frame):
    """(pid of the process whose slice the frames belong to, innermost frame is user code)."""
    user = frame is not None and not frame.f_code.co_filename.startswith(_VM_DIR)
    f = frame
    while f is not None:
        code = f.f_code
        if code.co_name == "_run_process" and code.co_filename.startswith(_VM_DIR):
            return getattr(f.f_locals.get("p"), "pid", None), user
        f = f.f_back
    return None, False


def interrupt(pid, exc_type, *, node) -> bool:
    """Raise `exc_type` in `pid` if it is running right now in a slice that
    reaches no reduction check (a long C call such as `time.sleep`, or a
    loop compiled without checks), as soon as the Python code it runs gets
    control back. Called from another thread (the shell's Ctrl-C, when a
    posted kill is not served because the node is stuck in that slice).

    Returns False, and does nothing, when `pid` is not the process running
    on the node's thread, or when the node's thread is inside the VM (where
    an exception would break the scheduler): then a kill posted with
    `Node.post` is served at the next slice boundary anyway. The process
    sees an ordinary exception at the line it is running; what it does with
    it is up to its code (the shell's evaluator exits with `killed`).
    A node running on the main thread gets Ctrl-C from Python itself, so
    this is for background nodes only."""
    if not (isinstance(exc_type, type) and issubclass(exc_type, BaseException)):
        raise BadArg(f"interrupt: exc_type must be an exception class, not {exc_type!r}")
    t = runtime_of(node).front._thread
    if t is None or t.ident is None or threading.current_thread() is t:
        return False
    ident = t.ident
    frame = sys._current_frames().get(ident)
    running, user = _running_pid(frame)
    if running != pid or not user:
        return False
    set_exc = ctypes.pythonapi.PyThreadState_SetAsyncExc
    if set_exc(ctypes.c_ulong(ident), ctypes.py_object(exc_type)) != 1:
        return False
    # It may have left user code between the look and the set: look again,
    # and take the exception back if it could now land inside the VM.
    running, user = _running_pid(sys._current_frames().get(ident))
    if running != pid or not user:
        set_exc(ctypes.c_ulong(ident), None)
        return False
    return True


class _TopLevelInstrumenter(Instrumenter):
    """Checks in loops at the top level too: code typed at a prompt runs in a
    process, not at import time."""

    _inside_function = True


def compile_checked(source, filename, mode="exec", *, top_level_loops=True):
    """Compile `source` (text or an `ast` tree) with reduction checks, as
    `vm.code.compile_source` does, and with `top_level_loops=True` also the
    loops outside any function (a `while True: pass` typed at the shell
    prompt runs in the shell's process and must be preempted). Top-level
    loops keep their countdown in the namespace the code runs in, under the
    name `_bl_n`, set at the start of the code."""
    import ast

    tree = ast.parse(source, filename, mode) if isinstance(source, (str, bytes)) else source
    cls = _TopLevelInstrumenter if top_level_loops else Instrumenter
    tree = cls().visit(tree)
    if top_level_loops and isinstance(tree, ast.Module) and any(
            isinstance(n, (ast.For, ast.While, ast.AsyncFor)) for n in ast.walk(tree)):
        start = ast.parse(f"_bl_n = {CHARGE}").body
        tree.body = start + tree.body
    return compile(ast.fix_missing_locations(tree), filename, mode, dont_inherit=True)
