"""Selective receive, and the mailbox it takes messages from.

What this module owns: the `Mailbox` structure and taking a message out of
the running process's mailbox.

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

The mailbox. BEAM keeps a linked list with a save pointer, so skipping a
message and removing one at the saved position are both O(1). A `deque`
cannot do that (indexing it is O(i)), so a scan over a long queue turned
quadratic. `Mailbox` is a Python list plus a head index:

- delivery appends (`mb.q.append`, C speed);
- taking the oldest message advances `head` (the slot is cleared so the
  message can be freed); the list is cleared when it runs empty and its
  front cut off once the dead front is more than half of it;
- taking a message in the middle leaves a `HOLE` that scans step over;
  holes are compacted away once they outnumber live messages;
- taking the newest message pops it.

So a scan is one list index per message, removal at the scan position is
O(1) amortised, and live messages are `q[head:]` minus the holes.
Invariants: `q[head]` is never a hole; `q` is empty exactly when no message
is queued (so `if mb.q:` asks "anything queued?").

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

from ._patterns import check_timeout, compile_patterns
from ._process import EXITING, RECEIVING, _Killed, dirty_context
from .errors import NotInProcess
from .terms import TIMEOUT

#: Where a message was taken from the middle of a mailbox.
HOLE = type("Hole", (), {"__repr__": lambda self: "<hole>", "__slots__": ()})()
# Cut the dead front off a mailbox's list once it is this long and more than
# half the list; compact holes once there are this many and they outnumber
# the live messages. Both keep the work per message O(1) amortised.
FRONT_CUT = 1024
HOLES_MAX = 1024


class Traced:
    """A message sent by a process that carried a trace token (see `vm.lowlevel.
    set_trace_token`): the token travels with it and becomes the receiver's
    when it is received, as Erlang's seq_trace token does. Only the mailbox
    sees this wrapper; receive hands out the message itself."""

    __slots__ = ("msg", "token")

    def __init__(self, msg, token):
        self.msg = msg
        self.token = token

    def __repr__(self):
        return f"Traced({self.msg!r}, {self.token!r})"


class Mailbox:
    """A process's queued messages, oldest first (see the module docstring)."""

    __slots__ = ("q", "head", "holes", "cut", "traced")

    def __init__(self):
        self.q: list = []
        self.head = 0
        self.holes = 0
        self.cut = 0
        self.traced = 0  # Traced entries queued: scans unwrap only while there are any

    def __len__(self):
        return len(self.q) - self.head - self.holes

    def __iter__(self):
        """The live messages, oldest first (a snapshot: safe to hold)."""
        q = self.q[self.head:]
        if self.traced:
            return iter([m.msg if type(m) is Traced else m for m in q if m is not HOLE])
        if self.holes:
            return iter([m for m in q if m is not HOLE])
        return iter(q)

    def __repr__(self):
        return f"<Mailbox of {len(self)}>"

    def start(self, received, mark):
        """The index a scan that skips messages delivered before `mark` starts at."""
        if mark < self.cut:
            return self.head
        i = len(self.q) - (received - mark)
        return i if i > self.head else self.head

    def take(self, p, i):
        """Remove and return the message at index `i` (a live one) of `p`'s mailbox."""
        q = self.q
        msg = q[i]
        if i == self.head:
            self._advance(q, i)
        elif i == len(q) - 1:
            q.pop()
            while q[-1] is HOLE:  # q[head] is live, so this stops there
                q.pop()
                self.holes -= 1
        else:
            q[i] = HOLE
            holes = self.holes = self.holes + 1
            if holes > HOLES_MAX and holes * 2 > len(q) - self.head:
                self.q = [m for m in q[self.head:] if m is not HOLE]
                self.head = self.holes = 0
                self.cut = p.received
        return msg

    def popleft(self):
        q = self.q
        h = self.head
        msg = q[h]
        self._advance(q, h)
        return msg

    def _advance(self, q, h):
        """The message at the head `h` was taken: move the head past it (and past holes)."""
        h += 1
        if h == len(q):
            q.clear()
            self.head = self.holes = 0
            return
        q[h - 1] = None  # let the message go
        if self.holes:
            while q[h] is HOLE:
                q[h] = None
                h += 1
                self.holes -= 1
        if h > FRONT_CUT and h * 2 > len(q):
            del q[:h]  # keeps every marker's index (see the docstring)
            h = 0
        self.head = h

    def remove_first(self, p, pred) -> bool:
        """Remove the oldest message for which `pred(msg)` is true; True if one was."""
        q = self.q
        for i in range(self.head, len(q)):
            m = q[i]
            if m is not HOLE and pred(m):
                self.take(p, i)
                return True
        return False

    def clear(self):
        self.q = []
        self.head = self.holes = self.traced = 0


def new_mailbox(p) -> Mailbox:
    """The mailbox of `p`, made on first use (an idle process that never got a
    message carries none)."""
    mb = p.mailbox
    if mb is None:
        mb = p.mailbox = Mailbox()
    return mb


def _not_in_process(what):
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
    while mb is None or not mb.q:
        p.state = RECEIVING  # park(p, RECEIVING) inlined; a kill throws _Killed here
        node.switch_out(p)
        mb = p.mailbox
    msg = mb.popleft()
    if type(msg) is Traced or p.token is not None:
        msg = _adopt_token(p, mb, msg)
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
                    return _take(node, p, mb, mb.head)
                q = mb.q
                if i < 0:
                    i = mb.head if mark is None else mb.start(p.received, mark)
                n = len(q)
                while i < n:
                    m = q[i]
                    if m is not HOLE:
                        if match(m.msg if mb.traced and type(m) is Traced else m):
                            return _take(node, p, mb, i)
                        p.budget -= 1
                        if p.budget <= 0:
                            node.preempt(p)  # others only append meanwhile: i stays valid
                            n = len(q)
                    i += 1
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


def _adopt_token(p, mb, msg):
    """A message was received: its trace token (or none) becomes the process's."""
    if type(msg) is Traced:
        mb.traced -= 1
        p.token = msg.token
        return msg.msg
    p.token = None
    return msg


def _take(node, p, mb, i):
    msg = mb.take(p, i)
    if type(msg) is Traced or p.token is not None:
        msg = _adopt_token(p, mb, msg)
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
    if mb is None or not mb.q:
        return []
    last = mb.q[-1]
    out = list(mb)
    mb.clear()
    p.token = last.token if type(last) is Traced else None  # as if received one by one
    return out
