"""beamlet's own port mapper: an EPMD-compatible registry daemon.

    python -m vm.dist.epmd_daemon [--port 4369] [--address 127.0.0.1] [--daemon]

What this module owns: answering the port mapper protocol (version 6) so
that a machine without Erlang installed can still run named beamlet nodes,
and so that Erlang nodes and `epmd -names` can use it too: ALIVE2_REQ
(a registration lasts as long as its connection), PORT_PLEASE2_REQ,
NAMES_REQ, and KILL_REQ. It is a separate OS process that outlives the
nodes that started it, as epmd does; `ensure_running()` starts one when no
port mapper answers.

It listens on loopback by default (`--address` to change that), keeps
requests small (a request over 1 KiB closes its connection), and assigns
each registration a fresh 32-bit creation, so a restarted node's old pids
are never confused with the new ones.

What it refuses: anything the real epmd would not do for a remote client;
DUMP and STOP are not implemented (tools use KILL).
"""

from __future__ import annotations

import argparse
import os
import random
import selectors
import socket
import struct
import subprocess
import sys
import time

from .epmd import (
    ALIVE2_REQ,
    ALIVE2_X_RESP,
    KILL_REQ,
    NAMES_REQ,
    PORT_PLEASE2_REQ,
    EPMDError,
    epmd_port,
    is_running,
    parse_alive2,
    port2_response,
)

MAX_REQUEST = 1024


class Registry:
    """The port mapper's state and its single-threaded loop."""

    def __init__(self, address: str = "127.0.0.1", port: int = 4369):
        self.listener = socket.create_server((address, port), reuse_port=False)
        self.listener.setblocking(False)
        self.port = self.listener.getsockname()[1]
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.listener, selectors.EVENT_READ, None)
        self.nodes: dict = {}  # name -> (NodeInfo, socket)
        self.buffers: dict = {}  # socket -> bytearray
        self.creation = random.randrange(4, 1 << 32)
        self.running = True

    def serve(self):
        while self.running:
            for key, _ in self.sel.select(1.0):
                if key.data is None:
                    self._accept()
                else:
                    self._readable(key.fileobj)
        self.sel.close()
        self.listener.close()

    def _accept(self):
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        conn.setblocking(False)
        self.buffers[conn] = bytearray()
        self.sel.register(conn, selectors.EVENT_READ, "client")

    def _close(self, conn):
        for name, (_info, sock) in list(self.nodes.items()):
            if sock is conn:
                del self.nodes[name]
        self.buffers.pop(conn, None)
        try:
            self.sel.unregister(conn)
        except (KeyError, ValueError):
            pass
        conn.close()

    def _readable(self, conn):
        try:
            data = conn.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if not data:
            self._close(conn)
            return
        if any(sock is conn for _info, sock in self.nodes.values()):
            return  # a registered node says nothing more until it goes away
        buf = self.buffers[conn]
        buf += data
        if len(buf) < 2:
            return
        (n,) = struct.unpack_from(">H", buf)
        if n == 0 or n > MAX_REQUEST:
            self._close(conn)
            return
        if len(buf) < 2 + n:
            return
        body = bytes(buf[2:2 + n])
        buf.clear()
        self._request(conn, body)

    def _reply(self, conn, data, close=True):
        try:
            conn.setblocking(True)
            conn.settimeout(2.0)
            conn.sendall(data)
            conn.setblocking(False)
        except OSError:
            close = True
        if close:
            self._close(conn)

    def _request(self, conn, body):
        tag = body[0]
        if tag == ALIVE2_REQ:
            try:
                info = parse_alive2(body)
            except (EPMDError, struct.error, UnicodeDecodeError):
                self._close(conn)
                return
            if info.name in self.nodes:
                self._reply(conn, struct.pack(">BBI", ALIVE2_X_RESP, 1, 0))
                return
            creation = self._next_creation()
            self.nodes[info.name] = (info, conn)
            self._reply(conn, struct.pack(">BBI", ALIVE2_X_RESP, 0, creation), close=False)
        elif tag == PORT_PLEASE2_REQ:
            name = body[1:].decode("utf-8", "replace")
            entry = self.nodes.get(name)
            self._reply(conn, port2_response(entry[0] if entry else None))
        elif tag == NAMES_REQ:
            lines = "".join(f"name {name} at port {info.port}\n"
                            for name, (info, _) in self.nodes.items())
            self._reply(conn, struct.pack(">I", self.port) + lines.encode("utf-8"))
        elif tag == KILL_REQ:
            self._reply(conn, b"OK")
            self.running = False
        else:
            self._close(conn)

    def _next_creation(self) -> int:
        c = self.creation
        self.creation = c + 1 if c + 1 < (1 << 32) else 4
        return c


def ensure_running(port: int | None = None, address: str = "127.0.0.1",
                   wait: float = 5.0) -> str:
    """Make sure a port mapper answers on `port`; start beamlet's own if none does.

    Returns "running" (one was there: epmd, or ours) or "started".
    """
    port = port or epmd_port()
    if is_running(address, port):
        return "running"
    subprocess.Popen(
        [sys.executable, "-m", "vm.dist.epmd_daemon", "--port", str(port), "--address", address],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        start_new_session=True, close_fds=True,
        cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
    )
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if is_running(address, port):
            return "started"
        time.sleep(0.02)
    raise EPMDError(f"started a port mapper on {address}:{port}, but it does not answer")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="beamlet's EPMD-compatible port mapper")
    parser.add_argument("--port", type=int, default=None,
                        help="port (default ERL_EPMD_PORT or 4369)")
    parser.add_argument("--address", default="127.0.0.1", help="address to listen on")
    args = parser.parse_args(argv)
    try:
        registry = Registry(args.address, args.port or epmd_port())
    except OSError as e:
        print(f"epmd_daemon: cannot listen on {args.address}:{args.port}: {e}", file=sys.stderr)
        return 1
    try:
        registry.serve()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
