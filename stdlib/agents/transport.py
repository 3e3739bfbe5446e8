"""Byte streams to a server: TCP, or TLS over TCP, on the VM's own sockets.

What this module owns: connecting (name lookup, the connect timeout, the TLS
handshake) and moving bytes, so that a process waiting on a slow server is
a parked process, not a blocked thread. Every wait goes through `vm.net`
(which parks on `vm.wait_readable`/`wait_writable`), so a thousand
connections waiting on a model are a thousand parked processes and no
threads; killing the owning process interrupts any wait at once.

TLS uses the standard library's `ssl` with memory buffers
(`SSLContext.wrap_bio`): the `SSLObject` encrypts and decrypts, this module
carries the bytes between it and the socket. Certificates are verified and
host names checked (`ssl.create_default_context`); `ca_file` names a trust
root to use instead of the system's (a self-signed test server, a company
proxy). Contexts are built once per trust root and shared: after setup they
are read-only, like code.

Name lookup is the one call the OS offers only as a blocking function: a
host that is not an IP address is resolved on the dirty pool
(`vm.to_thread`), once per connection, within the connect timeout.

What it refuses: HTTP (http.py) and deciding deadlines: callers pass the
seconds they can wait, and `TimeoutError` says when they ran out.
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl

import vm
from vm import net

__all__ = ["Transport", "connect"]

_CONTEXTS: dict = {}


def tls_context(ca_file=None) -> ssl.SSLContext:
    ctx = _CONTEXTS.get(ca_file)
    if ctx is None:
        ctx = ssl.create_default_context(cafile=ca_file)
        ctx.set_alpn_protocols(["http/1.1"])
        _CONTEXTS[ca_file] = ctx
    return ctx


def _resolve(host, port, timeout):
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    infos = vm.to_thread(socket.getaddrinfo, host, port, 0, socket.SOCK_STREAM,
                         timeout=timeout)
    if not infos:
        raise OSError(f"no address found for {host!r}")
    v4 = [i for i in infos if i[0] == socket.AF_INET]
    return (v4 or infos)[0][4][0]


def connect(host: str, port: int, *, tls: bool, timeout=None, ca_file=None) -> Transport:
    """Connect (and handshake) within `timeout` seconds; raises OSError, TimeoutError,
    ssl.SSLError."""
    start = vm.monotonic()

    def left():
        if timeout is None:
            return None
        remaining = timeout - (vm.monotonic() - start)
        if remaining <= 0:
            raise TimeoutError(f"no connection to {host}:{port} within {timeout} s")
        return remaining

    address = _resolve(host, port, left())
    sock = net.connect((address, port), timeout=left())
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        t = Transport(sock)
        if tls:
            t.start_tls(tls_context(ca_file), host, left())
        return t
    except BaseException:
        sock.close()
        raise


class Transport:
    """A connected socket, optionally with TLS. Owned by one process."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.tls = None
        self._in = self._out = None

    def start_tls(self, ctx, server_hostname, timeout):
        self._in, self._out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self._in, self._out, server_hostname=server_hostname)
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self._flush(timeout)
                data = net.recv(self.sock, 65536, timeout)
                if not data:
                    raise ConnectionResetError("the server closed the connection during the "
                                               "TLS handshake") from None
                self._in.write(data)
        self._flush(timeout)

    def _flush(self, timeout):
        out = self._out.read()
        if out:
            net.sendall(self.sock, out, timeout)

    def sendall(self, data: bytes, timeout=None) -> None:
        if self.tls is None:
            net.sendall(self.sock, data, timeout)
            return
        view = memoryview(data)
        while view:
            n = self.tls.write(view[:65536])
            view = view[n:]
            self._flush(timeout)

    def recv(self, timeout=None) -> bytes:
        """Some bytes, or b"" at the end of the stream."""
        if self.tls is None:
            return net.recv(self.sock, 65536, timeout)
        while True:
            try:
                return self.tls.read(65536)
            except ssl.SSLWantReadError:
                self._flush(timeout)
                data = net.recv(self.sock, 65536, timeout)
                if data:
                    self._in.write(data)
                else:
                    self._in.write_eof()
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""  # a close_notify, or a ragged end: HTTP framing decides

    def stale(self) -> bool:
        """True if the server closed (or sent something unasked) while we were idle."""
        try:
            self.sock.recv(1, socket.MSG_PEEK)
        except BlockingIOError:
            return False
        except OSError:
            return True
        return True  # b"" (closed) or bytes nobody asked for: not reusable either way

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.close()
