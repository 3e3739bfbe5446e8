"""`beamlet run --allow-remsh` and `beamlet shell --remsh`, as a person runs them:
prints, nregs(), top() (framed in a pipe, live in a terminal) and trace(...)
in the remote shell show in the shell's terminal."""

import os
import socket
import subprocess
import sys
import time

import pytest

from tests.distribution.erlang import free_port, unique
from vm.dist import epmd

from .test_tmux import TMUX, Terminal

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
TARGET = ("import vm\n\n"
          "def main():\n"
          "    vm.register('keeper', vm.self())\n"
          "    while True:\n"
          "        vm.receive()\n")


@pytest.fixture
def target(tmp_path, home):
    """A node started with `beamlet run --sname NAME --allow-remsh`; yields
    (node name, environment for the shell, the target's process)."""
    from vm.dist.epmd_daemon import ensure_running

    port = free_port()
    prog = tmp_path / "target.py"
    prog.write_text(TARGET)
    env = dict(os.environ, ERL_EPMD_PORT=str(port), HOME=str(home), ERLANG_COOKIE="rc")
    ensure_running(port)
    name = unique("app")
    proc = subprocess.Popen([sys.executable, "-m", "stdlib.cli", "run", "--sname", name,
                             "--allow-remsh", str(prog)], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 30
        while name not in epmd.names(epmd=port):
            assert time.monotonic() < deadline, "the target node did not come up"
            assert proc.poll() is None, proc.stdout.read()
            time.sleep(0.05)
        yield f"{name}@{socket.gethostname().split('.')[0]}", env, proc
    finally:
        proc.terminate()
        proc.wait(10)
        epmd.kill(epmd=port, timeout=2)


def test_prints_nregs_top_and_trace_come_to_the_shell(target):
    node, env, proc = target
    commands = ["print('hello from', vm.node())", "nregs()",
                "top(n=50, interval=0.25, frames=1)",
                "trace('keeper', 'receive', count=1)", "vm.send(vm.whereis('keeper'), 'ping')",
                "trace_stop()"]
    bare = node.split("@")[0]  # as with erl -remsh, the name alone means this host
    out = subprocess.run([sys.executable, "-m", "stdlib.cli", "shell", "--remsh", bare,
                          *[x for c in commands for x in ("-c", c)]],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stdout + out.stderr
    text = out.stdout
    assert f"hello from {node}\n" in text
    assert f"** Registered procs on node {node} **" in text and "keeper" in text
    frame = text.split("beamlet top - ")[1]
    assert frame.startswith(node)
    keeper_row = next(line for line in frame.splitlines() if "keeper" in line)
    assert " <0." in keeper_row  # the target's pids print as the target prints them
    assert "<< 'ping'" in text and "trace stopped: 1 event (count limit)" in text
    assert text.index("<< 'ping'") < text.index("trace stopped")
    proc.terminate()
    target_out = proc.communicate(timeout=10)[0]
    assert "hello from" not in target_out and "<< 'ping'" not in target_out


@pytest.mark.skipif(TMUX is None, reason="tmux is not installed")
def test_top_is_live_in_the_shells_terminal(target, tmp_path):
    node, env, _proc = target
    keep = ("ERL_EPMD_PORT", "ERLANG_COOKIE")
    command = " ".join(f"{k}={env[k]}" for k in keep) + \
        f" {sys.executable} -m stdlib.cli shell --remsh {node}"
    term = Terminal(tmp_path, command)
    try:
        term.wait(f"({node})>")
        term.drive_top(node, "top(n=10)")
        term.type("print('back in the shell')")
        term.wait("back in the shell")
    finally:
        term.close()
