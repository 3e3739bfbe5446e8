"""Selective receive: how it works, receive markers, `flush`.

What this module owns: the description below of how a receive works, the
public `mark` and `flush`, and the error for a receive outside a process.
The receive itself (`receive`, `selective_receive`, the scan) runs on every
message, so it lives in the hot core, `vm._core`, beside the mailbox
structure and its invariants.

How a receive works, exactly as BEAM does it:

- the mailbox is scanned oldest first; each message is tried against every
  pattern before moving on; the first match is removed and returned, the
  others stay in place and in order;
- each message skipped costs one reduction, so a long scan can be
  preempted halfway (and resumes where it was);
- when nothing matches, the process parks in RECEIVING; a new message makes
  it runnable and only the new messages are tried (the scan position is
  kept, like BEAM's save pointer);
- a timeout starts when the receive first blocks and is not restarted by
  arrivals that do not match; `timeout=0` looks once; `None` waits forever.

Receive markers. `p.received` counts every delivery, so a marker is the
value of that count when it was taken, and the message delivered as number
`s` sits at index `len(q) - (p.received - s)`: appending and cutting off
the front keep that true. Popping the newest message makes the formula
point one slot early for older numbers (a scan then looks at one message
more, which is harmless). Compacting holes moves messages back, so it
records `cut` (the count at that moment), and a marker older than `cut`
falls back to scanning from the head, which is always correct.
`make_ref` and `monitor` mark the mailbox, and a receive in which *every*
pattern holds that ref starts from the mark (BEAM's optimisation); gen's
call takes a mark before sending its request, so waiting for the reply
costs O(new messages) however many unrelated messages are queued.

What it refuses: running patterns in the sender. Patterns may be arbitrary
predicates, so they run in the receiving process, on its reductions.
"""

from __future__ import annotations

from greenlet import getcurrent

from ._core import Traced, receive  # noqa: F401 - receive is vm.receive
from ._process import dirty_context
from .errors import NotInProcess


def _not_in_process(what: str) -> NotInProcess:
    if getattr(dirty_context, "job", None) is not None:
        return NotInProcess(
            f"vm.{what}() was called on a dirty-pool thread (inside a vm.to_thread function), "
            "which is not a process: only vm.send() and vm.self() work there. Return a "
            "result instead, or send it to the calling process with vm.send()"
        )
    return NotInProcess(
        f"vm.{what}() must be called inside a process; start a node with vm.run(main) "
        "and call it from main or from a process main spawns (from another thread, use "
        "the node's own doors: node.send, node.spawn, node.call on a vm.Node().start())"
    )


def mark() -> int:
    """A receive marker: `receive(..., mark=m)` ignores messages queued before it."""
    p = getcurrent()
    try:
        received: int = p.received
    except AttributeError:
        raise _not_in_process("mark") from None
    return received


def flush() -> list:
    """Take every message out of the mailbox; return them oldest first."""
    p = getcurrent()
    try:
        mb = p.mailbox
    except AttributeError:
        raise _not_in_process("flush") from None
    if mb is None or not mb.q:
        return []
    last = mb.q[-1]
    out = list(mb)
    mb.clear()
    p.token = last.token if type(last) is Traced else None  # as if received one by one
    return out
