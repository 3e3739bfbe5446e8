"""Looking inside a process: `process_info` and where a process stands.

What this module owns: every `process_info` item (reference §1.10) computed
from the process record and, for `current_function` and
`current_stacktrace`, from the greenlet's suspended Python frames (frames of
the VM itself are skipped, so a process parked in `receive` reports the user
function that called `receive`, as BEAM reports the Erlang function).

Values handed out are copies: a list of messages or the process dictionary
goes through the same copy as a message, so an observer can never mutate a
process's heap. Values that are not terms (the dictionary may hold anything)
are shown as their `repr` instead of failing the call.

`messages` on a long queue: the queue is snapshotted at one instant (one
C-level copy of its list), then the messages are copied one reduction each,
so a process asking for a million messages is preempted between slices like
any other work and the node keeps running. `memory` and `total_heap_size`
are `vm._memory`'s estimate, bounded in cost whatever the process holds.

What it refuses: changing anything. Read-only by construction.
"""

from __future__ import annotations

from greenlet import getcurrent

from ._core import HOLE, Process, Traced, charge
from ._heap import copy_term
from ._memory import WORD, process_memory, user_frames
from ._process import OTP_STATUS, RUNNING
from ._scheduler import initial_call
from .errors import BadArg, Unsendable, show
from .terms import Atom

ITEMS = (
    "status",
    "reductions",
    "message_queue_len",
    "messages",
    "memory",
    "total_heap_size",
    "links",
    "monitors",
    "monitored_by",
    "current_function",
    "current_stacktrace",
    "registered_name",
    "dictionary",
    "trap_exit",
    "priority",
    "initial_call",
    "label",
    "parent",
    "max_heap_size",
    "scheduling",
)

#: What `process_info(pid)` returns when no item is named (OTP's debug set).
DEFAULT_ITEMS = (
    "registered_name",
    "current_function",
    "initial_call",
    "status",
    "message_queue_len",
    "links",
    "dictionary",
    "trap_exit",
    "priority",
    "total_heap_size",
    "reductions",
)


def export(value):
    """A copy safe to hand to another process; non-terms become their repr."""
    try:
        return copy_term(value)
    except Unsendable:
        if type(value) is dict:
            return {export(k) if _hashable(k) else repr(k): export(v) for k, v in value.items()}
        if type(value) in (list, tuple):
            return type(value)(export(v) for v in value)
        return repr(value)


def _hashable(k):
    try:
        hash(k)
        return True
    except TypeError:
        return False


_user_frames = user_frames  # the frames of a process that are not the VM's own


def messages(node, p):
    """Copies of `p`'s queued messages, oldest first, as they were at one instant.

    Called by a process, each message copied costs it one reduction, so a
    long queue is copied over several slices (the caller is preempted in
    between, as for any work) instead of stalling the node in one.
    """
    mb = p.mailbox
    if not mb:
        return []
    snap = mb.q[mb.head:]  # the instant: one C-level copy of the list
    me = getcurrent()
    charging = type(me) is Process and me.node is node and me.state is RUNNING
    out: list = []
    append = out.append
    for m in snap:
        if m is HOLE:
            continue
        append(export(m.msg if type(m) is Traced else m))
        if charging:
            charge(me, 1)
    return out


def first_messages(p, n):
    """Copies of the oldest `n` queued messages of `p` (None: all of them)."""
    mb = p.mailbox
    if not mb or n == 0:
        return []
    if n is None:
        return [export(m) for m in mb]
    q = mb.q
    out: list = []
    i = mb.head
    end = len(q)
    while i < end and len(out) < n:
        m = q[i]
        if m is not HOLE:
            out.append(export(m.msg if type(m) is Traced else m))
        i += 1
    return out


def current_function(p):
    """(module, qualified name, arity) of the innermost non-VM frame, or None."""
    for f in _user_frames(p):
        code = f.f_code
        return (f.f_globals.get("__name__", "?"), code.co_qualname, code.co_argcount)
    if p.entry is not None:  # not started yet
        return initial_call(p)
    return None


def current_stacktrace(p, limit=None):
    out = []
    for f in _user_frames(p):
        code = f.f_code
        out.append((f.f_globals.get("__name__", "?"), code.co_qualname, code.co_argcount,
                    (code.co_filename, f.f_lineno)))
        if limit is not None and len(out) >= limit:
            break
    return out


def info_item(node, p, item):
    if type(item) is tuple and len(item) == 2 and item[0] == "dictionary":
        d = p.dictionary or {}
        return export(d.get(item[1]))
    if item == "status":
        return Atom(OTP_STATUS[p.state])
    if item == "reductions":
        running = (node.slice - p.budget) if p.state is RUNNING else 0
        return p.reductions + running
    if item == "message_queue_len":
        return len(p.mailbox) if p.mailbox else 0
    if item == "messages":
        return messages(node, p)
    if item == "memory":
        return process_memory(p)
    if item == "total_heap_size":
        return process_memory(p) // WORD
    if item == "links":
        return list(p.links) if p.links else []
    if item == "monitors":
        return [(Atom("process"), e[1]) for e in p.monitors.values()] if p.monitors else []
    if item == "monitored_by":
        return list(p.monitored_by.values()) if p.monitored_by else []
    if item == "current_function":
        return current_function(p)
    if item == "current_stacktrace":
        return current_stacktrace(p)
    if item == "registered_name":
        return p.name
    if item == "dictionary":
        return export(dict(p.dictionary)) if p.dictionary else {}
    if item == "trap_exit":
        return p.trap_exit
    if item == "priority":
        return Atom(p.priority)
    if item == "initial_call":
        return initial_call(p)
    if item == "label":
        return export(p.label)
    if item == "parent":
        return p.parent_pid
    if item == "scheduling":
        # vm.scheduling's per-process figures; None while accounting is off (as
        # OTP answers `undefined` for what a switched-off flag would count).
        sched = node.sched
        if sched is None or sched.acct is None:
            return None
        return sched.acct.of(p).export()
    if item == "max_heap_size":
        return {"size": p.max_heap or 0, "kill": p.max_heap_kill, "error_logger": p.max_heap_log}
    raise BadArg(f"process_info: unknown item {show(item)}; known items: {', '.join(ITEMS)}")


def check_item(item):
    if type(item) is tuple and len(item) == 2 and item[0] == "dictionary":
        return
    if item not in ITEMS:
        raise BadArg(f"process_info: unknown item {show(item)}; known items: {', '.join(ITEMS)}")
