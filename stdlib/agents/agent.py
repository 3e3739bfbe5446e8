"""The agent behaviour: a process with a private conversation, on gen_statem.

What this module owns: the behaviour's shape (the callback base class, its
options and hooks, the states) and the decoding of every event into the
step of the request's work it starts (loop.py does that work).

    idle --ask--> thinking --(model answers)------------> idle: reply to the asker
                     ^    |
                     |    +--(model asks for tools)--> acting <--(approved)--+
                     +------(all tool results in)-------+                    |
                                                        +--(only approvals   |
                                                            left)--> awaiting_approval

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
    needs_approval(call, context) -> None | why          (default: the tool's `approval`)
    redact_record(kind, data) -> data | None             (an audit record, before it is kept)

`context` is `{"request_id", "agent", "step", "metadata", "principal",
"usage", "state"}`; `metadata` is what the asker passed with the request,
and it also reaches the model call (`request["metadata"]`) and every tool
(`agents.current_request()`). `state` is the agent's own state, a dict of
terms the hooks may change: a durable agent journals each change, an
auditing one records it, as field-level diffs.

**What it keeps** (trail.py): with tracing on, a span per request; with
`audit`, a record of every action in the store's trail (audit.py); with
`durable`, a journal it resumes from after a restart (journal.py,
resume.py); calls that need approval wait (gate.py, desk.py).

What it refuses: the request's work itself (loop.py), the client side
(client.py), the model wire format (model.py, openai.py), and the books
(budget.py).
"""

from __future__ import annotations

import copy

import vm
from vm import lowlevel

from .. import gen, gen_statem, proc_lib
from . import budget as _budget
from . import gate, loop, trail
from . import model as _model
from . import tools as _tools
from .options import check_keys, count, seconds
from .redact import redact_all

__all__ = ["Agent", "AGENT_OPTIONS", "check_agent_options"]

AGENT_OPTIONS = ("model", "budget", "limits", "instructions", "tools", "max_concurrent_tools",
                 "max_tool_calls_per_turn", "loop_threshold", "on_budget_exhausted",
                 "model_options", "store", "audit", "durable", "state", "approval_timeout",
                 "on_approval_timeout", "escalate_to")
_ON_EXHAUSTED = ("end_request", "stop_agent")
_ON_APPROVAL_TIMEOUT = ("escalate", "refuse")
MARK = "$agent"  # in an agent's dictionary: its class name (the observer finds agents by it)


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
    store = None                 # path of the store (default $BEAMLET_STORE, else beamlet.db)
    audit = False                # True, or {"content": True} to keep message contents too
    durable = None               # True, or {"key", "snapshot_every", "keep_snapshots", ...}
    state: dict = {}             # the agent's own state at start (hooks change it)
    approval_timeout = 3600.0    # seconds before an approval escalates (None: never)
    on_approval_timeout = "escalate"
    escalate_to = None           # a pid or name; default: the supervisor's "escalation" child

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

    def needs_approval(self, call, context):
        """None, or why `call` must wait for a person's approval (a str). By
        default the tool's `approval` option decides (context["tool"] is its spec);
        override it for a policy on cost (context["usage"]) or anything else."""
        return _tools.approval_needed(context.get("tool"), call)

    def redact_record(self, kind, data):
        """An audit record's data before it is kept (None drops it): by default
        every string is passed through `agents.redact`."""
        return redact_all(data)

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
        vm.put(MARK, type(self).__qualname__)
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
            "messages": [], "cursor": 0, "usage": loop.zero_usage(), "requests": 0,
            "last_request": None, "req": None, "state": copy.deepcopy(opts["state"]),
            "outcomes": {}, "last_error": None,
        }
        data["opts"].update({k: opts[k] for k in ("approval_timeout", "on_approval_timeout",
                                                  "escalate_to")})
        name = vm.process_info(vm.self(), "registered_name") or None
        view = trail.setup(self, data, opts, name)
        if data["trail"] is not None:
            data["trail"]["shadow"] = copy.deepcopy(data["state"])
        if view is not None:
            from .resume import restore

            result = restore(self, data, view)
            trail.flush(data)
            return result
        return ("ok", "idle", data)

    def handle_event(self, etype, content, state, data):
        result = self._handle(etype, content, state, data)
        trail.flush(data)  # the event's journal entries go to the store as one write
        return _hibernating(result, state)

    def _handle(self, etype, content, state, data):
        if type(etype) is tuple and etype[0] == "call":
            return _on_call(self, etype[1], content, state, data)
        if etype == "internal" and content == "think":
            return loop.think(self, data)
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
                "usage": data["usage"], "state": data["state"],
                "request": None if req is None else {
                    "step": req["step"], "usage": req["usage"],
                    "model_call": req["model"] is not None,
                    "tools_running": [r["call"]["name"] for r in req["running"].values()],
                    "tools_queued": len(req["queue"]),
                    "awaiting_approval": list(req["awaiting"])}})
        return status

    def terminate(self, reason, state, data):
        req = data.get("req") if type(data) is dict else None
        if req is not None:
            loop.stop_work(self, data, req)
            loop.reply(data, req, ("error", ("agent_stopped",
                                             {"reason": loop.printable(reason)}), req["usage"]))
        if type(data) is dict and "trail" in data:
            trail.stopped(data, loop.printable(reason))
            trail.flush(data)


def _hibernating(result, state):
    """An agent waiting for an approval goes back to hibernation after any event
    that leaves it waiting (a worker's EXIT, a system message, a late answer)."""
    if result == "keep_state_and_data":
        return ("keep_state_and_data", ["hibernate"]) if state == "awaiting_approval" \
            else result
    tag = result[0]
    if tag == "keep_state_and_data":
        after = state
        actions_at = 1
    elif tag == "keep_state":
        after, actions_at = state, 2
    elif tag == "next_state":
        after, actions_at = result[1], 3
    else:
        return result
    if after != "awaiting_approval":
        return result
    actions = list(result[actions_at]) if len(result) > actions_at else []
    if "hibernate" not in actions:
        actions.append("hibernate")
    return result[:actions_at] + (actions,)


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
    trail.check_audit(opts["audit"])
    from .journal import check_durable

    if opts["durable"] is not None and opts["durable"] is not False:
        check_durable(opts["durable"], name="(its registered name)")
    if type(opts["state"]) is not dict:
        raise vm.BadArg(f"state must be a dict of terms, not {opts['state']!r}")
    seconds("approval_timeout", opts["approval_timeout"])
    if opts["on_approval_timeout"] not in _ON_APPROVAL_TIMEOUT:
        raise vm.BadArg(f"on_approval_timeout must be one of {_ON_APPROVAL_TIMEOUT}")
    if opts["escalate_to"] is not None and not isinstance(opts["escalate_to"], (vm.Pid, str)):
        raise vm.BadArg(f"escalate_to must be a pid or a registered name, not "
                        f"{opts['escalate_to']!r}")
    if opts["store"] is not None:
        from .store import resolve

        resolve(opts["store"])
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
        return ("keep_state_and_data", [("reply", from_, loop.usage_report(data))])
    if tag == "history":
        return ("keep_state_and_data", [("reply", from_, list(data["messages"]))])
    if tag == "status":
        return ("keep_state_and_data", [("reply", from_, status_report(state, data))])
    if tag == "state":
        return ("keep_state_and_data", [("reply", from_, data["state"])])
    if tag == "cancel":
        req = data["req"]
        if req is None:
            return ("keep_state_and_data", [("reply", from_, "idle")])
        loop.finish(agent, data, ("error", ("cancelled", request[1]), None))
        return ("next_state", "idle", data, [("reply", from_, "ok")] + loop.clear_timers(req))
    if tag == "ask":
        known = _known_request(from_, request[2], data)
        if known is not None:
            return known
    if state != "idle":
        return ("keep_state_and_data", ["postpone"])
    if tag == "reset":
        data["messages"] = []
        data["cursor"] = 0
        trail.note(data, "reset", {})
        return ("keep_state_and_data", [("reply", from_, "ok")])
    if tag == "ask":
        return loop.start_request(agent, from_, request[1], request[2], data)
    return ("keep_state_and_data", [("reply", from_, ("error", ("bad_request", repr(request)),
                                                       loop.zero_usage()))])


def _known_request(from_, ask, data):
    """An ask naming a request id the agent knows: attach the asker to the request
    resumed after a restart, or answer with the outcome kept in the journal."""
    rid = ask.get("request_id")
    if rid is None:
        return None
    req = data["req"]
    if req is not None and req["id"] == rid:
        if req["asker"] is not None:
            return ("keep_state_and_data", ["postpone"])  # served its outcome afterwards
        req["from"], req["asker"] = from_, from_[0]
        req["amon"] = vm.monitor(from_[0])
        req["asker_token"] = lowlevel.trace_token()
        req["stream_to"], req["stream_tag"] = ask["stream_to"], ask["stream_tag"]
        return "keep_state_and_data"
    outcome = data["outcomes"].get(rid)
    if outcome is not None:
        return ("keep_state_and_data", [("reply", from_, outcome)])
    return None


def status_report(state, data):
    """What the observer shows of an agent (agents() and i(agent))."""
    req = data["req"]
    budget = None
    if data["budget"] is not None:
        try:
            budget = _budget.usage(data["budget"])
        except vm.BadArg:
            budget = None
    last = data["last_request"]
    return {"name": data["name"], "state": state, "messages": len(data["messages"]),
            "requests": data["requests"], "usage": dict(data["usage"]),
            "step": req["step"] if req else None, "request_id": req["id"] if req else None,
            "principal": req["principal"] if req else None,
            "request_usage": dict(req["usage"]) if req else None,
            "limits": dict(req["ledger"]["limits"]) if req else dict(data["opts"]["limits"]),
            "budget": budget, "awaiting_approval": list(req["awaiting"]) if req else [],
            "last_error": last["reason"] if last and last["outcome"] == "error" else None,
            "durable": data["trail"]["journal"].key
            if data["trail"] and data["trail"]["journal"] else None,
            "audit": bool(data["trail"] and data["trail"]["audit"]),
            "store": data["store"] if data["trail"] else None}


# ----------------------------------------------------------------------
# messages and timeouts


def _on_info(agent, msg, state, data):
    req = data["req"]
    if type(msg) is not tuple or not msg:
        return "keep_state_and_data"
    tag = msg[0]
    if tag == "$agent_model" and req is not None and req["model"] is not None \
            and req["model"]["ref"] == msg[1]:
        return loop.on_model(agent, data, msg[2])
    if tag == "$agent_tool" and req is not None and msg[1] in req["running"]:
        return loop.on_tool(agent, data, msg[1], msg[2])
    if tag == "model_delta" and req is not None and req["model"] is not None \
            and req["model"]["ref"] == msg[1]:
        loop.stream(data, req, msg[2])
        return "keep_state_and_data"
    if tag == "$agent_approval" and len(msg) == 3:
        return gate.on_answer(agent, data, msg[1], msg[2])
    if tag == "EXIT":
        return _on_exit(agent, data, msg[1], msg[2])
    if tag == "DOWN" and req is not None and msg[1] == req["amon"]:
        req["asker"] = None  # nobody to answer: stop the work
        return loop.end(agent, data, ("error", ("cancelled", "the asker exited"), None))
    return "keep_state_and_data"


def _on_exit(agent, data, pid, reason):
    req = data["req"]
    if req is None or reason == "normal":
        return "keep_state_and_data"  # a worker that already reported
    if req["model"] is not None and req["model"]["pid"] == pid:
        call = req["model"]
        req["model"] = None
        loop.charge(agent, data, req, call)
        data["cursor"] += 1
        failure = ("model_error", "internal", {
            "message": f"the model call's process exited: {loop.printable(reason)}",
            "retryable": False})
        trail.model_failed(agent, data, req, failure)
        return loop.end(agent, data, ("error", failure, None))
    for ref, run in req["running"].items():
        if run["pid"] == pid:
            if type(reason) is tuple and len(reason) == 3 and reason[0] == "tool_crashed":
                req["running"].pop(ref)
                loop.charge(agent, data, req, run)
                loop.finish(agent, data, ("error", reason, None))
                return ("stop", reason, data)
            return loop.on_tool(agent, data, ref, ("error", "the tool's process exited: "
                                                             f"{loop.printable(reason)}"))
    return "keep_state_and_data"


def _on_timeout(agent, name, data):
    req = data["req"]
    if req is None:
        return "keep_state_and_data"
    if name == "deadline":
        state = "acting" if req["running"] else "thinking"
        return loop.end(agent, data, ("error", loop.deadline_reason(req, state), None))
    if type(name) is tuple and name[0] == "tool" and name[1] in req["running"]:
        run = req["running"][name[1]]
        loop.kill(run["pid"])
        spec = data["tools"][run["call"]["name"]]
        text = f"{run['call']['name']} did not finish within {spec['timeout']} s and was stopped"
        return loop.on_tool(agent, data, name[1], ("error", text))
    if type(name) is tuple and name[0] == "approval":
        return gate.on_timeout(agent, data, name[1])
    return "keep_state_and_data"
