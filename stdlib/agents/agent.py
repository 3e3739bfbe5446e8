"""The agent behaviour: a process with a private conversation, on gen_statem.

What this module owns: the loop an agent runs for each request it is asked,
and everything that keeps that loop inside its limits.

    idle --ask--> thinking --(model answers)------------> idle: reply to the asker
                     ^    |
                     |    +--(model asks for tools)--> acting
                     +------(all tool results in)-------+

- **thinking**: one model call, in its own process linked to the agent (so
  the agent stays responsive: `otp_sys`, cancels, deadlines, and the
  observer see a live state machine). Before the call, the step is
  *reserved* in the request's limits and in the agent's budget process (the
  call's `max_tokens` and its price); a refusal ends the request with the
  reason. After it, the reservation is settled with the reported usage.
- **acting**: each tool call is a process linked to the agent (tools.py),
  at most `max_concurrent_tools` at a time (the rest queue, in order), with
  its tool's timeout; at most `max_tool_calls_per_turn` per model turn (the
  rest are answered with an error the model can read). The same tool with
  the same arguments `loop_threshold` times in a row ends the request.
- **done**: the asker gets `("ok", answer, usage)` or `("error", reason,
  usage)`; usage counts what the request spent, including a call that was
  cut off (charged at what it reserved). Asks that arrive meanwhile were
  postponed (gen_statem's `postpone`) and are served in order.

**Cancellation** is an exit signal, never a flag: the request's deadline,
`cancel(agent)`, or the asker dying make the agent kill the model call and
every tool process (their sockets close, their worker OS processes die);
killing the agent kills them through the links. Nothing is passed by hand.

**Failures.** A model error ends the request with `("model_error", kind,
detail)` (after the model layer's retries). A tool error goes back to the
model; a tool whose policy is "crash" stops the agent with `("tool_crashed",
name, crash)` for its supervisor to judge. A blown budget ends the request;
with `on_budget_exhausted="stop_agent"` it stops the agent, so a supervisor's
restart intensity stops a runaway that keeps hitting a shared budget.

**Hooks** (override in the subclass; all run in the agent process, and a
hook that raises crashes the agent, as any callback would):

    system_prompt(context) -> str
    before_model_call(request, context) -> request
    after_model_call(reply, context) -> reply
    before_tool_call(call, context) -> call | ("result", text)   (skip the call)
    after_tool_result(call, result, context) -> result   result: {"ok", "text"}
    on_request_done(outcome, context)   outcome: ("ok", answer, usage) | ("error", ...)

`context` is `{"request_id", "agent", "step", "metadata"}`; `metadata` is
what the asker passed with the request, and it also reaches the model call
(`request["metadata"]`) and every tool (`agents.current_request()`).

What it refuses: the client side (client.py), the model wire format
(model.py, openai.py), and the books (budget.py).
"""

from __future__ import annotations

import json

import vm

from .. import gen, gen_statem, proc_lib
from . import budget as _budget
from . import model as _model
from . import tools as _tools
from .errors import ModelError
from .options import check_keys, count

__all__ = ["Agent", "AGENT_OPTIONS", "check_agent_options"]

AGENT_OPTIONS = ("model", "budget", "limits", "instructions", "tools", "max_concurrent_tools",
                 "max_tool_calls_per_turn", "loop_threshold", "on_budget_exhausted",
                 "model_options")
_ON_EXHAUSTED = ("end_request", "stop_agent")
# Model errors after which the call may have been billed: charge what it reserved.
_MAYBE_BILLED = ("deadline", "connection", "stream_error")
_USAGE_KEYS = _budget.RESOURCES


class Agent(gen_statem.GenStatem):
    """Base class of an agent: subclass it, set what it is, start it like any behaviour.

        class Researcher(Agent):
            instructions = "You answer from the notes; cite them."
            tools = [search_notes]
            limits = {"steps": 8}

        pid = agents.start_link(Researcher, {"model": model, "budget": "team"})

    Class attributes are defaults; the start options (a dict) override them.
    """

    instructions = "You are a helpful assistant."
    tools: list = []
    model = None
    budget = None
    limits: dict = {"steps": 20}
    max_concurrent_tools = 4
    max_tool_calls_per_turn = 16
    loop_threshold = 3
    on_budget_exhausted = "end_request"
    model_options: dict = {}

    # ------------------------------------------------------------------ hooks

    def system_prompt(self, context) -> str:
        return self.instructions

    def before_model_call(self, request, context):
        return request

    def after_model_call(self, reply, context):
        return reply

    def before_tool_call(self, call, context):
        return call

    def after_tool_result(self, call, result, context):
        return result

    def on_request_done(self, outcome, context) -> None:
        return None

    # ------------------------------------------------------------------ gen_statem

    def callback_mode(self):
        return "handle_event_function"

    def init(self, options):
        opts = check_agent_options(type(self), options or {})
        vm.process_flag("trap_exit", True)  # tool and model processes report their deaths
        proc_lib.set_label(f"agent {type(self).__qualname__}")
        specs = [_tools.tool_spec(t) for t in opts["tools"]]
        gen._instrument_callbacks([s["fn"] for s in specs])
        names = [s["name"] for s in specs]
        if len(set(names)) != len(names):
            raise vm.BadArg(f"two tools share a name: {names}")
        model = opts["model"]
        budget = opts["budget"]
        if type(budget) is dict:
            limits = dict(budget)
            parent = limits.pop("parent", None)
            budget = _budget.start_link(limits, parent=parent,
                                        label=f"{type(self).__qualname__} budget")
        data = {
            "opts": {k: opts[k] for k in ("limits", "max_concurrent_tools",
                                          "max_tool_calls_per_turn", "loop_threshold",
                                          "on_budget_exhausted", "model_options")},
            "model": model, "budget": budget,
            "tools": {s["name"]: s for s in specs},
            "schemas": [{"name": s["name"], "description": s["description"],
                         "parameters": s["parameters"]} for s in specs],
            "messages": [], "cursor": 0, "usage": _zero_usage(), "requests": 0,
            "last_request": None, "req": None,
        }
        return ("ok", "idle", data)

    def handle_event(self, etype, content, state, data):
        if type(etype) is tuple and etype[0] == "call":
            return _on_call(self, etype[1], content, state, data)
        if etype == "internal" and content == "think":
            return _think(self, data)
        if etype == "info":
            return _on_info(self, content, state, data)
        if type(etype) is tuple and etype[0] == "timeout":
            return _on_timeout(self, etype[1], data)
        return "keep_state_and_data"

    def format_status(self, status):
        """Reports and `otp_sys.get_status` show a summary, not every tool schema."""
        data = status.get("data")
        if type(data) is dict and "opts" in data:
            req = data["req"]
            status = dict(status, data={
                "model": f"{data['model']['provider']}:{data['model'].get('name')}",
                "budget": data["budget"], "tools": list(data["tools"]),
                "messages": len(data["messages"]), "requests": data["requests"],
                "usage": data["usage"],
                "request": None if req is None else {
                    "step": req["step"], "usage": req["usage"],
                    "model_call": req["model"] is not None,
                    "tools_running": [r["call"]["name"] for r in req["running"].values()],
                    "tools_queued": len(req["queue"])}})
        return status

    def terminate(self, reason, state, data):
        req = data.get("req") if type(data) is dict else None
        if req is not None:
            _stop_work(data, req)
            _reply(data, req, ("error", ("agent_stopped", {"reason": _printable(reason)}),
                               req["usage"]))


def check_agent_options(cls, options) -> dict:
    """The agent's options: class defaults overridden by `options`; unknown keys refused."""
    given = check_keys(f"{cls.__qualname__} options", options, AGENT_OPTIONS)
    opts = {k: given.get(k, getattr(cls, k)) for k in AGENT_OPTIONS}
    opts["limits"] = _budget.check_limits("limits", opts["limits"] or {})
    count("max_concurrent_tools", opts["max_concurrent_tools"], minimum=1, allow_none=False)
    count("max_tool_calls_per_turn", opts["max_tool_calls_per_turn"], minimum=1,
          allow_none=False)
    count("loop_threshold", opts["loop_threshold"], minimum=2)
    if opts["on_budget_exhausted"] not in _ON_EXHAUSTED:
        raise vm.BadArg(f"on_budget_exhausted must be one of {_ON_EXHAUSTED}")
    check_keys("model_options", opts["model_options"], _model._OPTION_KEYS)
    if not isinstance(opts["tools"], (list, tuple)):
        raise vm.BadArg("tools must be a list of functions")
    opts["tools"] = list(opts["tools"])
    b = opts["budget"]
    if b is not None and not isinstance(b, (vm.Pid, str)):
        if type(b) is not dict:
            raise vm.BadArg(f"budget must be a budget process (pid or name) or a dict of "
                            f"limits, not {b!r}")
        parent = b.get("parent")
        _budget.check_limits("budget", {k: v for k, v in b.items() if k != "parent"})
        if parent is not None and not isinstance(parent, (vm.Pid, str)):
            raise vm.BadArg(f"budget['parent'] must be a budget pid or name, not {parent!r}")
    if not isinstance(opts["instructions"], str):
        raise vm.BadArg("instructions must be a str (the system prompt)")
    if opts["model"] is None:
        opts["model"] = _model.default_model()
    _model.check_model(opts["model"])
    if opts["limits"].get("cost") is not None and not opts["model"].get("price"):
        raise vm.BadArg("a cost limit needs the model's prices (price={'input': ..., "
                        "'output': ...} per million tokens)")
    return opts


# ----------------------------------------------------------------------
# calls to the agent


def _on_call(agent, from_, request, state, data):
    tag = request[0] if type(request) is tuple else request
    if tag == "usage":
        return ("keep_state_and_data", [("reply", from_, _usage_report(data))])
    if tag == "history":
        return ("keep_state_and_data", [("reply", from_, list(data["messages"]))])
    if tag == "cancel":
        req = data["req"]
        if req is None:
            return ("keep_state_and_data", [("reply", from_, "idle")])
        _finish(agent, data, ("error", ("cancelled", request[1]), None))
        return ("next_state", "idle", data, [("reply", from_, "ok")] + _clear_timers(req))
    if state != "idle":
        return ("keep_state_and_data", ["postpone"])
    if tag == "reset":
        data["messages"] = []
        data["cursor"] = 0
        return ("keep_state_and_data", [("reply", from_, "ok")])
    if tag == "ask":
        return _start_request(agent, from_, request[1], request[2], data)
    return ("keep_state_and_data", [("reply", from_, ("error", ("bad_request", repr(request)),
                                                        _zero_usage()))])


def _start_request(agent, from_, prompt, ask, data):
    now = vm.monotonic()
    limits = dict(data["opts"]["limits"], **ask["limits"])
    ledger = _budget.new_ledger("request", limits, now)
    deadline = ask["deadline"]
    if ledger["deadline_at"] is not None:
        deadline = ledger["deadline_at"] if deadline is None else min(deadline,
                                                                      ledger["deadline_at"])
    data["requests"] += 1
    req = {"id": from_[1], "from": from_, "asker": from_[0], "amon": vm.monitor(from_[0]),
           "deadline": deadline, "timeout": ask["timeout"], "ledger": ledger,
           "stream_to": ask["stream_to"], "stream_tag": ask["stream_tag"],
           "metadata": ask["metadata"], "step": 0, "usage": _zero_usage(), "model": None,
           "running": {}, "queue": [], "calls": [], "results": {}, "last_key": None,
           "repeats": 0}
    data["req"] = req
    data["messages"].append({"role": "user", "content": prompt})
    if deadline is not None and deadline <= now:
        _finish(agent, data, ("error", _deadline_reason(req, "queued"), None))
        return ("keep_state", data)
    actions = [("next_event", "internal", "think")]
    if deadline is not None:
        actions.append((("timeout", "deadline"), deadline, None, {"abs": True}))
    return ("next_state", "thinking", data, actions)


# ----------------------------------------------------------------------
# thinking


def _think(agent, data):
    req = data["req"]
    if req is None:
        return "keep_state_and_data"
    req["step"] += 1
    ctx = _context(data, req)
    system = agent.system_prompt(ctx)
    request = {"messages": ([{"role": "system", "content": system}] if system else [])
               + list(data["messages"]),
               "tools": list(data["schemas"]), "options": dict(data["opts"]["model_options"]),
               "metadata": req["metadata"], "cursor": data["cursor"]}
    request = agent.before_model_call(request, ctx)
    _model.check_request(request)
    model = data["model"]
    est_in = _model.estimate_input_tokens(request)
    max_out = _model.max_tokens_of(model, request)
    amounts = {"steps": 1, "model_calls": 1, "input_tokens": est_in, "output_tokens": max_out}
    price = _model.cost_of(model, {"input_tokens": est_in, "output_tokens": max_out})
    if price is not None:
        amounts["cost"] = price
    held = _reserve(data, req, amounts)
    if type(held) is tuple and held[0] == "refused":
        return _end(agent, data, ("error", held[1], None))
    call_deadline = _earliest(req["deadline"], held["deadline"])
    ref = vm.make_ref()
    stream_to = vm.self() if req["stream_to"] is not None else None
    pid = vm.spawn_link(_model_call, vm.self(), ref, model, request, stream_to, call_deadline)
    req["model"] = dict(held, pid=pid, ref=ref)
    return ("next_state", "thinking", data)


def _model_call(agent, ref, model, request, stream_to, deadline):
    """The body of a model call's process."""
    vm.process_flag("label", "agent model call")
    try:
        reply = _model.complete(model, request, stream_to=stream_to, tag=ref, deadline=deadline)
    except ModelError as e:
        vm.send(agent, ("$agent_model", ref, ("error", e.reason)))
        return
    vm.send(agent, ("$agent_model", ref, ("ok", reply)))


def _on_model(agent, data, result):
    req = data["req"]
    call = req["model"]
    req["model"] = None
    _forget(call["pid"])
    if result[0] == "error":
        reason = result[1]
        attempts = reason[2].get("attempts") or 1
        data["cursor"] += attempts
        if reason[1] in _MAYBE_BILLED:
            _charge(data, req, call)
        else:
            _settle(data, req, call, {"steps": 1, "model_calls": 1})
        return _end(agent, data, ("error", reason, None))
    reply = result[1]
    data["cursor"] += reply.get("attempts", 1)
    usage = reply["usage"]
    spent = {"steps": 1, "model_calls": 1, "input_tokens": usage["input_tokens"],
             "output_tokens": usage["output_tokens"]}
    if reply.get("cost") is not None:
        spent["cost"] = reply["cost"]
    _settle(data, req, call, spent)
    reply = agent.after_model_call(reply, _context(data, req))
    calls = reply.get("tool_calls") or []
    message = {"role": "assistant", "content": reply.get("content")}
    if calls:
        message["tool_calls"] = [{"id": c["id"], "name": c["name"],
                                  "arguments_text": c.get("arguments_text") or
                                  json.dumps(c.get("arguments") or {})} for c in calls]
    data["messages"].append(message)
    if not calls:
        return _end(agent, data, ("ok", reply.get("content") or "", None))
    return _act(agent, data, calls)


# ----------------------------------------------------------------------
# acting


def _act(agent, data, calls):
    req, opts = data["req"], data["opts"]
    req["calls"] = [c["id"] for c in calls]
    req["results"] = {}
    req["names"] = {c["id"]: c["name"] for c in calls}
    cap = opts["max_tool_calls_per_turn"]
    for n, call in enumerate(calls):
        if n >= cap:
            req["results"][call["id"]] = _error_result(
                f"not run: at most {cap} tool calls per turn; ask for fewer at a time")
            continue
        looped = _loop_check(req, call, opts["loop_threshold"])
        if looped is not None:
            return _end(agent, data, ("error", looped, None))
        spec = data["tools"].get(call["name"])
        if spec is None:
            known = ", ".join(data["tools"]) or "none"
            req["results"][call["id"]] = _error_result(
                f"there is no tool named {call['name']!r}; tools: {known}")
            continue
        problem = _tools.validate_arguments(spec, call["arguments"])
        if problem is not None:
            req["results"][call["id"]] = _error_result(problem)
            continue
        call = {"id": call["id"], "name": call["name"], "arguments": call["arguments"]}
        decided = agent.before_tool_call(call, _context(data, req))
        if type(decided) is tuple and len(decided) == 2 and decided[0] == "result":
            req["results"][call["id"]] = {"ok": True, "text": str(decided[1])}
            continue
        req["queue"].append(decided)
    return _run_queue(agent, data, [])


def _loop_check(req, call, threshold):
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


def _run_queue(agent, data, actions):
    """Start queued calls up to the concurrency cap; think again when all are done."""
    req = data["req"]
    cap = data["opts"]["max_concurrent_tools"]
    while req["queue"] and len(req["running"]) < cap:
        call = req["queue"].pop(0)
        spec = data["tools"][call["name"]]
        held = _reserve(data, req, {"tool_calls": 1})
        if type(held) is tuple and held[0] == "refused":
            return _end(agent, data, ("error", held[1], None), actions)
        ref = vm.make_ref()
        ctx = dict(_context(data, req), call_id=call["id"], tool=call["name"])
        pid = vm.spawn_link(_tools.run_call, vm.self(), ref, spec, call["arguments"], ctx)
        req["running"][ref] = dict(held, pid=pid, call=call)
        if spec["timeout"] is not None:
            actions.append((("timeout", ("tool", ref)), spec["timeout"], None))
    if req["running"]:
        return ("next_state", "acting", data, actions)
    for cid in req["calls"]:
        data["messages"].append({"role": "tool", "tool_call_id": cid, "name": req["names"][cid],
                                 "content": _tool_message(req["results"][cid])})
    return ("next_state", "thinking", data, actions + [("next_event", "internal", "think")])


def _on_tool(agent, data, ref, outcome):
    """A tool call ended: outcome ("ok", text) or ("error", text)."""
    req = data["req"]
    run = req["running"].pop(ref)
    _forget(run["pid"])
    _settle(data, req, run, {"tool_calls": 1})
    call = run["call"]
    result = {"ok": outcome[0] == "ok", "text": outcome[1]}
    result = agent.after_tool_result(call, result, _context(data, req))
    req["results"][call["id"]] = result
    _stream(data, req, {"tool_result": {"id": call["id"], "name": call["name"],
                                        "ok": result["ok"], "text": result["text"]}})
    return _run_queue(agent, data, [(("timeout", ("tool", ref)), "cancel")])


def _error_result(text):
    return {"ok": False, "text": text}


def _tool_message(result):
    return result["text"] if result["ok"] else f"error: {result['text']}"


# ----------------------------------------------------------------------
# messages and timeouts


def _on_info(agent, msg, state, data):
    req = data["req"]
    if type(msg) is not tuple or not msg:
        return "keep_state_and_data"
    tag = msg[0]
    if tag == "$agent_model" and req is not None and req["model"] is not None \
            and req["model"]["ref"] == msg[1]:
        return _on_model(agent, data, msg[2])
    if tag == "$agent_tool" and req is not None and msg[1] in req["running"]:
        return _on_tool(agent, data, msg[1], msg[2])
    if tag == "model_delta" and req is not None and req["model"] is not None \
            and req["model"]["ref"] == msg[1]:
        _stream(data, req, msg[2])
        return "keep_state_and_data"
    if tag == "EXIT":
        return _on_exit(agent, data, msg[1], msg[2])
    if tag == "DOWN" and req is not None and msg[1] == req["amon"]:
        req["asker"] = None  # nobody to answer: stop the work
        return _end(agent, data, ("error", ("cancelled", "the asker exited"), None))
    return "keep_state_and_data"


def _on_exit(agent, data, pid, reason):
    req = data["req"]
    if req is None or reason == "normal":
        return "keep_state_and_data"  # a worker that already reported
    if req["model"] is not None and req["model"]["pid"] == pid:
        call = req["model"]
        req["model"] = None
        _charge(data, req, call)
        data["cursor"] += 1
        return _end(agent, data, ("error", ("model_error", "connection", {
            "message": f"the model call's process exited: {_printable(reason)}",
            "retryable": False}), None))
    for ref, run in req["running"].items():
        if run["pid"] == pid:
            if type(reason) is tuple and len(reason) == 3 and reason[0] == "tool_crashed":
                req["running"].pop(ref)
                _charge(data, req, run)
                _finish(agent, data, ("error", reason, None))
                return ("stop", reason, data)
            return _on_tool(agent, data, ref, ("error", f"the tool's process exited: "
                                                        f"{_printable(reason)}"))
    return "keep_state_and_data"


def _on_timeout(agent, name, data):
    req = data["req"]
    if req is None:
        return "keep_state_and_data"
    if name == "deadline":
        state = "acting" if req["running"] else "thinking"
        return _end(agent, data, ("error", _deadline_reason(req, state), None))
    if type(name) is tuple and name[0] == "tool" and name[1] in req["running"]:
        run = req["running"][name[1]]
        _kill(run["pid"])
        spec = data["tools"][run["call"]["name"]]
        return _on_tool(agent, data, name[1], ("error", f"{run['call']['name']} did not finish "
                                                        f"within {spec['timeout']} s and was "
                                                        "stopped"))
    return "keep_state_and_data"


def _deadline_reason(req, where):
    return ("deadline_exceeded", {"timeout": req["timeout"], "while": where,
                                  "step": req["step"]})


# ----------------------------------------------------------------------
# ending a request


def _end(agent, data, outcome, actions=()):
    """Finish the current request and go idle (served postponed asks follow)."""
    req = data["req"]
    reason = outcome[1] if outcome[0] == "error" else None
    _finish(agent, data, outcome)
    actions = list(actions) + _clear_timers(req)
    if reason is not None and type(reason) is tuple and reason[0] == "budget_exhausted" \
            and data["opts"]["on_budget_exhausted"] == "stop_agent":
        return ("stop", reason, data)
    return ("next_state", "idle", data, actions)


def _finish(agent, data, outcome):
    req = data["req"]
    _stop_work(data, req)
    if outcome[0] == "error":
        # the conversation must stay valid: every tool call asked for gets an answer
        answered = {m.get("tool_call_id") for m in data["messages"] if m["role"] == "tool"}
        for cid in req["calls"]:
            if cid not in answered:
                data["messages"].append({"role": "tool", "tool_call_id": cid,
                                         "name": req["names"][cid],
                                         "content": f"error: not run ({outcome[1][0]})"})
    outcome = (outcome[0], outcome[1], dict(req["usage"]))
    _reply(data, req, outcome)
    data["last_request"] = {"outcome": outcome[0], "usage": outcome[2],
                            "reason": outcome[1] if outcome[0] == "error" else None}
    data["req"] = None
    vm.demonitor(req["amon"], flush=True)
    agent.on_request_done(outcome, _context(data, req))


def _reply(data, req, outcome):
    if req["asker"] is not None:
        gen.reply(req["from"], outcome)


def _clear_timers(req):
    out = [(("timeout", "deadline"), "cancel")]
    out += [(("timeout", ("tool", ref)), "cancel") for ref in req.get("timers_done", ())]
    return out


def _stop_work(data, req):
    """Kill the model call and every tool call, charging what they reserved."""
    call = req["model"]
    if call is not None:
        req["model"] = None
        _kill(call["pid"])
        _charge(data, req, call)
    for run in req["running"].values():
        _kill(run["pid"])
        _charge(data, req, run)
    req["timers_done"] = list(req["running"])
    req["running"] = {}
    req["queue"] = []


def _kill(pid):
    """Stop a worker. Unlinked first, so its death sends us no EXIT."""
    vm.unlink(pid)
    vm.exit(pid, "kill")


def _forget(pid):
    """A worker reported. Unlink it: an EXIT it already sent is ignored (_on_exit
    looks only at workers still running), so the mailbox is not scanned for it."""
    vm.unlink(pid)


# ----------------------------------------------------------------------
# books


def _reserve(data, req, amounts):
    """Reserve in the request's ledger and the agent's budget process.

    Returns {"rid", "brid", "amounts", "deadline"} or ("refused", reason)."""
    refused = _budget.try_reserve(req["ledger"], amounts, vm.monotonic())
    if refused is not None:
        return ("refused", refused)
    brid, deadline = None, None
    if data["budget"] is not None:
        answer = _budget.reserve(data["budget"], amounts)
        if answer[0] != "ok":
            return ("refused", answer[1])
        _, brid, deadline = answer
    rid = vm.make_ref()
    _budget.add_reservation(req["ledger"], rid, amounts)
    return {"rid": rid, "brid": brid, "amounts": amounts, "deadline": deadline}


def _settle(data, req, held, spent):
    _budget.close_reservation(req["ledger"], held["rid"], spent)
    if held["brid"] is not None:
        _budget.settle(data["budget"], held["brid"], spent)
    _add_usage(data, req, spent)


def _charge(data, req, held):
    """A call cut off: count what it reserved (it may have been billed)."""
    _budget.close_reservation(req["ledger"], held["rid"], held["amounts"])
    if held["brid"] is not None:
        _budget.charge(data["budget"], held["brid"])
    _add_usage(data, req, held["amounts"])


def _add_usage(data, req, spent):
    for k in _USAGE_KEYS:
        v = spent.get(k)
        if v:
            req["usage"][k] += v
            data["usage"][k] += v


def _zero_usage():
    return {k: 0 for k in _USAGE_KEYS}


def _usage_report(data):
    return {"total": dict(data["usage"]), "requests": data["requests"],
            "last_request": data["last_request"],
            "current_request": dict(data["req"]["usage"]) if data["req"] else None}


# ----------------------------------------------------------------------
# small helpers


def _context(data, req):
    return {"request_id": req["id"], "agent": vm.self(), "step": req["step"],
            "metadata": req["metadata"]}


def _stream(data, req, delta):
    if req["stream_to"] is not None:
        vm.send(req["stream_to"], ("agent_delta", req["stream_tag"], delta))


def _earliest(a, b):
    if a is None:
        return b
    return a if b is None else min(a, b)


def _printable(reason):
    return reason if not isinstance(reason, vm.Crash) else \
        vm.Crash(reason.exc_type, reason.message, "")

