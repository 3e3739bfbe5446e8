"""`beamlet run --sname/--cookie` and `beamlet run --nodes 2`, as a user runs them."""

import os
import subprocess
import sys
import textwrap

from vm.dist import epmd

from .erlang import free_port, unique

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def beamlet(args, epmd_port, home, timeout=90):
    env = dict(os.environ, ERL_EPMD_PORT=str(epmd_port), HOME=str(home))
    env.pop("ERLANG_COOKIE", None)
    return subprocess.run([sys.executable, "-m", "stdlib.cli", "run", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


def test_run_with_sname_and_nodes(tmp_path, home):
    port = free_port()
    prog = tmp_path / "prog.py"
    prog.write_text(textwrap.dedent('''
        import vm
        from stdlib import gen_server

        class Echo(gen_server.GenServer):
            def init(self, _):
                vm.register("echo", vm.self())
                return ("ok", None)

            def handle_call(self, req, from_, s):
                return ("reply", (req, vm.node()), s)

        def worker_node():
            gen_server.start(Echo, None)
            vm.receive(lambda m: False)

        def main():
            others = vm.nodes("connected")
            return [gen_server.call(("echo", n), "hi") for n in others], vm.node()
    '''))
    name = unique("cli")
    try:
        out = beamlet(["--sname", name, "--cookie", "k", str(prog)], port, home)
        assert out.returncode == 0, out.stderr
        assert f"([], '{name}@" in out.stdout
        out = beamlet(["--nodes", "2", "--sname", name, str(prog)], port, home)
        assert out.returncode == 0, out.stderr
        assert f"[('hi', '{name}2@" in out.stdout
    finally:
        epmd.kill(epmd=port, timeout=2)


def test_remote_shell(tmp_path, home):
    port = free_port()
    prog = tmp_path / "target.py"
    prog.write_text("import vm\n\ndef main():\n    vm.register('keeper', vm.self())\n"
                    "    vm.receive(lambda m: False)\n")
    env = dict(os.environ, ERL_EPMD_PORT=str(port), HOME=str(home), ERLANG_COOKIE="rc")
    open_name, closed_name = unique("open"), unique("closed")
    from vm.dist.epmd_daemon import ensure_running

    ensure_running(port)
    targets = [subprocess.Popen([sys.executable, "-m", "stdlib.cli", "run", "--sname", n, *flag,
                                 str(prog)], cwd=ROOT, env=env)
               for n, flag in ((open_name, ["--allow-remsh"]), (closed_name, []))]
    try:
        import socket
        import time

        host = socket.gethostname().split(".")[0]
        deadline = time.monotonic() + 30
        while not {open_name, closed_name} <= set(epmd.names(epmd=port)):
            assert time.monotonic() < deadline, "the target nodes did not come up"
            time.sleep(0.1)

        def remsh(node, *commands):
            args = [x for c in commands for x in ("-c", c)]
            return subprocess.run([sys.executable, "-m", "stdlib.cli", "shell", "--remsh",
                                   f"{node}@{host}", *args], cwd=ROOT, env=env,
                                  capture_output=True, text=True, timeout=60)

        out = remsh(open_name, "regs()", "x = 20", "x + 1", "vm.node()", "1/0")
        assert out.returncode == 1  # the last expression failed
        assert "keeper" in out.stdout and "beamlet_remsh" in out.stdout
        assert "\n21\n" in out.stdout and f"'{open_name}@{host}'" in out.stdout
        assert "ZeroDivisionError" in out.stdout and "remote.py" not in out.stdout
        out = remsh(closed_name, "1 + 1")
        assert out.returncode == 1 and "does not offer a remote shell" in out.stdout
    finally:
        for t in targets:
            t.terminate()
            t.wait(10)
        epmd.kill(epmd=port, timeout=2)
