"""The client side of an agent: start it, ask it, cancel it, read its books.

What this module owns: the functions other processes call. An ask is a
gen_statem call carrying the prompt and the request's own terms:

    answer = agents.ask(agent, "What is OTP?", timeout=30,
                        limits={"steps": 5, "cost": 0.02},
                        metadata={"user": "ada"})

- `timeout` is the request's **deadline**, not just how long the caller
  waits: the agent stops the request's work (model call, tools) when it
  passes, and answers with `("deadline_exceeded", ...)`. The caller waits a
  moment longer (`GRACE`) for that answer, so a timeout never leaves work
  running behind the caller's back.
- `limits` are this request's own limits (budget.py's resources), on top
  of the agent's defaults and its budget process.
- `stream_to=pid` sends the reply as it is produced to `pid`:
  `("agent_delta", stream_tag, delta)` with model deltas (`{"content": ...}`,
  `{"tool_call": ...}`) and tool results (`{"tool_result": {...}}`).
- `metadata` (a dict of terms) travels with the request to every hook, the
  model call and the tools.
- `principal` names who asks (the audit trail records it with every action
  of the request); an ask made inside a tool inherits the outer request's.
- `request_id` names the request (default: a fresh id). Asking a durable
  agent again with the same id after it restarted attaches to the resumed
  request, or returns its outcome once done, instead of starting over.

An ask returns the answer (a str) or raises `AgentError` whose `.reason`
says what went wrong and `.usage` what the request spent. An agent that
is not running or dies meanwhile gives `("agent_down", {"reason": ...})`.

**Asynchronous asks** are gen_statem's `send_request` family (OTP 25),
so a process can have many asks in flight and collect the answers as they
come, alone or in a request-id collection:

    req = agents.send_ask(agent, "Summarise the notes", timeout=60)
    ...                                   # do other work, receive other messages
    outcome = agents.receive_answer(req, timeout=70)

    reqs = agents.reqids_new()
    for a in crew:
        reqs = agents.send_ask(a, question, label=a, reqids=reqs)
    while reqs:
        outcome, who, reqs = agents.receive_answer(reqs, delete=True)

An outcome is `("ok", answer, usage)` or `("error", reason, usage)` (never
an exception), or "timeout" (`receive_answer` then abandons the request and
its late answer is dropped; `wait_answer` does not). `check_answer(msg,
req)` tells whether a message already received is the answer.

What it refuses: the loop itself (agent.py).
"""

from __future__ import annotations

import vm

from .. import gen_statem
from .agent import check_agent_options
from .budget import check_limits
from .errors import AgentError
from .options import check_keys, seconds
from .tools import current_request
from .tracecontext import reassert

__all__ = ["GRACE", "ask", "cancel", "check_answer", "child_spec", "history",
           "receive_answer", "reqids_new", "reset", "send_ask", "start", "start_link", "state",
           "status", "usage", "wait_answer"]

#: Seconds the caller waits past a request's deadline for the agent's answer.
GRACE = 1.0
_GEN_OPTS = ("name", "timeout", "spawn_opts", "debug", "hibernate_after")


def start_link(cls, options=None, **gen_opts):
    """Start an agent linked to the caller; returns its pid (raises BadArg on bad options)."""
    return _start(gen_statem.start_link, cls, options, gen_opts)


def start(cls, options=None, **gen_opts):
    """Start an agent without a link; returns its pid."""
    return _start(gen_statem.start, cls, options, gen_opts)


def _start(starter, cls, options, gen_opts):
    from .agent import Agent

    if not (isinstance(cls, type) and issubclass(cls, Agent)):
        raise vm.BadArg(f"expected an Agent subclass, not {cls!r}")
    check_keys("agent start options", gen_opts, _GEN_OPTS)
    check_agent_options(cls, options or {})  # misuse raises here, in the caller
    res = starter(cls, options or {}, **gen_opts)
    if res[0] != "ok":
        raise vm.BadArg(f"{cls.__qualname__} did not start: {res[1]!r}")
    return res[1]


def child_spec(cls, options=None, *, name=None, id=None, restart="permanent",  # noqa: A002
               shutdown=5.0) -> dict:
    """A child spec that starts `cls` with `options` (registered as `name`, if given).

    Options are checked now, so a typo fails where the tree is written."""
    from .agent import Agent

    if not (isinstance(cls, type) and issubclass(cls, Agent)):
        raise vm.BadArg(f"expected an Agent subclass, not {cls!r}")
    check_agent_options(cls, options or {})
    return {"id": id if id is not None else (name or cls), "restart": restart,
            "shutdown": shutdown, "start": (_start_child, (cls, options or {}, name))}


def _start_child(cls, options, name):
    return gen_statem.start_link(cls, options, name=name)


def ask(agent, prompt, *, timeout=60.0, limits=None, stream_to=None, stream_tag=None,
        metadata=None, principal=None, request_id=None) -> str:
    """Ask `agent`; returns its answer or raises AgentError (see the module docstring)."""
    request = ask_request(prompt, timeout, limits, stream_to, stream_tag, metadata, principal,
                          request_id)
    wait = None if timeout is None else timeout + GRACE
    try:
        outcome = gen_statem.call(agent, request, wait)
    except vm.Exit as e:
        raise AgentError(_call_failure(e.reason, timeout)) from None
    return answer_of(outcome)


def ask_request(prompt, timeout, limits, stream_to, stream_tag, metadata, principal=None,
                request_id=None):
    """The term an ask sends (exposed for asynchronous asks)."""
    if not isinstance(prompt, str) or not prompt:
        raise vm.BadArg(f"ask: prompt must be a non-empty str, not {prompt!r}")
    if request_id is not None and (not isinstance(request_id, str) or not request_id):
        raise vm.BadArg(f"ask: request_id must be a non-empty str, not {request_id!r}")
    if principal is None:  # an ask made by a tool is on behalf of the one who asked for it
        inside = current_request()
        if inside is not None:
            principal = inside.get("principal")
    if principal is not None and not isinstance(principal, str):
        raise vm.BadArg(f"ask: principal must be a str (who asks), not {principal!r}")
    reassert()  # the asker's open span, even after a receive replaced the token
    seconds("ask timeout", timeout)
    if stream_to is not None and type(stream_to) is not vm.Pid:
        raise vm.BadArg(f"ask: stream_to must be a Pid, not {stream_to!r}")
    if metadata is not None and type(metadata) is not dict:
        raise vm.BadArg(f"ask: metadata must be a dict of terms, not {metadata!r}")
    deadline = None if timeout is None else vm.monotonic() + timeout
    return ("ask", prompt, {"timeout": timeout, "deadline": deadline,
                            "limits": check_limits("ask limits", limits or {}),
                            "stream_to": stream_to,
                            "stream_tag": stream_tag if stream_tag is not None else "agent",
                            "metadata": metadata or {}, "principal": principal,
                            "request_id": request_id})


def answer_of(outcome):
    """The answer in an agent's reply, or AgentError."""
    status, payload, spent = outcome
    if status == "ok":
        return payload
    raise AgentError(payload, spent)


def send_ask(agent, prompt, *, timeout=60.0, limits=None, stream_to=None, stream_tag=None,
             metadata=None, principal=None, request_id=None, label=None, reqids=None):
    """Ask without waiting: returns the request id (with `reqids`, a new collection
    holding it under `label`). The request's deadline is `timeout`, as for `ask`."""
    request = ask_request(prompt, timeout, limits, stream_to, stream_tag, metadata, principal,
                          request_id)
    return gen_statem.send_request(agent, request, label, reqids)


def receive_answer(req, timeout=None, delete=None):
    """The outcome of an asynchronous ask (or of any ask of a collection, then
    `(outcome, label, new_collection)`; pass `delete`); "timeout" abandons."""
    return _outcome(gen_statem.receive_response(req, timeout, *_delete(delete)))


def wait_answer(req, timeout=None, delete=None):
    """As `receive_answer`, but a timeout abandons nothing: wait again later."""
    return _outcome(gen_statem.wait_response(req, timeout, *_delete(delete)))


def check_answer(msg, req, delete=None):
    """The outcome if `msg` (already received) answers `req`, else "no_reply"."""
    return _outcome(gen_statem.check_response(msg, req, *_delete(delete)))


def reqids_new() -> dict:
    """An empty collection of asynchronous asks."""
    return gen_statem.reqids_new()


def _delete(delete):
    return () if delete is None else (delete,)


def _outcome(response):
    """gen's response (or collection result) as an agent outcome."""
    if type(response) is tuple and len(response) == 3 and type(response[2]) is dict \
            and type(response[0]) is tuple:
        return (_outcome(response[0]), response[1], response[2])  # a collection's
    if type(response) is tuple and len(response) == 2:
        if response[0] == "reply":
            return response[1]
        if response[0] == "error":
            return ("error", ("agent_down", {"reason": response[1][0]}), {})
    return response  # "timeout", "no_request", "no_reply"


def _call_failure(reason, timeout):
    what = reason[0] if type(reason) is tuple and len(reason) == 2 else reason
    if what == "timeout":
        return ("deadline_exceeded", {"timeout": timeout, "while": "waiting for the agent"})
    return ("agent_down", {"reason": what})


def cancel(agent, reason="cancelled"):
    """Cancel the request the agent is working on: "ok", or "idle" if there was none.

    Its asker gets `AgentError(("cancelled", reason))`; its model call and
    tools are killed."""
    return gen_statem.call(agent, ("cancel", reason))


def usage(agent) -> dict:
    """`{"total", "requests", "last_request", "current_request"}`: what the agent spent."""
    return gen_statem.call(agent, "usage")


def history(agent) -> list:
    """The conversation so far (without the system prompt)."""
    return gen_statem.call(agent, "history")


def reset(agent):
    """Forget the conversation (waits until the current request is done)."""
    return gen_statem.call(agent, "reset")


def state(agent) -> dict:
    """The agent's own state (the dict its hooks keep in `context["state"]`)."""
    return gen_statem.call(agent, "state")


def status(agent, timeout=5.0) -> dict:
    """What the agent is doing: its state machine's state, step, request, books,
    budget, approvals it waits for, last error (the observer shows this)."""
    return gen_statem.call(agent, "status", timeout)
