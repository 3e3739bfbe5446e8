"""The node: a scheduler's lifecycle, its thread, and the doors into it.

What this module owns:

1. `Node.run(main, ...)`: run a node on the calling thread until `main`
   exits, then stop it. What `main` returns is returned; an abnormal exit
   raises `ProcessExit(reason)`.
2. `Node.start()` / `Node.stop()`: run a node on a background thread, and
   the thread-safe doors into it (`spawn`, `send`, `call`, `statistics`)
   that the shell, notebooks and tests use. Each door posts a request to the
   node's external queue and wakes its selector; the scheduler runs the
   request between two slices, on its own thread, because greenlets can
   only be switched on the thread that made them.
3. What a node does when nothing is runnable (`idle`): fire timers, sleep
   until the next deadline or wait on the selector (cross-thread requests,
   sockets), jump a virtual clock, or give up with `Deadlock` when every
   process waits and nothing can ever wake one.
4. Stopping. When `main` returns (or `stop()` is called), every process
   still alive is killed with reason `killed`, newest first, and its Python
   stack unwound (its `finally` blocks run). Ctrl-C on a node running on the
   main thread does the same and re-raises `KeyboardInterrupt` from `run`.
   A bug inside the scheduler stops the node and raises `VMInternalError`.

What it refuses: the scheduling policy itself (`_scheduler.py`).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import signal
import socket
import threading
import time
from collections import deque
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

from greenlet import GreenletExit, getcurrent

from . import _io, _ports
from ._heap import copy_term
from ._process import EXITING, Process, _Killed
from ._registry import resolve
from ._scheduler import KILLED, NORMAL, POOL_IDLE, Scheduler, internal_error
from .errors import BadArg, Deadlock, Exit, ProcessExit, Unsendable, VMError, show
from ._watchdog import Timeslicer, Watchdog
from .terms import Crash


#: What `node.hub` holds once the node has stopped (see `_serve`).
FINISHED = type("Finished", (), {"__repr__": lambda self: "<finished node>"})()

# The longest single wait on the selector or in time.sleep (epoll refuses more
# than about 24.8 days; a day keeps well clear of every platform's limit).
MAX_WAIT = 86400.0


class Node(Scheduler):
    """A beamlet node. `Node(reductions=4000, seed=None, clock="real")`."""

    def __init__(self, *, reductions=4000, seed=None, clock="real", name=None,
                 instruments=(), preempt=True, long_slice=0.1, timeslice=None,
                 slice_time=0.00025, dirty_threads=_io.DIRTY_MAX, sname=None, cookie=None,
                 listen=None, dist=None):
        # A name (`name="x@host"`, or `sname="x"`) makes a distributed node, as
        # erl -name/-sname do: its pids carry the name from the first one on, and
        # vm.dist.start runs before anything else (docs/distribution.md).
        self._dist_boot = None
        if name is not None or sname is not None:
            from .dist.kernel import boot

            name, self._dist_boot = boot(sname, name, cookie, listen, dist)
        elif cookie is not None or listen is not None or dist is not None:
            raise BadArg("cookie, listen and dist need a node name: give sname= or name=")
        if type(dirty_threads) is not int or dirty_threads < 1:
            raise BadArg(f"dirty_threads must be an int >= 1 (default {_io.DIRTY_MAX}), "
                         f"not {show(dirty_threads)}")
        self.dirty_threads = dirty_threads
        self._dirty = None
        self._workers = None
        super().__init__(reductions=reductions, seed=seed, clock=clock,
                         name=name or "nonode@nohost",
                         preempt=preempt, slice_time=slice_time)
        self.external: deque = deque()
        self.main_result = None
        self.main_reason = None
        self.started_at = None
        self._selector = None
        if long_slice is not None and (isinstance(long_slice, bool)
                                       or not isinstance(long_slice, (int, float))
                                       or long_slice <= 0):
            raise BadArg(f"long_slice must be seconds > 0 or None, not {show(long_slice)}")
        if timeslice is not None and (isinstance(timeslice, bool)
                                      or not isinstance(timeslice, (int, float)) or timeslice <= 0):
            raise BadArg(f"timeslice must be seconds > 0 or None, not {show(timeslice)}")
        self.long_slice = long_slice
        self.timeslice = timeslice
        self._watchdog = None
        self._timeslicer = None
        self._wake_r = self._wake_w = None
        self._woken = False
        self._thread = None
        self._ready = threading.Event()
        self._done = threading.Event()
        self._failure = None
        self.background = False
        self._calls: dict = {}  # pid id -> the Future of a Node.call runner still alive
        self._post_lock = threading.Lock()
        self._closed = False  # no more requests from other threads (see post)
        for inst in instruments:
            self.ins.add(inst)

    # ------------------------------------------------------------------
    # running on the calling thread

    def run(self, main, *args, **kwargs):
        """Run `main(*args, **kwargs)` as the first process; return its result."""
        self._claim_thread("run")
        if self._dist_boot is not None:
            boot, user_main = self._dist_boot, main

            def main(*args, **kwargs):
                boot()
                return user_main(*args, **kwargs)

        self.spawn_process(None, main, args, kwargs, is_main=True)
        with self._catching_ctrl_c():
            self._serve()
        if self._failure is not None:
            raise self._failure
        if self.main_reason == NORMAL:
            return self.main_result
        raise ProcessExit(self.main_reason)

    @contextlib.contextmanager
    def _catching_ctrl_c(self):
        """Tell a real Ctrl-C from `raise KeyboardInterrupt` in process code.

        Python delivers both as KeyboardInterrupt in whatever frame runs. A
        real one must stop the node; one raised by code is that process's
        crash. On the main thread, with Python's default handler in place,
        the node's own handler marks the node before raising.
        """
        if threading.current_thread() is not threading.main_thread():
            yield  # signals reach only the main thread: any KeyboardInterrupt here is code's
            return
        if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            self.interrupted = True  # someone else's handler: we cannot tell, so it stops the node
            yield
            return

        def on_sigint(signum, frame):
            self.interrupted = True
            raise KeyboardInterrupt

        signal.signal(signal.SIGINT, on_sigint)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)

    def _claim_thread(self, what):
        if type(getcurrent()) is Process:
            raise VMError(
                f"Node.{what}() was called inside a process; a node runs on its own thread. "
                "Use vm.spawn() to start more processes in this node."
            )
        if self.hub is not None:
            raise VMError("this node has already run; create a new vm.Node for another run")
        loading = os.environ.get("BEAMLET_WORKER_LOADING_MAIN")
        if loading:
            raise VMError(
                f"{loading} starts a node when it is imported: a vm.to_process worker that "
                "loads it to find a function would start another node (and another worker, "
                "without end). Put the node's start under `if __name__ == \"__main__\":`, or "
                "move the function into a module of its own"
            )
        self.hub = getcurrent()
        self.started_at = time.monotonic()
        if self.long_slice is not None:
            self._watchdog = Watchdog(self, self.long_slice)
        if self.timeslice is not None:
            self._timeslicer = Timeslicer(self.timeslice)

    def _serve(self):
        try:
            self._serve_until_stopped()
        finally:
            # Let go of the thread's main greenlet: a node (and the records of
            # its processes) may outlive its thread, and a thread's main
            # greenlet freed later from another thread is greenlet's most
            # fragile path. The sentinel still says "this node has run".
            self.hub = FINISHED

    def _serve_until_stopped(self):
        try:
            self.loop()
        except (KeyboardInterrupt, SystemExit, Deadlock) as e:
            self._failure = e if isinstance(e, Deadlock) else None
            self.shutdown()
            if not isinstance(e, Deadlock):
                raise
            return
        except BaseException as e:  # a bug in the VM itself
            self._failure = internal_error(e)
            self.shutdown()
            return
        self.shutdown()

    def shutdown(self):
        """Kill every process still alive (newest first) and unwind its stack."""
        self.stopping = True
        self._close_door()
        if self._watchdog is not None:
            self._watchdog.stop()
        if self._timeslicer is not None:
            self._timeslicer.stop()
            self._timeslicer = None
        for p in sorted(self.procs.values(), key=lambda q: -q.pid.id):
            if p.state is not EXITING:
                self.kill(p, KILLED)
        for q in (self.rq_max, self.rq_high, self.rq):
            while q:
                self._unwind(q.popleft())
        self._trim_pool(0)
        self.procs.clear()
        if self._dirty is not None:
            self._dirty.close()
        if self._workers is not None:
            self._workers.close()
        if self._selector is not None:
            self._selector.close()
            self._wake_r.close()
            self._wake_w.close()
            self._selector = None

    def _trim_pool(self, keep=POOL_IDLE):
        """End pooled greenlets until `keep` remain (GreenletExit makes _entry return)."""
        while len(self.pool) > keep:
            self.pool.pop().throw(GreenletExit)

    @staticmethod
    def _unwind(p):
        if p:  # started and not finished: run its finally blocks
            try:
                p.switch()  # it raises _Killed from where it waited (switch_out)
            except BaseException:  # noqa: BLE001 - a dying stack may raise anything
                pass

    # ------------------------------------------------------------------
    # running on a background thread

    def start(self):
        """Run the node on a background thread; returns once it is ready."""
        if self._thread is not None or self.hub is not None:
            raise VMError("this node has already been started")
        self.background = True
        self.selector()  # before the thread exists, so posts can always wake it
        self._thread = threading.Thread(
            target=self._thread_main, name=f"beamlet-node-{self.creation}", daemon=True
        )
        self._thread.start()
        self._ready.wait()
        if self._dist_boot is not None:
            self.call(self._dist_boot)
        return self

    def _thread_main(self):
        self._claim_thread("start")
        self._ready.set()
        try:
            self._serve()
        finally:
            self._done.set()

    def stop(self, timeout=None):
        """Stop a background node: kill its processes and end its thread."""
        if self._thread is None:
            raise VMError("stop() is for a node started with start(); this one is not running")
        if not self._done.is_set():

            def request_stop():
                self.stopping = True
                self.special = True

            try:
                self.post(request_stop)
            except VMError:
                pass  # it is stopping already
            self._thread.join(timeout)
        if self._failure is not None:
            raise self._failure

    def running(self) -> bool:
        """Has the node started and not yet stopped?"""
        return self.hub is not None and self.hub is not FINISHED

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    def post(self, fn):
        """Run `fn()` on the node's thread between two slices (callable from any thread).

        Raises `VMError("node stopped")` once the node has stopped. A request
        that also has a `fail(exc)` method (see `_ask`) is failed with that
        error if the node stops before running it, so no thread waits forever.
        """
        with self._post_lock:
            if self._closed:
                raise VMError("node stopped: it no longer accepts requests from other threads")
            self.external.append(fn)
        self.attention = True
        self.special = True  # the loop's fast path does not look at `attention`
        self._wake()

    def _close_door(self):
        """Refuse new requests, and fail those still queued (the node is stopping)."""
        with self._post_lock:
            self._closed = True
            left = list(self.external)
            self.external.clear()
        stopped = VMError("node stopped before it could run this request")
        for request in left:
            fail = getattr(request, "fail", None)
            if fail is not None:
                fail(stopped)

    def _outside(self, what):
        if not self.background:
            raise VMError(f"Node.{what}() needs a node started with start()")
        if threading.current_thread() is self._thread:
            raise VMError(
                f"Node.{what}() was called on the node's own thread; inside a process use "
                f"vm.{what}() instead"
            )

    def _ask(self, fn, timeout=None):
        request = _Request(fn)
        self.post(request)
        return request.future.result(timeout)

    def spawn(self, fn, *args, **kwargs):
        """Spawn a process in this node from another thread; returns its Pid."""
        self._outside("spawn")
        return self._ask(lambda: self.spawn_process(None, fn, args, kwargs)[0].pid)

    def send(self, dest, msg):
        """Send `msg` to `dest` inside this node from another thread."""
        self._outside("send")
        msg = copy_term(msg)

        def deliver():
            p = resolve(self, dest)
            if p is not None:
                self.deliver(p, msg)

        self._ask(deliver)
        return msg

    def call(self, fn, *args, timeout=None, **kwargs):
        """Run `fn(*args, **kwargs)` in a fresh process; return its result to this thread.

        The arguments and the result are copied, as messages are (a result
        that is not a term raises `Unsendable` here). Raises `ProcessExit` if
        the process exits abnormally, `VMError("node stopped")` if the node
        stops first, and `TimeoutError` if no answer comes within `timeout`
        seconds.
        """
        self._outside("call")
        fut = Future()
        args = copy_term(args)
        kwargs = copy_term(kwargs)

        def runner():
            try:
                result = fn(*args, **kwargs)
                try:
                    fut.set_result(copy_term(result))
                except Unsendable as e:
                    fut.set_exception(e)
            except Exit as e:
                fut.set_exception(ProcessExit(e.reason))
                raise
            except Exception as e:
                fut.set_exception(ProcessExit(Crash.from_exception(e)))
                raise

        def start():
            pid = self.spawn_process(None, runner)[0].pid
            if not self._calls:
                self.exit_hooks = self.exit_hooks + (self._call_ended,)
            self._calls[pid.id] = fut

        start.fail = lambda exc: fut.set_exception(exc)  # the node stopped first
        self.post(start)
        try:
            return fut.result(timeout)
        except FutureTimeout:
            raise TimeoutError(f"Node.call: no answer within {timeout} s") from None

    def _call_ended(self, pid, reason):
        """Exit hook while Node.call runners live: a runner that dies without an
        answer (killed, even before it ran; hibernated away) fails its call."""
        fut = self._calls.pop(pid.id, None)
        if fut is not None and not fut.done():
            fut.set_exception(VMError("node stopped while the call was running")
                              if self.stopping else ProcessExit(reason))
        if not self._calls:
            self.exit_hooks = tuple(h for h in self.exit_hooks if h != self._call_ended)

    def add_instrument(self, inst):
        if self.background and threading.current_thread() is not self._thread:
            self._ask(lambda: self.ins.add(inst))
        else:
            self.ins.add(inst)

    def remove_instrument(self, inst):
        if self.background and threading.current_thread() is not self._thread:
            return self._ask(lambda: self.ins.remove(inst))
        return self.ins.remove(inst)

    # ------------------------------------------------------------------
    # between slices

    def service(self):
        """Run the requests other threads posted."""
        self.attention = False
        ext = self.external
        while ext:
            ext.popleft()()

    def selector(self):
        if self._selector is None:
            self._selector = selectors.DefaultSelector()
            self._wake_r, self._wake_w = socket.socketpair()
            self._wake_r.setblocking(False)
            self._wake_w.setblocking(False)
            self._selector.register(self._wake_r, selectors.EVENT_READ, None)
        return self._selector

    def _wake(self):
        if self._wake_w is not None and not self._woken:
            self._woken = True
            try:
                self._wake_w.send(b"\0")
            except (BlockingIOError, OSError):
                pass

    def idle(self):
        """Nothing is runnable: wait for a timer, a request, or I/O."""
        if self.stopping or self.attention:
            return
        if len(self.pool) > POOL_IDLE:
            self._trim_pool()
        if self.deadlines:
            self.sweep()  # lazily armed timeouts must be real timers before we sleep
        deadline = self.timers.next_deadline()
        can_be_woken = self.background or self.waiters > 0
        if self.clock.virtual:
            if can_be_woken and self._poll(0):
                return
            if deadline is not None:
                self.clock.advance_to(deadline)
                return
            if not can_be_woken:
                raise self._deadlock()
            self.idling = True
            try:
                self._poll(None)
            finally:
                self.idling = False
            return
        if deadline is None and not can_be_woken:
            raise self._deadlock()
        t0 = self.now()
        # A deadline may be years away (a 30-day send_after, sleep(1e20)); the
        # selector and time.sleep cannot wait that long, so wait at most
        # MAX_WAIT and come back round: the deadline itself is kept.
        timeout = None if deadline is None else min(MAX_WAIT, max(0.0, deadline - t0))
        self.idling = True
        try:
            if self._selector is not None:
                self._poll(timeout)
            elif timeout:
                time.sleep(timeout)
        finally:
            self.idling = False
        self.idle_time += self.now() - t0

    def poll(self, timeout) -> bool:
        return self._poll(timeout) if self._selector is not None else False

    def _poll(self, timeout) -> bool:
        """Wait on the selector; dispatch what is ready. True if anything was."""
        io = self.io
        if io is not None and io.by_fd:
            # Descriptors closed under a wait are found by a sweep; keep it going.
            if time.monotonic() - io.last_sweep >= _io.CLOSED_SWEEP:
                io.sweep_closed()
            if timeout is None or timeout > _io.CLOSED_SWEEP:
                timeout = _io.CLOSED_SWEEP
        events = self.selector().select(timeout)
        for key, _mask in events:
            if key.data is None:
                # Drain first, then allow the next wake-up byte: in the other
                # order a byte sent in between could be drained while _woken
                # stays set, and a later post() would send nothing (lost wakeup).
                try:
                    while self._wake_r.recv(4096):
                        pass
                except (BlockingIOError, OSError):
                    pass
                self._woken = False
            else:
                key.data(key, _mask)
        return bool(events)

    def _deadlock(self) -> Deadlock:
        waiting = [p for p in self.procs.values() if p.state is not EXITING]
        lines = []
        for p in waiting[:10]:
            where = _signals_where(p)
            lines.append(f"  {p.pid!r} {p.state} in {where}")
        more = f"\n  ... and {len(waiting) - 10} more" if len(waiting) > 10 else ""
        return Deadlock(
            f"every process is waiting and nothing can wake one ({len(waiting)} waiting, "
            f"no timers pending):\n" + "\n".join(lines) + more +
            "\nA receive with timeout=None waits forever; did a reply get lost, or does "
            "a process wait for itself?"
        )

    # ------------------------------------------------------------------
    # statistics (for the observer)

    def statistics(self) -> dict:
        elapsed = (time.monotonic() - self.started_at) if self.started_at else 0.0
        busy = max(0.0, elapsed - self.idle_time) if not self.clock.virtual else None
        return {
            "processes": len(self.procs),
            "run_queue": {
                "max": len(self.rq_max),
                "high": len(self.rq_high),
                "normal": sum(1 for p in self.rq if p.priority != "low"),
                "low": sum(1 for p in self.rq if p.priority == "low"),
            },
            "context_switches": self.context_switches,
            "reductions": self.total_reductions,
            "uptime": elapsed,
            "idle_time": self.idle_time,
            "utilization": (busy / elapsed) if busy is not None and elapsed > 0 else None,
            "registered": len(self.names),
            "timers": len(self.timers),
            "dirty": (self._dirty.stats() if self._dirty is not None
                      else _io.DirtyPool.unused_stats(self.dirty_threads)),
            "io_waits": sum(len(w) for w in self.io.by_fd.values()) if self.io else 0,
            "workers": (self._workers.stats() if self._workers is not None
                        else _ports.ProcessPool.unused_stats()),
            "pid": os.getpid(),
        }

    # ------------------------------------------------------------------
    # the dirty pool and descriptor waits (vm/_io.py)

    def dirty_pool(self):
        """The node's dirty pool, made on first use."""
        pool = self._dirty
        if pool is None:
            self.selector()  # its workers wake the node through the selector
            pool = self._dirty = _io.DirtyPool(self, self.dirty_threads)
        return pool

    def process_pool(self):
        """The node's worker subprocesses for vm.to_process, made on first use."""
        pool = self._workers
        if pool is None:
            pool = self._workers = _ports.ProcessPool(self)
        return pool

    def io_waits(self):
        if self.io is None:
            self.io = _io.IOWaits(self)
        return self.io


class _Request:
    """A request from another thread whose answer that thread waits for."""

    __slots__ = ("fn", "future")

    def __init__(self, fn):
        self.fn = fn
        self.future = Future()

    def __call__(self):
        try:
            self.future.set_result(self.fn())
        except BaseException as e:  # noqa: BLE001 - handed to the calling thread
            self.future.set_exception(e)

    def fail(self, exc):
        if not self.future.done():
            self.future.set_exception(exc)


def _signals_where(p):
    from ._introspect import current_function

    cf = current_function(p)
    return "%s.%s/%d" % cf if cf else "?"
