"""Waiting on the world outside the node: the dirty pool and sockets.

What this module owns: the two ways a process waits for something that is
not another process, without freezing the node.

1. **The dirty pool** (`to_thread`). Code that cannot carry reduction
   checks (a C extension crunching numbers, `time.sleep`, a blocking HTTP
   client) runs on a worker thread, like BEAM's dirty schedulers. The
   calling process parks; every other process keeps running; the result or
   the exception comes back to the caller. A kill of the caller is not
   delayed by the job: the process dies at once and the job's result is
   dropped when it arrives (a thread cannot be killed, so the job itself
   runs to its end).
2. **Socket readiness** (`wait_readable`, `wait_writable`). A process parks
   until its socket is ready, watched by the node's selector; the scheduler
   polls it when idle and, while sockets are being waited on, at least
   every millisecond between slices. One process per connection is then
   the natural way to write a server (see `vm.net`).

Both count in `node.waiters`: parks that something outside the run queue
will end. A node with waiters is not deadlocked while everything else waits.

What it refuses: owning sockets. `vm.net` wraps the usual calls; a socket
stays an OS object that never travels in a message (hand it over with
`vm.net.handoff`/`adopt`).
"""

from __future__ import annotations

import selectors
from concurrent.futures import ThreadPoolExecutor

from ._process import WAITING
from ._timers import WAKE
from .errors import BadArg

#: Worker threads of a node's dirty pool (BEAM has 10 dirty I/O schedulers).
DIRTY_WORKERS = 10


# ----------------------------------------------------------------------
# the dirty pool


def to_thread(p, fn, args, kwargs):
    """Run `fn(*args, **kwargs)` on the node's dirty pool; park `p` until it is done."""
    if not callable(fn):
        raise BadArg(f"to_thread needs a callable, not {fn!r}")
    node = p.node
    node.selector()  # the worker wakes the node through its selector
    if node.dirty is None:
        node.dirty = ThreadPoolExecutor(DIRTY_WORKERS, thread_name_prefix="beamlet-dirty")
    job = _Job(node, p)
    node.waiters += 1
    future = node.dirty.submit(fn, *args, **kwargs)
    future.add_done_callback(job.done)
    node.park(p, WAITING, job.abandon)
    # make_runnable cleared our undo; the outcome is on the job
    if job.error is not None:
        err, job.error = job.error, None
        raise err
    return job.result


class _Job:
    __slots__ = ("node", "proc", "result", "error", "abandoned")

    def __init__(self, node, p):
        self.node = node
        self.proc = p
        self.result = None
        self.error = None
        self.abandoned = False

    def abandon(self):
        """The caller died (or the node stops) before the job finished."""
        self.abandoned = True
        self.node.waiters -= 1

    def done(self, future):
        """On the worker thread: hand the outcome to the node's thread."""
        try:
            self.node.post(lambda: self._finish(future))
        except Exception:  # the node has stopped: nobody is waiting any more
            pass

    def _finish(self, future):
        if self.abandoned:
            return
        p = self.proc
        exc = future.exception()
        if exc is not None:
            self.error = exc
        else:
            self.result = future.result()
        self.node.waiters -= 1
        p.undo = None
        self.node.make_runnable(p)


# ----------------------------------------------------------------------
# sockets


class IOWaits:
    """Per-node bookkeeping of which process waits on which file descriptor."""

    def __init__(self, node):
        self.node = node
        self.by_fd: dict = {}  # fd -> {event: process}

    def wait(self, p, fileobj, event, timeout):
        node = self.node
        fd = fileobj if isinstance(fileobj, int) else fileobj.fileno()
        if fd < 0:
            raise BadArg("wait on a closed socket")
        waiting = self.by_fd.get(fd)
        if waiting is None:
            waiting = self.by_fd[fd] = {}
        if event in waiting:
            raise BadArg(
                f"{waiting[event].pid!r} already waits for this socket to be "
                f"{'readable' if event == selectors.EVENT_READ else 'writable'}; "
                "one process per direction"
            )
        waiting[event] = p
        self._update(fd, fileobj)
        timer = node.add_timer(timeout, WAKE, p) if timeout is not None else None
        p.timed_out = False
        node.waiters += 1
        done = [False]

        def undo():
            if not done[0]:
                done[0] = True
                node.waiters -= 1
                self._forget(fd, event, fileobj)
                if timer is not None:
                    node.timers.cancel(timer)

        try:
            node.park(p, WAITING, undo)
        finally:
            p.undo = None
            undo()
        timed_out, p.timed_out = p.timed_out, False
        return not timed_out

    def _events(self, fd):
        mask = 0
        for ev in self.by_fd.get(fd, ()):
            mask |= ev
        return mask

    def _update(self, fd, fileobj):
        sel = self.node.selector()
        mask = self._events(fd)
        try:
            key = sel.get_key(fd)
        except KeyError:
            key = None
        if key is None:
            if mask:
                sel.register(fd, mask, self._ready)
        elif mask:
            sel.modify(fd, mask, self._ready)
        else:
            sel.unregister(fd)

    def _forget(self, fd, event, fileobj):
        waiting = self.by_fd.get(fd)
        if waiting is not None:
            waiting.pop(event, None)
            if not waiting:
                del self.by_fd[fd]
        try:
            self._update(fd, fileobj)
        except (ValueError, OSError):  # closed meanwhile
            pass

    def _ready(self, key, mask):
        """Selector callback: wake the processes whose event is ready."""
        waiting = self.by_fd.get(key.fd, {})
        for event in (selectors.EVENT_READ, selectors.EVENT_WRITE):
            if mask & event and event in waiting:
                p = waiting[event]
                if p.undo is not None:
                    u, p.undo = p.undo, None
                    u()
                    self.node.make_runnable(p)
