"""The distribution handshake, version 6, as initiator and as acceptor.

What this module owns: the flag set beamlet announces (`OUR_FLAGS`, the
one place it is kept), the checks on the peer's flags, the cookie
challenge, and the simultaneous-connect rule. The exchange (2-byte length
prefixes throughout):

    initiator                                 acceptor
    'N' flags:64 creation:32 nlen:16 name  ->
                                          <-  's' status ("ok", "ok_simultaneous",
                                              "nok", "not_allowed", "alive")
    ('s' "true"/"false" after "alive")     ->
                                          <-  'N' flags:64 challenge:32 creation:32
                                              nlen:16 name
    'r' challenge:32 digest:128            ->
                                          <-  'a' digest:128

A digest is MD5(cookie ++ the decimal text of the other side's challenge).
A wrong digest ends the handshake: the acceptor logs the attempt (naming
the peer, never the cookie) and closes the connection, as a real node does.

Simultaneous connects: when both nodes dial each other, the acceptor asks
its node (`on_pending(peer)`) what to do; the node whose name is greater
keeps its own outgoing attempt, answering "nok" to the other's, and the
smaller one gives its attempt up and answers "ok_simultaneous".

What it refuses: sockets and processes (`stream.py`, `connection.py`), and
peers without the flags OTP 25 made mandatory (OTP 26 refuses those too).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import struct
from dataclasses import dataclass

from .cookie import Cookie
from .stream import ConnectionClosed, Stream

log = logging.getLogger("beamlet.dist")

# ----------------------------------------------------------------------
# the flags: kept here, and only here

PUBLISHED = 0x01
ATOM_CACHE = 0x02
EXTENDED_REFERENCES = 0x04
DIST_MONITOR = 0x08
FUN_TAGS = 0x10
DIST_MONITOR_NAME = 0x20
NEW_FUN_TAGS = 0x80
EXTENDED_PIDS_PORTS = 0x100
EXPORT_PTR_TAG = 0x200
BIT_BINARIES = 0x400
NEW_FLOATS = 0x800
UNICODE_IO = 0x1000
DIST_HDR_ATOM_CACHE = 0x2000
SMALL_ATOM_TAGS = 0x4000
UTF8_ATOMS = 0x10000
MAP_TAG = 0x20000
BIG_CREATION = 0x40000
SEND_SENDER = 0x80000
BIG_SEQTRACE_LABELS = 0x100000
EXIT_PAYLOAD = 0x400000
FRAGMENTS = 0x800000
HANDSHAKE_23 = 0x1000000
UNLINK_ID = 0x2000000
MANDATORY_25_DIGEST = 0x4000000
SPAWN = 1 << 32
NAME_ME = 1 << 33
V4_NC = 1 << 34
ALIAS = 1 << 35

#: What OTP 25 requires of every peer (a peer may say so with MANDATORY_25_DIGEST).
MANDATORY_25 = (EXTENDED_REFERENCES | FUN_TAGS | NEW_FUN_TAGS | EXTENDED_PIDS_PORTS
                | EXPORT_PTR_TAG | BIT_BINARIES | NEW_FLOATS | UTF8_ATOMS | MAP_TAG
                | BIG_CREATION | HANDSHAKE_23)
#: What OTP 26 adds to that; beamlet requires it of its peers as OTP 26 does.
MANDATORY_26 = V4_NC | UNLINK_ID

#: Everything beamlet announces. Not announced, so peers never send them:
#: ATOM_CACHE / DIST_HDR_ATOM_CACHE (every frame is a pass-through frame),
#: FRAGMENTS (every message arrives whole), NAME_ME. SPAWN is announced because
#: OTP's rpc:call and erpc arrive as spawn requests (only erpc's are served).
OUR_FLAGS = (MANDATORY_25 | MANDATORY_26 | MANDATORY_25_DIGEST | DIST_MONITOR
             | DIST_MONITOR_NAME | SMALL_ATOM_TAGS | UNICODE_IO | SEND_SENDER
             | BIG_SEQTRACE_LABELS | EXIT_PAYLOAD | ALIAS | SPAWN)

VERSION = 6
SETUP_TIMEOUT = 7.0  # OTP's net_setuptime


class HandshakeError(ConnectionError):
    """The handshake failed; the message says why (never with the cookie)."""


@dataclass(frozen=True)
class Me:
    """This node as the handshake presents it."""

    name: str  # "name@host"
    creation: int
    cookie: Cookie
    hidden: bool = True

    @property
    def flags(self) -> int:
        return OUR_FLAGS if self.hidden else OUR_FLAGS | PUBLISHED


@dataclass(frozen=True)
class Peer:
    """What the handshake learned about the other node."""

    name: str
    flags: int
    creation: int

    @property
    def hidden(self) -> bool:
        return not self.flags & PUBLISHED


def digest(cookie: Cookie, challenge: int) -> bytes:
    return hashlib.md5(cookie.secret + str(challenge).encode("ascii")).digest()


def check_flags(name: str, flags: int):
    missing = MANDATORY_25 & ~flags
    if missing and flags & MANDATORY_25_DIGEST:
        missing = 0
    missing |= MANDATORY_26 & ~flags
    if missing:
        raise HandshakeError(
            f"{name} lacks the distribution flags {missing:#x} that OTP 25/26 make mandatory; "
            "it is too old (or not an Erlang node)")


def check_name(name: str) -> str:
    if name.count("@") != 1 or name.startswith("@") or name.endswith("@"):
        raise HandshakeError(f"{name!r} is not a node name (name@host)")
    return name


def _name_packet(me: Me) -> bytes:
    raw = me.name.encode("utf-8")
    return b"N" + struct.pack(">QIH", me.flags, me.creation, len(raw)) + raw


def _parse_name(packet: bytes) -> Peer:
    if len(packet) < 15 or packet[0:1] != b"N":
        raise HandshakeError(f"expected the peer's name ('N'), got {packet[:1]!r}; "
                             "old peers (version 5, 'n') are not supported")
    flags, creation, nlen = struct.unpack_from(">QIH", packet, 1)
    name = packet[15:15 + nlen].decode("utf-8", "replace")
    if len(packet) != 15 + nlen:
        raise HandshakeError("malformed name message")
    check_flags(name, flags)
    return Peer(check_name(name), flags, creation)


def _parse_challenge(packet: bytes) -> tuple[Peer, int]:
    if len(packet) < 19 or packet[0:1] != b"N":
        raise HandshakeError(f"expected a challenge ('N'), got {packet[:1]!r}")
    flags, challenge, creation, nlen = struct.unpack_from(">QIIH", packet, 1)
    name = packet[19:19 + nlen].decode("utf-8", "replace")
    if len(packet) != 19 + nlen:
        raise HandshakeError("malformed challenge message")
    check_flags(name, flags)
    return Peer(check_name(name), flags, creation), challenge


def _recv(stream: Stream, timeout) -> bytes:
    try:
        return stream.recv_packet(2, timeout)
    except TimeoutError:
        raise HandshakeError(f"the handshake did not finish within {timeout} s") from None
    except ConnectionClosed:
        raise HandshakeError("the peer closed the connection during the handshake "
                             "(a wrong cookie, or it refused us)") from None


# ----------------------------------------------------------------------
# initiator


def initiate(stream: Stream, me: Me, expected: str, timeout=SETUP_TIMEOUT) -> Peer:
    """Run the handshake on a fresh connection to node `expected`; return the peer."""
    stream.send_packet(2, _name_packet(me), timeout)
    packet = _recv(stream, timeout)
    if packet[:1] != b"s":
        raise HandshakeError(f"expected a status, got {packet[:16]!r}")
    status = packet[1:].decode("ascii", "replace")
    if status == "alive":
        stream.send_packet(2, b"strue", timeout)  # we hold no live connection: replace theirs
    elif status == "nok":
        raise SimultaneousLost(f"{expected} keeps its own connection to us (simultaneous connect)")
    elif status == "not_allowed":
        raise HandshakeError(f"{expected} does not allow connections from {me.name}")
    elif status not in ("ok", "ok_simultaneous"):
        raise HandshakeError(f"{expected} answered the handshake with status {status!r}")
    peer, challenge = _parse_challenge(_recv(stream, timeout))
    if peer.name != expected:
        raise HandshakeError(f"connected to {peer.name}, not {expected}")
    mine = secrets.randbits(32)
    stream.send_packet(2, b"r" + struct.pack(">I", mine) + digest(me.cookie, challenge), timeout)
    ack = _recv(stream, timeout)
    if ack[:1] != b"a" or len(ack) != 17:
        raise HandshakeError(f"expected the challenge ack ('a'), got {ack[:1]!r}")
    if not secrets.compare_digest(ack[1:], digest(me.cookie, mine)):
        log.error("** Connection attempt to node %s failed: the challenge ack does not match "
                  "our cookie (the two nodes have different cookies) **", expected,
                  extra={"node": expected})
        raise HandshakeError(f"{expected} answered with a digest for another cookie")
    return peer


class SimultaneousLost(HandshakeError):
    """Both nodes dialled; the other node's connection is the one kept."""


# ----------------------------------------------------------------------
# acceptor


def accept(stream: Stream, me: Me, on_pending=None, timeout=SETUP_TIMEOUT) -> Peer:
    """Run the handshake on an accepted connection; return the peer.

    `on_pending(peer_name)` tells what this node does about its own
    connection state toward the peer: "ok" (none), "ok_simultaneous" (we
    were dialling too and give our attempt up), "nok" (we were dialling and
    ours wins), or "alive" (we have a live connection).
    """
    peer = _parse_name(_recv(stream, timeout))
    status = on_pending(peer.name) if on_pending is not None else "ok"
    stream.send_packet(2, b"s" + status.encode("ascii"), timeout)
    if status == "nok" or status == "not_allowed":
        raise SimultaneousLost(f"refused {peer.name} ({status})")
    if status == "alive":
        answer = _recv(stream, timeout)
        if answer != b"strue":
            raise HandshakeError(f"{peer.name} keeps its existing connection")
    mine = secrets.randbits(32)
    raw = me.name.encode("utf-8")
    stream.send_packet(2, b"N" + struct.pack(">QIIH", me.flags, mine, me.creation, len(raw))
                       + raw, timeout)
    reply = _recv(stream, timeout)
    if reply[:1] != b"r" or len(reply) != 21:
        raise HandshakeError(f"expected the challenge reply ('r'), got {reply[:1]!r}")
    (theirs,) = struct.unpack_from(">I", reply, 1)
    if not secrets.compare_digest(reply[5:21], digest(me.cookie, mine)):
        log.error("** Connection attempt from node %s rejected. Invalid challenge reply "
                  "(a wrong cookie). **", peer.name, extra={"node": peer.name})
        raise HandshakeError(f"{peer.name} sent a digest for another cookie; refused")
    stream.send_packet(2, b"a" + digest(me.cookie, theirs), timeout)
    return peer
