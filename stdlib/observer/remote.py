"""The remote shell: `beamlet shell --remsh NODE`, as `erl -remsh` does.

What this module owns:

- `allow()`: start the remote-shell server of a distributed node (the
  `beamlet_remsh` process; `beamlet run --allow-remsh` starts it). Off by
  default: whoever reaches it runs any Python code in the node, so a node
  offers it only when asked to, and only to peers that hold its cookie.
- the server: each expression a client sends is evaluated in a fresh
  process of the target node, in a namespace kept per client (the shell's
  helpers, `vm`, `nodes()`, the behaviours), so the views (`i()`, `procs()`,
  `regs()`, `tree()`, `system()`, `trace(...)`) show the target node. The
  value comes back as text: a view as its table, anything else as its repr.
  What the expression prints goes to the target node's own output.
- `run_remsh(node, ...)`: the client, a hidden node of its own that
  connects to NODE, reads expressions (a block ends with an empty line, as
  in Python's REPL) and prints what comes back.

What it refuses: the live `top` (a one-shot `procs()` is given instead) and
file running; those stay with the local shell.
"""

from __future__ import annotations

import os
import sys
import traceback
import uuid
from functools import partial

import vm
from vm import dist

from .. import gen_server
from .shell import base_namespace, compile_input, needs_more
from .views import Text, View

SERVER = "beamlet_remsh"
EVAL = "eval"


def allow():
    """Start this node's remote-shell server (in a process of a distributed node)."""
    holder = vm.whereis(SERVER)
    if holder is not None:
        return holder
    pid = vm.spawn(_serve)
    vm.register(SERVER, pid)
    return pid


def _namespace() -> dict:
    ns = base_namespace()
    ns["top"] = lambda n=20, sort="reductions_delta", **_kw: ns["procs"](n, sort)
    ns["help"] = lambda: Text("remote shell on " + str(vm.node()) + ": i(), procs(), regs(), "
                              "tree(), system(), trace(...), accounting(), msacc(), policy(), "
                              "nodes(), vm, gen_server, ...")
    return ns


def _serve():
    sessions = {}  # session id -> namespace
    owners = {}  # the client's node -> its session ids (dropped when it disconnects)
    running = {}  # monitor ref of an evaluation -> the caller's from
    while True:
        msg = vm.receive()
        if type(msg) is not tuple or not msg:
            continue
        if msg[0] == "$gen_call" and len(msg) == 3:
            from_, request = msg[1], msg[2]
            if type(request) is tuple and len(request) == 4 and request[0] == EVAL:
                _, source, count, session = request
                if session not in sessions:
                    sessions[session] = _namespace()
                    client = str(from_[0].node)
                    if client not in owners:
                        owners[client] = []
                        vm.monitor_node(client)
                    owners[client].append(session)
                ns = sessions[session]
                # bound now (the loop rebinds these names for the next message before
                # the new process runs), and not as spawn arguments, which are copied:
                # the namespace is shared with the session's later evaluations
                _pid, ref = vm.spawn_monitor(partial(_evaluate, from_, ns, source, count))
                running[ref] = from_
        elif msg[0] == "DOWN" and len(msg) == 5:
            from_ = running.pop(msg[1], None)
            if from_ is not None and msg[4] != "normal":  # died before it could answer
                gen_server.reply(from_, ("exit", repr(msg[4])))
        elif msg[0] == "nodedown" and len(msg) == 2:  # a client gone: its namespaces too
            for session in owners.pop(str(msg[1]), ()):
                sessions.pop(session, None)


def _evaluate(from_, ns, source, count):
    filename = f"<remsh#{count}>"
    try:
        body, expr = compile_input(source, filename)
    except SyntaxError as e:
        gen_server.reply(from_, ("syntax", "".join(
            traceback.format_exception_only(type(e), e)).rstrip()))
        return
    try:
        if body is not None:
            exec(body, ns)
        value = eval(expr, ns) if expr is not None else None
    except vm.Exit as e:
        gen_server.reply(from_, ("exit", repr(e.reason)))
        return
    except Exception as e:  # noqa: BLE001 - the client sees it, as the local shell shows it
        tb = e.__traceback__
        while tb is not None and tb.tb_frame.f_code.co_filename == __file__:
            tb = tb.tb_next  # the user's frames only
        gen_server.reply(from_, ("error", "".join(
            traceback.format_exception(type(e), e, tb)).rstrip()))
        return
    if value is not None:
        ns["_"] = value
    try:
        text = None if value is None else (str(value) if isinstance(value, (View, Text))
                                           else repr(value))
    except Exception as e:  # noqa: BLE001 - a broken __repr__
        text = f"<unprintable {type(value).__name__}: {e!r}>"
    gen_server.reply(from_, ("ok", text))


# ----------------------------------------------------------------------
# the client


def run_remsh(target: str, *, commands=(), cookie=None, sname=None, stdin=None,
              out=None) -> int:
    """What `beamlet shell --remsh NODE` runs; returns the exit status."""
    out = out or sys.stdout
    stdin = stdin or sys.stdin
    node = vm.Node(sname=sname or f"remsh{os.getpid()}", cookie=cookie).start()
    try:
        if not node.call(lambda: dist.connect(target), timeout=30):
            print(f"beamlet: cannot reach {target} (is it running, with the same cookie?)",
                  file=out, flush=True)
            return 1
        count = [0]
        session = uuid.uuid4().hex  # the target keeps this session's bindings under it

        def evaluate(source):
            count[0] += 1

            def ask():
                return gen_server.call((SERVER, target), (EVAL, source, count[0], session),
                                       None)

            try:
                return node.call(ask)
            except vm.ProcessExit as e:
                reason = e.reason[0] if type(e.reason) is tuple else e.reason
                if reason == "noproc":
                    return ("refused", f"{target} does not offer a remote shell; start it with "
                            "`beamlet run --allow-remsh` (or stdlib.observer.remote.allow())")
                return ("exit", repr(reason))

        if commands:
            ok = True
            for c in commands:
                ok = _show(evaluate(c), out) and ok
            return 0 if ok else 1
        print(f"remote shell on {target}; Ctrl-D leaves (the node keeps running)", file=out,
              flush=True)
        while True:
            source = _read(stdin, out, target)
            if source is None:
                return 0
            if source.strip():
                _show(evaluate(source), out)
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


def _show(result, out) -> bool:
    kind, text = result
    if kind == "ok":
        if text is not None:
            print(text, file=out, flush=True)
        return True
    if kind in ("error", "syntax"):
        print(text, file=out, flush=True)
    elif kind == "refused":
        print(f"** {text}", file=out, flush=True)
    else:
        print(f"** exception exit: {text}", file=out, flush=True)
    return False
