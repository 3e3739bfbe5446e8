"""The request/reply protocol of every OTP call, as one VM step.

What this module owns: `call_request` and `reply`, the primitives under
`gen.call` (and so under gen_server, gen_statem, supervisor and sys calls).

A call in OTP 24+ is: monitor the server with an alias, send
`(label, (caller, ref), request)`, wait for `(ref, reply)` or the monitor's
DOWN, then remove monitor and alias. Written with the public API that is
five VM calls, each with its own argument checks, instrument tests and
dictionary updates; fused here it is one, which is what makes a call cost a
few microseconds instead of twenty. The semantics are exactly those of the
composed version:

- the monitor makes a dead or dying server end the wait with its exit reason
  (`noproc` if it was already gone);
- the alias makes a reply that arrives after the wait was given up (a
  timeout) vanish instead of lingering in the caller's mailbox;
- the wait starts from a receive marker taken before the request is sent, so
  it costs O(new messages) however many unrelated messages are queued;
- instruments see the monitor, the send, the receive and the demonitor, as
  they would see the composed calls.

What it refuses: naming servers, building exit reasons, timeouts as policy:
`stdlib/gen.py` does those.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from greenlet import getcurrent

from ._core import Traced, adopt_token, charge, deliver, switch_out
from ._heap import _SCALARS, copy_term
from ._patterns import check_timeout
from ._process import EXITING, RECEIVING, _Killed
from ._signals import DOWN, NOPROC, flush_down
from .terms import Atom, new_ref

if TYPE_CHECKING:
    from ._core import Process
    from ._runtime import Runtime
    from .terms import Pid, Ref

DEMONITOR = "demonitor"
_PLAIN_TIMEOUT = 1e15  # seconds; anything else goes through check_timeout
CALLING_SELF = Atom("calling_self")


def call_request(dest: Pid, label: Any, request: Any,
                 timeout: float | None) -> tuple[bool, Any]:
    """Send a call to the local process `dest` (a Pid) and wait for its answer.

    Returns `(True, reply)`, or `(False, reason)` where reason is "timeout",
    "noproc", "calling_self", or the server's exit reason if it died before
    replying.
    """
    p = getcurrent()
    node = p.node
    if p.state is EXITING:
        raise _Killed()
    if timeout is not None:
        tt = type(timeout)
        if not ((tt is float or tt is int) and 0 <= timeout < _PLAIN_TIMEOUT):
            timeout = check_timeout(timeout)  # NaN, inf, negative, 10**400, not a number
    if dest.creation != node.creation or dest.node != node.name:
        return (False, NOPROC)
    target = node.procs.get(dest.id)
    if target is None or target.state is EXITING:
        return (False, NOPROC)
    if target is p:
        return (False, CALLING_SELF)
    # monitor + alias, inline (vm.monitor(dest, alias="demonitor")). The alias is
    # not recorded in p.aliases: it is also a monitor ref, and a dying process
    # drops the aliases of its monitors (_signals.process_died).
    rid = node.new_ref_id()
    ref = new_ref(node.name, rid, node.creation)
    # Internal tables are keyed by the ref's id (an int hashes in C; a Ref's
    # hash is a Python method, and a call touches these tables seven times).
    node.aliases[rid] = (p, DEMONITOR)
    if p.monitors is None:
        p.monitors = {}
    tpid = target.pid
    p.monitors[rid] = (tpid, tpid, ref)
    if target.monitored_by is None:
        target.monitored_by = {}
    target.monitored_by[rid] = p.pid
    if node.on_monitor:
        node.ins.emit("monitor", p.pid, tpid, ref)
    # send, inline (vm.send(dest, (label, (self, ref), request)))
    mark = p.received
    msg = (label, (p.pid, ref), request if type(request) in _SCALARS else copy_term(request))
    deliver(node, target, msg, p.token)
    if node.on_send:
        node.ins.emit("send", p.pid, tpid, msg)
    # wait for (ref, reply) or ("DOWN", ref, ...)
    armed = False
    i = -1
    try:
        while True:
            mb = p.mailbox
            if mb is not None and mb.q:
                q = mb.q
                if i < 0:
                    i = mb.start(p.received, mark)
                n = len(q)
                while i < n:
                    m = q[i]
                    if mb.traced and type(m) is Traced:
                        m = m.msg
                    if type(m) is tuple:
                        k = len(m)
                        if k == 2 and m[0] is ref:  # refs are shared, never copied
                            raw = mb.take(p, i)
                            if type(raw) is Traced or p.token is not None:
                                adopt_token(p, mb, raw)
                            if not _forget(node, p, rid, target):
                                flush_down(p, ref)  # the server died just after replying
                            if node.on_receive:
                                node.ins.emit("receive", p.pid, m)
                            charge(p, 1)
                            return (True, m[1])
                        if k == 5 and m[1] is ref and m[0] == DOWN:
                            raw = mb.take(p, i)
                            if type(raw) is Traced or p.token is not None:
                                adopt_token(p, mb, raw)
                            if node.on_receive:
                                node.ins.emit("receive", p.pid, m)
                            charge(p, 1)
                            return (False, m[4])
                    i += 1
            if p.timed_out:
                _forget(node, p, rid, target)
                flush_down(p, ref)
                return (False, "timeout")
            if timeout is not None and not armed:
                if timeout <= 0:
                    p.timed_out = True
                    continue
                node.arm_timeout(p, timeout)
                armed = True
            p.state = RECEIVING  # park(node, p, RECEIVING, p.undo), inline
            switch_out(node, p)
    finally:
        p.timed_out = False
        if armed:
            node.disarm_timeout(p)


def _forget(node: Runtime, p: Process, rid: int, target: Process) -> bool:
    """demonitor + drop the alias, inline; True if the monitor was still active."""
    entry = p.monitors.pop(rid, None) if p.monitors is not None else None
    if entry is not None:
        mb = target.monitored_by
        if mb is not None:
            mb.pop(rid, None)
        if node.on_demonitor:
            node.ins.emit("demonitor", p.pid, entry[2])
    node.aliases.pop(rid, None)
    return entry is not None


def reply(tag: Ref, message: Any) -> None:
    """Send `(tag, message)` to the alias `tag` (a call's reply); dropped if inactive."""
    p = getcurrent()
    node = p.node
    entry = node.aliases.get(tag.id) if tag.creation == node.creation else None
    if entry is not None:
        owner, mode = entry
        if mode != DEMONITOR:
            from ._signals import resolve_alias

            owner = resolve_alias(node, tag)
        if owner is not None and owner.state is not EXITING and p.state is not EXITING:
            msg = (tag, message if type(message) in _SCALARS else copy_term(message))
            deliver(node, owner, msg, p.token)
            if node.on_send:
                node.ins.emit("send", p.pid, owner.pid, msg)
    charge(p, 1)

