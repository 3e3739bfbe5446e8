"""Agents as processes: model clients, the agent behaviour, tools, budgets.

An agent is a gen_statem process with a private conversation; a model call
and each tool call are processes linked to it; a budget is a process its
subtree draws on; cancelling is an exit signal. The guide is
docs/agents.md; one module per concern:

    model.py      the model interface (complete, deltas, retries)
    scripted.py   the scripted model (tests, examples, the default)
    openai.py     the OpenAI-compatible client
    http.py       HTTP/1.1 over the VM's sockets (h11), pooled connections
    transport.py  TCP and TLS byte streams
    sse.py        server-sent events
    stream.py     streamed replies: deltas and tool-call fragments
    retry.py      what is retried, and when
    ratelimit.py  one rate limiter process per provider
    budget.py     reservations, settlements, budget processes
    tools.py      tools: schemas, arguments, the call's process
    commands.py   command tools: an external program run as a port
    agent.py      the behaviour: callbacks, options, events
    loop.py       one request's work: think, act, end, and its books
    client.py     ask, cancel, usage
    redact.py     secret handles and redaction
    errors.py     reasons and exceptions

Tracing, audit, durable state and approvals:

    tracecontext.py  the trace context on the runtime's trace token; span()
    spans.py         the OpenTelemetry GenAI names of the spans
    tracing.py       tracing on and off: the span collector, JSON lines
    otel.py          export through OpenTelemetry (the optional extra)
    store.py         the SQLite store and its one writer process
    audit.py         the hash-chained audit trail: records, verify, query
    journal.py       durable state: deltas, snapshots, compaction, replay
    resume.py        a restarted agent back at work from its journal
    trail.py         what the loop leaves behind: spans, records, entries
    gate.py          the approval gate in the loop
    desk.py          the approval desk of a store: approve, refuse, escalate
    observe.py       the observer's agents view, approvals and trace diagrams
"""

from __future__ import annotations

from . import audit, budget, journal, otel, resume, spans, store, tracing  # noqa: F401 - loaded now, not inside a process's slice
from .agent import Agent
from .budget import Budget
from .client import (
                     GRACE,
                     ask,
                     cancel,
                     check_answer,
                     child_spec,
                     history,
                     receive_answer,
                     reqids_new,
                     reset,
                     send_ask,
                     start,
                     start_link,
                     state,
                     status,
                     usage,
                     wait_answer,
)
from .commands import command_tool
from .desk import ESCALATION, approvals, approve, escalation_handler, refuse
from .errors import AgentError, ModelError
from .model import complete, default_model
from .openai import openai_model
from .ratelimit import RateLimiter
from .redact import redact, secret, secret_from_env
from .scripted import failure, reply, scripted_model, tool_call, tool_call_step
from .tools import current_request, tool
from .tracecontext import clear_trace_context, set_trace_context, span, trace_context, traceparent

__all__ = [
    "Agent",
    "AgentError",
    "Budget",
    "ESCALATION",
    "GRACE",
    "ModelError",
    "RateLimiter",
    "approvals",
    "approve",
    "ask",
    "audit",
    "budget",
    "cancel",
    "check_answer",
    "child_spec",
    "clear_trace_context",
    "command_tool",
    "complete",
    "current_request",
    "default_model",
    "escalation_handler",
    "failure",
    "history",
    "journal",
    "openai_model",
    "receive_answer",
    "redact",
    "refuse",
    "reply",
    "reqids_new",
    "reset",
    "scripted_model",
    "secret",
    "secret_from_env",
    "send_ask",
    "set_trace_context",
    "span",
    "start",
    "start_link",
    "state",
    "status",
    "store",
    "tool",
    "tool_call",
    "tool_call_step",
    "trace_context",
    "traceparent",
    "tracing",
    "usage",
    "wait_answer",
]
