"""`beamlet demo`: a supervision tree under a crash load, watched live.

What this module owns: the showcase. A small shop runs as a supervision
tree; a load process keeps its workers busy with calls; a chaos process
crashes a worker every few tenths of a second. The supervisors bring every
worker back. While it runs, the demo prints, as they change:

- the supervision tree, with the new pids of the workers that came back;
- the top processes by reductions since the last frame (the observer's
  process table) and a line of node statistics;
- what happened since the last frame: which worker chaos crashed, and
  which children came back with which new pid (under `one_for_all`, a
  crash brings its sibling back too).

    shop  one_for_one (intensity 30 / 5 s)
    ├── orders    worker
    ├── payments  one_for_all: bank, ledger   (a crash restarts both)
    └── pool      one_for_one: w1 .. w4

In a terminal the frame is redrawn in place (rich); in a pipe each frame is
printed after the last, as plain text, so `beamlet demo | less` reads as a
log. At the end the demo checks that every child is running again and says
how many crashes the tree absorbed.

Everything shown comes from the observer (stdlib/observer): snapshots taken
between slices by the demo's own process, the tree through
`which_children`, the reports through `logging`.
"""

from __future__ import annotations

import logging
import random
import sys
import time
from collections import deque

import vm
from stdlib import gen_server, supervisor
from stdlib.observer import views
from stdlib.observer.crashlog import short_report
from stdlib.observer.suptree import snapshot_tree
from vm.lowlevel import current_node, snapshot

# ----------------------------------------------------------------------
# the shop


#: How many recent results each worker keeps: the workers' memory differs.
HISTORY = {"orders": 400, "bank": 50, "ledger": 1500, "w1": 10, "w2": 100, "w3": 300,
           "w4": 800}


class Worker(gen_server.GenServer):
    """Does jobs (a little arithmetic), remembers its recent results, and dies
    when chaos casts "crash"."""

    def init(self, name):
        return ("ok", {"name": name, "jobs": 0, "recent": []})

    def handle_call(self, request, from_, st):
        _, n = request
        total = 0
        for k in range(n):
            total += k * k
        vm.bump_reductions(n // 8)
        st["jobs"] += 1
        recent = st["recent"]
        recent.append(("job", st["jobs"], total))
        del recent[:-HISTORY.get(st["name"], 10)]
        return ("reply", total, st)

    def handle_cast(self, msg, st):
        raise RuntimeError(f"{st['name']} was hit by chaos")


def start_worker(name):
    return gen_server.start_link(Worker, name, name=name)


def start_sup(cls, arg, name):
    return supervisor.start_link(cls, arg, name=name)


def _worker(name):
    return {"id": name, "start": (start_worker, (name,))}


class Payments(supervisor.Supervisor):
    def init(self, _):
        return ("ok", ({"strategy": "one_for_all", "intensity": 30, "period": 5},
                       [_worker("bank"), _worker("ledger")]))


class Pool(supervisor.Supervisor):
    def init(self, size):
        return ("ok", ({"strategy": "one_for_one", "intensity": 30, "period": 5},
                       [_worker(f"w{k}") for k in range(1, size + 1)]))


class Shop(supervisor.Supervisor):
    def init(self, _):
        return ("ok", ({"strategy": "one_for_one", "intensity": 30, "period": 5}, [
            _worker("orders"),
            {"id": "payments", "start": (start_sup, (Payments, None, "payments")),
             "type": "supervisor"},
            {"id": "pool", "start": (start_sup, (Pool, 4, "pool")), "type": "supervisor"},
        ]))


WORKERS = ("orders", "bank", "ledger", "w1", "w2", "w3", "w4")


def _load():
    """Keeps the workers busy: a call to a random worker, again and again."""
    rng = random.Random(1)
    while True:
        name = rng.choice(WORKERS)
        try:
            gen_server.call(name, ("work", rng.randint(200, 2000)), 1.0)
        except vm.Exit:
            pass  # it was down or restarting: try another
        except vm.BadArg:
            pass
        vm.sleep(0.002)


def _chaos(every, report_to):
    """Crashes a random worker every `every` seconds and says which."""
    rng = random.Random(7)
    while True:
        vm.sleep(every)
        name = rng.choice(WORKERS)
        pid = vm.whereis(name)
        if pid is not None:
            gen_server.cast(pid, "crash")
            vm.send(report_to, ("chaos", name, pid))


# ----------------------------------------------------------------------
# watching it


class _Reports(logging.Handler):
    """Collects the one-line form of every report for the event log."""

    def __init__(self, lines):
        super().__init__(logging.WARNING)
        self.lines = lines

    def emit(self, record):
        try:
            line = short_report(record)
            if line:
                self.lines.append(line)
        except Exception:  # noqa: BLE001 - never let logging break the demo
            pass


def _frame(t, seconds, tree_v, table, info, rates, events, crashes, width):
    """The whole screen as a list of lines."""
    head = (f"beamlet demo  t={t:4.1f}s/{seconds:g}s  crashes so far: {crashes}  "
            f"processes {info.processes}  reductions {rates['reductions_per_s']:,.0f}/s  "
            f"messages {rates['messages_per_s']:,.0f}/s")
    lines = [head, "", "supervision tree (pids change as workers come back):"]
    lines += ["  " + x for x in tree_v.text.splitlines()]
    lines += ["", "top processes by reductions in the last frame:"]
    lines += ["  " + x for x in views.processes_view(table, width=width - 2).text.splitlines()]
    lines += ["", "what happened:"]
    lines += ["  " + x for x in (events or ["(nothing yet)"])]
    return [x[:width] for x in lines]


def _tour(seconds, out, live, show_reports=False):
    node = current_node()
    me = vm.self()
    vm.process_flag("trap_exit", True)
    ok, shop = supervisor.start_link(Shop, None, name="shop")
    vm.spawn_link(_load)
    vm.spawn_link(_chaos, 0.25, me)
    width = 100
    console = None
    live_view = None
    if live:
        from rich.console import Console
        from rich.live import Live
        from rich.text import Text

        console = Console(file=out, highlight=False)
        width = max(60, min(console.size.width, 140))
        live_view = Live(Text(""), console=console, auto_refresh=False, transient=False)
        live_view.start()
    frame_every = 0.5 if live else max(0.5, seconds / 5)
    events: deque = deque(maxlen=8)
    shown: list = []
    crashes = 0
    t0 = vm.monotonic()
    sample = snapshot.process_table(node, n=0).sample
    sys_prev = snapshot.system(node)
    frames = 0
    crashed: set = set()  # children chaos hit since the last frame
    reported = 0
    last_pids = _pids_by_id(snapshot_tree(shop))
    try:
        while True:
            deadline = vm.monotonic() + frame_every
            while True:
                msg = vm.receive(timeout=max(0.0, deadline - vm.monotonic()))
                if msg is vm.TIMEOUT:
                    break
                if type(msg) is tuple and msg[0] == "chaos":
                    crashes += 1
                    crashed.add(msg[1])
                    events.append(f"chaos crashed {msg[1]} {msg[2]!r}")
            t = vm.monotonic() - t0
            tree = snapshot_tree(shop)
            now_pids = _pids_by_id(tree)
            events.extend(_comebacks(tree, last_pids, crashed))
            crashed.clear()
            last_pids = now_pids
            reports = len(_REPORTS) - reported
            reported = len(_REPORTS)
            if reports:
                events.append(f"  ({reports} crash and supervisor reports were logged"
                              + ("" if show_reports else "; --reports prints them at the end")
                              + ")")
            tree_v = views.tree_view(tree)
            table = snapshot.process_table(node, sort="reductions_delta", n=6, since=sample)
            sample = table.sample
            info = snapshot.system(node)
            rates = snapshot.rates(sys_prev, info)
            sys_prev = info
            new_events = list(events)
            events.clear()
            lines = _frame(t, seconds, tree_v, table, info, rates, new_events, crashes, width)
            frames += 1
            if live:
                shown = (shown + new_events)[-8:]
                lines = _frame(t, seconds, tree_v, table, info, rates, shown, crashes, width)
                live_view.update(_styled(lines), refresh=True)
            else:
                print(("\n" if frames > 1 else "") + "\n".join(lines), file=out, flush=True)
            if t >= seconds:
                break
    finally:
        if live_view is not None:
            live_view.stop()
    tree = snapshot_tree(shop)
    down = _not_running(tree)
    print(file=out)
    if down:
        print(f"after {crashes} crashes, not running: {', '.join(down)}", file=out)
    else:
        print(f"after {crashes} crashes every worker is running again: the supervisors "
              "restarted each one.", file=out)
    if show_reports:
        print(f"\nthe {len(_REPORTS)} reports the demo counted"
              + (f" (the first {_REPORTS.maxlen} kept)" if len(_REPORTS) == _REPORTS.maxlen
                 else "") + ":", file=out)
        for line in _REPORTS:
            print(f"  {line}", file=out)
    print("Look inside a live node yourself: `beamlet shell`, then help(); the tutorial is "
          "docs/tutorial/README.md.", file=out, flush=True)
    return crashes, down


def _styled(lines):
    """The frame for a terminal: the same lines, with a little colour."""
    from rich.text import Text

    text = Text()
    for k, line in enumerate(lines):
        style = None
        if k == 0:
            style = "bold reverse"
        elif line.endswith(":") and not line.startswith(" "):
            style = "bold cyan"
        elif "chaos crashed" in line:
            style = "red"
        elif "came back" in line:
            style = "green"
        elif line.startswith("   #"):
            style = "bold"
        text.append(line + ("\n" if k < len(lines) - 1 else ""), style=style)
    return text


def _comebacks(tree, last_pids, crashed):
    """Lines for the children whose pid changed since the last frame, saying why
    a child that chaos did not hit came back (its supervisor restarts siblings)."""
    lines = []

    def visit(sup):
        kids = sup.get("children") or []
        hit = [str(c.get("id")) for c in kids if str(c.get("id")) in crashed]
        for c in kids:
            cid = str(c.get("id"))
            old, pid = last_pids.get(cid), c.get("pid")
            if old is not None and old != pid:
                if not isinstance(pid, vm.Pid):
                    lines.append(f"  {cid} {old!r} is {pid}")
                    continue
                why = ""
                if cid not in crashed and sup.get("strategy") in ("one_for_all",
                                                                    "rest_for_one"):
                    others = " and ".join(h for h in hit if h != cid) or "a sibling"
                    why = (f" ({sup.get('id') or 'its supervisor'} is {sup['strategy']}: "
                           f"{others} crashed)")
                lines.append(f"  {cid} came back: {old!r} -> {pid!r}{why}")
            visit(c)

    visit(tree)
    return lines


def _pids_by_id(tree, out=None):
    out = {} if out is None else out
    for c in tree.get("children") or []:
        out[str(c.get("id"))] = c.get("pid")
        _pids_by_id(c, out)
    return out


def _not_running(tree):
    out = []
    for c in tree.get("children") or []:
        if not isinstance(c.get("pid"), vm.Pid):
            out.append(str(c.get("id")))
        out += _not_running(c)
    return out


_REPORTS: deque = deque(maxlen=500)


def run_demo(seconds: float = 3.0, out=None, show_reports=False):
    """Run the showcase for `seconds`; redraws in place on a terminal, prints
    frame after frame in a pipe; `show_reports=True` prints the crash and
    supervisor reports it counted at the end. Returns (crashes, children not
    running)."""
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or not seconds > 0:
        raise vm.BadArg(f"demo: seconds must be a number > 0, not {seconds!r}")
    out = out or sys.stdout
    live = hasattr(out, "isatty") and out.isatty()
    handler = _Reports(_REPORTS)
    bl = logging.getLogger("beamlet")
    saved = (bl.propagate, bl.level)
    bl.addHandler(handler)
    bl.propagate = False
    t0 = time.monotonic()
    try:
        result = vm.run(lambda: _tour(float(seconds), out, live, show_reports))
    finally:
        bl.removeHandler(handler)
        bl.propagate, _ = saved
        _REPORTS.clear()
    print(f"(ran in {time.monotonic() - t0:.2f} s)", file=out, flush=True)
    return result
