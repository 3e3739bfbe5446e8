"""Slices that do not end: long-slice detection and time-based preemption.

What this module owns: the two guards for code that runs without reaching a
reduction check (a C extension, a blocking call, a module compiled without
checks).

1. **Long-slice detection**, like BEAM's `long_schedule` system monitor and
   gevent's monitor thread. A watchdog thread samples the node every half
   threshold; when the count of finished slices has not moved for a whole
   threshold while the node is not idle, the running slice is long. The
   watchdog notes where the node's thread stands (the innermost user frame
   of its stack, read with `sys._current_frames`) and which process it is
   (from the scheduler's `_run_process` frame on that stack), and logs a
   warning at once. When the slice finally ends, the scheduler reports its
   full duration through logging and the `long_slice(pid, seconds, where)`
   instrument event. The hot loop pays nothing for this: the watchdog reads
   a counter the loop already keeps.
2. **Time-based preemption** (optional, off by default): a `setitimer`
   signal every `timeslice` seconds preempts the running process if it is
   in user code. Only a node on the main thread can receive signals, and
   where a switch lands depends on wall time, so it is not deterministic;
   use it for code you cannot compile checks into. If the signal lands
   inside the VM's own code, the switch is deferred to the next reduction
   check (a switch in the middle of the VM's bookkeeping would be unsafe).

What it refuses: killing or interrupting a blocking call. A thread cannot
be interrupted from Python; send blocking calls to `vm.to_thread`.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time

from greenlet import getcurrent

from ._process import RUNNING, Process

log = logging.getLogger("beamlet.scheduler")

_VM_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep
_GREENLET_DIR = os.path.dirname(os.path.abspath(sys.modules["greenlet"].__file__)) + os.sep


def _describe_stack(frame):
    """(where, pid): the innermost user frame as text, and the running process's pid."""
    where = None
    pid = None
    f = frame
    while f is not None:
        code = f.f_code
        if code.co_name == "_run_process" and code.co_filename.startswith(_VM_DIR):
            p = f.f_locals.get("p")
            pid = getattr(p, "pid", None)
            break
        if where is None and not code.co_filename.startswith((_VM_DIR, _GREENLET_DIR)):
            module = f.f_globals.get("__name__", "?")
            where = f"{module}.{code.co_qualname} ({code.co_filename}:{f.f_lineno})"
        f = f.f_back
    return where or "beamlet internals", pid


class Watchdog:
    """Watches one node for slices longer than `threshold` seconds."""

    def __init__(self, node, threshold: float):
        self.node = node
        self.threshold = threshold
        self.thread_ident = threading.get_ident()
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name=f"beamlet-watchdog-{node.creation}", daemon=True
        )
        self._thread.start()

    def stop(self):
        self._stop.set()

    def _run(self):
        node = self.node
        interval = self.threshold / 2
        last = -1
        since = None
        while not self._stop.wait(interval):
            switches = node.context_switches
            if node.idling or switches != last:
                last = switches
                since = time.monotonic()
                continue
            if since is None or node.long_slice_seen is not None:
                continue
            stalled = time.monotonic() - since
            if stalled < self.threshold:
                continue
            frame = sys._current_frames().get(self.thread_ident)
            where, pid = _describe_stack(frame)
            node.long_slice_seen = (since - interval, where, pid)
            node.special = True
            log.warning(
                "long slice: %s has run %.3f s without a reduction check, in %s; "
                "send blocking calls to vm.to_thread()",
                pid if pid is not None else "the scheduler", stalled + interval, where,
            )


def report_long_slice(node, p):
    """Called by the scheduler after a slice the watchdog flagged."""
    start, where, _pid = node.long_slice_seen
    node.long_slice_seen = None
    seconds = time.monotonic() - start
    log.warning("long slice: %r ran %.3f s in one slice, in %s", p.pid, seconds, where,
                extra={"report": {"label": "long_slice", "pid": p.pid, "seconds": seconds,
                                  "where": where}})
    if node.on_long_slice:
        node.ins.emit("long_slice", p.pid, seconds, where)


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
                if code.co_name in ("_run_process", "_entry"):
                    break  # reached the process's base: the frames above are user code
                p.budget = 0  # inside the VM: switch at its next reduction check
                return
            f = f.f_back
        p.node.preempt(p)
