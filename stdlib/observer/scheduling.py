"""The observer's side of scheduling experiments: the accounting columns of
`procs()` and `top()`, `msacc()`, and the policy a node runs.

What this module owns:

- the scheduling columns `procs()` and `top()` show while accounting is on
  (`vm.scheduling.accounting`), and the one-line hint they show while it is
  off; the sort keys that rank by them (`SORTS`). Per process:

      Runtime  seconds it ran inside its slices since accounting was switched on
      Share    its part of all processes' run time over the window: since
               the last look (as +Reds), or since accounting was switched on
      QDelay   its mean queue delay: runnable until running, over its waits
      QMax     its longest queue delay
      RespMax  its longest response time: a wait that followed a wake-up or
               its spawn (how long a sleeper waits to react)

- `SchedSample`: every process's run time at one look, kept so the next look
  can show shares of the time in between;
- the shell commands `accounting()`, `msacc()`, `msacc_stats()` and
  `policy()`. They check their arguments here, so a bad one is refused with
  a message that says what to type, not a traceback.

Times are the node's clock: on a virtual clock (`vm.testing.run`) a slice
lasts its reductions in microseconds, so the figures are exact and a run
is reproducible. msacc measures real time (where the machine's time went).

What it refuses: the accounting itself (vm.scheduling), the table's layout
(views.py) and the live view's loop (top.py).
"""

from __future__ import annotations

import dataclasses
import heapq
from dataclasses import dataclass

import vm
import vm.scheduling as S
from vm import lowlevel
from vm.lowlevel import snapshot

from . import fmt
from .commands import command
from .display import SCHED_COLUMNS, sched_cell
from .source import on_node, pause, resolve_node
from .views import Text, View

SECTION = "Scheduling"

#: Sort keys procs() and top() take for the scheduling columns -> the figure
#: each ranks by (bigger first).
SORTS = {
    "runtime": "runtime",
    "share": "runtime_delta",
    "queue_delay": "queue_delay_mean",
    "queue_delay_max": "queue_delay_max",
    "response_time_max": "response_time_max",
}
HEADERS = [title for _key, title in SCHED_COLUMNS]
HINT = "scheduling columns off: accounting(True) switches them on"

#: What each microstate means, in the order msacc lists them (vm.scheduling.STATES).
STATE_MEANING = {
    "process": "running process code",
    "copy": "copying messages and terms",
    "receive": "scanning mailboxes in receive",
    "spawn": "spawning processes",
    "scheduler": "the scheduler loop",
    "timers": "timers",
    "io": "polling sockets and pipes",
    "gc": "Python's garbage collector",
    "idle": "idle: nothing to run",
    "outside_wait": "idle while work runs outside (dirty pool, to_thread)",
}
IDLE_STATES = ("idle", "outside_wait")

#: One line on each policy, for policy().
POLICY_MEANING = {
    "beam": "BEAM's, built in: run queues per priority (max and high strict), round robin, "
            "a slice of the node's reductions",
    "beam-python": "BEAM's algorithm written as a vm.scheduling.Policy (the built-in one's "
                   "choices)",
    "stride": "stride scheduling: CPU in proportion to tickets (weights by priority), "
              "deterministic",
    "lottery": "lottery scheduling: each pick draws a ticket at random (the node's seed)",
    "cfs": "CFS-like: the process with the least weighted run time runs next",
}


# ----------------------------------------------------------------------
# the columns


@dataclass(frozen=True, slots=True)
class SchedSample:
    """Every live process's run time at one look (node clock `time`)."""

    node: str
    since: float  # when accounting was switched on (lowlevel.accounting_read)
    time: float
    total: float  # seconds of every slice so far, every process's
    runtimes: dict  # pid -> seconds


class _Window:
    """What a look compares with: the previous sample, when it is usable (same
    node, same accounting: not switched on afresh since)."""

    def __init__(self, read, prev, node, now):
        since, total = read["since"], read["process_time"]
        usable = (prev is not None and prev.node == node and prev.since == since
                  and prev.total <= total * (1 + 1e-9))
        self.before = prev.runtimes if usable else {}
        self.span = total - prev.total if usable else total
        self.seconds = now - prev.time if usable else None
        self.sample = SchedSample(node, since, now, total, read["columns"].get("runtime", {}))

    def delta(self, pid, runtime):
        """Seconds `pid` ran in the window (run times only grow within one accounting)."""
        return runtime - self.before.get(pid, 0.0)

    def figures(self, s) -> dict:
        """One process's figures (from `process_stats()`'s dict), as the columns show them."""
        delta = self.delta(s["pid"], s["runtime"])
        waits = s["queue_waits"]
        return {
            "runtime": s["runtime"],
            "runtime_delta": delta,
            "share": delta / self.span if self.span > 0 else None,
            "reductions": s["reductions"],
            "slices": s["slices"],
            "preempted": s["preempted"],
            "yielded": s["yielded"],
            "parked": s["parked"],
            "queue_delay_mean": s["queue_delay"] / waits if waits else 0.0,
            "queue_delay_max": s["queue_delay_max"],
            "queue_waits": waits,
            "response_time_max": s["response_time_max"],
            "wakeups": s["wakeups"],
            "exited": s["exited"],
        }


#: A live process that has not run since accounting was switched on.
NOT_RUN = {"runtime": 0.0, "runtime_delta": 0.0, "share": 0.0, "reductions": 0, "slices": 0,
           "preempted": 0, "yielded": 0, "parked": 0, "queue_delay_mean": 0.0,
           "queue_delay_max": 0.0, "queue_waits": 0, "response_time_max": 0.0, "wakeups": 0,
           "exited": None}


class SchedColumns:
    """The scheduling columns of one table (see views.processes_view's `columns`)."""

    key = "scheduling"

    def __init__(self, figs: dict | None, window: float | None = None, note: str | None = None):
        self.figs = figs
        self.on = figs is not None
        self.window = window
        self.headers = HEADERS if self.on else []
        if not self.on:
            self.foot = note or HINT
        elif window is not None:
            self.foot = f"Share over the last {fmt.seconds(window)}"
        else:
            self.foot = "Share since accounting was switched on"

    def _of(self, pid):
        return self.figs.get(pid, NOT_RUN)

    def cells(self, pid) -> list:
        f = self._of(pid)
        return [sched_cell(key, f) for key, _title in SCHED_COLUMNS]

    def row_data(self, pid):
        return dict(self._of(pid)) if self.on else None

    @property
    def summary(self) -> dict:
        if not self.on:
            return {"accounting": False, "hint": self.foot}
        return {"accounting": True, "window": self.window, "columns": HEADERS}


def _row_matches(row, needle: str) -> bool:
    """procs()'s match= on a row: pid, registered name, label or initial call."""
    if row.name is not None and needle in str(row.name).lower():
        return True
    if needle in repr(row.pid):
        return True
    if row.label is not None and needle in repr(row.label).lower():
        return True
    return bool(row.initial_call) and needle in fmt.mfa(row.initial_call).lower()


def _ranked_rows(nd, values, n, base, *, since, match, status, reverse, hide):
    """The top `n` live processes by `values` ({pid: figure}), as rows; processes
    that have not run since accounting was switched on fill what is left."""
    needle = str(match).lower() if match is not None else None
    if n is not None and needle is None and status is None:  # the common refresh: n best
        pick = heapq.nsmallest if reverse else heapq.nlargest
        ranked = pick(n, values, key=values.__getitem__)
    else:
        ranked = sorted(values, key=values.__getitem__, reverse=not reverse)
    want = len(ranked) if n is None else n
    rows: list = []
    step = max(want, 16)
    for k in range(0, len(ranked), step):
        if len(rows) >= want:
            break
        for r in lowlevel.process_rows(ranked[k:k + step], since=since, hide=hide, node=nd):
            if (status is None or r.status == status) and (
                    needle is None or _row_matches(r, needle)):
                rows.append(r)
                if len(rows) >= want:
                    break
    shown = {r.pid for r in rows}
    for r in base.rows:
        if (n is None or len(rows) < n) and r.pid not in shown:
            rows.append(r)
    return tuple(rows)


def table(nd, *, sort="reductions_delta", n=20, since=None, match=None, status=None,
          reverse=False, hide=(), prev=None, strict=True):
    """On the node's thread: (the process table, its SchedColumns, the SchedSample
    for the next look or None). `sort` may be any snapshot key or one of SORTS;
    ranking by SORTS while accounting is off is refused (`strict`) or falls
    back to +Reds with a note (the live view).

    Cost while accounting is on: one pass over the live processes' run times
    (kept for the next look's shares), one more for a sort by another
    scheduling figure, and the full figures of the rows shown only."""
    if sort not in SORTS and sort not in snapshot.SORT_KEYS:
        raise vm.BadArg(f"sort must be one of {', '.join(snapshot.SORT_KEYS)} or, while "
                        f"accounting is on, {', '.join(SORTS)}; not {sort!r}")
    field = SORTS.get(sort)
    extra = (field,) if field in lowlevel.ACCOUNTING_COLUMNS and field != "runtime" else ()
    read = lowlevel.accounting_read(columns=("runtime",) + extra, node=nd)
    note = None
    if field is not None and read is None:
        if strict:
            raise vm.BadArg(f"sorting by {sort} needs accounting: accounting(True) switches "
                            "it on (procs() sorts by reductions meanwhile)")
        note = f"sorting by {sort} needs accounting: accounting(True) switches it on"
    base = snapshot.process_table(nd, sort="reductions_delta" if field else sort, n=n,
                                  since=since, match=match, status=status, reverse=reverse,
                                  hide=hide)
    if read is None:
        return base, SchedColumns(None, note=note), None
    window = _Window(read, prev, base.node, base.time)
    if field is not None:
        runtimes, before = read["columns"]["runtime"], window.before
        values = ({pid: r - before.get(pid, 0.0) for pid, r in runtimes.items()}
                  if field == "runtime_delta" else read["columns"][field])
        rows = _ranked_rows(nd, values, n, base, since=since, match=match, status=status,
                            reverse=reverse, hide=hide)
        base = dataclasses.replace(base, rows=rows, sort=sort)
    shown = lowlevel.accounting_read([r.pid for r in base.rows], node=nd)["figures"]
    figs = {pid: window.figures(s) for pid, s in shown.items()}
    return base, SchedColumns(figs, window.seconds), window.sample


def detail_section(pid, detail, node):
    """What `i(pid)` adds while accounting is on (helpers.DETAIL_SECTIONS): the
    process's scheduling figures since accounting was switched on."""
    read = on_node(lambda nd: lowlevel.accounting_read([pid], node=nd), node)
    if read is None:
        return None
    s = read["figures"].get(pid)
    if s is None:
        return (["  sched     has not run since accounting was switched on"], "scheduling",
                dict(NOT_RUN))
    f = _Window(read, None, None, None).figures(s)
    cell = {key: sched_cell(key, f) for key, _title in SCHED_COLUMNS}
    lines = [
        f"  sched     runtime {cell['runtime']} ({cell['share']} of all since accounting "
        f"was switched on), {f['slices']:,} slices: {f['preempted']:,} preempted, "
        f"{f['yielded']:,} yielded, {f['parked']:,} parked",
        f"            queue delay mean {cell['queue_delay_mean']}, max {cell['queue_delay_max']}"
        f" over {f['queue_waits']:,} waits; response time max {cell['response_time_max']}, "
        f"{f['wakeups']:,} wake-ups",
    ]
    return lines, "scheduling", f


def node_summary(nd) -> tuple:
    """On the node's thread: (the line `system()` adds, its JSON): the policy,
    and whether accounting and msacc are on."""
    installed = S.current_policy(node=nd)
    name = _policy_name(installed)
    read = lowlevel.accounting_read(node=nd)
    ms = S.msacc_stats(node=nd)
    now = lowlevel.node_now(nd)
    line = f"  scheduling   policy {name}"
    if read is None:
        line += ", accounting off"
    else:
        line += (f", accounting on for {fmt.seconds(now - read['since'])} (processes ran "
                 f"{fmt.seconds(read['process_time'])})")
    line += ", msacc off" if ms is None else f", msacc on for {fmt.seconds(ms['wall'])}"
    data = {"policy": name, "accounting": read is not None,
            "accounting_since": read["since"] if read is not None else None,
            "process_time": read["process_time"] if read is not None else None,
            "msacc": ms is not None}
    return line, data


# ----------------------------------------------------------------------
# checking what the shell is given


def _bool(what, name, value):
    if type(value) is not bool:
        raise vm.BadArg(f"{what}: {name} must be True or False, not {value!r}")


def _out(view: View, json: bool):
    return Text(view.json()) if json else view


# ----------------------------------------------------------------------
# accounting


@command("accounting(on=True) per-process scheduling figures: procs() and top() show them",
         section=SECTION)
def accounting(on=True, *, timeline=False, json=False, node=None):
    """Switch per-process scheduling accounting on (starting afresh) or off.

    While it is on, procs() and top() show Runtime, Share, QDelay, QMax and
    RespMax (docs/observer.md defines them), procs(sort="runtime") ranks by
    one (also "share", "queue_delay", "queue_delay_max",
    "response_time_max") and top()'s keys u U w W e do. It costs nothing
    while off. `timeline=True` also records every slice
    (vm.scheduling.timeline())."""
    _bool("accounting", "on", on)
    _bool("accounting", "timeline", timeline)
    node_ = resolve_node(node)
    was = S.accounting(on, timeline=timeline, node=node_)
    if on:
        text = (f"accounting on ({'started afresh' if was else 'it was off'}): procs() and "
                "top() show Runtime, Share, QDelay, QMax, RespMax; procs(sort='runtime') "
                "ranks by one, as top()'s keys u U w W e do")
    else:
        text = f"accounting off{'' if was else ' (it was off)'}: accounting(True) starts afresh"
    data = {"kind": "accounting", "accounting": on, "was": was, "timeline": timeline and on}
    return _out(View("accounting", data, text), json)


# ----------------------------------------------------------------------
# msacc


def msacc_view(stats: dict, *, note: str | None = None) -> View:
    """msacc's table as Erlang's msacc:print() shows it, for the node's one
    scheduler thread: each state's time, its share of the wall time and how
    often the thread entered it."""
    wall = stats["wall"]
    times, counts = stats["states"], stats["counts"]
    busy = sum(t for s, t in times.items() if s not in IDLE_STATES)
    lines = [f"Average thread real-time    : {wall * 1e6:>12,.0f} us",
             f"Accumulated system run-time : {busy * 1e6:>12,.0f} us   (all but idle)", ""]
    rows = []
    for state in S.STATES:
        t = times.get(state, 0.0)
        rows.append({"state": state, "seconds": t, "share": t / wall if wall > 0 else 0.0,
                     "count": counts.get(state, 0), "meaning": STATE_MEANING.get(state, "")})
    width = max(len(r["state"]) for r in rows)
    lines.append(f"{'State':<{width}}  {'Time (us)':>12}  {'Share':>7}  {'Count':>9}  What")
    for r in rows:
        lines.append(f"{r['state']:<{width}}  {r['seconds'] * 1e6:>12,.0f}  "
                     f"{r['share']:>7.2%}  {r['count']:>9,}  {r['meaning']}")
    if note:
        lines.append(note)
    data = {"kind": "msacc", "wall": wall, "busy": busy, "states": rows}
    return View("msacc", data, "\n".join(lines))


def _msacc_stats(node_):
    return S.msacc_stats(node=node_)


@command("msacc() where the node's thread spends its time (msacc(True) on, False off)",
         section=SECTION)
def msacc(on=None, *, seconds=None, json=False, node=None):
    """Microstate accounting, as Erlang's msacc: where the node's one
    scheduler thread spends its time (process code, copying, receive scans,
    spawning, the scheduler loop, timers, I/O polling, garbage collection,
    idle). Real time, virtual clock or not.

    msacc() shows the table (switching msacc on first if it is off);
    msacc(True) starts afresh; msacc(False) switches it off and shows the
    last table; msacc(seconds=S) measures S seconds afresh, then switches
    it off (msacc:start(Time))."""
    if on is not None:
        _bool("msacc", "on", on)
    if seconds is not None and (type(seconds) not in (int, float) or not 0 < seconds <= 3600):
        raise vm.BadArg(f"msacc: seconds must be a number of seconds from 0 to 3600, not "
                        f"{seconds!r}")
    if seconds is not None and on is not None:
        raise vm.BadArg("msacc: give on or seconds, not both")
    node_ = resolve_node(node)
    if seconds is not None:
        S.msacc(True, node=node_)
        pause(seconds)
        stats = _msacc_stats(node_)
        S.msacc(False, node=node_)
        return _out(msacc_view(stats, note=f"measured for {fmt.seconds(seconds)}; msacc is "
                                           "off again"), json)
    if on is True:
        was = S.msacc(True, node=node_)
        data = {"kind": "msacc", "msacc": True, "was": was}
        return _out(View("msacc", data, f"msacc on ({'started afresh' if was else 'it was off'})"
                                        ": msacc() shows where the time went"), json)
    stats = _msacc_stats(node_)
    if on is False:
        S.msacc(False, node=node_)
        if stats is None:
            return _out(View("msacc", {"kind": "msacc", "msacc": False, "was": False},
                             "msacc off (it was off)"), json)
        return _out(msacc_view(stats, note="msacc is off now; msacc(True) starts afresh"), json)
    if stats is None:
        S.msacc(True, node=node_)
        data = {"kind": "msacc", "msacc": True, "was": False}
        return _out(View("msacc", data, "msacc was off: switched on now; msacc() again shows "
                                        "where the time went"), json)
    return _out(msacc_view(stats), json)


@command("msacc_stats() the msacc table (msacc must be on)", section=SECTION)
def msacc_stats(*, json=False, node=None):
    """The msacc table since msacc was switched on (msacc:print()); refused
    while msacc is off."""
    stats = _msacc_stats(resolve_node(node))
    if stats is None:
        raise vm.BadArg("msacc is off: msacc(True) switches it on (or msacc(seconds=1) "
                        "measures one second)")
    return _out(msacc_view(stats), json)


# ----------------------------------------------------------------------
# policies


class Sliced(S.Policy):
    """`inner`'s choices, every slice granted `reductions`: how the shell
    changes the slice of a running node (the node's own slice is fixed when
    it starts: vm.run(..., reductions=N))."""

    def __init__(self, inner, reductions):
        self.inner = inner
        self.reductions = reductions
        self.name = inner.name

    def attach(self, ctx):
        ctx.slice = self.reductions  # the slice the inner policy reads (stride normalises by it)
        self.ctx = ctx
        self.inner.attach(ctx)

    def detach(self):
        self.inner.detach()

    def runnable(self, pid, priority, reason, now):
        self.inner.runnable(pid, priority, reason, now)

    def pick(self, now):
        answer = self.inner.pick(now)
        return (answer[0] if type(answer) is tuple else answer), self.reductions

    def ran(self, pid, runtime, reductions, outcome, now):
        self.inner.ran(pid, runtime, reductions, outcome, now)

    def exited(self, pid):
        self.inner.exited(pid)

    def describe(self):
        return self.inner.describe() | {"reductions": self.reductions}

    def __getattr__(self, name):  # the inner policy's own methods (set_weight, ...)
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)


def _known() -> list:
    return ["beam"] + sorted(S.POLICIES)


def _make(name, reductions):
    if isinstance(name, str):
        if name != "beam" and name not in S.POLICIES:
            raise vm.BadArg(f"policy: unknown policy {name!r}; known: {', '.join(_known())} "
                            "(or a vm.scheduling.Policy object)")
        made = S.make_policy(name)
    else:
        try:
            made = S.make_policy(name)
        except vm.BadArg as e:
            raise vm.BadArg(f"policy: {e}") from None
    if reductions is None:
        return made
    if type(reductions) is not int or not 1 <= reductions <= S.MAX_GRANT:
        raise vm.BadArg(f"policy: reductions must be an int from 1 to {S.MAX_GRANT:,}, not "
                        f"{reductions!r}")
    return Sliced(made if made is not None else S.Beam(), reductions)


def policy_view(installed, slice_, previous=None) -> View:
    """The policy a node runs: its name, what it does, its settings and slice."""
    name = "beam" if installed is None else getattr(installed, "name", type(installed).__name__)
    settings = installed.describe() if installed is not None else {"name": "beam"}
    fixed = settings.get("reductions")
    lines = [f"policy {name}: {POLICY_MEANING.get(name, type(installed).__name__)}"]
    extra = {k: v for k, v in settings.items() if k not in ("name", "reductions")}
    if extra:
        lines.append("  settings " + ", ".join(f"{k} {v}" for k, v in extra.items()))
    if fixed is not None:
        lines.append(f"  slice    {fixed:,} reductions (set by policy(..., reductions=))")
    elif name != "cfs":
        lines.append(f"  slice    {slice_:,} reductions (the node's)")
    else:
        lines.append("  slice    a weight's share of the latency, in reductions")
    if previous is not None:
        lines.append(f"  (was {previous})")
    lines.append(f"  known: {', '.join(_known())}; policy(name, reductions=N) switches")
    data = {"kind": "policy", "policy": name, "settings": settings,
            "slice": fixed if fixed is not None else slice_, "previous": previous,
            "known": _known()}
    return View("policy", data, "\n".join(lines))


def _policy_name(p) -> str:
    return "beam" if p is None else getattr(p, "name", type(p).__name__)


def _node_slice(node_) -> int:
    return on_node(lambda nd: snapshot.system(nd).reductions_per_slice, node_)


@command("policy() the scheduling policy; policy('stride', reductions=N) switches",
         section=SECTION)
def policy(name=None, *, reductions=None, json=False, node=None):
    """The node's scheduling policy. policy() shows it; policy(name) switches
    to beam (the built-in one), beam-python, stride, lottery or cfs (or a
    vm.scheduling.Policy object); the runnable processes move over.
    reductions=N grants every slice N reductions (policy(reductions=N) keeps
    the current policy's kind). docs/fairness.md explains each policy."""
    node_ = resolve_node(node)
    current = S.current_policy(node=node_)
    if name is None and reductions is None:
        return _out(policy_view(current, _node_slice(node_)), json)
    if name is None:
        name = _policy_name(getattr(current, "inner", current))
        if current is not None and name not in S.POLICIES:
            raise vm.BadArg(f"policy: the installed policy {name!r} is not one of "
                            f"{', '.join(_known())}; give its name or object")
    made = _make(name, reductions)
    previous = S.set_policy(made, node=node_)
    return _out(policy_view(made, _node_slice(node_), _policy_name(previous)), json)


__all__ = ["HEADERS", "HINT", "SORTS", "SchedColumns", "SchedSample", "Sliced", "accounting",
           "detail_section", "node_summary",
           "msacc", "msacc_stats", "msacc_view", "policy", "policy_view", "table"]
