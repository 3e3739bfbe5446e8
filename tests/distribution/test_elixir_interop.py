"""Elixir's Node.connect and GenServer.call against a beamlet node (Debian's `elixir` package)."""

import os
import shutil
import subprocess

import pytest

import vm
from vm import dist

from .cluster import PyNode, wait_for
from .erlang import unique

ELIXIR = shutil.which("elixir")
pytestmark = pytest.mark.skipif(
    ELIXIR is None, reason="needs Elixir (`elixir`): apt-get install elixir")


def test_elixir_connects_and_calls_a_python_server(system_epmd, home):
    py = PyNode(unique("py"), "elixir-cookie", system_epmd, start_epmd=False)
    try:
        def server():
            vm.register("py_srv", vm.self())
            while True:
                msg = vm.receive()
                if msg[0] == "$gen_call":
                    dist.reply(msg[1], {"got": msg[2], "from": vm.Atom("python")})

        py.node.spawn(server)
        assert wait_for(lambda: py.call(lambda: vm.whereis("py_srv")) is not None)
        code = (
            f'true = Node.connect(:"{py.name}"); '
            f'IO.inspect(GenServer.call({{:py_srv, :"{py.name}"}}, {{:add, 1, 2}})); '
            f'IO.inspect(Node.ping(:"{py.name}"))'
        )
        out = subprocess.run(
            [ELIXIR, "--sname", unique("ex"), "--cookie", "elixir-cookie", "--erl",
             "-start_epmd false", "-e", code],
            capture_output=True, text=True, timeout=60,
            env=dict(os.environ, ERL_EPMD_PORT=str(system_epmd)))
        assert out.returncode == 0, out.stderr
        lines = out.stdout.strip().splitlines()
        assert lines == ['%{"from" => :python, "got" => {:add, 1, 2}}', ":pong"]
    finally:
        py.close()
