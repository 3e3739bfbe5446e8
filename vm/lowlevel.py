"""Low-level hooks for stdlib authors (behaviours, the observer, the tracer).

Application code should not need anything here. What this module offers:

- `current_process()` / `current_node()`: the running process record and
  its node (raise `NotInProcess` outside a process);
- `mailbox_mark()`: a receive marker (see `vm._mailbox`): pass it as
  `receive(..., mark=m)` to skip the messages queued before the mark. It
  is an optimisation: a scan may still look at a few older messages, so
  the patterns must be ones that no older message can match (a fresh ref);
- `copy_term`, `is_term`, `term_size`: the heap's copy and size estimate;
- `Instrument`, and the process-state names the observer prints.
- `snapshot`: the observer's read-only snapshots of the process table, one
  process, the registry and the scheduler's counters (see `vm._snapshot`).

Do not keep a `Process` record after the process died: records are reused
for new processes (greenlet pooling). Keep its pid instead.
"""

from __future__ import annotations

from greenlet import getcurrent

from ._call import call_request
from ._call import reply as call_reply
from ._heap import copy_term, is_term, term_size
from ._instrument import EVENTS, Instrument
from ._mailbox import _not_in_process
from ._mailbox import mark as mailbox_mark
from ._process import EXITING, OTP_STATUS, RECEIVING, RUNNABLE, RUNNING, WAITING, Process
from . import _snapshot as snapshot

__all__ = [
    "call_reply",
    "call_request",
    "EVENTS",
    "EXITING",
    "Instrument",
    "OTP_STATUS",
    "Process",
    "RECEIVING",
    "RUNNABLE",
    "RUNNING",
    "WAITING",
    "copy_term",
    "current_node",
    "current_process",
    "is_term",
    "mailbox_mark",
    "snapshot",
    "term_size",
]


def current_process() -> Process:
    p = getcurrent()
    if type(p) is not Process:
        raise _not_in_process("lowlevel.current_process")
    return p


def current_node():
    return current_process().node
