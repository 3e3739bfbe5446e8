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
- `reply(from_, reply)`, `cast`-style `send_nofail`, and `stop`.

The wire format (so that raw sends interoperate, as in OTP):

    call:    ("$gen_call", (caller_pid, ref), request)  reply: (ref, reply) sent to ref
             from another node the tag is OTP 24's [alias | Ref] (vm.ImproperList),
             and the reply goes to the alias (calls to other nodes send it too)
    cast:    ("$gen_cast", msg)
    system:  ("system", (caller_pid, ref), request)     (see otp_sys)

What it refuses: behaviour semantics (gen_server.py, gen_statem.py, ...).
"""

from __future__ import annotations

import vm
from vm.code import ensure_instrumented
from vm._introspect import export
from vm.lowlevel import call_reply, call_request, current_node, is_term

from . import proc_lib

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
        try:
            vm.unregister(name)
        except vm.BadArg:
            pass
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
    if not current_node().compile_checks:
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

        return dist.call(server, request, timeout, label, _term_safe(where))
    pid = server if type(server) is Pid else whereis(server)
    if pid is None:
        raise vm.Exit(("noproc", _term_safe(where)))
    ok, answer = call_request(pid, label, request, timeout)  # also says "calling_self"
    if ok:
        return answer
    raise vm.Exit((answer, _term_safe(where)))


def _term_safe(value):
    """Exit reasons travel in messages: show a non-term part (a via registry
    object, say) by its repr instead of making the reason unsendable."""
    return value if is_term(value) else export(value)


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


def stop(server, reason="normal", timeout=None, where=None):
    """Stop a behaviour process and wait for it (OTP's gen:stop)."""
    pid = whereis(server)
    where = where or ("gen", "stop", (server, reason, timeout))
    if pid is None:
        raise vm.Exit(("noproc", where))
    try:
        return proc_lib.stop(pid, reason, timeout)
    except vm.Exit as e:
        r = e.reason
        if type(r) is tuple and len(r) == 2 and r[0] in ("noproc", "timeout"):
            raise vm.Exit((r[0], where)) from None
        raise
