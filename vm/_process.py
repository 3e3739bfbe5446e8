"""The process record.

What this module owns: `Process`, a greenlet subclass holding everything the
VM knows about one process, and the invariants between its fields. Making
the record *be* the greenlet means `greenlet.getcurrent()` answers "which
process is running" in one C call, with no thread-local lookup, and an idle
process costs one object instead of two.

States (`state`), printed by the observer as OTP's statuses:

    RUNNABLE   in its node's run queue, waiting for a slice   -> "runnable"
    RUNNING    the one process executing now                  -> "running"
    RECEIVING  parked in receive; any new message wakes it    -> "waiting"
    WAITING    parked on a timer, I/O or the dirty pool       -> "waiting"
    EXITING    dead: links and monitors have fired, its name  -> "exiting"
               is released; its Python stack may still be
               unwinding (finally blocks run, VM calls that
               would block raise again)

Invariants:
- a process is in a run queue iff its state is RUNNABLE, or it is EXITING
  with a started greenlet that still has to unwind (the scheduler switches
  into it and it raises `_Killed` where it waited);
- `undo` is set only while parked (RECEIVING/WAITING) and cancels whatever
  the park registered (a timer, a selector key); whoever ends a park calls
  it exactly once;
- `links`, `monitors`, `monitored_by`, `dictionary`, `timers` are None until
  first used: most processes never use most of them, and an idle process
  must stay small (target: under 6 KB).

What it refuses: scheduling. Nothing here touches a run queue; the
scheduler and the trap functions do.
"""

from __future__ import annotations

import threading

from greenlet import greenlet

RUNNABLE = "runnable"
RUNNING = "running"
RECEIVING = "receiving"
WAITING = "waiting"
EXITING = "exiting"

OTP_STATUS = {
    RUNNABLE: "runnable",
    RUNNING: "running",
    RECEIVING: "waiting",
    WAITING: "waiting",
    EXITING: "exiting",
}

PRIORITIES = ("low", "normal", "high", "max")

#: On a dirty-pool thread, `.job` is the job it runs (see _io.py): the one
#: place outside the node's thread where `vm.send` and `vm.self` work.
dirty_context = threading.local()


class _Killed(BaseException):
    """Raised in a dead process's greenlet to unwind its Python stack.

    The process is already dead when this is raised: catching it changes
    nothing, and any VM call that would block raises it again.
    """


class _Hibernate(BaseException):
    """Raised by `vm.hibernate` to drop the stack back to the process entry."""

    def __init__(self, fn, args, kwargs):
        super().__init__()
        self.fn = fn
        self.args = args
        self.kwargs = kwargs


class Process(greenlet):
    __slots__ = (
        "node",  # the Node this process lives on
        "pid",
        "mailbox",  # collections.deque of messages, oldest first
        "received",  # count of messages ever delivered (receive markers)
        "state",
        "budget",  # reductions left in the current slice
        "grant",  # iterations between two reduction checks in its loops (vm.code)
        "reductions",  # reductions of finished slices
        "priority",
        "low_skips",  # times a low-priority process was passed over
        "trap_exit",
        "links",  # set of Pids, or None
        "monitors",  # {ref.id: (target_pid, object, ref)} monitors it holds, or None
        "monitored_by",  # {ref.id: watcher_pid}, or None
        "dictionary",  # the process dictionary, or None
        "name",  # registered name, or None
        "timers",  # set of Timer entries targeting this pid, or None
        "undo",  # cancels the current park, or None
        "timed_out",  # set by a receive timer that fired
        "exit_reason",
        "entry",  # (fn, args, kwargs) until the process starts
        "init_fn",  # the function it was spawned with (initial_call is derived)
        "parent_pid",
        "max_heap",  # words, or None
        "max_heap_kill",
        "max_heap_log",
        "label",
        "aliases",  # set of the ids of the alias refs it owns, or None
        "ref_mark",  # (ref, received) of the last make_ref/monitor: receive marker
        "is_main",
    )

    def __repr__(self):
        return f"<Process {self.pid!r} {self.state}>"
