"""The shell in a terminal: reading lines, Ctrl-C, the break menu, clean output.

What this module owns: everything between a person (or a pipe) and a
`Shell` (shell.py):

- Readers. A terminal gets prompt_toolkit (editing, history in
  ~/.beamlet_history, Tab completion of names and attributes); a terminal
  without prompt_toolkit gets `input()`; a pipe gets a plain line reader
  (lines accumulate until they form complete statements; a blank line ends
  a block, as in Python's REPL).
- Output never garbles the prompt: in a terminal, for the whole session,
  `sys.stdout` and `sys.stderr` are `AbovePrompt` streams (the idea of
  prompt_toolkit's `patch_stdout`): whole lines that processes print (and
  the one-line reports) go above the prompt line while a prompt is shown,
  never into what you type, and straight to the terminal, in order,
  otherwise. Views that draw on the terminal themselves (`top()`) get the
  real terminal.
- Ctrl-C, as Erlang's shell has it. During an evaluation it interrupts
  the expression (the shell process is killed and replaced; bindings stay).
  At the prompt it clears the line. Two Ctrl-C within `BREAK_WINDOW`
  seconds open the break menu, in the spirit of Erlang's BREAK menu:

      BREAK: (a)bort the node  (c)ontinue  (i)nfo  (p)rocesses  (k)ill a process

  `a` stops the node and leaves with status 130; `c` goes back; `i` prints
  `system()`; `p` the top processes; `k` asks for a pid or name and kills
  it. When the node is stuck in a call without reduction checks, `i`, `p`
  and `k` say so instead of waiting for it.
- `run(...)`: what `beamlet shell` runs, `-c` and `--json` included.

What it refuses: evaluating (shell.py) and views (views.py, helpers.py).
"""

from __future__ import annotations

import builtins
import os
import re
import signal
import sys
import threading
import time

import vm

from .crashlog import install_short_reports, remove_short_reports
from .shell import BREAK_WINDOW, Shell
from .source import on_node

HISTORY_FILE = os.path.join(os.path.expanduser("~"), ".beamlet_history")
BANNER = ("beamlet shell: every expression runs in a shell process; help() lists the "
          "commands, q() leaves; Ctrl-C interrupts, twice for the break menu.")
BREAK_PROMPT = ("BREAK: (a)bort the node  (c)ontinue  (i)nfo  (p)rocesses  "
                "(k)ill a process: ")
EXIT_INTERRUPTED = 130


#: A Ctrl-C this soon after the break menu opened belongs to the presses
#: that opened it (it was on its way), not to the menu.
STRAY_PRESS = 0.5


class Abort(Exception):
    """The break menu's (a)bort: leave the shell, stop the node."""


# ----------------------------------------------------------------------
# the break menu


def break_menu(shell, ask, out) -> None:
    """Erlang's BREAK menu, one choice at a time until (c)ontinue; (a)bort raises Abort."""
    opened = time.monotonic()
    while True:
        try:
            choice = (ask(BREAK_PROMPT) or "").strip().lower()
        except KeyboardInterrupt:
            if time.monotonic() - opened < STRAY_PRESS:
                continue  # a press that was already on its way when the menu opened
            choice = "c"
        except EOFError:
            choice = "c"
        if choice in ("", "c"):
            return
        if choice == "a":
            raise Abort()
        if choice in ("i", "p", "k"):
            if not _responsive(shell):
                print("the node is busy in a call without reduction checks; it answers when "
                      "that call returns (a aborts it)", file=out, flush=True)
                continue
            try:
                if choice == "i":
                    print(_helper("system")(window=0.2, node=shell.node), file=out, flush=True)
                elif choice == "p":
                    print(_helper("procs")(15, node=shell.node), file=out, flush=True)
                else:
                    who = (ask("kill which process (a pid like <0.42.0> or a name)? ")
                           or "").strip()
                    if who:
                        _helper("kill")(who, node=shell.node)
                        print(f"killed {who}", file=out, flush=True)
            except (vm.VMError, TimeoutError) as e:
                print(f"** {e}", file=out, flush=True)
            continue
        print(f"unknown choice {choice!r}", file=out, flush=True)


def _helper(name):
    from .commands import lookup

    return lookup(name).fn


def _responsive(shell, timeout=1.0) -> bool:
    try:
        on_node(lambda n: None, shell.node, timeout=timeout)
        return True
    except (TimeoutError, vm.VMError):
        return False


# ----------------------------------------------------------------------
# readers


class _Presses:
    """Remembers Ctrl-C at the prompt: two within BREAK_WINDOW open the menu.

    A press reaches us two ways: as a key that prompt_toolkit turns into
    KeyboardInterrupt (the terminal is in raw mode while it reads a line), or
    as SIGINT between two prompts. Two quick presses can straddle the two:
    the second one's KeyboardInterrupt may then be raised while the first
    one is being handled (inside prompt_toolkit's teardown) and replace it.
    So the SIGINT handler (`signalled`) records each press as it comes,
    and `second()` counts a press itself only when no signal recorded it.
    """

    def __init__(self):
        self.times = []
        self.unseen = 0  # presses recorded by the signal handler, not yet caught

    def signalled(self):
        self.times.append(time.monotonic())
        self.unseen += 1

    def second(self) -> bool:
        """Called where a KeyboardInterrupt is caught: open the menu now?"""
        if self.unseen:
            self.unseen = 0
        else:
            self.times.append(time.monotonic())
        last = self.times[-2:]
        self.times = last
        if len(last) == 2 and last[1] - last[0] < BREAK_WINDOW:
            self.times = []
            return True
        return False


class _LineReader:
    """Input from a pipe: lines accumulate until they form complete statements
    (a blank line ends a block, as in Python's REPL)."""

    def __init__(self, stdin):
        self.stdin = stdin

    def ask(self, prompt):
        line = self.stdin.readline()
        return line.rstrip("\n") if line else None

    def read(self, count, on_break):
        from .shell import needs_more

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


def _prompt_for(count, lines):
    return f"{count}> " if not lines else "." * len(str(count)) + ". "


class _InputReader:
    """Input from a person without prompt_toolkit: input() with the same prompts."""

    def __init__(self, presses):
        self.presses = presses

    def ask(self, prompt):
        return input(prompt)

    def read(self, count, on_break):
        from .shell import needs_more

        lines = []
        while True:
            try:
                line = input(_prompt_for(count, lines))
            except KeyboardInterrupt:
                print()
                lines = []
                if self.presses.second():
                    on_break()
                continue
            except EOFError:
                return None
            lines.append(line + "\n")
            source = "".join(lines)
            if not needs_more(source):
                return source


class _PromptReader:
    """Input from a person: prompt_toolkit with history and completion."""

    def __init__(self, shell, presses):
        from prompt_toolkit import PromptSession
        from prompt_toolkit.history import FileHistory, InMemoryHistory

        try:
            history = FileHistory(HISTORY_FILE)
            with open(HISTORY_FILE, "a"):
                pass
        except OSError:
            history = InMemoryHistory()
        self.session = PromptSession(history=history, completer=_make_completer(shell.ns),
                                     complete_while_typing=False)
        self.plain = PromptSession()
        self.presses = presses

    def ask(self, prompt):
        return self.plain.prompt(prompt)

    def read(self, count, on_break):
        from .shell import needs_more

        lines = []
        while True:
            try:
                line = self.session.prompt(_prompt_for(count, lines))
            except KeyboardInterrupt:
                lines = []
                if self.presses.second():
                    on_break()
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


class AbovePrompt:
    """A stream that writes whole lines above the prompt while one is shown,
    and straight through otherwise (see the module docstring)."""

    def __init__(self, real):
        from prompt_toolkit.application import run_in_terminal
        from prompt_toolkit.application.current import get_app_session

        self.real = real
        self._session = get_app_session()
        self._run_in_terminal = run_in_terminal
        self._lock = threading.RLock()
        self._partial = []  # the line being written, until its newline comes

    def write(self, data: str) -> int:
        with self._lock:
            if "\n" not in data:
                self._partial.append(data)
                return len(data)
            before, after = data.rsplit("\n", 1)
            text = "".join(self._partial) + before + "\n"
            self._partial = [after] if after else []
            self._emit(text)
        return len(data)

    def flush(self) -> None:
        with self._lock:
            if self._partial and not self._prompt_shown():
                text, self._partial = "".join(self._partial), []
                self._emit(text)

    def _prompt_shown(self):
        app = self._session.app
        return app is not None and app.is_running and app.loop is not None

    def _emit(self, text):
        if self._prompt_shown():
            app = self._session.app
            write = self._write
            app.loop.call_soon_threadsafe(
                lambda: self._run_in_terminal(lambda: write(text), in_executor=False))
        else:
            self._write(text)

    def _write(self, text):
        try:
            self.real.write(text)
            self.real.flush()
        except (OSError, ValueError):  # the terminal is gone
            pass

    def isatty(self):
        return _isatty(self.real)

    def fileno(self):
        return self.real.fileno()

    @property
    def encoding(self):
        return getattr(self.real, "encoding", "utf-8")


def _isatty(f):
    try:
        return f.isatty()
    except (AttributeError, ValueError):
        return False


# ----------------------------------------------------------------------
# the loop


def repl(shell, stdin=None) -> int:
    """Read-evaluate-print until q(), EOF or Ctrl-D; returns the exit status."""
    stdin = stdin or sys.stdin
    out = shell.out
    interactive = _isatty(stdin) and _isatty(out)
    streams = None
    presses = _Presses()  # Ctrl-C at the prompt, wherever it lands between two prompts
    if interactive:
        try:
            reader = _PromptReader(shell, presses)
            shell.terminal = out  # top() draws on the real terminal
            streams = sys.stdout, sys.stderr
        except ImportError:  # prompt_toolkit missing (a bare install): plain input()
            reader = _InputReader(presses)
    else:
        reader = _LineReader(stdin)

    def on_break():
        break_menu(shell, reader.ask, shell.out)

    if streams is not None:
        sys.stdout, sys.stderr = AbovePrompt(streams[0]), AbovePrompt(streams[1])
    old_handler = None
    if interactive and threading.current_thread() is threading.main_thread():

        def on_sigint(signum, frame):
            presses.signalled()
            raise KeyboardInterrupt

        old_handler = signal.signal(signal.SIGINT, on_sigint)
    try:
        if interactive:
            print(BANNER, file=shell.out, flush=True)
        while not shell.quitting:
            try:
                source = reader.read(shell.count, on_break)
                if source is None:
                    break
                if not source.strip():
                    continue
                shell.run_source(source, on_break=on_break)
            except KeyboardInterrupt:  # between two prompts: nothing to stop, but it counts
                if presses.second():
                    on_break()
                continue
            except vm.VMError as e:  # the node itself has stopped
                print(f"** {e}; leaving the shell", file=shell.out, flush=True)
                return 1
    except Abort:
        print("** aborted: the node stopped, every process was killed", file=shell.out,
              flush=True)
        return EXIT_INTERRUPTED
    finally:
        if old_handler is not None:
            signal.signal(signal.SIGINT, old_handler)
        if streams is not None:
            sys.stdout.flush()
            sys.stderr.flush()
            sys.stdout, sys.stderr = streams
        shell.close()
    return 0


def run(file=None, *, commands=(), json=False, reductions=4000, wait=0.0, stdin=None,
        out=None) -> int:
    """What `beamlet shell` runs; returns the exit status (see stdlib/cli.py).

    With `json=True`, `out` (default: stdout) carries one JSON document per
    command and nothing else: while the session runs, `sys.stdout` is
    pointed at stderr, so what processes print goes there too."""
    from stdlib.runner import ProgramError, UsageError, report_failure

    saved_stdout = sys.stdout
    if json:
        out = out or sys.stdout
        sys.stdout = sys.stderr
    handler = install_short_reports(sys.stderr if json else None)
    try:
        shell = Shell(json=json, reductions=reductions, out=out,
                      notices=sys.stderr if json else None)
        try:
            if file is not None:
                try:
                    stem, pid = shell.start_file(file)
                except (UsageError, ProgramError) as e:
                    shell.close()
                    return report_failure(e, sys.stderr)
                if not commands:
                    shell._notice(f"{file} runs as {pid!r} (main_pid); the module is `{stem}`")
            if commands:
                if wait:
                    threading.Event().wait(wait)
                ok = True
                for c in commands:
                    ok = shell.run_source(c) and ok
                    if shell.interrupts:
                        # Ctrl-C on a script of commands stops the script, as it
                        # stops `beamlet run`: the status says it was interrupted.
                        print("beamlet: shell interrupted", file=sys.stderr, flush=True)
                        return EXIT_INTERRUPTED
                    if shell.quitting:
                        break
                return 0 if ok else 1
            return repl(shell, stdin)
        finally:
            shell.close()
    finally:
        sys.stdout = saved_stdout
        remove_short_reports(handler)


__all__ = ["AbovePrompt", "Abort", "BREAK_PROMPT", "break_menu", "repl", "run"]
