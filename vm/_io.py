"""Waiting on the world outside the node: the dirty pool and file descriptors.

What this module owns: the ways a process waits for something that is not
another process, without freezing the node.

1. **The dirty pool** (`to_thread`). Code that cannot carry reduction
   checks (a C extension crunching numbers, `time.sleep`, a blocking HTTP
   client) runs on a worker thread, like BEAM's dirty schedulers. The
   calling process parks; every other process keeps running; the result or
   the exception comes back to the caller. A caller that dies or times out
   *abandons* its job: the kill is not delayed, a job still queued never
   runs, and one already running (a thread cannot be killed) is counted as
   abandoned until it ends. The pool keeps `DIRTY_BASE` threads for work
   and grows by one thread per abandoned job still running, up to the
   node's `dirty_threads`, so abandoned jobs never block new ones; extra
   threads exit when idle. Work that must really stop when its owner dies
   belongs in an OS process: `vm.to_process` and ports (`_ports.py`).
   A function running on the pool may call `vm.send` (delivered in order,
   after what it sent before) and `vm.self` (the caller's pid); nothing
   else of the VM works on a foreign thread.
   While any process waits on the pool, CPython's switch interval is at
   most `FAST_SWITCH` (`GilHandoff`): a pool thread needs the GIL to start
   a job and again to hand its result back, and beside processes running
   Python code it would otherwise get it only every 5 ms, twice per job.
2. **File descriptor readiness** (`wait_readable`, `wait_writable`). A
   process parks until its socket is ready, watched by the node's
   selector; the scheduler polls it when idle and, while descriptors are
   waited on, at least every millisecond between slices. A wait can also
   end when a message arrives (`messages=True`), which is how a port or an
   active socket's reader serves its owner's commands and its descriptor
   in one loop. A descriptor closed while a process waits on it wakes that
   process with `OSError(EBADF)` (found by a sweep at most every
   `CLOSED_SWEEP` seconds), and every path out of a wait leaves no entry
   behind, so a new socket that gets the same descriptor number is free to
   be waited on.

Both count in `node.waiters`: parks that something outside the run queue
will end. A node with waiters is not deadlocked while everything else waits.

What it refuses: owning sockets. `vm.net` wraps the usual calls; a socket
stays an OS object that never travels in a message (hand it over with
`vm.net.handoff`/`adopt`).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import selectors
import sys
import threading
from collections import deque
from time import monotonic

from ._heap import copy_term
from ._process import RECEIVING, WAITING, dirty_context
from ._timers import WAKE
from .errors import BadArg, show

log = logging.getLogger("beamlet.dirty")

#: Threads the dirty pool keeps for work (BEAM has 10 dirty I/O schedulers).
DIRTY_BASE = 10
#: The default bound on the dirty pool's threads, abandoned jobs included.
DIRTY_MAX = 64
#: Seconds an idle thread above DIRTY_BASE waits for work before it exits.
IDLE_EXIT = 10.0
#: How often (seconds) waits are checked for descriptors closed under them.
CLOSED_SWEEP = 0.1

QUEUED, RUNNING, DONE, ABANDONED = "queued", "running", "done", "abandoned"
HANDED = "handed"  # done, and the outcome handed to the caller (`_Job.finish`)

#: The switch interval (seconds) while a process waits on the dirty pool.
FAST_SWITCH = 0.0005


class GilHandoff:
    """Lower CPython's switch interval while jobs are waited on; restore it after.

    The interval is the longest a thread holding the GIL keeps it while
    another asks for it; CPython's default is 5 ms. A dirty job's thread
    asks twice (to start, and to post its result), and the node's thread
    holds the GIL whenever a process runs, so beside busy processes every
    job would come back about 10 ms late. Shared by every node of the OS
    process (the interval is global), counted under a lock; the interval
    is restored only when no job is waited on any more, and only if nobody
    changed it meanwhile. A user who set a shorter interval keeps it.
    """

    def __init__(self, fast=FAST_SWITCH):
        self.fast = fast
        self.lock = threading.Lock()
        self.waited = 0
        self.saved = None

    def enter(self):
        with self.lock:
            self.waited += 1
            if self.waited == 1:
                current = sys.getswitchinterval()
                if current > self.fast:
                    self.saved = current
                    sys.setswitchinterval(self.fast)

    def exit(self):
        with self.lock:
            self.waited -= 1
            if self.waited == 0 and self.saved is not None:
                if abs(sys.getswitchinterval() - self.fast) < 1e-7:
                    sys.setswitchinterval(self.saved)
                self.saved = None


gil_handoff = GilHandoff()


# ----------------------------------------------------------------------
# the dirty pool


def to_thread(p, fn, args, kwargs, timeout):
    """Run `fn(*args, **kwargs)` on the node's dirty pool; park `p` until it is done.

    Raises `TimeoutError` when `timeout` seconds pass first (the job is then
    abandoned, as when the caller is killed).
    """
    if not callable(fn):
        raise BadArg(f"to_thread needs a callable, not {show(fn)}")
    node = p.node
    pool = node.dirty_pool()
    job = _Job(node, p, fn, args, kwargs)
    node.waiters += 1
    node.outside_work += 1
    gil_handoff.enter()
    try:
        pool.submit(job)
    except BaseException:
        job.ended()
        raise
    if timeout is not None:
        job.timer = node.add_timer(timeout, WAKE, p)
    p.timed_out = False
    try:
        node.park(p, WAITING, job.abandon)
    finally:
        # Timed out or killed while it waited: even a job that is done (its
        # result posted, `finish` not yet run) is abandoned, so that `finish`
        # neither counts it again nor wakes this process from a later wait.
        if job.state is not HANDED:
            job.abandon()
    if p.timed_out:
        p.timed_out = False
        raise TimeoutError(f"to_thread: {show(fn)} did not finish within {timeout} s "
                           "(it was abandoned; a thread cannot be stopped, so it runs to its "
                           "end unless it is a vm.to_process job)")
    if job.error is not None:
        err, job.error = job.error, None
        raise err
    return job.result


class _Job:
    __slots__ = ("node", "proc", "pid", "fn", "args", "kwargs", "state", "result", "error",
                 "timer")

    def __init__(self, node, p, fn, args, kwargs):
        self.node = node
        self.proc = p
        self.pid = p.pid
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
        self.state = QUEUED
        self.result = self.error = self.timer = None

    def ended(self):
        """Nobody waits for this job any more (its result came, or it was abandoned)."""
        node = self.node
        node.waiters -= 1
        node.outside_work -= 1
        gil_handoff.exit()

    def abandon(self):
        """The caller died or timed out (on the node's thread; idempotent)."""
        if self.state is ABANDONED or self.state is HANDED:
            return
        node = self.node
        self.ended()
        if self.timer is not None:
            node.timers.cancel(self.timer)
        if self.proc.undo == self.abandon:
            self.proc.undo = None
        if self.state is DONE:
            # Its result was posted but not handed over (`finish` has not run:
            # the caller was killed, or the node stops first). Nobody takes it
            # now, and `finish` must neither count it again nor wake the caller.
            self.state = ABANDONED
            return
        node.dirty_pool().abandon(self)

    def finish(self):
        """On the node's thread: hand the outcome to the caller."""
        if self.state is not DONE:
            return  # abandoned meanwhile
        self.state = HANDED
        node = self.node
        self.ended()
        if self.timer is not None:
            node.timers.cancel(self.timer)
        p = self.proc
        p.undo = None  # the wait ended well: nothing to cancel
        node.wake_from_outside(p)


class DirtyPool:
    """The worker threads of one node (see the module docstring, point 1)."""

    def __init__(self, node, max_threads):
        self.node = node
        self.max = max_threads
        self.cond = threading.Condition()
        self.queue: deque = deque()
        self.threads = 0
        self.idle = 0
        self.running = 0
        self.abandoned_running = 0
        self.abandoned_total = 0
        self.completed = 0
        self.closed = False

    def capacity(self):
        return min(self.max, DIRTY_BASE + self.abandoned_running)

    def submit(self, job):
        with self.cond:
            if self.closed:
                raise _node_stopped()
            self.queue.append(job)
            self._staff()

    def _staff(self):
        """Wake or start a thread for the queued jobs (holding the lock)."""
        if self.idle >= len(self.queue):
            self.cond.notify()
        elif self.threads < self.capacity():
            self.threads += 1
            threading.Thread(target=self._work, name=f"beamlet-dirty-{self.node.creation}",
                             daemon=True).start()

    def abandon(self, job):
        with self.cond:
            was = job.state
            job.state = ABANDONED
            self.abandoned_total += 1
            if was is QUEUED:
                with contextlib.suppress(ValueError):
                    self.queue.remove(job)
            elif was is RUNNING:
                self.abandoned_running += 1
                if self.queue:
                    self._staff()  # the abandoned job's thread no longer counts

    def close(self):
        """The node stops: queued jobs never run; running ones end unheard."""
        with self.cond:
            self.closed = True
            self.queue.clear()
            self.cond.notify_all()

    def _work(self):
        cond = self.cond
        while True:
            with cond:
                while not self.queue and not self.closed:
                    self.idle += 1
                    woke = cond.wait(IDLE_EXIT if self.threads > DIRTY_BASE else None)
                    self.idle -= 1
                    if not woke and not self.queue and self.threads > DIRTY_BASE:
                        self.threads -= 1
                        return
                if self.closed:
                    self.threads -= 1
                    return
                job = self.queue.popleft()
                job.state = RUNNING
                self.running += 1
            self._run(job)
            with cond:
                self.running -= 1
                self.completed += 1
                if job.state is ABANDONED:
                    self.abandoned_running -= 1
                else:
                    job.state = DONE
                if self.threads > self.capacity():
                    self.threads -= 1
                    return
            if job.state is DONE:
                # The node stopped: nobody waits any more.
                with contextlib.suppress(Exception):
                    self.node.post(job.finish)

    @staticmethod
    def _run(job):
        dirty_context.job = job
        try:
            job.result = job.fn(*job.args, **(job.kwargs or {}))
        except BaseException as e:  # noqa: BLE001 - handed to the caller
            job.error = e
        finally:
            dirty_context.job = None
            job.fn = job.args = job.kwargs = None

    def stats(self) -> dict:
        """Threads, jobs running and queued, abandoned jobs (still running, and ever)."""
        with self.cond:
            return {
                "threads": self.threads,
                "max_threads": self.max,
                "running": self.running,
                "queued": len(self.queue),
                "abandoned_running": self.abandoned_running,
                "abandoned_total": self.abandoned_total,
                "completed": self.completed,
            }

    @staticmethod
    def unused_stats(max_threads) -> dict:
        """`stats()` of a node that never used its pool."""
        return {"threads": 0, "max_threads": max_threads, "running": 0, "queued": 0,
                "abandoned_running": 0, "abandoned_total": 0, "completed": 0}


def _node_stopped():
    from .errors import VMError

    return VMError("node stopped: the dirty pool takes no more jobs")


def current_job():
    """The dirty job running on this thread, or None (this thread is not a pool worker)."""
    return getattr(dirty_context, "job", None)


def send_from_thread(job, dest, msg):
    """`vm.send` on a dirty-pool thread: copy here, deliver on the node's thread, in order."""
    node = job.node
    copy = copy_term(msg)
    sender = job.pid

    def deliver():
        from ._registry import resolve

        try:
            target = resolve(node, dest)
        except BadArg as e:
            log.warning("a send from a dirty-pool job of %r was dropped: %s", sender, e)
            return
        if target is not None:
            node.deliver(target, copy)
            if node.on_send:
                node.ins.emit("send", sender, target.pid, copy)

    node.post(deliver)
    return msg


# ----------------------------------------------------------------------
# file descriptors

#: What a wait with `messages=True` returns when a message ended it.
MESSAGE = "message"


def _fd_of(fileobj):
    """The descriptor number of a socket, file or int; BadArg for anything else."""
    if type(fileobj) is int:
        fd = fileobj
    elif hasattr(fileobj, "fileno") and not isinstance(fileobj, (bool, str, bytes)):
        try:
            fd = fileobj.fileno()
        except (OSError, ValueError) as e:
            raise BadArg(f"wait on a closed socket or file ({e})") from None
        if type(fd) is not int:
            raise BadArg(f"wait: {show(fileobj)}.fileno() returned {show(fd)}, not an int")
    else:
        raise BadArg(f"wait needs a socket, a file or a file descriptor (an int), "
                     f"not {type(fileobj).__name__} ({show(fileobj)})")
    if fd < 0:
        raise BadArg("wait on a closed socket or file (its descriptor is -1)"
                     if fd == -1 else
                     f"wait needs a socket, a file or a file descriptor; {fd} is none of them")
    return fd


class _Wait:
    __slots__ = ("proc", "fd", "event", "fileobj", "timer", "ready", "closed", "ended")

    def __init__(self, p, fd, event, fileobj):
        self.proc = p
        self.fd = fd
        self.event = event
        self.fileobj = fileobj
        self.timer = None
        self.ready = False  # ended because the descriptor was ready
        self.closed = False  # ended because the descriptor was closed under it
        self.ended = False


class IOWaits:
    """Per-node bookkeeping of which process waits on which file descriptor."""

    def __init__(self, node):
        self.node = node
        self.by_fd: dict = {}  # fd -> {event: _Wait}
        self.last_sweep = monotonic()

    def wait(self, p, fileobj, event, timeout, messages=False):
        """Park `p` until `fileobj` is ready for `event`. Returns True when ready,
        False on timeout, and MESSAGE when `messages` and a message is queued."""
        node = self.node
        fd = _fd_of(fileobj)
        if messages and p.mailbox is not None and p.mailbox.q:
            return MESSAGE
        waiting = self.by_fd.get(fd)
        if waiting is not None and event in waiting and _is_closed(waiting[event].fileobj):
            self._close_under(waiting[event])  # a stale wait on a number now reused
        if waiting is not None and event in waiting:
            raise BadArg(
                f"{waiting[event].proc.pid!r} already waits for this socket to be "
                f"{'readable' if event == selectors.EVENT_READ else 'writable'}; "
                "one process per direction"
            )
        w = _Wait(p, fd, event, fileobj)
        if waiting is None:
            waiting = self.by_fd[fd] = {}
        waiting[event] = w
        try:
            self._update(fd)
        except (OSError, ValueError) as e:
            self._forget(w)
            raise BadArg(f"wait: cannot watch descriptor {fd}: {e}") from None
        if timeout is not None:
            w.timer = node.add_timer(timeout, WAKE, p)
        p.timed_out = False
        node.waiters += 1
        try:
            # In RECEIVING, a delivery wakes the process too (see deliver).
            node.park(p, RECEIVING if messages else WAITING, lambda: self._end(w))
        finally:
            p.undo = None
            self._end(w)
        if w.closed:
            raise OSError(errno.EBADF, "the socket was closed while a process waited on it")
        if p.timed_out:
            p.timed_out = False
            return False
        if messages and not w.ready:
            return MESSAGE
        return True

    def _end(self, w):
        """Every way out of a wait comes here (idempotent)."""
        if w.ended:
            return
        w.ended = True
        self.node.waiters -= 1
        if w.timer is not None:
            self.node.timers.cancel(w.timer)
        self._forget(w)

    def _forget(self, w):
        waiting = self.by_fd.get(w.fd)
        if waiting is not None and waiting.get(w.event) is w:
            del waiting[w.event]
            if not waiting:
                del self.by_fd[w.fd]
        try:
            self._update(w.fd)
        except (OSError, ValueError, KeyError):  # closed meanwhile
            sel = self.node.selector()
            with contextlib.suppress(KeyError, ValueError, OSError):
                sel.unregister(w.fd)

    def _update(self, fd):
        sel = self.node.selector()
        mask = 0
        for ev in self.by_fd.get(fd, ()):
            mask |= ev
        try:
            key = sel.get_key(fd)
        except KeyError:
            key = None
        if key is not None and mask and key.events != mask:
            try:
                sel.modify(fd, mask, self._ready)
                return
            except OSError:
                # The number was closed and reused since it was registered (the
                # kernel forgot the old one): the selector dropped its key.
                key = None
        if key is None:
            if mask:
                sel.register(fd, mask, self._ready)
        elif not mask:
            sel.unregister(fd)

    def _ready(self, key, mask):
        """Selector callback: wake the processes whose event is ready."""
        waiting = self.by_fd.get(key.fd)
        if not waiting:
            return
        for event in (selectors.EVENT_READ, selectors.EVENT_WRITE):
            w = waiting.get(event)
            if w is not None and mask & event:
                self._wake(w, ready=True)

    def _wake(self, w, ready):
        p = w.proc
        w.ready = ready
        self._end(w)
        if p.state is RECEIVING or p.state is WAITING:
            p.undo = None
            self.node.wake_from_outside(p)

    def sweep_closed(self):
        """Wake, with an error, the waits whose socket was closed under them."""
        self.last_sweep = monotonic()
        for waiting in list(self.by_fd.values()):
            for w in list(waiting.values()):
                if _is_closed(w.fileobj):
                    self._close_under(w)

    def _close_under(self, w):
        w.closed = True
        self._wake(w, ready=False)



def _is_closed(fileobj) -> bool:
    if type(fileobj) is int:
        try:
            os.fstat(fileobj)
        except OSError:
            return True
        return False
    try:
        return fileobj.fileno() < 0
    except (OSError, ValueError):
        return True
