"""Work in other OS processes: `vm.to_process` and ports.

What this module owns: the two ways a process hands work to an OS process
that dies with it, as OTP does with ports. A thread cannot be stopped, so
`vm.to_thread` work outlives a caller that dies or times out; an OS process
can be killed, and everything it started with it (each runs in its own
process group).

1. **`to_process(fn, *args, timeout=None, **kwargs)`** runs a function in a
   worker subprocess (`_worker.py`) and returns its result. The function is
   named, not copied: it must be importable (defined at module level; the
   caller's main file is loaded in the worker if need be, as
   `multiprocessing` does). Arguments and result must be terms. The caller
   parks on the worker's pipe, so a thousand callers are a thousand parked
   processes and no threads. When the caller dies, or the timeout passes,
   the worker is killed with its process group; otherwise it goes back to
   the node's pool of idle workers (at most `IDLE_WORKERS`). At most
   `MAX_WORKERS` run at once per node; further callers wait their turn.
2. **Ports** (`port(argv, ...)`): an external command owned by the calling
   process, as OTP's `open_port({spawn_executable, ...})`. The port is a
   process, linked to its owner, that writes what it is told to the
   command's stdin and sends what the command writes to its owner:

       (port, ("data", b"chunk"))                     mode="stream"
       (port, ("data", ("eol", b"line")))             mode="line"
       (port, ("data", ("noeol", b"part")))           a line longer than `line_max`, or the last
       (port, ("exit_status", 0))                     the command ended (128+N: killed by signal N)
       (port, "closed")                               after port_close()

   `port_command(port, data)` writes to its stdin; `port_close(port)` closes
   it (stdin is closed, the command is asked to stop and killed after a
   grace period). When the owner exits, for any reason, the port closes and
   the command is killed with its process group. The port waits on the
   command's output and on messages in one wait (`IOWaits.wait(...,
   messages=True)`), so a port is one parked process and no thread.

What it refuses: shells. `argv` is a list run without a shell (pass
`["sh", "-c", line]` to have one), so nothing in an argument is interpreted.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import selectors
import signal
import struct
import subprocess
import sys
from collections import deque

from greenlet import getcurrent

from ._core import Process
from ._heap import copy_term
from ._io import MESSAGE
from ._process import EXITING, WAITING
from .errors import BadArg, show
from .terms import TIMEOUT, Atom, Pid

#: Worker subprocesses kept idle per node for the next `to_process` call.
IDLE_WORKERS = 4
#: Workers running at once per node; further callers wait.
MAX_WORKERS = 32
#: Seconds a port's command has to exit after SIGTERM before SIGKILL.
KILL_GRACE = 0.5

_HEADER = struct.Struct(">I")
_WORKER_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_worker.py")
DATA = Atom("data")
EOL = Atom("eol")
NOEOL = Atom("noeol")
EXIT_STATUS = Atom("exit_status")
CLOSED = Atom("closed")
COMMAND = Atom("command")
CLOSE = Atom("close")
EXIT = Atom("EXIT")


# ----------------------------------------------------------------------
# to_process


def to_process(p, fn, args, kwargs, timeout):
    """Run `fn(*args, **kwargs)` in a worker subprocess; park `p` until it answers."""
    name = _function_name(fn)
    args = copy_term(tuple(args))
    kwargs = copy_term(dict(kwargs)) if kwargs else {}
    try:
        request = pickle.dumps((*name, pickle.dumps((args, kwargs))))
    except Exception as e:  # noqa: BLE001 - a term that pickle refuses (rare)
        raise BadArg(f"to_process: the arguments cannot be sent to a worker: {e}") from None
    node = p.node
    pool = node.process_pool()
    deadline = None if timeout is None else node.now() + timeout
    worker = pool.acquire(p, deadline)
    ok = False
    try:
        _write_all(p, worker.req, _HEADER.pack(len(request)) + request, deadline, fn)
        header = _read_exact(p, worker.resp, _HEADER.size, deadline, fn)
        outcome = pickle.loads(_read_exact(p, worker.resp, _HEADER.unpack(header)[0],
                                           deadline, fn))
        ok = True
    finally:
        pool.release(worker, reusable=ok)
    if outcome[0] == "ok":
        return copy_term(outcome[1])  # the result must be a term, like a message
    _, exc, type_name, message, text = outcome
    if exc is None:
        exc = RuntimeError(f"{type_name}: {message}")
    exc.add_note(f"raised in a vm.to_process worker:\n{text.rstrip()}")
    raise exc


def _function_name(fn):
    """(module, qualified name, main file): how a worker finds `fn` by name."""
    module = getattr(fn, "__module__", None)
    qualname = getattr(fn, "__qualname__", None)
    if not callable(fn) or module is None or qualname is None:
        raise BadArg(f"to_process needs a function defined at module level, not {show(fn)}")
    if "<" in qualname:  # <lambda>, <locals>
        raise BadArg(
            f"to_process needs a function a worker can import by name; {qualname} is a "
            "lambda or a nested function: define it at module level"
        )
    mod = sys.modules.get(module)
    main_path = getattr(mod, "__file__", None)
    obj = mod
    for part in qualname.split("."):
        obj = getattr(obj, part, None)
    if obj is not fn and getattr(obj, "__wrapped__", None) is not fn:
        raise BadArg(f"to_process: {module}.{qualname} does not name {show(fn)}; "
                     "define the function at module level")
    return module, qualname, main_path


def _timed_out(fn):
    return TimeoutError(f"to_process: {show(fn)} did not finish in time; its worker was killed")


def _wait(p, fd, event, deadline, fn):
    node = p.node
    timeout = None if deadline is None else max(0.0, deadline - node.now())
    if not node.io_waits().wait(p, fd, event, timeout):
        raise _timed_out(fn)


def _write_all(p, fd, data, deadline, fn):
    view = memoryview(data)
    while view:
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            _wait(p, fd, selectors.EVENT_WRITE, deadline, fn)


def _read_exact(p, fd, n, deadline, fn):
    chunks = []
    while n:
        try:
            b = os.read(fd, n)
        except BlockingIOError:
            _wait(p, fd, selectors.EVENT_READ, deadline, fn)
            continue
        if not b:
            raise RuntimeError("to_process: the worker died before answering "
                               "(killed from outside, or it crashed the interpreter)")
        chunks.append(b)
        n -= len(b)
    return b"".join(chunks)


class _Worker:
    __slots__ = ("proc", "req", "resp")

    def __init__(self):
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(x for x in sys.path if x)
        try:
            self.proc = subprocess.Popen(
                [sys.executable, _WORKER_SCRIPT, str(req_r), str(resp_w)],
                pass_fds=(req_r, resp_w), start_new_session=True, stdin=subprocess.DEVNULL,
                env=env, close_fds=True,
            )
        finally:
            os.close(req_r)
            os.close(resp_w)
        self.req = req_w
        self.resp = resp_r
        os.set_blocking(req_w, False)
        os.set_blocking(resp_r, False)

    def kill(self):
        """Kill the worker and everything it started; close our ends of its pipes."""
        _kill_group(self.proc, signal.SIGKILL)
        for fd in (self.req, self.resp):
            with contextlib.suppress(OSError):
                os.close(fd)
        self.proc.poll()  # reaped now if it is gone already; else subprocess reaps it later


class ProcessPool:
    """A node's worker subprocesses: idle ones for reuse, a bound on running ones."""

    def __init__(self, node):
        self.node = node
        self.idle: list = []
        self.running = 0
        self.waiting: deque = deque()  # processes waiting for a worker
        self.started = 0
        self.killed = 0

    def acquire(self, p, deadline):
        while self.running >= MAX_WORKERS:
            self.waiting.append(p)
            timer = None
            if deadline is not None:
                from ._timers import WAKE

                timer = self.node.add_timer(max(0.0, deadline - self.node.now()), WAKE, p)
            p.timed_out = False
            try:
                self.node.park(p, WAITING, functools.partial(self._unwait, p, timer))
            finally:
                self._unwait(p, timer)
            if p.timed_out:
                p.timed_out = False
                raise TimeoutError("to_process: no worker became free in time")
        self.running += 1
        self.node.outside_work += 1
        if self.idle:
            return self.idle.pop()
        try:
            worker = _Worker()
        except BaseException:
            self.running -= 1
            self.node.outside_work -= 1
            raise
        self.started += 1
        return worker

    def _unwait(self, p, timer):
        with contextlib.suppress(ValueError):
            self.waiting.remove(p)
        if timer is not None:
            self.node.timers.cancel(timer)

    def release(self, worker, reusable):
        self.running -= 1
        self.node.outside_work -= 1
        if reusable and len(self.idle) < IDLE_WORKERS and worker.proc.poll() is None:
            self.idle.append(worker)
        else:
            if not reusable:
                self.killed += 1
            worker.kill()
        if self.waiting:
            q = self.waiting.popleft()
            if q.undo is not None:
                q.undo = None
                self.node.make_runnable(q)

    def close(self):
        """The node stops: kill the idle workers (busy ones die with their callers)."""
        while self.idle:
            self.idle.pop().kill()

    def stats(self) -> dict:
        """Workers running a job, idle, callers waiting for one, started and killed ever."""
        return {"running": self.running, "idle": len(self.idle), "waiting": len(self.waiting),
                "started": self.started, "killed": self.killed}

    @staticmethod
    def unused_stats() -> dict:
        return {"running": 0, "idle": 0, "waiting": 0, "started": 0, "killed": 0}


def _kill_group(proc, sig):
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    except PermissionError:  # not our group after all: the process alone
        with contextlib.suppress(ProcessLookupError):
            proc.send_signal(sig)


# ----------------------------------------------------------------------
# ports

_MODES = ("line", "stream")
_STDERR = {"stdout": subprocess.STDOUT, "discard": subprocess.DEVNULL, "inherit": None}


def open_port(p, argv, mode, cwd, env, stderr, line_max):
    """Start `argv` as a port owned by `p`; return the port's pid."""
    if isinstance(argv, (str, bytes)) or not isinstance(argv, (list, tuple)) or not argv:
        raise BadArg(f"port: argv must be a non-empty list of strings (no shell), not "
                     f"{show(argv)}; for a shell line pass ['sh', '-c', line]")
    if not all(isinstance(a, (str, bytes, os.PathLike)) for a in argv):
        raise BadArg(f"port: every argument must be a str, bytes or path, not {show(argv)}")
    if mode not in _MODES:
        raise BadArg(f"port: mode must be 'line' or 'stream', not {show(mode)}")
    if stderr not in _STDERR:
        raise BadArg(f"port: stderr must be 'stdout', 'discard' or 'inherit', not {show(stderr)}")
    if type(line_max) is not int or line_max < 1:
        raise BadArg(f"port: line_max must be an int >= 1, not {show(line_max)}")
    if env is not None and (not isinstance(env, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in env.items())):
        raise BadArg(f"port: env must be a dict of str to str or None, not {show(env)}")
    try:
        proc = subprocess.Popen(
            [os.fspath(a) for a in argv], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=_STDERR[stderr], cwd=cwd, env=env, start_new_session=True, bufsize=0,
        )
    except OSError as e:
        raise BadArg(f"port: cannot start {show(argv[0])}: {e.strerror or e}") from None
    os.set_blocking(proc.stdin.fileno(), False)  # type: ignore[union-attr]  # PIPE: set
    os.set_blocking(proc.stdout.fileno(), False)  # type: ignore[union-attr]
    owner = p.pid

    def port():  # the port's process (a closure: a Popen is not a term to pass)
        _port_loop(proc, owner, mode, line_max)

    port.__module__, port.__qualname__ = "vm", "port"  # how the observer shows it
    return p.node.spawn_process(p, port, link=True)[0].pid


def _port_loop(proc, owner, mode, line_max):
    from . import _api

    p = getcurrent()
    _api.process_flag("trap_exit", True)
    me = p.pid
    out = proc.stdout.fileno()
    line = bytearray()
    try:
        while True:
            if _wait_or_serve(p, proc, out, owner):
                return
            try:
                chunk = os.read(out, 65536)
            except BlockingIOError:
                continue
            if chunk:
                _forward(me, owner, chunk, mode, line, line_max)
                continue
            if line:
                _api.send(owner, (me, (DATA, (NOEOL, bytes(line)))))
            _api.send(owner, (me, (EXIT_STATUS, _exit_status(p, proc, owner))))
            return
    finally:
        _stop(proc)


def _wait_or_serve(p, proc, fd, owner, timeout=None) -> bool:
    """Wait until `fd` is readable (or `timeout`), serving commands meanwhile; True
    when the port must stop (it was closed)."""
    io = p.node.io_waits()
    while io.wait(p, fd, selectors.EVENT_READ, timeout, messages=True) is MESSAGE:
        if _serve_commands(proc, p.pid, owner):
            return True
    return False


def _serve_commands(proc, me, owner) -> bool:
    """Handle the queued messages; True when the port was closed."""
    from . import _api
    from ._mailbox import receive

    while True:
        msg = receive(timeout=0)
        if msg is TIMEOUT:
            return False
        match msg:
            case (Pid(), (tag, data)) if tag == COMMAND:
                _write_stdin(proc, data)
            case (Pid() as sender, tag) if tag == CLOSE:
                _api.send(sender, (me, CLOSED))
                return True
            case (tag, sender, reason) if tag == EXIT and sender == owner:
                _api.exit(reason)  # the owner died: the port goes with it
            case _:
                pass  # anything else is dropped, as a port ignores unknown messages


def _write_stdin(proc, data):
    from . import _api

    if isinstance(data, str):
        data = data.encode()
    view = memoryview(bytes(data))
    fd = proc.stdin.fileno()
    while view:
        try:
            view = view[os.write(fd, view):]
        except BlockingIOError:
            _api.wait_writable(fd)
        except BrokenPipeError:
            return  # the command closed its stdin: later output still arrives


def _forward(me, owner, chunk, mode, line, line_max):
    from . import _api

    if mode == "stream":
        _api.send(owner, (me, (DATA, chunk)))
        return
    line += chunk
    while line:
        i = line.find(b"\n", 0, line_max + 1)
        if i >= 0:
            _api.send(owner, (me, (DATA, (EOL, bytes(line[:i])))))
            del line[:i + 1]
        elif len(line) > line_max:  # longer than line_max: it comes in parts
            _api.send(owner, (me, (DATA, (NOEOL, bytes(line[:line_max])))))
            del line[:line_max]
        else:
            break


def _exit_status(p, proc, owner):
    """Wait (parked, still serving commands) for the command to end; its status as
    OTP gives it (128+N when a signal N killed it)."""
    try:
        fd = os.pidfd_open(proc.pid)  # readable when the process ends (Linux 5.3+)
    except (AttributeError, OSError):
        fd = None
    delay = 0.001
    try:
        while proc.poll() is None:
            if fd is None:  # no pidfd: poll, backing off (commands wait meanwhile)
                from . import _api

                _api.sleep(delay)
                delay = min(delay * 2, 0.05)
            elif _wait_or_serve(p, proc, fd, owner, timeout=1.0):
                _stop(proc)  # closed while the command was finishing
    finally:
        if fd is not None:
            os.close(fd)
    code = proc.returncode
    return code if code >= 0 else 128 - code


def _stop(proc):
    """Close the port: stdin closed, SIGTERM, then SIGKILL after KILL_GRACE (no waiting
    in a dead process: its finally blocks cannot park, so the kill is not delayed)."""
    for f in (proc.stdin, proc.stdout):
        with contextlib.suppress(OSError):
            f.close()
    if proc.poll() is not None:
        return
    _kill_group(proc, signal.SIGTERM)
    p = getcurrent()
    if type(p) is Process and p.state is not EXITING:
        from . import _api

        try:
            waited = 0.0
            while proc.poll() is None and waited < KILL_GRACE:
                _api.sleep(0.01)
                waited += 0.01
        except BaseException:  # noqa: BLE001 - killed meanwhile: kill below
            pass
    if proc.poll() is None:
        _kill_group(proc, signal.SIGKILL)
        proc.poll()


def port_command(p, port, data):
    if type(port) is not Pid:
        raise BadArg(f"port_command: expected a port (the pid vm.port returned), not {show(port)}")
    if not isinstance(data, (bytes, bytearray, str)):
        raise BadArg(f"port_command: data must be bytes or str, not {show(data)}")
    from . import _api

    _api.send(port, (p.pid, (COMMAND, bytes(data) if not isinstance(data, str) else data)))
    return True


def port_close(p, port):
    if type(port) is not Pid:
        raise BadArg(f"port_close: expected a port (the pid vm.port returned), not {show(port)}")
    from . import _api

    _api.send(port, (p.pid, CLOSE))
    return True

