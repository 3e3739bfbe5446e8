"""Selective receive.

What this module owns: the public `receive`, `flush` and receive markers,
on the mailbox and the scan of `vm._core` (where the mailbox structure and
its invariants are described).

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

from typing import TYPE_CHECKING, Any

from greenlet import getcurrent

from ._accounting import PROCESS, RECEIVE
from ._core import Traced, receive, scan, take  # noqa: F401 - receive is vm.receive
from ._patterns import check_timeout, compile_patterns
from ._process import EXITING, RECEIVING, _Killed, dirty_context
from .errors import NotInProcess
from .terms import TIMEOUT

if TYPE_CHECKING:
    from ._core import Process
    from .terms import Ref


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


def selective_receive(p: Process, patterns: tuple, timeout: float | None,
                      mark: int | None) -> Any:
    """`vm.receive` with patterns, a timeout or a marker (see the module docstring)."""
    node = p.node
    if p.state is EXITING:
        raise _Killed()
    match = compile_patterns(patterns) if patterns else None
    timeout = check_timeout(timeout)
    if mark is None and p.ref_mark is not None and patterns:
        ref, at = p.ref_mark
        if all(_mentions(pat, ref) for pat in patterns):
            mark = at  # every pattern needs a ref made after every older message
    i = -1  # the scan position: set once the mailbox exists
    armed = False
    try:
        while True:
            mb = p.mailbox
            if mb is not None and mb.q:
                if match is None:
                    return take(p, mb, mb.head)
                if i < 0:
                    i = mb.head if mark is None else mb.start(p.received, mark)
                ms = node.msacc
                if ms is None:
                    found, i = scan(p, mb, match, i)
                else:
                    ms.enter(RECEIVE)
                    found, i = scan(p, mb, match, i)
                    ms.enter(PROCESS)
                if found >= 0:
                    return take(p, mb, found)
            if p.timed_out:
                return TIMEOUT
            if timeout is not None:
                if timeout == 0:
                    return TIMEOUT
                if not armed:
                    node.arm_timeout(p, timeout)  # sets p.undo: what a kill cancels
                    armed = True
            node.park(p, RECEIVING, p.undo)
            # Woken by a message (the timeout stays armed) or by the timeout
            # (p.timed_out is set).
    finally:
        p.timed_out = False
        if armed:
            node.disarm_timeout(p)


def _mentions(pattern: Any, ref: Ref) -> bool:
    """Does a pattern contain this ref, so that no message older than the ref can
    match it?"""
    if pattern is ref:
        return True
    t = type(pattern)
    if t is tuple or t is list:
        for x in pattern:
            if x is ref or ((type(x) is tuple or type(x) is list or type(x) is dict)
                            and _mentions(x, ref)):
                return True
    elif t is dict:
        return any(_mentions(v, ref) for v in pattern.values())
    return False


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
