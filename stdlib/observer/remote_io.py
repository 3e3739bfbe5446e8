"""A remote shell's output: what a session prints goes to the client's terminal.

In Erlang a remote shell's processes have the shell as group leader, so
what they print (and what a trace started there prints) appears where the
person typing is, not on the node's console. beamlet has no group leaders;
this module gives a remote-shell session the same effect.

What this module owns:

- `Sink`: one per remote-shell session, on the target node. What the
  session writes is queued and sent, in order, by a forwarder process of
  its own to the client's receiver process as `("$remsh_io", text)`. The
  session's answers travel through the same queue (`reply`), so a value is
  never shown before what its evaluation printed. The forwarder is hidden
  from traces (`tracing.untraced`): a trace of "all" must not trace the
  sends that carry its own lines.
- the routing of `sys.stdout`: while a session exists, `sys.stdout` is a
  `_Router` that hands what a session's process writes to that session's
  sink and everything else to the stream it wraps, unchanged. A process
  belongs to a session when the server started it for an evaluation
  (`route`) or when a process of the session spawned it (as a process
  inherits its group leader). When the last sink closes, `sys.stdout` is
  the stream it was.
- `sys.stdout.stream_for_caller()` (the router's): where the caller's
  output goes now; a trace binds its lines to it when it starts (its hooks
  run in whatever process an event happens in).

Cost: nothing while no session exists. While one does, every write to
`sys.stdout` on the node asks which process makes it, and every spawn and
exit on the node makes one more Python call (the inheritance instrument);
both go when the last session ends.

What it refuses: standard error and the logger. As `io:format(standard_error,
...)` and logger reports stay on an Erlang node, they stay on the target.
"""

from __future__ import annotations

import sys
from collections import deque

import vm
from vm import lowlevel
from vm.lowlevel import Instrument

from .. import gen_server
from . import tracing

IO = "$remsh_io"

_routes: dict = {}  # vm.Node -> {pid: Sink}: the processes of each session, per node


class Sink:
    """A session's output on the target (see the module docstring). Make it in a
    process of the target node; `client` is the client's receiver pid."""

    def __init__(self, client):
        self.node = lowlevel.current_node()
        self.client = client
        self.queue: deque = deque()  # ("io", text) and ("reply", from_, answer), in order
        self.open = True
        self.forwarder = lowlevel.spawn_system(self._forward, node=self.node)
        tracing.untraced(self.forwarder)
        _open(self)

    # -- the file a session's prints and traces write to ----------------------

    def write(self, text) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        if text and self.open:
            self.queue.append(("io", text))
            self._wake()
        return len(text)

    def flush(self) -> None:
        pass  # the forwarder sends as soon as the node lets it run

    def isatty(self) -> bool:
        return False

    def reply(self, from_, answer) -> None:
        """Answer the client's call after what was written before it."""
        self.queue.append(("reply", from_, answer))
        self._wake()

    def _wake(self):
        lowlevel.wake(self.forwarder, node=self.node)  # False when it is not parked: fine

    def _forward(self):
        vm.process_flag("label", "remsh output")
        try:
            while self.queue or self.open:
                if not self.queue:
                    lowlevel.park()
                    continue
                item = self.queue.popleft()
                if item[0] == "reply":
                    gen_server.reply(item[1], item[2])
                    continue
                text = [item[1]]  # one message for what was written together
                while self.queue and self.queue[0][0] == "io":
                    text.append(self.queue.popleft()[1])
                vm.send(self.client, (IO, "".join(text)))
        finally:
            tracing.traced_again(vm.self())

    def close(self) -> None:
        """The client is gone: stop forwarding, stop the trace that wrote here,
        and let the session's processes print on the node again."""
        if not self.open:
            return
        self.open = False
        self.queue.clear()
        self._wake()
        tracing.stop_writing_to(self, self.node)
        _close(self)

    def __repr__(self):
        return f"<remote shell output to {self.client!r}>"


def route(pid, sink) -> None:
    """Send what `pid` (and what it spawns from now on) prints to `sink`."""
    if sink.open:
        _routes[sink.node][pid] = sink
        if not isinstance(sys.stdout, _Router):  # someone set sys.stdout since (a test's capture)
            sys.stdout = _Router(sys.stdout)


class _Inheritance(Instrument):
    """A process spawned by a session's process belongs to the session."""

    def __init__(self, routes):
        self.routes = routes

    def wants(self, event):
        return event in ("spawn", "exit")

    def spawn(self, parent, child, initial_call):
        sink = self.routes.get(parent)
        if sink is not None:
            self.routes[child] = sink

    def exit(self, pid, reason):
        self.routes.pop(pid, None)


_sinks: dict = {}  # vm.Node -> its open Sinks
_inheritance: dict = {}  # vm.Node -> its _Inheritance instrument, while it has sinks


def _open(sink):
    node = sink.node
    if node not in _sinks:
        _sinks[node] = set()
        inst = _inheritance[node] = _Inheritance(_routes.setdefault(node, {}))
        lowlevel.add_instrument(inst, node=node)
    _sinks[node].add(sink)
    if not isinstance(sys.stdout, _Router):
        sys.stdout = _Router(sys.stdout)


def _close(sink):
    node = sink.node
    routes = _routes.get(node, {})
    for pid in [p for p, s in routes.items() if s is sink]:
        del routes[pid]
    sinks = _sinks.get(node, set())
    sinks.discard(sink)
    if sinks:
        return
    _sinks.pop(node, None)
    _routes.pop(node, None)
    inst = _inheritance.pop(node, None)
    if inst is not None:
        lowlevel.remove_instrument(inst, node=node)
    if not _sinks and isinstance(sys.stdout, _Router):
        sys.stdout = sys.stdout.wrapped


def _caller_sink():
    try:
        node = lowlevel.current_node()
    except vm.NotInProcess:
        return None  # another thread: a pool job, the REPL
    routes = _routes.get(node)
    if not routes:
        return None
    sink = routes.get(vm.self())
    return sink if sink is not None and sink.open else None


class _Router:
    """`sys.stdout` while remote-shell sessions exist (see the module docstring)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped

    def write(self, text):
        sink = _caller_sink()
        return (sink or self.wrapped).write(text)

    def flush(self):
        sink = _caller_sink()
        if sink is None:
            self.wrapped.flush()

    def stream_for_caller(self):
        """Where the caller's prints go: its session's sink, or None (this stream)."""
        return _caller_sink()

    def __getattr__(self, name):  # encoding, isatty, fileno, ...: the real stream's
        return getattr(self.wrapped, name)
