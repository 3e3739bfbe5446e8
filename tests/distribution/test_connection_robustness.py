"""A peer that misbehaves costs the node nothing but that connection: fuzzed frames, silence."""

import logging
import socket
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vm import Atom, dist
from vm.dist.codec import Encoder
from vm.dist.handshake import OUR_FLAGS, V4_NC

from . import rawpeer
from .cluster import PyNode, get, wait_for
from .erlang import unique


@pytest.fixture
def py(beamlet_epmd, home):
    node = PyNode(unique("py"), "c", beamlet_epmd, net_ticktime=1.0, setup_time=2.0)
    node.epmd_port = beamlet_epmd
    yield node
    node.close()


def still_serves(py):
    """The node still answers another peer."""
    s = rawpeer.connect(py.name, "c", py.epmd_port, name=unique("probe") + "@localhost")
    s.close()
    return True


def test_ticks_are_sent_and_a_silent_peer_is_declared_down(py, caplog):
    with caplog.at_level(logging.WARNING, logger="beamlet.dist"):
        s = rawpeer.connect(py.name, "c", py.epmd_port)
        s.settimeout(2)
        assert s.recv(4) == b"\0\0\0\0"  # a tick within a quarter of net_ticktime
        assert wait_for(lambda: py.call(lambda: dist.nodes("connected")) == [], 5)
        assert rawpeer.closed_within(s, 3)
    assert "not responding" in caplog.text
    s.close()


def test_a_peer_lacking_the_otp26_flags_is_refused(py):
    with pytest.raises((ConnectionError, AssertionError, OSError)):
        rawpeer.connect(py.name, "c", py.epmd_port, flags=OUR_FLAGS & ~V4_NC)
    assert still_serves(py)


def test_a_message_with_a_fun_or_bit_string_disconnects_the_peer_with_a_warning(py, caplog):
    inbox = py.inbox("box")
    enc = Encoder()
    fun = bytes([131, 113, 119, 1, 109, 119, 1, 102, 97, 1])  # fun m:f/1
    bits = bytes([131, 77, 0, 0, 0, 1, 3, 0b10100000])  # <<5:3>>
    for payload, what in [(fun, "fun"), (bits, "bit string")]:
        s = rawpeer.connect(py.name, "c", py.epmd_port, name=unique("fn") + "@localhost")
        with caplog.at_level(logging.WARNING, logger="beamlet.dist"):
            rawpeer.send_frame(
                s, b"\x70" + enc.encode((6, Atom("x"), Atom(""), Atom("box"))) + payload)
            assert rawpeer.closed_within(s, 5)
        record = caplog.records[-1]
        assert record.levelno == logging.WARNING and "Disconnecting" in record.getMessage()
        assert what in record.getMessage() and "'box'" in record.getMessage()
        assert "127.0.0.1:" in record.getMessage()
        s.close()
    # nothing arrived, and the node serves the next peer
    s = rawpeer.connect(py.name, "c", py.epmd_port, name=unique("ok") + "@localhost")
    rawpeer.send_frame(s, b"\x70" + enc.encode((6, Atom("x"), Atom(""), Atom("box")))
                       + enc.encode("after"))
    assert get(inbox) == "after"
    s.close()


frames = st.one_of(
    st.binary(max_size=64),
    st.binary(max_size=64).map(lambda b: b"\x70" + b),
    st.tuples(st.integers(0, 40), st.binary(max_size=30)).map(
        lambda t: b"\x70" + Encoder().encode((t[0],)) + t[1]),
    st.tuples(st.integers(0, 40), st.lists(st.integers(-5, 5), max_size=5)).map(
        lambda t: b"\x70" + Encoder().encode(tuple([t[0]] + t[1]))),
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(frames)
def test_fuzzed_frames_disconnect_only_that_peer(py, frame):
    s = rawpeer.connect(py.name, "c", py.epmd_port, name=unique("fz") + "@localhost")
    rawpeer.send_frame(s, frame)
    rawpeer.send_frame(s, struct.pack(">I", 1 << 31))  # then a bad length for good measure
    assert rawpeer.closed_within(s, 5)
    s.close()
    assert py.call(lambda: dist.node()) == py.name  # the node runs on


def test_an_oversized_frame_is_refused_before_it_is_read(py, caplog):
    s = rawpeer.connect(py.name, "c", py.epmd_port)
    with caplog.at_level(logging.ERROR, logger="beamlet.dist"):
        s.sendall(struct.pack(">I", 1 << 30) + b"\x70")
        assert rawpeer.closed_within(s, 5)
    assert "malformed frame" in caplog.text
    s.close()


# ----------------------------------------------------------------------
# misbehaving peers before the handshake ends: closed, logged with their address


def _dial(py):
    from vm.dist import epmd

    port = epmd.port_please(py.name.split("@")[0], epmd=py.epmd_port).port
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    return s, f"127.0.0.1:{s.getsockname()[1]}"


def _refusals(caplog, address):
    return [r for r in caplog.records if r.name == "beamlet.dist" and
            r.levelno == logging.WARNING and address in r.getMessage()]


def test_garbage_instead_of_a_handshake_is_refused_and_logged(py, caplog):
    with caplog.at_level(logging.WARNING, logger="beamlet.dist"):
        s, address = _dial(py)
        s.sendall(b"\x00\x10GET / HTTP/1.1\r\n")
        assert rawpeer.closed_within(s, 5)
        assert wait_for(lambda: _refusals(caplog, address), 5)
    (record,) = _refusals(caplog, address)
    assert "Refused a connection" in record.getMessage()
    assert "expected the peer's name" in record.getMessage()
    s.close()
    assert still_serves(py)


def test_a_stalled_handshake_is_closed_after_the_setup_time_and_logged(py, caplog):
    with caplog.at_level(logging.WARNING, logger="beamlet.dist"):
        s, address = _dial(py)
        s.sendall(b"\x00\x20N")  # a name packet that never finishes
        assert rawpeer.closed_within(s, 6)
        assert wait_for(lambda: _refusals(caplog, address), 5)
    assert "did not finish within 2.0 s" in _refusals(caplog, address)[0].getMessage()
    s.close()
    assert still_serves(py)


def test_a_bad_cookie_is_refused_and_logged_with_the_address(py, caplog):
    with caplog.at_level(logging.WARNING, logger="beamlet.dist"):
        with pytest.raises((ConnectionError, AssertionError, OSError)):
            rawpeer.connect(py.name, "not-the-cookie", py.epmd_port, name="intruder@localhost")
        assert wait_for(lambda: _refusals(caplog, "127.0.0.1:"), 5)
    (record,) = _refusals(caplog, "127.0.0.1:")
    assert "(node intruder@localhost)" in record.getMessage()
    assert "another cookie" in record.getMessage()
    assert "not-the-cookie" not in caplog.text and "'c'" not in caplog.text
    assert still_serves(py)
