"""A hand-driven peer for the tests: the initiator handshake over a blocking socket, then
raw frames."""

from __future__ import annotations

import secrets
import socket
import struct

from vm.dist import epmd
from vm.dist.cookie import Cookie
from vm.dist.handshake import OUR_FLAGS, digest


def _recv_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    return buf


def _packet(s):
    (n,) = struct.unpack(">H", _recv_exact(s, 2))
    return _recv_exact(s, n)


def connect(target: str, cookie: str, epmd_port: int, name: str = "raw@localhost",
            flags: int = OUR_FLAGS) -> socket.socket:
    """Handshake with the node `target` as `name`; return the connected socket."""
    info = epmd.port_please(target.split("@")[0], epmd=epmd_port)
    s = socket.create_connection(("127.0.0.1", info.port), timeout=10)
    raw = name.encode()
    body = b"N" + struct.pack(">QIH", flags, 7, len(raw)) + raw
    s.sendall(struct.pack(">H", len(body)) + body)
    status = _packet(s)
    assert status.startswith(b"s"), status
    challenge_pkt = _packet(s)
    (challenge,) = struct.unpack_from(">I", challenge_pkt, 9)
    mine = secrets.randbits(32)
    body = b"r" + struct.pack(">I", mine) + digest(Cookie(cookie), challenge)
    s.sendall(struct.pack(">H", len(body)) + body)
    ack = _packet(s)
    assert ack == b"a" + digest(Cookie(cookie), mine)
    return s


def send_frame(s, body: bytes):
    s.sendall(struct.pack(">I", len(body)) + body)


def closed_within(s, seconds: float) -> bool:
    """True when the other side closes the connection within `seconds` (ticks are skipped)."""
    import time

    s.settimeout(0.2)
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            data = s.recv(65536)
        except TimeoutError:
            continue
        except OSError:
            return True
        if not data:
            return True
    return False
