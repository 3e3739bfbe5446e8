"""The approval gate in the agent loop: hold a call until someone answers.

What this module owns: the agent's side of approvals (desk.py is the desk's
side): deciding that a call waits, the timers, and what an answer
does to the request.

- `needs(...)`: asks the agent's `needs_approval(call, context)` hook (by
  default the tool's `approval` option); a call that needs approval is
  recorded with the store's desk and held in `req["awaiting"]` under its
  approval id `"<request id>:<call id>"`.
- `on_answer(...)`: `("$agent_approval", id, found)` arrived. An id the
  request does not wait for is ignored (late, a duplicate, or another
  request's). Approved: the call joins the queue. Refused or expired: the
  model is told, as a tool error, who said no and why.
- `on_timeout(...)`: the approval took `approval_timeout` seconds. The
  first time, with `on_approval_timeout="escalate"` and a handler (the
  `escalate_to` option, else the supervisor's `escalation_handler` child),
  the approval is handed to the handler and the clock starts again; else
  the desk expires it (unless an answer got there first: the desk decides).

What it refuses: the table and the answers (desk.py), and running the
call (loop.py).
"""

from __future__ import annotations

import json
import time

import vm

from . import desk as _desk
from . import trail

__all__ = ["forget_all", "needs", "on_answer", "on_timeout", "timers"]


def needs(agent, data, req, call) -> bool:
    """True when `call` must wait for an approval (it is then held)."""
    from .loop import context

    ctx = dict(context(data, req), tool=data["tools"].get(call["name"]))
    why = agent.needs_approval(call, ctx)
    if not why:
        return False
    why = why if isinstance(why, str) else f"{call['name']} needs approval"
    aid = f"{req['id']}:{call['id']}"
    req["awaiting"][aid] = {"call": call, "why": why, "escalated": False, "timed": False}
    hold(agent, data, req, aid, new=True)
    return True


def hold(agent, data, req, aid, new):
    """Record the approval with the desk (again, after a restart: the desk answers
    at once if someone answered meanwhile)."""
    w = req["awaiting"][aid]
    call = w["call"]
    row = {"id": aid, "agent": data["name"], "pid": repr(vm.self()), "node": vm.node(),
           "request_id": req["id"], "call_id": call["id"], "tool": call["name"],
           "arguments": json.dumps(call["arguments"], default=str), "why": w["why"],
           "principal": req["principal"], "trace_id": req["trace"][0] if req["trace"] else None,
           "created": time.time(), "status": "pending"}
    _desk.open_approval(data["store"], row, vm.self())
    if new:
        trail.approval_event(agent, data, req, "requested", aid, call, {"why": w["why"]})


def timers(data, req) -> list:
    """Timeout actions for approvals not yet timed."""
    out = []
    limit = data["opts"]["approval_timeout"]
    for aid, w in req["awaiting"].items():
        if not w["timed"]:
            w["timed"] = True
            if limit is not None:
                out.append((("timeout", ("approval", aid)), limit, None))
    return out


def on_answer(agent, data, aid, found):
    from .loop import error_result, run_queue, tool_done

    req = data["req"]
    if req is None or aid not in req["awaiting"]:
        return "keep_state_and_data"  # late, duplicate, or another request's: ignored
    w = req["awaiting"].pop(aid)
    req.setdefault("approvals_done", []).append(aid)
    call = w["call"]
    actions = [(("timeout", ("approval", aid)), "cancel")]
    status, by, reason = found["status"], found.get("by"), found.get("reason")
    if status == "approved":
        trail.approval_event(agent, data, req, "approved", aid, call, {"by": by})
        req["queue"].append(call)
        return run_queue(agent, data, actions)
    trail.approval_event(agent, data, req, status, aid, call, {"by": by, "reason": reason})
    if status == "expired":
        text = f"not run: no approval came for {call['name']} ({reason})"
    else:
        text = f"not run: {by} refused it" + (f": {reason}" if reason else "")
    return tool_done(agent, data, call, error_result(text), actions, ran=False)


def on_timeout(agent, data, aid):
    req = data["req"]
    w = req["awaiting"].get(aid) if req is not None else None
    if w is None:
        return "keep_state_and_data"
    opts = data["opts"]
    rest = ["hibernate"] if not req["running"] else []
    if not w["escalated"] and opts["on_approval_timeout"] == "escalate":
        handler = _desk.find_handler(opts["escalate_to"])
        if handler is not None:
            w["escalated"] = True
            call = w["call"]
            vm.send(handler, ("$agent_escalation", {
                "id": aid, "agent": data["name"], "pid": vm.self(), "tool": call["name"],
                "arguments": call["arguments"], "why": w["why"], "principal": req["principal"],
                "request_id": req["id"], "store": data["store"]}))
            trail.approval_event(agent, data, req, "escalated", aid, call,
                                 {"handler": repr(handler)})
            return ("keep_state", data,
                    [(("timeout", ("approval", aid)), opts["approval_timeout"], None)] + rest)
    why = (f"after {opts['approval_timeout']} s" + (" and an escalation" if w["escalated"]
                                                     else ""))
    _desk.expire(data["store"], aid, vm.self(), why)
    return ("keep_state", data, rest)


def forget_all(data, req, outcome):
    """The request ended: approvals it still waited for are cancelled at the desk."""
    if req["awaiting"]:
        why = f"the request ended ({outcome[0]})"
        _desk.forget(data["store"], list(req["awaiting"]), why)
        req.setdefault("approvals_done", []).extend(req["awaiting"])
        req["awaiting"] = {}
