"""The observer knows agents: their view, their approvals, their traces.

What this module owns: the shell commands of the "Agents" section,
registered with the observer's command registry (stdlib/observer/commands.py
imports this module), the agents panel of `top()` (key `a`), and the agent
section of `i(agent)`:

    agents()                  each agent: state, step, request, budget used of its
                              limit, approvals it waits for, last error
    approvals()               pending approvals (of every store of the node)
    approve(id) / refuse(id, reason)
    spans(trace_id)           the spans of a trace, as a tree with durations
    trace_seq(trace_id)       a trace drawn as a sequence diagram across agents,
                              model calls and tools (mermaid=True for Mermaid)
    i(agent)                  adds: conversation length, books, budget, approvals

Spans come from the running collector (tracing.py) or, with `file=`, from
a JSON-lines span file; the diagram is the observer's own sequence diagram
(stdlib/observer/tracing.py draws it), with one lifeline per process that
made a span: the caller, each agent, each model call, each tool call.

Agents are found by the mark their `init` puts in their dictionary, and
asked for their status with a short timeout; one that does not answer (busy
in a hook) shows as such.

What it refuses: the views' layout code (stdlib/observer/views.py) and the
agents' logic.
"""

from __future__ import annotations

import time

import vm

from ..observer import tracing as _seq
from ..observer.commands import command
from ..observer.fmt import cut, short
from ..observer.helpers import DETAIL_SECTIONS
from ..observer.source import in_process
from ..observer.top import register_panel
from ..observer.views import Text, View, table
from . import desk, tracing
from .agent import MARK
from .client import status

__all__ = ["agent_rows", "agents_view", "approvals_view", "spans_view", "trace_view"]

SECTION = "Agents"
STATUS_TIMEOUT = 1.0


# ----------------------------------------------------------------------
# the agents view


def agent_pids() -> list:
    """The agents of the caller's node (processes marked by the agent behaviour)."""
    out = []
    for pid in vm.processes():
        try:
            if vm.process_info(pid, ("dictionary", MARK)) is not None:
                out.append(pid)
        except vm.BadArg:
            continue  # it died meanwhile
    return out


def agent_rows() -> list:
    """One dict per agent: its status (client.status), or why it has none."""
    rows = []
    for pid in agent_pids():
        try:
            st = status(pid, STATUS_TIMEOUT)
        except vm.Exit as e:
            reason = e.reason[0] if type(e.reason) is tuple else e.reason
            st = {"name": None, "state": "busy" if reason == "timeout" else "gone",
                  "unavailable": str(reason)}
        rows.append(dict(st, pid=pid, cls=vm.process_info(pid, ("dictionary", MARK))))
    return rows


def budget_text(st) -> str:
    """Used of limit, for each limited resource: the request's, then the budget's."""
    parts = []
    usage = st.get("request_usage") or {}
    for r, limit in (st.get("limits") or {}).items():
        if r in usage and st.get("request_usage") is not None:
            parts.append(f"{r} {_num(usage[r])}/{_num(limit)}")
    b = st.get("budget")
    if b:
        for r, limit in b["limits"].items():
            if r in b["used"]:
                parts.append(f"{b['name']}.{r} {_num(b['used'][r])}/{_num(limit)}")
    return ", ".join(parts) or "-"


def _num(x):
    return f"{x:.4g}" if isinstance(x, float) else str(x)


def agents_view(rows, width=None) -> View:
    headers = ["Pid", "Agent", "State", "Step", "Request", "Budget used/limit", "Approvals",
               "Last error"]
    cells = []
    for r in rows:
        cells.append([repr(r["pid"]), r.get("name") or r["cls"], r["state"],
                      "" if r.get("step") is None else r["step"],
                      r.get("request_id") or "-", budget_text(r),
                      len(r.get("awaiting_approval") or ()) or "-",
                      short(r["last_error"], 40) if r.get("last_error") else "-"])
    lines = table(headers, cells, right=(3, 6), limits={5: 48, 7: 40}, width=width)
    lines.append(f"{len(rows)} agent{'s' if len(rows) != 1 else ''}")
    data = {"kind": "agents", "rows": [{
        "pid": repr(r["pid"]), "name": r.get("name"), "class": r["cls"], "state": r["state"],
        "step": r.get("step"), "request_id": r.get("request_id"),
        "principal": r.get("principal"), "messages": r.get("messages"),
        "request_usage": r.get("request_usage"), "limits": r.get("limits"),
        "budget": r.get("budget"), "awaiting_approval": r.get("awaiting_approval") or [],
        "last_error": repr(r["last_error"]) if r.get("last_error") else None} for r in rows]}
    return View("agents", data, "\n".join(lines))


def _out(view, json):
    return Text(view.json()) if json else view


@command("agents() every agent: state, step, request, budget used/limit, approvals, error",
         section=SECTION)
def agents(*, json=False, node=None):
    """The agents of the node: state (idle, thinking, acting, awaiting_approval),
    current step and request, budget used of limit, pending approvals, last error."""
    return _out(agents_view(in_process(agent_rows, node=node)), json)


def _panel(node):
    return agents_view(in_process(agent_rows, node=node)).text.splitlines()


register_panel("a", "agents", _panel)


def _detail_section(pid, detail, node):
    """i(agent): its conversation, books, budget and approvals."""
    if MARK not in detail.dictionary:
        return None
    try:
        st = in_process(status, pid, STATUS_TIMEOUT, node=node)
    except vm.Exit:
        return (["  agent     (busy: did not answer within 1 s)"], "agent", None)
    lines = [f"  agent     {st['name']}: {st['state']}, conversation {st['messages']} "
             f"messages, {st['requests']} requests",
             f"            spent {short(st['usage'], 120)}",
             f"            budget used/limit {budget_text(st)}"]
    if st["request_id"]:
        lines.append(f"            request {st['request_id']} step {st['step']}"
                     + (f" for {st['principal']}" if st["principal"] else ""))
    if st["awaiting_approval"]:
        lines.append(f"            waiting for approval: {', '.join(st['awaiting_approval'])}")
    if st["durable"] or st["audit"]:
        lines.append(f"            store {st['store']}"
                     + (f", journal {st['durable']!r}" if st["durable"] else "")
                     + (", audited" if st["audit"] else ""))
    if st["last_error"]:
        lines.append(f"            last error {short(st['last_error'], 120)}")
    return lines, "agent", {k: (repr(v) if k == "last_error" and v else v)
                            for k, v in st.items()}


DETAIL_SECTIONS.append(_detail_section)


# ----------------------------------------------------------------------
# approvals


def approvals_view(rows, width=None) -> View:
    now = time.time()
    cells = [[r["id"], r["agent"] or "-", r["tool"], cut(r["why"] or "", 40),
              r["principal"] or "-", f"{now - r['created']:.0f} s", short(r["arguments"], 40)]
             for r in rows]
    lines = table(["Id", "Agent", "Tool", "Why", "Asked by", "Waiting", "Arguments"], cells,
                  width=width)
    lines.append(f"{len(rows)} pending" + ("; approve(id) or refuse(id, reason)" if rows else ""))
    return View("approvals", {"kind": "approvals", "rows": rows}, "\n".join(lines))


@command("approvals() pending approvals; approve(id), refuse(id, reason) answer them",
         section=SECTION, name="approvals")
def _approvals(store=None, *, json=False, node=None):
    """Pending approvals of the node's stores (or of `store`): id, agent, tool,
    why, who asked, how long it has waited, the arguments."""
    return _out(approvals_view(in_process(desk.approvals, store, node=node)), json)


@command("approve(id, by=None) approve a pending approval: the call runs", section=SECTION,
         name="approve")
def _approve(aid, *, by=None, store=None, node=None):
    """Approve; "ok", or ("ignored", status) if it was not pending any more."""
    return in_process(lambda: desk.approve(aid, by=by or "shell", store=store), node=node)


@command("refuse(id, reason, by=None) refuse it: the model is told why", section=SECTION,
         name="refuse")
def _refuse(aid, reason="refused", *, by=None, store=None, node=None):
    """Refuse; "ok", or ("ignored", status) if it was not pending any more."""
    return in_process(lambda: desk.refuse(aid, reason, by=by or "shell", store=store),
                      node=node)


# ----------------------------------------------------------------------
# traces


class Lane:
    """A participant of a span diagram: one process that made spans."""

    __slots__ = ("id", "serial", "label")

    def __init__(self, n, label):
        self.id, self.serial, self.label = n, 0, label

    def __repr__(self):
        return self.label

    def __hash__(self):
        return self.id

    def __eq__(self, other):
        return type(other) is Lane and other.id == self.id

    def __lt__(self, other):
        return self.id < other.id


def _spans_of(trace_id, file):
    spans = tracing.read(file) if file is not None else tracing.spans()
    if trace_id is None:
        roots = [s for s in spans if s.get("parent_span_id") is None or
                 s["parent_span_id"] not in {x["span_id"] for x in spans}]
        if not roots:
            raise vm.BadArg("no spans recorded yet: start tracing (agents.tracing.start()) "
                            "and run something, or pass file=")
        trace_id = max(roots, key=lambda s: s["end_time_unix_nano"])["trace_id"]
    found = [s for s in spans if s["trace_id"] == trace_id]
    if not found:
        raise vm.BadArg(f"no spans of trace {trace_id!r}")
    return trace_id, tree_order(found)


def tree_order(spans) -> list:
    """Spans depth first: each parent before its children, siblings by start time
    (ties in the order they were recorded), so the virtual clock's equal times
    still read in causal order."""
    ids = {s["span_id"] for s in spans}
    children: dict = {}
    for k, s in enumerate(spans):
        parent = s.get("parent_span_id") if s.get("parent_span_id") in ids else None
        children.setdefault(parent, []).append((s["start_time_unix_nano"], k, s))
    out = []

    def walk(parent):
        for _t, _k, s in sorted(children.get(parent, ()), key=lambda e: e[:2]):
            out.append(s)
            walk(s["span_id"])

    walk(None)
    return out


def _who(span):
    attrs = span["attributes"]
    op = attrs.get("gen_ai.operation.name")
    if op == "invoke_agent":
        return f"agent {attrs.get('gen_ai.agent.name')}"
    if op == "chat":
        return "model call"
    if op == "execute_tool":
        return f"tool {attrs.get('gen_ai.tool.name')}"
    return span["name"]


def trace_steps(spans):
    """The diagram of a trace: (steps, lanes, names) for the observer's renderer.

    A lifeline per agent and per other process that opened spans; the model
    calls of one agent share a lifeline, and so do the calls of one tool by
    one agent (each is a process of its own, but a lifeline each would not
    fit a screen). A span opened in another lifeline than its parent's is an
    arrow from the parent's lifeline (labelled with the span's name) and a
    dashed one back when it ends (its outcome); one opened in the same
    lifeline is a note on it."""
    by_id = {s["span_id"]: s for s in spans}
    lanes, names = {}, {}

    def lane_of(s):
        if s is None:
            return None
        attrs = s["attributes"]
        op = attrs.get("gen_ai.operation.name")
        parent = by_id.get(s.get("parent_span_id"))
        owner = parent["attributes"].get("beamlet.pid", "?") if parent else "?"
        pid = attrs.get("beamlet.pid", "?")
        if op == "chat":
            key, label, name = ("chat", owner), "model", f"of {_agent_of(parent)}"
        elif op == "execute_tool":
            tool = attrs.get("gen_ai.tool.name")
            key, label, name = ("tool", tool, owner), f"tool {tool}", f"of {_agent_of(parent)}"
        else:
            key, label, name = ("pid", pid), pid, _who(s)
        if key not in lanes:
            lanes[key] = Lane(len(lanes), label)
            names[lanes[key]] = name
        return lanes[key]

    def caller(s):
        c = s["attributes"].get("beamlet.caller")
        if c is None:
            return None
        key = ("pid", c)
        if key not in lanes:
            lanes[key] = Lane(len(lanes), c)
            names[lanes[key]] = "caller"
        return lanes[key]

    steps, open_ = [], []  # open_: (span, returning arrow) of the spans still open
    for s in spans:  # depth first: close the open spans this one is not inside
        while open_ and open_[-1][0]["span_id"] != s.get("parent_span_id"):
            back = open_.pop()[1]
            if back is not None:
                steps.append(back)
        parent = by_id.get(s.get("parent_span_id"))
        src = lane_of(parent) if parent else caller(s)
        me = lane_of(s)
        if src is None or src == me:
            steps.append(("msg", me, me, s["name"], False))
            open_.append((s, None))
            continue
        outcome = "error " + str(s["attributes"].get("error.type")) \
            if s["status"] == "error" else _result(s)
        steps.append(("msg", src, me, s["name"], False))
        open_.append((s, ("msg", me, src, outcome, True)))
    while open_:
        back = open_.pop()[1]
        if back is not None:
            steps.append(back)
    return steps, list(lanes.values()), names


def _agent_of(span):
    if span is None:
        return "?"
    return span["attributes"].get("gen_ai.agent.name") or span["name"]


def _depth(s, by_id):
    d = 0
    while s.get("parent_span_id") in by_id:
        s = by_id[s["parent_span_id"]]
        d += 1
    return d


def _result(s):
    a = s["attributes"]
    if a.get("gen_ai.operation.name") == "chat":
        reasons = a.get("gen_ai.response.finish_reasons") or ["stop"]
        return f"{reasons[0]} {a.get('gen_ai.usage.input_tokens', 0)}+" \
               f"{a.get('gen_ai.usage.output_tokens', 0)} tok"
    return "ok"


def trace_view(trace_id=None, *, file=None, width=None) -> View:
    """One trace's spans as a sequence diagram (text, Mermaid and JSON)."""
    trace_id, spans = _spans_of(trace_id, file)
    steps, parts, names = trace_steps(spans)
    text = _seq.sequence_text(steps, parts, names, width=width)
    mermaid = _seq.sequence_mermaid(steps, parts, names)
    data = {"kind": "trace", "trace_id": trace_id,
            "participants": [{"pid": repr(p), "name": names.get(p)} for p in parts],
            "steps": [{"from": repr(a), "to": repr(b), "label": label, "return": dashed}
                      for _k, a, b, label, dashed in steps]}
    return View("trace", data, f"trace {trace_id}\n{text}", mermaid)


def spans_view(trace_id=None, *, file=None, width=None) -> View:
    """One trace's spans as a tree: name, process, duration, status."""
    trace_id, spans = _spans_of(trace_id, file)
    by_id = {s["span_id"]: s for s in spans}
    rows = []
    for s in spans:
        ms = (s["end_time_unix_nano"] - s["start_time_unix_nano"]) / 1e6
        rows.append(["  " * _depth(s, by_id) + s["name"], s["attributes"].get("beamlet.pid", ""),
                     f"{ms:.1f} ms", s["status"] if s["status"] != "error" else
                     f"error {s['attributes'].get('error.type')}", s["span_id"]])
    lines = [f"trace {trace_id}"] + table(["Span", "Process", "Took", "Status", "Span id"],
                                          rows, right=(2,), width=width)
    return View("spans", {"kind": "spans", "trace_id": trace_id, "spans": spans},
                "\n".join(lines))


@command("spans(trace_id=None, file=None) a trace's spans as a tree (default: the last)",
         section=SECTION)
def spans(trace_id=None, *, file=None, json=False, width=None, node=None):
    """The spans of one trace (the most recent by default), indented under their
    parents, with the process that made each, its duration and status."""
    return _out(in_process(lambda: spans_view(trace_id, file=file, width=width), node=node),
                json)


@command("trace_seq(trace_id=None, file=None) a trace as a sequence diagram; mermaid=True",
         section=SECTION)
def trace_seq(trace_id=None, *, file=None, mermaid=False, json=False, width=None, node=None):
    """A trace across agents, model calls and tools as a sequence diagram: an
    arrow for each span started in another process, a dashed one back."""
    view = in_process(lambda: trace_view(trace_id, file=file, width=width), node=node)
    if mermaid:
        return view.mermaid()
    return _out(view, json)
