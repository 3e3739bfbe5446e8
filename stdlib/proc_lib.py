"""proc_lib: processes that know where they come from, start synchronously,
and report their crashes (reference §6.3).

What this module owns:

- `spawn`, `spawn_link`, `spawn_opt`: like `vm`'s, but the new process
  records `"$ancestors"` (its parent's registered name or pid, then the
  parent's ancestors) and `"$initial_call"` in its dictionary, and an
  abnormal exit produces a CRASH REPORT through `logging` (never for
  `normal`, `shutdown` or `("shutdown", x)`);
- `start`, `start_link`, `start_monitor`: spawn, then block until the new
  process calls `init_ack(ret)` (start returns `ret`), calls
  `init_fail(ret, reason)` (start returns `ret` once the process is dead and
  any EXIT from the link has been consumed), or dies (start returns
  `("error", reason)`), or `timeout` seconds pass (the process is killed,
  start returns `("error", "timeout")`). The starter watches the child with
  a monitor, so a start works whether or not the caller traps exits;
- `hibernate`, which keeps crash reporting across the wake-up;
- `stop(process, reason, timeout)`: ask a behaviour process to terminate
  through the system-message protocol and wait for it to die;
- `set_label` / `get_label` (OTP 27), shown by the observer.

What it refuses: any behaviour logic. gen_server, supervisor and gen_statem
are built on top (through `gen.py`).
"""

from __future__ import annotations

import logging

from greenlet import getcurrent

import vm
from vm.lowlevel import current_process, mailbox_mark

from .logger import allows, log_report
from .reports import is_quiet

ANY = vm.ANY
ACK = vm.Atom("ack")
NACK = vm.Atom("nack")
_INTERNAL_KEYS = ("$ancestors", "$initial_call", "$callers")


def _ancestors():
    p = current_process()  # the record, not process_info: this runs on every start
    name = p.name
    return [name if name is not None else p.pid] + list(vm.get("$ancestors") or [])


def _describe(fn):
    mod = getattr(fn, "__module__", None) or "?"
    name = getattr(fn, "__qualname__", None) or getattr(fn, "__name__", None) or repr(fn)
    code = getattr(fn, "__code__", None)
    return (mod, name, code.co_argcount if code is not None else 0)


def _init_p(ancestors, fn, args, kwargs):
    vm.put("$ancestors", ancestors)
    vm.put("$initial_call", _describe(fn))
    return run_reported(fn, args, kwargs)


def run_reported(fn, args=(), kwargs=None):
    """Run fn in the calling process; on an abnormal exit, log a crash report and exit.

    An exception becomes the exit reason `vm.Crash(...)`; an `vm.Exit` keeps
    its reason. Quiet reasons (normal, shutdown, ("shutdown", _)) are not
    reported.
    """
    try:
        return fn(*args, **kwargs) if kwargs else fn(*args)
    except vm.Exit as e:
        reason = e.reason
        if not is_quiet(reason):
            # A behaviour that caught an exception (to run its terminate) exits with
            # the Crash; report it as the error it was, traceback included.
            if type(reason) is vm.Crash:
                crash_report("error", reason, reason.traceback)
            else:
                crash_report("exit", reason, "")
        raise
    except Exception as e:  # an error: report it, then exit with it
        reason = vm.Crash.from_exception(e)
        crash_report("error", reason, reason.traceback)
        raise vm.Exit(reason) from None


def crash_report(kind, reason, stack):
    """Log a CRASH REPORT for the calling process (OTP's proc_lib:crash_report)."""
    if not allows(logging.ERROR):
        return  # nobody listens: do not even gather the process's facts
    me = vm.self()
    info = vm.process_info(me, ["registered_name", "message_queue_len", "messages", "links",
                                "dictionary", "trap_exit", "status", "memory", "reductions",
                                "label"]) or {}
    dictionary = {k: v for k, v in (info.get("dictionary") or {}).items()
                  if k not in _INTERNAL_KEYS}
    report = {
        "label": "crash_report",
        "initial_call": vm.get("$initial_call") or vm.process_info(me, "initial_call"),
        "pid": me,
        "registered_name": info.get("registered_name") or [],
        "error_info": (kind, reason, stack),
        "ancestors": vm.get("$ancestors") or [],
        "message_queue_len": info.get("message_queue_len", 0),
        "messages": info.get("messages", []),
        "links": info.get("links", []),
        "dictionary": dictionary,
        "trap_exit": info.get("trap_exit", False),
        "status": info.get("status"),
        "memory": info.get("memory"),
        "reductions": info.get("reductions"),
        "neighbours": _neighbours(info.get("links", [])),
    }
    if info.get("label") is not None:
        report["process_label"] = info["label"]
    log_report(logging.ERROR, report)


def _neighbours(links, limit=15):
    """Linked processes that do not trap exits (they die with us), as OTP lists them."""
    out = []
    for pid in links:
        if not isinstance(pid, vm.Pid) or len(out) >= limit:
            continue
        info = vm.process_info(pid, ["trap_exit", "initial_call", "current_function",
                                     "message_queue_len", "reductions"])
        if info is not None and not info["trap_exit"]:
            out.append({"pid": pid, **info})
    return out


# ----------------------------------------------------------------------
# spawning


def spawn(fn, *args, **kwargs) -> vm.Pid:
    return vm.spawn(_init_p, _ancestors(), fn, args, kwargs)


def spawn_link(fn, *args, **kwargs) -> vm.Pid:
    return vm.spawn_link(_init_p, _ancestors(), fn, args, kwargs)


def spawn_opt(fn, args=(), kwargs=None, **opts):
    return vm.spawn_opt(_init_p, (_ancestors(), fn, tuple(args), kwargs), **opts)


# ----------------------------------------------------------------------
# synchronous start


def start(fn, *args, timeout=None, spawn_opts=None):
    """Spawn `fn(*args)` and wait for its `init_ack(ret)`; returns ret."""
    return _sync_start(False, False, fn, args, timeout, spawn_opts)


def start_link(fn, *args, timeout=None, spawn_opts=None):
    """As `start`, linked to the caller."""
    return _sync_start(True, False, fn, args, timeout, spawn_opts)


def start_monitor(fn, *args, timeout=None, spawn_opts=None):
    """As `start`, monitored; returns `(ret, ref)`."""
    return _sync_start(False, True, fn, args, timeout, spawn_opts)


# What each starting process waits for, by process record: one module-level predicate
# reads it, so the receive pattern is the same object on every start and compiles once
# (three tuple patterns with a fresh pid and ref would compile, and churn the pattern
# cache, on every start). Only the starting process itself touches its entry.
_starting: dict = {}


def _is_start_answer(m):
    if type(m) is tuple:
        n = len(m)
        if n == 3:
            return m[1] == _starting[getcurrent()][0] and (m[0] == ACK or m[0] == NACK)
        if n == 5:
            return m[1] == _starting[getcurrent()][1] and m[0] == "DOWN"
    return False


def _sync_start(link, keep_monitor, fn, args, timeout, spawn_opts):
    opts = dict(spawn_opts or {})
    for bad in ("monitor", "link"):
        if bad in opts:
            raise vm.BadArg(
                f"proc_lib start: spawn_opts may not set {bad!r}; use start_link/start_monitor"
            )
    if timeout is not None and (isinstance(timeout, bool) or not isinstance(timeout, (int, float))
                                or timeout < 0):
        raise vm.BadArg(f"start: timeout must be seconds >= 0 or None, not {timeout!r}")
    mark = mailbox_mark()
    pid, ref = vm.spawn_opt(_init_p, (_ancestors(), fn, tuple(args), None),
                            link=link, monitor=True, **opts)
    me = current_process()
    _starting[me] = (pid, ref)
    try:
        msg = vm.receive(_is_start_answer, timeout=timeout, mark=mark)
    finally:
        del _starting[me]
    if msg is vm.TIMEOUT:
        if link:
            vm.unlink(pid)
        vm.exit(pid, "kill")
        vm.receive(("DOWN", ref, ANY, ANY, ANY))
        _flush_exit(pid)
        return ("error", "timeout")
    if msg[0] == ACK:
        if keep_monitor:
            return (msg[2], ref)
        # info=True: a DOWN can be queued only if the monitor already fired, so the
        # mailbox is scanned only then.
        if not vm.demonitor(ref, info=True):
            vm.demonitor(ref, flush=True)
        return msg[2]
    if msg[0] == NACK:
        # init_fail: the process is exiting; return once it is gone, with the EXIT consumed
        vm.receive(("DOWN", ref, ANY, ANY, ANY))
        if link:
            _flush_exit(pid)
        return (msg[2], ref) if keep_monitor else msg[2]
    reason = msg[4]
    if link:
        _flush_exit(pid)
    return (("error", reason), ref) if keep_monitor else ("error", reason)


def _flush_exit(pid):
    vm.receive(("EXIT", pid, ANY), timeout=0)


def _starter(parent):
    parent = parent if parent is not None else vm.process_info(vm.self(), "parent")
    if parent is None:
        raise vm.VMError("this process was not started by proc_lib.start*; pass parent=")
    return parent


def init_ack(ret, parent=None):
    """Tell the starter that initialisation is done; its start call returns `ret`."""
    parent = _starter(parent)
    vm.send(parent, (ACK, vm.self(), ret))
    return "ok"


def init_fail(ret, reason, parent=None):
    """Initialisation failed: the starter returns `ret` once this process has exited
    with `reason` (OTP 26). Never returns."""
    vm.send(_starter(parent), (NACK, vm.self(), ret))
    raise vm.Exit(reason)


# ----------------------------------------------------------------------
# hibernate, labels, stop


def hibernate(fn, *args, **kwargs):
    """`vm.hibernate` that keeps proc_lib's crash reporting after the wake-up."""
    vm.hibernate(run_reported, fn, args, kwargs)


def set_label(label) -> None:
    vm.process_flag("label", label)


def get_label(pid):
    return vm.process_info(pid, "label")


def stop(pid, reason="normal", timeout=None):
    """Terminate a behaviour process through the system-message protocol and wait.

    Returns "ok" when it exited with `reason`; raises `vm.Exit` with the
    reason it exited with otherwise, `("timeout", ...)` after `timeout`
    seconds, or `("noproc", ...)` if it is not alive.
    """
    where = ("proc_lib", "stop", (pid, reason, timeout))
    if not isinstance(pid, vm.Pid) or not vm.is_process_alive(pid):
        raise vm.Exit(("noproc", where))
    ref = vm.monitor(pid)
    vm.send(pid, ("system", (vm.self(), ref), ("terminate", reason)))
    msg = vm.receive(("DOWN", ref, ANY, ANY, ANY), timeout=timeout)
    if msg is vm.TIMEOUT:
        vm.demonitor(ref, flush=True)
        raise vm.Exit(("timeout", where))
    got = msg[4]
    if got == reason:
        return "ok"
    if got == "noproc":
        raise vm.Exit(("noproc", where))
    raise vm.Exit(got)
