"""Instruments: how the scheduler tells observers what happens.

What this module owns: the `Instrument` base class, whose method names are
the events a node publishes, and `Instruments`, the dispatcher a node keeps.

    spawn(parent, child, initial_call)     a process was created
    exit(pid, reason)                      a process died
    send(sender, dest, msg)                a message was delivered to dest's mailbox
    receive(pid, msg)                      a receive took msg out of the mailbox
    link(a, b) / unlink(a, b)
    monitor(watcher, target, ref) / demonitor(watcher, ref)
    slice_start(pid) / slice_end(pid, reductions)
    long_slice(pid, seconds, where)        a slice ran past the long-slice threshold

An instrument overrides only the events it wants. The dispatcher keeps, per
event, a tuple of the bound methods that were overridden; the node reads that
tuple on its hot paths and does nothing more when it is empty, so a node with
no instruments pays one attribute test per event: free when unused.

An instrument that raises is removed from every event and the failure is
logged; it never breaks the node. Hooks run synchronously on the node's
thread, between two steps of a process: keep them short.

What it refuses: formatting or storing events. `vm.testing.Recorder` stores
them; the observer's tracer filters and prints them.
"""

from __future__ import annotations

import logging

log = logging.getLogger("beamlet.instrument")

EVENTS = (
    "spawn",
    "exit",
    "send",
    "receive",
    "link",
    "unlink",
    "monitor",
    "demonitor",
    "slice_start",
    "slice_end",
    "long_slice",
)


class Instrument:
    """Base class: override the events you want to see.

    `wants(event)` may narrow that further at attach time (a recorder that
    was asked only for sends need not slow every slice down).
    """

    def wants(self, event: str) -> bool:
        return True

    def spawn(self, parent, child, initial_call):
        pass

    def exit(self, pid, reason):
        pass

    def send(self, sender, dest, msg):
        pass

    def receive(self, pid, msg):
        pass

    def link(self, a, b):
        pass

    def unlink(self, a, b):
        pass

    def monitor(self, watcher, target, ref):
        pass

    def demonitor(self, watcher, ref):
        pass

    def slice_start(self, pid):
        pass

    def slice_end(self, pid, reductions):
        pass

    def long_slice(self, pid, seconds, where):
        pass


class Instruments:
    """Per-node dispatcher.

    For each event it makes a tuple of hooks (empty when unused) and hands
    them all to the runtime (`Core.set_hooks`), which keeps them as
    `on_<event>` fields, so the node's hot paths test one field of their
    own, and takes its slow path only while slice events are wanted.
    """

    def __init__(self, owner):
        self._owner = owner
        self._all: list = []
        self._hooks: dict = {}
        self._rebuild()

    def __bool__(self):
        return bool(self._all)

    def __iter__(self):
        return iter(list(self._all))

    def add(self, inst: Instrument) -> None:
        if not isinstance(inst, Instrument):
            from .errors import BadArg

            raise BadArg(
                "an instrument must be a vm.Instrument subclass instance, "
                f"not {type(inst).__name__}"
            )
        if inst not in self._all:
            self._all.append(inst)
            self._rebuild()

    def remove(self, inst: Instrument) -> bool:
        if inst in self._all:
            self._all.remove(inst)
            self._rebuild()
            return True
        return False

    def _rebuild(self):
        hooks = {}
        for ev in EVENTS:
            base = getattr(Instrument, ev)
            hooks[ev] = tuple(
                getattr(i, ev)
                for i in self._all
                if getattr(type(i), ev, base) is not base and i.wants(ev)
            )
        self._hooks = hooks
        # The runtime keeps its own copy of each tuple, so its hot paths test
        # one field of their own (and the loop re-reads what it has to do).
        self._owner.set_hooks(hooks, bool(hooks["slice_start"] or hooks["slice_end"]))

    def emit(self, event: str, *args) -> None:
        """Call every hook for `event`; remove (and log) any instrument that raises."""
        for hook in self._hooks[event]:
            try:
                hook(*args)
            except Exception:
                inst = hook.__self__
                log.exception(
                    "instrument %r raised in %s() and was removed; the node goes on", inst, event
                )
                self.remove(inst)
