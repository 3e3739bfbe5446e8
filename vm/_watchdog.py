"""Slices that do not end: long-slice detection and time-based preemption.

What this module owns: the two guards for code that runs without reaching a
reduction check (a C call, a blocking call, a module compiled without
checks).

1. **Long-slice detection**, like BEAM's `long_schedule` system monitor and
   gevent's monitor thread. A watchdog thread wakes every half threshold and
   catches two cases:

   - *No progress.* The node has run no reduction check and switched no
     process for a whole threshold while not idle. The GIL was free (the
     watchdog ran), so the node's thread is in a blocking call (GIL
     released) or in Python code compiled without checks.
   - *The GIL was held.* The watchdog itself woke a threshold late: a C call
     (`sum(range(6e7))`, a backtracking regex) held the GIL that long, and
     nothing could run, not even this thread. The node's thread lets go of
     the GIL right after that call returns, so the watchdog sees it there.

   Either way it reads the node thread's stack (`sys._current_frames`): the
   process (from the scheduler's `_run_process` frame), the innermost user
   frame, whether that code carries reduction checks, and the function it
   was calling (read off the bytecode at the frame's last instruction:
   "inside `sum`", "inside `json.loads`"). It logs a warning at once and,
   when the slice ends, the scheduler reports the slice's full duration
   through logging and the `long_slice(pid, seconds, where)` event. The hot
   loop pays nothing: the watchdog reads counters the loop keeps anyway.

   A loop whose iterations are slow but which reaches its checks is not a
   long slice: its slices end on time (vm/code.py adapts how often it
   checks), so it is not reported.
2. **Time-based preemption** (optional, off by default): a `setitimer`
   signal every `timeslice` seconds preempts the running process if it is
   in user code. Only a node on the main thread can receive signals, and
   where a switch lands depends on wall time, so it is not deterministic;
   use it for code you cannot compile checks into. If the signal lands
   inside the VM's own code, the switch is deferred to the next reduction
   check (a switch in the middle of the VM's bookkeeping would be unsafe).

What it refuses: killing or interrupting a blocking call. A thread cannot
be interrupted from Python; send blocking calls to `vm.to_thread`, and work
that must be stoppable to `vm.to_process`.
"""

from __future__ import annotations

import dis
import logging
import os
import signal
import sys
import sysconfig
import threading
import time

from greenlet import getcurrent

from ._core import Process
from ._process import RUNNING

log = logging.getLogger("beamlet.scheduler")

_VM_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_GREENLET_DIR = os.path.dirname(os.path.abspath(str(sys.modules["greenlet"].__file__))) + os.sep
# At most this many checks and switches in a late wake-up for it to be a held GIL.
GIL_PROGRESS = 8
_CHECK_NAMES = frozenset({"__bl_step__", "__bl_loop__", "__bl_iter__"})
_CALLS = frozenset({"CALL", "CALL_FUNCTION", "CALL_METHOD", "CALL_FUNCTION_EX", "CALL_KW"})
_LOADS = frozenset({"LOAD_GLOBAL", "LOAD_NAME", "LOAD_FAST", "LOAD_DEREF", "LOAD_ATTR",
                    "LOAD_METHOD", "LOAD_CONST", "LOAD_CLOSURE", "LOAD_FAST_CHECK",
                    "LOAD_FAST_AND_CLEAR", "LOAD_FAST_LOAD_FAST", "LOAD_SUPER_ATTR"})


def _describe_stack(frame):
    """(where, pid, user_frame): the innermost user frame as text, the running
    process's pid, and that frame (or None)."""
    where = None
    pid = None
    user = None
    f = frame
    while f is not None:
        code = f.f_code
        if code.co_name == "_run_process" and code.co_filename.startswith(_VM_DIR):
            p = f.f_locals.get("p")
            pid = getattr(p, "pid", None)
            break
        if user is None and not code.co_filename.startswith((_VM_DIR, _GREENLET_DIR)):
            user = f
            module = f.f_globals.get("__name__", "?")
            where = f"{module}.{code.co_qualname} ({code.co_filename}:{f.f_lineno})"
        f = f.f_back
    return where or "beamlet internals", pid, user


def has_checks(code) -> bool:
    """Was this code compiled with reduction checks (vm/code.py)?"""
    return not _CHECK_NAMES.isdisjoint(code.co_names)


def callee_name(frame):
    """The name of the function `frame` is calling right now (best effort), or None.

    Read off the bytecode: the instruction at the frame's last offset is a
    call; walking back over the stack effects of the instructions before it
    finds the one that loaded the callable (`sum`, `json.loads`, `obj.meth`).
    """
    try:
        instrs = [i for i in dis.get_instructions(frame.f_code)]
        lasti = frame.f_lasti
        idx = max((k for k, i in enumerate(instrs) if i.offset <= lasti), default=None)
        if idx is None or instrs[idx].opname not in _CALLS:
            return None
        call = instrs[idx]
        arg = call.arg or 0
        need = 2 + (arg & 1) if call.opname == "CALL_FUNCTION_EX" else arg + 1
        j = idx - 1
        while j >= 0 and instrs[j].opname in ("PRECALL", "KW_NAMES", "CACHE"):
            j -= 1
        depth = 0
        while j >= 0:
            ins = instrs[j]
            depth += dis.stack_effect(ins.opcode, ins.arg) if ins.opcode >= dis.HAVE_ARGUMENT \
                else dis.stack_effect(ins.opcode)
            if depth >= need:
                return _dotted_name(instrs, j)
            j -= 1
    except Exception:  # noqa: BLE001 - a diagnosis must never fail
        return None
    return None


def _dotted_name(instrs, j):
    """The dotted name loaded by the attribute chain around instruction j
    (`time.sleep`, `json.loads`, `self.db.query`), or None."""
    attrs = ("LOAD_ATTR", "LOAD_METHOD")
    first = j
    while first > 0 and instrs[first].opname in attrs:
        first -= 1
    last = j
    while last + 1 < len(instrs) and instrs[last + 1].opname in attrs:
        last += 1
    parts = [instrs[k].argval for k in range(first, last + 1)]
    if instrs[first].opname not in _LOADS or not all(isinstance(x, str) for x in parts):
        return None
    return ".".join(parts)


def _stdlib_prefixes():
    paths = {sysconfig.get_path(k) for k in ("stdlib", "platstdlib")}
    return tuple(os.path.join(p, "") for p in paths if p)


_STDLIB = _stdlib_prefixes()


def diagnose(frame):
    """(where, pid, what): where the node thread stands and what it is doing, in words."""
    where, pid, user = _describe_stack(frame)
    if user is None:
        return where, pid, "in beamlet itself"
    callee = callee_name(user)
    if user.f_code.co_filename.startswith(_STDLIB):
        # Name the standard library function the process called (`re.match`),
        # and point at the process's own code that called it.
        outer = user
        while outer.f_back is not None and outer.f_code.co_filename.startswith(_STDLIB):
            outer = outer.f_back
        module = user.f_globals.get("__name__", "?")
        callee = f"{module}.{user.f_code.co_qualname}"
        if not outer.f_code.co_filename.startswith((_VM_DIR, _GREENLET_DIR)):
            user = outer
            where = (f"{outer.f_globals.get('__name__', '?')}.{outer.f_code.co_qualname} "
                     f"({outer.f_code.co_filename}:{outer.f_lineno})")
    if callee is not None:
        what = f"inside `{callee}`"
    elif not has_checks(user.f_code):
        what = "in code compiled without reduction checks (see vm.code.instrument_imports)"
    else:
        what = "in one step of code that has reduction checks"
    return where, pid, what


class Watchdog:
    """Watches one node for slices longer than `threshold` seconds."""

    def __init__(self, node, threshold: float):
        self.node = node
        self.threshold = threshold
        self.thread_ident = threading.get_ident()
        self._cpu_clock = _cpu_clock_of_this_thread()
        self._native_id = threading.get_native_id()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"beamlet-watchdog-{node.creation}", daemon=True
        )
        self._thread.start()

    def stop(self):
        self._stop.set()

    def _progress(self):
        node = self.node
        return node.checks + node.context_switches

    def _cpu(self):
        """CPU seconds the node's thread has used, or None where the OS cannot say."""
        if self._cpu_clock is None:
            return None
        try:
            return time.clock_gettime(self._cpu_clock)
        except OSError:
            return None

    def _starved(self, cpu_then, seconds) -> bool:
        """Was the node's thread merely waiting for a CPU (a busy machine) rather
        than running one call, or blocked in one? Then there is nothing to report:
        it used little CPU and the OS has it runnable, not sleeping."""
        cpu_now = self._cpu()
        if cpu_then is None or cpu_now is None or cpu_now - cpu_then >= seconds / 2:
            return False
        try:
            with open(f"/proc/self/task/{self._native_id}/stat") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
        except (OSError, IndexError):
            return False
        return state == "R"

    def _run(self):
        node = self.node
        interval = self.threshold / 2
        last = -1
        since = None
        since_cpu = cpu = self._cpu()
        expected = time.monotonic() + interval
        while not self._stop.wait(interval):
            now = time.monotonic()
            late = now - expected
            expected = now + interval
            progress = self._progress()
            cpu_before, cpu = cpu, self._cpu()
            if (late >= self.threshold and progress - last <= GIL_PROGRESS
                    and not node.idling and node.long_slice_seen is None
                    and not self._starved(cpu_before, late)):
                # This thread woke `late` seconds late while the node made (almost)
                # no progress and its thread kept a CPU busy: the GIL was held. The
                # node's thread let go of it just now, right after the call.
                self._flag(now - late - interval, late + interval, "held the GIL for")
                since, since_cpu, last = now, cpu, progress
                continue
            if node.idling or progress != last:
                last = progress
                since, since_cpu = now, cpu
                continue
            if since is None or node.long_slice_seen is not None:
                continue
            stalled = now - since
            if stalled >= self.threshold:
                if self._starved(since_cpu, stalled):
                    since, since_cpu = now, cpu  # the machine is busy, not the node
                    continue
                self._flag(since - interval, stalled + interval, "has run")

    def _flag(self, start, seconds, verb):
        node = self.node
        frame = sys._current_frames().get(self.thread_ident)
        where, pid, what = diagnose(frame)
        if pid is None and node.idling:
            return
        dirty = node.dirty
        others = (" (or a job on the dirty pool held it)"
                  if verb.startswith("held") and dirty is not None and dirty.running else "")
        node.long_slice_seen = (start, where, pid, what)
        node.need_slow_path()  # from this thread too: one attribute store
        log.warning(
            "long slice: %s %s %.3f s without a reduction check, %s, at %s%s; a call this "
            "long cannot be preempted: split the work, or send it to vm.to_thread() or "
            "vm.to_process()",
            pid if pid is not None else "the scheduler", verb, seconds, what, where, others,
        )


def _cpu_clock_of_this_thread():
    try:
        return time.pthread_getcpuclockid(threading.get_ident())
    except (AttributeError, OSError):
        return None


def report_long_slice(node, p):
    """Called by the scheduler after a slice the watchdog flagged."""
    start, where, _pid, what = node.long_slice_seen
    node.long_slice_seen = None
    seconds = time.monotonic() - start
    log.warning("long slice: %r ran %.3f s in one slice, %s, at %s", p.pid, seconds, what,
                where, extra={"report": {"label": "long_slice", "pid": p.pid,
                                         "seconds": seconds, "where": where, "what": what}})
    if node.on_long_slice:
        node.ins.emit("long_slice", p.pid, seconds, f"{what}, at {where}")


# ----------------------------------------------------------------------
# time-based preemption


class Timeslicer:
    """SIGALRM every `timeslice` seconds preempts the running process (main thread only)."""

    def __init__(self, timeslice: float):
        if threading.current_thread() is not threading.main_thread():
            from .errors import VMError

            raise VMError("timeslice preemption needs a node on the main thread (signals)")
        self._old = signal.signal(signal.SIGALRM, self._on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeslice, timeslice)

    def stop(self):
        signal.setitimer(signal.ITIMER_REAL, 0, 0)
        signal.signal(signal.SIGALRM, self._old or signal.SIG_DFL)

    @staticmethod
    def _on_alarm(signum, frame):
        p = getcurrent()
        if type(p) is not Process or p.state is not RUNNING:
            return
        f = frame
        while f is not None:
            code = f.f_code
            if code.co_filename.startswith(_VM_DIR):
                if code.co_name in ("_run_process", "entry"):
                    break  # reached the process's base: the frames above are user code
                p.budget = 0  # inside the VM: switch at its next reduction check
                return
            f = f.f_back
        p.node.preempt(p)
