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
- `add_exit_hook(hook)` / `remove_exit_hook(hook)`: run a function when a
  process of the node dies, before its name is released and before its
  links and monitors fire (how ETS tables follow their owner's death).

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
from .errors import BadArg
from ._process import EXITING, OTP_STATUS, RECEIVING, RUNNABLE, RUNNING, WAITING, Process
from . import _snapshot as snapshot

__all__ = [
    "add_exit_hook",
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
    "remove_exit_hook",
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


# ----------------------------------------------------------------------
# exit hooks: resources that stdlib keeps on behalf of a process (ETS tables)



def add_exit_hook(hook) -> None:
    """Run `hook(pid, reason)` each time a process of the caller's node dies.

    The hook runs on the node's thread at the moment of death, before the
    dead process's registered name is released and before any EXIT or DOWN
    it causes is delivered, so nothing can observe the process dead while
    what the hook releases still exists (OTP's rule for ETS tables: they are
    gone, or handed to their heir, before the owner's links and monitors
    fire). No process is running on the hook's behalf: it must not call
    process functions (`vm.send`, `vm.self`, ...). To send, return an
    iterable of `(pid, message)` pairs; they are delivered in order, as if
    sent by the dead process, ahead of its EXIT and DOWN messages. Return
    None when there is nothing to send.

    Keep hooks short: every death on the node runs them. A hook that raises
    is logged with its traceback and stays installed. Adding the same hook
    twice installs it once.
    """
    node = current_node()
    if not callable(hook):
        raise BadArg(f"add_exit_hook: expected a callable hook(pid, reason), not {hook!r}")
    if hook not in node.exit_hooks:
        node.exit_hooks = node.exit_hooks + (hook,)


def remove_exit_hook(hook) -> bool:
    """Remove a hook added by `add_exit_hook` on the caller's node; True if it was there."""
    node = current_node()
    if hook not in node.exit_hooks:
        return False
    node.exit_hooks = tuple(h for h in node.exit_hooks if h is not hook)
    return True


