"""A distributed node: its name, its connections, and what processes do with other nodes.

What this module owns (OTP's net_kernel, and the BIFs that reach across):

- `start(name, cookie=None, ...)`, called in a process, makes the running
  beamlet node a distributed node: it listens (on loopback unless told
  otherwise), registers with the port mapper (starting beamlet's own
  daemon when none answers), and starts three system processes:
  `net_kernel` (answers `net_adm:ping`), the acceptor, and `rex` (the rpc
  server, `rpc.py`). `stop()` undoes it.
- the connection table: `connect(node)`, `disconnect(node)`, `nodes()`,
  simultaneous-connect resolution, `monitor_node`, `monitor_nodes`.
- what a process does toward another node: `send(dest, msg)` to a remote
  pid, `(name, node)` or alias (connecting on first use, as Erlang does;
  messages wait in the connection's queue meanwhile, and are dropped if the
  node cannot be reached); `link`, `unlink`, `monitor`, `demonitor`,
  `exit`; `call`, a gen-style call to a remote server (OTP 24+: the reply
  comes to an alias, so a late one is dropped); `ping`.

A node's own pids keep their internal form; on the wire they carry the
distribution name and the creation EPMD gave (see `codec.LocalIdentity`).

What it refuses: the bytes (`codec.py`, `handshake.py`, `connection.py`),
and a virtual clock: distribution needs real time.
"""

from __future__ import annotations

import logging
import socket
import weakref
from typing import Literal, overload

from .. import _api as api
from .. import net
from .._mailbox import receive
from ..errors import BadArg, VMError
from ..terms import TIMEOUT, Atom, Pid, Ref, node_index
from . import epmd, local
from .codec import (
    DEFAULT_LIMITS,
    Decoder,
    DecodeError,
    Encoder,
    ImproperList,
    Limits,
    LocalIdentity,
)
from .codec import EncodeError
from .connection import Connection, local_died, run_controller
from .cookie import Cookie, resolve
from .handshake import SETUP_TIMEOUT

log = logging.getLogger("beamlet.dist")

NONODE = "nonode@nohost"
GEN_CALL = Atom("$gen_call")
YES = Atom("yes")
_CONNECT = "$dist_connect"
_dists: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
# monitor_nodes subscribers of a node whose distribution is not running (yet, or
# any more): they carry over to the next start, as OTP's monitor_nodes does.
_idle_node_monitors: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class DistError(VMError):
    """Distribution could not start, or is not started."""


class DistNode:
    """The distribution state of one beamlet node."""

    def __init__(self, vm_node, name: str, cookie: Cookie, *, hidden: bool, net_ticktime: float,
                 epmd_port: int | None, strings: str, binaries: str, limits: Limits,
                 setup_time: float):
        self.vm_node = vm_node
        self.name = name
        self.cookie = cookie
        self.hidden = hidden
        self.net_ticktime = net_ticktime
        self.epmd_port = epmd_port
        self.strings = strings
        self.binaries = binaries
        self.limits = limits
        self.setup_time = setup_time
        self.max_frame = limits.max_size
        self.send_sender = False  # SEND_SENDER needs the peer's flag; plain SEND always works
        self.creation = 0
        # identity, registration and listener are set by start() before the
        # DistNode is published: nobody sees them None.
        self.identity: LocalIdentity = None  # type: ignore[assignment]
        self.conns: dict = {}  # node name -> Connection
        self.waiters: dict = {}  # node name -> [pid] waiting in connect()
        self.node_monitors: dict = {}  # node name -> [pid] (monitor_node, once per call)
        self.all_monitors: list = []  # pids that called monitor_nodes(True)
        self.registration: epmd.Registration = None  # type: ignore[assignment]
        self.listener: socket.socket = None  # type: ignore[assignment]
        self.port = 0
        self.kernel: Pid | None = None
        self.acceptor: Pid | None = None
        self.rex: Pid | None = None
        self.rex_allow: dict = {}  # (module, function) -> callable (rpc.expose)
        self.watched: set = set()  # ids of local pids whose death the core reports to us

    def __repr__(self):
        return f"<DistNode {self.name} creation {self.creation}>"

    def make_encoder(self) -> Encoder:
        return Encoder(strings=self.strings, local=self.identity)

    def make_decoder(self) -> Decoder:
        return Decoder(binaries=self.binaries, local=self.identity, limits=self.limits)

    # ------------------------------------------------------------------
    # the hook the core calls for anything on another node (vm/_remote.py)

    def send(self, sender: Pid, dest, msg) -> None:
        where = _remote_node(dest)
        if self.is_local(where):  # our own distribution name
            api.send((dest[0], self.vm_node.name) if type(dest) is tuple else
                     self.localize(dest), msg)
            return
        target = dest if type(dest) is not tuple else dest[0]
        try:
            self.connection(where).send(  # type: ignore[arg-type]  # remote: a name
                sender, target, msg)
        except EncodeError as e:
            raise BadArg(f"send to {where}: {e}") from None

    def link(self, pid: Pid, remote: Pid) -> None:
        if self.is_local(remote.node):
            api.link(self.localize(remote))
        else:
            self.connection(remote.node).link(pid, remote)

    def unlink(self, pid: Pid, remote: Pid) -> None:
        if self.is_local(remote.node):
            api.unlink(self.localize(remote))
            return
        conn = self.conns.get(remote.node)
        if conn is not None:
            conn.unlink(pid, remote)

    def exit(self, sender: Pid, remote: Pid, reason) -> None:
        if self.is_local(remote.node):
            api.exit(self.localize(remote), reason)
        else:
            self.connection(remote.node).exit2(sender, remote, reason)

    def monitor(self, watcher: Pid, target, ref: Ref) -> None:
        where = _remote_node(target)
        if self.is_local(where):
            local.monitor_local(self.vm_node, watcher, self.localize(target) if type(target)
                                is Pid else target[0], ref, target)
        else:
            self.connection(where).monitor(  # type: ignore[arg-type]  # remote: a name
                watcher, target if type(target) is Pid else target[0], ref)

    def demonitor(self, watcher: Pid, ref: Ref) -> bool:
        for conn in self.conns.values():
            if ref in conn.monitors_out:
                return conn.demonitor(watcher, ref)
        return False

    def watch(self, pid: Pid) -> bool:
        """Have the core report `pid`'s death (process_died); False if it is dead already."""
        if local.lookup(self.vm_node, pid) is None:
            return False
        self.watched.add(pid.id)
        return True

    def process_died(self, pid: Pid, reason) -> None:
        self.watched.discard(pid.id)
        for conn in list(self.conns.values()):
            frames: list = []
            local_died(conn, pid, reason, frames)
            for f in frames:
                conn.post(f)

    # ------------------------------------------------------------------
    # the table

    def is_local(self, node_name: str | None) -> bool:
        return node_name == self.name or node_name == self.vm_node.name

    def localize(self, x):
        """A pid or ref of this node in its wire form (our name and EPMD creation) as
        the runtime knows it; anything else unchanged."""
        if (type(x) is Pid or type(x) is Ref) and x.node == self.name:
            if x.creation != self.creation:
                return x  # an older incarnation of this node: nobody is there
            if type(x) is Pid:
                return Pid(self.vm_node.name, x.id | (x.serial << 32), 0, self.vm_node.creation)
            return Ref(self.vm_node.name, x.id, self.vm_node.creation)
        return x

    def connection(self, node_name: str) -> Connection:
        """The connection to `node_name`, dialling it if there is none (auto-connect)."""
        conn = self.conns.get(node_name)
        if conn is None or conn.state == "down":
            conn = self.dial(node_name)
        return conn

    def dial(self, node_name: str) -> Connection:
        if "@" not in node_name:
            raise BadArg(f"{node_name!r} is not a node name (name@host)")
        conn = Connection(self, node_name, "initiator")
        self.conns[node_name] = conn
        conn.controller = api.spawn(lambda: run_controller(self, conn))
        return conn

    def on_pending(self, conn: Connection, peer_name: str) -> str:
        """An accepted connection's handshake names its peer: what do we answer?"""
        existing = self.conns.get(peer_name)
        conn.peer_name = peer_name
        if existing is None or existing.state == "down":
            self.conns[peer_name] = conn
            return "ok"
        if existing.state == "pending" and existing.role == "initiator":
            if self.name > peer_name:
                return "nok"  # our own attempt wins
            conn.adopt(existing)
            self._abandon(existing)
            self.conns[peer_name] = conn
            return "ok_simultaneous"
        if existing.state == "up":
            conn.adopt(existing)
            self._abandon(existing)
            self.conns[peer_name] = conn
            return "alive"
        return "nok"

    def _abandon(self, conn: Connection):
        conn.state = "down"
        if conn.controller is not None:
            api.exit(conn.controller, Atom("kill"))

    def connection_up(self, conn: Connection):
        conn.state = "up"
        self.conns[conn.peer_name] = conn
        log.info("connected to %s", conn.peer_name, extra={"node": conn.peer_name})
        for pid in self.waiters.pop(conn.peer_name, ()):
            api.send(pid, (_CONNECT, conn.peer_name, True))
        for pid in self.all_monitors:
            api.send(pid, (Atom("nodeup"), Atom(conn.peer_name)))

    def attempt_failed(self, conn: Connection, why: str):
        was_up = conn.state == "up"
        if self.conns.get(conn.peer_name) is conn:
            del self.conns[conn.peer_name]
        conn.went_down(self.vm_node)
        if conn.peer_name in self.conns:
            return  # another connection to that node (simultaneous connect) carries on
        if conn.role == "initiator":  # a refused incoming one was logged with its address
            log.info("could not connect to %s: %s", conn.peer_name, why,
                     extra={"node": conn.peer_name})
        for pid in self.waiters.pop(conn.peer_name, ()):
            api.send(pid, (_CONNECT, conn.peer_name, False))
        self._node_down(conn.peer_name, was_up)

    def connection_down(self, conn: Connection, reason):
        current = self.conns.get(conn.peer_name) is conn
        if current:
            del self.conns[conn.peer_name]
        conn.went_down(self.vm_node)
        if current:
            log.info("connection to %s closed: %s", conn.peer_name, reason,
                     extra={"node": conn.peer_name})
            self._node_down(conn.peer_name, True)

    def _node_down(self, name: str, was_up: bool):
        down = (Atom("nodedown"), Atom(name))
        for pid in self.node_monitors.pop(name, ()):
            local.deliver(self.vm_node, pid, down)
        if was_up:
            for pid in self.all_monitors:
                local.deliver(self.vm_node, pid, down)


# ----------------------------------------------------------------------
# starting and stopping


@overload
def current(required: Literal[True] = True) -> DistNode: ...
@overload
def current(required: bool) -> DistNode | None: ...


def current(required: bool = True) -> DistNode | None:
    """The running node's distribution state (None, or DistError, if not started)."""
    dist = _dists.get(local.node_of_current())
    if dist is None and required:
        raise DistError("distribution is not started on this node; call vm.dist.start(name) "
                        "first (or run with `beamlet run --sname NAME`)")
    return dist


def full_name(name: str, longnames: bool = False) -> str:
    if not isinstance(name, str) or not name or name.count("@") > 1:
        raise BadArg(f"a node name is 'name' or 'name@host', not {name!r}")
    if "@" in name:
        return name
    host = socket.getfqdn() if longnames else socket.gethostname().split(".")[0]
    return f"{name}@{host}"


def boot(sname, name, cookie, listen, options):
    """For `vm.Node(sname=...)`/`vm.run(...)`: the node's full name, and the function a
    first process runs to start the distribution under it."""
    if sname is not None and name is not None:
        raise BadArg("give sname= (a short name) or name= (a long one), not both")
    options = dict(options or {})
    if "listen" in options and listen is not None:
        raise BadArg("listen given twice (listen= and dist={'listen': ...})")
    if listen is not None:
        options["listen"] = listen
    full = full_name(sname if sname is not None else name, longnames=name is not None)

    def starter():
        return start(full, cookie, **options)

    return full, starter


def start(name: str, cookie=None, *, longnames: bool = False, listen: str = "127.0.0.1",
          port: int = 0, hidden: bool = True, net_ticktime: float = 60.0,
          epmd_port: int | None = None, start_epmd: bool = True, strings: str = "binary",
          binaries: str = "utf8", limits: Limits = DEFAULT_LIMITS,
          setup_time: float = SETUP_TIMEOUT) -> str:
    """Make the running node a distributed node named `name`; returns its full name.

    Called in a process. `cookie`: see vm.dist.cookie.resolve. `listen`:
    the address to accept connections on (loopback by default: anyone who
    can connect and knows the cookie controls this node). `hidden=False`
    makes the node visible (it then takes part in `global`'s traffic).
    `net_ticktime`: seconds of silence after which a peer is declared down.
    """
    vm_node = local.node_of_current()
    if vm_node in _dists:
        raise DistError(f"distribution is already started as {_dists[vm_node].name}")
    if vm_node.clock.virtual:
        raise DistError("distribution needs real time; this node runs on a virtual clock")
    if isinstance(net_ticktime, bool) or not isinstance(net_ticktime, (int, float)) or \
            net_ticktime <= 0:
        raise BadArg(f"net_ticktime must be seconds > 0, not {net_ticktime!r}")
    full = full_name(name, longnames)
    dist = DistNode(vm_node, full, resolve(cookie), hidden=hidden, net_ticktime=net_ticktime,
                    epmd_port=epmd_port, strings=strings, binaries=binaries, limits=limits,
                    setup_time=setup_time)
    dist.make_encoder()  # checks the options
    dist.make_decoder()
    dist.listener = net.listen((listen, port))
    dist.port = dist.listener.getsockname()[1]
    try:
        if start_epmd:
            from .epmd_daemon import ensure_running

            api.to_thread(ensure_running, epmd_port or epmd.epmd_port())
        dist.registration = epmd.register(full.split("@")[0], dist.port, epmd=epmd_port)
    except epmd.EPMDError as e:
        dist.listener.close()
        raise DistError(f"cannot register {full} with the port mapper: {e}") from None
    dist.creation = dist.registration.creation
    dist.all_monitors = _idle_node_monitors.pop(vm_node, [])
    dist.identity = LocalIdentity(vm_node.name, vm_node.creation, full, dist.creation)
    _dists[vm_node] = dist
    vm_node.dist = dist  # from now on the core hands us what is remote (vm/_remote.py)
    node_index(full, local=True)  # our pids print <0.N.0> under the new name too
    from . import rpc

    dist.kernel = api.spawn(lambda: _kernel(dist))
    api.register("net_kernel", dist.kernel)
    dist.rex = api.spawn(lambda: rpc.serve(dist))
    api.register("rex", dist.rex)
    dist.acceptor = api.spawn(lambda: _acceptor(dist))
    api.sched_yield()  # let them start: a started kernel's end (finally) leaves EPMD
    log.info("distribution started as %s (port %d, %s)", full, dist.port,
             "hidden" if hidden else "visible")
    return full


def stop() -> None:
    """Disconnect every node, unregister from the port mapper, stop the system processes."""
    dist = current()
    for conn in list(dist.conns.values()):
        if conn.controller is not None:
            api.exit(conn.controller, Atom("kill"))
    for pid in (dist.acceptor, dist.rex, dist.kernel):
        if pid is not None:
            api.exit(pid, Atom("kill"))  # the kernel's death unregisters the name


def _teardown(dist: DistNode):
    """The kernel is gone (dist.stop, or the node stopping): leave EPMD, close the port."""
    dist.registration.close()
    dist.listener.close()
    if dist.vm_node.dist is dist:
        dist.vm_node.dist = None
        if dist.all_monitors:
            _idle_node_monitors[dist.vm_node] = dist.all_monitors
    if _dists.get(dist.vm_node) is dist:
        del _dists[dist.vm_node]


def _acceptor(dist: DistNode):
    while True:
        try:
            sock, addr = net.accept(dist.listener)
        except OSError:
            return  # the listener was closed: stop
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        fd = net.handoff(sock)
        conn = Connection(dist, "?", "acceptor")
        conn.address = addr[:2]
        conn.controller = api.spawn(lambda c=conn, f=fd: run_controller(dist, c, f))


def _kernel(dist: DistNode):
    """net_kernel: answers `net_adm:ping` ({is_auth, Node}); its end ends the distribution."""
    try:
        while True:
            msg = receive()
            if type(msg) is tuple and len(msg) == 3 and msg[0] == GEN_CALL:
                _from, request = msg[1], msg[2]
                if type(request) is tuple and len(request) == 2 and request[0] == "is_auth":
                    reply(_from, YES)
    finally:
        _teardown(dist)


# ----------------------------------------------------------------------
# what processes do across nodes


def node() -> str:
    """This node's name, or "nonode@nohost" when distribution is not started."""
    dist = current(required=False)
    return dist.name if dist is not None else NONODE


def nodes(kind: str = "visible") -> list:
    """Connected nodes: "visible" (OTP's nodes()), "hidden", "connected" (both), "this"."""
    dist = current(required=False)
    if kind == "this":
        return [Atom(node())]
    if kind not in ("visible", "hidden", "connected"):
        raise BadArg(
            f"nodes: kind must be 'visible', 'hidden', 'connected' or 'this', not {kind!r}")
    if dist is None:
        return []
    out = []
    for name, conn in dist.conns.items():
        if conn.state != "up":
            continue
        hidden = dist.hidden or conn.peer.hidden
        if kind == "connected" or (kind == "hidden") == hidden:
            out.append(Atom(name))
    return sorted(out)


def connect(node_name: str, timeout: float | None = None) -> bool:
    """Connect to `node_name` (net_kernel:connect_node); True when connected."""
    dist = current()
    node_name = str(node_name)
    if dist.is_local(node_name):
        return True
    conn = dist.conns.get(node_name)
    if conn is not None and conn.state == "up":
        return True
    me = api.self()
    dist.waiters.setdefault(node_name, []).append(me)
    dist.connection(node_name)
    msg = receive(lambda m: type(m) is tuple and len(m) == 3 and m[0] == _CONNECT
                  and m[1] == node_name, timeout=timeout or dist.setup_time + 1)
    if msg is TIMEOUT:
        waiting = dist.waiters.get(node_name, [])
        if me in waiting:
            waiting.remove(me)
        return False
    return msg[2]


def disconnect(node_name: str) -> bool:
    """Close the connection to `node_name`; True if there was one."""
    dist = current()
    conn = dist.conns.get(str(node_name))
    if conn is None or conn.state != "up":
        return False
    api.send(conn.controller, ("disconnect",))
    return True


def _remote_node(dest) -> str | None:
    if type(dest) is Pid or type(dest) is Ref:
        return dest.node
    if type(dest) is tuple and len(dest) == 2 and isinstance(dest[0], str) and \
            isinstance(dest[1], str):
        return dest[1]
    return None


def send(dest, msg):
    """`vm.send`: a pid, alias, name or `(name, node)`, local or remote; returns msg.

    A remote destination connects on first use, as Erlang does. Raises
    BadArg when `msg` holds something with no External Term Format form
    (a function, a set...).
    """
    return api.send(dest, msg)


def link(pid: Pid) -> bool:
    """`vm.link`, for a remote pid too (an unreachable node: exit `noconnection`)."""
    return api.link(pid)


def unlink(pid: Pid) -> bool:
    return api.unlink(pid)


def monitor(target) -> Ref:
    """`vm.monitor`, for a remote pid or `(name, node)` too (DOWN `noconnection` if it goes)."""
    return api.monitor(target)


def demonitor(ref: Ref, flush: bool = False) -> bool:
    return api.demonitor(ref, flush=flush)


def exit(pid: Pid, reason) -> bool:  # noqa: A001 - Erlang's name
    """`vm.exit(pid, reason)`, for a remote pid too."""
    return api.exit(pid, reason)


def monitor_node(node_name: str, flag: bool = True) -> bool:
    """Receive `("nodedown", node)` once when the connection to it goes (OTP's monitor_node)."""
    dist = current()
    me = api.self()
    subs = dist.node_monitors.setdefault(str(node_name), [])
    if not flag:
        while me in subs:
            subs.remove(me)
        return True
    subs.append(me)
    if not dist.is_local(node_name) and not connect(node_name):
        subs.remove(me)
        api.send(me, (Atom("nodedown"), Atom(node_name)))
    return True


def monitor_nodes(flag: bool = True) -> None:
    """`("nodeup", node)` / `("nodedown", node)` for every node, visible or hidden
    (net_kernel:monitor_nodes). Allowed before the distribution starts, as in OTP:
    the subscription then takes effect when it does (and outlives a `stop()`).
    A process that subscribes twice gets each message twice; `flag=False` ends
    one subscription."""
    dist = current(required=False)
    if dist is not None:
        subs = dist.all_monitors
    else:
        subs = _idle_node_monitors.setdefault(local.node_of_current(), [])
    me = api.self()
    subs[:] = [pid for pid in subs if pid == me or api.is_process_alive(pid)]  # drop the dead
    if flag:
        subs.append(me)
    elif me in subs:
        subs.remove(me)


def call(server, request, timeout: float | None = 5.0, label=GEN_CALL, where=None):
    """A gen-style call to a server on another node: `(name, node)` or a remote pid.

    OTP 24's protocol: monitor the server with an alias, send
    `(label, (self, [alias | Ref]), request)`, wait for `([alias | Ref], Reply)`
    or the DOWN. Returns the reply; raises `vm.Exit((reason, where))` as
    gen_server.call does: "timeout", ("nodedown", node), "noproc" or the
    server's exit reason. `where` defaults to ("gen", "call", (server, request)).
    """
    from ..errors import Exit

    if where is None:
        where = (Atom("gen"), Atom("call"), (server, request))
    node_name = _remote_node(server)
    mref = api.monitor(server, alias="demonitor")
    tag = ImproperList.alias_tag(mref)
    api.send(server, (label, (api.self(), tag), request))
    msg = receive(
        lambda m: type(m) is tuple and (
            (len(m) == 2 and m[0] == tag)
            or (len(m) == 5 and m[1] == mref and m[0] == "DOWN")),
        timeout=timeout)
    if msg is TIMEOUT or len(msg) == 2:
        api.demonitor(mref, flush=True)
        api.unalias(mref)
        if msg is TIMEOUT:
            raise Exit((Atom("timeout"), where))
        return msg[1]
    reason = msg[4]
    if reason == "noconnection":
        reason = (Atom("nodedown"), Atom(node_name))
    raise Exit((reason, where))


def reply(from_, message) -> None:
    """Reply to a call that came from another node: `from_` is `(pid, tag)`.

    OTP 24+ callers tag with `[alias | Ref]` and wait on the alias; older
    ones with a plain ref, waiting for `{Ref, Reply}` sent to their pid.
    """
    if type(from_) is not tuple or len(from_) != 2:
        raise BadArg(f"reply: expected the (pid, tag) of a call, not {from_!r}")
    caller, tag = from_
    if type(tag) is ImproperList and tag.is_alias_tag():
        api.send(tag.tail, (tag, message))
    else:
        api.send(caller, (tag, message))


def ping(node_name: str, timeout: float = 5.0) -> str:
    """net_adm:ping: "pong" when `node_name` answers, else "pang"."""
    dist = current()
    if dist.is_local(str(node_name)):
        return "pong"
    if not connect(node_name):
        return "pang"
    from ..errors import Exit

    try:
        call((Atom("net_kernel"), Atom(node_name)), (Atom("is_auth"), Atom(dist.name)), timeout)
    except Exit:
        return "pang"
    return "pong"


__all__ = [
    "DecodeError", "DistError", "DistNode", "call", "connect", "current", "demonitor",
    "disconnect", "exit", "link", "monitor", "monitor_node", "monitor_nodes", "node", "nodes",
    "ping", "reply", "send", "start", "stop", "unlink",
]
