"""`beamlet shell`: an interactive shell whose evaluations run in a process.

What this module owns: the REPL, and the shell process that evaluates.

How it is built (Erlang's shell has the same two halves):

1. The node runs on a background thread (`vm.Node().start()`). The REPL
   runs on the calling thread: it reads a line (prompt_toolkit: editing,
   history in ~/.beamlet_history, completion of names and attributes; a
   plain line reader when stdin is not a terminal), compiles it, and hands
   the code to the shell process.
2. The shell process (labelled "shell" in the process table) evaluates the
   code: `vm.self()` is its pid, `vm.receive()` and `flush()` work on its
   mailbox, what it spawns and links to are its own. Between evaluations it
   is parked outside `receive`, so messages sent to it wait in its mailbox
   until an evaluation takes them, and tracing the shell shows no shell
   plumbing: the REPL hands over work with `Node.post`, never with a
   message.
3. An evaluation that raises makes the shell process exit with that
   reason, so its links fire, exactly as in Erlang. The REPL prints the
   traceback and `** exception error: ...` (or `** exception exit: ...`),
   and the next evaluation runs in a fresh process: the pid changes. A shell
   process killed between evaluations (a linked process crashed, someone
   sent it `kill`) is reported at once, and replaced the same way. Ctrl-C
   during an evaluation kills the shell process (`killed`).
4. Variables persist. The namespace is one dict owned by the shell
   session, not by a process: each shell process evaluates in it, and when
   one dies the next one picks it up, as Erlang's shell keeps its bindings
   outside the evaluator. (Python statements run in order, so assignments
   made before an exception stay; Erlang drops the bindings of a failed
   expression.) Only the evaluator touches the dict while it runs; the REPL
   thread only reads names from it, for completion.
5. `beamlet shell FILE` loads FILE, starts its `main` as a process in the
   same node (its pid is `main_pid`, the module is bound to its file name),
   and tells you when it exits, so you can watch and poke at a live system.
6. `-c EXPR` (repeatable) evaluates expressions without a prompt and exits;
   with `--json` every view prints as JSON and every other value as JSON
   data: a command mode for scripts and agents (observer_cli 2.0's idea).

Views that need the terminal (`top()`) return an action that the REPL runs
on its own thread, polling the node with snapshots; see top.py.

What it refuses: views and snapshots (views.py, helpers.py).
"""

from __future__ import annotations

import ast
import builtins
import codeop
import linecache
import logging
import os
import pydoc
import re
import sys
import threading
import traceback
from concurrent.futures import Future

import vm
from vm.lowlevel import WAITING, Instrument, current_process

from . import helpers
from .fmt import dumps, jsonable
from .source import on_node, use_node
from .views import Text, View

KILLED = vm.Atom("killed")
_THIS_FILE = os.path.abspath(__file__)
HISTORY_FILE = os.path.join(os.path.expanduser("~"), ".beamlet_history")
BANNER = ("beamlet shell: every expression runs in a shell process; "
          "help() lists the helpers, q() leaves.")


class _Box:
    """The hand-over between the REPL thread and one shell process."""

    __slots__ = ("closing", "idle", "pid", "reported", "request")

    def __init__(self):
        self.request = None  # (code, future) waiting to be evaluated
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


class _MainWatcher(Instrument):
    """Tells the shell when FILE's main process exits (an exit-only instrument)."""

    def __init__(self, shell, pid):
        self.shell = shell
        self.pid = pid

    def wants(self, event):
        return event == "exit"

    def exit(self, pid, reason):
        if pid == self.pid:
            self.shell.node.ins.remove(self)
            if not self.shell.closing:
                self.shell._notice(f"** main {pid!r} exited: {_reason(reason)}")


class ShortReports(logging.Handler):
    """One line per error report, so a crash storm stays readable in the shell."""

    def emit(self, record):
        try:
            line = short_report(record)
            if line:
                stream = sys.stderr
                stream.write(line + "\n")
                stream.flush()
        except Exception:  # noqa: BLE001 - logging must never break the node
            pass


def short_report(record) -> str | None:
    r = getattr(record, "report", None)
    if isinstance(r, dict):
        label = r.get("label")
        if label == "crash_report":
            info = r.get("error_info")
            reason = info[1] if isinstance(info, tuple) and len(info) == 3 else info
            return f"=CRASH REPORT== {r.get('pid')!r} {_reason(reason)}"
        if label == "supervisor_report":
            off = r.get("offender") or {}
            child = off.get("id") if isinstance(off, dict) else off
            return (f"=SUPERVISOR REPORT== {r.get('supervisor')!r} {r.get('errorContext')}: "
                    f"child {child!r}, reason {_reason(r.get('reason'))}")
        if label in ("gen_server_terminate", "gen_statem_terminate"):
            return f"=ERROR REPORT== {r.get('name')!r} terminating: {_reason(r.get('reason'))}"
        if label == "progress":
            return None
        if label == "crash":
            return (f"=ERROR REPORT== Error in process {r.get('pid')!r} with exit value: "
                    f"{_reason(r.get('reason'))}")
        return f"={str(label).upper()}== " + _cut(repr({k: v for k, v in r.items()
                                                           if k != "label"}))
    msg = record.getMessage().splitlines()
    return f"={record.levelname} REPORT== {msg[0] if msg else ''}"


def _reason(reason):
    """An exit reason as the shell prints it: atoms bare, as Erlang prints them."""
    if isinstance(reason, vm.Crash):
        return f"{reason.exc_type}: {reason.message}"
    if isinstance(reason, str):
        return _cut(str(reason))
    return _cut(repr(reason))


def _cut(text, n=160):
    return text if len(text) <= n else text[: n - 3] + "..."


def install_short_reports():
    """Route beamlet's reports through ShortReports unless logging is configured."""
    root = logging.getLogger()
    bl = logging.getLogger("beamlet")
    if root.handlers or bl.handlers:
        return None
    h = ShortReports(logging.WARNING)
    bl.addHandler(h)
    bl.propagate = False
    return h


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
    """(statements code or None, final expression code or None); raises SyntaxError."""
    tree = ast.parse(source, filename, "exec")
    expr = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = tree.body.pop()
        expr = compile(ast.Expression(last.value), filename, "eval")
    body = compile(tree, filename, "exec") if tree.body else None
    return body, expr


# ----------------------------------------------------------------------
# the shell


class Shell:
    """A shell session over a node. `Shell(node=None, json=False)`."""

    def __init__(self, node=None, *, json=False, reductions=4000, out=None):
        self.node = node if node is not None else vm.Node(reductions=reductions).start()
        self.own_node = node is None
        use_node(self.node)
        self.json = json
        self._out = out  # None: whatever sys.stdout is when printing (prompt_toolkit patches it)
        self.box = None
        self.count = 1
        self.quitting = False
        self.closing = False
        self.crashes = 0
        self.ns = self._namespace()

    # -- the namespace ------------------------------------------------------

    def _namespace(self):
        ns = {"__name__": "__shell__", "__builtins__": builtins, "vm": vm}
        for name in ("i", "procs", "regs", "tables", "flush", "bt", "pid", "kill", "system", "tree",
                     "trace", "trace_stop", "seq", "get_state", "suspend", "resume",
                     "replace_state"):
            ns[name] = getattr(helpers, name)
        ns["exit"] = self._exit
        ns["q"] = self.quit
        ns["quit"] = self.quit
        ns["top"] = self._top
        ns["help"] = self._help
        for mod in ("gen_server", "gen_statem", "supervisor", "dynamic_supervisor",
                    "application", "task", "otp_sys", "proc_lib", "ets", "pg",
                    "persistent_term", "registry"):
            try:
                ns[mod] = __import__(f"stdlib.{mod}", fromlist=[mod])
            except ImportError:
                pass
        return ns

    def quit(self):
        """q(): leave the shell; the node stops and every process is killed."""
        self.quitting = True

    def _exit(self, *args):
        if not args:
            return self.quit()
        return helpers.exit(*args)

    _exit.__doc__ = helpers.exit.__doc__

    def _top(self, n=None, sort="reductions_delta", interval=1.0, *, allow_destructive=False,
             frames=None):
        """top(): the live process table. Keys inside: h for help, q to quit."""
        from .top import run_top

        return ReplAction("top", run_top, dict(n=n, sort=sort, interval=interval,
                                                allow_destructive=allow_destructive,
                                                frames=frames))

    def _help(self, what=None):
        """help() lists the helpers; help(name) explains one."""
        if what is None:
            return Text(helpers.help_text())
        name = what if isinstance(what, str) else getattr(what, "__name__", None)
        if name in ("_top", "_help", "_exit"):
            name = name[1:]
        if isinstance(name, str) and name in helpers.SHORT_HELP:
            fn = self.ns.get(name)
            doc = pydoc.getdoc(fn) if fn is not None else ""
            return Text(f"{helpers.SHORT_HELP[name]}\n\n{doc}".rstrip())
        return Text(pydoc.render_doc(what, renderer=pydoc.plaintext))

    # -- the shell process -----------------------------------------------------

    def _spawn_evaluator(self, node):
        box = _Box()
        p, _ = node.spawn_process(None, shell)
        box.pid = p.pid
        _sessions[p.pid] = (self, box)  # picked up by shell() when it starts
        self.box = box
        return p

    def _evaluate_loop(self, box):
        me = current_process()
        node = me.node
        vm.process_flag("label", "shell")
        busy = None  # the future of the evaluation running now
        try:
            while True:
                while box.request is None:
                    box.idle = True
                    node.park(me, WAITING)
                box.idle = False
                (body, expr), busy = box.request
                box.request = None
                try:
                    if body is not None:
                        exec(body, self.ns)
                    value = eval(expr, self.ns) if expr is not None else None
                except vm.Exit as e:
                    box.reported = True
                    busy.set_result(("exit", e.reason, None, me.pid))
                    raise
                except Exception as e:  # noqa: BLE001 - the evaluation crashed: so do we
                    reason = vm.Crash.from_exception(e)
                    box.reported = True
                    busy.set_result(("error", reason, _user_traceback(e), me.pid))
                    raise vm.Exit(reason) from None
                try:
                    text = self._render(value)
                except Exception as e:  # noqa: BLE001 - a broken __repr__
                    text = f"<unprintable {type(value).__name__}: {e!r}>"
                if value is not None and not isinstance(value, ReplAction):
                    self.ns["_"] = value
                busy.set_result(("ok", value, text, me.pid))
                busy = None
        finally:
            if busy is not None and not busy.done():  # killed during an evaluation
                box.reported = True
                busy.set_result(("exit", me.exit_reason or KILLED, None, me.pid))
            elif not box.reported and not box.closing:  # killed while waiting for input
                box.reported = True
                self.crashes += 1
                self._notice(f"** exception exit: {_reason(me.exit_reason)}\n"
                             f"   (the shell process {me.pid!r} got an exit signal; "
                             "the next expression runs in a fresh one)")

    def _render(self, value):
        if value is None or isinstance(value, ReplAction):
            return None
        if self.json:
            if isinstance(value, View):
                return value.json()
            if isinstance(value, Text):
                return str(value)
            return dumps(jsonable(value))
        if isinstance(value, (View, Text)):
            return str(value)
        return repr(value)

    @property
    def out(self):
        return self._out or sys.stdout

    def _notice(self, text):
        try:
            print(text, file=self.out, flush=True)
        except (OSError, ValueError):  # the terminal or pipe is gone
            pass

    # -- evaluating ---------------------------------------------------------------

    def evaluate(self, source: str):
        """Evaluate `source` in the shell process; returns the outcome tuple
        ("ok", value, text, pid) | ("error", Crash, traceback, pid) |
        ("exit", reason, None, pid) | ("syntax", message, None, None)."""
        filename = f"<shell#{self.count}>"
        try:
            code = compile_input(source, filename)
        except SyntaxError as e:
            return ("syntax", "".join(traceback.format_exception_only(type(e), e)).rstrip(),
                    None, None)
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        self.count += 1
        fut: Future = Future()

        def hand_over(node):
            box = self.box
            p = node.lookup(box.pid) if box is not None and box.pid is not None else None
            if p is None or not box.idle:
                p = self._spawn_evaluator(node)
                box = self.box
                box.request = (code, fut)
                return
            box.request = (code, fut)
            box.idle = False
            node.make_runnable(p)

        def deliver():
            try:
                hand_over(self.node)
            except BaseException as e:  # noqa: BLE001 - handed to the waiting REPL
                if not fut.done():
                    fut.set_exception(e)

        # Posted, not waited for: a node stuck in a long slice takes the
        # request when it can, and Ctrl-C still works meanwhile.
        self.node.post(deliver)
        while True:
            try:
                return fut.result(timeout=0.2)
            except TimeoutError:
                continue
            except KeyboardInterrupt:
                self._interrupt()

    def _interrupt(self):
        box = self.box

        def kill(node):
            p = node.lookup(box.pid) if box is not None else None
            if p is not None:
                node.kill(p, KILLED)

        try:
            self.node.post(lambda: kill(self.node))
        except vm.VMError:
            pass

    def current_pid(self):
        box = self.box
        return box.pid if box is not None else None

    def run_source(self, source: str, out=None) -> bool:
        """Evaluate and print the outcome; False if the evaluation failed."""
        out = out or self.out
        kind, a, b, pid = self.evaluate(source)
        if kind == "ok":
            value, text = a, b
            if isinstance(value, ReplAction):
                try:
                    if self.json and value.name == "top":  # a live view has no JSON:
                        kw = value.kwargs             # its table has
                        print(helpers.procs(kw.get("n") or 20, kw.get("sort"), json=True,
                                            window=kw.get("interval"), node=self.node),
                              file=out, flush=True)
                        return True
                    value.fn(self.node, out=out, **value.kwargs)
                except vm.VMError as e:
                    print(f"** {e}", file=out, flush=True)
                    return False
                return True
            if text is not None:
                print(text, file=out, flush=True)
            return True
        if kind == "syntax":
            print(a, file=out, flush=True)
            return False
        self.crashes += 1
        if kind == "error":
            if b:
                print(b.rstrip(), file=out)
            print(f"** exception error: {a.exc_type}: {a.message}", file=out)
        else:
            print(f"** exception exit: {_reason(a)}", file=out)
        print(f"   (the shell process {pid!r} exited; the next expression runs in a fresh one)",
              file=out, flush=True)
        return False

    # -- FILE --------------------------------------------------------------------

    def start_file(self, path, args=()):
        """Load FILE and start its main() as a process; returns its pid."""
        from stdlib.runner import find_main, load_file, wants_args

        stem = re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0]) or "app"
        modname = stem if stem not in sys.modules else "__beamlet_main__"
        module = load_file(path, modname)
        main = find_main(module, path)
        call_args = (list(args),) if wants_args(main) else ()

        def start(node):
            p, _ = node.spawn_process(None, main, call_args)
            node.ins.add(_MainWatcher(self, p.pid))
            return p.pid

        pid = on_node(start, self.node)
        self.ns[stem] = module
        self.ns["main_pid"] = pid
        return stem, pid

    # -- the loop -----------------------------------------------------------------

    def close(self):
        self.closing = True
        if self.box is not None:
            self.box.closing = True
        try:
            from .tracing import stop as stop_trace

            stop_trace(self.node)
        except Exception:  # noqa: BLE001 - best effort on the way out
            pass
        if self.own_node:
            try:
                self.node.stop(timeout=5)
            except Exception:  # noqa: BLE001
                pass

    def repl(self, stdin=None):
        """Read-evaluate-print until q(), EOF or Ctrl-D."""
        stdin = stdin or sys.stdin
        interactive = _isatty(stdin) and _isatty(self.out)
        if interactive:
            try:
                reader = _PromptReader(self)
            except ImportError:  # prompt_toolkit missing (a bare install): plain input()
                reader = _InputReader()
        else:
            reader = _LineReader(stdin)
        if interactive:
            print(BANNER, file=self.out, flush=True)
        try:
            while not self.quitting:
                source = reader.read(self.count)
                if source is None:
                    break
                if not source.strip():
                    continue
                try:
                    self.run_source(source)
                except vm.VMError as e:  # the node itself has stopped
                    print(f"** {e}; leaving the shell", file=self.out, flush=True)
                    return 1
        finally:
            self.close()
        return 0


def _isatty(f):
    try:
        return f.isatty()
    except (AttributeError, ValueError):
        return False


_OBSERVER_DIR = os.path.dirname(_THIS_FILE)


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


class _LineReader:
    """Input from a pipe: lines accumulate until they form complete statements
    (a blank line ends a block, as in Python's REPL)."""

    def __init__(self, stdin):
        self.stdin = stdin

    def read(self, count):
        buf = []
        while True:
            line = self.stdin.readline()
            if not line:
                return "".join(buf) if buf else None
            if not buf and not line.strip():
                continue
            buf.append(line)
            source = "".join(buf)
            if not needs_more(source):
                return source


class _InputReader:
    """Input from a person without prompt_toolkit: input() with the same prompts."""

    def read(self, count):
        lines = []
        while True:
            prompt = f"{count}> " if not lines else "." * len(str(count)) + ". "
            try:
                line = input(prompt)
            except KeyboardInterrupt:
                print()
                lines = []
                continue
            except EOFError:
                return None
            lines.append(line + "\n")
            source = "".join(lines)
            if not needs_more(source):
                return source


class _PromptReader:
    """Input from a person: prompt_toolkit with history and completion."""

    def __init__(self, shell):
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory, InMemoryHistory

        try:
            history = FileHistory(HISTORY_FILE)
            with open(HISTORY_FILE, "a"):
                pass
        except OSError:
            history = InMemoryHistory()
        self.shell = shell
        self.session = PromptSession(history=history, completer=_make_completer(shell.ns),
                                     complete_while_typing=False)

    def read(self, count):
        from prompt_toolkit.patch_stdout import patch_stdout

        lines = []
        while True:
            prompt = f"{count}> " if not lines else "." * len(str(count)) + ". "
            try:
                with patch_stdout(raw=True):
                    line = self.session.prompt(prompt)
            except KeyboardInterrupt:
                lines = []
                continue
            except EOFError:
                return None
            lines.append(line + "\n")
            source = "".join(lines)
            if not needs_more(source):
                return source


def _make_completer(ns):
    """Names from the shell's namespace and builtins; attributes after a dot."""
    from prompt_toolkit.completion import Completer, Completion

    token = re.compile(r"[A-Za-z_][\w.]*$")

    def lookup(dotted):
        parts = dotted.split(".")
        obj = ns.get(parts[0], getattr(builtins, parts[0], None))
        for p in parts[1:]:
            if obj is None:
                return None
            obj = getattr(obj, p, None)  # attributes only: nothing is called
        return obj

    class NamespaceCompleter(Completer):
        def get_completions(self, document, complete_event):
            m = token.search(document.text_before_cursor)
            if not m:
                return
            word = m.group(0)
            if "." in word:
                base, _, prefix = word.rpartition(".")
                obj = lookup(base)
                if obj is None:
                    return
                names = [n for n in dir(obj) if not n.startswith("_") or prefix.startswith("_")]
            else:
                prefix = word
                names = list(ns) + dir(builtins)
            for name in sorted(set(names)):
                if name.startswith(prefix):
                    yield Completion(name, start_position=-len(prefix))

    return NamespaceCompleter()


def run_shell(file=None, *, commands=(), json=False, reductions=4000, wait=0.0,
              stdin=None, out=None) -> int:
    """What `beamlet shell` runs; returns the exit status."""
    handler = install_short_reports()
    shell = Shell(json=json, reductions=reductions, out=out)
    out = shell.out
    try:
        if file is not None:
            stem, pid = shell.start_file(file)
            if not commands:
                print(f"{file}: main() runs as {pid!r} (main_pid); the module is `{stem}`",
                      file=out, flush=True)
        if commands:
            if wait:
                threading.Event().wait(wait)
            ok = True
            for c in commands:
                ok = shell.run_source(c) and ok
                if shell.quitting:
                    break
            shell.close()
            return 0 if ok else 1
        return shell.repl(stdin)
    finally:
        if handler is not None:
            logging.getLogger("beamlet").removeHandler(handler)
            logging.getLogger("beamlet").propagate = True


__all__ = ["ReplAction", "Shell", "compile_input", "needs_more", "run_shell", "short_report"]
