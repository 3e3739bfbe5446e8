"""The public process API: what `import vm` gives a process.

What this module owns: argument checking and the translation from a
Pythonic call to the scheduler's primitives. Every function here finds the
running process with `greenlet.getcurrent()`; called outside a process it
raises `NotInProcess` saying how to start a node. Wrong arguments raise
`BadArg` with a message that names the argument and what would be right.

Each call costs the caller one reduction (`_charge`), like a BIF call on
BEAM; when the slice is used up, the caller is preempted on the way out.

What it refuses: semantics. Signals live in `_signals.py`, names in
`_registry.py`, receive in `_mailbox.py`, scheduling in `_scheduler.py`.
"""

from __future__ import annotations

import selectors

from greenlet import getcurrent

from . import _introspect, _io, _ports, _registry, _remote, _signals
from ._core import MAX_REDUCTIONS, Process, charge, deliver, send  # noqa: F401 - send is vm.send (compiled)
from ._heap import copy_term
from ._mailbox import _not_in_process
from ._node import Node
from ._patterns import check_timeout
from ._process import EXITING, WAITING, _Hibernate, _Killed
from ._timers import SEND, WAKE
from .errors import BadArg, Exit, NoProc, show
from .terms import Atom, Pid, Ref

_NO = object()
TIMEOUT_TAG = Atom("timeout")
OK = Atom("ok")


def _me(what):
    p = getcurrent()
    if type(p) is not Process:
        raise _not_in_process(what)
    return p


def _alive(what):
    """The calling process, for a call that acts as it (link, monitor, register,
    timers): a dead process unwinding its `finally` blocks may not, so the call
    raises the kill again (it cannot be caught for good)."""
    p = _me(what)
    if p.state is EXITING:
        raise _Killed(_dead_caller(what))
    return p


def _dead_caller(what):
    return (f"{what}: the calling process is already dead (killed, now running its "
            "finally blocks); a dead process cannot spawn, link, monitor, register or "
            "start timers, and any call that would wait ends it again")


def _charge(p):
    charge(p, 1)


def _check_pid(pid, what):
    if type(pid) is not Pid:
        raise BadArg(f"{what}: expected a Pid, not {type(pid).__name__} ({show(pid)})")


# ----------------------------------------------------------------------
# running a node


def run(main, *args, reductions=4000, seed=None, clock="real", instruments=(), preempt=True,
        long_slice=0.1, timeslice=None, slice_time=0.00025, sname=None, name=None, cookie=None,
        listen=None, dist=None, policy=None, accounting=False, dirty_threads=_io.DIRTY_MAX,
        **kwargs):
    """Start a node, run `main(*args, **kwargs)` as its first process, return its result.

    Options: `reductions` per slice (default 4000), `seed` for a reproducible
    interleaving, `clock="virtual"` for time that jumps ahead when every
    process waits, `instruments` to attach from the start, `preempt=False` to
    skip compiling reduction checks into spawned code (vm.code), `long_slice`
    (seconds, default 0.1; None turns it off) to report slices that run that
    long without a check, `slice_time` (seconds, default 0.25 ms; None turns it
    off, and a seed or a virtual clock does too) to end a slice of compiled code
    that has run that long while other processes wait, `timeslice` (seconds;
    main thread only, off by default, not deterministic) to preempt by a timer
    signal. `sname="py"` (or `name="py@host.example"`) makes it a distributed
    node named so, with `cookie`, `listen` (address, loopback by default) and
    `dist` (a dict of other vm.dist.start options); see docs/distribution.md.
    `policy` (a vm.scheduling policy or its name) replaces BEAM's scheduling
    policy and `accounting=True` switches per-process scheduling accounting
    on from the start (see vm.scheduling and docs/fairness.md). `dirty_threads`
    bounds the dirty pool (vm.to_thread; default 64). An abnormal exit
    of `main` raises `vm.ProcessExit` with its reason. When `main` returns,
    the processes still alive are killed and the node stops.
    """
    node = Node(reductions=reductions, seed=seed, clock=clock, instruments=instruments,
                preempt=preempt, long_slice=long_slice, timeslice=timeslice,
                slice_time=slice_time, sname=sname, name=name, cookie=cookie, listen=listen,
                dist=dist, policy=policy, accounting=accounting, dirty_threads=dirty_threads)
    return node.run(main, *args, **kwargs)


# ----------------------------------------------------------------------
# spawning


def spawn(fn, *args, **kwargs) -> Pid:
    """Start `fn(*args, **kwargs)` in a new process; return its pid at once."""
    p = _me("spawn")
    child, _ = p.node.spawn_process(p, fn, args, kwargs)
    _charge(p)
    return child.pid


def spawn_link(fn, *args, **kwargs) -> Pid:
    """Spawn and link, atomically: the child cannot die unlinked."""
    p = _me("spawn_link")
    child, _ = p.node.spawn_process(p, fn, args, kwargs, link=True)
    _charge(p)
    return child.pid


def spawn_monitor(fn, *args, **kwargs) -> tuple:
    """Spawn and monitor, atomically; returns `(pid, ref)`."""
    p = _me("spawn_monitor")
    child, ref = p.node.spawn_process(p, fn, args, kwargs, monitor=True)
    _charge(p)
    return (child.pid, ref)


def spawn_opt(fn, args=(), kwargs=None, *, link=False, monitor=False, priority="normal",
              max_heap_size=None):
    """Spawn with options; returns a pid, or `(pid, ref)` when `monitor=True`."""
    p = _me("spawn_opt")
    if type(args) not in (tuple, list):
        raise BadArg(f"spawn_opt: args must be a tuple or list, not {type(args).__name__}")
    if kwargs is not None and type(kwargs) is not dict:
        raise BadArg(f"spawn_opt: kwargs must be a dict or None, not {type(kwargs).__name__}")
    if type(link) is not bool or type(monitor) is not bool:
        raise BadArg("spawn_opt: link and monitor must be True or False")
    child, ref = p.node.spawn_process(
        p, fn, tuple(args), kwargs, link=link, monitor=monitor, priority=priority,
        max_heap=max_heap_size,
    )
    _charge(p)
    return (child.pid, ref) if monitor else child.pid


# ----------------------------------------------------------------------
# messages


def self() -> Pid:  # noqa: A001 - Erlang's name, read as vm.self()
    """The pid of the calling process (in a `vm.to_thread` function: of the process
    that called `to_thread`)."""
    p = getcurrent()
    if type(p) is not Process:
        job = _io.current_job()
        if job is None:
            raise _not_in_process("self")
        return job.pid
    return p.pid


# ----------------------------------------------------------------------
# links, monitors, exits


def link(pid) -> bool:
    """Link the caller and `pid`. A dead pid raises NoProc, unless the caller traps
    exits: then `("EXIT", pid, "noproc")` arrives instead."""
    p = _alive("link")
    _check_pid(pid, "link")
    node = p.node
    remote = _remote.hook(node, pid)
    if remote is not None:
        remote.link(p.pid, pid)  # a node that cannot be reached: EXIT noconnection
    elif pid != p.pid:
        target = node.lookup(pid)
        if target is None:
            if not p.trap_exit:
                raise NoProc(
                    f"link: {show(pid)} is not alive (noproc); monitor it instead to be told"
                )
            node.deliver(p, (_signals.EXIT, pid, _signals.NOPROC))
        else:
            _signals.add_link(node, p, target)
    _charge(p)
    return True


def unlink(pid) -> bool:
    """Remove the link to `pid` (no-op if none). An EXIT already queued stays queued."""
    p = _me("unlink")
    _check_pid(pid, "unlink")
    remote = _remote.hook(p.node, pid)
    if remote is not None:
        remote.unlink(p.pid, pid)
    else:
        _signals.remove_link(p.node, p, pid)
    _charge(p)
    return True


def monitor(target, alias=None) -> Ref:
    """Monitor `target` (a pid or a registered name); returns the monitor's ref.

    When the target dies (or is already dead: reason "noproc") the caller gets
    `("DOWN", ref, "process", target, reason)`; for a name the object is
    `(name, node)`. With `alias=` "explicit_unalias", "demonitor" or
    "reply_demonitor" the ref is also an alias of the caller (OTP 24's
    `{alias, Mode}`): messages sent to it arrive while it is active.
    """
    p = _alive("monitor")
    node = p.node
    if alias is not None and alias not in ("explicit_unalias", "demonitor", "reply_demonitor"):
        raise BadArg(
            f"monitor: alias must be None, 'explicit_unalias', 'demonitor' or "
            f"'reply_demonitor', not {show(alias)}"
        )
    if type(target) is tuple and len(target) == 2 and target[0] == "process":
        target = target[1]  # OTP's monitor(process, Item) spelling
    obj: object  # what the DOWN message names: the pid, or {name, node}
    if type(target) is Pid:
        obj = target
        proc = node.lookup(target) if target.node == node.name else None
    elif isinstance(target, str):
        name = _registry.check_name(target, "monitor")
        obj = (name, Atom(node.name))
        proc = node.names.get(name)
    elif (type(target) is tuple and len(target) == 2 and isinstance(target[0], str)
          and isinstance(target[1], str)):
        obj = (Atom(target[0]), Atom(target[1]))
        proc = node.names.get(target[0]) if target[1] == node.name else None
    else:
        raise BadArg(
            f"monitor: target must be a Pid, a registered name or (name, node), not {show(target)}"
        )
    ref = node.make_ref()
    p.ref_mark = (ref, p.received)  # before a noproc DOWN is queued below
    remote = _remote.hook(node, obj) if proc is None else None
    if remote is not None:  # DOWN comes back from the other node (noconnection if it goes)
        if alias is not None:
            _signals.add_alias(node, p, alias, ref)
        remote.monitor(p.pid, obj, ref)
    elif proc is p:
        pass  # OTP: monitoring yourself returns a ref but creates no monitor
    elif proc is None:
        if alias == "explicit_unalias":
            _signals.add_alias(node, p, alias, ref)
        node.deliver(p, (_signals.DOWN, ref, _signals.PROCESS, obj, _signals.NOPROC))
    else:
        if alias is not None:
            _signals.add_alias(node, p, alias, ref)
        _signals.add_monitor(node, p, proc, obj, ref)
    _charge(p)
    return ref


def alias(mode="explicit_unalias") -> Ref:
    """A new alias of the caller: a Ref that `send` delivers to the caller while it is
    active. Modes: "explicit_unalias" (until `unalias`) or "reply" (one message)."""
    p = _alive("alias")
    if mode not in ("explicit_unalias", "reply"):
        raise BadArg(f"alias: mode must be 'explicit_unalias' or 'reply', not {show(mode)}")
    ref = _signals.add_alias(p.node, p, mode)
    _charge(p)
    return ref


def unalias(ref) -> bool:
    """Deactivate an alias of the caller; True if it was active."""
    p = _me("unalias")
    if type(ref) is not Ref:
        raise BadArg(f"unalias: expected an alias Ref, not {show(ref)}")
    node = p.node
    # Only a ref this node made: another node's ref may carry the same id.
    entry = (node.aliases.get(ref.id)
             if ref.creation == node.creation and ref.node == node.name else None)
    if entry is None or entry[0] is not p:
        return False
    return _signals.remove_alias(node, ref)


def demonitor(ref, flush=False, info=False) -> bool:
    """Stop monitoring. `flush=True` also removes a DOWN already queued;
    `info=True` returns whether the monitor was still active."""
    p = _me("demonitor")
    if type(ref) is not Ref:
        raise BadArg(f"demonitor: expected a Ref from vm.monitor(), not {show(ref)}")
    active = _signals.remove_monitor(p.node, p, ref)
    if not active and p.node.dist is not None:
        active = p.node.dist.demonitor(p.pid, ref)
    if flush:
        _signals.flush_down(p, ref)
    _charge(p)
    return active if info else True


def exit(*args):  # noqa: A001 - Erlang's name
    """`exit(reason)` raises `Exit(reason)` in the caller (catchable; uncaught, the
    process exits with it). `exit(pid, reason)` sends an exit signal; returns True."""
    if len(args) == 1:
        reason = args[0]
        _me("exit")
        copy_term(reason)  # an exit reason travels in EXIT/DOWN messages: it must be a term
        raise Exit(reason)
    if len(args) != 2:
        raise BadArg("exit takes (reason) or (pid, reason)")
    pid, reason = args
    p = _me("exit")
    _check_pid(pid, "exit")
    copy_term(reason)
    node = p.node
    remote = _remote.hook(node, pid)
    if remote is not None and p.state is not EXITING:
        remote.exit(p.pid, pid, reason)
    target = node.lookup(pid) if pid.node == node.name else None
    if target is not None and p.state is not EXITING:  # a dead process sends no signal
        _signals.exit_signal(node, target, p.pid, reason, False)
        if p.state is EXITING:  # the signal (or a cascade) killed the caller
            raise _Killed()
    _charge(p)
    return True


# ----------------------------------------------------------------------
# flags and info


def process_flag(flag, value):
    """Set a flag of the calling process; returns the old value.

    Flags: "trap_exit" (bool), "priority" ("low", "normal", "high", "max"),
    "max_heap_size" (words, or {"size", "kill", "error_logger"}), "label".
    """
    p = _me("process_flag")
    if flag == "trap_exit":
        if type(value) is not bool:
            raise BadArg(
                "process_flag('trap_exit', value): value must be True or False, "
                f"not {show(value)}"
            )
        old, p.trap_exit = p.trap_exit, value
    elif flag == "priority":
        old = Atom(p.node.set_priority(p, value))
    elif flag == "max_heap_size":
        old = _signals.set_max_heap(p.node, p, value)
    elif flag == "label":
        old, p.label = p.label, copy_term(value)
    else:
        raise BadArg(
            f"process_flag: unknown flag {show(flag)}; known flags: 'trap_exit', 'priority', "
            "'max_heap_size', 'label'"
        )
    _charge(p)
    return old


def process_info(pid, item=None):
    """Information about a live local process; None if it is dead.

    `item` is one item name (returns its value), a list of names (returns a
    dict), or None (returns OTP's default set as a dict).
    """
    p = _me("process_info")
    _check_pid(pid, "process_info")
    node = p.node
    if pid.node != node.name:
        raise BadArg(f"process_info: {show(pid)} is not a local process")
    if item is not None:
        if type(item) is list:
            for it in item:
                _introspect.check_item(it)
        else:
            _introspect.check_item(item)
    target = node.lookup(pid)
    _charge(p)
    if target is None:
        return None
    if item is None:
        return {
            it: _introspect.info_item(node, target, it)
            for it in _introspect.DEFAULT_ITEMS
            if it != "registered_name" or target.name is not None
        }
    if type(item) is list:
        return {it: _introspect.info_item(node, target, it) for it in item}
    return _introspect.info_item(node, target, item)


def processes() -> list:
    """The pids of every live process on this node, oldest first."""
    p = _me("processes")
    return [q.pid for q in p.node.procs.values() if q.state is not EXITING]


def is_process_alive(pid) -> bool:
    p = _me("is_process_alive")
    _check_pid(pid, "is_process_alive")
    if pid.node != p.node.name:
        raise BadArg(f"is_process_alive: {show(pid)} is not a local process")
    return p.node.lookup(pid) is not None


# ----------------------------------------------------------------------
# names


def register(name, pid) -> bool:
    """Register `pid` under `name`. BadArg if the name is taken, the pid is dead
    or already named, or the name is "undefined"."""
    p = _alive("register")
    return _registry.register(p.node, name, pid)


def unregister(name) -> bool:
    p = _me("unregister")
    return _registry.unregister(p.node, name)


def whereis(name):
    """The pid registered under `name`, or None."""
    p = _me("whereis")
    return _registry.whereis(p.node, name)


def registered() -> list:
    p = _me("registered")
    return _registry.registered(p.node)


# ----------------------------------------------------------------------
# timers


def _check_time(seconds, what):
    """Seconds for a timer or sleep: a number >= 0, or `math.inf` (never fires).
    Returns None for infinity."""
    if seconds is None:
        raise BadArg(f"{what}: timers need a time in seconds; None (infinity) is not accepted "
                     "(math.inf is: a timer that never fires)")
    return _opt_time(seconds, what)


def _set_timer(p, seconds, dest, msg, what, wrap):
    seconds = _check_time(seconds, what)
    node = p.node
    if type(dest) is Pid:
        target = node.lookup(dest) if dest.node == node.name else None
    elif isinstance(dest, str):
        target = _registry.check_name(dest, what)
    else:
        raise BadArg(f"{what}: destination must be a Pid or a registered name, not {show(dest)}")
    ref = node.make_ref()
    if wrap:
        msg = (TIMEOUT_TAG, ref, msg)
    msg = copy_term(msg)
    if target is None:
        return ref  # auto-cancelled at once: the target is dead
    if seconds is None:
        t = node.timers.never(SEND, target, msg, ref)
    else:
        t = node.add_timer(seconds, SEND, target, msg, ref)
    node.timer_refs[ref] = t
    if type(target) is Process:
        if target.timers is None:
            target.timers = set()
        target.timers.add(t)
    _charge(p)
    return ref


def send_after(seconds, dest, msg) -> Ref:
    """Deliver `msg` to `dest` after `seconds`; returns a timer ref."""
    return _set_timer(_alive("send_after"), seconds, dest, msg, "send_after", False)


def start_timer(seconds, dest, msg) -> Ref:
    """Deliver `("timeout", ref, msg)` to `dest` after `seconds`; returns ref."""
    return _set_timer(_alive("start_timer"), seconds, dest, msg, "start_timer", True)


def _timer_options(what, async_, info):
    if type(async_) is not bool or type(info) is not bool:
        raise BadArg(f"{what}: async_ and info must be True or False, "
                     f"not {show(async_)} and {show(info)}")


def _time_left(node, t):
    return max(0.0, t.deadline - node.now())


def cancel_timer(ref, *, async_=False, info=True):
    """Cancel a timer; returns the seconds it had left, or False if it already fired,
    was cancelled, or never existed. Once it returns, the message is guaranteed
    not to be delivered.

    As OTP's options: `info=False` returns "ok" instead; `async_=True` returns
    "ok" at once and (with `info=True`) sends `("cancel_timer", ref, result)`
    to the caller.
    """
    p = _me("cancel_timer")
    if type(ref) is not Ref:
        raise BadArg(f"cancel_timer: expected a timer Ref, not {show(ref)}")
    _timer_options("cancel_timer", async_, info)
    node = p.node
    t = node.timer_refs.pop(ref, None)
    result = False
    if t is not None:
        # Cancel before anything can switch this process out (the charge below
        # may preempt it), so a due timer cannot fire in between.
        node.timers.cancel(t)
        if type(t.target) is Process and t.target.timers is not None:
            t.target.timers.discard(t)
        result = _time_left(node, t)
    return _timer_answer(p, node, "cancel_timer", ref, result, async_, info)


def read_timer(ref, *, async_=False):
    """Seconds left on a timer (`math.inf` for one that never fires), or False.
    `async_=True` returns "ok" and sends `("read_timer", ref, result)`."""
    p = _me("read_timer")
    if type(ref) is not Ref:
        raise BadArg(f"read_timer: expected a timer Ref, not {show(ref)}")
    _timer_options("read_timer", async_, True)
    node = p.node
    t = node.timer_refs.get(ref)
    result = False if t is None else _time_left(node, t)
    return _timer_answer(p, node, "read_timer", ref, result, async_, True)


def _timer_answer(p, node, what, ref, result, async_, info):
    if async_:
        if info:
            node.deliver(p, (Atom(what), ref, result))
        result = OK
    elif not info:
        result = OK
    _charge(p)
    return result


def sleep(seconds) -> None:
    """Wait `seconds` (messages stay queued). `sleep(0)` yields the rest of the slice;
    `sleep(math.inf)` waits until the process is killed."""
    p = _me("sleep")
    seconds = _check_time(seconds, "sleep")
    node = p.node
    if seconds == 0:
        _yield(p)
        return
    if seconds is None:
        node.park(p, WAITING)  # only an exit signal ends this wait
        return
    t = node.add_timer(seconds, WAKE, p)
    node.park(p, WAITING, t)
    p.timed_out = False


def to_thread(fn, *args, timeout=None, **kwargs):
    """Run a blocking call on the node's dirty pool; return its result (or raise its
    exception) while every other process keeps running.

    `timeout` (seconds, None for no limit) raises `TimeoutError` when it passes;
    the job is then abandoned, as when the caller is killed: a job not started
    never runs, one running ends unheard (a thread cannot be stopped; use
    `vm.to_process` for work that must stop). `fn` runs on a worker thread:
    there, `vm.send` and `vm.self` work and nothing else of the VM does."""
    p = _me("to_thread")
    return _io.to_thread(p, fn, args, kwargs, _opt_time(timeout, "to_thread"))


def to_process(fn, *args, timeout=None, **kwargs):
    """Run `fn(*args, **kwargs)` in a worker OS process and return its result (or
    raise its exception, with the worker's traceback as a note).

    Unlike `to_thread`, the work really stops: when the caller dies, or when
    `timeout` seconds pass (TimeoutError), the worker is killed with everything
    it started. `fn` must be importable by name (defined at module level);
    arguments and result must be terms. Workers are reused between calls.
    """
    p = _alive("to_process")
    return _ports.to_process(p, fn, args, kwargs, _opt_time(timeout, "to_process"))


def port(argv, *, mode="line", cwd=None, env=None, stderr="stdout", line_max=65536) -> Pid:
    """Start the command `argv` (a list, no shell) as a port owned by the caller.

    The caller gets `(port, ("data", ...))` for its output (`mode="line"`:
    `("eol", line)` per line without its newline, `("noeol", part)` for a
    line longer than `line_max` or a last one without a newline;
    `mode="stream"`: the bytes as they come), then `(port, ("exit_status", n))`.
    `stderr` is "stdout" (merged), "discard" or "inherit". The port is a
    process linked to the caller: when the caller exits, the command is killed
    with everything it started. Returns the port's pid.
    """
    return _ports.open_port(_alive("port"), argv, mode, cwd, env, stderr, line_max)


def port_command(port, data) -> bool:
    """Write `data` (bytes or str) to a port's command's stdin."""
    return _ports.port_command(_alive("port_command"), port, data)


def port_close(port) -> bool:
    """Close a port: its command is stopped, and `(port, "closed")` comes back."""
    return _ports.port_close(_alive("port_close"), port)


def wait_readable(sock, timeout=None) -> bool:
    """Park until `sock` (a socket or file descriptor) is readable; False on timeout."""
    return _io_waits(_me("wait_readable")).wait(
        getcurrent(), sock, selectors.EVENT_READ, _opt_time(timeout, "wait_readable"))


def wait_writable(sock, timeout=None) -> bool:
    """Park until `sock` is writable; False on timeout."""
    return _io_waits(_me("wait_writable")).wait(
        getcurrent(), sock, selectors.EVENT_WRITE, _opt_time(timeout, "wait_writable"))


def _io_waits(p):
    return p.node.io_waits()


def _opt_time(timeout, what):
    try:
        return check_timeout(timeout)
    except BadArg as e:
        raise BadArg(f"{what}: {e}") from None


def sched_yield() -> None:
    """Give up the rest of the slice (OTP's erlang:yield/0)."""
    _yield(_me("sched_yield"))


def _yield(p):
    node = p.node
    if node.sched is not None:
        node.sched.yielding = True  # accounting and policies tell a yield from a preemption
    node.preempt(p)


def bump_reductions(n) -> None:
    """Charge `n` extra reductions to the caller (OTP's erlang:bump_reductions/1).

    `n` is an int from 0 to 2**59 - 1 (OTP's small integers: it refuses a big
    one with badarg too). A charge above MAX_REDUCTIONS (10**12) counts as
    MAX_REDUCTIONS: it ends the slice either way, and keeps the counters of
    the compiled core far from overflowing."""
    p = _me("bump_reductions")
    if type(n) is not int or not 0 <= n < 1 << 59:
        raise BadArg(f"bump_reductions: n must be an int from 0 to 2**59 - 1, not {show(n)}")
    charge(p, min(n, MAX_REDUCTIONS))


def hibernate(fn, *args, **kwargs):
    """Drop the caller's stack; on the next message run `fn(*args, **kwargs)` as its body.

    Never returns (enclosing try/except blocks are gone, as in OTP; their
    `finally` clauses run on the way out).
    """
    _me("hibernate")
    if not callable(fn):
        raise BadArg(f"hibernate needs a callable, not {show(fn)}")
    raise _Hibernate(fn, args, kwargs)


def make_ref() -> Ref:
    """A fresh reference. A later receive whose pattern holds it skips the
    messages that were queued before it was made (BEAM's receive marker)."""
    p = _me("make_ref")
    ref = p.node.make_ref()
    p.ref_mark = (ref, p.received)
    return ref


def monotonic() -> float:
    """The node's clock in seconds (virtual time under clock="virtual")."""
    return _me("monotonic").node.now()


def node() -> Atom:
    """This node's name (`nonode@nohost` unless it is distributed), as Erlang's node()."""
    _me("node")
    from .dist.kernel import node as dist_node

    return Atom(dist_node())


def nodes(kind="visible") -> list:
    """Connected nodes: "visible" (Erlang's nodes()), "hidden", "connected" or "this"."""
    _me("nodes")
    from .dist.kernel import nodes as dist_nodes

    return dist_nodes(kind)


def monitor_node(node_name, flag=True) -> bool:
    """Get `("nodedown", node)` once the connection to `node_name` is lost (or cannot be made)."""
    p = _me("monitor_node")
    if p.node.dist is None:
        if flag and node_name != p.node.name:
            p.node.deliver(p, (Atom("nodedown"), Atom(node_name)))
        return True
    from .dist.kernel import monitor_node as dist_monitor_node

    return dist_monitor_node(node_name, flag)


def node_name() -> str:
    return _me("node_name").node.name


def statistics(item=None) -> dict:
    """Scheduler statistics: run queues, context switches, reductions, utilization.

    `statistics("scheduler_wall_time")` is OTP's item of that name for the
    node's one scheduler: `{"active": s, "total": s}` since the node started."""
    node = _me("statistics").node
    if item is None:
        return node.statistics()
    if item == "scheduler_wall_time":
        return node.scheduler_wall_time()
    raise BadArg(f"statistics: unknown item {show(item)}; known: scheduler_wall_time "
                 "(or no item: the whole dict)")


def add_instrument(inst) -> None:
    """Attach an instrument (a vm.Instrument) to the caller's node."""
    _me("add_instrument").node.ins.add(inst)


def remove_instrument(inst) -> bool:
    return _me("remove_instrument").node.ins.remove(inst)


# ----------------------------------------------------------------------
# the process dictionary


def put(key, value):
    """Set `key` in the process dictionary; returns the old value or None."""
    p = _me("put")
    d = p.dictionary
    if d is None:
        d = p.dictionary = {}
    old = d.get(key)
    d[key] = value
    return old


def get(key=_NO):
    """The value of `key` (None if absent); with no key, every (key, value) pair."""
    p = _me("get")
    d = p.dictionary or {}
    if key is _NO:
        return list(d.items())
    return d.get(key)


def get_keys(value=_NO) -> list:
    """Every key, or the keys whose value equals `value`."""
    p = _me("get_keys")
    d = p.dictionary or {}
    if value is _NO:
        return list(d)
    return [k for k, v in d.items() if v == value]


def erase(key=_NO):
    """Remove `key` (returns its old value or None); with no key, clear all and
    return the old pairs."""
    p = _me("erase")
    d = p.dictionary
    if key is _NO:
        old = list(d.items()) if d else []
        p.dictionary = None
        return old
    if not d:
        return None
    return d.pop(key, None)

