"""Observer views: plain functions from snapshots to text and JSON.

What this module owns: every view the shell shows, as a function of a
snapshot (vm/_snapshot.py) and a few options, returning a `View`:

    processes_view(table)     the process table (observer's Processes tab, etop)
    i_view(table)             Erlang's c:i(), two lines per process
    detail_view(detail)       one process (observer's process window, recon:info)
    system_view(info, rates)  counts, run queues, reductions, memory, load
    regs_view(rows)           Erlang's c:regs()
    bt_view(detail)           where a process stands (c:bt/1)
    tree_view(tree)           a supervision tree, as text and Mermaid

A `View` prints as its text (so the shell shows it as is), and carries the
same facts as JSON-ready `data` (`view.json()`), the shape scripts and
agents rely on. Because a view only reads its snapshot, every view is unit
tested over snapshots built by hand (tests/stdlib/observer/test_views.py).

Safety: message, dictionary and state contents are cut to `fmt.TERM_LIMIT`
characters and the mailbox to the first few messages unless the view is
asked for `full=True`, as observer_cli and recon do.

What it refuses: taking snapshots (source.py, helpers.py) and the live
terminal (top.py).
"""

from __future__ import annotations

import linecache

from . import fmt

DETAIL_MESSAGES = 10  # messages shown in a detail view unless full=True


class View:
    """A rendered view: `text` for people, `data` (JSON-ready) for programs."""

    __slots__ = ("data", "kind", "mermaid_text", "text")

    def __init__(self, kind: str, data: dict, text: str, mermaid: str | None = None):
        self.kind = kind
        self.data = data
        self.text = text
        self.mermaid_text = mermaid

    def __repr__(self):
        return self.text

    __str__ = __repr__

    def json(self, indent=None) -> str:
        return fmt.dumps(self.data, indent)

    def mermaid(self) -> Text:
        if self.mermaid_text is None:
            raise ValueError(f"a {self.kind} view has no Mermaid form (trees and traces do)")
        return Text(self.mermaid_text)

    # -- rich display (Jupyter and anything that speaks IPython's display protocol)

    def _repr_markdown_(self):
        if self.mermaid_text is not None:
            return f"```mermaid\n{self.mermaid_text}\n```"
        return None

    def _repr_html_(self):
        from .display import TABLE_COLUMNS, escape, html_table

        rows = self.data.get("rows") if isinstance(self.data, dict) else None
        if self.mermaid_text is None and rows is not None and self.kind in TABLE_COLUMNS:
            foot = self.text.splitlines()[-1] if self.kind == "processes" else ""
            return html_table(self.kind, rows, foot)
        if self.mermaid_text is not None:
            return None  # the Markdown (Mermaid) form is the rich one
        return f"<pre>{escape(self.text)}</pre>"

    def _repr_mimebundle_(self, include=None, exclude=None):
        """Plain text always; HTML for tables and other views; Markdown with a
        Mermaid diagram for trees and sequence diagrams (no HTML then, so a
        front end that draws Mermaid shows the diagram)."""
        bundle = {"text/plain": self.text}
        md = self._repr_markdown_()
        if md is not None:
            bundle["text/markdown"] = md
        else:
            bundle["text/html"] = self._repr_html_()
        return bundle


class StateUnavailable:
    """A behaviour state that could not be read, and why: shown instead of it."""

    __slots__ = ("why",)

    def __init__(self, why: str):
        self.why = why

    def __repr__(self):
        return f"<state unavailable: {self.why}>"


class Text(str):
    """A string the shell prints as is, not as a quoted repr (Mermaid, help)."""

    def __repr__(self):
        return str(self)


# ----------------------------------------------------------------------
# layout helpers


def table(headers, rows, right=(), limits=None, width=None) -> list:
    """Lay out `rows` under `headers`; columns in `right` are right-aligned,
    `limits` caps a column's width; `width` cuts whole lines."""
    limits = limits or {}
    cols = len(headers)
    cells = [[str(c) for c in r] for r in rows]
    widths = []
    for i in range(cols):
        w = max([len(headers[i])] + [len(r[i]) for r in cells])
        if i in limits:
            w = min(w, max(limits[i], len(headers[i])))
        widths.append(w)

    def line(values):
        out = []
        for i, v in enumerate(values):
            v = fmt.cut(v, widths[i])
            out.append(v.rjust(widths[i]) if i in right else v.ljust(widths[i]))
        text = "  ".join(out).rstrip()
        return fmt.cut(text, width) if width else text

    return [line(headers)] + [line(r) for r in cells]


def describe(row) -> str:
    """What observer's Description column shows: name, else label, else initial call."""
    if row.name is not None:
        return str(row.name)
    if row.label is not None:
        return fmt.cut(str(row.label), 40) if isinstance(row.label, str) else \
            fmt.short(row.label, 40)
    return fmt.mfa(row.initial_call)


def _row_data(r) -> dict:
    return {
        "pid": repr(r.pid),
        "name": r.name and str(r.name),
        "label": fmt.jsonable(r.label, fmt.TERM_LIMIT),
        "initial_call": fmt.mfa(r.initial_call) if r.initial_call else None,
        "current_function": fmt.mfa(r.current_function) if r.current_function else None,
        "status": r.status,
        "reductions": r.reductions,
        "reductions_delta": r.reductions_delta,
        "message_queue_len": r.message_queue_len,
        "memory": r.memory,
        "priority": r.priority,
    }


# ----------------------------------------------------------------------
# the process table


SORT_TITLES = {
    "reductions": "total reductions",
    "reductions_delta": "reductions since the last look",
    "message_queue_len": "mailbox length",
    "memory": "memory",
    "pid": "pid",
    "name": "name",
    "status": "status",
    "initial_call": "initial call",
    "current_function": "current function",
    # the scheduling columns (scheduling.py), while accounting is on
    "runtime": "run time since accounting was switched on",
    "share": "share of the run time since the last look",
    "queue_delay": "mean queue delay",
    "queue_delay_max": "longest queue delay",
    "response_time_max": "longest response time",
}


def processes_view(tbl, *, width=None, marker=None, columns=None) -> View:
    """The process table: one line per row of a `ProcessTable` snapshot.

    `marker` (an index) puts a `>` before that row: the live view's cursor.
    `columns` adds columns of figures the snapshot does not hold, before the
    current function (the scheduling columns, see scheduling.py): an object
    with `headers`, `cells(pid)` (one text per header), `row_data(pid)` (put
    under `key` in each row's JSON), `summary` (under `key` in the table's
    JSON) and `foot` (added to the last line, or None).
    """
    delta = tbl.window is not None
    headers = ["#", "Pid", "Name or initial call", "Reds", "+Reds", "MsgQ", "Memory", "Status",
               "Current function"]
    rows = []
    for i, r in enumerate(tbl.rows):
        num = f"{'>' if marker == i else ' '}{i + 1}"
        rows.append([
            num, repr(r.pid), describe(r), fmt.count(r.reductions),
            fmt.count(r.reductions_delta) if delta else "",
            fmt.count(r.message_queue_len), fmt.size(r.memory), r.status,
            fmt.mfa(r.current_function),
        ])
    if not delta:  # no earlier look: no change column
        del headers[4]
        for row in rows:
            del row[4]
    right = {0, 3, 4, 5, 6} if delta else {0, 3, 4, 5}
    extra = columns.headers if columns is not None else ()
    if extra:
        at = len(headers) - 1  # before the current function
        headers[at:at] = extra
        right |= set(range(at, at + len(extra)))
        for r, row in zip(tbl.rows, rows, strict=True):
            row[at:at] = columns.cells(r.pid)
    lines = table(headers, rows, right=right, limits={2: 32, len(headers) - 1: 40},
                  width=width)
    shown = len(tbl.rows)
    what = f"{tbl.matched:,} matching of {tbl.count:,}" if tbl.matched != tbl.count \
        else f"{tbl.count:,}"
    by = SORT_TITLES.get(tbl.sort, tbl.sort)
    if tbl.sort == "reductions_delta" and not delta:
        by = "total reductions (no earlier look to compare with yet)"
    foot = f"{shown} of {what} processes, by {by}"
    if delta:
        foot += f"; +Reds over the last {fmt.seconds(tbl.window)}"
    if columns is not None and columns.foot:
        foot += f"; {columns.foot}"
    lines.append(fmt.cut(foot, width) if width else foot)
    data = {
        "kind": "processes",
        "node": tbl.node,
        "time": tbl.time,
        "count": tbl.count,
        "matched": tbl.matched,
        "sort": tbl.sort,
        "window": tbl.window,
        "rows": [_row_data(r) for r in tbl.rows],
    }
    if columns is not None:
        data[columns.key] = columns.summary
        for r, d in zip(tbl.rows, data["rows"], strict=True):
            d[columns.key] = columns.row_data(r.pid)
    return View("processes", data, "\n".join(lines))


def i_view(tbl, *, more_hint=True) -> View:
    """Erlang's `i()`: two lines per process (pid, initial call, memory,
    reductions, mailbox; then name, current function), and a total line."""
    h1 = ["Pid", "Initial Call", "Memory", "Reds", "Msgs"]
    h2 = ["Registered", "Current Function", "", "", ""]
    body = []
    for r in tbl.rows:
        body.append([repr(r.pid), fmt.mfa(r.initial_call), fmt.size(r.memory),
                     str(r.reductions), str(r.message_queue_len)])
        name = str(r.name) if r.name is not None else (
            describe(r) if r.label is not None else "")
        body.append([name, fmt.mfa(r.current_function), "", "", ""])
    total = ["Total", "", fmt.size(sum(r.memory for r in tbl.rows)),
             str(sum(r.reductions for r in tbl.rows)),
             str(sum(r.message_queue_len for r in tbl.rows))]
    lines = table(h1, [h2] + body + [total], right={2, 3, 4}, limits={1: 44})
    if tbl.count > len(tbl.rows) and more_hint:
        lines.append(f"... {tbl.count - len(tbl.rows):,} more processes not shown "
                     "(i(all=True) lists them all; top() ranks them)")
    data = {"kind": "i", "node": tbl.node, "count": tbl.count,
            "rows": [_row_data(r) for r in tbl.rows]}
    return View("i", data, "\n".join(lines))


# ----------------------------------------------------------------------
# one process


NOT_ASKED = object()


def _pids(xs) -> str:
    return "[" + ", ".join(repr(x) for x in xs) + "]" if xs else "[]"


def detail_view(d, *, state=NOT_ASKED, full=False, width=None) -> View:
    """One process, grouped as recon:info groups it: meta, signals, location,
    memory, work; then messages, dictionary and, for a behaviour, its state.

    `state` is what `sys.get_state` returned (a `("error", why)` tuple when
    it could not be read); leave it out for a process that is no behaviour.
    """
    limit = None if full else fmt.TERM_LIMIT
    if d is None:
        return View("process", {"kind": "process", "alive": False}, "the process is not alive")
    title = f"Process {d.pid!r}" + (f" ({d.name})" if d.name is not None else "")
    status = d.status if d.state in (d.status, "running", "runnable") else \
        f"{d.status} ({'in receive' if d.state == 'receiving' else 'on a timer or I/O'})"
    lines = [title]

    def group(name, items):
        first = True
        for text in items:
            lines.append(f"  {name if first else '':<10}{text}")
            first = False

    group("meta", [
        f"registered name {d.name if d.name is not None else '-'}, "
        "label " + ("-" if d.label is None else fmt.cut(str(d.label), limit)
                    if isinstance(d.label, str) else fmt.short(d.label, limit)),
        f"status {status}, priority {d.priority}",
        f"initial call {fmt.mfa(d.initial_call)}" + (
            f" (spawned as {fmt.mfa(d.spawned_as)})"
            if d.spawned_as and d.spawned_as != d.initial_call else ""),
        f"parent {d.parent!r}" if d.parent is not None else "parent -",
        f"ancestors {fmt.short(d.ancestors, limit)}" if d.ancestors else "ancestors []",
    ])
    group("signals", [
        f"links {_pids(d.links)}",
        "monitors " + ("[" + ", ".join(repr(m[1]) for m in d.monitors) + "]"
                       if d.monitors else "[]"),
        f"monitored by {_pids(d.monitored_by)}",
        f"trap_exit {d.trap_exit}",
    ])
    stack = [f"{fmt.mfa(f[:3])}  {f[3][0]}:{f[3][1]}" for f in d.stacktrace[:8]]
    group("location", [f"current function {fmt.mfa(d.current_function)}"] +
          [f"  {s}" for s in stack])
    heap = d.max_heap_size or {}
    group("memory", [
        f"{fmt.size(d.memory)} (estimate), message queue {d.message_queue_len}"
        + (f", max_heap_size {heap.get('size')} words" if heap.get("size") else "")
        + (f", timers {d.timers}" if d.timers else ""),
    ])
    group("work", [f"reductions {d.reductions:,}"])
    shown = d.messages if full else d.messages[:DETAIL_MESSAGES]
    lines.append(f"  messages  {d.message_queue_len} queued"
                 + (f", the first {len(shown)} shown" if len(shown) < d.message_queue_len
                    else ""))
    for k, m in enumerate(shown, 1):
        lines.append(f"    {k:>3}  {fmt.short(m, limit)}")
    lines.append(f"  dictionary  {len(d.dictionary)} keys")
    for k, v in d.dictionary.items():
        lines.append(f"    {fmt.short(k, 40)}: {fmt.short(v, limit)}")
    if isinstance(state, StateUnavailable):
        lines.append(f"  state     unavailable: {state.why}")
    elif state is not NOT_ASKED:
        lines.append("  state (sys.get_state)")
        lines.append(f"    {fmt.short(state, limit)}")
    if width:
        lines = [fmt.cut(x, width) for x in lines]
    data = {
        "kind": "process",
        "alive": True,
        "pid": repr(d.pid),
        "node": d.node,
        "name": d.name and str(d.name),
        "label": fmt.jsonable(d.label, limit),
        "status": d.status,
        "state": d.state,
        "initial_call": fmt.mfa(d.initial_call) if d.initial_call else None,
        "spawned_as": fmt.mfa(d.spawned_as) if d.spawned_as else None,
        "parent": repr(d.parent) if d.parent is not None else None,
        "ancestors": fmt.jsonable(d.ancestors, limit),
        "current_function": fmt.mfa(d.current_function) if d.current_function else None,
        "stacktrace": [{"function": fmt.mfa(f[:3]), "file": f[3][0], "line": f[3][1]}
                       for f in d.stacktrace],
        "reductions": d.reductions,
        "message_queue_len": d.message_queue_len,
        "messages": [fmt.jsonable(m, limit) for m in shown],
        "memory": d.memory,
        "links": [repr(x) for x in d.links],
        "monitors": [repr(m[1]) for m in d.monitors],
        "monitored_by": [repr(x) for x in d.monitored_by],
        "dictionary": fmt.jsonable(d.dictionary, limit),
        "trap_exit": d.trap_exit,
        "priority": d.priority,
        "timers": d.timers,
    }
    if isinstance(state, StateUnavailable):
        data["behaviour_state"] = None
        data["behaviour_state_unavailable"] = state.why
    elif state is not NOT_ASKED:
        data["behaviour_state"] = fmt.jsonable(state, limit)
    return View("process", data, "\n".join(lines))


def bt_view(d) -> View:
    """Where a process stands: its Python frames, innermost first, with source lines."""
    if d is None:
        return View("bt", {"kind": "bt", "alive": False}, "undefined (the process is not alive)")
    lines = [f"Stack of {d.pid!r}, innermost first ({d.status}):"]
    for mod, fn, arity, (path, line) in d.stacktrace:
        lines.append(f"  {mod}.{fn}/{arity}  at {path}:{line}")
        src = linecache.getline(path, line).strip()
        if src:
            lines.append(f"      {src}")
    if not d.stacktrace:
        lines.append("  (no frames: the process has not started yet, or hibernates)")
    data = {"kind": "bt", "alive": True, "pid": repr(d.pid), "status": d.status,
            "stacktrace": [{"function": f"{m}.{f}/{a}", "file": p, "line": n}
                           for m, f, a, (p, n) in d.stacktrace]}
    return View("bt", data, "\n".join(lines))


# ----------------------------------------------------------------------
# system, registry


def system_view(info, rates=None) -> View:
    """The node at a glance; with `rates` (from `snapshot.rates`) also per-second figures."""
    rq = info.run_queue
    lines = [
        f"Node {info.node}   uptime {fmt.seconds(info.uptime)}   clock {info.clock}",
        f"  processes    {info.processes:,}   registered {info.registered:,}   "
        f"timers {info.timers:,}",
        f"  run queues   normal {rq.get('normal', 0)}  low {rq.get('low', 0)}  "
        f"high {rq.get('high', 0)}  max {rq.get('max', 0)}",
        f"  reductions   {info.reductions:,} total"
        + (f", {rates['reductions_per_s']:,.0f}/s" if rates else "")
        + f"  (slice {info.reductions_per_slice:,})",
        "  messages     " + (f"{rates['messages_per_s']:,.0f}/s delivered, " if rates else "")
        + f"{info.message_queue_total:,} waiting in mailboxes",
    ]
    util_now = rates.get("utilization") if rates else None
    sched = "  scheduler    "
    if util_now is not None:
        sched += f"utilization {util_now:.0%} now, "
    sched += (f"{info.utilization:.0%} since start" if info.utilization is not None
              else "utilization n/a (virtual clock)")
    sched += f", context switches {info.context_switches:,}"
    if rates:
        sched += f" ({rates['context_switches_per_s']:,.0f}/s)"
    lines.append(sched)
    lines.append(f"  memory       processes {fmt.size(info.memory_processes)} (estimate), "
                 f"OS resident {fmt.size(info.memory_os)}")
    outside = _outside_line(info.outside)
    if outside:
        lines.append(outside)
    if rates:
        lines.append(f"  (rates over the last {fmt.seconds(rates['seconds'])})")
    data = {
        "kind": "system",
        "node": info.node,
        "time": info.time,
        "clock": info.clock,
        "uptime": info.uptime,
        "processes": info.processes,
        "registered": info.registered,
        "timers": info.timers,
        "run_queue": dict(rq),
        "reductions": info.reductions,
        "reductions_per_slice": info.reductions_per_slice,
        "context_switches": info.context_switches,
        "message_queue_total": info.message_queue_total,
        "utilization_since_start": info.utilization,
        "memory": {"processes": info.memory_processes, "os_resident": info.memory_os},
        "rates": dict(rates) if rates else None,
        "outside": dict(info.outside),
    }
    return View("system", data, "\n".join(lines))


def _outside_line(outside) -> str:
    """The work outside the node's thread, when there is any: the dirty pool
    (abandoned jobs still running count there until they end), to_process
    workers and descriptor waits; "" for a node that never used them."""
    parts = []
    d = outside.get("dirty")
    if d and (d["threads"] or d["completed"] or d["abandoned_total"]):
        running = f"{d['running']} running"
        if d["abandoned_running"]:
            running += f" ({d['abandoned_running']} of them abandoned by their callers)"
        part = (f"dirty pool {d['threads']} threads (max {d['max_threads']}): {running}, "
                f"{d['queued']} queued, {d['completed']:,} done")
        if d["abandoned_total"]:
            part += f", {d['abandoned_total']:,} abandoned ever"
        parts.append(part)
    w = outside.get("workers")
    if w and w.get("started"):
        parts.append(f"to_process workers {w['running']} running, {w['idle']} idle, "
                     f"{w['waiting']} waiting, {w['killed']:,} killed")
    if outside.get("io_waits"):
        parts.append(f"{outside['io_waits']} descriptor waits")
    return "  outside      " + "; ".join(parts) if parts else ""


def regs_view(rows, node="nonode@nohost", current=None) -> View:
    """Erlang's `regs()`: one line per registered name; `current` (pid ->
    current function) adds where each process stands now."""
    current = current or {}
    lines = [f"** Registered procs on node {node} **"]
    lines += table(["Name", "Pid", "Initial Call", "Current Function", "Reds", "Msgs"],
                   [[str(r.name), repr(r.pid), fmt.mfa(r.initial_call),
                     fmt.mfa(current.get(r.pid)), str(r.reductions),
                     str(r.message_queue_len)] for r in rows],
                   right={4, 5}, limits={0: 24, 2: 40, 3: 40})
    data = {"kind": "regs", "node": node, "rows": [
        {"name": str(r.name), "pid": repr(r.pid),
         "initial_call": fmt.mfa(r.initial_call) if r.initial_call else None,
         "current_function": fmt.mfa(current[r.pid]) if current.get(r.pid) else None,
         "reductions": r.reductions, "message_queue_len": r.message_queue_len}
        for r in rows]}
    return View("regs", data, "\n".join(lines))


# ----------------------------------------------------------------------
# supervision trees


def _node_label(n) -> str:
    parts = []
    if n.get("name"):
        parts.append(str(n["name"]))
    elif n.get("id") is not None:
        parts.append(fmt.child_id(n["id"]))
    pid = n.get("pid")
    parts.append(repr(pid) if pid is not None and not isinstance(pid, str) else
                 f"({pid or 'not running'})")
    kind = n.get("type", "worker")
    extra = kind
    if kind == "supervisor" and n.get("strategy"):
        extra += f" {n['strategy']}"
    if n.get("restart"):
        extra += f" {n['restart']}"
    parts.append(extra)
    if n.get("error"):
        parts.append(f"[{n['error']}]")
    return " ".join(parts)


def _tree_lines(n, prefix="", last=True, root=True):
    out = [(("" if root else prefix + ("└── " if last else "├── ")) + _node_label(n))]
    kids = n.get("children") or []
    child_prefix = "" if root else prefix + ("    " if last else "│   ")
    for k, c in enumerate(kids):
        out += _tree_lines(c, child_prefix, k == len(kids) - 1, False)
    return out


def _tree_data(n):
    pid = n.get("pid")
    return {
        "id": _id_data(n.get("id")),
        "name": n.get("name") and str(n["name"]),
        "pid": repr(pid) if pid is not None and not isinstance(pid, str) else pid,
        "type": n.get("type", "worker"),
        "strategy": n.get("strategy"),
        "restart": n.get("restart"),
        "error": n.get("error"),
        "links": [repr(x) for x in n.get("links", ())],
        "children": [_tree_data(c) for c in n.get("children") or []],
    }


def _id_data(cid):
    if isinstance(cid, type) or callable(cid) and hasattr(cid, "__qualname__"):
        return fmt.child_id(cid, fmt.TERM_LIMIT)
    return fmt.jsonable(cid, fmt.TERM_LIMIT)


def tree_view(tree, *, direction="TD", links=True) -> View:
    """A supervision tree (the dict `tree.snapshot` builds) as an indented tree,
    JSON, and a Mermaid graph: supervisor-child edges solid, other links dotted
    (as Kino.Process draws them)."""
    lines = _tree_lines(tree)
    data = {"kind": "tree", "root": _tree_data(tree)}
    return View("tree", data, "\n".join(lines), mermaid_tree(tree, direction, links))


def _mm(text: str) -> str:
    """Escape text for a Mermaid label (entity codes, as Mermaid documents them)."""
    out = []
    for ch in text:
        if ch in '"#;<>':
            out.append(f"#{ord(ch)};")
        else:
            out.append(ch)
    return "".join(out)


def _mm_id(pid, fallback) -> str:
    if pid is not None and not isinstance(pid, str):
        return f"p{pid.id}_{pid.serial}"
    return fallback


def mermaid_tree(tree, direction="TD", links=True) -> str:
    lines = [f"graph {direction}"]
    edges = []
    ids = {}
    counter = [0]

    def visit(n, parent_id, is_root):
        counter[0] += 1
        nid = _mm_id(n.get("pid"), f"n{counter[0]}")
        pid = n.get("pid")
        if pid is not None and not isinstance(pid, str):
            ids[pid] = nid
        label = _mm(_node_label(n))
        kind = "root" if is_root else ("supervisor" if n.get("type") == "supervisor" else
                                       "worker")
        if isinstance(pid, str) or pid is None:
            kind = "notrunning"
        shape = f'(["{label}"])' if n.get("type") == "supervisor" else f'["{label}"]'
        lines.append(f"    {nid}{shape}:::{kind}")
        if parent_id is not None:
            edges.append(f"    {parent_id} --- {nid}")
        for c in n.get("children") or []:
            visit(c, nid, False)

    visit(tree, None, True)
    lines += edges
    if links:
        tree_edges = set()

        def collect(n):
            for c in n.get("children") or []:
                a, b = n.get("pid"), c.get("pid")
                if a is not None and b is not None:
                    tree_edges.add(frozenset((a, b)))
                collect(c)

        collect(tree)
        seen = set()

        def dotted(n):
            a = n.get("pid")
            for b in n.get("links", ()):
                pair = frozenset((a, b))
                if a in ids and b in ids and pair not in tree_edges and pair not in seen:
                    seen.add(pair)
                    lines.append(f"    {ids[a]} -.- {ids[b]}")
            for c in n.get("children") or []:
                dotted(c)

        dotted(tree)
    lines += [
        "    classDef root fill:#c94,stroke:#333,color:#fff",
        "    classDef supervisor fill:#47a,stroke:#333,color:#fff",
        "    classDef worker fill:#6a6,stroke:#333,color:#fff",
        "    classDef notrunning fill:#bbb,stroke:#333,stroke-dasharray:4",
    ]
    return "\n".join(lines)
