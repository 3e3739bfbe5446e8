"""gen: the really generic part of every behaviour (OTP's gen.erl).

What this module owns:

- **Server references.** A server is named by a `Pid`, a locally
  registered name (`"kv"`), a `(name, node)` pair, or `("via", registry,
  name)` where `registry` is any object with `register_name(name, pid) ->
  "yes" | "no"`, `unregister_name(name)`, `whereis_name(name) -> pid | None`
  and `send(name, msg)` (OTP's via contract). `("global", name)` is refused:
  there is no global registry without distribution.
- **Start with a name.** `start(init_it, link, name, args, ...)` registers
  the name in the new process before its `init` runs; a name already taken
  gives `("error", ("already_started", pid))` and the new process exits
  `normal` before `init` (OTP's rule). The behaviour's `init_it(name, *args)`
  runs in the new process and must call `proc_lib.init_ack`.
- **Call.** `call(server, label, request, timeout)` = monitor the server
  with an alias + send `(label, (caller, ref), request)` + wait for `(ref,
  reply)`. Failures raise `vm.Exit((reason, (module, function, args)))` in
  the caller, with OTP's reasons: `"timeout"`, `"noproc"`, `"calling_self"`,
  or the server's exit reason if it died before replying. Because the
  reply goes to an alias that the timeout deactivates, a late reply is
  dropped instead of lingering in the mailbox (OTP 24+). The wait starts
  from a receive marker, so it costs O(new messages) however full the
  caller's mailbox is.
- **Asynchronous requests** (OTP 25's `send_request` family): send a
  call now, collect the reply later, alone or from a collection of
  requests. See the section "asynchronous requests" below.
- `reply(from_, reply)`, `cast`-style `send_nofail`, `stop` (exits with
  OTP's bare "noproc"/"timeout"), and `term_safe` (a value made sendable).

The wire format (so that raw sends interoperate, as in OTP):

    call:    ("$gen_call", (caller_pid, ref), request)  reply: (ref, reply) sent to ref
             from another node the tag is OTP 24's [alias | Ref] (vm.ImproperList),
             and the reply goes to the alias (calls to other nodes send it too)
    cast:    ("$gen_cast", msg)
    system:  ("system", (caller_pid, ref), request)     (see otp_sys)

What it refuses: behaviour semantics (gen_server.py, gen_statem.py, ...).
"""

from __future__ import annotations

import contextlib
import math

from greenlet import getcurrent

import vm
from vm.code import ensure_instrumented
from vm.lowlevel import call_reply, call_request, compiles_checks, is_term

from . import proc_lib


class DefaultTimeout:
    """The `timeout=` of a call made without one: 5 seconds, kept apart from an
    explicit 5 because OTP's exit reasons name call/2 and call/3 differently.
    Its repr is what `help(gen_server.call)` shows."""

    __slots__ = ()

    def __repr__(self):
        return "<default: 5 s>"


DEFAULT = DefaultTimeout()

ANY = vm.ANY
Pid = vm.Pid
DOWN = vm.Atom("DOWN")
GEN_CALL = vm.Atom("$gen_call")
GEN_CAST = vm.Atom("$gen_cast")
SYSTEM = vm.Atom("system")


# ----------------------------------------------------------------------
# names


def check_name(name):
    """Validate a registration name: None, a str, or ("via", registry, key)."""
    if name is None or isinstance(name, str):
        return name
    if type(name) is tuple and len(name) == 3 and name[0] == "via":
        registry = name[1]
        for method in ("register_name", "unregister_name", "whereis_name", "send"):
            if not callable(getattr(registry, method, None)):
                raise vm.BadArg(
                    f"via registry {registry!r} has no {method}(); a via registry needs "
                    "register_name, unregister_name, whereis_name and send"
                )
        return name
    if type(name) is tuple and len(name) == 2 and name[0] == "global":
        raise vm.BadArg("global names are not supported (beamlet has no global registry); "
                        "use a local name, (name, node) or ('via', registry, name)")
    raise vm.BadArg(
        f"a server name must be a str, ('via', registry, name) or None, not {name!r}"
    )


def whereis(server):
    """The pid a server reference names, or None."""
    if isinstance(server, vm.Pid):
        return server
    if isinstance(server, str):
        return vm.whereis(server)
    if type(server) is tuple:
        if len(server) == 3 and server[0] == "via":
            if not callable(getattr(server[1], "whereis_name", None)):
                raise vm.BadArg(
                    f"('via', registry, name): the registry must have whereis_name, "
                    f"register_name, unregister_name and send (as stdlib.registry.Registry "
                    f"does), not {type(server[1]).__name__}")
            return server[1].whereis_name(server[2])
        if len(server) == 2 and server[0] == "global":
            check_name(server)
        if len(server) == 2 and isinstance(server[0], str) and isinstance(server[1], str):
            return vm.whereis(server[0]) if server[1] == vm.node_name() else None
    raise vm.BadArg(
        f"a server reference must be a Pid, a name, (name, node) or ('via', registry, name), "
        f"not {server!r}"
    )


def register_name(name, pid):
    """Register `name` for `pid`; returns None, or the pid already holding it."""
    if name is None:
        return None
    if isinstance(name, str):
        holder = vm.whereis(name)
        if holder is not None:
            return holder
        vm.register(name, pid)
        return None
    registry, key = name[1], name[2]
    if registry.register_name(key, pid) == "yes":
        return None
    return registry.whereis_name(key) or ("via", registry, key)


def unregister_name(name):
    if name is None:
        return
    if isinstance(name, str):
        with contextlib.suppress(vm.BadArg):
            vm.unregister(name)
    else:
        name[1].unregister_name(name[2])


# ----------------------------------------------------------------------
# start


def start(init_it, link, name, args, *, timeout=None, spawn_opts=None, monitor=False):
    """Start a behaviour process; returns what its init_it acknowledged.

    `link` is True for start_link; `monitor=True` gives start_monitor's
    `(result, ref)`. `init_it(name, *args)` runs in the new process.
    """
    name = check_name(name)
    _instrument_callbacks(args)
    if name is not None:
        holder = whereis(name)
        if holder is not None:
            return ("error", ("already_started", holder))
    if monitor:
        return proc_lib.start_monitor(_init_named, init_it, name, args, timeout=timeout,
                                      spawn_opts=spawn_opts)
    starter = proc_lib.start_link if link else proc_lib.start
    return starter(_init_named, init_it, name, args, timeout=timeout, spawn_opts=spawn_opts)


def _instrument_callbacks(args):
    """Compile reduction checks into the callback module (it is user code that the
    behaviour's loop, which lives in stdlib, calls)."""
    if not compiles_checks():
        return
    for a in args:
        if isinstance(a, type) or callable(a):
            ensure_instrumented(a)


def _init_named(init_it, name, args):
    holder = register_name(name, vm.self())
    if holder is not None:
        # init_fail: the starter returns once this process is gone (OTP 26)
        proc_lib.init_fail(("error", ("already_started", holder)), "normal")
    return init_it(name, *args)


# ----------------------------------------------------------------------
# call / reply / cast / stop


# The ref each process is waiting on in `call`, by process record. One module-level
# predicate reads it, so the receive pattern is the same object on every call and
# compiles once (a closure per call would compile, and churn the pattern cache, every
# time). Only the waiting process itself reads or writes its entry.
def call(server, label, request, timeout, where):
    """Make a synchronous request; return the reply or raise vm.Exit.

    `where` is the `(module, function, args)` triple named in exit reasons,
    e.g. `("gen_server", "call", (server, request))`. The protocol itself
    (monitor with an alias, send, wait from a marker, demonitor) is one VM
    step: `vm.lowlevel.call_request`.
    """
    tt = type(timeout)
    if tt is not float and timeout is not None and (
            tt is bool or not isinstance(timeout, (int, float)) or timeout < 0):
        raise vm.BadArg(f"call: timeout must be seconds >= 0 or None (infinity), not {timeout!r}")
    if is_remote(server):  # another node: OTP 24's call over the distribution
        from vm import dist

        return dist.call(server, request, timeout, label, term_safe(where))
    pid = server if type(server) is Pid else whereis(server)
    if pid is None:
        raise vm.Exit(("noproc", term_safe(where)))
    ok, answer = call_request(pid, label, request, timeout)  # also says "calling_self"
    if ok:
        return answer
    raise vm.Exit((answer, term_safe(where)))


def term_safe(value):
    """`value` if it can travel in a message (exit reasons, reports, replies do),
    else a copy in which the parts that cannot (a via registry object, a socket
    in a state) are shown by their repr."""
    if is_term(value):
        return value
    if type(value) is dict:
        return {(k if is_term(k) else repr(k)): term_safe(v) for k, v in value.items()}
    if type(value) in (list, tuple):
        return type(value)(term_safe(v) for v in value)
    return repr(value)


def is_remote(server) -> bool:
    """A pid of another node, or (name, node) with another node's name."""
    if type(server) is Pid:
        return server.node != vm.node_name()
    return (type(server) is tuple and len(server) == 2 and server[0] != "global"
            and isinstance(server[0], str) and isinstance(server[1], str)
            and server[1] != vm.node_name())


def reply(from_, message):
    """Reply to a call: `from_` is the `(caller, tag)` a callback received.

    A local call's tag is an alias ref; a call from another node carries
    OTP 24's `[alias | Ref]` (the reply goes to the alias) or, from older
    nodes, a plain ref (the reply goes to the caller's pid).
    """
    if type(from_) is not tuple or len(from_) != 2 or not isinstance(
            from_[1], (vm.Ref, vm.ImproperList)):
        raise vm.BadArg(f"reply: expected the (caller, ref) a call handed you, not {from_!r}")
    tag = from_[1]
    if type(tag) is vm.Ref and tag.node == vm.node_name():
        call_reply(tag, message)
    elif type(tag) is vm.ImproperList and tag.is_alias_tag():
        vm.send(tag.tail, (tag, message))
    else:
        vm.send(from_[0], (tag, message))
    return "ok"


def send_nofail(server, message):
    """Send to a server reference, ignoring unknown names and dead pids (cast semantics)."""
    if is_remote(server):  # another node: sends there never fail either
        vm.send(server, message)
        return
    try:
        if type(server) is tuple and len(server) == 3 and server[0] == "via":
            server[1].send(server[2], message)
            return
        pid = whereis(server)
    except vm.BadArg:
        raise
    except Exception:  # a via registry that raised: casts never fail
        return
    if pid is not None:
        vm.send(pid, message)


def stop(server, reason="normal", timeout=None):
    """Stop a behaviour process and wait for it (OTP's gen:stop): "ok", or the
    caller exits with the bare reason "noproc" or "timeout" (as OTP's
    gen_server:stop and gen_statem:stop do), or with the reason the process
    exited with when that differs from `reason`."""
    pid = whereis(server)
    if pid is None:
        raise vm.Exit(vm.Atom("noproc"))
    try:
        return proc_lib.stop(pid, reason, timeout)
    except vm.Exit as e:
        r = e.reason
        if type(r) is tuple and len(r) == 2 and r[0] in ("noproc", "timeout"):
            raise vm.Exit(r[0]) from None
        raise


# ----------------------------------------------------------------------
# asynchronous requests (OTP 25's send_request family)
#
# A request id is the Ref of a monitor on the server that is also an alias of
# the caller (mode "demonitor"). The server answers it as it answers a call,
# `(ref, reply)` sent to the alias, and a server that dies first ends the wait
# with the monitor's DOWN. Abandoning a request (receive_response's timeout)
# removes the monitor, which deactivates the alias: a reply that comes later
# is dropped by the runtime and never reaches the mailbox. wait_response's
# timeout abandons nothing: the request can be waited for again.
#
# A collection is a dict {request id: label}, a term as OTP's map is, and a
# value as OTP's map is: every function returns a new collection and leaves
# the one it was given unchanged (so adding to or taking from it copies it).

# The names every behaviour with calls re-exports (gen_server, gen_statem; gen_event
# has its own send_request, as in OTP).
REQUEST_FUNCTIONS = ("check_response", "receive_response", "reqids_add", "reqids_new",
                     "reqids_size", "reqids_to_list", "send_request", "wait_response")
REPLY = vm.Atom("reply")
ERROR = vm.Atom("error")
_TIMEOUT = vm.Atom("timeout")
NO_REPLY = vm.Atom("no_reply")
NO_REQUEST = vm.Atom("no_request")
_PROCESS = vm.Atom("process")
_NO_DELETE = object()  # wait/receive/check on a single request take no delete flag


def send_request(server, tag, request, label=None, reqids=None):
    """Send `(tag, (self, req_id), request)` to `server`; returns the request id.

    With `reqids` (a collection) the id is added to it under `label` and the
    new collection is returned instead. A server that is not there is not
    an error here: its response, `("error", ("noproc", server))`, is waiting
    in the mailbox already, as OTP's is.
    """
    if reqids is not None:
        _check_reqids(reqids, "send_request")
        new = reqids.copy()
        new[send_request(server, tag, request)] = label
        return new
    if label is not None:
        raise vm.BadArg("send_request: a label names a request inside a collection; pass "
                        "reqids=gen_server.reqids_new() (or a collection) with it")
    if is_remote(server) and _distributed():
        pid, reason = server, None  # over the distribution: monitor and send reach it
    else:
        pid, reason = _resolve(server)
    if pid is None:
        ref = vm.make_ref()
        vm.send(vm.self(), (DOWN, ref, _PROCESS, term_safe(server), reason))
        return ref
    ref = vm.monitor(pid, alias="demonitor")
    vm.send(pid, (tag, (vm.self(), ref), request))
    return ref


def _distributed() -> bool:
    """Is this node part of a distribution (named, with vm.dist started)?"""
    return vm.node() != "nonode@nohost"


def _resolve(server):
    """(pid, None), or (None, the reason a request to `server` fails at once)."""
    if type(server) is Pid:
        return server, None
    pid = whereis(server)  # raises BadArg for something that is not a server reference
    if pid is not None:
        return pid, None
    if type(server) is tuple and len(server) == 2 and server[1] != vm.node_name():
        return None, ("nodedown", vm.Atom(server[1]))  # OTP: a node not distributed
    return None, vm.Atom("noproc")


def wait_response(req, timeout=None, delete=_NO_DELETE):
    """Wait up to `timeout` for the response to a request or to any request of a
    collection; a timeout abandons nothing (wait again later).

    Request id: `("reply", reply)`, `("error", (reason, server))` or
    `"timeout"`. Collection (`delete` required): `(response, label,
    new_collection)`, `"no_request"` (it is empty) or `"timeout"`.
    """
    if type(req) is vm.Ref:
        _no_delete(delete, "wait_response")
        msg = _receive(_is_response, req, timeout_value(timeout))
        return _TIMEOUT if msg is vm.TIMEOUT else _response(msg)
    delete = _check_delete(req, delete, "wait_response")
    tmo = timeout_value(timeout)
    if not req:
        return NO_REQUEST
    msg = _receive(_is_collection_response, req, tmo)
    return _TIMEOUT if msg is vm.TIMEOUT else _collection_result(msg, req, delete)


def receive_response(req, timeout=None, delete=_NO_DELETE):
    """As `wait_response`, but a timeout abandons the request (every request of
    the collection): its monitor and alias go, so a late reply is dropped."""
    if type(req) is vm.Ref:
        _no_delete(delete, "receive_response")
        msg = _receive(_is_response, req, timeout_value(timeout))
        if msg is not vm.TIMEOUT:
            return _response(msg)
        _forget(req)
        # The reply may have arrived between the timeout and the demonitor.
        msg = _receive(_is_reply, req, 0)
        return _TIMEOUT if msg is vm.TIMEOUT else (REPLY, msg[1])
    delete = _check_delete(req, delete, "receive_response")
    tmo = timeout_value(timeout)
    if not req:
        return NO_REQUEST
    msg = _receive(_is_collection_response, req, tmo)
    if msg is not vm.TIMEOUT:
        return _collection_result(msg, req, delete)
    for ref in req:
        _forget(ref)
    while _receive(_is_collection_reply, req, 0) is not vm.TIMEOUT:
        pass
    return _TIMEOUT


def check_response(msg, req, delete=_NO_DELETE):
    """Is `msg` (a message already received) the response to `req`?

    Request id: `("reply", reply)`, `("error", (reason, server))` or
    `"no_reply"`. Collection (`delete` required): `(response, label,
    new_collection)`, `"no_request"` (it is empty) or `"no_reply"`.
    """
    ref = _response_ref(msg)
    if type(req) is vm.Ref:
        _no_delete(delete, "check_response")
        return _response(msg) if ref is not None and ref == req else NO_REPLY
    delete = _check_delete(req, delete, "check_response")
    if not req:
        return NO_REQUEST
    return _collection_result(msg, req, delete) if ref is not None and ref in req else NO_REPLY


def reqids_new() -> dict:
    """An empty request-id collection."""
    return {}


def reqids_size(reqids) -> int:
    return len(_check_reqids(reqids, "reqids_size"))


def reqids_add(req_id, label, reqids) -> dict:
    """A new collection: `reqids` plus `req_id` under `label` (an id already in
    it is refused, as OTP refuses it)."""
    _check_reqids(reqids, "reqids_add")
    if type(req_id) is not vm.Ref:
        raise vm.BadArg(f"reqids_add: expected a request id (the Ref send_request returned), "
                        f"not {req_id!r}")
    if req_id in reqids:
        raise vm.BadArg(f"reqids_add: request id {req_id!r} is in the collection already")
    new = reqids.copy()
    new[req_id] = label
    return new


def reqids_to_list(reqids) -> list:
    """`[(req_id, label), ...]`."""
    return list(_check_reqids(reqids, "reqids_to_list").items())


# What each process is waiting for (a request id or a collection), by process
# record: module-level predicates read it, so each receive pattern is one
# object that compiles once (a closure per wait would compile every time).
_waiting: dict = {}


def _receive(pred, what, timeout):
    p = getcurrent()  # vm.receive refuses to run outside a process
    _waiting[p] = what
    try:
        return vm.receive(pred, timeout=timeout)
    finally:
        del _waiting[p]


def _response_ref(m):
    """The request id `m` answers (as a reply or as the server's DOWN), or None."""
    if type(m) is tuple:
        n = len(m)
        if n == 2:
            return m[0] if type(m[0]) is vm.Ref else None
        if n == 5 and type(m[1]) is vm.Ref and m[0] == DOWN:
            return m[1]
    return None


def _is_reply(m):
    return type(m) is tuple and len(m) == 2 and m[0] == _waiting[getcurrent()]


def _is_response(m):
    ref = _response_ref(m)
    return ref is not None and ref == _waiting[getcurrent()]


def _is_collection_reply(m):
    return type(m) is tuple and len(m) == 2 and type(m[0]) is vm.Ref \
        and m[0] in _waiting[getcurrent()]


def _is_collection_response(m):
    ref = _response_ref(m)
    return ref is not None and ref in _waiting[getcurrent()]


def _forget(ref):
    """Remove a request's monitor (and so its alias), and its DOWN if one came: a
    DOWN can be queued only if the monitor had fired, so only then is the
    mailbox scanned (a fan-out's replies wait there: scanning them for each
    reply would make collecting n replies cost n * n)."""
    if not vm.demonitor(ref, info=True):
        vm.demonitor(ref, flush=True)


def _response(msg):
    if len(msg) == 2:
        _forget(msg[0])
        return (REPLY, msg[1])
    return (ERROR, (msg[4], msg[3]))


def _collection_result(msg, reqids, delete):
    ref = msg[0] if len(msg) == 2 else msg[1]
    if delete:
        reqids = reqids.copy()
        label = reqids.pop(ref)
    else:
        label = reqids[ref]
    return (_response(msg), label, reqids)


def timeout_value(timeout):
    """Seconds to wait (None: forever) from None, seconds >= 0 (math.inf is
    forever), or ("abs", t): until the monotonic time t (vm.monotonic())."""
    if timeout is None:
        return None
    t = type(timeout)
    if (t is int or t is float) and timeout >= 0:
        return None if timeout == math.inf else timeout
    if t is tuple and len(timeout) == 2 and timeout[0] == "abs" and \
            type(timeout[1]) in (int, float) and timeout[1] == timeout[1]:
        try:
            left = float(timeout[1]) - vm.monotonic()
        except OverflowError:
            left = math.nan
        if left == left:
            return None if left == math.inf else max(0.0, left)
    raise vm.BadArg(f"timeout must be seconds >= 0, None (infinity) or ('abs', monotonic "
                    f"time), not {timeout!r}")


def _check_reqids(reqids, what):
    if type(reqids) is not dict:
        raise vm.BadArg(f"{what}: expected a request-id collection (reqids_new() and what "
                        f"send_request/reqids_add return), not {reqids!r}")
    return reqids


def _no_delete(delete, what):
    if delete is not _NO_DELETE:
        raise vm.BadArg(f"{what}: delete= applies to a request-id collection, not to a "
                        "single request id")


def _check_delete(reqids, delete, what):
    if type(reqids) is not dict:
        raise vm.BadArg(f"{what}: expected a request id (a Ref from send_request) or a "
                        f"request-id collection, not {reqids!r}")
    if type(delete) is not bool:
        raise vm.BadArg(f"{what}: on a collection pass delete=True (take the request out "
                        f"of the returned collection) or delete=False, not {delete!r}")
    return delete
