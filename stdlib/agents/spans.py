"""What the spans of agents say: OpenTelemetry's GenAI names, and nothing invented.

What this module owns: the attributes of the three spans an agent's work
makes, named as the OpenTelemetry semantic conventions for generative AI
name them, and the check that a span uses those names.

The names follow **OpenTelemetry semantic conventions v1.44.0** (the GenAI
spans and agent spans, status "Development"; the Python package
`opentelemetry-semantic-conventions` 0.66b2 carries the same names).
`CONVENTIONS` records it in every span file and exported resource.

    span                       name                        kind      made in
    ---------------------------------------------------------------------------
    an agent's request         invoke_agent {agent name}   internal  the agent
    a model call               chat {request model}        client    the model call's process
    a tool call                execute_tool {tool name}    internal  the tool call's process
    your own block             whatever you name it        internal  your process

    invoke_agent: gen_ai.operation.name, gen_ai.agent.name, gen_ai.agent.id,
                  gen_ai.conversation.id, gen_ai.provider.name, gen_ai.request.model,
                  gen_ai.usage.input_tokens / output_tokens, error.type
    chat:         gen_ai.operation.name, gen_ai.provider.name, gen_ai.request.model,
                  gen_ai.request.max_tokens / temperature / top_p / seed,
                  gen_ai.response.id / model / finish_reasons,
                  gen_ai.usage.input_tokens / output_tokens, server.address,
                  server.port, error.type
    execute_tool: gen_ai.operation.name, gen_ai.tool.name, gen_ai.tool.call.id,
                  gen_ai.tool.type, gen_ai.tool.description, error.type

Content is **off by default**: the messages, the system instructions, tool
arguments and results (`gen_ai.input.messages`, `gen_ai.output.messages`,
`gen_ai.system_instructions`, `gen_ai.tool.call.arguments`,
`gen_ai.tool.call.result`) are added only when tracing was started with
`capture_content=True` (or `OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`
is "true"), and then redacted of secrets. beamlet's own attributes start
with `beamlet.`: `beamlet.pid`, `beamlet.cost` (the conventions have no
cost attribute), `beamlet.request.id`, `beamlet.principal`,
`beamlet.steps`, `beamlet.attempts`, `beamlet.caller`.

What it refuses: making, carrying and writing spans (tracecontext.py,
tracing.py).
"""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import vm

__all__ = ["CONVENTIONS", "check_span", "check_value", "known_attribute"]

#: The version of the OpenTelemetry semantic conventions the names follow.
CONVENTIONS = "1.44.0"
SCHEMA_URL = f"https://opentelemetry.io/schemas/{CONVENTIONS}"

OPERATION = "gen_ai.operation.name"
PROVIDER = "gen_ai.provider.name"
REQUEST_MODEL = "gen_ai.request.model"
USAGE_IN = "gen_ai.usage.input_tokens"
USAGE_OUT = "gen_ai.usage.output_tokens"
ERROR_TYPE = "error.type"

#: The GenAI and general attributes beamlet writes, by span operation.
ATTRIBUTES = {
    "invoke_agent": {
        "required": (OPERATION,),
        "allowed": (OPERATION, "gen_ai.agent.name", "gen_ai.agent.id",
                    "gen_ai.agent.description", "gen_ai.conversation.id", PROVIDER,
                    REQUEST_MODEL, USAGE_IN, USAGE_OUT, ERROR_TYPE,
                    "gen_ai.system_instructions", "gen_ai.input.messages",
                    "gen_ai.output.messages"),
    },
    "chat": {
        "required": (OPERATION, PROVIDER),
        "allowed": (OPERATION, PROVIDER, REQUEST_MODEL, "gen_ai.request.max_tokens",
                    "gen_ai.request.temperature", "gen_ai.request.top_p",
                    "gen_ai.request.seed", "gen_ai.request.stop_sequences",
                    "gen_ai.response.id", "gen_ai.response.model",
                    "gen_ai.response.finish_reasons", USAGE_IN, USAGE_OUT, "server.address",
                    "server.port", ERROR_TYPE, "gen_ai.conversation.id",
                    "gen_ai.input.messages", "gen_ai.output.messages",
                    "gen_ai.system_instructions", "gen_ai.tool.definitions"),
    },
    "execute_tool": {
        "required": (OPERATION, "gen_ai.tool.name"),
        "allowed": (OPERATION, "gen_ai.tool.name", "gen_ai.tool.call.id", "gen_ai.tool.type",
                    "gen_ai.tool.description", ERROR_TYPE, "gen_ai.tool.call.arguments",
                    "gen_ai.tool.call.result"),
    },
}
CONTENT_ATTRIBUTES = ("gen_ai.input.messages", "gen_ai.output.messages",
                      "gen_ai.system_instructions", "gen_ai.tool.call.arguments",
                      "gen_ai.tool.call.result")
BEAMLET = ("beamlet.pid", "beamlet.cost", "beamlet.request.id", "beamlet.principal",
           "beamlet.steps", "beamlet.attempts", "beamlet.caller", "beamlet.agent.class")


def known_attribute(operation, key) -> bool:
    """Is `key` a name the conventions (or beamlet's own prefix) give a span of `operation`?"""
    if key.startswith("beamlet."):
        return True
    spec = ATTRIBUTES.get(operation)
    return spec is not None and key in spec["allowed"]


def check_span(record) -> list:
    """Problems with a span record, as text (empty: it follows the conventions).

    A GenAI span (its `gen_ai.operation.name` is one beamlet makes) must carry
    the required attributes and use only the listed names or `beamlet.*`; its
    name must be "<operation> <subject>"; content attributes must be absent
    unless `content` was captured. A span of your own may use any names."""
    problems = []
    for k in ("trace_id", "span_id", "name", "kind", "start_time_unix_nano",
              "end_time_unix_nano", "status", "attributes"):
        if k not in record:
            problems.append(f"missing field {k}")
    attrs = record.get("attributes") or {}
    op = attrs.get(OPERATION)
    if op is None:
        return problems
    spec = ATTRIBUTES.get(op)
    if spec is None:
        return problems + [f"unknown {OPERATION} {op!r}"]
    for k in spec["required"]:
        if k not in attrs:
            problems.append(f"{record.get('name')}: missing required {k}")
    for k in attrs:
        if not known_attribute(op, k):
            problems.append(f"{record.get('name')}: {k} is not a {op} attribute")
    if not str(record.get("name", "")).startswith(op + " "):
        problems.append(f"span name {record.get('name')!r} does not start with {op!r}")
    if record.get("status") == "error" and ERROR_TYPE not in attrs:
        problems.append(f"{record.get('name')}: a failed span needs {ERROR_TYPE}")
    return problems


def check_value(key, value):
    """An attribute value as OpenTelemetry takes it: str, bool, int, float, or a
    list of one of those; None is refused (leave the attribute out)."""
    if not isinstance(key, str) or not key:
        raise vm.BadArg(f"an attribute name is a non-empty str, not {key!r}")
    if isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, (str, bool, int, float))
                                                 for v in value):
        return list(value)
    raise vm.BadArg(f"attribute {key!r}: a value is a str, bool, int, float or a list of one "
                    f"of those, not {value!r}")


# ----------------------------------------------------------------------
# the attributes of each span


def provider_name(model) -> str:
    return model.get("provider") if model.get("provider") != "scripted" else "beamlet.scripted"


def agent_attributes(name, agent_id, conversation, model, request_id, principal, caller):
    attrs = {OPERATION: "invoke_agent", "gen_ai.agent.name": name, "gen_ai.agent.id": agent_id,
             "gen_ai.conversation.id": conversation, PROVIDER: provider_name(model),
             "beamlet.request.id": str(request_id)}
    if model.get("name"):
        attrs[REQUEST_MODEL] = str(model["name"])
    if principal is not None:
        attrs["beamlet.principal"] = str(principal)
    if caller is not None:
        attrs["beamlet.caller"] = repr(caller)
    return attrs


def agent_end_attributes(usage, outcome, answer, capture):
    attrs = {USAGE_IN: int(usage.get("input_tokens", 0)),
             USAGE_OUT: int(usage.get("output_tokens", 0)),
             "beamlet.steps": int(usage.get("steps", 0))}
    if usage.get("cost"):
        attrs["beamlet.cost"] = float(usage["cost"])
    if capture and outcome == "ok" and answer:
        attrs["gen_ai.output.messages"] = _json([{"role": "assistant", "parts": [
            {"type": "text", "content": answer}]}])
    return attrs


def chat_attributes(model, request, capture):
    opts = request.get("options") or {}
    attrs = {OPERATION: "chat", PROVIDER: provider_name(model)}
    if model.get("name"):
        attrs[REQUEST_MODEL] = str(model["name"])
    for key, attr in (("max_tokens", "gen_ai.request.max_tokens"),
                      ("temperature", "gen_ai.request.temperature"),
                      ("top_p", "gen_ai.request.top_p"), ("seed", "gen_ai.request.seed")):
        if opts.get(key) is not None:
            attrs[attr] = opts[key]
    base = model.get("base_url")
    if base:
        parts = urlsplit(base)
        if parts.hostname:
            attrs["server.address"] = parts.hostname
            attrs["server.port"] = parts.port or (443 if parts.scheme == "https" else 80)
    if capture:
        system = [m.get("content") or "" for m in request["messages"] if m["role"] in
                  ("system", "developer")]
        if system:
            attrs["gen_ai.system_instructions"] = _json(
                [{"type": "text", "content": s} for s in system])
        attrs["gen_ai.input.messages"] = _json(
            [_message(m) for m in request["messages"] if m["role"] not in
             ("system", "developer")])
    return attrs


def chat_reply_attributes(reply, capture):
    usage = reply.get("usage") or {}
    attrs = {"gen_ai.response.finish_reasons": [str(reply.get("finish_reason") or "stop")],
             USAGE_IN: int(usage.get("input_tokens", 0)),
             USAGE_OUT: int(usage.get("output_tokens", 0)),
             "beamlet.attempts": int(reply.get("attempts", 1))}
    if reply.get("id"):
        attrs["gen_ai.response.id"] = str(reply["id"])
    if reply.get("model"):
        attrs["gen_ai.response.model"] = str(reply["model"])
    if reply.get("cost") is not None:
        attrs["beamlet.cost"] = float(reply["cost"])
    if capture:
        message = {"role": "assistant", "content": reply.get("content"),
                   "tool_calls": [{"id": c.get("id"), "name": c.get("name"),
                                   "arguments_text": c.get("arguments_text") or ""}
                                  for c in reply.get("tool_calls") or ()]}
        attrs["gen_ai.output.messages"] = _json([dict(_message(message),
                                                      finish_reason=reply.get("finish_reason"))])
    return attrs


def tool_attributes(spec, call_id, arguments, capture):
    attrs = {OPERATION: "execute_tool", "gen_ai.tool.name": spec["name"],
             "gen_ai.tool.type": "function"}
    if call_id is not None:
        attrs["gen_ai.tool.call.id"] = str(call_id)
    if spec.get("description"):
        attrs["gen_ai.tool.description"] = spec["description"]
    if capture:
        attrs["gen_ai.tool.call.arguments"] = _json(arguments)
    return attrs


def _message(m):
    """A chat message in the conventions' shape: {"role", "parts": [...]}, redacted."""
    parts = []
    if m.get("content"):
        kind = "tool_call_response" if m["role"] == "tool" else "text"
        part = {"type": kind, "content" if kind == "text" else "response": m["content"]}
        if kind == "tool_call_response":
            part["id"] = m.get("tool_call_id")
        parts.append(part)
    for c in m.get("tool_calls") or ():
        parts.append({"type": "tool_call", "id": c.get("id"), "name": c.get("name"),
                      "arguments": c.get("arguments_text")})
    return {"role": m["role"], "parts": parts}


def _json(value) -> str:
    from .redact import redact

    return redact(json.dumps(value, ensure_ascii=False, default=str), limit=20_000)
