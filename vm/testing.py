"""Helpers for testing code that runs on beamlet.

- `run(fn, *args, seed=None, **opts)`: `vm.run` on the virtual clock, so
  timeouts and sleeps in a test are instant and never flake.
- `drain(*patterns, timeout=0)` and `catch(fn, *args, **kwargs)`, for the
  body of a test process: the messages it was sent, and Erlang's `catch`
  (a call's value, or `("EXIT", reason)` when it raised `vm.Exit`).
- `Recorder`: an instrument that records every event as a tuple
  `(event, *args)`, e.g. `("send", sender, dest, msg)`; filter with
  `recorder.events("send")`. Compare the list with the interleaving you
  expect, the way trio's instrument tests and curio's result lists do.
- `runtime(node=None)`: the private runtime behind a node, for white-box
  tests of the runtime itself;
- `check_invariants(node)`: raise AssertionError listing every invariant of
  the runtime the node breaks (see `vm/_invariants.py`); and
  `InvariantChecker`, an instrument that checks them after every slice and
  keeps what it found in `.violations` (for property tests and the
  conformance suite's debug mode).
"""

from __future__ import annotations

from ._api import run as _run
from ._instrument import EVENTS, Instrument
from ._mailbox import receive
from .errors import Exit
from .terms import TIMEOUT

__all__ = ["InvariantChecker", "Recorder", "catch", "check_invariants", "drain", "run",
           "runtime"]


def run(fn, *args, seed=None, **opts):
    """Run `fn` as the main process of a fresh node with a virtual clock."""
    opts.setdefault("clock", "virtual")
    return _run(fn, *args, seed=seed, **opts)


def drain(*patterns, timeout=0):
    """Receive messages matching `patterns` (any message when none is given)
    until none has arrived for `timeout` seconds; return them oldest first.

    `timeout=0` takes only what is already queued. A positive timeout also
    waits for what the processes the test started are still about to send
    (on the virtual clock of `run` the wait costs no real time). Messages
    that match no pattern stay in the mailbox."""
    out = []
    while (msg := receive(*patterns, timeout=timeout)) is not TIMEOUT:
        out.append(msg)
    return out


def catch(fn, *args, **kwargs):
    """`fn(*args, **kwargs)`, or `("EXIT", reason)` if it raised `vm.Exit`
    (a failed call, `vm.exit(reason)`): Erlang's `catch Expr` for exits.
    Other exceptions propagate."""
    try:
        return fn(*args, **kwargs)
    except Exit as e:
        return ("EXIT", e.reason)


class Recorder(Instrument):
    """Records events as tuples. `events()` returns them all, `events("send")`
    only those of one kind (several kinds may be given)."""

    def __init__(self, kinds=None):
        unknown = set(kinds or ()) - set(EVENTS)
        if unknown:
            from .errors import BadArg

            raise BadArg(f"Recorder: unknown event kinds {sorted(unknown)}; known: {EVENTS}")
        self._kinds = frozenset(kinds) if kinds else None
        self.log: list = []

    def wants(self, event):
        if self._kinds is None:  # slice events are too many to record unless asked for
            return event not in ("slice_start", "slice_end")
        return event in self._kinds

    def events(self, *kinds):
        if not kinds:
            return list(self.log)
        return [e for e in self.log if e[0] in kinds]

    def clear(self):
        self.log.clear()

    def _rec(self, *event):
        if self._kinds is None or event[0] in self._kinds:
            self.log.append(event)

    def spawn(self, parent, child, initial_call):
        self._rec("spawn", parent, child, initial_call)

    def exit(self, pid, reason):
        self._rec("exit", pid, reason)

    def send(self, sender, dest, msg):
        self._rec("send", sender, dest, msg)

    def receive(self, pid, msg):
        self._rec("receive", pid, msg)

    def link(self, a, b):
        self._rec("link", a, b)

    def unlink(self, a, b):
        self._rec("unlink", a, b)

    def monitor(self, watcher, target, ref):
        self._rec("monitor", watcher, target, ref)

    def demonitor(self, watcher, ref):
        self._rec("demonitor", watcher, ref)

    def slice_start(self, pid):
        self._rec("slice_start", pid)

    def slice_end(self, pid, reductions):
        self._rec("slice_end", pid, reductions)

    def long_slice(self, pid, seconds, where):
        self._rec("long_slice", pid, seconds, where)


def runtime(node=None):
    """The private runtime behind `node` (a vm.Node; the caller's node when None),
    for white-box tests of the runtime itself. Its fields are not an API: code
    that is not a test of vm/ uses vm, vm.Node and vm.lowlevel."""
    from ._node import runtime_of
    from .lowlevel import current_process

    return runtime_of(node) if node is not None else current_process().node


def check_invariants(node) -> None:
    """Raise AssertionError naming every invariant `node` breaks right now."""
    from ._invariants import violations
    from ._node import runtime_of

    found = violations(runtime_of(node))
    if found:
        raise AssertionError("the runtime's invariants do not hold:\n  " + "\n  ".join(found))


class InvariantChecker(Instrument):
    """Checks the runtime's invariants after every slice (slow: for tests).

    What it finds is kept in `.violations` as `(pid, [problems])` pairs, the
    pid being the process whose slice had just ended; an instrument that
    raised would only be removed, so a test asserts `checker.violations == []`
    at the end. `.slices` counts the slices it checked."""

    def __init__(self):
        self.violations: list = []
        self.slices = 0
        self._node = None

    def wants(self, event):
        return event == "slice_end"

    def slice_end(self, pid, reductions):
        from ._invariants import violations
        from .lowlevel import current_process

        if self._node is None:
            self._node = current_process().node
        self.slices += 1
        found = violations(self._node)
        if found:
            self.violations.append((pid, found))
