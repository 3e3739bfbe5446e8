"""The remote shell: `beamlet shell --remsh NODE`, as `erl -remsh` does.

What this module owns:

- `allow()`: start the remote-shell server of a distributed node (the
  `beamlet_remsh` process; `beamlet run --allow-remsh` starts it). Off by
  default: whoever reaches it runs any Python code in the node, so a node
  offers it only when asked to, and only to peers that hold its cookie.
- the server: each expression a client sends is evaluated in a fresh
  process of the target node, in a namespace kept per session (the shell's
  helpers, `vm`, `nodes()`, `nregs()`, the behaviours), so the views
  (`i()`, `procs()`, `regs()`, `tree()`, `system()`, `trace(...)`) show the
  target node. The value comes back as text: a view as its table, anything
  else as its repr. What the session prints, and the lines of a trace it
  started, go to the client's terminal (remote_io.py), as a group leader
  carries them in Erlang; `top()` runs in the client, reading the target
  (remote_top.py). When the client's node goes away, its sessions end:
  their output stops and the trace they started is stopped. The server
  and the output forwarders never appear in a trace.
- `RemoteShell`: the client's end of one session, and `run_remsh(node,
  ...)`, what the command runs: a hidden node of its own that connects to
  NODE, reads expressions (a block ends with an empty line, as in Python's
  REPL) and prints what comes back.

The protocol (gen_server calls to `beamlet_remsh`,
between beamlet nodes):

    (EVAL, source, count, session, receiver)  -> ("ok", text or None) |
        ("error" | "syntax", text) | ("exit", reason text) | ("top", options)
        what the evaluation prints reaches `receiver` first, as ("$remsh_io", text)
        (without `receiver`, a 4-tuple, it stays on the target's output)
    (TOP, session, read)                      -> ("ok", plain data) | ("error", text)

What it refuses: file running (`beamlet shell FILE` is the local shell's).
"""

from __future__ import annotations

import os
import socket
import sys
import traceback
import uuid
from functools import partial

import vm
from vm import dist, lowlevel

from .. import gen_server
from . import remote_io, remote_top, tracing
from .shell import base_namespace, compile_input, needs_more
from .source import on_node
from .views import Text, View

SERVER = "beamlet_remsh"
EVAL = "eval"
TOP = "top"
SYNC = "$remsh_sync"
SYNCED = "$remsh_synced"


def allow():
    """Start this node's remote-shell server (in a process of a distributed node)."""
    holder = vm.whereis(SERVER)
    if holder is not None:
        return holder
    pid = vm.spawn(_serve)
    vm.register(SERVER, pid)
    return pid


class _TopAsked:
    """What `top(...)` gives in a remote shell: the client runs the view."""

    def __init__(self, options):
        self.options = options


def _top(n=None, sort="reductions_delta", interval=1.0, *, allow_destructive=False,
         frames=None, panel=None):
    """top(): the live process table of this node, drawn in your terminal."""
    return _TopAsked(dict(n=n, sort=sort, interval=interval,
                          allow_destructive=allow_destructive, frames=frames, panel=panel))


def _namespace() -> dict:
    ns = base_namespace()
    ns["top"] = _top
    ns["help"] = lambda: Text("remote shell on " + str(vm.node()) + ": i(), procs(), regs(), "
                              "nregs(), tree(), system(), top(), trace(...), accounting(), "
                              "msacc(), policy(), nodes(), vm, gen_server, ...")
    return ns


class _Session:
    __slots__ = ("ns", "sink", "top")

    def __init__(self, receiver):
        self.ns = _namespace()
        self.sink = remote_io.Sink(receiver) if receiver is not None else None
        self.top = remote_top.new_memory()

    def answer(self, from_, result):
        """Reply to the client after what the session printed before."""
        if self.sink is not None:
            self.sink.reply(from_, result)
        else:
            gen_server.reply(from_, result)


def _serve():
    tracing.untraced(vm.self())  # the server's own messages are no one's trace
    sessions: dict = {}  # session id -> _Session
    owners: dict = {}  # the client's node -> its session ids (dropped when it disconnects)
    running: dict = {}  # monitor ref of an evaluation -> (the caller's from, its session)

    def session_for(session, from_, receiver=None):
        if session not in sessions:
            sessions[session] = _Session(receiver)
            client = str(from_[0].node)
            if client not in owners:
                owners[client] = []
                vm.monitor_node(client)
            owners[client].append(session)
        s = sessions[session]
        if s.sink is None and receiver is not None:  # a session that began with a top read
            s.sink = remote_io.Sink(receiver)
        return s

    try:
        while True:
            msg = vm.receive()
            if type(msg) is not tuple or not msg:
                continue
            if msg[0] == "$gen_call" and len(msg) == 3:
                from_, request = msg[1], msg[2]
                if type(request) is tuple and len(request) in (4, 5) and request[0] == EVAL:
                    source, count, session = request[1:4]
                    receiver = request[4] if len(request) == 5 else None
                    s = session_for(session, from_, receiver)
                    # bound now (the loop rebinds these names for the next message before
                    # the new process runs), and not as spawn arguments, which are copied:
                    # the namespace is shared with the session's later evaluations
                    _pid, ref = vm.spawn_monitor(partial(_evaluate, s, from_, source, count))
                    running[ref] = (from_, s)
                elif type(request) is tuple and len(request) == 3 and request[0] == TOP:
                    s = session_for(request[1], from_)
                    vm.spawn(partial(_read_for_top, s.top, from_, request[2]))
            elif msg[0] == "DOWN" and len(msg) == 5:
                from_, s = running.pop(msg[1], (None, None))
                if from_ is not None and msg[4] != "normal":  # died before it could answer
                    s.answer(from_, ("exit", repr(msg[4])))
            elif msg[0] == "nodedown" and len(msg) == 2:  # a client gone: its sessions too
                for session in owners.pop(str(msg[1]), ()):
                    s = sessions.pop(session, None)
                    if s is not None and s.sink is not None:
                        s.sink.close()
    finally:  # the server is gone (killed, its node stopping): so is every session's output
        for s in sessions.values():
            if s.sink is not None:
                s.sink.close()


def _evaluate(session, from_, source, count):
    if session.sink is not None:
        remote_io.route(vm.self(), session.sink)  # its prints, and its children's
    ns = session.ns
    filename = f"<remsh#{count}>"
    try:
        body, expr = compile_input(source, filename)
    except SyntaxError as e:
        session.answer(from_, ("syntax", "".join(
            traceback.format_exception_only(type(e), e)).rstrip()))
        return
    try:
        if body is not None:
            exec(body, ns)
        value = eval(expr, ns) if expr is not None else None
    except vm.Exit as e:
        session.answer(from_, ("exit", repr(e.reason)))
        return
    except Exception as e:  # noqa: BLE001 - the client sees it, as the local shell shows it
        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next  # the user's frames only
        session.answer(from_, ("error", "".join(
            traceback.format_exception(type(e), e, tb)).rstrip()))
        return
    if isinstance(value, _TopAsked):
        session.answer(from_, ("top", remote_top.plain(value.options)))
        return
    if value is not None:
        ns["_"] = value
    try:
        text = None if value is None else (str(value) if isinstance(value, (View, Text))
                                           else repr(value))
    except Exception as e:  # noqa: BLE001 - a broken __repr__
        text = f"<unprintable {type(value).__name__}: {e!r}>"
    session.answer(from_, ("ok", text))


def _read_for_top(memory, from_, read):
    try:
        result = ("ok", remote_top.answer(memory, read))
    except Exception as e:  # noqa: BLE001 - the view shows it; the server goes on
        result = ("error", f"{type(e).__name__}: {e}")
    gen_server.reply(from_, result)


# ----------------------------------------------------------------------
# the client


class RemoteShell:
    """One remote-shell session from `node` (a started, distributed vm.Node) to
    `target`. What the session prints is written to `out` (default: whatever
    sys.stdout is then) by a receiver process of `node`."""

    def __init__(self, node, target, *, out=None):
        self.node = node
        self.target = target
        self._out = out
        self.count = 0
        self.session = uuid.uuid4().hex  # the target keeps this session's bindings under it
        self.receiver = on_node(lambda nd: lowlevel.spawn_system(self._receive, node=nd), node)

    @property
    def out(self):
        return self._out or sys.stdout

    def _receive(self):
        vm.process_flag("label", "remsh output")
        while True:
            msg = vm.receive()
            if type(msg) is not tuple or not msg:
                continue
            if msg[0] == remote_io.IO and len(msg) == 2 and isinstance(msg[1], str):
                out = self.out
                out.write(msg[1])
                out.flush()
            elif msg[0] == SYNC and len(msg) == 3:
                vm.send(msg[1], (SYNCED, msg[2]))

    def connect(self) -> bool:
        return self.node.call(lambda: dist.connect(self.target), timeout=30)

    def evaluate(self, source):
        """The outcome of evaluating `source` on the target (see the protocol)."""
        self.count += 1
        request = (EVAL, source, self.count, self.session, self.receiver)

        def ask():
            result = gen_server.call((SERVER, self.target), request, None)
            # what was printed arrived before the answer; let the receiver write it first
            ref = vm.make_ref()
            vm.send(self.receiver, (SYNC, vm.self(), ref))
            vm.receive((SYNCED, ref))
            return result

        return self._ask(ask)

    def _ask(self, fn):
        try:
            return self.node.call(fn)
        except vm.ProcessExit as e:
            reason = e.reason[0] if type(e.reason) is tuple else e.reason
            if reason == "noproc":
                return ("refused", f"{self.target} does not offer a remote shell; start it with "
                        "`beamlet run --allow-remsh` (or stdlib.observer.remote.allow())")
            return ("exit", repr(reason))

    def read(self, read):
        """Run one of top's reads on the target (remote_top.RemoteSource's `ask`)."""
        request = (TOP, self.session, read)
        kind, value = self._ask(lambda: gen_server.call((SERVER, self.target), request, 30.0))
        if kind != "ok":
            raise vm.VMError(f"top on {self.target}: {value}")
        return value

    def show(self, result, out=None) -> bool:
        """Print an outcome as the shell shows it (running top for a top());
        False if the evaluation failed."""
        out = out or self.out
        kind, text = result
        if kind == "ok":
            if text is not None:
                print(text, file=out, flush=True)
            return True
        if kind == "top":
            return self._top(text, out)
        if kind in ("error", "syntax"):
            print(text, file=out, flush=True)
        elif kind == "refused":
            print(f"** {text}", file=out, flush=True)
        else:
            print(f"** exception exit: {text}", file=out, flush=True)
        return False

    def _top(self, options, out) -> bool:
        from .top import run_top

        try:
            run_top(None, out=out, source=remote_top.RemoteSource(self.read, self.target),
                    **options)
        except vm.VMError as e:
            print(f"** {e}", file=out, flush=True)
            return False
        return True

    def close(self):
        on_node(lambda nd: lowlevel.kill(self.receiver, "shutdown", node=nd), self.node)


def run_remsh(target: str, *, commands=(), cookie=None, sname=None, stdin=None,
              out=None) -> int:
    """What `beamlet shell --remsh NODE` runs; returns the exit status."""
    from vm.terms import node_index

    if "@" not in target:  # as erl -remsh: a name alone is on this host
        target = f"{target}@{socket.gethostname().split('.')[0]}"
    stdin = stdin or sys.stdin
    node = vm.Node(sname=sname or f"remsh{os.getpid()}", cookie=cookie).start()
    # The shell stands on the target, as erl -remsh's does: its pids print as the
    # target prints them (<0.N.0>), in the views top draws here too.
    node_index(target, local=True)
    try:
        shell = RemoteShell(node, target, out=out)
        if not shell.connect():
            print(f"beamlet: cannot reach {target} (is it running, with the same cookie?)",
                  file=shell.out, flush=True)
            return 1
        if commands:
            ok = True
            for c in commands:
                ok = shell.show(shell.evaluate(c)) and ok
            return 0 if ok else 1
        print(f"remote shell on {target}; Ctrl-D leaves (the node keeps running)",
              file=shell.out, flush=True)
        while True:
            source = _read(stdin, shell.out, target)
            if source is None:
                return 0
            if source.strip():
                shell.show(shell.evaluate(source))
    finally:
        node.stop()


def _read(stdin, out, target):
    lines = []
    while True:
        prompt = f"({target})> " if not lines else "... "
        if stdin is sys.stdin and stdin.isatty():
            try:
                line = input(prompt) + "\n"
            except EOFError:
                return None
        else:
            line = stdin.readline()
            if not line:
                return "".join(lines) or None
        lines.append(line)
        source = "".join(lines)
        if not needs_more(source):
            return source
