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
