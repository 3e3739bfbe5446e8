"""Running real Erlang from the distribution tests.

`requires_erl` skips a test (with the reason) only when `erl` is not
installed; CI installs erlang-nox. `erl_eval(code)` runs Erlang expressions
in a fresh `erl -noshell` and returns what they print.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess

import pytest

ERL = shutil.which("erl")
requires_erl = pytest.mark.skipif(
    ERL is None, reason="needs Erlang/OTP (`erl`): apt-get install erlang-nox")


def erl_eval(code: str, timeout: float = 60.0, args=()) -> str:
    """Run `code` (Erlang expressions, comma separated) and return its standard output."""
    proc = subprocess.run(
        [ERL, "-noshell", *args, "-eval", code + ", halt()."],
        capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=timeout,
    )
    if proc.returncode != 0 or "{\"init terminating" in proc.stdout + proc.stderr:
        raise AssertionError(f"erl failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout


EPMD = shutil.which("epmd")


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def unique(prefix: str) -> str:
    import os
    import uuid

    return f"{prefix}{os.getpid()}x{uuid.uuid4().hex[:6]}"


# Reads Erlang expressions from standard input, evaluates each, prints
# "=> <result as ~p>" (or "!! <error>") and a line "<<done>>".
_REPL = (
    "Loop = fun(L, B) -> "
    "  case io:parse_erl_exprs('') of "
    "    {ok, Es, _} -> "
    "      {Out, B2} = try erl_eval:exprs(Es, B) of {value, V, NB} -> "
    "          {io_lib:format(\"=> ~0p\", [V]), NB} "
    "        catch C:R -> {io_lib:format(\"!! ~0p\", [{C, R}]), B} end, "
    "      io:format(\"~s~n<<done>>~n\", [Out]), L(L, B2); "
    "    {eof, _} -> halt(); "
    "    _ -> io:format(\"!! parse~n<<done>>~n\"), L(L, B) "
    "  end end, Loop(Loop, erl_eval:new_bindings())."
)


class ErlangNode:
    """A real `erl -sname NAME` node started by a test, driven through its standard input.

    `node.eval("net_adm:ping('py@host').")` returns what the expression
    evaluated to, printed by Erlang (`~0p`); an exception raises
    AssertionError. `close()` stops the node (and nothing else).
    """

    def __init__(self, name: str, cookie: str, epmd_port: int, host: str = "localhost",
                 extra=()):
        import os

        env = dict(os.environ, ERL_EPMD_PORT=str(epmd_port))
        self.name = f"{name}@{host}"
        self.proc = subprocess.Popen(
            [ERL, "-sname", self.name, "-setcookie", cookie, "-noshell", "-start_epmd",
             "false", "-kernel", "inet_dist_use_interface", "{127,0,0,1}", *extra,
             "-eval", _REPL],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=env, text=True, encoding="utf-8", errors="replace", bufsize=1)
        import queue
        import threading

        self.lines = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.eval("ok.")  # ready

    def _pump(self):
        for line in self.proc.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def eval(self, expr: str, timeout: float = 30.0) -> str:
        import queue

        self.proc.stdin.write(expr.strip() + "\n")
        self.proc.stdin.flush()
        lines = []
        while True:
            try:
                line = self.lines.get(timeout=timeout)
            except queue.Empty:
                raise AssertionError(
                    f"erl did not answer {expr!r} in {timeout} s: {lines}") from None
            if line is None:
                raise AssertionError(f"erl exited while evaluating {expr!r}: {lines}")
            if line == "<<done>>":
                break
            lines.append(line)
        result = [ln for ln in lines if ln.startswith(("=> ", "!! "))]
        if not result or result[-1].startswith("!! "):
            raise AssertionError(f"erl: {expr!r} failed: {lines}")
        return result[-1][3:]

    def close(self):
        if self.proc.poll() is None:
            with contextlib.suppress(OSError):
                # halt at once: an end of input alone left erl running until the kill below
                self.proc.stdin.write("erlang:halt().\n")
                self.proc.stdin.flush()
                self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self):
        self.proc.kill()
        self.proc.wait()
