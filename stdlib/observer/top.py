"""`top`: the live, refreshing process table (etop, observer_cli's home view).

What this module owns:

- `TopState`: what the view shows and how keys change it. Pure: no
  terminal, no node, so every key is unit tested. Keys:

      r  sort by reductions since the last refresh (the default)
      t  sort by total reductions        m  by memory      l  by mailbox length
      p  by pid     n  by name     s  by status     c  by current function
      u  by share of run time since the last refresh    U  by total run time
      w  by mean queue delay   W  by longest queue delay   e  by longest response
         (the scheduling columns, while accounting is on: scheduling.py)
      up/down  move the cursor           1-9..., Enter  open row N
      Enter    open the selected row     b, Esc  back to the table
      /        filter (type, Enter)      space  pause / resume
      +  -     slower / faster refresh   K  kill the selected process
      h, ?     help                      q, Ctrl-C  quit

  `K` works only when the view was opened with `allow_destructive=True`,
  and asks for `y` first (LiveDashboard's rule: the switch is checked again
  when the key is pressed, not only when the key is drawn).

- `frame(state, table, stats)`: the screen as text lines, used both by the
  live terminal (rich draws it, with the cursor row highlighted) and by the
  plain mode a pipe gets (one frame after another, no escape codes).

- `run_top(node, ...)`: the loop. It runs on the shell's thread, not in a
  process: each refresh posts one snapshot request to the node
  (source.on_node), so the scheduler is held only for the snapshot itself,
  and only the visible view is polled (observer polls only its open tab).
  Every read and the kill go through a data source: `NodeSource(node)`
  reads the node beside the shell; a remote shell passes one that reads
  the node it is attached to (remote_top.py), with the same methods.
  What processes print and the reports logged while the view is up are held
  and printed when it closes, so they cannot scribble over it.

What it refuses: snapshots and layouts of its own; it reuses vm/_snapshot.py
and views.py.
"""

from __future__ import annotations

import io
import os
import select
import shutil
import sys
import time
from dataclasses import dataclass, field

import vm
from vm import lowlevel
from vm.lowlevel import snapshot

from . import fmt
from . import scheduling as sched
from .source import in_process, on_node
from .views import NOT_ASKED, detail_view, processes_view

KILLED = vm.Atom("killed")
SORT_KEYS = {
    "r": "reductions_delta",
    "t": "reductions",
    "m": "memory",
    "l": "message_queue_len",
    "p": "pid",
    "n": "name",
    "s": "status",
    "c": "current_function",
    "u": "share",
    "U": "runtime",
    "w": "queue_delay",
    "W": "queue_delay_max",
    "e": "response_time_max",
}
SORT_NAMES = {"reductions_delta": "+Reds", "reductions": "Reds", "memory": "Memory",
              "message_queue_len": "MsgQ", "pid": "Pid", "name": "Name", "status": "Status",
              "current_function": "Current function", "share": "Share", "runtime": "Runtime",
              "queue_delay": "QDelay", "queue_delay_max": "QMax",
              "response_time_max": "RespMax"}
MIN_INTERVAL = 0.25
MAX_INTERVAL = 60.0
KEYS_LINE = ("r t m l p n s c u U w W e sort  ↑↓ select  Enter open  / filter  space pause  "
             "+/- interval  K kill  h help  q quit")

#: Views other packages add to top, each opened by a key from the table (b goes
#: back): key -> (name, fn(node) -> lines of text). The agents package adds "a".
PANELS: dict = {}


def register_panel(key: str, name: str, fn) -> None:
    """Add a view to top, opened by `key` (one character no other key uses)."""
    if len(key) != 1 or key in SORT_KEYS or key in "qh?b +-K/0123456789":
        raise ValueError(f"top: key {key!r} is taken or not one character")
    PANELS[key] = (name, fn)


def _keys_line():
    extra = "  ".join(f"{k} {name}" for k, (name, _fn) in PANELS.items())
    return KEYS_LINE + ("  " + extra if extra else "")

HELP = """top: a live process table.

  r  sort by reductions since the last refresh      t  by total reductions
  m  by memory     l  by mailbox length     p  by pid     n  by name
  s  by status     c  by current function
  u  by share of run time since the last refresh    U  by total run time
  w  by mean queue delay    W  by longest queue delay    e  by longest response time
     (the scheduling columns show while accounting is on: accounting(True))
  up/down   move the cursor;  a number then Enter opens that row
  Enter     open the selected process (b or Esc goes back)
  /         filter by pid, name, label or initial call (Enter to apply, empty clears)
  space     pause or resume refreshing
  + / -     refresh slower / faster
  K         kill the selected process (only when top(allow_destructive=True); asks y/n)
  q         quit

Press b or Esc to go back."""


@dataclass
class TopState:
    sort: str = "reductions_delta"
    n: int = 20
    interval: float = 1.0
    allow_destructive: bool = False
    paused: bool = False
    cursor: int = 0
    mode: str = "table"  # table, detail, help, panel
    panel: str | None = None  # the key of the open panel (PANELS)
    detail_pid: object = None
    filter: str | None = None
    typing_filter: str | None = None  # the filter being typed, or None
    digits: str = ""
    confirm_kill: object = None
    message: str = ""
    done: bool = False
    pids: list = field(default_factory=list)  # pids of the rows on screen, in order
    columns: object = None  # the scheduling columns of the table on screen
    sched_sample: object = None  # run times at the last refresh (scheduling.SchedSample)

    def handle_key(self, key: str):
        """Apply one key; return an action for the loop: None, "refresh",
        ("open", pid), ("kill", pid) or "quit"."""
        self.message = ""
        if self.typing_filter is not None:
            return self._filter_key(key)
        if self.confirm_kill is not None:
            pid, self.confirm_kill = self.confirm_kill, None
            if key in ("y", "Y"):
                if not self.allow_destructive:  # checked again when acting
                    self.message = "kill is off: open top(allow_destructive=True) to kill"
                    return None
                return ("kill", pid)
            self.message = "not killed"
            return None
        if key == "q":
            self.done = True
            return "quit"
        if key in ("h", "?"):
            self.mode = "help"
            return None
        if key in ("b", "esc", "backspace"):
            if self.mode != "table":
                self.mode = "table"
                self.detail_pid = None
                return "refresh"
            self.digits = ""
            return None
        if key == " ":
            self.paused = not self.paused
            self.message = "paused" if self.paused else "resumed"
            return None
        if key == "+":
            self.interval = min(MAX_INTERVAL, round(self.interval * 2, 2))
            self.message = f"refresh every {fmt.seconds(self.interval)}"
            return None
        if key == "-":
            self.interval = max(MIN_INTERVAL, round(self.interval / 2, 2))
            self.message = f"refresh every {fmt.seconds(self.interval)}"
            return None
        if key == "K":
            pid = self.selected()
            if not self.allow_destructive:
                self.message = "kill is off: open top(allow_destructive=True) to kill"
                return None
            if pid is None:
                self.message = "no process selected"
                return None
            self.confirm_kill = pid
            self.message = f"kill {pid!r}? y/n"
            return None
        if self.mode != "table":
            return None
        if key in PANELS:
            self.mode = "panel"
            self.panel = key
            return "refresh"
        if key in SORT_KEYS:
            self.sort = SORT_KEYS[key]
            self.cursor = 0
            self.message = f"sorted by {SORT_NAMES[self.sort]}"
            return "refresh"
        if key == "/":
            self.typing_filter = ""
            return None
        if key == "up":
            self.cursor = max(0, self.cursor - 1)
            return None
        if key == "down":
            self.cursor = min(max(0, len(self.pids) - 1), self.cursor + 1)
            return None
        if key.isdigit():
            self.digits += key
            self.message = f"open row {self.digits}: Enter"
            return None
        if key == "enter":
            if self.digits:
                k = int(self.digits) - 1
                self.digits = ""
                if not 0 <= k < len(self.pids):
                    self.message = f"no row {k + 1}"
                    return None
                self.cursor = k
            pid = self.selected()
            if pid is None:
                return None
            self.mode = "detail"
            self.detail_pid = pid
            return ("open", pid)
        return None

    def _filter_key(self, key):
        if key == "enter":
            self.filter = self.typing_filter or None
            self.typing_filter = None
            self.cursor = 0
            self.message = f"filter: {self.filter}" if self.filter else "filter cleared"
            return "refresh"
        if key == "esc":
            self.typing_filter = None
            return None
        if key == "backspace":
            self.typing_filter = self.typing_filter[:-1]
            return None
        if len(key) == 1 and key.isprintable():
            self.typing_filter += key
        return None

    def selected(self):
        if self.mode == "detail":
            return self.detail_pid
        if 0 <= self.cursor < len(self.pids):
            return self.pids[self.cursor]
        return None

    def take(self, table):
        """Remember what a new table shows (the cursor stays on the same row number)."""
        self.pids = [r.pid for r in table.rows]
        if self.cursor >= len(self.pids):
            self.cursor = max(0, len(self.pids) - 1)


# ----------------------------------------------------------------------
# drawing


def header(state, stats, prev_stats, width=None) -> str:
    """One line: node, uptime, processes, run queue, reductions/s, utilization."""
    if stats is None:
        return "beamlet top"
    rq = sum(stats["run_queue"].values())
    rate = ""
    util = ""
    if prev_stats is not None:
        dt = stats["_wall"] - prev_stats["_wall"]
        if dt > 0:
            rate = f"  reds {(stats['reductions'] - prev_stats['reductions']) / dt:,.0f}/s"
            if stats.get("utilization") is not None:
                busy = (stats["uptime"] - prev_stats["uptime"]) - (
                    stats["idle_time"] - prev_stats["idle_time"])
                span = stats["uptime"] - prev_stats["uptime"]
                if span > 0:
                    util = f"  util {min(1.0, max(0.0, busy / span)):.0%}"
    state_bits = [f"every {fmt.seconds(state.interval)}"]
    if state.paused:
        state_bits.append("PAUSED")
    if state.filter:
        state_bits.append(f"filter {state.filter!r}")
    text = (f"beamlet top - {stats['node']}  uptime {fmt.seconds(stats['uptime'])}  "
            f"procs {stats['processes']:,}  runq {rq}{rate}{util}  "
            f"[{', '.join(state_bits)}]")
    return fmt.cut(text, width) if width else text


def frame(state, table, stats, prev_stats=None, detail=None, width=None, cursor=True,
          panel=None) -> list:
    """The screen as lines of text (see the module docstring); `cursor=False`
    is the plain mode a pipe gets: no `>` on the selected row, and no key
    legend (no key works there). `panel`: the open panel's lines."""
    lines = [header(state, stats, prev_stats, width)]
    if state.mode == "help":
        lines += HELP.splitlines()
        lines += [f"  {k}         {name}" for k, (name, _fn) in PANELS.items()]
    elif state.mode == "panel":
        lines += [fmt.cut(x, width) if width else x for x in (panel or ["(loading)"])]
        if cursor:
            lines.append("b back  q quit")
    elif state.mode == "detail":
        if detail is None:
            lines.append(f"{state.detail_pid!r} is not alive any more (b: back)")
        else:
            d, st = detail
            lines += detail_view(d, state=st, width=width).text.splitlines()
            lines.append("b back  K kill  q quit")
    else:
        if table is not None:
            lines += processes_view(table, width=width, marker=state.cursor if cursor else None,
                                    columns=state.columns).text.splitlines()
        if cursor:
            lines.append(fmt.cut(_keys_line(), width) if width else _keys_line())
    if state.typing_filter is not None:
        lines.append(f"filter: {state.typing_filter}_")
    elif state.message:
        lines.append(state.message)
    return lines


# ----------------------------------------------------------------------
# the loop


def _stats(node):
    info = snapshot.system(node)
    return {"node": info.node, "_wall": info.wall, "processes": info.processes,
            "run_queue": dict(info.run_queue), "reductions": info.reductions,
            "uptime": info.uptime, "idle_time": info.idle_time,
            "utilization": info.utilization}


def _refresh(node, state, since):
    """The table and the header's figures, in one visit to the node; the
    scheduling columns and their sample go into `state`."""
    def read(nd):
        tbl, cols, sample = sched.table(nd, sort=state.sort, n=state.n, since=since,
                                        match=state.filter, prev=state.sched_sample,
                                        strict=False)
        return tbl, _stats(nd), cols, sample

    tbl, stats, state.columns, sample = on_node(read, node)
    if sample is not None:
        state.sched_sample = sample
    return tbl, stats


def _detail(node, pid, with_state):
    from .targets import behaviour_state, is_behaviour

    d = on_node(lambda nd: snapshot.process_detail(nd, pid, messages=20), node)
    st = NOT_ASKED
    if d is not None and with_state and is_behaviour(d):
        st = behaviour_state(pid, node=node)
    return d, st


def _kill(node, pid):
    return on_node(lambda nd: lowlevel.kill(pid, KILLED, node=nd), node)


def _panel(node, state):
    try:
        return PANELS[state.panel][1](node)
    except Exception as e:  # noqa: BLE001 - a panel's failure is shown, not raised
        return [f"{PANELS[state.panel][0]}: {type(e).__name__}: {e}"]


class NodeSource:
    """Where top's figures come from: `node`, read on its thread. The methods
    are the seam a remote shell's source (remote_top.py) fills in too."""

    def __init__(self, node):
        self.node = node

    def refresh(self, state, since):
        """(table, stats) for `state` (its sort, rows, filter); `since` is the
        previous table's sample. Sets state.columns (and state.sched_sample)."""
        return _refresh(self.node, state, since)

    def stats(self):
        return on_node(_stats, self.node)

    def detail(self, pid, with_state):
        """(process detail or None, behaviour state or NOT_ASKED)."""
        return _detail(self.node, pid, with_state)

    def kill(self, pid):
        """True if `pid` was alive (and is killed now)."""
        return _kill(self.node, pid)

    def panel(self, state):
        """The lines of the open panel (state.panel)."""
        return _panel(self.node, state)


def run_top(node, *, n=None, sort="reductions_delta", interval=1.0, allow_destructive=False,
            frames=None, out=None, inp=None, panel=None, source=None):
    """Run the live view until `q` (a terminal), or print `frames` frames
    (default 1) and return when stdin or stdout is not a terminal. `panel`
    (a key of PANELS, e.g. "a" for agents) opens on that panel. `source`
    (default `NodeSource(node)`) is where the figures come from."""
    from .commands import load_providers

    load_providers()  # the packages that add panels (the agents view)
    out = out or sys.stdout
    inp = inp or sys.stdin
    if sort not in SORT_NAMES:
        raise vm.BadArg(f"top: sort must be one of {', '.join(SORT_NAMES)}, not {sort!r}")
    if panel is not None and panel not in PANELS:
        raise vm.BadArg(f"top: panel must be one of {', '.join(PANELS) or 'none'}, not "
                        f"{panel!r}")
    live = frames is None and _isatty(out) and _isatty(inp)
    rows = n or max(5, shutil.get_terminal_size((100, 30)).lines - 6)
    state = TopState(sort=sort, n=rows, interval=max(MIN_INTERVAL, float(interval)),
                     allow_destructive=allow_destructive)
    if panel is not None:
        state.mode, state.panel = "panel", panel
    source = source or NodeSource(node)
    try:
        if not live:
            return _plain(source, state, frames or 1, out)
        return _live(source, state, out, inp)
    except KeyboardInterrupt:  # Ctrl-C quits the view, as q does; the shell goes on
        return None


def _isatty(f):
    try:
        return f.isatty()
    except (AttributeError, ValueError):
        return False


def _plain(source, state, frames, out):
    since = None
    prev_stats = None
    # A first sample, so that even a single frame shows +Reds over one interval.
    first, prev_stats = source.refresh(state, None)
    since = first.sample
    for k in range(frames):
        time.sleep(state.interval)
        table, stats = source.refresh(state, since)
        state.take(table)
        lines = source.panel(state) if state.mode == "panel" else None
        print("\n".join(frame(state, table, stats, prev_stats, cursor=False, panel=lines)),
              file=out)
        if k < frames - 1:
            print(file=out)
        out.flush()
        since, prev_stats = table.sample, stats


class _Keys:
    """Raw key reading from a terminal (cbreak mode; arrows decoded)."""

    def __init__(self, inp):
        import termios
        import tty

        self.fd = inp.fileno()
        self.termios = termios
        self.saved = termios.tcgetattr(self.fd)
        tty.setcbreak(self.fd)

    def close(self):
        self.termios.tcsetattr(self.fd, self.termios.TCSADRAIN, self.saved)

    def read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return None
        data = os.read(self.fd, 64)
        return data.decode("utf-8", "replace")


def _decode(data):
    """Split raw terminal input into key names."""
    keys = []
    i = 0
    while i < len(data):
        ch = data[i]
        if ch == "\x1b":
            seq = data[i:i + 3]
            if seq in ("\x1b[A", "\x1bOA"):
                keys.append("up")
                i += 3
                continue
            if seq in ("\x1b[B", "\x1bOB"):
                keys.append("down")
                i += 3
                continue
            if data[i + 1:i + 2] == "[":  # another sequence: skip it
                j = i + 2
                while j < len(data) and not data[j].isalpha() and data[j] != "~":
                    j += 1
                i = j + 1
                continue
            keys.append("esc")
        elif ch in ("\r", "\n"):
            keys.append("enter")
        elif ch in ("\x7f", "\x08"):
            keys.append("backspace")
        elif ch == "\x03":
            keys.append("q")
        else:
            keys.append(ch)
        i += 1
    return keys


def _live(source, state, out, inp):
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    console = Console(file=out, highlight=False)
    keys = _Keys(inp)
    # What processes print and what logging reports while the view is up would
    # scribble over it: hold it, and print it when the view closes.
    held = io.StringIO()
    saved = sys.stdout, sys.stderr
    sys.stdout = sys.stderr = held
    since = None
    prev_stats = None
    table = stats = None
    detail = None
    panel = None
    try:
        first, prev_stats = source.refresh(state, None)
        since = first.sample
        next_at = time.monotonic() + min(state.interval, 0.5)

        def render():
            width = console.size.width
            lines = frame(state, table, stats, prev_stats, detail=detail, width=width,
                          panel=panel)
            text = Text()
            cursor_line = None
            if state.mode == "table" and table is not None:
                cursor_line = 2 + state.cursor  # header, column titles, then rows
            for k, line in enumerate(lines):
                style = None
                if k == 0:
                    style = "bold reverse"
                elif k == 1 and state.mode == "table":
                    style = "bold"
                elif k == cursor_line:
                    style = "reverse"
                text.append(line + ("\n" if k < len(lines) - 1 else ""), style=style)
            return text

        with Live(Text(""), console=console, screen=True, auto_refresh=False) as live:
            while not state.done:
                now = time.monotonic()
                if now >= next_at and not state.paused:
                    try:
                        if state.mode == "panel":
                            panel = source.panel(state)
                            prev_stats, stats = stats or prev_stats, source.stats()
                        elif state.mode == "detail":
                            d, _ = source.detail(state.detail_pid, False)
                            detail = (d, detail[1] if detail else NOT_ASKED) if d else None
                            prev_stats, stats = stats or prev_stats, source.stats()
                        else:
                            table, stats_new = source.refresh(state, since)
                            state.take(table)
                            prev_stats, stats = stats or prev_stats, stats_new
                            since = table.sample
                    except vm.VMError:
                        state.message = "the node has stopped"
                        state.done = True
                    next_at = now + state.interval
                    live.update(render(), refresh=True)
                data = keys.read(max(0.0, min(0.1, next_at - time.monotonic())))
                if not data:
                    continue
                for key in _decode(data):
                    action = state.handle_key(key)
                    if action == "quit":
                        break
                    if action == "refresh":
                        next_at = 0
                    elif type(action) is tuple and action[0] == "open":
                        detail = source.detail(action[1], True)
                        if detail[0] is None:
                            detail = None
                    elif type(action) is tuple and action[0] == "kill":
                        ok = source.kill(action[1])
                        state.message = (f"killed {action[1]!r}" if ok
                                         else f"{action[1]!r} was not alive")
                        if state.mode == "detail":
                            state.mode = "table"
                        next_at = 0
                live.update(render(), refresh=True)
    finally:
        keys.close()
        sys.stdout, sys.stderr = saved
        text = held.getvalue()
        if text:
            print(text, end="" if text.endswith("\n") else "\n", file=out, flush=True)


__all__ = ["PANELS", "NodeSource", "TopState", "frame", "header", "in_process", "register_panel",
           "run_top"]
