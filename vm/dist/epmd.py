"""EPMD, the Erlang Port Mapper: the client side.

What this module owns: the three requests a node makes of the port mapper on
port 4369 (or `ERL_EPMD_PORT`, as erl reads it), in protocol version 6:

- `register(name, port)` (ALIVE2_REQ, tag 120, highest and lowest version
  6, answered by ALIVE2_X_RESP with a 32-bit creation). The registration
  lasts as long as its connection: the `Registration` it returns keeps the
  socket, and closing it (or the node's death) removes the name.
- `port_please(name, host)` (PORT_PLEASE2_REQ, 122 -> PORT2_RESP, 119): the
  distribution port of a node, or None if it is not registered.
- `names(host)` (NAMES_REQ, 110): every registered name and its port.

Inside a beamlet process the sockets are the VM's own (`vm.net`), so a slow
port mapper parks the caller, not the node; outside a process the same
calls use ordinary blocking sockets (tests, tools).

Version 5 registrations are never made: OTP 25 refuses them.

What it refuses: being the port mapper (`epmd_daemon.py` is one).
"""

from __future__ import annotations

import os
import socket
import struct
from dataclasses import dataclass

from greenlet import getcurrent

DEFAULT_PORT = 4369
ALIVE2_REQ = 120
ALIVE2_X_RESP = 118
ALIVE2_RESP = 121
PORT_PLEASE2_REQ = 122
PORT2_RESP = 119
NAMES_REQ = 110
KILL_REQ = 107
NODE_TYPE_NORMAL = 77  # 'M': an Erlang node (hidden nodes register the same way)
PROTOCOL_TCP = 0
VERSION = 6
TIMEOUT = 5.0


class EPMDError(ConnectionError):
    """The port mapper is unreachable, refused a request, or answered nonsense."""


@dataclass(frozen=True)
class NodeInfo:
    """What PORT2_RESP says about a registered node."""

    name: str
    port: int
    node_type: int
    protocol: int
    highest: int
    lowest: int
    extra: bytes = b""


def epmd_port() -> int:
    """The port mapper's port: `ERL_EPMD_PORT` when set (as erl reads it), else 4369."""
    value = os.environ.get("ERL_EPMD_PORT")
    if value:
        try:
            port = int(value)
        except ValueError:
            raise EPMDError(f"ERL_EPMD_PORT={value!r} is not a port number") from None
        if 0 < port < 65536:
            return port
        raise EPMDError(f"ERL_EPMD_PORT={value!r} is not a port number (1-65535)")
    return DEFAULT_PORT


# ----------------------------------------------------------------------
# the wire format (pure functions, shared with the daemon)


def alive2_request(name: str, port: int, extra: bytes = b"") -> bytes:
    raw = name.encode("utf-8")
    body = struct.pack(">BHBBHHH", ALIVE2_REQ, port, NODE_TYPE_NORMAL, PROTOCOL_TCP,
                       VERSION, VERSION, len(raw)) + raw + struct.pack(">H", len(extra)) + extra
    return struct.pack(">H", len(body)) + body


def parse_alive2(body: bytes) -> NodeInfo:
    """Parse an ALIVE2_REQ body (after its length), as the daemon does."""
    port, ntype, proto, high, low, nlen = struct.unpack_from(">HBBHHH", body, 1)
    name = body[11:11 + nlen]
    (elen,) = struct.unpack_from(">H", body, 11 + nlen)
    extra = body[13 + nlen:13 + nlen + elen]
    if len(name) != nlen or len(extra) != elen or not name:
        raise EPMDError("malformed ALIVE2_REQ")
    return NodeInfo(name.decode("utf-8"), port, ntype, proto, high, low, extra)


def port2_response(info: NodeInfo | None) -> bytes:
    if info is None:
        return bytes((PORT2_RESP, 1))
    raw = info.name.encode("utf-8")
    return (struct.pack(">BBHBBHHH", PORT2_RESP, 0, info.port, info.node_type, info.protocol,
                        info.highest, info.lowest, len(raw))
            + raw + struct.pack(">H", len(info.extra)) + info.extra)


def parse_port2(data: bytes, name: str) -> NodeInfo | None:
    if len(data) < 2 or data[0] != PORT2_RESP:
        raise EPMDError(f"unexpected answer to PORT_PLEASE2_REQ: {data[:16]!r}")
    if data[1] != 0:
        return None
    port, ntype, proto, high, low, nlen = struct.unpack_from(">HBBHHH", data, 2)
    raw = data[12:12 + nlen]
    (elen,) = struct.unpack_from(">H", data, 12 + nlen)
    return NodeInfo(raw.decode("utf-8", "replace") or name, port, ntype, proto, high, low,
                    data[14 + nlen:14 + nlen + elen])


# ----------------------------------------------------------------------
# transport: the VM's sockets inside a process, blocking sockets outside


def _in_process() -> bool:
    from ..lowlevel import Process

    return type(getcurrent()) is Process


class _Link:
    """One connection to the port mapper."""

    def __init__(self, host: str, port: int, timeout: float):
        self.timeout = timeout
        self.vm = _in_process()
        try:
            if self.vm:
                from .. import net

                self.sock = net.connect((host, port), timeout=timeout)
            else:
                self.sock = socket.create_connection((host, port), timeout=timeout)
        except (OSError, TimeoutError) as e:
            raise EPMDError(f"no port mapper answers at {host}:{port} ({e})") from None

    def send(self, data: bytes):
        try:
            if self.vm:
                from .. import net

                net.sendall(self.sock, data, timeout=self.timeout)
            else:
                self.sock.sendall(data)
        except (OSError, TimeoutError) as e:
            self.close()
            raise EPMDError(f"the port mapper connection failed: {e}") from None

    def recv(self, n: int) -> bytes:
        try:
            if self.vm:
                from .. import net

                return net.recv(self.sock, n, timeout=self.timeout)
            return self.sock.recv(n)
        except (OSError, TimeoutError) as e:
            self.close()
            raise EPMDError(f"the port mapper connection failed: {e}") from None

    def recv_exact(self, n: int) -> bytes:
        buf = b""
        while len(buf) < n:
            chunk = self.recv(n - len(buf))
            if not chunk:
                raise EPMDError("the port mapper closed the connection mid-answer")
            buf += chunk
        return buf

    def recv_all(self, limit: int = 1 << 20) -> bytes:
        buf = b""
        while len(buf) < limit:
            chunk = self.recv(65536)
            if not chunk:
                break
            buf += chunk
        return buf

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def _request(body: bytes) -> bytes:
    return struct.pack(">H", len(body)) + body


# ----------------------------------------------------------------------
# the requests


class Registration:
    """A live registration: the name stays registered while this stays open."""

    def __init__(self, link: _Link, name: str, port: int, creation: int):
        self._link = link
        self.name = name
        self.port = port
        self.creation = creation

    @property
    def socket(self):
        return self._link.sock

    def close(self):
        """Unregister (the port mapper drops a name when its connection closes)."""
        self._link.close()

    def __repr__(self):
        return f"<Registration {self.name} port {self.port} creation {self.creation}>"


def register(name: str, port: int, host: str = "127.0.0.1", epmd: int | None = None,
             timeout: float = TIMEOUT) -> Registration:
    """Register node `name` (the part before @) with listening `port`; returns a Registration."""
    link = _Link(host, epmd or epmd_port(), timeout)
    link.send(alive2_request(name, port))
    head = link.recv_exact(2)
    if head[0] == ALIVE2_X_RESP:
        result = head[1]
        (creation,) = struct.unpack(">I", link.recv_exact(4))
    elif head[0] == ALIVE2_RESP:  # a port mapper older than OTP 23
        result = head[1]
        (creation,) = struct.unpack(">H", link.recv_exact(2))
    else:
        link.close()
        raise EPMDError(f"unexpected answer to ALIVE2_REQ: tag {head[0]}")
    if result != 0:
        link.close()
        raise EPMDError(f"the port mapper refused the name {name!r} (result {result}); "
                        "is a node with that name already running?")
    return Registration(link, name, port, creation)


def port_please(name: str, host: str = "127.0.0.1", epmd: int | None = None,
                timeout: float = TIMEOUT) -> NodeInfo | None:
    """The registration of node `name` on `host`, or None if no such node is registered."""
    link = _Link(host, epmd or epmd_port(), timeout)
    try:
        link.send(_request(bytes((PORT_PLEASE2_REQ,)) + name.encode("utf-8")))
        return parse_port2(link.recv_all(), name)
    except struct.error:
        raise EPMDError("truncated PORT2_RESP") from None
    finally:
        link.close()


def names(host: str = "127.0.0.1", epmd: int | None = None,
          timeout: float = TIMEOUT) -> dict[str, int]:
    """Every node registered on `host`: {name: port}."""
    link = _Link(host, epmd or epmd_port(), timeout)
    try:
        link.send(_request(bytes((NAMES_REQ,))))
        data = link.recv_all()
    finally:
        link.close()
    if len(data) < 4:
        raise EPMDError("truncated NAMES_RESP")
    out = {}
    for line in data[4:].decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[0] == "name" and parts[2:4] == ["at", "port"]:
            out[parts[1]] = int(parts[4])
    return out


def kill(host: str = "127.0.0.1", epmd: int | None = None, timeout: float = TIMEOUT) -> bool:
    """Ask the port mapper to stop (KILL_REQ); True if it said OK."""
    link = _Link(host, epmd or epmd_port(), timeout)
    try:
        link.send(_request(bytes((KILL_REQ,))))
        return link.recv_all(16) == b"OK"
    finally:
        link.close()


def is_running(host: str = "127.0.0.1", epmd: int | None = None) -> bool:
    """True when a port mapper answers NAMES_REQ on `host`."""
    try:
        names(host, epmd, timeout=1.0)
    except EPMDError:
        return False
    return True
