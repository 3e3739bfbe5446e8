"""One request's work: think, act, end, and its books.

What this module owns: what an agent does between an ask and its answer,
as functions over the agent's data (agent.py dispatches the events to
them). Each function that ends an event returns the gen_statem transition.

- **thinking**: reserve the step in the request's ledger and the agent's
  budget process, build the model request, run the hook, spawn the model
  call as a linked process; on its reply, settle, and either answer or act.
- **acting**: check the calls (unknown tools, arguments that do not fit,
  the per-turn cap, the loop check, the approval gate), run the rest as
  linked processes at most `max_concurrent_tools` at a time, each with its
  timeout; when all are in, append the results in the model's order and
  think again. Calls waiting for an approval wait (gate.py); with nothing
  else running the agent hibernates in `awaiting_approval`.
- **ending**: kill what still runs (charging what it reserved), give every
  unanswered tool call an answer so the conversation stays valid, reply to
  the asker with the outcome and the request's usage.

Each step tells trail.py what happened (spans, audit records, journal
entries: each a no-op unless the agent keeps it). The request's trace
context (tracecontext.py) is set on the agent before it spawns a model
call or a tool, so they join the request's trace.

What it refuses: decoding events and options (agent.py), the ledger's
arithmetic (budget.py), running a tool (tools.py) or a model (model.py),
approvals (gate.py) and resuming (resume.py).
"""

from __future__ import annotations

import json
import secrets

import vm
from vm import lowlevel

from .. import gen
from . import budget as _budget
from . import gate, trail
from . import model as _model
from . import tools as _tools
from .errors import ModelError
from .tracecontext import current as _current_context
from .tracecontext import token_of

# Model errors after which the call may have been billed: charge what it reserved.
MAYBE_BILLED = ("deadline", "connection", "stream_error")
USAGE_KEYS = _budget.RESOURCES


# ----------------------------------------------------------------------
# starting a request


def new_request_id() -> str:
    return "r-" + secrets.token_hex(6)


def new_req(data, from_, prompt_limits, ask, request_id, principal, now):
    limits = dict(data["opts"]["limits"], **prompt_limits)
    ledger = _budget.new_ledger("request", limits, now)
    deadline = ask["deadline"]
    if ledger["deadline_at"] is not None:
        deadline = ledger["deadline_at"] if deadline is None else min(deadline,
                                                                      ledger["deadline_at"])
    asker = from_[0] if from_ is not None else None
    parent = _current_context()
    return {"id": request_id, "from": from_, "asker": asker,
            "amon": vm.monitor(asker) if asker is not None else None,
            "deadline": deadline, "timeout": ask["timeout"], "ledger": ledger,
            "limits": prompt_limits, "stream_to": ask["stream_to"],
            "stream_tag": ask["stream_tag"], "metadata": ask["metadata"],
            "principal": principal, "trace_parent": parent, "trace": parent, "span": None,
            "asker_token": lowlevel.trace_token() if asker is not None else None,
            "step": 0, "usage": zero_usage(), "model": None, "running": {}, "queue": [],
            "calls": [], "names": {}, "results": {}, "awaiting": {}, "last_key": None,
            "repeats": 0}


def start_request(agent, from_, prompt, ask, data):
    now = vm.monotonic()
    rid = ask.get("request_id") or new_request_id()
    req = new_req(data, from_, ask["limits"], ask, rid, ask.get("principal"), now)
    req["prompt"] = prompt
    data["requests"] += 1
    data["req"] = req
    data["messages"].append({"role": "user", "content": prompt})
    trail.request_started(agent, data, req, prompt)
    if req["deadline"] is not None and req["deadline"] <= now:
        finish(agent, data, ("error", deadline_reason(req, "queued"), None))
        return ("keep_state", data)
    return ("next_state", "thinking", data, [("next_event", "internal", "think")]
            + deadline_timer(req))


def deadline_timer(req):
    if req["deadline"] is None:
        return []
    return [(("timeout", "deadline"), req["deadline"], None, {"abs": True})]


def enter(req):
    """The request's trace context on the agent, so what it spawns next joins it."""
    token = token_of(req["trace"])
    if lowlevel.trace_token() != token:
        lowlevel.set_trace_token(token)


# ----------------------------------------------------------------------
# thinking


def think(agent, data):
    req = data["req"]
    if req is None:
        return "keep_state_and_data"
    req["step"] += 1
    ctx = context(data, req)
    system = agent.system_prompt(ctx)
    request = {"messages": ([{"role": "system", "content": system}] if system else [])
               + list(data["messages"]),
               "tools": list(data["schemas"]), "options": dict(data["opts"]["model_options"]),
               "metadata": req["metadata"], "cursor": data["cursor"]}
    request = agent.before_model_call(request, ctx)
    trail.state_changed(agent, data, req)
    _model.check_request(request)
    model = data["model"]
    est_in = _model.estimate_input_tokens(request)
    max_out = _model.max_tokens_of(model, request)
    amounts = {"steps": 1, "model_calls": 1, "input_tokens": est_in, "output_tokens": max_out}
    price = _model.cost_of(model, {"input_tokens": est_in, "output_tokens": max_out})
    if price is not None:
        amounts["cost"] = price
    held = reserve(agent, data, req, amounts)
    if type(held) is tuple and held[0] == "refused":
        return end(agent, data, ("error", held[1], None))
    call_deadline = earliest(req["deadline"], held["deadline"])
    ref = vm.make_ref()
    stream_to = vm.self() if req["stream_to"] is not None else None
    enter(req)
    pid = vm.spawn_link(model_call, vm.self(), ref, model, request, stream_to, call_deadline)
    req["model"] = dict(held, pid=pid, ref=ref)
    return ("next_state", "thinking", data)


def model_call(agent, ref, model, request, stream_to, deadline):
    """The body of a model call's process."""
    vm.process_flag("label", "agent model call")
    try:
        reply = _model.complete(model, request, stream_to=stream_to, tag=ref, deadline=deadline)
    except ModelError as e:
        vm.send(agent, ("$agent_model", ref, ("error", e.reason)))
        return
    vm.send(agent, ("$agent_model", ref, ("ok", reply)))


def on_model(agent, data, result):
    req = data["req"]
    call = req["model"]
    req["model"] = None
    forget(call["pid"])
    if result[0] == "error":
        reason = result[1]
        attempts = reason[2].get("attempts") or 1
        data["cursor"] += attempts
        if reason[1] in MAYBE_BILLED:
            charge(agent, data, req, call)
        else:
            settle(data, req, call, {"steps": 1, "model_calls": 1})
        trail.model_failed(agent, data, req, reason)
        return end(agent, data, ("error", reason, None))
    reply = result[1]
    data["cursor"] += reply.get("attempts", 1)
    usage = reply["usage"]
    spent = {"steps": 1, "model_calls": 1, "input_tokens": usage["input_tokens"],
             "output_tokens": usage["output_tokens"]}
    if reply.get("cost") is not None:
        spent["cost"] = reply["cost"]
    settle(data, req, call, spent)
    reply = agent.after_model_call(reply, context(data, req))
    calls = reply.get("tool_calls") or []
    message = {"role": "assistant", "content": reply.get("content")}
    if calls:
        message["tool_calls"] = [{"id": c["id"], "name": c["name"],
                                  "arguments_text": c.get("arguments_text") or
                                  json.dumps(c.get("arguments") or {})} for c in calls]
    data["messages"].append(message)
    trail.model_replied(agent, data, req, reply, message, calls)
    trail.state_changed(agent, data, req)
    if not calls:
        return end(agent, data, ("ok", reply.get("content") or "", None))
    return act(agent, data, calls)


# ----------------------------------------------------------------------
# acting


def act(agent, data, calls):
    req, opts = data["req"], data["opts"]
    req["calls"] = [c["id"] for c in calls]
    req["results"] = {}
    req["names"] = {c["id"]: c["name"] for c in calls}
    req["turn"] = {c["id"]: {"id": c["id"], "name": c["name"], "arguments": c["arguments"]}
                   for c in calls}
    cap = opts["max_tool_calls_per_turn"]
    for n, call in enumerate(calls):
        if n >= cap:
            req["results"][call["id"]] = error_result(
                f"not run: at most {cap} tool calls per turn; ask for fewer at a time")
            continue
        looped = loop_check(req, call, opts["loop_threshold"])
        if looped is not None:
            return end(agent, data, ("error", looped, None))
        spec = data["tools"].get(call["name"])
        if spec is None:
            known = ", ".join(data["tools"]) or "none"
            req["results"][call["id"]] = error_result(
                f"there is no tool named {call['name']!r}; tools: {known}")
            continue
        problem = _tools.validate_arguments(spec, call["arguments"])
        if problem is not None:
            req["results"][call["id"]] = error_result(problem)
            continue
        call = {"id": call["id"], "name": call["name"], "arguments": call["arguments"]}
        decided = agent.before_tool_call(call, context(data, req))
        if type(decided) is tuple and len(decided) == 2 and decided[0] == "result":
            req["results"][call["id"]] = {"ok": True, "text": str(decided[1])}
            continue
        if gate.needs(agent, data, req, decided):
            continue
        req["queue"].append(decided)
    trail.state_changed(agent, data, req)
    trail.turn(data, req)
    return run_queue(agent, data, gate.timers(data, req))


def loop_check(req, call, threshold):
    if threshold is None:
        return None
    args = call["arguments"]
    key = (call["name"], json.dumps(args, sort_keys=True) if type(args) is dict else repr(args))
    if key == req["last_key"]:
        req["repeats"] += 1
    else:
        req["last_key"], req["repeats"] = key, 1
    if req["repeats"] >= threshold:
        return ("loop_detected", {"tool": call["name"], "arguments": args,
                                  "times": req["repeats"]})
    return None


def run_queue(agent, data, actions):
    """Start queued calls up to the concurrency cap; think again when all are done."""
    req = data["req"]
    cap = data["opts"]["max_concurrent_tools"]
    while req["queue"] and len(req["running"]) < cap:
        call = req["queue"].pop(0)
        spec = data["tools"][call["name"]]
        held = reserve(agent, data, req, {"tool_calls": 1})
        if type(held) is tuple and held[0] == "refused":
            return end(agent, data, ("error", held[1], None), actions)
        ref = vm.make_ref()
        ctx = dict(context(data, req), call_id=call["id"], tool=call["name"],
                   journal=trail.journal_context(data))
        trail.tool_started(data, req, call)
        trail.flush(data)  # the call's process waits until its `started` entry is on disk
        enter(req)
        pid = vm.spawn_link(_tools.run_call, vm.self(), ref, spec, call["arguments"], ctx)
        req["running"][ref] = dict(held, pid=pid, call=call)
        if spec["timeout"] is not None:
            actions.append((("timeout", ("tool", ref)), spec["timeout"], None))
    if req["running"]:
        return ("next_state", "acting", data, actions)
    if req["awaiting"]:
        trail.maybe_snapshot(data, snapshot_view)
        return ("next_state", "awaiting_approval", data, actions + ["hibernate"])
    appended = [{"role": "tool", "tool_call_id": cid, "name": req["names"][cid],
                 "content": tool_message(req["results"][cid])} for cid in req["calls"]]
    data["messages"].extend(appended)
    trail.messages_appended(data, appended)
    trail.maybe_snapshot(data, snapshot_view)
    return ("next_state", "thinking", data, actions + [("next_event", "internal", "think")])


def on_tool(agent, data, ref, outcome):
    """A tool call ended: outcome ("ok", text) or ("error", text)."""
    req = data["req"]
    run = req["running"].pop(ref)
    forget(run["pid"])
    settle(data, req, run, {"tool_calls": 1})
    call = run["call"]
    result = {"ok": outcome[0] == "ok", "text": outcome[1]}
    return tool_done(agent, data, call, result, [(("timeout", ("tool", ref)), "cancel")])


def tool_done(agent, data, call, result, actions, ran=True):
    req = data["req"]
    result = agent.after_tool_result(call, result, context(data, req))
    req["results"][call["id"]] = result
    trail.tool_handled(agent, data, req, call, result, ran)
    trail.state_changed(agent, data, req)
    stream(data, req, {"tool_result": {"id": call["id"], "name": call["name"],
                                        "ok": result["ok"], "text": result["text"]}})
    return run_queue(agent, data, actions)


def error_result(text):
    return {"ok": False, "text": text}


def tool_message(result):
    return result["text"] if result["ok"] else f"error: {result['text']}"


# ----------------------------------------------------------------------
# ending a request


def deadline_reason(req, where):
    return ("deadline_exceeded", {"timeout": req["timeout"], "while": where,
                                  "step": req["step"]})


def end(agent, data, outcome, actions=()):
    """Finish the current request and go idle (served postponed asks follow)."""
    req = data["req"]
    reason = outcome[1] if outcome[0] == "error" else None
    finish(agent, data, outcome)
    actions = list(actions) + clear_timers(req)
    if reason is not None and type(reason) is tuple and reason[0] == "budget_exhausted" \
            and data["opts"]["on_budget_exhausted"] == "stop_agent":
        return ("stop", reason, data)
    return ("next_state", "idle", data, actions)


def finish(agent, data, outcome):
    req = data["req"]
    stop_work(agent, data, req)
    appended = []
    if outcome[0] == "error":
        # the conversation must stay valid: every tool call asked for gets an answer
        answered = {m.get("tool_call_id") for m in data["messages"] if m["role"] == "tool"}
        for cid in req["calls"]:
            if cid not in answered:
                appended.append({"role": "tool", "tool_call_id": cid,
                                 "name": req["names"][cid],
                                 "content": f"error: not run ({outcome[1][0]})"})
        data["messages"].extend(appended)
    gate.forget_all(data, req, outcome)
    outcome = (outcome[0], outcome[1], dict(req["usage"]))
    data["last_request"] = {"outcome": outcome[0], "usage": outcome[2],
                            "reason": outcome[1] if outcome[0] == "error" else None}
    trail.request_done(agent, data, req, outcome, appended)
    reply(data, req, outcome)
    data["req"] = None
    if req["amon"] is not None:
        vm.demonitor(req["amon"], flush=True)
    agent.on_request_done(outcome, context(data, req))
    trail.state_changed(agent, data, None)
    trail.maybe_snapshot(data, snapshot_view)


def reply(data, req, outcome):
    if req["asker"] is not None:
        if req["asker_token"] is not None or lowlevel.trace_token() is not None:
            lowlevel.set_trace_token(req["asker_token"])  # the asker's context goes back
        gen.reply(req["from"], outcome)


def clear_timers(req):
    out = [(("timeout", "deadline"), "cancel")]
    out += [(("timeout", ("tool", ref)), "cancel") for ref in req.get("timers_done", ())]
    out += [(("timeout", ("approval", aid)), "cancel") for aid in req.get("approvals_done", ())]
    return out


def stop_work(agent, data, req):
    """Kill the model call and every tool call, charging what they reserved."""
    call = req["model"]
    if call is not None:
        req["model"] = None
        kill(call["pid"])
        charge(agent, data, req, call)
    for run in req["running"].values():
        kill(run["pid"])
        charge(agent, data, req, run)
    req["timers_done"] = list(req["running"])
    req["running"] = {}
    req["queue"] = []


def kill(pid):
    """Stop a worker. Unlinked first, so its death sends us no EXIT."""
    vm.unlink(pid)
    vm.exit(pid, "kill")


def forget(pid):
    """A worker reported. Unlink it: an EXIT it already sent is ignored (the agent
    looks only at workers still running), so the mailbox is not scanned for it."""
    vm.unlink(pid)


# ----------------------------------------------------------------------
# books


def reserve(agent, data, req, amounts):
    """Reserve in the request's ledger and the agent's budget process.

    Returns {"rid", "brid", "amounts", "deadline"} or ("refused", reason)."""
    refused = _budget.try_reserve(req["ledger"], amounts, vm.monotonic())
    brid, deadline = None, None
    if refused is None and data["budget"] is not None:
        answer = _budget.reserve(data["budget"], amounts)
        if answer[0] != "ok":
            refused = answer[1]
        else:
            _, brid, deadline = answer
    if refused is not None:
        trail.budget_event(agent, data, req, "refused", refused[1])
        return ("refused", refused)
    rid = vm.make_ref()
    _budget.add_reservation(req["ledger"], rid, amounts)
    return {"rid": rid, "brid": brid, "amounts": amounts, "deadline": deadline}


def settle(data, req, held, spent):
    _budget.close_reservation(req["ledger"], held["rid"], spent)
    if held["brid"] is not None:
        _budget.settle(data["budget"], held["brid"], spent)
    add_usage(data, req, spent)


def charge(agent, data, req, held):
    """A call cut off: count what it reserved (it may have been billed)."""
    _budget.close_reservation(req["ledger"], held["rid"], held["amounts"])
    if held["brid"] is not None:
        _budget.charge(data["budget"], held["brid"])
    add_usage(data, req, held["amounts"])
    trail.budget_event(agent, data, req, "charged", held["amounts"])


def add_usage(data, req, spent):
    for k in USAGE_KEYS:
        v = spent.get(k)
        if v:
            req["usage"][k] += v
            data["usage"][k] += v


def zero_usage():
    return {k: 0 for k in USAGE_KEYS}


def usage_report(data):
    return {"total": dict(data["usage"]), "requests": data["requests"],
            "last_request": data["last_request"],
            "current_request": dict(data["req"]["usage"]) if data["req"] else None}


def snapshot_view(data):
    """What a journal snapshot holds (resume.py reads it back)."""
    from .resume import view_of

    return view_of(data)


# ----------------------------------------------------------------------
# small helpers


def context(data, req):
    return {"request_id": req["id"] if req is not None else None, "agent": vm.self(),
            "step": req["step"] if req is not None else None,
            "metadata": req["metadata"] if req is not None else None,
            "principal": req["principal"] if req is not None else None,
            "usage": req["usage"] if req is not None else None, "state": data["state"]}


def stream(data, req, delta):
    if req["stream_to"] is not None:
        vm.send(req["stream_to"], ("agent_delta", req["stream_tag"], delta))


def earliest(a, b):
    if a is None:
        return b
    return a if b is None else min(a, b)


def printable(reason):
    return reason if not isinstance(reason, vm.Crash) else \
        vm.Crash(reason.exc_type, reason.message, "")
