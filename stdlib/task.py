"""task: Elixir's Task: run a function in its own process and collect its result.

What this module owns: the life of a one-shot worker process, its handshake
with the process that asked for it (the *owner*), and how the owner reads
the result. Python keywords force three names: `async_`, `await_`, `yield_`.

    call (in the owner)              what happens
    ------------------------------------------------------------------------
    t = async_(fn, *args)            a task process, linked to the owner and
                                     monitored with an alias; it runs fn(*args)
                                     and sends (t["ref"], result) to the alias
    await_(t, timeout=5.0)           the result; a task crash exits the owner
                                     with (reason, ("Task", "await", (t, timeout)));
                                     a timeout with ("timeout", ("Task", "await", ...))
    yield_(t, timeout=5.0)           ("ok", r) | ("exit", reason) | None (still
                                     running: the monitor stays, yield again later)
    shutdown(t, 5.0 | "brutal_kill") unlink, stop the task, then ("ok", r) if its
                                     reply arrived meanwhile, ("exit", reason) if
                                     it died of something else, else None
    await_many(ts), yield_many(ts)   the same over a list, sharing one timeout
    ignore(t)                        unlink and forget (the task keeps running)
    async_stream(items, fn, ...)     a lazy iterator of ("ok", v) | ("exit", r),
                                     at most max_concurrency tasks at a time
    start(fn), start_link(fn)        fire and forget: ("ok", pid)

A task is a plain dict, Elixir's `%Task{}` struct: `{"__struct__": "Task",
"mfa": ..., "owner": pid, "pid": pid, "ref": ref}`. It is a term, so it can
sit in a gen_server's state and travel in exit reasons. Only its owner may
await, yield, shut down or ignore it (a `vm.BadArg` says so otherwise).

The reply goes to a monitor *alias*: once the owner has given up on the
task (a timeout, `shutdown`, `ignore`), a late reply is dropped instead of
lingering in its mailbox. Every task process records `"$callers"` (the
owner, then the owner's callers) next to proc_lib's `"$ancestors"`, and a
crash gives proc_lib's CRASH REPORT (initial call: the task's function).

Times are seconds, None is infinity (Elixir: milliseconds, :infinity).

`async_stream`'s default `max_concurrency` is 10, not Elixir's
`System.schedulers_online()`. A beamlet node has one scheduler, so that rule
would give 1 and make every stream sequential. Concurrency on one scheduler
pays off when tasks wait (I/O, `vm.to_thread`, timers), and the node's dirty
pool runs 10 blocking calls at once (BEAM's 10 dirty I/O schedulers), so 10
tasks in flight keep that pool busy while bounding the processes and memory
a long stream can claim. Pass `max_concurrency` to choose otherwise.

What it refuses: supervision (task_supervisor.py starts tasks under a
DynamicSupervisor and reuses this module's handshake and stream engine).
"""

from __future__ import annotations

from greenlet import getcurrent

import vm

from . import proc_lib

__all__ = [
    "DEFAULT_MAX_CONCURRENCY",
    "async_",
    "async_stream",
    "await_",
    "await_many",
    "child_spec",
    "completed",
    "ignore",
    "shutdown",
    "start",
    "start_link",
    "yield_",
    "yield_many",
]

TIMEOUT = vm.TIMEOUT
DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_CONCURRENCY = 10  # see the module docstring: the dirty pool's size
_STREAM_TIMEOUT = vm.Atom("$task_stream_timeout")
DOWN = vm.Atom("DOWN")
EXIT = vm.Atom("EXIT")


# ----------------------------------------------------------------------
# selective receives
#
# Receive patterns are compiled and cached by value, so a pattern holding a
# fresh ref or pid compiles on every call and churns the cache for every
# process. Instead, each receive here uses one of a few module-level
# predicates, which read what the calling process is waiting for from
# `_awaiting` (keyed by the process record; only that process touches its
# entry).

_awaiting: dict = {}


def _recv(pred, key, timeout=None):
    p = getcurrent()
    _awaiting[p] = key
    try:
        return vm.receive(pred, timeout=timeout)
    finally:
        del _awaiting[p]


def _reply_or_down(m):  # (ref, result) or ("DOWN", ref, ...) for key ref
    if type(m) is tuple:
        n = len(m)
        if n == 2:
            return m[0] == _awaiting[getcurrent()]
        if n == 5:
            return m[1] == _awaiting[getcurrent()] and m[0] == DOWN
    return False


def _reply(m):  # (ref, result) for key ref
    return type(m) is tuple and len(m) == 2 and m[0] == _awaiting[getcurrent()]


def _down(m):  # ("DOWN", ref, ...) for key ref
    return type(m) is tuple and len(m) == 5 and m[1] == _awaiting[getcurrent()] and m[0] == DOWN


def _exit_of(m):  # ("EXIT", pid, reason) for key pid
    return type(m) is tuple and len(m) == 3 and m[1] == _awaiting[getcurrent()] and m[0] == EXIT


def _stream_timer(m):  # (_STREAM_TIMEOUT, ref) for key ref
    return (type(m) is tuple and len(m) == 2 and m[0] == _STREAM_TIMEOUT
            and m[1] == _awaiting[getcurrent()])


def _handshake(m):  # (owner, alias) or ("DOWN", owner monitor, ...) for key (owner, mref)
    if type(m) is tuple:
        n = len(m)
        if n == 2:
            return m[0] == _awaiting[getcurrent()][0] and type(m[1]) is vm.Ref
        if n == 5:
            return m[1] == _awaiting[getcurrent()][1] and m[0] == DOWN
    return False


def _any_of(m):  # a reply, a DOWN or a stream timer for any ref in the key (a dict or set)
    if type(m) is tuple:
        n = len(m)
        if n == 2:
            k = m[0]
            if type(k) is vm.Ref:
                return k in _awaiting[getcurrent()]
            return (k == _STREAM_TIMEOUT and type(m[1]) is vm.Ref
                    and m[1] in _awaiting[getcurrent()])
        if n == 5:
            return m[0] == DOWN and type(m[1]) is vm.Ref and m[1] in _awaiting[getcurrent()]
    return False


# ----------------------------------------------------------------------
# the task process


def _mfa(fn, nargs):
    mod = getattr(fn, "__module__", None) or "?"
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    return (mod, name, nargs)


def callers():
    """The `"$callers"` list a task started now by this process records."""
    return [vm.self(), *(vm.get("$callers") or [])]


def task_main(owner, callers_, fn, args, handshake):
    """The body of every task process (also Task.Supervisor's).

    `handshake`: None (fire and forget), "link" (wait for the owner's
    alias: the owner is linked, so no guard is needed) or "monitor" (wait
    at most 5 s, and give up if the owner dies first, as Elixir's
    supervised tasks do).
    """
    vm.put("$callers", callers_)
    vm.put("$initial_call", _mfa(fn, len(args)))
    if handshake is None:
        return fn(*args)
    if handshake == "monitor":
        mref = vm.monitor(owner)
        msg = _recv(_handshake, (owner, mref), 5.0)
        if msg is TIMEOUT:
            vm.exit("timeout")
        if len(msg) == 5:
            vm.exit(("shutdown", msg[4]))
        vm.demonitor(mref, flush=True)
    else:
        msg = _recv(_handshake, (owner, None))
    alias = msg[1]
    result = fn(*args)
    vm.send(alias, (alias, result))


def make_task(owner, pid, ref, fn, nargs):
    return {"__struct__": "Task", "mfa": _mfa(fn, nargs), "owner": owner, "pid": pid,
            "ref": ref}


def attach(pid, fn, nargs, link):
    """Owner side of the handshake: link (or not), monitor with an alias, send it."""
    owner = vm.self()
    if link:
        vm.link(pid)
    ref = vm.monitor(pid, alias="demonitor")
    vm.send(pid, (owner, ref))
    return make_task(owner, pid, ref, fn, nargs)


def _check_fn(fn, what):
    if not callable(fn):
        raise vm.BadArg(f"task.{what} needs a function to run, not {fn!r}")


# ----------------------------------------------------------------------
# starting


def async_(fn, *args):
    """Run `fn(*args)` in a new task linked to the caller; await it with `await_`.

    A crash in the task takes the caller down too (the link), unless the
    caller traps exits; then `await_` exits with the task's reason.
    """
    _check_fn(fn, "async_")
    pid = proc_lib.spawn_link(task_main, vm.self(), callers(), fn, args, "link")
    return attach(pid, fn, len(args), False)


def start(fn, *args):
    """Run `fn(*args)` in a new task for its side effects, not linked; ("ok", pid)."""
    _check_fn(fn, "start")
    return ("ok", proc_lib.spawn(task_main, vm.self(), callers(), fn, args, None))


def start_link(fn, *args):
    """Run `fn(*args)` in a new task linked to the caller (a supervisor's child); ("ok", pid)."""
    _check_fn(fn, "start_link")
    return ("ok", proc_lib.spawn_link(task_main, vm.self(), callers(), fn, args, None))


def child_spec(fn) -> dict:
    """A supervisor child spec running `fn()` as a task: restart "temporary", as Elixir's."""
    _check_fn(fn, "child_spec")
    return {"id": "Task", "start": (start_link, (fn,)), "restart": "temporary"}


def completed(result):
    """A task that is already done with `result` (Elixir 1.13): await_ returns it at once."""
    me = vm.self()
    ref = vm.make_ref()
    vm.send(me, (ref, result))
    return {"__struct__": "Task", "mfa": None, "owner": me, "pid": None, "ref": ref}


# ----------------------------------------------------------------------
# reading results


def _check_task(task, what):
    if not (type(task) is dict and task.get("__struct__") == "Task"
            and type(task.get("ref")) is vm.Ref):
        raise vm.BadArg(f"task.{what} needs a task made by task.async_ (or "
                        f"task_supervisor.async_), not {task!r}")
    me = vm.self()
    if task["owner"] != me:
        raise vm.BadArg(
            f"task {task!r} must be queried from the owner but was queried from {me!r}: only "
            "the process that started a task may await, yield, shut down or ignore it; "
            "await it there and send the result on"
        )


def _check_timeout(timeout, what):
    if timeout is not None and (isinstance(timeout, bool) or
                                not isinstance(timeout, (int, float)) or
                                timeout != timeout or timeout < 0):
        raise vm.BadArg(f"task.{what}: timeout must be seconds >= 0 or None (infinity), "
                        f"not {timeout!r}")


def await_(task, timeout=DEFAULT_TIMEOUT):
    """The task's result. The caller exits with `(reason, ("Task", "await", (task,
    timeout)))` if the task died, `("timeout", ...)` after `timeout` seconds."""
    _check_task(task, "await_")
    _check_timeout(timeout, "await_")
    ref = task["ref"]
    msg = _recv(_reply_or_down, ref, timeout)
    where = ("Task", "await", (task, timeout))
    if msg is TIMEOUT:
        vm.demonitor(ref, flush=True)  # also turns the alias off: a late reply is dropped
        raise vm.Exit(("timeout", where))
    if len(msg) == 2:
        vm.demonitor(ref, flush=True)
        return msg[1]
    raise vm.Exit((msg[4], where))


def yield_(task, timeout=DEFAULT_TIMEOUT):
    """("ok", result), ("exit", reason) if the task died, or None if it is still
    running after `timeout` seconds (the monitor stays: yield or shut down later)."""
    _check_task(task, "yield_")
    _check_timeout(timeout, "yield_")
    ref = task["ref"]
    msg = _recv(_reply_or_down, ref, timeout)
    if msg is TIMEOUT:
        return None
    if len(msg) == 2:
        vm.demonitor(ref, flush=True)
        return ("ok", msg[1])
    return ("exit", msg[4])


def _waiting(tasks, what):
    if type(tasks) not in (list, tuple):
        raise vm.BadArg(f"task.{what} needs a list of tasks, not {tasks!r}")
    for t in tasks:
        _check_task(t, what)
    return {t["ref"]: i for i, t in enumerate(tasks)}


def await_many(tasks, timeout=DEFAULT_TIMEOUT):
    """The results of every task, in the order given, within one shared timeout.

    If any task dies, or the time runs out, the others are demonitored and the
    caller exits with `(reason, ("Task", "await_many", (tasks, timeout)))`.
    """
    _check_timeout(timeout, "await_many")
    pending = _waiting(tasks, "await_many")
    results = [None] * len(tasks)
    where = ("Task", "await_many", (list(tasks), timeout))
    deadline = None if timeout is None else vm.monotonic() + timeout
    while pending:
        left = None if deadline is None else max(0.0, deadline - vm.monotonic())
        msg = _recv(_any_of, pending, left)
        if msg is TIMEOUT or len(msg) == 5:
            for ref in pending:
                vm.demonitor(ref, flush=True)
            raise vm.Exit(("timeout" if msg is TIMEOUT else msg[4], where))
        ref = msg[0]
        vm.demonitor(ref, flush=True)
        results[pending.pop(ref)] = msg[1]
    return results


def yield_many(tasks, timeout=DEFAULT_TIMEOUT):
    """[(task, ("ok", r) | ("exit", reason) | None), ...] in the order given, waiting
    at most `timeout` seconds in all; tasks still running keep their monitors."""
    _check_timeout(timeout, "yield_many")
    pending = _waiting(tasks, "yield_many")
    results = [None] * len(tasks)
    deadline = None if timeout is None else vm.monotonic() + timeout
    while pending:
        left = None if deadline is None else max(0.0, deadline - vm.monotonic())
        msg = _recv(_any_of, pending, left)
        if msg is TIMEOUT:
            break
        if len(msg) == 2:
            vm.demonitor(msg[0], flush=True)
            results[pending.pop(msg[0])] = ("ok", msg[1])
        else:
            results[pending.pop(msg[1])] = ("exit", msg[4])
    return list(zip(tasks, results, strict=True))


def _flush_reply(ref):
    msg = _recv(_reply, ref, 0)
    return None if msg is TIMEOUT else ("ok", msg[1])


def shutdown(task, timeout=DEFAULT_TIMEOUT):
    """Unlink and stop the task: exit signal `shutdown`, then `kill` after `timeout`
    seconds (or `kill` at once with "brutal_kill"). Returns ("ok", r) if its reply
    arrived meanwhile, ("exit", reason) if it died of something else, else None."""
    _check_task(task, "shutdown")
    pid = task["pid"]
    if pid is None:
        raise vm.BadArg(f"task {task!r} does not have an associated task process "
                        "(task.completed makes none): there is nothing to shut down")
    brutal = timeout == "brutal_kill"
    if not brutal:
        _check_timeout(timeout, "shutdown")
    ref = task["ref"]
    mon = vm.monitor(pid)
    vm.unlink(pid)
    vm.exit(pid, "kill" if brutal else "shutdown")
    kind = "brutal_kill" if brutal else "shutdown"
    msg = _recv(_down, mon, None if brutal else timeout)
    if msg is TIMEOUT:
        vm.exit(pid, "kill")
        kind = "timeout_kill"
        msg = _recv(_down, mon)
    reason = msg[4]
    if reason == "noproc":
        # It was gone before we asked; its own DOWN (if still queued) says how it ended.
        down = _recv(_down, ref, 0)
        if down is TIMEOUT:
            vm.demonitor(ref, flush=True)
            result = ("exit", "noproc")
        else:
            result = None if _expected(down[4], kind) else ("exit", down[4])
        return _flush_reply(ref) or result
    vm.demonitor(ref, flush=True)
    if _expected(reason, kind):
        return _flush_reply(ref)
    return _flush_reply(ref) or ("exit", reason)


def _expected(reason, kind):
    if reason == "shutdown":
        return kind in ("shutdown", "timeout_kill")
    return reason == "killed" and kind == "brutal_kill"


def ignore(task):
    """Let the task run on unwatched (Elixir 1.13): unlink and demonitor it; its reply
    will be dropped. Returns ("ok", r) / ("exit", reason) if it already finished, else None."""
    _check_task(task, "ignore")
    ref = task["ref"]
    if task["pid"] is not None:
        vm.unlink(task["pid"])
    msg = _recv(_reply_or_down, ref, 0)
    vm.demonitor(ref, flush=True)
    if msg is TIMEOUT:
        return None
    if len(msg) == 2:
        return ("ok", msg[1])
    return ("exit", msg[4])


# ----------------------------------------------------------------------
# async_stream


def async_stream(iterable, fn, *, max_concurrency=DEFAULT_MAX_CONCURRENCY, ordered=True,
                 timeout=DEFAULT_TIMEOUT, on_timeout="exit", zip_input_on_exit=False):
    """Run `fn(item)` in a task per item; a lazy iterator of ("ok", value) or
    ("exit", reason).

    Nothing starts until the iterator is read; at most `max_concurrency` tasks
    run at once (default 10, see the module docstring). `ordered`: results in
    input order (else as they finish). `timeout`: seconds each task may run
    (None: no limit); past it, `on_timeout="exit"` makes the caller exit with
    `("timeout", ("Task.Supervised", "stream", (timeout,)))` and
    `"kill_task"` kills the task and yields ("exit", "timeout").
    `zip_input_on_exit`: exits read ("exit", (item, reason)). Tasks are linked
    to the caller: a crash takes it down unless it traps exits (then the
    crash reads ("exit", reason)). Closing the iterator early (`break`,
    `close()`) kills the tasks still running.
    """
    _check_fn(fn, "async_stream")
    opts = check_stream_options("async_stream", iterable, max_concurrency, ordered, timeout,
                                on_timeout, zip_input_on_exit)
    return stream(iterable, fn, opts, _spawn_linked)


def _spawn_linked(fn, item):
    pid = proc_lib.spawn_link(task_main, vm.self(), callers(), fn, (item,), "link")
    return pid, True


def check_stream_options(what, iterable, max_concurrency, ordered, timeout, on_timeout,
                         zip_input_on_exit):
    if not hasattr(iterable, "__iter__"):
        raise vm.BadArg(f"{what}: the items must be iterable (a list, a range, a "
                        f"generator, ...), not {iterable!r}")
    if type(max_concurrency) is not int or max_concurrency < 1:
        raise vm.BadArg(f"{what}: max_concurrency must be an int >= 1, "
                        f"not {max_concurrency!r}")
    if type(ordered) is not bool:
        raise vm.BadArg(f"{what}: ordered must be True or False, not {ordered!r}")
    _check_timeout(timeout, what)
    if on_timeout not in ("exit", "kill_task"):
        raise vm.BadArg(f"{what}: on_timeout must be 'exit' or 'kill_task', not {on_timeout!r}")
    if type(zip_input_on_exit) is not bool:
        raise vm.BadArg(f"{what}: zip_input_on_exit must be True or False, "
                        f"not {zip_input_on_exit!r}")
    return (max_concurrency, ordered, timeout, on_timeout, zip_input_on_exit)


class _Running:
    __slots__ = ("pos", "pid", "item", "linked", "timer", "reply", "timed_out")

    def __init__(self, pos, pid, item, linked, timer):
        self.pos = pos
        self.pid = pid
        self.item = item
        self.linked = linked
        self.timer = timer
        self.reply = None
        self.timed_out = False


def stream(iterable, fn, opts, spawn):
    """The stream engine shared with task_supervisor: `spawn(fn, item) -> (pid, linked)`
    starts a task that waits for the handshake (task_main)."""
    max_concurrency, ordered, timeout, on_timeout, zip_input = opts
    me = vm.self()
    it = iter(iterable)
    running = {}  # task ref -> _Running
    done = {}  # position -> result, for ordered delivery
    spawned = delivered = 0
    exhausted = False

    def exit_result(r, reason):
        return ("exit", (r.item, reason) if zip_input else reason)

    try:
        while True:
            while not exhausted and len(running) < max_concurrency:
                try:
                    item = next(it)
                except StopIteration:
                    exhausted = True
                    break
                pid, linked = spawn(fn, item)
                ref = vm.monitor(pid, alias="demonitor")
                vm.send(pid, (me, ref))
                timer = (None if timeout is None
                         else vm.send_after(timeout, me, (_STREAM_TIMEOUT, ref)))
                running[ref] = _Running(spawned, pid, item, linked, timer)
                spawned += 1
            while delivered in done:
                result = done.pop(delivered)
                delivered += 1
                yield result
            if exhausted and not running:
                return
            msg = _recv(_any_of, running)
            if len(msg) == 2 and msg[0] != _STREAM_TIMEOUT:  # a reply: delivered once it is down
                running[msg[0]].reply = ("ok", msg[1])
                continue
            if len(msg) == 2:  # this task's time is up
                r = running[msg[1]]
                r.timer = None
                if r.reply is None and not r.timed_out:
                    r.timed_out = True
                    if r.linked:
                        vm.unlink(r.pid)
                    vm.exit(r.pid, "kill")
                continue
            ref = msg[1]
            r = running.pop(ref)
            if r.timer is not None and vm.cancel_timer(r.timer) is False:
                _recv(_stream_timer, ref, 0)
            if r.linked:
                _recv(_exit_of, r.pid, 0)  # a trapping caller's copy of the task's end
            if r.reply is not None:
                result = r.reply
            elif r.timed_out:
                if on_timeout == "exit":
                    raise vm.Exit(("timeout", ("Task.Supervised", "stream", (timeout,))))
                result = exit_result(r, "timeout")
            else:
                result = exit_result(r, msg[4])
            if ordered:
                done[r.pos] = result
            else:
                delivered += 1
                yield result
    finally:
        _close(running)


def _close(running):
    """Kill the tasks still running and take their traces out of the mailbox."""
    for r in running.values():
        if r.linked:
            vm.unlink(r.pid)
        vm.exit(r.pid, "kill")
    for ref, r in running.items():
        _recv(_down, ref)
        _recv(_reply, ref, 0)
        if r.timer is not None and vm.cancel_timer(r.timer) is False:
            _recv(_stream_timer, ref, 0)
    running.clear()
