"""Selective receive (reference §1.5).

What this module owns: taking a message out of the running process's
mailbox. The mailbox itself is a `deque` on the process record, created on
first delivery (an idle process that never got a message carries none).

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

Receive markers: `mark()` returns a position; `receive(..., mark=m)` skips
every message that was already queued when the mark was taken. gen_server's
call takes a mark before sending its request, so waiting for the reply costs
O(new messages) even with 10,000 unrelated messages queued (BEAM does the
same with refs created just before the receive).

What it refuses: running patterns in the sender. Patterns may be arbitrary
predicates, so they run in the receiving process, on its reductions.
"""

from __future__ import annotations

from greenlet import getcurrent

from ._patterns import check_timeout, compile_patterns
from ._process import EXITING, RECEIVING, _Killed
from .errors import NotInProcess
from .terms import TIMEOUT


def _not_in_process(what):
    return NotInProcess(
        f"vm.{what}() must be called inside a process; start a node with vm.run(main) "
        "and call it from main or from a process main spawns"
    )


def receive(*patterns, timeout=None, mark=None):
    """Take the first message matching any of `patterns` (any message if none).

    Returns the message, or `vm.TIMEOUT` when `timeout` seconds pass (or,
    with `timeout=0`, when nothing matches right now).
    """
    p = getcurrent()
    try:
        mb = p.mailbox
    except AttributeError:
        raise _not_in_process("receive") from None
    if patterns or mark is not None or timeout is not None or p.state is EXITING:
        return _receive(p, patterns, timeout, mark)
    # Any message, no timeout: the common case, kept tight.
    node = p.node
    while not mb:
        p.state = RECEIVING  # park(p, RECEIVING) inlined; a kill throws _Killed here
        node.switch_out(p)
        mb = p.mailbox
    msg = mb.popleft()
    if node.on_receive:
        node.ins.emit("receive", p.pid, msg)
    p.budget -= 1
    if p.budget <= 0:
        node.preempt(p)
    return msg


def _receive(p, patterns, timeout, mark):
    node = p.node
    if p.state is EXITING:
        raise _Killed()
    match = compile_patterns(patterns) if patterns else None
    timeout = check_timeout(timeout)
    i = 0
    if mark is None and p.ref_mark is not None and patterns:
        ref, at = p.ref_mark
        if _mentions(patterns, ref):
            mark = at  # the pattern needs a ref made after every older message
    if mark is not None and p.mailbox:
        i = max(0, len(p.mailbox) - (p.received - mark))
    armed = False
    try:
        while True:
            mb = p.mailbox
            if mb:
                if match is None:
                    if mb:
                        return _take(node, p, mb, 0)
                else:
                    n = len(mb)
                    while i < n:
                        if match(mb[i]):
                            return _take(node, p, mb, i)
                        i += 1
                        p.budget -= 1
                        if p.budget <= 0:
                            node.preempt(p)
                            n = len(mb)
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


def _mentions(pattern, ref) -> bool:
    """Does a pattern (or tuple of patterns) contain this ref, so that no message
    older than the ref can match it?"""
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


def _take(node, p, mb, i):
    msg = mb[i]
    if i == 0:
        mb.popleft()
    else:
        del mb[i]
    if node.on_receive:
        node.ins.emit("receive", p.pid, msg)
    p.budget -= 1
    if p.budget <= 0:
        node.preempt(p)
    return msg


def mark():
    """A receive marker: `receive(..., mark=m)` ignores messages queued before it."""
    p = getcurrent()
    try:
        return p.received
    except AttributeError:
        raise _not_in_process("mark") from None


def flush():
    """Take every message out of the mailbox; return them oldest first."""
    p = getcurrent()
    try:
        mb = p.mailbox
    except AttributeError:
        raise _not_in_process("flush") from None
    if not mb:
        return []
    out = list(mb)
    mb.clear()
    return out
