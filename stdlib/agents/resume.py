"""Resuming a durable agent: from its journal's view back to a working agent.

What this module owns: the two directions between an agent's data and the
durable view journal.py keeps (`view_of` for snapshots, `restore` at
start-up), and the decision for each tool call of an interrupted turn:

    its result is in the journal          used as it is: never run again
    its result was written by the call    the agent's after_tool_result hook runs on it
      but the agent never handled it
    started, no result (in flight)        its tool's on_interrupted (else the agent's):
                                          "report" tells the model it was interrupted,
                                          "retry" runs it again
    never started                         runs
    waiting for approval                  waits again (the desk answers at once if
                                          someone answered meanwhile)

A request that was open goes on with no asker; `ask(..., request_id=...)`
with its id attaches to it (or gets its outcome, once done). Its deadline
starts again from the restart, with the request's own timeout.

What it refuses: replaying entries (journal.py) and the loop (loop.py).
"""

from __future__ import annotations

import copy

import vm

from . import gate, loop, trail
from .journal import INTERRUPTED

__all__ = ["restore", "view_of"]


def view_of(data) -> dict:
    """The durable view of a live agent (taken when no tool call runs)."""
    req = data["req"]
    return {"messages": data["messages"], "state": data["state"], "cursor": data["cursor"],
            "usage": data["usage"], "requests": data["requests"],
            "outcomes": [[k, v] for k, v in data["outcomes"].items()],
            "last_request": data["last_request"], "open": None if req is None else {
                "id": req["id"], "prompt": req.get("prompt"), "principal": req["principal"],
                "metadata": req["metadata"], "timeout": req["timeout"],
                "limits": req["limits"],
                "trace": list(req["trace_parent"]) if req["trace_parent"] else None,
                "step": req["step"], "usage": req["usage"], "calls": req["calls"],
                "names": req["names"], "results": req["results"],
                "queued": [c["id"] for c in req["queue"]], "started": [], "raw": {},
                "awaiting": {aid: w["call"]["id"] for aid, w in req["awaiting"].items()},
                "last_key": list(req["last_key"]) if req["last_key"] else None,
                "repeats": req["repeats"], "turn": list(req.get("turn", {}).values()),
                "phase": "tools" if req["awaiting"] or req["queue"] else "think"}}


def restore(agent, data, view):
    """Put `view` into `data`; returns gen_statem's init result."""
    data["messages"] = view["messages"]
    data["state"] = view["state"]
    data["cursor"] = view["cursor"]
    if view["usage"] is not None:
        data["usage"] = view["usage"]
    data["requests"] = view["requests"]
    data["last_request"] = view["last_request"]
    data["outcomes"] = {rid: tuple(o) for rid, o in view["outcomes"]}
    data["trail"]["shadow"] = copy.deepcopy(data["state"])
    o = view["open"]
    if o is None:
        return ("ok", "idle", data)
    now = vm.monotonic()
    ask = {"deadline": None if o["timeout"] is None else now + o["timeout"],
           "timeout": o["timeout"], "stream_to": None, "stream_tag": "agent",
           "metadata": o["metadata"]}
    req = loop.new_req(data, None, o["limits"] or {}, ask, o["id"], o["principal"], now)
    parent = tuple(o["trace"]) if o["trace"] else None
    req["trace_parent"] = req["trace"] = parent
    req["prompt"] = o["prompt"]
    req["step"] = o["step"]
    if o["usage"] is not None:
        req["usage"] = dict(o["usage"])
        for k, v in o["usage"].items():
            req["ledger"]["used"][k] = v
    req["last_key"] = tuple(o["last_key"]) if o["last_key"] else None
    req["repeats"] = o["repeats"]
    data["req"] = req
    trail.request_started(agent, data, req, o["prompt"], resumed=True)
    actions = loop.deadline_timer(req)
    phase = o["phase"]
    if phase == "think":
        return ("ok", "thinking", data, actions + [("next_event", "internal", "think")])
    if phase == "end":
        last = data["messages"][-1] if data["messages"] else {}
        loop.finish(agent, data, ("ok", last.get("content") or "", None))
        return ("ok", "idle", data, loop.clear_timers(req))
    turn = {c["id"]: c for c in o.get("turn") or ()}
    if phase == "act":
        return _as_init(loop.act(agent, data, list(turn.values())), actions)
    return _as_init(_tools_phase(agent, data, req, o, turn), actions)


def _tools_phase(agent, data, req, o, turn):
    req["calls"] = list(o["calls"])
    req["names"] = dict(o["names"])
    req["results"] = dict(o["results"])
    req["turn"] = turn
    policy = data["trail"]["journal"].opts["on_interrupted"]
    for cid in o["queued"]:
        if cid in req["results"]:
            continue
        call = turn.get(cid) or {"id": cid, "name": req["names"][cid], "arguments": {}}
        if cid in o["raw"]:  # it ran and wrote its result; the agent never handled it
            result = agent.after_tool_result(call, o["raw"][cid], loop.context(data, req))
            req["results"][cid] = result
            trail.tool_handled(agent, data, req, call, result, True)
            continue
        spec = data["tools"].get(call["name"]) or {}
        if cid in o["started"] and (spec.get("on_interrupted") or policy) == "report":
            result = agent.after_tool_result(call, loop.error_result(INTERRUPTED),
                                             loop.context(data, req))
            req["results"][cid] = result
            trail.tool_handled(agent, data, req, call, result, False)
            continue
        req["queue"].append(call)
    for aid, cid in o["awaiting"].items():
        call = turn.get(cid)
        req["awaiting"][aid] = {"call": call, "why": "waiting since before the restart",
                                "escalated": False, "timed": False}
        gate.hold(agent, data, req, aid, new=False)
    trail.state_changed(agent, data, req)
    return loop.run_queue(agent, data, gate.timers(data, req))


def _as_init(transition, actions):
    """A loop transition (`("next_state", state, data[, actions])` or a stop) as
    init's result."""
    if transition[0] == "stop":
        raise vm.Exit(transition[1])
    more = list(transition[3]) if len(transition) > 3 else []
    return ("ok", transition[1], transition[2], actions + more)
