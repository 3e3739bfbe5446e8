"""`beamlet shell`: a shell whose evaluations run in a process.

What this module owns: the `Shell` session (its bindings, its numbered
inputs and results) and the shell process that evaluates.

How it is built (Erlang's shell has the same two halves):

1. The node runs on a background thread (`vm.Node().start()`). The REPL
   (repl.py) runs on the calling thread: it reads a line, and `evaluate`
   compiles it with reduction checks (`vm.lowlevel.compile_checked`, loops
   at the prompt included, so a `while True: pass` typed there, or a
   function defined there and spawned, is preempted like code from a file)
   and hands the code to the shell process.
2. The shell process (labelled "shell" in the process table) evaluates the
   code: `vm.self()` is its pid, `vm.receive()` and `flush()` work on its
   mailbox, what it spawns and links to are its own. Between evaluations it
   waits in `vm.lowlevel.park()`, outside `receive`, so messages sent to it
   wait in its mailbox until an evaluation takes them, and tracing the
   shell shows no shell plumbing: the REPL hands over work with `Node.post`
   and `lowlevel.wake`, never with a message.
3. An evaluation that raises makes the shell process exit with that
   reason, so its links fire, exactly as in Erlang. The REPL prints the
   traceback and `** exception error: ...` (or `** exception exit: ...`),
   and the next evaluation runs in a fresh process: the pid changes. A shell
   process killed between evaluations (a linked process crashed, someone
   sent it `kill`) is reported at once, and replaced the same way.
4. Ctrl-C (`interrupt`) kills the running evaluation (reason `killed`);
   the bindings stay. When the node cannot serve that kill because the
   evaluation is inside a call without reduction checks (`time.sleep(30)`,
   a C extension), `lowlevel.interrupt` raises in it as soon as the call
   returns. Two Ctrl-C in a row open the break menu (repl.py).
5. Bindings persist. The namespace is one dict owned by the session, not by
   a process: each shell process evaluates in it, and when one dies the
   next one picks it up, as Erlang's shell keeps its bindings outside the
   evaluator. (Python statements run in order, so assignments made before
   an exception stay; Erlang drops the bindings of a failed expression.)
   Each input is numbered; `v(N)` is the value prompt N gave, `h()` the
   history (session.py).
6. `beamlet shell FILE` runs FILE as a program in the same node, in a
   process of its own, by the rule `beamlet run` follows (stdlib/runner.py);
   its pid is `main_pid`, the module is bound to the file's name, and the
   shell tells you when it exits.
7. `-c EXPR` (repeatable) evaluates expressions without a prompt and exits;
   with `--json` each value prints as one JSON document per line (views as
   their JSON, errors as `{"kind": "error", ...}`): a command mode for
   scripts and agents (observer_cli 2.0's idea).

Views that need the terminal (`top()`) return an action that the REPL runs
on its own thread, polling the node with snapshots; see top.py.

What it refuses: the terminal (repl.py), views and snapshots (views.py,
helpers.py), and the shell's own commands (session.py).
"""

from __future__ import annotations

import ast
import builtins
import codeop
import contextlib
import linecache
import os
import pydoc
import re
import sys
import time
import traceback
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

import vm
from vm import lowlevel
from vm.lowlevel import Instrument, compile_checked

from . import commands
from .crashlog import crash_site, reason_text
from .fmt import dumps, jsonable
from .source import on_node, use_node
from .views import Text, View

KILLED = vm.Atom("killed")
_THIS_FILE = os.path.abspath(__file__)
_OBSERVER_DIR = os.path.dirname(_THIS_FILE)
#: Seconds after a Ctrl-C during which the node must have served the kill
#: before the shell interrupts a call without reduction checks.
INTERRUPT_AFTER = 0.3
#: Modules the shell imports for you (bound under their short names).
MODULES = ("gen_server", "gen_statem", "supervisor", "dynamic_supervisor", "application",
           "task", "otp_sys", "proc_lib", "gen_event", "ets", "pg", "persistent_term",
           "registry")


class ShellInterrupt(BaseException):
    """Raised in the evaluation by Ctrl-C when the node could not kill it
    between two slices (it was inside a call without reduction checks)."""


class _Box:
    """The hand-over between the REPL thread and one shell process."""

    __slots__ = ("busy", "closing", "idle", "pid", "reported", "request")

    def __init__(self):
        self.request = None  # (code, future) waiting to be evaluated
        self.busy = None  # the future of the evaluation running now
        self.idle = False  # parked, waiting for a request
        self.pid = None
        self.reported = False  # its death was already reported
        self.closing = False  # the shell is quitting: no death notice


_sessions: dict = {}  # shell pid -> (Shell, _Box), until that process starts


def shell():
    """The body of a shell process (its initial call reads stdlib.observer.shell.shell/0)."""
    session, box = _sessions.pop(vm.self())
    session._evaluate_loop(box)


class ReplAction:
    """A value the REPL runs on its own thread (views that need the terminal)."""

    def __init__(self, name, fn, kwargs):
        self.name = name
        self.fn = fn
        self.kwargs = kwargs

    def __repr__(self):
        return f"<{self.name}(): interactive; type it at the shell prompt>"


class _Deaths(Instrument):
    """Tells the shell when its shell process or FILE's main process exits."""

    def __init__(self, shell):
        self.shell = shell

    def wants(self, event):
        return event == "exit"

    def exit(self, pid, reason):
        self.shell._on_exit(pid, reason)


# ----------------------------------------------------------------------
# compiling input


def needs_more(source: str) -> bool:
    """True when `source` is an unfinished statement (a block, an open bracket).

    As in Python's REPL, a block is finished by an empty line: `source` is
    the lines typed so far, each ending in a newline, and the last newline
    is not taken as that empty line.
    """
    source = source.removesuffix("\n")
    try:
        return codeop.compile_command(source, "<shell>", "single") is None
    except SyntaxError:
        try:
            ast.parse(source)
            return False
        except SyntaxError as e:
            return "unexpected EOF" in str(e) or "was never closed" in str(e)
    except (OverflowError, ValueError):
        return False


def compile_input(source: str, filename: str):
    """(statements code or None, final expression code or None), both with
    reduction checks; raises SyntaxError."""
    tree = ast.parse(source, filename, "exec")
    expr = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body.pop()
        expr = compile_checked(ast.Expression(last.value), filename, "eval")
    body = compile_checked(tree, filename, "exec") if tree.body else None
    return body, expr


# ----------------------------------------------------------------------
# the shell


def base_namespace() -> dict:
    """What every shell evaluates in (local or remote, see remote.py): `vm`,
    `nodes`, the commands that need no session, and the behaviour modules."""
    ns = {"__name__": "__shell__", "__builtins__": builtins, "vm": vm, "nodes": vm.nodes}
    for cmd in commands.commands():
        if cmd.fn is not None and not cmd.session:
            ns[cmd.name] = cmd.fn
    for mod in MODULES:
        with contextlib.suppress(ImportError):
            ns[mod] = __import__(f"stdlib.{mod}", fromlist=[mod])
    return ns


class Shell:
    """A shell session over a node. `Shell(node=None, json=False, out=None)`.

    `out` is where results go (default: whatever sys.stdout is when one is
    printed); `notices` is where what happens on its own goes (a death
    notice, main's exit): `out` too, except in JSON mode, where it is
    stderr so that `out` carries nothing but JSON.
    """

    def __init__(self, node=None, *, json=False, reductions=4000, out=None, notices=None,
                 namespace=None):
        self.node = node if node is not None else vm.Node(reductions=reductions).start()
        self.own_node = node is None
        use_node(self.node)
        self.json = json
        self._out = out
        self._notices = notices
        self.terminal = None  # the real terminal, for views that draw on it (repl.py sets it)
        self.box = None
        self.count = 1
        self.inputs: dict = {}  # prompt number -> source
        self.results: dict = {}  # prompt number -> value (evaluations that gave one)
        self.quitting = False
        self.interrupts = 0  # Ctrl-C presses while an expression ran
        self.closing = False
        self.crashes = 0
        self.main_pid = None
        self.ns = self._namespace(namespace)
        self.provided = frozenset(self.ns)  # a notebook's own names count as provided
        self._deaths = _Deaths(self)
        lowlevel.add_instrument(self._deaths, node=self.node)

    # -- the namespace ------------------------------------------------------

    def _namespace(self, into):
        """The shell's names; `into` (a notebook's namespace) gets them added to
        what it holds, so the cells and the shell process share one namespace."""
        if into is not None:
            for k, v in self._namespace(None).items():
                if k not in ("__name__", "__builtins__"):
                    into.setdefault(k, v)
            return into
        ns = base_namespace()
        for cmd in commands.commands():
            if cmd.fn is not None and cmd.session:  # bound to this session
                ns[cmd.name] = self._bind(cmd)
        ns["exit"] = self._exit
        ns["q"] = ns["quit"] = self.quit
        ns["top"] = self._top
        ns["help"] = self._help
        return ns

    def _bind(self, cmd):
        fn = cmd.fn

        def bound(*args, **kwargs):
            return fn(self, *args, **kwargs)

        bound.__name__ = bound.__qualname__ = cmd.name
        bound.__doc__ = fn.__doc__
        bound.__wrapped__ = fn
        return bound

    def quit(self):
        """q(): leave the shell; the node stops and every process is killed."""
        self.quitting = True

    def _exit(self, *args):
        if not args:
            return self.quit()
        return commands.lookup("exit").fn(*args)

    _exit.__doc__ = "exit(pid, reason) sends an exit signal; exit(reason) exits the caller; " \
                    "exit() leaves the shell"

    def _top(self, n=None, sort="reductions_delta", interval=1.0, *, allow_destructive=False,
             frames=None, panel=None):
        """top(): the live process table. Keys inside: h for help, q (or Ctrl-C) to quit.
        panel="a" opens on the agents view (any key of top.PANELS)."""
        from .top import run_top

        return ReplAction("top", run_top, dict(n=n, sort=sort, interval=interval,
                                                allow_destructive=allow_destructive,
                                                frames=frames, panel=panel))

    def _help(self, what=None):
        """help() lists the commands; help(name) explains one."""
        if what is None:
            return Text(commands.help_text())
        name = what if isinstance(what, str) else getattr(what, "__name__", None)
        if name in ("_top", "_help", "_exit"):
            name = name[1:]
        cmd = commands.lookup(name) if isinstance(name, str) else None
        if cmd is not None or name in ("q", "top", "help", "exit"):
            fn = self.ns.get(name)
            doc = pydoc.getdoc(fn) if fn is not None else ""
            usage = cmd.usage if cmd is not None else _SHELL_USAGE.get(name, "")
            return Text(f"{usage}\n\n{doc}".strip())
        return Text(pydoc.render_doc(what, renderer=pydoc.plaintext))

    # -- the shell process -----------------------------------------------------

    def _spawn_evaluator(self, node, request):
        box = _Box()
        box.request = request
        box.busy = request[1]
        box.pid = lowlevel.spawn_system(shell, node=node)
        _sessions[box.pid] = (self, box)  # picked up by shell() when it starts
        self.box = box

    def _evaluate_loop(self, box):
        vm.process_flag("label", "shell")
        try:
            while True:
                while box.request is None:
                    box.idle = True
                    lowlevel.park()
                box.idle = False
                (body, expr), box.busy = box.request
                box.request = None
                self._evaluate_one(box, body, expr)
                box.busy = None
        except ShellInterrupt:
            raise vm.Exit(KILLED) from None

    def _evaluate_one(self, box, body, expr):
        busy = box.busy
        try:
            if body is not None:
                exec(body, self.ns)
            value = eval(expr, self.ns) if expr is not None else None
        except vm.Exit as e:
            box.reported = True
            busy.set_result(("exit", e.reason, None, box.pid))
            raise
        except ShellInterrupt:
            raise
        except vm.VMError as e:
            if not _refused_by_a_command(e):
                reason = vm.Crash.from_exception(e)
                box.reported = True
                busy.set_result(("error", reason, _user_traceback(e), box.pid))
                raise vm.Exit(reason) from None
            busy.set_result(("refused", str(e), None, box.pid))
            return
        except Exception as e:  # noqa: BLE001 - the evaluation crashed: so do we
            reason = vm.Crash.from_exception(e)
            box.reported = True
            busy.set_result(("error", reason, _user_traceback(e), box.pid))
            raise vm.Exit(reason) from None
        try:
            text = self._render(value)
        except Exception as e:  # noqa: BLE001 - a broken __repr__
            text = f"<unprintable {type(value).__name__}: {e!r}>"
        if value is not None and not isinstance(value, ReplAction):
            self.ns["_"] = value
        busy.set_result(("ok", value, text, box.pid))

    def _on_exit(self, pid, reason):
        """On the node's thread: a process died (see _Deaths)."""
        if pid == self.main_pid:
            self.main_pid = None
            if not self.closing:
                self._notice(f"** main {pid!r} exited: {reason_text(reason)}")
            return
        box = self.box
        if box is None or pid != box.pid:
            return
        busy = box.busy
        if busy is not None and not busy.done():  # killed during an evaluation
            box.reported = True
            busy.set_result(("exit", reason, None, pid))
        elif not box.reported and not box.closing:  # killed while waiting for input
            box.reported = True
            self.crashes += 1
            self._notice(f"** exception exit: {reason_text(reason)}\n"
                         f"   (the shell process {pid!r} got an exit signal; "
                         "the next expression runs in a fresh one)")

    def _render(self, value):
        if value is None or isinstance(value, ReplAction):
            return None
        if self.json:
            if isinstance(value, View):
                return value.json()
            return dumps(jsonable(value))
        if isinstance(value, (View, Text)):
            return str(value)
        return repr(value)

    @property
    def out(self):
        return self._out or sys.stdout

    @property
    def notices(self):
        return self._notices or self.out

    def _notice(self, text):
        with contextlib.suppress(OSError, ValueError):  # the terminal or pipe is gone
            print(text, file=self.notices, flush=True)

    # -- evaluating ---------------------------------------------------------------

    def evaluate(self, source: str, on_break=None):
        """Evaluate `source` in the shell process; returns the outcome tuple
        ("ok", value, text, pid) | ("error", Crash, traceback, pid) |
        ("exit", reason, None, pid) | ("syntax", message, None, None) |
        ("refused", message, None, pid): a command refused its arguments, nothing
        was done, and the shell process lives on.

        Ctrl-C while it runs interrupts it; a second Ctrl-C soon after calls
        `on_break()` (the break menu) when given."""
        filename = f"<shell#{self.count}>"
        try:
            code = compile_input(source, filename)
        except (SyntaxError, ValueError) as e:
            return ("syntax", "".join(traceback.format_exception_only(type(e), e)).rstrip(),
                    None, None)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        number = self.count
        self.inputs[number] = source
        self.count += 1
        fut: Future = Future()

        def hand_over(node):
            box = self.box
            if box is not None and box.idle and not box.reported:
                box.request = (code, fut)
                box.busy = fut
                if lowlevel.wake(box.pid, node=node):
                    return
            self._spawn_evaluator(node, (code, fut))

        def deliver():
            try:
                hand_over(self.node)
            except BaseException as e:  # noqa: BLE001 - handed to the waiting REPL
                if not fut.done():
                    fut.set_exception(e)

        # Posted, not waited for: a node stuck in a long slice takes the
        # request when it can, and Ctrl-C still works meanwhile.
        self.node.post(deliver)
        outcome = self._wait(fut, on_break)
        if outcome[0] == "ok" and outcome[1] is not None and not isinstance(outcome[1],
                                                                            ReplAction):
            self.results[number] = outcome[1]
        return outcome

    def _wait(self, fut, on_break):
        interrupted_at = None
        forced = False
        while True:
            try:
                return fut.result(timeout=0.1)
            except FutureTimeout:
                if interrupted_at is not None and not forced and \
                        time.monotonic() - interrupted_at > INTERRUPT_AFTER:
                    forced = self._force_interrupt()
            except KeyboardInterrupt:
                self.interrupts += 1
                now = time.monotonic()
                if interrupted_at is not None and now - interrupted_at < BREAK_WINDOW \
                        and on_break is not None:
                    interrupted_at = None
                    on_break()
                    continue
                interrupted_at = now
                self.interrupt()

    def interrupt(self):
        """Kill the running evaluation (reason `killed`); the bindings stay."""
        box = self.box
        if box is None:
            return
        with contextlib.suppress(vm.VMError):
            self.node.post(lambda: lowlevel.kill(box.pid, KILLED, node=self.node))

    def _force_interrupt(self) -> bool:
        box = self.box
        if box is None or box.busy is None or box.busy.done():
            return False
        if lowlevel.interrupt(box.pid, ShellInterrupt, node=self.node):
            self._notice("** the expression is inside a call without reduction checks; "
                         "it stops when that call returns")
            return True
        return False

    def current_pid(self):
        box = self.box
        return box.pid if box is not None else None

    def run_source(self, source: str, out=None, on_break=None) -> bool:
        """Evaluate and print the outcome; False if the evaluation failed."""
        out = out or self.out
        kind, a, b, pid = self.evaluate(source, on_break)
        if kind == "ok":
            value, text = a, b
            if isinstance(value, ReplAction):
                return self._run_action(value, out)
            if text is not None:
                print(text, file=out, flush=True)
            elif self.json:
                print("null", file=out, flush=True)
            return True
        self._print_outcome(kind, a, b, pid, out)
        return False

    def _print_outcome(self, kind, a, b, pid, out):
        """Print a failed evaluation as the shell shows it (or as JSON)."""
        if kind not in ("syntax", "refused"):
            self.crashes += 1
        if self.json:
            self._print_json_failure(kind, a, b, pid, out)
        elif kind == "refused":
            print(f"** refused: {a}\n   (nothing was done; the shell process goes on)",
                  file=out, flush=True)
        elif kind == "syntax":
            print(a, file=out, flush=True)
        else:
            if kind == "error":
                if b:
                    print(b.rstrip(), file=out)
                print(f"** exception error: {a.exc_type}: {a.message}", file=out)
            else:
                print(f"** exception exit: {reason_text(a)}", file=out)
            print(f"   (the shell process {pid!r} exited; the next expression runs in a fresh "
                  "one)", file=out, flush=True)

    def _print_json_failure(self, kind, a, b, pid, out):
        if kind == "syntax":
            doc = {"kind": "syntax_error", "message": a}
        elif kind == "refused":
            doc = {"kind": "refused", "message": a}
        elif kind == "error":
            doc = {"kind": "error", "exception": a.exc_type, "message": a.message,
                   "at": crash_site(a), "pid": repr(pid)}
            if b:
                print(b.rstrip(), file=self.notices, flush=True)
        else:
            doc = {"kind": "exit", "reason": jsonable(a), "pid": repr(pid)}
        print(dumps(doc), file=out, flush=True)

    def _run_action(self, action, out):
        try:
            if self.json and action.name == "top":  # a live view has no JSON: its table has
                kw = action.kwargs
                print(commands.lookup("procs").fn(kw.get("n") or 20, kw.get("sort"), json=True,
                                                  window=kw.get("interval"), node=self.node),
                      file=out, flush=True)
                return True
            action.fn(self.node, out=self.terminal or out, **action.kwargs)
        except vm.VMError as e:
            print(f"** {e}", file=out, flush=True)
            return False
        return True

    # -- FILE --------------------------------------------------------------------

    def start_file(self, path, args=()):
        """Run FILE as a program in a process of this node (the rule of
        stdlib/runner.py); returns (module name, pid)."""
        from stdlib.runner import Program

        stem = re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0]) or "app"
        program = Program(path, args, warn=self._notice)

        def body():
            result, shown = program.run()
            if shown and result is not None:
                self._notice(f"** main returned {result!r}")

        pid = on_node(lambda n: lowlevel.spawn_system(body, node=n), self.node)
        self.main_pid = pid
        self.ns[stem] = program.module
        self.ns["main_pid"] = pid
        return stem, pid

    # -- closing ------------------------------------------------------------------

    def close(self):
        self.closing = True
        if self.box is not None:
            self.box.closing = True
        with contextlib.suppress(Exception):  # best effort on the way out
            from .tracing import stop as stop_trace

            stop_trace(self.node)
        with contextlib.suppress(Exception):  # the node may be gone already
            lowlevel.remove_instrument(self._deaths, node=self.node)
        if self.own_node:
            with contextlib.suppress(Exception):
                self.node.stop(timeout=5)


#: Seconds within which a second Ctrl-C opens the break menu.
BREAK_WINDOW = 1.5

_SHELL_USAGE = {
    "q": "q() leave the shell (the node stops)",
    "top": "top() a live, refreshing process table (keys: h for help, q or Ctrl-C to quit)",
    "help": "help() this list; help(name) more about one command",
    "exit": "exit(pid, reason) send an exit signal; exit(reason) exit the shell process",
}
# Listed in help() with the other commands; bound to the session's methods.
for _name in ("top", "q", "help"):
    commands.register(_name, None, _SHELL_USAGE[_name], section="The shell", session=True)


def _refused_by_a_command(e) -> bool:
    """Was `e` raised by a shell command refusing its arguments (a trace without
    a limit, a name nobody registered)? Then nothing was done, and the shell
    process need not die for it: dbg returns an error there, it does not crash
    the shell. The innermost frame tells: it is in the observer's own code."""
    tb = e.__traceback__
    last = None
    while tb is not None:
        last = tb
        tb = tb.tb_next
    if last is None:
        return False
    path = os.path.abspath(last.tb_frame.f_code.co_filename)
    return os.path.dirname(path) == _OBSERVER_DIR and path != _THIS_FILE


def _user_traceback(e) -> str:
    """The exception's traceback without the shell's own frames, and without the
    observer's frames under a helper that refused its arguments (the message
    says what to do; the helper's insides do not)."""
    tb = e.__traceback__
    while tb is not None and os.path.abspath(tb.tb_frame.f_code.co_filename) == _THIS_FILE:
        tb = tb.tb_next
    frames = []
    t = tb
    while t is not None:
        frames.append(t)
        t = t.tb_next
    keep = len(frames)
    while keep > 1 and os.path.dirname(os.path.abspath(
            frames[keep - 1].tb_frame.f_code.co_filename)) == _OBSERVER_DIR:
        keep -= 1
    if 0 < keep < len(frames):
        summary = traceback.StackSummary.extract(
            (f.tb_frame, f.tb_lineno) for f in frames[:keep])
        return ("Traceback (most recent call last):\n" + "".join(summary.format())
                + "".join(traceback.format_exception_only(type(e), e)))
    return "".join(traceback.format_exception(type(e), e, tb))


def run_shell(file=None, *, commands=(), json=False, reductions=4000, wait=0.0,
              stdin=None, out=None) -> int:
    """What `beamlet shell` runs; returns the exit status."""
    from .repl import run

    return run(file, commands=commands, json=json, reductions=reductions, wait=wait,
               stdin=stdin, out=out)


__all__ = ["ReplAction", "Shell", "ShellInterrupt", "base_namespace", "compile_input",
           "needs_more", "run_shell"]
