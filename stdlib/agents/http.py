"""HTTP/1.1 for processes: h11 over the VM's sockets, one process per connection, pooled.

What this module owns: making HTTP requests from a process so that waiting
costs a parked process and no thread, cancelling costs nothing more than
killing the caller, and connections to one server are kept alive and reused.

**A connection is a process.** It owns its socket (and TLS state), speaks
HTTP with h11 (sans-I/O: it turns bytes into events and back, and leaves
the sockets to us), and reports to the process using it with messages:

    ("$http", ref, "response", (status, [(name, value), ...], reason))
    ("$http", ref, "data", bytes)                   zero or more times
    ("$http", ref, "end", reusable)                 or
    ("$http", ref, "error", (kind, text, got_bytes))

While a request runs, the connection is *linked* to its user: if the user
is killed (an agent cancelled, a deadline passed), the connection dies with
it and its socket is closed. Nothing has to be passed around to cancel.

**The pool** (one process per node, registered as "agents.http_pool",
started on first use) keeps idle connections per origin (scheme, host,
port, trust root), most recently used first. Lending is a handshake: the
pool names a connection to the user and tells the connection, which links
to the user (if the user is already dead, the connection just closes) and
confirms; the user monitors it meanwhile, so a connection dying in the pool
is never waited for. After a complete response on a keep-alive connection,
the user unlinks it and checks it in; the pool links it.
Idle connections close after `keepalive` seconds (default 15), or when the
server has closed them (checked before each lend); a reused connection that
turns out dead before any byte of a reply is replaced by a fresh one once.

**Deadlines** are enforced by the user: every wait is a receive with a
timeout, and a connection that misses the deadline is killed (its socket
closes). The connect timeout is the connection's own.

Header values may be secret handles (redact.py), or `("bearer", handle)`:
the connection process reveals them when it writes the request, so keys
never travel in messages (which tracers and observers may print). A server
that echoes a key back (some put it in a 401's message) is scrubbed too:
the connection replaces the secrets it sent by `[REDACTED]` in the body
before the body travels, even when one is split across reads.

What it refuses: anything above HTTP (openai.py), cookies, redirects,
proxies, compression and HTTP/2.
"""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

import h11
from greenlet import getcurrent

import vm

from . import transport
from .options import left_until
from .redact import REDACTED, is_secret, redact, reveal

__all__ = ["HTTPError", "Response", "close_idle", "pool_stats", "request"]

TAG = vm.Atom("$http")
POOL = "agents.http_pool"
KEEPALIVE = 15.0
MAX_IDLE_PER_ORIGIN = 64
ANY = vm.ANY
REDACTED_BYTES = REDACTED.encode()


class HTTPError(Exception):
    """A request failed below HTTP status codes. `.kind`: "connect_timeout",
    "connection" (refused, reset, dropped), "protocol" (the server broke
    HTTP/1.1) or "deadline"."""

    def __init__(self, kind, message):
        self.kind = kind
        self.message = message
        super().__init__(f"{kind}: {message}")


# ----------------------------------------------------------------------
# the user's side


def request(method, url, *, headers=(), body=b"", connect_timeout=10.0, deadline=None,
            ca_file=None) -> Response:
    """Send a request; returns once the response head arrived (the body follows).

    `deadline` is a `vm.monotonic()` time for the whole exchange, body
    included; `connect_timeout` bounds making a new connection. Use the
    response as a context manager (or call `close()`), so an unfinished
    exchange is cut off and a finished one returns its connection."""
    scheme, host, port, target = _split(url)
    origin = (scheme, host, port, ca_file)
    name = f"[{host}]" if ":" in host else host  # an IPv6 literal
    default = 443 if scheme == "https" else 80
    hdrs = [("host", name if port == default else f"{name}:{port}")]
    hdrs += [(k.lower(), v) for k, v in headers]
    if body:
        hdrs.append(("content-length", str(len(body))))
    for attempt in (0, 1):
        conn, reused = _checkout(origin, connect_timeout, deadline)
        ref = vm.make_ref()
        vm.send(conn, ("$http_req", vm.self(), ref, method, target, hdrs, bytes(body)))
        kind, payload = _next(conn, ref, deadline)
        if kind == "response":
            return Response(conn, ref, payload, deadline, origin)
        _drop(conn)
        if kind == "end":  # an end without a head cannot happen with h11; be loud if it does
            raise HTTPError("protocol", "the connection ended an exchange without a response")
        err_kind, text, got_bytes = payload
        if reused and attempt == 0 and err_kind == "connection" and not got_bytes:
            continue  # the server had closed this idle connection: one fresh try
        raise HTTPError(err_kind, text)
    raise HTTPError("connection", "unreachable")  # pragma: no cover - the loop returns or raises


class Response:
    """The head of a response (`status`, `headers` with lower-case names, `reason`);
    `chunks()` and `read()` give the body. Belongs to the process that made the request."""

    def __init__(self, conn, ref, head, deadline, origin):
        self.status, raw, self.reason = head
        self._origin = origin
        self.headers = {}
        for k, v in raw:
            self.headers[k] = f"{self.headers[k]}, {v}" if k in self.headers else v
        self._conn, self._ref, self._deadline = conn, ref, deadline
        self.done = False

    def chunks(self):
        """Yield the body's bytes as they arrive; raises HTTPError on failure."""
        while not self.done:
            kind, payload = _next(self._conn, self._ref, self._deadline)
            if kind == "data":
                yield payload
            elif kind == "end":
                self.done = True
                _release(self._conn, self._origin, payload)
            else:
                self.done = True
                _drop(self._conn)
                raise HTTPError(payload[0], payload[1])

    def read(self, limit: int = 16 << 20) -> bytes:
        """The whole body (at most `limit` bytes; more is a "protocol" error)."""
        parts, size = [], 0
        for chunk in self.chunks():
            size += len(chunk)
            if size > limit:
                self.close()
                raise HTTPError("protocol", f"response body larger than {limit} bytes")
            parts.append(chunk)
        return b"".join(parts)

    def close(self) -> None:
        """Cut off an unfinished exchange (its connection is closed)."""
        if not self.done:
            self.done = True
            _drop(self._conn)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _split(url):
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise vm.BadArg(f"expected an http:// or https:// URL, not {url!r}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.scheme, parts.hostname, port, target


def _left(deadline, what):
    left = left_until(deadline)
    if left is not None and left <= 0:
        raise HTTPError("deadline", f"the deadline passed {what}")
    return left


# What each process waits for in `_next` (a ref and a connection), by greenlet: one
# module-level predicate reads it, so the receive pattern is the same object every
# time and compiles once (a pattern holding a fresh ref would compile on every wait).
_waiting: dict = {}


def _is_report(m):
    ref, conn = _waiting[getcurrent()]
    return type(m) is tuple and len(m) >= 3 and (
        (m[1] == ref and len(m) == 4 and m[0] == TAG) or (m[0] == "EXIT" and m[1] == conn))


def _next(conn, ref, deadline):
    """The next report of connection `conn` about exchange `ref`: (kind, payload)."""
    try:
        timeout = _left(deadline, "while waiting for the server")
    except HTTPError:
        _drop(conn)
        raise
    me = getcurrent()
    _waiting[me] = (ref, conn)
    try:
        msg = vm.receive(_is_report, timeout=timeout)
    finally:
        del _waiting[me]
    if msg is vm.TIMEOUT:
        _drop(conn)
        raise HTTPError("deadline", "the deadline passed while waiting for the server")
    if msg[0] == "EXIT":  # only seen by a caller that traps exits
        raise HTTPError("connection", f"the connection process died: {msg[2]!r}")
    return msg[2], msg[3]


def _drop(conn):
    """Close a connection we hold: unlink (so its death is not ours) and kill."""
    vm.unlink(conn)
    vm.exit(conn, "kill")


def _release(conn, origin, reusable):
    """Hand a connection back to the pool (the pool links it), or close it.

    The caller sends the checkin itself, so its own next checkout (a later
    message to the same pool) finds the connection there."""
    vm.unlink(conn)
    pool = vm.whereis(POOL) if reusable else None
    if pool is None:
        vm.exit(conn, "kill")
    else:
        vm.send(pool, ("checkin", conn, origin))


def _checkout(origin, connect_timeout, deadline):
    """A connection linked to the caller: (pid, reused)."""
    pool = _pool()
    while pool is not None:
        ref = vm.make_ref()
        mref = vm.monitor(pool)
        vm.send(pool, ("checkout", vm.self(), ref, origin))
        msg = vm.receive((TAG, ref, ANY, ANY), ("DOWN", mref, ANY, ANY, ANY),
                         timeout=_left(deadline, "before a connection was found"))
        vm.demonitor(mref, flush=True)
        if msg is vm.TIMEOUT:
            raise HTTPError("deadline", "the deadline passed before a connection was found")
        if msg[0] == "DOWN" or msg[2] == "none":
            break
        conn = msg[3]  # "lending": the connection confirms, or we see it die
        cref = vm.monitor(conn)
        got = vm.receive((TAG, ref, "lent", ANY), ("DOWN", cref, ANY, ANY, ANY),
                         timeout=_left(deadline, "before a connection was found"))
        vm.demonitor(cref, flush=True)
        if got is vm.TIMEOUT:
            raise HTTPError("deadline", "the deadline passed before a connection was found")
        if got[0] == TAG:
            return conn, True
        # it died in the pool (closed by the server, or its keep-alive ran out): ask again
    ref = vm.make_ref()
    conn = vm.spawn_link(_connection, origin, vm.self(), ref, connect_timeout)
    kind, payload = _next(conn, ref, deadline)
    if kind == "connected":
        return conn, False
    _drop(conn)
    raise HTTPError(payload[0], payload[1])


def _pool():
    pid = vm.whereis(POOL)
    if pid is None:
        pid = vm.spawn(_pool_process, KEEPALIVE, MAX_IDLE_PER_ORIGIN)
        try:
            vm.register(POOL, pid)
        except vm.BadArg:  # another process started one first
            vm.exit(pid, "kill")
            pid = vm.whereis(POOL)
    return pid


def pool_stats() -> dict:
    """Idle connections per origin ("scheme://host:port"), from the pool process."""
    pid = vm.whereis(POOL)
    if pid is None:
        return {}
    ref = vm.make_ref()
    vm.send(pid, ("stats", vm.self(), ref))
    msg = vm.receive((TAG, ref, "stats", ANY), timeout=5.0)
    return {} if msg is vm.TIMEOUT else msg[3]


def close_idle() -> None:
    """Close every idle pooled connection now."""
    pid = vm.whereis(POOL)
    if pid is not None:
        vm.send(pid, "$close_idle")


# ----------------------------------------------------------------------
# the pool process


def _pool_process(keepalive, max_idle):
    vm.process_flag("trap_exit", True)
    vm.process_flag("label", "agents http pool")
    idle: dict = {}   # origin -> [(pid, since)], most recent last
    where: dict = {}  # pid -> origin, for the idle ones
    sweeping = False
    while True:
        msg = vm.receive()
        tag = msg[0] if type(msg) is tuple else msg
        if tag == "checkout":
            _, caller, ref, origin = msg
            conns = idle.get(origin) or []
            answer = (TAG, ref, "none", None)
            while conns:
                pid, _since = conns.pop()
                where.pop(pid, None)
                if vm.is_process_alive(pid):
                    answer = (TAG, ref, "lending", pid)
                    vm.send(pid, ("$http_lend", caller, ref))
                    break
            vm.send(caller, answer)
        elif tag == "checkin":
            _, pid, origin = msg
            conns = idle.setdefault(origin, [])
            if len(conns) >= max_idle:
                vm.exit(pid, "kill")
                continue
            vm.link(pid)  # trapping exits: a connection already dead sends EXIT noproc
            conns.append((pid, vm.monotonic()))
            where[pid] = origin
            if not sweeping:
                sweeping = True
                vm.send_after(keepalive / 2, vm.self(), "$sweep")
        elif tag == "EXIT":
            origin = where.pop(msg[1], None)
            if origin is not None:
                idle[origin] = [c for c in idle[origin] if c[0] != msg[1]]
        elif tag in ("$sweep", "$close_idle"):
            horizon = vm.monotonic() - (keepalive if tag == "$sweep" else -1.0)
            for origin, conns in idle.items():
                for pid, since in conns:
                    if since <= horizon:
                        where.pop(pid, None)
                        vm.send(pid, "$http_close")
                idle[origin] = [c for c in conns if c[1] > horizon]
            if tag == "$sweep":
                sweeping = bool(where)
                if sweeping:
                    vm.send_after(keepalive / 2, vm.self(), "$sweep")
        elif tag == "stats":
            counts = {f"{o[0]}://{o[1]}:{o[2]}": len(c) for o, c in idle.items() if c}
            vm.send(msg[1], (TAG, msg[2], "stats", counts))


# ----------------------------------------------------------------------
# the connection process


def _connection(origin, owner, ref, connect_timeout):
    scheme, host, port, ca_file = origin
    vm.process_flag("label", f"http connection {scheme}://{host}:{port}")
    try:
        t = transport.connect(host, port, tls=scheme == "https", timeout=connect_timeout,
                              ca_file=ca_file)
    except TimeoutError as e:
        vm.send(owner, (TAG, ref, "error", ("connect_timeout", redact(e), False)))
        return
    except (OSError, ssl.SSLError) as e:
        vm.send(owner, (TAG, ref, "error", ("connection", f"cannot connect to {host}:{port}: "
                                            f"{redact(e)}", False)))
        return
    try:
        vm.send(owner, (TAG, ref, "connected", None))
        _serve(t, origin)
    finally:
        t.close()


def _serve(t, origin):
    h = h11.Connection(h11.CLIENT)
    while True:
        msg = vm.receive()
        tag = msg[0] if type(msg) is tuple else msg
        if tag == "$http_req":
            _, caller, ref, method, target, headers, body = msg
            if not _exchange(h, t, caller, ref, method, target, headers, body):
                return
            h.start_next_cycle()
        elif tag == "$http_lend":
            _, caller, ref = msg
            if t.stale():
                return  # the caller sees us die and asks again
            try:
                vm.link(caller)
            except vm.NoProc:
                return
            pool = vm.whereis(POOL)
            if pool is not None:
                vm.unlink(pool)
            vm.send(caller, (TAG, ref, "lent", vm.self()))
        elif tag == "$http_close":
            return


def _header_value(v, secrets):
    """A header value to write: secret handles revealed (and noted for scrubbing)."""
    bearer = type(v) is tuple and len(v) == 2 and v[0] == "bearer"
    if not bearer and not is_secret(v):
        return v
    value = reveal(v[1] if bearer else v) or ""
    if len(value) >= 6:
        secrets.append(value.encode("latin-1", "replace"))
    return "Bearer " + value if bearer else value


class _Scrubber:
    """Replaces the secrets of one exchange in the response body, across reads."""

    def __init__(self, secrets):
        self.secrets = secrets
        self.held = b""

    def feed(self, chunk: bytes) -> bytes:
        if not self.secrets:
            return chunk
        data = self.held + chunk
        for s in self.secrets:
            data = data.replace(s, REDACTED_BYTES)
        keep = 0  # a tail that may be the start of a secret waits for the next read
        for s in self.secrets:
            for k in range(min(len(s) - 1, len(data)), 0, -1):
                if data.endswith(s[:k]):
                    keep = max(keep, k)
                    break
        self.held = data[len(data) - keep:] if keep else b""
        return data[:len(data) - keep] if keep else data

    def flush(self) -> bytes:
        held, self.held = self.held, b""
        return held


def _exchange(h, t, caller, ref, method, target, headers, body) -> bool:
    """Run one request/response; True if the connection may be reused."""
    got_bytes = eof = False
    secrets: list = []
    try:
        data = h.send(h11.Request(method=method, target=target,
                                  headers=[(k, _header_value(v, secrets)) for k, v in headers]))
        scrub = _Scrubber(secrets)
        if body:
            data += h.send(h11.Data(data=body))
        data += h.send(h11.EndOfMessage())
        t.sendall(data)
        while True:
            ev = h.next_event()
            if ev is h11.NEED_DATA:
                chunk = t.recv()
                if chunk:
                    got_bytes = True
                else:
                    eof = True
                h.receive_data(chunk)
                continue
            et = type(ev)
            if et is h11.Response:
                head = (ev.status_code, [(k.decode("latin-1"), v.decode("latin-1"))
                                         for k, v in ev.headers], ev.reason.decode("latin-1"))
                vm.send(caller, (TAG, ref, "response", head))
            elif et is h11.Data:
                clean = scrub.feed(bytes(ev.data))
                if clean:
                    vm.send(caller, (TAG, ref, "data", clean))
            elif et is h11.EndOfMessage:
                rest = scrub.flush()
                if rest:
                    vm.send(caller, (TAG, ref, "data", rest))
                reusable = h.our_state is h11.DONE and h.their_state is h11.DONE
                vm.send(caller, (TAG, ref, "end", reusable))
                return reusable
            elif et is h11.ConnectionClosed:
                raise h11.RemoteProtocolError("the server closed the connection")
    except h11.RemoteProtocolError as e:
        if eof:
            text = ("the server closed the connection before replying" if not got_bytes else
                    f"the connection was dropped in the middle of the response ({e})")
            vm.send(caller, (TAG, ref, "error", ("connection", text, got_bytes)))
        else:
            vm.send(caller, (TAG, ref, "error", ("protocol", f"the server broke HTTP/1.1: "
                                                 f"{redact(e)}", got_bytes)))
    except h11.LocalProtocolError as e:
        vm.send(caller, (TAG, ref, "error", ("protocol", f"could not write the request: "
                                             f"{redact(e)}", got_bytes)))
    except (OSError, ssl.SSLError) as e:
        vm.send(caller, (TAG, ref, "error", ("connection", f"{type(e).__name__}: {redact(e)}",
                                             got_bytes)))
    return False
