"""Process states and the signals only the VM raises.

What this module owns: the names of a process's states and the OTP status
each prints as, the two private exceptions the VM raises inside a process
(`_Killed`, `_Hibernate`), and the marker of dirty-pool threads. The process
record itself is `vm._core.Process` (it sits with the hot primitives that
read it).

States, printed by the observer as OTP's statuses:

    RUNNABLE   in its node's run queue, waiting for a slice   -> "runnable"
    RUNNING    the one process executing now                  -> "running"
    RECEIVING  parked in receive; any new message wakes it    -> "waiting"
    WAITING    parked on a timer, I/O or the dirty pool       -> "waiting"
    EXITING    dead: links and monitors have fired, its name  -> "exiting"
               is released; its Python stack may still be
               unwinding (finally blocks run, VM calls that
               would block raise again)

What it refuses: everything else. It imports nothing of the VM, so every
module may import it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

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

    def __init__(self, fn: Callable, args: tuple, kwargs: dict | None) -> None:
        super().__init__()
        self.fn = fn
        self.args = args
        self.kwargs = kwargs
