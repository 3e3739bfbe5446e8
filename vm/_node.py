"""The public node: a runtime's lifecycle, its thread, and the doors into it.

What this module owns: `vm.Node`, the small front object users hold (its
runtime, `vm._runtime.Runtime`, is private):

1. `Node.run(main, ...)`: run a node on the calling thread until `main`
   exits, then stop it. What `main` returns is returned; an abnormal exit
   raises `ProcessExit(reason)`.
2. `Node.start()` / `Node.stop()`: run a node on a background thread, and
   the thread-safe doors into it (`spawn`, `send`, `call`, `post`,
   `statistics`, `add_instrument`) that the shell, notebooks and tests use.
   Each door posts a request to the runtime and wakes its selector; the
   runtime runs the request between two slices, on its own thread, because
   greenlets can only be switched on the thread that made them.
3. Stopping. When `main` returns (or `stop()` is called), every process
   still alive is killed with reason `killed`, newest first, and its Python
   stack unwound (its `finally` blocks run). Ctrl-C on a node running on the
   main thread does the same and re-raises `KeyboardInterrupt` from `run`.
   A bug inside the scheduler stops the node and raises `VMInternalError`.

What it refuses: everything else. A `Node` has only the methods below;
what tools need beyond them is in `vm.lowlevel`.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any, TypeVar

from greenlet import getcurrent

from . import _io
from ._core import Process
from ._heap import copy_term
from ._policy import PolicyError
from ._registry import resolve
from ._runtime import NORMAL, Runtime
from ._scheduler import internal_error, loop
from ._watchdog import Timeslicer, Watchdog
from .errors import BadArg, Deadlock, Exit, ProcessExit, Unsendable, VMError, show
from .terms import Crash, Pid

_T = TypeVar("_T")

#: What `node.hub` holds once the node has stopped (see `_serve`).
FINISHED = type("Finished", (), {"__repr__": lambda self: "<finished node>"})()


class Node:
    """A beamlet node: `vm.Node(reductions=4000, seed=None, clock="real", ...)`.

    `run(main, *args)` runs it on this thread; `start()` on a thread of its
    own, driven with `spawn`, `send`, `call` and `post` from any thread, and
    ended with `stop()` (also `with vm.Node() as node:`). The options are
    `vm.run`'s (docs/api.md)."""

    __slots__ = ("_rt", "_dist_boot", "_thread", "_ready", "_done", "_failure", "_watchdog",
                 "_timeslicer", "_calls", "__weakref__")

    def __init__(self, *, reductions: int = 4000, seed: int | None = None,
                 clock: str = "real", name: str | None = None, instruments: Any = (),
                 preempt: bool = True, long_slice: float | None = 0.1,
                 timeslice: float | None = None, slice_time: float | None = 0.00025,
                 dirty_threads: int = _io.DIRTY_MAX, sname: str | None = None,
                 cookie: Any = None, listen: Any = None, dist: Any = None,
                 policy: Any = None, accounting: bool = False) -> None:
        # A name (`name="x@host"`, or `sname="x"`) makes a distributed node, as
        # erl -name/-sname do: its pids carry the name from the first one on, and
        # vm.dist.start runs before anything else (docs/distribution.md).
        self._dist_boot: Callable[[], Any] | None = None
        if name is not None or sname is not None:
            from .dist.kernel import boot

            name, self._dist_boot = boot(sname, name, cookie, listen, dist)
        elif cookie is not None or listen is not None or dist is not None:
            raise BadArg("cookie, listen and dist need a node name: give sname= or name=")
        rt = self._rt = Runtime(name=name or "nonode@nohost", reductions=reductions, seed=seed,
                                clock=clock, preempt=preempt, slice_time=slice_time,
                                dirty_threads=dirty_threads, long_slice=long_slice,
                                timeslice=timeslice)
        rt.front = self
        if policy is not None:
            from .scheduling import make_policy

            rt.set_policy(make_policy(policy))
        if type(accounting) is not bool:
            raise BadArg(f"accounting must be True or False, not {show(accounting)}")
        if accounting:
            rt.set_accounting(True)
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._done = threading.Event()
        self._failure: BaseException | None = None
        self._watchdog: Watchdog | None = None
        self._timeslicer: Timeslicer | None = None
        self._calls: dict = {}  # pid id -> the Future of a Node.call runner still alive
        for inst in instruments:
            rt.ins.add(inst)

    @property
    def name(self) -> str:
        """The node's name (`"nonode@nohost"` unless distributed)."""
        return self._rt.name

    @property
    def creation(self) -> int:
        """The node's creation number, carried by its pids and refs."""
        return self._rt.creation

    def __repr__(self) -> str:
        state = "running" if self.running() else "stopped" if self._rt.hub is FINISHED else "new"
        return f"<vm.Node {self._rt.name} {state}>"

    # ------------------------------------------------------------------
    # running on the calling thread

    def run(self, main: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run `main(*args, **kwargs)` as the first process; return its result."""
        rt = self._rt
        self._claim_thread("run")
        if self._dist_boot is not None:
            boot, user_main = self._dist_boot, main

            def main(*args: Any, **kwargs: Any) -> Any:
                boot()
                return user_main(*args, **kwargs)

        rt.spawn_process(None, main, args, kwargs, is_main=True)
        with self._catching_ctrl_c():
            self._serve()
        if self._failure is not None:
            raise self._failure
        if rt.main_reason == NORMAL:
            return rt.main_result
        raise ProcessExit(rt.main_reason)

    @contextlib.contextmanager
    def _catching_ctrl_c(self) -> Iterator[None]:
        """Tell a real Ctrl-C from `raise KeyboardInterrupt` in process code.

        Python delivers both as KeyboardInterrupt in whatever frame runs. A
        real one must stop the node; one raised by code is that process's
        crash. On the main thread, with Python's default handler in place,
        the node's own handler marks the node before raising.
        """
        rt = self._rt
        if threading.current_thread() is not threading.main_thread():
            yield  # signals reach only the main thread: any KeyboardInterrupt here is code's
            return
        if signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
            rt.interrupted = True  # someone else's handler: we cannot tell, so it stops the node
            yield
            return

        def on_sigint(signum: int, frame: Any) -> None:
            rt.interrupted = True
            raise KeyboardInterrupt

        signal.signal(signal.SIGINT, on_sigint)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, signal.default_int_handler)

    def _claim_thread(self, what: str) -> None:
        rt = self._rt
        if type(getcurrent()) is Process:
            raise VMError(
                f"Node.{what}() was called inside a process; a node runs on its own thread. "
                "Use vm.spawn() to start more processes in this node."
            )
        if rt.hub is not None:
            raise VMError("this node has already run; create a new vm.Node for another run")
        loading = os.environ.get("BEAMLET_WORKER_LOADING_MAIN")
        if loading:
            raise VMError(
                f"{loading} starts a node when it is imported: a vm.to_process worker that "
                "loads it to find a function would start another node (and another worker, "
                "without end). Put the node's start under `if __name__ == \"__main__\":`, or "
                "move the function into a module of its own"
            )
        rt.hub = getcurrent()
        rt.started_at = time.monotonic()
        rt.started_now = rt.now()
        if rt.long_slice is not None:
            self._watchdog = Watchdog(rt, rt.long_slice)
        if rt.timeslice is not None:
            self._timeslicer = Timeslicer(rt.timeslice)

    def _serve(self) -> None:
        rt = self._rt
        try:
            try:
                loop(rt)
            except (KeyboardInterrupt, SystemExit, Deadlock, PolicyError) as e:
                # A deadlock and a policy's bad answer are the program's to fix: they
                # end the run as themselves, not as a bug in the VM.
                self._failure = e if isinstance(e, (Deadlock, PolicyError)) else None
                self._shutdown()
                if self._failure is None:
                    raise
                return
            except BaseException as e:  # a bug in the VM itself
                self._failure = internal_error(e)
                self._shutdown()
                return
            self._shutdown()
        finally:
            # Let go of the thread's main greenlet: a node (and the records of
            # its processes) may outlive its thread, and a thread's main
            # greenlet freed later from another thread is greenlet's most
            # fragile path. The sentinel still says "this node has run".
            rt.hub = FINISHED

    def _shutdown(self) -> None:
        if self._watchdog is not None:
            self._watchdog.stop()
        if self._timeslicer is not None:
            self._timeslicer.stop()
            self._timeslicer = None
        self._rt.shutdown()

    # ------------------------------------------------------------------
    # running on a background thread

    def start(self) -> Node:
        """Run the node on a background thread; returns once it is ready."""
        rt = self._rt
        if self._thread is not None or rt.hub is not None:
            raise VMError("this node has already been started")
        rt.background = True
        rt.selector()  # before the thread exists, so posts can always wake it
        self._thread = threading.Thread(
            target=self._thread_main, name=f"beamlet-node-{rt.creation}", daemon=True
        )
        self._thread.start()
        self._ready.wait()
        if self._dist_boot is not None:
            self.call(self._dist_boot)
        return self

    def _thread_main(self) -> None:
        self._claim_thread("start")
        self._ready.set()
        try:
            self._serve()
        finally:
            self._done.set()

    def stop(self, timeout: float | None = None) -> None:
        """Stop a background node: kill its processes and end its thread."""
        if self._thread is None:
            raise VMError("stop() is for a node started with start(); this one is not running")
        if not self._done.is_set():
            rt = self._rt

            def request_stop() -> None:
                rt.stopping = True
                rt.need_slow_path()

            with contextlib.suppress(VMError):  # it is stopping already
                rt.post(request_stop)
            self._thread.join(timeout)
        if self._failure is not None:
            raise self._failure

    def running(self) -> bool:
        """Has the node started and not yet stopped?"""
        hub = self._rt.hub
        return hub is not None and hub is not FINISHED

    def __enter__(self) -> Node:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------
    # doors from other threads

    def post(self, fn: Callable[[], Any]) -> None:
        """Run `fn()` on the node's thread between two slices (callable from any thread).

        Raises `VMError("node stopped")` once the node has stopped."""
        self._rt.post(fn)

    def on_thread(self) -> bool:
        """Is the caller running on this node's thread?"""
        if self._thread is not None:
            return threading.current_thread() is self._thread
        p = getcurrent()
        return type(p) is Process and p.node is self._rt

    def _outside(self, what: str) -> None:
        if not self._rt.background:
            raise VMError(f"Node.{what}() needs a node started with start()")
        if threading.current_thread() is self._thread:
            raise VMError(
                f"Node.{what}() was called on the node's own thread; inside a process use "
                f"vm.{what}() instead"
            )

    def _ask(self, fn: Callable[[], _T], timeout: float | None = None) -> _T:
        request = _Request(fn)
        self._rt.post(request)
        result: _T = request.future.result(timeout)
        return result

    def spawn(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Pid:
        """Spawn a process in this node from another thread; returns its Pid."""
        self._outside("spawn")
        rt = self._rt
        return self._ask(lambda: rt.spawn_process(None, fn, args, kwargs)[0].pid)

    def send(self, dest: Any, msg: Any) -> Any:
        """Send `msg` to `dest` inside this node from another thread."""
        self._outside("send")
        msg = copy_term(msg)
        rt = self._rt

        def deliver() -> None:
            p = resolve(rt, dest)
            if p is not None:
                rt.deliver(p, msg)

        self._ask(deliver)
        return msg

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float | None = None,
             **kwargs: Any) -> Any:
        """Run `fn(*args, **kwargs)` in a fresh process; return its result to this thread.

        The arguments and the result are copied, as messages are (a result
        that is not a term raises `Unsendable` here). Raises `ProcessExit` if
        the process exits abnormally, `VMError("node stopped")` if the node
        stops first, and `TimeoutError` if no answer comes within `timeout`
        seconds.
        """
        self._outside("call")
        fut: Future = Future()
        args = copy_term(args)
        kwargs = copy_term(kwargs)
        rt = self._rt

        def runner() -> None:
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

        def start() -> None:
            pid = rt.spawn_process(None, runner)[0].pid
            if not self._calls:
                rt.exit_hooks = rt.exit_hooks + (self._call_ended,)
            self._calls[pid.id] = fut

        start.fail = lambda exc: fut.set_exception(exc)  # type: ignore[attr-defined]  # stopped first
        rt.post(start)
        try:
            return fut.result(timeout)
        except FutureTimeout:
            raise TimeoutError(f"Node.call: no answer within {timeout} s") from None

    def _call_ended(self, pid: Pid, reason: Any) -> None:
        """Exit hook while Node.call runners live: a runner that dies without an
        answer (killed, even before it ran; hibernated away) fails its call."""
        rt = self._rt
        fut = self._calls.pop(pid.id, None)
        if fut is not None and not fut.done():
            fut.set_exception(VMError("node stopped while the call was running")
                              if rt.stopping else ProcessExit(reason))
        if not self._calls:
            rt.exit_hooks = tuple(h for h in rt.exit_hooks if h != self._call_ended)

    def add_instrument(self, inst: Any) -> None:
        """Attach a `vm.Instrument` (from any thread)."""
        rt = self._rt
        if rt.background and threading.current_thread() is not self._thread:
            self._ask(lambda: rt.ins.add(inst))
        else:
            rt.ins.add(inst)

    def remove_instrument(self, inst: Any) -> bool:
        """Detach an instrument; True if it was attached (from any thread)."""
        rt = self._rt
        if rt.background and threading.current_thread() is not self._thread:
            return self._ask(lambda: rt.ins.remove(inst))
        return rt.ins.remove(inst)

    def statistics(self) -> dict[str, Any]:
        """The scheduler's figures (`vm.statistics()`); on the node's thread, or
        from another thread of a node started with start()."""
        rt = self._rt
        if rt.background and threading.current_thread() is not self._thread:
            return self._ask(rt.statistics)
        return rt.statistics()


class _Request:
    """A request from another thread whose answer that thread waits for."""

    __slots__ = ("fn", "future")

    def __init__(self, fn: Callable[[], Any]) -> None:
        self.fn = fn
        self.future: Future[Any] = Future()

    def __call__(self) -> None:
        try:
            self.future.set_result(self.fn())
        except BaseException as e:  # noqa: BLE001 - handed to the calling thread
            self.future.set_exception(e)

    def fail(self, exc: BaseException) -> None:
        if not self.future.done():
            self.future.set_exception(exc)


def runtime_of(node: Node | Runtime) -> Runtime:
    """The runtime behind a `vm.Node` (or the runtime itself): for vm's own modules."""
    return node._rt if type(node) is Node else node  # type: ignore[return-value]
