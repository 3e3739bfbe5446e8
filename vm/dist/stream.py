"""A socket as a buffered byte stream, through the VM's own socket waits.

What this module owns: exact reads (`recv_exact`), length-prefixed packets
(2-byte during the handshake, 4-byte after it), and whole writes, each
parking only the calling process (`vm.net`). A peer that closes mid-packet
raises `ConnectionClosed`; a packet over `max_packet` raises
`PacketTooLarge` before anything is allocated for it.

What it refuses: meaning. Handshake messages and frames are read by
`handshake.py` and `connection.py`.
"""

from __future__ import annotations

import struct

from .. import net


class ConnectionClosed(ConnectionError):
    """The peer closed the connection (or it broke)."""


class PacketTooLarge(ConnectionError):
    """A length prefix announced more than this side accepts."""


class Stream:
    __slots__ = ("sock", "buf", "max_packet")

    def __init__(self, sock, max_packet: int = 128 << 20):
        self.sock = sock
        self.buf = bytearray()
        self.max_packet = max_packet

    def fill(self, timeout=None) -> int:
        """Read what the socket has (waiting for at least one byte); returns how much."""
        try:
            chunk = net.recv(self.sock, 262144, timeout=timeout)
        except TimeoutError:
            raise
        except OSError as e:
            raise ConnectionClosed(str(e)) from None
        if not chunk:
            raise ConnectionClosed("the peer closed the connection")
        self.buf += chunk
        return len(chunk)

    def recv_exact(self, n: int, timeout=None) -> bytes:
        while len(self.buf) < n:
            self.fill(timeout)
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def recv_packet(self, header: int, timeout=None) -> bytes:
        """One packet with a `header`-byte (2 or 4) big-endian length prefix."""
        fmt = ">H" if header == 2 else ">I"
        (n,) = struct.unpack(fmt, self.recv_exact(header, timeout))
        if n > self.max_packet:
            raise PacketTooLarge(f"a packet of {n} bytes is over the {self.max_packet} byte limit")
        return self.recv_exact(n, timeout)

    def packets(self, timeout=None):
        """4-byte-prefixed packets, as many as the buffer holds, reading when it holds none.

        Yields bytes; a zero-length packet (a tick) yields b"".
        """
        buf = self.buf
        while True:
            start = 0
            n_buf = len(buf)
            while n_buf - start >= 4:
                (n,) = struct.unpack_from(">I", buf, start)
                if n > self.max_packet:
                    raise PacketTooLarge(
                        f"a frame of {n} bytes is over the {self.max_packet} byte limit")
                if n_buf - start - 4 < n:
                    break
                yield bytes(buf[start + 4:start + 4 + n])
                start += 4 + n
            if start:
                del buf[:start]
            self.fill(timeout)

    def send(self, data: bytes, timeout=None):
        try:
            net.sendall(self.sock, data, timeout=timeout)
        except TimeoutError:
            raise
        except OSError as e:
            raise ConnectionClosed(str(e)) from None

    def send_packet(self, header: int, data: bytes, timeout=None):
        self.send(struct.pack(">H" if header == 2 else ">I", len(data)) + data, timeout)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass
