"""The port mapper: beamlet's client against Erlang's epmd and beamlet's daemon, and erl
against beamlet's daemon."""

import subprocess

import pytest

import vm
from vm.dist import epmd
from vm.dist.epmd_daemon import ensure_running

from .cluster import wait_for
from .erlang import EPMD, ErlangNode, free_port, requires_erl, unique


def test_register_lookup_unregister(any_epmd):
    name = unique("reg")
    reg = epmd.register(name, 12345, epmd=any_epmd)
    assert reg.creation > 0
    assert epmd.names(epmd=any_epmd)[name] == 12345
    info = epmd.port_please(name, epmd=any_epmd)
    assert (info.port, info.highest, info.lowest) == (12345, 6, 6)
    # the name is taken while the registration lives
    with pytest.raises(epmd.EPMDError, match="refused"):
        epmd.register(name, 999, epmd=any_epmd)
    reg.close()
    assert wait_for(lambda: name not in epmd.names(epmd=any_epmd))
    assert epmd.port_please(name, epmd=any_epmd) is None
    again = epmd.register(name, 12346, epmd=any_epmd)
    assert again.creation != reg.creation  # a new incarnation
    again.close()


def test_client_inside_a_process_uses_the_vms_sockets(any_epmd):
    name = unique("inproc")

    def main():
        reg = epmd.register(name, 4242, epmd=any_epmd)
        try:
            return epmd.port_please(name, epmd=any_epmd).port, name in epmd.names(epmd=any_epmd)
        finally:
            reg.close()

    assert vm.run(main) == (4242, True)


def test_no_port_mapper_is_a_clear_error():
    with pytest.raises(epmd.EPMDError, match="no port mapper answers"):
        epmd.names(epmd=free_port(), timeout=1.0)


@pytest.mark.skipif(EPMD is None, reason="needs Erlang/OTP's epmd: apt-get install erlang-nox")
def test_erlangs_epmd_client_reads_beamlets_daemon(beamlet_epmd):
    reg = epmd.register("pynode", 5555, epmd=beamlet_epmd)
    out = subprocess.run([EPMD, "-port", str(beamlet_epmd), "-names"], capture_output=True,
                         text=True, timeout=10).stdout
    reg.close()
    assert f"epmd: up and running on port {beamlet_epmd}" in out
    assert "name pynode at port 5555" in out


@requires_erl
def test_erl_registers_with_beamlets_daemon(beamlet_epmd):
    node = ErlangNode(unique("erl"), "cookie", beamlet_epmd)
    try:
        short = node.name.split("@")[0]
        assert short in epmd.names(epmd=beamlet_epmd)
        assert node.eval("net_adm:names().").startswith("{ok,[{")
    finally:
        node.close()
    assert wait_for(lambda: short not in epmd.names(epmd=beamlet_epmd))


def test_ensure_running_starts_a_daemon_that_outlives_its_starter():
    port = free_port()
    assert ensure_running(port) == "started"
    try:
        assert ensure_running(port) == "running"
        assert epmd.names(epmd=port) == {}
    finally:
        assert epmd.kill(epmd=port)
    assert wait_for(lambda: not epmd.is_running("127.0.0.1", port))


def test_daemon_drops_oversized_and_garbage_requests(beamlet_epmd):
    import socket

    for junk in (b"\xff\xff" + b"x" * 100, b"\x00\x05\x63abcd", b"\x00\x01\x78"):
        with socket.create_connection(("127.0.0.1", beamlet_epmd), timeout=2) as s:
            s.sendall(junk)
            assert s.recv(100) == b""
    assert epmd.is_running("127.0.0.1", beamlet_epmd)
