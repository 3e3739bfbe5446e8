"""A gen call to another node whose answer comes to the caller's pid.

What this module owns: `call(server, request, timeout)`, the call the remote
shell and `nregs()` make across nodes: to the remote-shell server, and to
a peer's `rex` (beamlet's or Erlang's).

Why not `gen_server.call`: it tags the call OTP 24's way, `[alias | Ref]`,
and the answer is sent to the alias. On a beamlet node today, a send to
another node's alias is dropped when the sending node has a live alias of
its own with the same number (the runtime looks the number up in its own
alias table before it looks at the node), so a call could wait for an
answer that was never sent. This call is tagged with a plain reference, as
before OTP 24: the server answers to the caller's pid, which every
gen_server, beamlet's or Erlang's, does for such a tag. The caller
monitors the server and demonitors it after the answer, as gen:call does.
An answer that comes after a timeout lands in the caller's mailbox (what
aliases were made to prevent), so both callers here call from a process
that ends with the call.

What it refuses: local calls (gen_server.call is right for those).
"""

from __future__ import annotations

import vm

GEN_CALL = vm.Atom("$gen_call")


def call(server, request, timeout: float | None = 5.0):
    """Call `server` ((name, node) or a pid) and return its answer; raises
    `vm.Exit((reason, where))` as gen_server.call does: "timeout",
    ("nodedown", node), "noproc" or the server's exit reason."""
    where = (vm.Atom("gen"), vm.Atom("call"), (server, request))
    mref = vm.monitor(server)
    vm.send(server, (GEN_CALL, (vm.self(), mref), request))
    msg = vm.receive((mref, vm.ANY), ("DOWN", mref, vm.ANY, vm.ANY, vm.ANY), timeout=timeout)
    if msg is vm.TIMEOUT:
        vm.demonitor(mref, flush=True)
        raise vm.Exit((vm.Atom("timeout"), where))
    if len(msg) == 2:
        vm.demonitor(mref, flush=True)
        return msg[1]
    reason = msg[4]
    if reason == "noconnection":
        node = server[1] if type(server) is tuple else server.node
        reason = (vm.Atom("nodedown"), vm.Atom(node))
    raise vm.Exit((reason, where))
