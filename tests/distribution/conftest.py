"""Fixtures for the distribution tests: port mappers on random ports, and HOME."""

import contextlib
import subprocess
import sys
import time

import pytest

from vm.dist import epmd

from .erlang import EPMD, free_port


def _wait_up(port):
    deadline = time.monotonic() + 10
    while not epmd.is_running("127.0.0.1", port):
        if time.monotonic() > deadline:
            raise AssertionError(f"no port mapper came up on {port}")
        time.sleep(0.02)


@pytest.fixture
def system_epmd():
    """Erlang's own epmd on a random port, killed afterwards."""
    if EPMD is None:
        pytest.skip("needs Erlang/OTP's epmd: apt-get install erlang-nox")
    port = free_port()
    subprocess.run([EPMD, "-port", str(port), "-daemon"], check=True)
    _wait_up(port)
    yield port
    subprocess.run([EPMD, "-port", str(port), "-kill"], capture_output=True)


@pytest.fixture
def beamlet_epmd():
    """beamlet's port mapper daemon on a random port, stopped afterwards."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "vm.dist.epmd_daemon", "--port", str(port)])
    try:
        _wait_up(port)
        yield port
    finally:
        with contextlib.suppress(epmd.EPMDError):
            epmd.kill("127.0.0.1", port, timeout=1.0)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@pytest.fixture(params=["system", "beamlet"])
def any_epmd(request):
    """Each test runs against Erlang's epmd and against beamlet's."""
    return request.getfixturevalue(f"{request.param}_epmd")


@pytest.fixture
def epmd_env(any_epmd, monkeypatch):
    monkeypatch.setenv("ERL_EPMD_PORT", str(any_epmd))
    return any_epmd


@pytest.fixture
def home(tmp_path, monkeypatch):
    """A temporary HOME, so ~/.erlang.cookie is the test's own."""
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("ERLANG_COOKIE", raising=False)
    return tmp_path


@pytest.fixture
def erl_and_py(system_epmd, home):
    """A real Erlang node and a distributed beamlet node sharing a cookie and a port mapper."""
    from .cluster import PyNode
    from .erlang import ERL, ErlangNode, unique

    if ERL is None:
        pytest.skip("needs Erlang/OTP (`erl`): apt-get install erlang-nox")
    cookie = "cookie-" + unique("c")
    erl = ErlangNode(unique("erl"), cookie, system_epmd)
    try:
        py = PyNode(unique("py"), cookie, system_epmd, start_epmd=False)
    except BaseException:
        erl.close()
        raise
    try:
        yield erl, py
    finally:
        py.close()
        erl.close()


@pytest.fixture
def two_py(beamlet_epmd, home):
    """Two distributed beamlet nodes (each on its own thread) and beamlet's port mapper."""
    from .cluster import PyNode
    from .erlang import unique

    a = PyNode(unique("a"), "shared", beamlet_epmd)
    try:
        b = PyNode(unique("b"), "shared", beamlet_epmd)
    except BaseException:
        a.close()
        raise
    try:
        yield a, b
    finally:
        b.close()
        a.close()
