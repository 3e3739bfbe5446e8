"""Remote procedure calls: `rpc.call` to another node, and a `rex` server for callers from Erlang.

What this module owns:

- `call(node, module, function, args, timeout)`: Erlang's `rpc:call` from
  Python, through the other node's `rex` server; the result, or
  `("badrpc", reason)` as Erlang returns it. `cast` is `rpc:cast`.
- `serve(dist)`: the `rex` server, registered as `rex` on every
  distributed beamlet node, so that Erlang's `rpc:call('py@host', M, F, A)`
  (and `rpc:cast`) reach Python functions. Nothing is callable by default:
  a function is callable only once it is exposed (`expose("math", "add",
  fn)`, by module and function name, as Erlang names it). Anything else
  answers `{badrpc, {'EXIT', {undef, [{M, F, A, []}]}}}`, as an undefined
  function does on a real node. Each call runs in its own process, so a
  slow one never holds up the server. Two read-only calls are answered
  without the allow-list (`ANSWERED`): `erlang:registered/0` and
  `erlang:whereis/1`, which the shell's `nregs()` asks every connected node,
  as OTP's `c:nregs/0` does. They tell the caller names and pids, which
  any peer can already send to, and run nothing.
- a minimal group leader, so a remote function that prints (`io:format`
  with our group leader) gets its `io_reply` and the text reaches this
  node's log instead of blocking the call.

The exposed functions run with the node's full power: expose what you
would let any holder of the cookie run.

- `execute`: OTP 23+'s `rpc:call` and `erpc:call` do not use `rex`: they
  send a spawn request for `erpc:execute_call(Ref, M, F, A)`. The
  connection hands those (and `execute_cast`) to this module, which runs
  the exposed function in a new process and ends it with the exit reason
  erpc reads: `{Ref, return, Value}`, or `{Ref, error, undef, Stack}` for a
  function that is not exposed.

What it refuses: code loading and every other spawn request.
"""

from __future__ import annotations

import logging

from .. import _api as api
from .._mailbox import receive
from ..errors import BadArg, Exit
from ..terms import Atom, Crash
from . import kernel as dist_node

log = logging.getLogger("beamlet.dist.rpc")

BADRPC = Atom("badrpc")
EXIT = Atom("EXIT")
UNDEF = Atom("undef")
CALL = Atom("call")
BLOCK_CALL = Atom("block_call")
CAST = Atom("cast")
GEN_CALL = Atom("$gen_call")
GEN_CAST = Atom("$gen_cast")
IO_REQUEST = Atom("io_request")
IO_REPLY = Atom("io_reply")
OK = Atom("ok")


def _registered() -> list:
    return [Atom(name) for name in api.registered()]  # atoms, as Erlang's registered/0


#: (module, function) -> callable: read-only calls answered on every node, exposed
#: or not (see the module docstring). Nothing that runs code or changes state.
ANSWERED = {("erlang", "registered"): _registered, ("erlang", "whereis"): api.whereis}


def _callable(dist, mod, fun):
    """The function rpc runs for mod:fun, or None (answered as undefined)."""
    key = (str(mod), str(fun))
    return dist.rex_allow.get(key) or ANSWERED.get(key)


def expose(module: str, function: str, fn) -> None:
    """Let other nodes call `fn` as `module:function(Args...)` through rpc."""
    if not isinstance(module, str) or not isinstance(function, str) or not callable(fn):
        raise BadArg("expose(module, function, fn): two names and a callable")
    dist_node.current().rex_allow[(module, function)] = fn


def unexpose(module: str, function: str) -> bool:
    return dist_node.current().rex_allow.pop((module, function), None) is not None


def exposed() -> list:
    """The (module, function) pairs other nodes may call."""
    return sorted(dist_node.current().rex_allow)


# ----------------------------------------------------------------------
# the client


def call(node_name: str, module: str, function: str, args=(), timeout: float | None = None):
    """`rpc:call(Node, Module, Function, Args, Timeout)`: the result, or ("badrpc", reason)."""
    if type(args) not in (list, tuple):
        raise BadArg(f"rpc.call: args must be a list, not {args!r}")
    if not dist_node.connect(node_name):
        return (BADRPC, Atom("nodedown"))
    # our rex is the group leader: it answers io requests (a remote io:format)
    request = (CALL, Atom(module), Atom(function), list(args), dist_node.current().rex)
    try:
        return dist_node.call((Atom("rex"), Atom(node_name)), request,
                              timeout=timeout if timeout is not None else None)
    except Exit as e:
        reason = e.reason[0] if type(e.reason) is tuple and e.reason else e.reason
        if type(reason) is tuple and reason and reason[0] == "nodedown":
            return (BADRPC, Atom("nodedown"))
        if reason == "timeout":
            return (BADRPC, Atom("timeout"))
        return (BADRPC, (EXIT, reason))


def cast(node_name: str, module: str, function: str, args=()) -> bool:
    """`rpc:cast`: run it there, do not wait; always True."""
    dist_node.send((Atom("rex"), Atom(node_name)),
                   (GEN_CAST, (CAST, Atom(module), Atom(function), list(args),
                               dist_node.current().rex)))
    return True


# ----------------------------------------------------------------------
# the server


def serve(dist):
    """The `rex` process of a distributed node."""
    api.process_flag("trap_exit", True)
    while True:
        msg = receive()
        if type(msg) is not tuple or not msg:
            continue
        if msg[0] == GEN_CALL and len(msg) == 3:
            from_, request = msg[1], msg[2]
            if type(request) is tuple and len(request) == 5 and request[0] in (CALL, BLOCK_CALL):
                _, mod, fun, args, _gl = request
                api.spawn(lambda f=from_, m=mod, fn=fun, a=args: _run(dist, f, m, fn, a))
        elif msg[0] == GEN_CAST and len(msg) == 2:
            request = msg[1]
            if type(request) is tuple and len(request) == 5 and request[0] == CAST:
                _, mod, fun, args, _gl = request
                api.spawn(lambda m=mod, fn=fun, a=args: _apply(dist, m, fn, a))
        elif msg[0] == IO_REQUEST and len(msg) == 4:
            _io_request(msg)


def _apply(dist, mod, fun, args):
    fn = _callable(dist, mod, fun) if type(args) is list else None
    if fn is None:
        return (BADRPC, (EXIT, (UNDEF, [(mod, fun, args, [])])))
    try:
        return fn(*args)
    except Exit as e:
        return (BADRPC, (EXIT, e.reason))
    except Exception as e:  # the caller gets Erlang's shape for a crashed call
        log.warning("rpc %s:%s/%d raised %s", mod, fun, len(args), type(e).__name__)
        return (BADRPC, (EXIT, Crash.from_exception(e)))


def _run(dist, from_, mod, fun, args):
    result = _apply(dist, mod, fun, args)
    try:
        dist_node.reply(from_, result)
    except BadArg as e:  # the result has no External Term Format form
        log.warning("rpc %s:%s: cannot send the result back: %s", mod, fun, e)
        dist_node.reply(from_, (BADRPC, (EXIT, (Atom("bad_result"), str(e)))))


def erpc_kind(mfa, args):
    """"call" or "cast" for a spawn request of erpc's executors, else None."""
    if type(mfa) is not tuple or len(mfa) != 3 or mfa[0] != "erpc":
        return None
    if mfa[1] == "execute_call" and len(args) == 4 and type(args[3]) is list:
        return "call"
    if mfa[1] == "execute_cast" and len(args) == 3 and type(args[2]) is list:
        return "cast"
    return None


RETURN = Atom("return")
ERROR = Atom("error")


def execute(dist, conn, kind, args, caller, req_id, linked, monitored):
    """The process an erpc spawn request starts; it reports its own end to the caller."""
    if kind == "call":
        ref, mod, fun, fargs = args
    else:
        ref, (mod, fun, fargs) = None, args
    fn = _callable(dist, mod, fun)
    reason: object  # the term the caller's monitor or link receives
    if fn is None:
        reason = (ref, ERROR, UNDEF, [(mod, fun, fargs, [])])
    else:
        try:
            reason = (ref, RETURN, fn(*fargs))
        except Exit as e:
            reason = (ref, Atom("exit"), e.reason)
        except Exception as e:
            log.warning("rpc %s:%s/%d raised %s", mod, fun, len(fargs), type(e).__name__)
            reason = (ref, ERROR, Crash.from_exception(e), [])
    if kind == "cast":
        reason = Atom("normal")
    me = api.self()
    try:
        if monitored and conn.monitors_in.pop(req_id, None) is not None:
            conn.post(conn.monitor_exit_frame(me, caller, req_id, reason))
        if linked and (me, caller) in conn.links:
            conn.links.discard((me, caller))
            conn.post(conn.exit_frame(me, caller, reason, True))
    except Exception as e:  # the value has no External Term Format form
        bad: tuple = (ref, ERROR, (Atom("bad_result"), str(e)), [])
        conn.post(conn.monitor_exit_frame(me, caller, req_id, bad))


def _io_request(msg):
    """Be a group leader just enough: answer every request `ok`, log what is printed."""
    _, from_, reply_as, request = msg
    if type(request) is tuple and request and request[0] == "put_chars":
        chars = request[-1] if len(request) in (2, 3) else None
        if isinstance(chars, (str, bytes)):
            log.info("%s", chars if isinstance(chars, str) else chars.decode("utf-8", "replace"))
    dist_node.send(from_, (IO_REPLY, reply_as, OK))
