"""TCP for processes: listen, accept, connect, recv, send, without freezing the node.

Every call here parks the calling process until its socket is ready (through
`vm.wait_readable` / `vm.wait_writable`), so one process per connection is
the natural way to write a server, as in Erlang with `gen_tcp`:

    def main():
        lsock = net.listen(("127.0.0.1", 5555))
        while True:
            conn, addr = net.accept(lsock)
            vm.spawn(handle, net.handoff(conn))

    def handle(fd):
        conn = net.adopt(fd)
        while data := net.recv(conn, 4096):
            net.sendall(conn, data)

Sockets are OS objects, not terms: a message or a spawn argument cannot
hold one. `handoff(sock)` detaches it and returns its file descriptor (an
int, which is a term); the receiving process takes ownership with
`adopt(fd)`, like `gen_tcp:controlling_process/2`.

Timeouts are in seconds (None waits forever); a timeout raises
`TimeoutError`, as Python's own sockets do.
"""

from __future__ import annotations

import os
import selectors
import socket

from . import _api
from .errors import BadArg, show

__all__ = [
    "accept",
    "active",
    "adopt",
    "connect",
    "handoff",
    "listen",
    "recv",
    "recv_line",
    "sendall",
]


def _wait(ready, sock, timeout, what):
    if not ready(sock, timeout):
        raise TimeoutError(f"{what}: no progress within {timeout} s")


def listen(address, backlog: int = 128, reuse_address: bool = True) -> socket.socket:
    """A non-blocking listening TCP socket bound to `address` ((host, port); port 0 picks one)."""
    family = socket.AF_INET6 if ":" in str(address[0]) else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    if reuse_address:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(address)
    s.listen(backlog)
    s.setblocking(False)
    return s


def accept(lsock: socket.socket, timeout=None):
    """Wait for a connection; returns `(conn, address)` with `conn` non-blocking."""
    while True:
        try:
            conn, addr = lsock.accept()
        except BlockingIOError:
            _wait(_api.wait_readable, lsock, timeout, "accept")
            continue
        conn.setblocking(False)
        return conn, addr


def connect(address, timeout=None) -> socket.socket:
    """Connect to `address`; returns a non-blocking socket."""
    family = socket.AF_INET6 if ":" in str(address[0]) else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setblocking(False)
    err = s.connect_ex(address)
    if err not in (0, 115, 36, 10035):  # 0, EINPROGRESS (Linux, macOS), WSAEWOULDBLOCK
        s.close()
        raise ConnectionRefusedError(err, f"connect to {show(address)} failed")
    if err:
        _wait(_api.wait_writable, s, timeout, "connect")
        err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            s.close()
            raise ConnectionRefusedError(err, f"connect to {show(address)} failed")
    return s


def recv(sock: socket.socket, n: int = 65536, timeout=None) -> bytes:
    """Receive up to n bytes; b"" when the peer closed the connection."""
    while True:
        try:
            return sock.recv(n)
        except BlockingIOError:
            _wait(_api.wait_readable, sock, timeout, "recv")


def recv_line(sock: socket.socket, buffer: bytearray, timeout=None, limit: int = 1 << 20):
    """Read one line (ending in b"\\n") using `buffer` for what was read past it.

    Returns the line with its newline, or b"" at end of stream.
    """
    while True:
        i = buffer.find(b"\n")
        if i >= 0:
            line = bytes(buffer[: i + 1])
            del buffer[: i + 1]
            return line
        if len(buffer) > limit:
            raise ValueError(f"line longer than {limit} bytes")
        chunk = recv(sock, 65536, timeout)
        if not chunk:
            rest = bytes(buffer)
            buffer.clear()
            return rest
        buffer += chunk


def sendall(sock: socket.socket, data: bytes, timeout=None) -> None:
    """Send all of data, parking whenever the socket's buffer is full."""
    view = memoryview(data)
    while view:
        try:
            sent = sock.send(view)
        except BlockingIOError:
            _wait(_api.wait_writable, sock, timeout, "sendall")
            continue
        view = view[sent:]


def handoff(sock: socket.socket) -> int:
    """Detach `sock` and return its file descriptor, to send to the process that adopts it."""
    if not isinstance(sock, socket.socket):
        raise BadArg(f"handoff takes a socket, not {type(sock).__name__}")
    return sock.detach()


def adopt(fd: int) -> socket.socket:
    """Take ownership of a socket another process handed off; returns it non-blocking."""
    if type(fd) is not int or fd < 0:
        raise BadArg(f"adopt takes the file descriptor handoff() returned, not {show(fd)}")
    s = socket.socket(fileno=fd)
    s.setblocking(False)
    return s


def active(sock: socket.socket):
    """Deliver what arrives on `sock` to the calling process as messages.

    Like gen_tcp's `{active, true}`: a linked reader process sends
    `("tcp", tag, data)` for each chunk and `("tcp_closed", tag)` at the end,
    where `tag` is `sock.fileno()`. The caller keeps `sock` for writing, so it
    can wait for data and for messages from other processes in one `receive`.
    The reader reads its own duplicate of the descriptor; it ends with its
    owner, whatever the owner's exit reason (as a port closes with its owner),
    so the peer sees the connection close once the owner has closed `sock`.
    Returns the reader's pid.
    """
    if not isinstance(sock, socket.socket):
        raise BadArg(f"active takes a socket, not {type(sock).__name__}")
    tag = sock.fileno()
    return _api.spawn_link(_reader, os.dup(tag), _api.self(), tag)


def _reader(fd, owner, tag):
    from greenlet import getcurrent

    from ._io import MESSAGE
    from ._mailbox import receive

    _api.process_flag("trap_exit", True)  # to hear of the owner's exit, even a normal one
    me = getcurrent()
    waits = me.node.io_waits()
    sock = adopt(fd)
    try:
        while True:
            if waits.wait(me, sock, selectors.EVENT_READ, None, messages=True) is MESSAGE:
                msg = receive()
                if type(msg) is tuple and len(msg) == 3 and msg[0] == "EXIT" and msg[1] == owner:
                    return
                continue
            try:
                data = sock.recv(65536)
            except BlockingIOError:
                continue
            except OSError:
                data = b""
            if not data:
                _api.send(owner, ("tcp_closed", tag))
                return
            _api.send(owner, ("tcp", tag, data))
    finally:
        sock.close()
