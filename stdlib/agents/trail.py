"""What an agent's work leaves behind: its request span, audit records, journal entries.

What this module owns: one call per thing that happens in the loop
(loop.py calls `request_started`, `model_replied`, `tool_handled`, ...),
turned into whatever this agent was asked to keep:

- a **span** for the request (`invoke_agent {name}`) while tracing is on
  (the model call and tool spans are made in their own processes, by
  model.py and tools.py);
- **audit records** (audit.py) when the agent has `audit` on, each with the
  request's principal and trace context, passed through the agent's
  `redact_record(kind, data)` hook;
- **journal entries** (journal.py) when the agent is `durable`.

Everything goes to the store as messages (store.py), so nothing here
waits for the disk; with none of the three on, each call returns at its
first test.

What it refuses: the loop's decisions (loop.py) and the formats (audit.py,
journal.py, spans.py).
"""

from __future__ import annotations

import copy
import weakref

import vm
from vm.lowlevel import current_node

from . import audit as _audit
from . import spans as _spans
from . import store as _store
from . import tracecontext as _tc
from . import tracing as _tracing
from .journal import Journal, check_durable, encode
from .options import switch

__all__ = ["check_audit", "setup"]

AUDIT_OPTIONS = ("content",)
RESULT_CUT = 4000  # characters of a tool result kept in an audit record
_HOLDERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # node -> {key: pid}


def check_audit(value) -> dict | None:
    opts = switch("audit", value, AUDIT_OPTIONS)
    if opts is None:
        return None
    content = opts.get("content", False)
    if not isinstance(content, bool):
        raise vm.BadArg(f"audit['content'] must be True or False, not {content!r}")
    return {"content": content}


def setup(agent, data, opts, name):
    """Fill data["trail"] (None when there is nothing to keep); returns the durable
    view to resume from, or None."""
    cls = type(agent).__qualname__
    audit = check_audit(opts["audit"])
    durable = check_durable(opts["durable"], name)
    path = _store.resolve(opts["store"])
    data["store"] = path
    data["name"] = name or cls
    if audit is None and durable is None:
        data["trail"] = None
        return None
    pid = _store.ensure(path)
    # writes go to the store's registered name: a store restarted by its supervisor
    # is found again, and a store that is gone makes the agent crash, not lose records
    name_of_store = _store.PREFIX + path
    trail = {"pid": name_of_store, "audit": audit, "journal": None, "shadow": {}}
    data["trail"] = trail
    view = None
    if durable is not None:
        _hold(durable["key"])
        trail["journal"] = Journal(name_of_store, durable)
        from .journal import load

        view, trail["journal"].saved = load(pid, durable["key"])
    restart = False
    if audit is not None and (name is not None or durable is not None):
        # an agent with an identity: did its last incarnation end without a record?
        last = _store.read(pid, _audit.last_lifecycle, data["name"])
        if last is not None and last[0] == "start":
            record(data, None, "crash", {"reason": "ended without a stop record (killed, or "
                                                   "its program died)", "pid": last[1]})
        restart = last is not None
    record(data, None, "start", {"class": cls, "resumed": view is not None,
                                 "restart": restart})
    return view


def _hold(key):
    """One live agent per journal key on a node (two would interleave one journal)."""
    holders = _HOLDERS.setdefault(current_node(), {})
    holder = holders.get(key)
    if holder is not None and holder != vm.self() and vm.is_process_alive(holder):
        raise vm.BadArg(f"another agent ({holder!r}) holds the durable key {key!r}; two "
                        "agents must not share a journal")
    holders[key] = vm.self()


# ----------------------------------------------------------------------
# the pieces


def record(data, req, kind, payload, agent=None):
    """An audit record for this agent (and its current request), if it audits."""
    trail = data["trail"]
    if trail is None or trail["audit"] is None:
        return
    if agent is not None:
        payload = agent.redact_record(kind, payload)
        if payload is None:
            return
    trace = None
    principal = request_id = None
    if req is not None:
        trace = req["trace"]
        principal = req["principal"]
        request_id = req["id"]
    rec = _audit.new_record(kind, payload, agent=data["name"], pid=vm.self(), trace=trace,
                            principal=principal, request_id=request_id)
    _store.write(trail["pid"], _audit.append, [rec])


def note(data, kind, body):
    """A journal entry, if the agent is durable."""
    trail = data["trail"]
    if trail is not None and trail["journal"] is not None:
        trail["journal"].add(kind, body)


def flush(data):
    """The end of an event (or a tool call about to start): send its journal entries."""
    trail = data.get("trail") if type(data) is dict else None
    if trail is not None and trail["journal"] is not None:
        trail["journal"].flush()


def durable(data) -> bool:
    trail = data["trail"]
    return trail is not None and trail["journal"] is not None


def journal_context(data):
    trail = data["trail"]
    return trail["journal"].context() if trail is not None and trail["journal"] else None


def request_started(agent, data, req, prompt, resumed=False):
    if _tracing.collector() is not None:
        parent = req["trace_parent"]
        attrs = _spans.agent_attributes(data["name"], _agent_id(data), _conversation(data),
                                        data["model"], req["id"], req["principal"],
                                        req["asker"])
        attrs["beamlet.agent.class"] = type(agent).__qualname__
        if resumed:
            attrs["beamlet.resumed"] = True
        req["span"] = _tc.start_span(f"invoke_agent {data['name']}", attrs, parent=parent)
        req["trace"] = (req["span"]["trace_id"], req["span"]["span_id"])
    if data["trail"] is None:
        return
    payload = {"metadata": req["metadata"], "limits": req["limits"], "resumed": resumed}
    if data["trail"]["audit"] and data["trail"]["audit"]["content"]:
        payload["prompt"] = prompt
    record(data, req, "request", payload, agent)
    if not resumed:
        note(data, "request", {"id": req["id"], "prompt": prompt, "principal": req["principal"],
                               "metadata": req["metadata"], "timeout": req["timeout"],
                               "limits": req["limits"],
                               "trace": list(req["trace_parent"]) if req["trace_parent"]
                               else None})


def model_replied(agent, data, req, reply, message, calls):
    if data["trail"] is None:
        return
    usage = reply.get("usage") or {}
    payload = {"model": str(data["model"].get("name")), "provider": data["model"]["provider"],
               "step": req["step"], "input_tokens": usage.get("input_tokens", 0),
               "output_tokens": usage.get("output_tokens", 0), "cost": reply.get("cost"),
               "finish_reason": reply.get("finish_reason"), "response_id": reply.get("id"),
               "tool_calls": [c["name"] for c in calls]}
    if data["trail"]["audit"] and data["trail"]["audit"]["content"]:
        payload["content"] = reply.get("content")
    record(data, req, "model_call", payload, agent)
    note(data, "model", {"message": message, "cursor": data["cursor"], "usage": data["usage"],
                         "req_usage": req["usage"], "step": req["step"],
                         "calls": [{"id": c["id"], "name": c["name"],
                                    "arguments": c.get("arguments")} for c in calls]})


def model_failed(agent, data, req, reason):
    if data["trail"] is None:
        return
    record(data, req, "model_call", {"model": str(data["model"].get("name")),
                                     "step": req["step"], "error": reason[1],
                                     "detail": reason[2]}, agent)
    note(data, "cursor", {"cursor": data["cursor"], "usage": data["usage"],
                          "req_usage": req["usage"]})


def turn(data, req):
    note(data, "turn", {"results": {cid: req["results"][cid] for cid in req["calls"]
                                    if cid in req["results"]},
                        "queued": [c["id"] for c in req["queue"]],
                        "awaiting": {aid: w["call"]["id"] for aid, w in req["awaiting"].items()},
                        "last_key": list(req["last_key"]) if req["last_key"] else None,
                        "repeats": req["repeats"]})


def tool_started(data, req, call):
    note(data, "started", {"call_id": call["id"]})


def tool_handled(agent, data, req, call, result, running=True):
    if data["trail"] is None:
        return
    text = result["text"]
    record(data, req, "tool_call", {
        "tool": call["name"], "call_id": call["id"], "arguments": call.get("arguments"),
        "ok": result["ok"],
        "result": text if len(text) <= RESULT_CUT else text[:RESULT_CUT] + "...",
        "ran": running}, agent)
    note(data, "handled", {"call_id": call["id"], "result": result, "usage": data["usage"],
                           "req_usage": req["usage"]})


def messages_appended(data, messages):
    note(data, "msgs", {"messages": messages})


def state_changed(agent, data, req):
    """Diff the agent's state against what was last recorded: field-level changes."""
    trail = data["trail"]
    if trail is None:
        return
    state, shadow = data["state"], trail["shadow"]
    if state == shadow:
        return
    changes, sets, dels = {}, {}, []
    for k, v in state.items():
        if k not in shadow or shadow[k] != v:
            changes[k] = {"old": shadow.get(k), "new": v}
            sets[k] = v
    for k in shadow:
        if k not in state:
            changes[k] = {"old": shadow[k], "new": None, "deleted": True}
            dels.append(k)
    if durable(data):
        try:
            encode(state)
        except (TypeError, ValueError) as e:
            raise vm.BadArg(f"a durable agent's state must be made of terms: {e}") from None
    trail["shadow"] = copy.deepcopy(state)
    record(data, req, "state", {"changes": changes}, agent)
    note(data, "state", {"set": sets, "del": dels})


def budget_event(agent, data, req, event, detail):
    record(data, req, "budget", {"event": event, "detail": detail}, agent)


def approval_event(agent, data, req, event, aid, call, extra=None):
    payload = {"event": event, "approval_id": aid, "tool": call["name"],
               "call_id": call["id"], "arguments": call.get("arguments")}
    if extra:
        payload.update(extra)
    record(data, req, "approval", payload, agent)
    note(data, "approval", {"event": event, "id": aid, "call_id": call["id"]})


def request_done(agent, data, req, outcome, appended):
    span = req.get("span")
    if span is not None:
        req["span"] = None
        error = None
        if outcome[0] == "error":
            reason = outcome[1]
            error = str(reason[0]) if type(reason) is tuple and reason else str(reason)
        _tc.end_span(span, error=error, attributes=_spans.agent_end_attributes(
            req["usage"], outcome[0], outcome[1], _tracing.capture_content()))
    if data["trail"] is None:
        return
    payload = {"outcome": outcome[0], "usage": outcome[2], "steps": req["step"]}
    if outcome[0] == "error":
        payload["reason"] = outcome[1]
    elif data["trail"]["audit"] and data["trail"]["audit"]["content"]:
        payload["answer"] = outcome[1]
    record(data, req, "request_done", payload, agent)
    journal = data["trail"]["journal"]
    if journal is not None:
        journal.add("done", {"id": req["id"], "outcome": outcome, "usage": data["usage"],
                             "last_request": data["last_request"], "messages": appended,
                             "keep": journal.opts["keep_outcomes"]})
        data["outcomes"][req["id"]] = outcome
        while len(data["outcomes"]) > journal.opts["keep_outcomes"]:
            del data["outcomes"][next(iter(data["outcomes"]))]


def maybe_snapshot(data, view_fn):
    """A snapshot when enough entries piled up and no tool call runs."""
    trail = data["trail"]
    if trail is None or trail["journal"] is None or not trail["journal"].due():
        return
    req = data["req"]
    if req is not None and req["running"]:
        return
    trail["journal"].snapshot(view_fn(data))


def stopped(data, reason):
    kind = "stop" if reason in ("normal", "shutdown") or (
        type(reason) is tuple and reason and reason[0] == "shutdown") else "crash"
    record(data, data.get("req"), kind, {"reason": reason})


def _agent_id(data):
    trail = data["trail"]
    if trail is not None and trail["journal"] is not None:
        return trail["journal"].key
    return repr(vm.self())


def _conversation(data):
    return _agent_id(data)
