"""A connection to another node: frames, control messages, and the two processes that run it.

What this module owns, per connected node:

- the **controller**, a beamlet process that dials (or accepts), runs the
  handshake, then owns the socket's write side: local senders encode their
  frame themselves and send the bytes to the controller, which writes them
  in the order they came (so per-pair order is the order of its mailbox),
  batching whatever has queued up. It sends a tick when it has written
  nothing for a quarter of `net_ticktime`, and declares the peer down when
  nothing has been read for `net_ticktime`.
- the **reader**, a process that reads frames and acts on each in turn (one
  reader per connection, never a task per message, so the peer's order is
  kept): messages are delivered, exit signals applied, monitors recorded.
- the connection's tables: the links between local and remote pids, the
  monitors in both directions, and the pending unlinks (the UNLINK_ID
  protocol: an EXIT for a link we already removed is ignored; our
  UNLINK_ID_ACK goes out through the controller, after whatever the local
  process had sent before). When a local process in those tables dies, the
  core tells the node (`vm/_remote.py`), which calls `local_died` here to
  send the peer its EXIT, MONITOR_P_EXIT and DEMONITOR_P signals.

Frames carry no atom cache (beamlet does not announce it): each one is the
pass-through byte 112, a control tuple, and for some operations a payload
term. A frame that is not that, or a control tuple that is malformed,
disconnects the peer with a log record and costs the node nothing else. A
well-formed message holding something beamlet cannot represent (a fun, a
port, a bit string that is not whole bytes) disconnects the peer too, with
a warning naming what it held, as an Erlang node does with a term it
cannot decode: the sender learns at once (a `gen_server:call` fails with
`nodedown` instead of timing out), where a dropped message would leave it
waiting. An exit signal whose reason holds such a term still arrives, with
the reason `("unsupported_term", why)`: a lost signal would break the link.

When the connection goes down, each link across it delivers an exit signal
`noconnection`, each monitor a DOWN `noconnection`, and `monitor_node`
subscribers get `("nodedown", node)`.

What it refuses: names, EPMD and the connection table (`kernel.py`), the
handshake's bytes (`handshake.py`).
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import time

from .. import _api as api
from .. import net
from .._mailbox import receive
from ..terms import TIMEOUT, Atom, Pid, Ref
from . import local
from .codec import DecodeError, EncodeError, UnsupportedTerm
from .epmd import EPMDError, port_please
from .handshake import (
    EXIT_PAYLOAD,
    HandshakeError,
    Me,
    Peer,
    SimultaneousLost,
    accept,
    initiate,
)
from .stream import ConnectionClosed, PacketTooLarge, Stream

log = logging.getLogger("beamlet.dist")

PASS_THROUGH = 112
LINK, SEND, EXIT, UNLINK, NODE_LINK, REG_SEND, GROUP_LEADER, EXIT2 = 1, 2, 3, 4, 5, 6, 7, 8
SEND_TT, EXIT_TT, REG_SEND_TT, EXIT2_TT = 12, 13, 16, 18
MONITOR_P, DEMONITOR_P, MONITOR_P_EXIT = 19, 20, 21
SEND_SENDER, SEND_SENDER_TT = 22, 23
PAYLOAD_EXIT, PAYLOAD_EXIT_TT, PAYLOAD_EXIT2, PAYLOAD_EXIT2_TT = 24, 25, 26, 27
PAYLOAD_MONITOR_P_EXIT = 28
SPAWN_REQUEST, SPAWN_REQUEST_TT, SPAWN_REPLY, SPAWN_REPLY_TT = 29, 30, 31, 32
ALIAS_SEND, ALIAS_SEND_TT = 33, 34
UNLINK_ID, UNLINK_ID_ACK = 35, 36

NOCONNECTION = Atom("noconnection")
NOPROC = Atom("noproc")
EMPTY = Atom("")
TICK = b"\0\0\0\0"
_NO_PAYLOAD = object()
_BATCH = 512  # frames written in one sendall at most


class UnrepresentableMessage(ValueError):
    """A well-formed message holds a term beamlet has no Python form for."""


class MalformedFrame(ValueError):
    """A frame that breaks the protocol; the peer is disconnected."""


class Connection:
    """One connection's state, shared by its controller, its reader and local senders."""

    def __init__(self, dist, peer_name: str, role: str):
        self.dist = dist
        self.peer_name = peer_name
        self.role = role  # "initiator" or "acceptor"
        self.state = "pending"  # -> "up" -> "down"
        self.peer: Peer | None = None  # once up
        self.controller: Pid | None = None
        self.reader: Pid | None = None
        self.encoder = dist.make_encoder()
        self.decoder = dist.make_decoder()
        self.last_recv = self.last_sent = time.monotonic()
        self.links: set = set()  # (local pid, remote pid)
        self.monitors_in: dict = {}  # ref -> (local pid, remote watcher pid, obj)
        self.monitors_out: dict = {}  # ref -> (local watcher pid, obj)
        self.unlink_id = 0
        self.queue: list = []  # frames posted before the handshake finished
        # The controller's socket once up: senders write to it directly.
        self.sock: socket.socket | None = None
        self.busy = False  # the controller holds frames not yet written: queue behind them
        self.address: tuple | None = None  # the peer's (host, port), for log records

    def __repr__(self):
        return f"<Connection {self.peer_name} {self.role} {self.state}>"

    @property
    def payload_exits(self) -> bool:
        return self.peer is not None and bool(self.peer.flags & EXIT_PAYLOAD)

    # ------------------------------------------------------------------
    # frames

    def frame(self, control, payload=_NO_PAYLOAD) -> bytes:
        """The bytes of one frame (length prefix included); raises EncodeError."""
        body = self.encoder.encode(control)
        if payload is not _NO_PAYLOAD:
            body += self.encoder.encode(payload)
        return struct.pack(">IB", len(body) + 1, PASS_THROUGH) + body

    def post(self, data: bytes) -> None:
        """Queue frame bytes for the controller to write (dropped once the connection is down).

        Until the handshake is done they wait on the connection itself, so that a
        connection that replaces this one (a simultaneous connect) can take them over.
        """
        if self.state == "up":
            if not self.busy and self.sock is not None:
                # The common case: nothing is queued, so the sender writes the frame
                # itself (a small frame fits the socket buffer whole); a switch to the
                # controller and back would cost more than the write.
                try:
                    n = self.sock.send(data)
                except (BlockingIOError, InterruptedError):
                    n = 0
                except OSError:
                    n = 0  # the controller finds the broken connection and ends it
                self.last_sent = time.monotonic()
                if n == len(data):
                    return
                data = data[n:]
                self.busy = True  # everything after this waits behind the rest
            local.deliver(self.dist.vm_node, self.controller, data)
        elif self.state == "pending":
            self.queue.append(data)

    def adopt(self, old: "Connection") -> None:
        """Take over what was sent and set up through a connection this one replaces."""
        self.queue[:0] = old.queue
        self.links |= old.links
        self.monitors_in.update(old.monitors_in)
        self.monitors_out.update(old.monitors_out)
        old.queue, old.links, old.monitors_in, old.monitors_out = [], set(), {}, {}

    def local_pids(self) -> set:
        """The local processes whose deaths this connection must report."""
        pids = {lp for lp, _ in self.links}
        pids.update(entry[0] for entry in self.monitors_in.values())
        pids.update(entry[0] for entry in self.monitors_out.values())
        return pids

    def exit_frame(self, sender: Pid, to: Pid, reason, linked: bool) -> bytes:
        if self.payload_exits:
            return self.frame((PAYLOAD_EXIT if linked else PAYLOAD_EXIT2, sender, to), reason)
        return self.frame((EXIT if linked else EXIT2, sender, to, reason))

    def monitor_exit_frame(self, obj, watcher: Pid, ref: Ref, reason) -> bytes:
        if self.payload_exits:
            return self.frame((PAYLOAD_MONITOR_P_EXIT, obj, watcher, ref), reason)
        return self.frame((MONITOR_P_EXIT, obj, watcher, ref, reason))

    # ------------------------------------------------------------------
    # what local processes do across this connection

    def send(self, sender, dest, msg) -> None:
        if type(dest) is Pid:
            if sender is not None and self.dist.send_sender:
                data = self.frame((SEND_SENDER, sender, dest), msg)
            else:
                data = self.frame((SEND, EMPTY, dest), msg)
        elif type(dest) is Ref:
            data = self.frame((ALIAS_SEND, sender, dest), msg)
        else:
            data = self.frame((REG_SEND, sender, EMPTY, local.name_atom(dest)), msg)
        self.post(data)

    def link(self, pid: Pid, remote: Pid) -> None:
        if (pid, remote) in self.links:
            return
        self.links.add((pid, remote))
        self.dist.watch(pid)
        self.post(self.frame((LINK, pid, remote)))

    def unlink(self, pid: Pid, remote: Pid) -> None:
        if (pid, remote) not in self.links:
            return
        self.links.discard((pid, remote))
        self.unlink_id += 1
        self.post(self.frame((UNLINK_ID, self.unlink_id, pid, remote)))

    def exit2(self, sender: Pid, remote: Pid, reason) -> None:
        self.post(self.exit_frame(sender, remote, reason, False))

    def monitor(self, watcher: Pid, target, ref: Ref) -> None:
        """`target` is a remote pid or a registered name on the peer."""
        obj = target if type(target) is Pid else (local.name_atom(target), Atom(self.peer_name))
        self.monitors_out[ref] = (watcher, obj)
        self.dist.watch(watcher)
        remote = target if type(target) is Pid else local.name_atom(target)
        self.post(self.frame((MONITOR_P, watcher, remote, ref)))

    def demonitor(self, watcher: Pid, ref: Ref) -> bool:
        entry = self.monitors_out.pop(ref, None)
        if entry is None:
            return False
        obj = entry[1]
        remote = obj if type(obj) is Pid else obj[0]
        self.post(self.frame((DEMONITOR_P, watcher, remote, ref)))
        return True

    # ------------------------------------------------------------------
    # the end

    def went_down(self, node) -> None:
        """Tell every local process that watched something across this connection."""
        self.state = "down"
        for pid, remote in list(self.links):
            local.exit_signal(node, pid, remote, NOCONNECTION, True)
        self.links.clear()
        for ref, (watcher, obj) in list(self.monitors_out.items()):
            local.down(node, watcher, ref, obj, NOCONNECTION)
        self.monitors_out.clear()
        self.monitors_in.clear()


# ----------------------------------------------------------------------
# the controller


def run_controller(dist, conn: Connection, fd=None):
    """A connection's controller process: handshake, then writing, ticks, local deaths."""
    api.process_flag("trap_exit", True)
    node = local.node_of_current()
    stream = None
    try:
        stream = _setup(dist, conn, fd)
    except SimultaneousLost as e:
        # The peer keeps its own connection to us, which our acceptor is about to
        # receive; it will take this one's place (and what was queued on it).
        log.debug("%s", e)
        if receive(timeout=dist.setup_time) is TIMEOUT or conn.state == "pending":
            dist.attempt_failed(conn, str(e))
        return
    except (HandshakeError, EPMDError, ConnectionClosed, OSError, TimeoutError) as e:
        if conn.role == "acceptor":  # someone dialled us and failed: say who and why
            log.warning("** Refused a connection from %s: %s **", describe_peer(conn), e,
                        extra={"node": conn.peer_name, "peer_address": conn.address})
        dist.attempt_failed(conn, str(e))
        if stream is not None:
            stream.close()
        return
    dup = os.dup(stream.sock.fileno())
    conn.reader = api.spawn_link(lambda: run_reader(dist, conn, dup))
    dist.connection_up(conn)
    reason = "normal"
    for pid in conn.local_pids():  # died while we were connecting: tell the peer now
        if not dist.watch(pid):
            local_died(conn, pid, NOPROC, conn.queue)
    if conn.queue:
        stream.send(b"".join(conn.queue))
        conn.queue = []
    conn.sock = stream.sock
    try:
        reason = _serve(dist, conn, stream, node)
    finally:
        conn.state = "down"
        conn.sock = None
        try:  # the reader's duplicate descriptor must not keep the connection open
            stream.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        stream.close()
        if conn.reader is not None:
            api.exit(conn.reader, Atom("kill"))
        dist.connection_down(conn, reason)


def _setup(dist, conn, fd):
    me = Me(dist.name, dist.creation, dist.cookie, dist.hidden)
    if fd is not None:
        stream = Stream(net.adopt(fd), dist.max_frame)
        try:
            peer = accept(stream, me, lambda name: dist.on_pending(conn, name),
                          timeout=dist.setup_time)
        except BaseException:
            stream.close()
            raise
        conn.peer_name = peer.name
    else:
        host = conn.peer_name.split("@", 1)[1]
        info = port_please(conn.peer_name.split("@", 1)[0], host, dist.epmd_port,
                           timeout=dist.setup_time)
        if info is None:
            raise EPMDError(f"{conn.peer_name}: no such node is registered on {host}")
        sock = net.connect((_address(host), info.port), timeout=dist.setup_time)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        conn.address = sock.getpeername()[:2]
        stream = Stream(sock, dist.max_frame)
        try:
            peer = initiate(stream, me, conn.peer_name, timeout=dist.setup_time)
        except BaseException:
            stream.close()
            raise
    conn.peer = peer
    return stream


def describe_peer(conn: Connection) -> str:
    """`127.0.0.1:40211 (node a@host)` or just the address, for log records."""
    where = f"{conn.address[0]}:{conn.address[1]}" if conn.address else "an unknown address"
    return where if conn.peer_name == "?" else f"{where} (node {conn.peer_name})"


def _address(host: str) -> str:
    try:
        return socket.gethostbyname(host)
    except OSError:
        return host


def _serve(dist, conn, stream, node):
    interval = dist.net_ticktime / 4
    batch: list = []
    while True:
        msg = api_receive(timeout=interval)
        n = 0
        drained = False
        while msg is not TIMEOUT:
            if type(msg) is bytes:
                batch.append(msg)
            else:
                stop = _control(dist, conn, node, msg, batch)
                if stop is not None:
                    if batch:
                        _write(stream, conn, batch)
                    return stop
            n += 1
            if n >= _BATCH:
                break
            msg = api_receive(timeout=0)
        else:
            drained = True
        if batch:
            _write(stream, conn, batch)
        if drained and not _frames_waiting():
            conn.busy = False  # nothing of ours is unwritten: senders may write again
        now = time.monotonic()
        if now - conn.last_recv > dist.net_ticktime:
            log.warning("** Node %s not responding ** ** Removing (timedout) connection **",
                        conn.peer_name, extra={"node": conn.peer_name})
            return "net_tick_timeout"
        if now - conn.last_sent >= interval:
            stream.send(TICK)
            conn.last_sent = now


def api_receive(timeout):
    return receive(timeout=timeout)


def _frames_waiting() -> bool:
    """Messages arrived while the controller was writing (its write may have parked)."""
    return api.process_info(api.self(), "message_queue_len") > 0


def _write(stream, conn, batch):
    stream.send(b"".join(batch) if len(batch) > 1 else batch[0])
    batch.clear()
    conn.last_sent = time.monotonic()


def _control(dist, conn, node, msg, batch):
    """A non-frame message to the controller; returns a reason to stop, or None."""
    if type(msg) is not tuple or not msg:
        return None
    tag = msg[0]
    if tag == "EXIT" and len(msg) == 3:
        if msg[1] == conn.reader:
            return msg[2] if msg[2] != "normal" else "connection_closed"
        if msg[2] == "kill" or msg[1] == dist.kernel:
            return "shutdown"
    elif tag == "disconnect":
        return "disconnect"
    return None


def local_died(conn, pid, reason, batch):
    """A local process that remote processes link to or monitor (or that watches
    remote ones) is gone: tell the peer."""
    for link in [lk for lk in conn.links if lk[0] == pid]:
        conn.links.discard(link)
        remote = link[1]
        batch.append(conn.exit_frame(pid, remote, reason, True))
    for ref, (_, watcher, obj) in [m for m in conn.monitors_in.items() if m[1][0] == pid]:
        del conn.monitors_in[ref]
        batch.append(conn.monitor_exit_frame(obj, watcher, ref, reason))
    for ref, (_, obj) in [m for m in conn.monitors_out.items() if m[1][0] == pid]:
        del conn.monitors_out[ref]
        remote = obj if type(obj) is Pid else obj[0]
        batch.append(conn.frame((DEMONITOR_P, pid, remote, ref)))


# ----------------------------------------------------------------------
# the reader


def run_reader(dist, conn: Connection, fd):
    """A connection's reader process: each frame in turn, in the peer's order."""
    node = local.node_of_current()
    stream = Stream(net.adopt(fd), dist.max_frame)
    try:
        for frame in stream.packets():
            conn.last_recv = time.monotonic()
            if frame:
                _frame(dist, conn, node, frame)
    except ConnectionClosed:
        api.exit("connection_closed")
    except UnrepresentableMessage as e:
        log.warning("** Disconnecting %s: %s; beamlet has no Python form for it, and closes "
                    "the connection as OTP does on a term it cannot decode **",
                    describe_peer(conn), e,
                    extra={"node": conn.peer_name, "peer_address": conn.address})
        api.exit(("unrepresentable_message", str(e)))
    except (PacketTooLarge, MalformedFrame, DecodeError) as e:
        log.error("** Disconnecting %s: it sent a malformed frame: %s **", describe_peer(conn),
                  e, extra={"node": conn.peer_name, "peer_address": conn.address})
        api.exit(("malformed_frame", str(e)))
    finally:
        stream.close()


def _frame(dist, conn, node, frame):
    if frame[0] != PASS_THROUGH:
        raise MalformedFrame(f"frame starts with {frame[0]}, not the pass-through byte 112")
    dec = conn.decoder
    control, i = dec.decode(frame, 1)
    if type(control) is not tuple or not control or type(control[0]) is not int:
        raise MalformedFrame(f"control message {control!r} is not a tuple led by an operation")
    op = control[0]
    if op in _WITH_PAYLOAD:
        try:
            payload, end = dec.decode(frame, i)
        except UnsupportedTerm as e:
            if op not in _SIGNAL_PAYLOADS:
                raise UnrepresentableMessage(f"a message to {control[-1]!r} holds {e}") from None
            # An exit reason we cannot hold still ends the link or monitor.
            payload, end = (UNSUPPORTED_REASON, str(e)), len(frame)
        if end != len(frame):
            raise MalformedFrame("bytes after the payload")
    elif i != len(frame):
        raise MalformedFrame(f"bytes after control message {op}")
    else:
        payload = None
    handler = _HANDLERS.get(op)
    if handler is None:
        raise MalformedFrame(f"unknown or unsupported control operation {op}")
    try:
        handler(dist, conn, node, control, payload)
    except (ValueError, TypeError, IndexError) as e:
        raise MalformedFrame(f"control message {control!r}: {e}") from None


def _pid(x) -> Pid:
    if type(x) is not Pid:
        raise MalformedFrame(f"expected a pid, got {x!r}")
    return x


def _arity(control, *allowed):
    if len(control) not in allowed:
        raise MalformedFrame(f"control message {control[0]} with {len(control)} elements")


def _on_send(dist, conn, node, c, msg):
    _arity(c, 3, 4)
    local.deliver(node, _pid(c[2]), msg)


def _on_reg_send(dist, conn, node, c, msg):
    _arity(c, 4, 5)
    name = c[3]
    if type(name) is not Atom:
        raise MalformedFrame(f"REG_SEND to {name!r}, not an atom")
    local.deliver(node, name, msg)


def _on_alias_send(dist, conn, node, c, msg):
    _arity(c, 3, 4)
    if type(c[2]) is not Ref:
        raise MalformedFrame(f"ALIAS_SEND to {c[2]!r}, not a reference")
    local.deliver(node, c[2], msg)


def _on_link(dist, conn, node, c, _):
    _arity(c, 3)
    remote, pid = _pid(c[1]), _pid(c[2])
    if not dist.watch(pid):
        conn.post(conn.exit_frame(pid, remote, NOPROC, True))
        return
    conn.links.add((pid, remote))


def _on_unlink_id(dist, conn, node, c, _):
    _arity(c, 4)
    uid, remote, pid = c[1], _pid(c[2]), _pid(c[3])
    conn.links.discard((pid, remote))
    conn.post(conn.frame((UNLINK_ID_ACK, uid, pid, remote)))


def _on_unlink(dist, conn, node, c, _):  # before UNLINK_ID; a peer may still send it
    _arity(c, 3)
    conn.links.discard((_pid(c[2]), _pid(c[1])))


def _on_unlink_ack(dist, conn, node, c, _):
    _arity(c, 4)


def _on_exit(dist, conn, node, c, payload):
    op = c[0]
    linked = op in (EXIT, EXIT_TT, PAYLOAD_EXIT, PAYLOAD_EXIT_TT)
    if op in (PAYLOAD_EXIT, PAYLOAD_EXIT2, PAYLOAD_EXIT_TT, PAYLOAD_EXIT2_TT):
        reason = payload
    else:
        reason = c[-1]
    remote, pid = _pid(c[1]), _pid(c[2])
    if linked:
        if (pid, remote) not in conn.links:
            return  # unlinked meanwhile (UNLINK_ID): the signal is void
        conn.links.discard((pid, remote))
    local.exit_signal(node, pid, remote, reason, linked)


def _on_monitor(dist, conn, node, c, _):
    _arity(c, 4)
    watcher, target, ref = _pid(c[1]), c[2], c[3]
    if type(ref) is not Ref:
        raise MalformedFrame("MONITOR_P without a reference")
    if type(target) is not Pid and type(target) is not Atom:
        raise MalformedFrame(f"MONITOR_P of {target!r}")
    proc = local.lookup(node, target)
    if proc is None or not dist.watch(proc.pid):
        conn.post(conn.monitor_exit_frame(target, watcher, ref, NOPROC))
        return
    conn.monitors_in[ref] = (proc.pid, watcher, target)


def _on_demonitor(dist, conn, node, c, _):
    _arity(c, 4)
    conn.monitors_in.pop(c[3], None)


def _on_monitor_exit(dist, conn, node, c, payload):
    reason = payload if c[0] == PAYLOAD_MONITOR_P_EXIT else c[4]
    watcher, ref = _pid(c[2]), c[3]
    entry = conn.monitors_out.pop(ref, None)
    if entry is not None and entry[0] == watcher:
        local.down(node, watcher, ref, entry[1], reason)


def _on_group_leader(dist, conn, node, c, _):
    pass  # beamlet has no group leaders; the request is ignored


def _on_spawn_request(dist, conn, node, c, args):
    """Erlang's rpc:call and erpc arrive as spawn requests of erpc:execute_call/4 (and
    execute_cast/3); beamlet runs those (for exposed functions only, see rpc.py) and
    refuses every other spawn with `notsup`."""
    _arity(c, 6, 7)
    req_id, from_, mfa, opts = c[1], _pid(c[2]), c[4], c[-1]
    if type(args) is not list or type(opts) is not list:
        raise MalformedFrame("SPAWN_REQUEST without an argument list and an option list")
    from . import rpc

    kind = rpc.erpc_kind(mfa, args)
    if kind is None:
        conn.post(conn.frame((SPAWN_REPLY, req_id, from_, 0, Atom("notsup"))))
        return
    link = Atom("link") in opts
    monitor = any(o == "monitor" or (type(o) is tuple and o and o[0] == "monitor")
                  for o in opts)
    pid = api.spawn(lambda: rpc.execute(dist, conn, kind, args, from_, req_id, link, monitor))
    if link:
        conn.links.add((pid, from_))
    if monitor:
        conn.monitors_in[req_id] = (pid, from_, pid)
    if link or monitor:
        dist.watch(pid)
    conn.post(conn.frame((SPAWN_REPLY, req_id, from_, (1 if link else 0) | (2 if monitor else 0),
                          pid)))


UNSUPPORTED_REASON = Atom("unsupported_term")
_SIGNAL_PAYLOADS = {PAYLOAD_EXIT, PAYLOAD_EXIT_TT, PAYLOAD_EXIT2, PAYLOAD_EXIT2_TT,
                    PAYLOAD_MONITOR_P_EXIT}
_WITH_PAYLOAD = {SEND, REG_SEND, SEND_TT, REG_SEND_TT, SEND_SENDER, SEND_SENDER_TT,
                 PAYLOAD_EXIT, PAYLOAD_EXIT_TT, PAYLOAD_EXIT2, PAYLOAD_EXIT2_TT,
                 PAYLOAD_MONITOR_P_EXIT, ALIAS_SEND, ALIAS_SEND_TT, SPAWN_REQUEST,
                 SPAWN_REQUEST_TT}

_HANDLERS = {
    SEND: _on_send, SEND_TT: _on_send, SEND_SENDER: _on_send, SEND_SENDER_TT: _on_send,
    REG_SEND: _on_reg_send, REG_SEND_TT: _on_reg_send,
    ALIAS_SEND: _on_alias_send, ALIAS_SEND_TT: _on_alias_send,
    LINK: _on_link, UNLINK: _on_unlink, UNLINK_ID: _on_unlink_id, UNLINK_ID_ACK: _on_unlink_ack,
    EXIT: _on_exit, EXIT_TT: _on_exit, EXIT2: _on_exit, EXIT2_TT: _on_exit,
    PAYLOAD_EXIT: _on_exit, PAYLOAD_EXIT_TT: _on_exit, PAYLOAD_EXIT2: _on_exit,
    PAYLOAD_EXIT2_TT: _on_exit,
    MONITOR_P: _on_monitor, DEMONITOR_P: _on_demonitor,
    MONITOR_P_EXIT: _on_monitor_exit, PAYLOAD_MONITOR_P_EXIT: _on_monitor_exit,
    GROUP_LEADER: _on_group_leader,
    SPAWN_REQUEST: _on_spawn_request, SPAWN_REQUEST_TT: _on_spawn_request,
}

__all__ = ["Connection", "EncodeError", "run_controller", "run_reader"]
