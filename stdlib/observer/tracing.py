"""Tracing, like dbg and recon_trace, built on the node's instruments.

What this module owns:

- `trace(target, events=("send", "receive"), count=N, seconds=S, ...)`:
  trace a pid, a registered name, a list of them, `"new"` (processes
  spawned from now on) or `"all"`, for these events:

      send      (<0.42.0>) <0.43.0> ! msg       what the traced process sends
      receive   (<0.42.0>) << msg               what it takes out of its mailbox
      spawn     (<0.42.0>) spawn <0.44.0> as kv.loop/1
      exit      (<0.42.0>) exit normal
      link      (<0.42.0>) link <0.43.0>        also unlink, getting_linked,
                                                getting_unlinked
      monitor   (<0.42.0>) monitor <0.43.0>     also demonitor
      call      (<0.42.0>) call <0.43.0> req    behaviour calls (gen_server,
                (<0.43.0>) reply <0.42.0> -> v  gen_statem, sys) and their replies,
                                                to or from a traced process
      state     (<0.42.0>) state locked -> open a gen_statem's state changes (the
                                                machines named as targets; through
                                                sys's installed debug functions)

  Every trace has a limit, and no trace starts without one: `count` events
  printed, or `seconds` of node time, whichever comes first (a time-only
  trace also stops at `MAX_EVENTS`, so a busy node cannot flood the
  terminal). It stops by itself and says why. There is one trace per node
  at a time: starting one stops the previous (recon_trace does the same);
  `stop()` ends it early. `follow=True` also traces what traced processes
  spawn (dbg's set-on-spawn).

- The recorded events (`Trace.events`) render as a message sequence
  diagram in the terminal and as Mermaid `sequenceDiagram` text
  (`sequence_view`), with messages labelled as Kino.Process labels them:
  CALL, CAST, INFO, EXIT, DOWN, SPAWN, and REPLY for a call's answer.
  `seq(fn)` runs a function under a trace of the caller and what it
  spawns, and returns the diagram of that run.

- Where the lines go: `output=`, else the caller's standard output as it
  is when the trace starts (a remote shell's session routes it to its
  client: remote_io.py), bound then, since the hooks run in whatever
  process an event happens in; `stop_writing_to(stream)` stops the trace
  that writes there. Processes marked `untraced(pid)` (the remote shell's
  own plumbing) never appear in a trace.

What it refuses: tracing Python function calls (`dbg:tp`). docs/architecture.md
(preemption) explains why sys.settrace and greenlets do not mix; behaviour
calls are the calls an OTP user traces, and they are messages.

Costs: while a trace runs, the node calls this instrument on every event
of the chosen kinds (a Python call each). Hooks run on the node's thread,
between two steps of a process; printing happens there too, one line at a
time, so keep traces narrow on a busy node.
"""

from __future__ import annotations

import contextlib
import itertools
import sys
import weakref
from dataclasses import dataclass
from functools import partial

import vm
from vm import lowlevel
from vm.lowlevel import Instrument, snapshot

from . import fmt
from .source import in_process, on_node, resolve_node
from .views import View, _mm

EVENTS = ("send", "receive", "spawn", "exit", "link", "monitor", "call", "state")
DEFAULT_EVENTS = ("send", "receive")
MAX_EVENTS = 10_000
LINE_LIMIT = 160

_active: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_untraced: set = set()  # pids no trace shows (see untraced())


def untraced(pid) -> None:
    """Leave `pid` out of every trace: a tool's own process (the remote shell's
    output forwarder), whose messages would otherwise carry trace lines that
    are traced in turn."""
    _untraced.add(pid)


def traced_again(pid) -> None:
    _untraced.discard(pid)


@dataclass(frozen=True, slots=True)
class TraceEvent:
    t: float  # node-clock seconds since the trace started
    kind: str  # send receive spawn exit link unlink getting_linked getting_unlinked
    #            monitor demonitor call reply
    pid: object  # the process the event happened to
    other: object  # the peer: destination, child, linked pid, monitored pid, caller
    msg: object  # message, reason, initial call, request, reply value
    shown: bool = True  # printed (False: recorded only for the diagram)


def classify(msg, calls=None):
    """(label, payload) for a message, as Kino.Process labels arrows."""
    if type(msg) is tuple:
        n = len(msg)
        if n == 3 and msg[0] == "$gen_call":
            frm = msg[1]
            if calls is not None and type(frm) is tuple and len(frm) == 2:
                calls.add(frm[1])
            return "CALL", msg[2]
        if n == 2 and msg[0] == "$gen_cast":
            return "CAST", msg[1]
        if n == 3 and msg[0] == "EXIT" and type(msg[1]) is vm.Pid:
            return "EXIT", msg[2]
        if n == 5 and msg[0] == "DOWN" and type(msg[1]) is vm.Ref:
            return "DOWN", msg[4]
        if n == 3 and msg[0] == "system":
            frm = msg[1]
            if calls is not None and type(frm) is tuple and len(frm) == 2:
                calls.add(frm[1])
            return "SYSTEM", msg[2]
        if n == 2 and type(msg[0]) is vm.Ref and calls is not None and msg[0] in calls:
            return "REPLY", msg[1]
    return "INFO", msg


def _parse_events(events):
    if events in ("all", ("all",)):
        return frozenset(EVENTS)
    if isinstance(events, str):
        events = (events,)
    evs = frozenset(events)
    unknown = evs - set(EVENTS)
    if unknown or not evs:
        raise vm.BadArg(f"trace: events must be some of {', '.join(EVENTS)} (or 'all'), "
                        f"not {sorted(unknown) or events!r}")
    return evs


class Trace(Instrument):
    """One running (or finished) trace. Build it with `trace()`."""

    def __init__(self, node, pids, mode, events, count, seconds, follow, output, full,
                 timestamps, quiet=False, writes_to=None):
        self.node = node
        self.writes_to = writes_to  # the stream the default output prints to, or None
        self.traced = set(pids)
        self.mode = mode  # "pids", "new" or "all"
        self.kinds = events
        self.count = count
        self.seconds = seconds
        self.follow = follow
        self.output = output
        self.limit = None if full else LINE_LIMIT
        self.timestamps = timestamps
        self.quiet = quiet
        self.events: list = []
        self.names: dict = {}  # pid -> registered name seen during the trace
        self.calls: set = set()  # refs of calls seen, to recognise replies
        self.shown = 0
        self.running = False
        self.stopped_because = None
        self._t0 = 0.0
        self._deadline = None
        self._cancel_timer = None
        self._max = count if count is not None else MAX_EVENTS

    # -- lifecycle (on the node's thread) --------------------------------

    def _start(self):
        node = self.node
        old = _active.get(node)
        if old is not None and old.running:
            old._stop("replaced by a new trace")
        _active[node] = self
        self._t0 = lowlevel.node_now(node)
        if self.seconds is not None:
            self._deadline = self._t0 + self.seconds
            self._cancel_timer = snapshot.call_later(node, self.seconds,
                                                     lambda: self._stop("time limit"))
        for pid in self.traced:
            self._remember(pid)
        self.running = True
        lowlevel.add_instrument(self, node=node)

    def _stop(self, why):
        if not self.running:
            return
        self.running = False
        self.stopped_because = why
        lowlevel.remove_instrument(self, node=self.node)
        if self._cancel_timer is not None:
            self._cancel_timer()
            self._cancel_timer = None
        if not self.quiet:
            self._say(f"trace stopped: {self.shown} event{'s' if self.shown != 1 else ''} "
                      f"({why})")

    def stop(self):
        """Stop the trace now (callable from any thread or process)."""
        if self.running:
            on_node(lambda node: self._stop("stopped"), self.node)
        return self

    # -- filtering --------------------------------------------------------

    def wants(self, event):
        k = self.kinds
        if event == "spawn":
            return True  # to follow new processes, and for names
        if event in ("send", "receive"):
            return bool(k & {"send", "receive", "call"})
        if event in ("link", "unlink"):
            return "link" in k
        if event in ("monitor", "demonitor"):
            return "monitor" in k
        # "exit": its lines, and the diagram's ends of lifelines; "state" comes from
        # sys (see _watch_states), not from the node
        return event == "exit"

    def _remember(self, pid):
        name = lowlevel.registered_name(pid, node=self.node) if isinstance(pid, vm.Pid) \
            else None
        if name is not None:
            self.names[pid] = str(name)

    def _is_traced(self, pid):
        return (self.mode == "all" or pid in self.traced) and pid not in _untraced

    def _record(self, kind, pid, other, msg, shown=True):
        node = self.node
        now = lowlevel.node_now(node)
        if self._deadline is not None and now >= self._deadline:
            self._stop("time limit")
            return
        ev = TraceEvent(now - self._t0, kind, pid, other, msg, shown)
        self.events.append(ev)
        if shown:
            self.shown += 1
            if not self.quiet:
                self._say(self.format(ev))
            if self.shown >= self._max:
                self._stop("count limit" if self.count is not None
                           else f"{MAX_EVENTS} events, the cap for a time-limited trace")
        elif len(self.events) >= 4 * self._max:
            self._stop("too many events recorded")

    def _say(self, line):
        with contextlib.suppress(Exception):  # a closed terminal must not break the node
            self.output(line)

    # -- instrument hooks (run on the node's thread) -----------------------

    def spawn(self, parent, child, initial_call):
        if parent is not None and self._is_traced(parent):
            if self.follow and self.mode != "all":
                self.traced.add(child)
            if "spawn" in self.kinds:
                self._record("spawn", parent, child, initial_call)
        if self.mode == "new":
            self.traced.add(child)

    def exit(self, pid, reason):
        if self._is_traced(pid):
            self._record("exit", pid, None, reason, "exit" in self.kinds)

    def send(self, sender, dest, msg):
        if sender in _untraced:  # its messages are no one's business (see untraced())
            return
        k = self.kinds
        src_traced = sender is not None and self._is_traced(sender)
        dst_traced = self._is_traced(dest)
        if not (src_traced or dst_traced):
            return
        self._remember(sender)
        self._remember(dest)
        if "call" in k:
            label, payload = classify(msg, self.calls)
            if label in ("CALL", "SYSTEM"):
                self._record("call", sender, dest, payload)
            elif label == "REPLY":
                self._record("reply", sender, dest, payload)
        if "send" in k or "receive" in k:
            self._record("send", sender, dest, msg, src_traced and "send" in k)

    def receive(self, pid, msg):
        if "receive" in self.kinds and self._is_traced(pid):
            self._record("receive", pid, None, msg)

    def link(self, a, b):
        if self._is_traced(a):
            self._record("link", a, b, None)
        if self._is_traced(b):
            self._record("getting_linked", b, a, None)

    def unlink(self, a, b):
        if self._is_traced(a):
            self._record("unlink", a, b, None)
        if self._is_traced(b):
            self._record("getting_unlinked", b, a, None)

    def monitor(self, watcher, target, ref):
        if self._is_traced(watcher):
            self._record("monitor", watcher, target, ref)

    def demonitor(self, watcher, ref):
        if self._is_traced(watcher):
            self._record("demonitor", watcher, None, ref)

    # -- output -----------------------------------------------------------

    def format(self, ev) -> str:
        return format_event(ev, self.limit, self.timestamps)

    def __repr__(self):
        who = {"new": "new processes", "all": "all processes"}.get(
            self.mode, ", ".join(repr(p) for p in sorted(self.traced)) or "nothing")
        limits = []
        if self.count is not None:
            limits.append(f"{self.count} events")
        if self.seconds is not None:
            limits.append(fmt.seconds(self.seconds))
        state = "running" if self.running else f"stopped ({self.stopped_because})"
        return (f"<trace of {who} for {', '.join(sorted(self.kinds))}; "
                f"stops after {' or '.join(limits)}; {state}; {self.shown} "
                f"event{'' if self.shown == 1 else 's'}>")

    def view(self, *, width=None) -> View:
        return sequence_view(self.events, self.names, width=width)


def format_event(ev, limit=LINE_LIMIT, timestamps=False) -> str:
    """One event as dbg prints it."""
    k = ev.kind
    head = f"({ev.pid!r})"
    if k == "receive":
        line = f"{head} << {fmt.short(ev.msg, limit)}"
    elif k == "send":
        line = f"{head} {ev.other!r} ! {fmt.short(ev.msg, limit)}"
    elif k == "spawn":
        line = f"{head} spawn {ev.other!r} as {fmt.mfa(ev.msg)}"
    elif k == "exit":
        reason = ev.msg
        line = f"{head} exit " + (fmt.cut(str(reason), limit) if isinstance(reason, str)
                                  else fmt.short(reason, limit))
    elif k in ("link", "unlink", "getting_linked", "getting_unlinked"):
        line = f"{head} {k} {ev.other!r}"
    elif k == "monitor":
        line = f"{head} monitor {ev.other!r}"
    elif k == "demonitor":
        line = f"{head} demonitor {ev.msg!r}"
    elif k == "call":
        line = f"{head} call {ev.other!r} {fmt.short(ev.msg, limit)}"
    elif k == "reply":
        line = f"{head} reply {ev.other!r} -> {fmt.short(ev.msg, limit)}"
    elif k == "state":
        old, new = ev.msg
        line = f"{head} state {fmt.short(old, limit)} -> {fmt.short(new, limit)}"
    else:  # pragma: no cover - every kind is listed above
        line = f"{head} {k} {ev.other!r} {fmt.short(ev.msg, limit)}"
    if timestamps:
        line += f" (Timestamp: {ev.t:.6f})"
    return line


def _print(line):
    print(line, file=sys.stdout, flush=True)


def _print_to(stream, line):
    print(line, file=stream, flush=True)


def _caller_stream():
    """The stream the caller's prints go to when it is not sys.stdout itself
    (a remote shell's session: sys.stdout then routes by process), else None."""
    for_caller = getattr(sys.stdout, "stream_for_caller", None)
    return for_caller() if for_caller is not None else None


def _resolve_targets(node, target):
    """(pids, mode) for a target spec, checked on the node's thread."""
    if isinstance(target, str) and target in ("new", "all"):
        return set(), target
    items = target if isinstance(target, (list, set, frozenset)) or (
        type(target) is tuple and not (len(target) == 2 and isinstance(target[0], str)
                                       and isinstance(target[1], str))) else [target]
    pids = set()
    for t in items:
        if isinstance(t, vm.Pid):
            if not lowlevel.is_alive(t, node=node):
                raise vm.BadArg(f"trace: {t!r} is not alive")
            pids.add(t)
        elif isinstance(t, str):
            p = lowlevel.whereis(t, node=node)
            if p is None:
                raise vm.BadArg(f"trace: no process is registered as {t!r}")
            pids.add(p)
        else:
            raise vm.BadArg(f"trace: a target is a pid, a registered name, 'new' or 'all', "
                            f"not {t!r}")
    if not pids:
        raise vm.BadArg("trace: give at least one pid or name, or 'new' or 'all'")
    return pids, "pids"


def trace(target, events=DEFAULT_EVENTS, *, count=None, seconds=None, follow=False,
          output=None, full=False, timestamps=False, node=None, quiet=False) -> Trace:
    """Start tracing `target`; see the module docstring. Returns the `Trace`."""
    evs = _parse_events(events)
    if count is None and seconds is None:
        raise vm.BadArg(
            "trace needs a limit: count=N (events printed) or seconds=S (node time), or both; "
            "it stops by itself at whichever comes first"
        )
    if count is not None and (type(count) is not int or count < 1):
        raise vm.BadArg(f"trace: count must be an int >= 1, not {count!r}")
    if seconds is not None and (isinstance(seconds, bool) or not isinstance(seconds, (int, float))
                                or seconds <= 0):
        raise vm.BadArg(f"trace: seconds must be a number > 0, not {seconds!r}")
    node = resolve_node(node)
    stream = _caller_stream() if output is None else None
    if stream is not None:
        output = partial(_print_to, stream)

    def start(node):
        pids, mode = _resolve_targets(node, target)
        if "state" in evs and mode != "pids":
            raise vm.BadArg("trace: the 'state' kind needs the machines as targets (pids or "
                            "names), not 'new' or 'all'")
        t = Trace(node, pids, mode, evs, count, seconds, follow, output or _print, full,
                  timestamps, quiet, writes_to=stream)
        t._start()
        return t

    t = on_node(start, node)
    if "state" in evs:
        in_process(_watch_states, t, node=node)
    return t


def _watch_states(t):
    """Install a sys debug function in each traced gen_statem: it records every
    transition (a "consume" event whose next state differs) until the trace stops."""
    from stdlib import otp_sys

    # The hook runs in the machine's process and travels there in a message,
    # so it holds the trace's key, not the trace (a closure is copied with
    # what it captures, and a Trace is no term).
    key = next(_keys)
    _watched[key] = t
    for pid in sorted(t.traced):
        def hook(event, name, pid=pid):
            t = _watched.get(key)
            if t is None or not t.running:
                return "done"
            if type(event) is tuple and len(event) == 4 and event[0] == "consume" and \
                    not _same_state(event[2], event[3]):
                t._record("state", pid, None, (event[2], event[3]))
            return None

        with contextlib.suppress(vm.Exit):  # no behaviour loop answers sys there: nothing to record
            otp_sys.install(pid, hook, 2.0)


_watched: weakref.WeakValueDictionary = weakref.WeakValueDictionary()  # key -> Trace
_keys = itertools.count()


def _same_state(a, b):
    return type(a) is type(b) and a == b


def stop(node=None):
    """Stop the node's running trace, if any; returns it (or None)."""
    node = resolve_node(node)
    t = _active.get(node)
    if t is not None:
        t.stop()
    return t


def stop_writing_to(stream, node=None):
    """Stop the node's running trace if it prints to `stream` (a remote shell's
    session whose client went away); returns it (or None)."""
    node = resolve_node(node)
    t = _active.get(node)
    if t is not None and t.running and t.writes_to is stream:
        on_node(lambda node: t._stop("the shell that started it is gone"), node)
        return t
    return None


def last(node=None):
    """The node's most recent trace (running or stopped), or None."""
    return _active.get(resolve_node(node))


def seq(fn, *args, count=1000, node=None, **kwargs):
    """Run `fn(*args, **kwargs)` in the calling process under a trace of the
    caller and everything it spawns; return `(result, view)` where `view` is
    the sequence diagram of the run (Kino.Process's seq_trace)."""
    me = vm.self()
    t = trace(me, ("send", "receive", "spawn", "exit", "call"), count=count, follow=True,
              quiet=True, node=node)
    try:
        result = fn(*args, **kwargs)
    finally:
        t.stop()
    return result, t.view()


# ----------------------------------------------------------------------
# sequence diagrams


def _arrows(events, names):
    """The diagram's steps: (kind, src, dst, label, dashed) in order."""
    steps = []
    calls: set = set()
    sent_ids = set()
    has_sends = any(ev.kind == "send" for ev in events)
    for ev in events:
        if ev.kind in ("call", "reply") and not has_sends:  # a trace of calls only
            label = "CALL" if ev.kind == "call" else "REPLY"
            steps.append(("msg", ev.pid, ev.other, f"{label} {fmt.short(ev.msg, 60)}",
                          ev.kind == "reply"))
        elif ev.kind == "send":
            label, payload = classify(ev.msg, calls)
            sent_ids.add(id(ev.msg))
            steps.append(("msg", ev.pid, ev.other, f"{label} {fmt.short(payload, 60)}",
                          label == "REPLY"))
        elif ev.kind == "receive":
            label, payload = classify(ev.msg, calls)
            if label in ("EXIT", "DOWN") and id(ev.msg) not in sent_ids:
                src = ev.msg[1] if label == "EXIT" else ev.msg[3]
                if isinstance(src, vm.Pid):
                    steps.append(("msg", src, ev.pid, f"{label} {fmt.short(payload, 60)}",
                                  True))
        elif ev.kind == "spawn":
            steps.append(("spawn", ev.pid, ev.other, f"SPAWN {fmt.mfa(ev.msg)}", False))
        elif ev.kind == "exit":
            steps.append(("exit", ev.pid, None, f"EXIT {fmt.short(ev.msg, 60)}", False))
        elif ev.kind == "state":
            steps.append(("msg", ev.pid, ev.pid, f"STATE {fmt.short(ev.msg[1], 60)}", False))
    return steps


def _participants(steps):
    order = []
    seen = set()
    for _kind, a, b, _label, _d in steps:
        for p in (a, b):
            if p is not None and p not in seen:
                seen.add(p)
                order.append(p)
    return order


def _title(pid, names):
    name = names.get(pid)
    return f"{pid!r} {name}" if name else repr(pid)


def sequence_view(events, names=None, *, width=None) -> View:
    """A recorded trace as a sequence diagram: text, Mermaid and JSON."""
    names = names or {}
    steps = _arrows(events, names)
    parts = _participants(steps)
    text = sequence_text(steps, parts, names, width=width)
    data = {
        "kind": "sequence",
        "participants": [{"pid": repr(p), "name": names.get(p)} for p in parts],
        "steps": [{"kind": k, "from": repr(a), "to": repr(b) if b is not None else None,
                   "label": label} for k, a, b, label, _d in steps],
    }
    return View("sequence", data, text, sequence_mermaid(steps, parts, names))


def sequence_mermaid(steps, parts, names) -> str:
    ids = {p: f"p{p.id}_{p.serial}" for p in parts}
    lines = ["sequenceDiagram"]
    for p in parts:
        lines.append(f"    participant {ids[p]} as {_mm(_title(p, names))}")
    for kind, a, b, label, dashed in steps:
        if kind == "msg" and a == b and label.startswith("STATE "):
            lines.append(f"    Note over {ids[a]}: {_mm(label)}")
        elif kind == "msg":
            arrow = "-->>" if dashed else "->>"
            lines.append(f"    {ids[a]}{arrow}{ids[b]}: {_mm(label)}")
        elif kind == "spawn":
            lines.append(f"    {ids[a]}-){ids[b]}: {_mm(label)}")
        elif kind == "exit":
            lines.append(f"    Note over {ids[a]}: {_mm(label)}")
    return "\n".join(lines)


def sequence_text(steps, parts, names, *, width=None, col=None) -> str:
    """Draw lifelines and arrows in the terminal; more than fits becomes a list."""
    if not parts:
        return "(no messages recorded)"
    width = width or 100
    n = len(parts)
    if col is None:
        col = max(16, min(30, (width - 2) // max(n, 1)))
    if n * col > width or n > 8:
        return _sequence_list(steps, names)
    xs = {p: i * col + col // 2 for i, p in enumerate(parts)}
    total = n * col
    born = {}  # a spawned participant's lifeline starts at its SPAWN arrow
    for k, _a, b, _l, _d in steps:
        if k == "spawn" and b not in born:
            born[b] = True
    alive = {p: p not in born for p in parts}
    lines = []

    def lifelines():
        row = [" "] * total
        for p, x in xs.items():
            if alive[p]:
                row[x] = "│"
        return row

    head1 = [" "] * total
    head2 = [" "] * total
    for p, x in xs.items():
        for row, text in ((head1, repr(p)), (head2, names.get(p, ""))):
            text = fmt.cut(text, col - 1)
            start = max(0, min(total - len(text), x - len(text) // 2))
            row[start:start + len(text)] = list(text)
    lines.append("".join(head1).rstrip())
    if any(names.get(p) for p in parts):
        lines.append("".join(head2).rstrip())
    lines.append("".join(lifelines()).rstrip())
    for k, a, b, label, dashed in steps:
        if k == "exit":
            row = lifelines()
            x = xs[a]
            note = f"X {label}"
            start = x
            row[start:start + len(note)] = list(note[: total - start])
            lines.append("".join(row).rstrip())
            alive[a] = False
            continue
        if k == "spawn":
            alive[b] = True
        xa, xb = xs[a], xs[b]
        lab = lifelines()
        arr = lifelines()
        if xa == xb:  # to itself
            text = fmt.cut(f"↺ {label}", total - xa - 2)
            lab[xa + 2:xa + 2 + len(text)] = list(text)
            lines.append("".join(lab).rstrip())
            continue
        lo, hi = min(xa, xb), max(xa, xb)
        span = hi - lo - 1
        text = fmt.cut(label, max(1, span - 2))
        start = lo + 1 + max(0, (span - len(text)) // 2)
        lab[start:start + len(text)] = list(text)
        line_ch = "╌" if dashed else "─"
        for x in range(lo + 1, hi):
            arr[x] = line_ch
        if xb > xa:
            arr[xa] = "├"
            arr[hi - 1] = "▶" if k == "msg" else "▷"
        else:
            arr[xa] = "┤"
            arr[lo + 1] = "◀"
        lines.append("".join(lab).rstrip())
        lines.append("".join(arr).rstrip())
    lines.append("".join(lifelines()).rstrip())
    return "\n".join(lines)


def _sequence_list(steps, names) -> str:
    out = []
    for k, a, b, label, dashed in steps:
        if k == "exit":
            out.append(f"{_title(a, names)}  X  {label}")
        else:
            arrow = "-->" if dashed else "->"
            out.append(f"{_title(a, names)} {arrow} {_title(b, names)}: {label}")
    return "\n".join(out) or "(no messages recorded)"
