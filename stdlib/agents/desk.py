"""The approval desk: tool calls that wait for a person, keyed by request.

What this module owns: the approval desk of a store, and the functions
people (and programs) answer with. A tool call needs approval when its
tool says so (`@agents.tool(approval=True)`, or `approval=fn` deciding on
the arguments) or the agent's `needs_approval(call, context)` hook says so
(a policy on cost: `context["usage"]` is what the request spent so far).
Then:

1. the agent records the approval in its store's `approvals` table (id
   `"<request id>:<call id>"`, the tool, the arguments, why, who asked) and
   runs the turn's other calls;
2. with nothing else to do, it **hibernates** in the state
   `awaiting_approval`: no polling, its heap compacted, still answering
   `otp_sys`, `cancel` and its deadline;
3. an answer is a message to the agent, `("$agent_approval", id, decision)`,
   sent by the desk when someone answers: approved, the call runs;
   refused, the model is told who refused and why. An answer for an id the
   agent is not waiting for (late, a duplicate, another request's) is
   ignored, and the desk tells the one who answered (`("ignored", status)`);
4. after `approval_timeout` seconds (default 3600) the agent **escalates**
   to its supervisor's designated handler (a child of the same supervisor
   started from `escalation_handler(fn)`; or the agent's `escalate_to`
   option), which
   gets `("$agent_escalation", approval)` and may answer; with no handler,
   or with `on_approval_timeout="refuse"`, or when the handler has not
   answered within a second `approval_timeout`, the approval expires and
   the call is refused.

The store's table is the one truth: an answer is accepted only while its
row is `pending` (a single `UPDATE ... WHERE status = 'pending'`), so two
answers racing, or an answer racing the timeout, cannot both win. The
desk is one process per store on a node (`beamlet.approvals:<path>`); it
notices answers written by other programs (`beamlet approvals --approve`)
by reading the table every `POLL` seconds while it has approvals pending.

    agents.approvals()                       # pending approvals of this node's stores
    agents.approve("r-17:call_0", by="ada")  # "ok", or ("ignored", status)
    agents.refuse("r-17:call_0", "no refunds above 100", by="ada")

What it refuses: deciding which calls need approval (the tool and the
agent's hook do) and running them (loop.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import time

import vm

from .. import gen_server, persistent_term
from . import store as _store

__all__ = ["ESCALATION", "POLL", "approvals", "approve", "escalation_handler", "refuse"]

ESCALATION = "escalation"
POLL = 0.5
PREFIX = "beamlet.approvals:"
_HANDLER_KEY = "beamlet.agents.escalation"
_COLS = ("id", "agent", "pid", "node", "request_id", "call_id", "tool", "arguments", "why",
         "principal", "trace_id", "created", "status", "answered_by", "answer", "answered")


# ----------------------------------------------------------------------
# table functions (run by the store process)


def _open(conn, txn, row):
    conn.execute(f"INSERT INTO approvals ({', '.join(_COLS)}) VALUES "
                 f"({', '.join('?' * len(_COLS))}) ON CONFLICT(id) DO UPDATE SET "
                 "pid = excluded.pid, node = excluded.node",
                 tuple(row.get(c) for c in _COLS))
    return _status(conn, row["id"])


def _status(conn, aid):
    row = conn.execute("SELECT status, answered_by, answer FROM approvals WHERE id = ?",
                       (aid,)).fetchone()
    return None if row is None else {"status": row[0], "by": row[1], "reason": row[2]}


def _answer(conn, txn, aid, status, by, reason):
    cur = conn.execute("UPDATE approvals SET status = ?, answered_by = ?, answer = ?, "
                       "answered = ? WHERE id = ? AND status = 'pending'",
                       (status, by, reason, time.time(), aid))
    if cur.rowcount == 1:
        return "ok"
    row = _status(conn, aid)
    return ("ignored", "unknown" if row is None else row["status"])


def _answered(conn, ids):
    if not ids:
        return []
    marks = ", ".join("?" * len(ids))
    return conn.execute(f"SELECT id, status, answered_by, answer FROM approvals WHERE id IN "
                        f"({marks}) AND status != 'pending'", list(ids)).fetchall()


def pending_rows(conn, agent=None):
    sql = f"SELECT {', '.join(_COLS)} FROM approvals WHERE status = 'pending'"
    args = []
    if agent is not None:
        sql += " AND agent = ?"
        args.append(agent)
    rows = [dict(zip(_COLS, r, strict=True))
            for r in conn.execute(sql + " ORDER BY created", args)]
    for r in rows:
        with contextlib.suppress(ValueError):  # unreadable: shown as the text it is
            r["arguments"] = json.loads(r["arguments"]) if r["arguments"] else {}
    return rows


def answer_row(conn, aid, status, by, reason):
    """From another program (the CLI): answer in its own transaction."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = _answer(conn, {}, aid, status, by, reason)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return result


# ----------------------------------------------------------------------
# the desk: one process per store


class Desk(gen_server.GenServer):
    def init(self, path):
        vm.process_flag("label", f"approvals {os.path.basename(path)}")
        return ("ok", {"path": path, "pending": {}, "polling": False})

    def handle_cast(self, msg, s):
        tag = msg[0]
        if tag == "open":  # an agent waits for approval `row`
            row = msg[1]
            found = _store.run(s["path"], _open, row)
            if found is not None and found["status"] != "pending":
                _deliver(row["id"], msg[2], found)
            else:
                s["pending"][row["id"]] = msg[2]
                self._poll_later(s)
        elif tag == "expire":  # the agent's timeout: expire unless answered first
            aid, agent = msg[1], msg[2]
            result = _store.run(s["path"], _answer, aid, "expired", "timeout", msg[3])
            s["pending"].pop(aid, None)
            found = {"status": "expired", "by": "timeout", "reason": msg[3]} \
                if result == "ok" else _store.read(s["path"], _status, aid)
            if found is not None:
                _deliver(aid, agent, found)
        elif tag == "forget":  # the request ended: the agent no longer waits
            for aid in msg[1]:
                s["pending"].pop(aid, None)
                _store.run(s["path"], _answer, aid, "cancelled", "agent", msg[2])
        return ("noreply", s)

    def handle_call(self, request, from_, s):
        tag = request[0]
        if tag == "answer":
            _, aid, status, by, reason = request
            result = _store.run(s["path"], _answer, aid, status, by, reason)
            agent = s["pending"].pop(aid, None)
            if result == "ok" and agent is not None:
                _deliver(aid, agent, {"status": status, "by": by, "reason": reason})
            return ("reply", result, s)
        if tag == "has":
            return ("reply", request[1] in s["pending"], s)
        if tag == "pending":
            return ("reply", _store.read(s["path"], pending_rows, request[1]), s)
        return ("reply", ("error", f"unknown request {request!r}"), s)

    def handle_info(self, msg, s):
        if msg == "poll":
            s["polling"] = False
            if s["pending"]:
                for aid, status, by, reason in _store.read(s["path"], _answered,
                                                           list(s["pending"])):
                    agent = s["pending"].pop(aid, None)
                    if agent is not None:
                        _deliver(aid, agent, {"status": status, "by": by, "reason": reason})
                self._poll_later(s)
        return ("noreply", s)

    def _poll_later(self, s):
        if s["pending"] and not s["polling"]:
            s["polling"] = True
            vm.send_after(POLL, vm.self(), "poll")


def _deliver(aid, agent, found):
    vm.send(agent, ("$agent_approval", aid, found))


def desk(path=None):
    """The desk process of a store (started, not linked, if none runs)."""
    resolved = _store.resolve(path)
    name = PREFIX + resolved
    pid = vm.whereis(name)
    if pid is not None:
        return pid
    return _store.started(gen_server.start(Desk, resolved, name=name),
                          f"the approvals desk of {resolved}")


def _desks():
    return _store.running(PREFIX)


# ----------------------------------------------------------------------
# the agent's side (called from loop.py)


def open_approval(path, row, agent):
    gen_server.cast(desk(path), ("open", row, agent))


def expire(path, aid, agent, why):
    gen_server.cast(desk(path), ("expire", aid, agent, why))


def forget(path, ids, why):
    if ids:
        gen_server.cast(desk(path), ("forget", list(ids), why))


def find_handler(explicit):
    """The handler to escalate to: `explicit`, else the one the caller's supervisor
    runs (an `escalation_handler` child announces itself to its siblings); None
    when there is none. Never waits on another process."""
    if explicit is not None:
        return vm.whereis(explicit) if isinstance(explicit, str) else explicit
    parent = (vm.get("$ancestors") or [None])[0]
    if parent is None:
        return None
    pid = persistent_term.get((_HANDLER_KEY, parent), None)
    return pid if pid is not None and vm.is_process_alive(pid) else None


# ----------------------------------------------------------------------
# the API


def approvals(store=None, *, agent=None) -> list:
    """Pending approvals (dicts: id, agent, tool, arguments, why, principal,
    request_id, trace_id, created), of `store` or of every store with a desk on
    this node; `agent` filters by agent name."""
    paths = [_store.resolve(store)] if store is not None else sorted(_desks())
    out = []
    for path in paths:
        out.extend(gen_server.call(desk(path), ("pending", agent)))
    out.sort(key=lambda r: r["created"])
    return out


def approve(aid, *, by=None, store=None):
    """Approve the pending approval `aid`: "ok", or ("ignored", status) when it is
    not pending (answered already, expired, or unknown)."""
    return _answer_any(aid, "approved", by, None, store)


def refuse(aid, reason="refused", *, by=None, store=None):
    """Refuse it (the model is told `reason`): "ok" or ("ignored", status)."""
    if not isinstance(reason, str):
        raise vm.BadArg(f"refuse: reason must be a str, not {reason!r}")
    return _answer_any(aid, "refused", by, reason, store)


def _answer_any(aid, status, by, reason, store):
    if not isinstance(aid, str) or not aid:
        raise vm.BadArg(f"an approval id is a str such as 'r-17:call_0', not {aid!r}")
    by = str(by) if by is not None else (os.environ.get("USER") or "someone")
    if store is not None:
        return gen_server.call(desk(store), ("answer", aid, status, by, reason))
    desks = _desks()
    for pid in desks.values():
        if gen_server.call(pid, ("has", aid)):
            return gen_server.call(pid, ("answer", aid, status, by, reason))
    found = ("ignored", "unknown")
    for pid in desks.values():  # answered already, or an agent of another program waits
        result = gen_server.call(pid, ("answer", aid, status, by, reason))
        if result == "ok":
            return result
        if result != found:
            found = result
    return found


class Handler(gen_server.GenServer):
    """An escalation handler: calls `fn(approval)` for each escalated approval."""

    def init(self, fn):
        vm.process_flag("label", "agents escalation handler")
        supervisor_ = (vm.get("$ancestors") or [None])[0]
        persistent_term.put((_HANDLER_KEY, supervisor_), vm.self())  # for the siblings
        return ("ok", fn)

    def handle_info(self, msg, fn):
        if type(msg) is tuple and len(msg) == 2 and msg[0] == "$agent_escalation":
            approval = msg[1]
            decision = fn(approval)
            by = "escalation handler"
            if decision == "approve":
                approve(approval["id"], by=by, store=approval.get("store"))
            elif type(decision) is tuple and decision[0] == "refuse":
                refuse(approval["id"], str(decision[1]), by=by, store=approval.get("store"))
        return ("noreply", fn)


def escalation_handler(fn, *, id=ESCALATION) -> dict:  # noqa: A002
    """A child spec for an escalation handler under the agents' supervisor:
    `fn(approval)` (a module-level function) returns "approve", ("refuse",
    reason), or None to leave the approval pending."""
    if not callable(fn):
        raise vm.BadArg(f"escalation_handler takes a function fn(approval), not {fn!r}")
    return {"id": id, "start": (_start_handler, (fn,))}


def _start_handler(fn):
    return gen_server.start_link(Handler, fn)
