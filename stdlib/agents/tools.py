"""Tools: Python functions a model may call, each call its own process.

What this module owns: turning a function into a tool (a name, a
description and a JSON Schema for its arguments), checking the arguments a
model wrote, and the process that runs one call.

    @tool
    def search_notes(query: str, limit: int = 5) -> list:
        '''Search the research notes.

        Args:
            query: words to look for
            limit: how many notes to return at most
        '''

    @tool(timeout=5.0, policy="crash", blocking="thread")
    def fetch(url: str) -> str: ...

**Schemas** come from the signature and the docstring (the first paragraph
describes the tool; an `Args:` section, or `:param name:` lines, describe
the parameters), or are given whole (`schema=`). Annotations map to JSON
Schema types: str, int, float, bool, list[X], tuple, dict, Literal[...]
(an enum), X | None (a nullable X); a parameter with a default is optional.

**A call is a process**, spawned by the agent and linked to it, so killing
the agent kills its tools. It runs the function and sends the result (as
text for the model) back. A call that raises comes back to the model as
a tool error whose text is the exception's type and message, *redacted*
(redact.py), unless the tool's policy is "crash": then the call exits with
`("tool_crashed", name, crash)` (crash redacted too) and the agent dies with
that reason, for its supervisor to decide.

**Blocking tools** declare it. `blocking="thread"` runs the function on the
node's dirty pool (`vm.to_thread`): fine for I/O that ends, but a thread
cannot be killed, so a timed-out call's job is abandoned (never started if
it was still queued; run to its end, unheard, if it had started).
`blocking="process"` runs it in a worker OS process
(`vm.to_process`), which is killed with the call: the choice for work that
must stop on a timeout or a cancel. A pure-Python CPU-heavy tool needs no
flag: the agent compiles reduction checks into its tools' modules, so it is
preempted like any process.

What it refuses: concurrency limits and timeouts (the agent enforces
both, from outside, by killing the call's process).
"""

from __future__ import annotations

import inspect
import json
import re
import types
import typing

import vm

from .options import check_keys, seconds
from .redact import redact
from .tracecontext import end_span, start_span

__all__ = ["approval_needed", "current_request", "result_text", "tool", "tool_spec",
           "validate_arguments"]

POLICIES = ("error", "crash")
BLOCKING = (None, "thread", "process")  # and "port", for command tools (commands.py)
DEFAULT_TIMEOUT = 30.0
MAX_RESULT = 20_000  # characters of a result shown to the model
_ATTR = "__agent_tool__"
_TOOL_OPTS = ("name", "description", "schema", "timeout", "policy", "blocking", "approval",
              "on_interrupted")
_INTERRUPTED = (None, "report", "retry")


def tool(fn=None, **opts):
    """Mark `fn` as a tool (as `@tool` or `@tool(timeout=..., ...)`); returns `fn`.

    Options: `name`, `description`, `schema` (a JSON Schema for the
    arguments, instead of the derived one), `timeout` (seconds, default 30),
    `policy` ("error" or "crash"), `blocking` (None, "thread", "process"),
    `approval` (True: every call waits for a person's approval; or a
    module-level function `fn(arguments) -> bool | why` deciding per call),
    `on_interrupted` ("report" or "retry": what a durable agent does with a
    call of this tool that was running when it died; default the agent's).
    The function stays callable as before."""
    check_keys("tool options", opts, _TOOL_OPTS)
    if fn is None:
        return lambda f: tool(f, **opts)
    if not isinstance(fn, types.FunctionType):
        raise vm.BadArg(f"a tool is a function defined with def, not {type(fn).__name__}")
    _build(fn, opts)  # refuse bad options now, at definition time
    setattr(fn, _ATTR, opts)
    return fn


def tool_spec(x) -> dict:
    """The spec (a dict of terms) of a tool given as a function or a spec."""
    if type(x) is dict and "fn" in x and "name" in x:
        return x
    if isinstance(x, types.FunctionType):
        return _build(x, getattr(x, _ATTR, {}))
    raise vm.BadArg(f"a tool is a function (optionally marked with @tool), not {x!r}")


def check_tool_name(name):
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name):
        raise vm.BadArg(f"tool name {name!r}: models accept 1-64 letters, digits, _ and -")


def _build(fn, opts) -> dict:
    name = opts.get("name") or fn.__name__
    check_tool_name(name)
    policy = opts.get("policy", "error")
    if policy not in POLICIES:
        raise vm.BadArg(f"tool {name!r}: policy must be one of {POLICIES}, not {policy!r}")
    blocking = opts.get("blocking")
    if blocking not in BLOCKING:
        raise vm.BadArg(f"tool {name!r}: blocking must be one of {BLOCKING}, not {blocking!r}")
    described, params_doc = _docstring(fn)
    schema = opts.get("schema")
    if schema is None:
        schema = _schema(fn, params_doc, name)
    elif type(schema) is not dict or schema.get("type") != "object":
        raise vm.BadArg(f"tool {name!r}: schema must be a JSON Schema dict with type 'object'")
    approval = opts.get("approval")
    if approval is not None and not isinstance(approval, bool) and not callable(approval):
        raise vm.BadArg(f"tool {name!r}: approval must be True, False or a function "
                        f"fn(arguments) -> bool | why, not {approval!r}")
    interrupted = opts.get("on_interrupted")
    if interrupted not in _INTERRUPTED:
        raise vm.BadArg(f"tool {name!r}: on_interrupted must be 'report' or 'retry', not "
                        f"{interrupted!r}")
    return {"name": name, "description": opts.get("description") or described,
            "parameters": schema, "fn": fn,
            "timeout": seconds(f"tool {name!r} timeout", opts.get("timeout", DEFAULT_TIMEOUT)),
            "policy": policy, "blocking": blocking, "approval": approval,
            "on_interrupted": interrupted}


def approval_needed(spec, call):
    """Why a call of tool `spec` needs approval by its `approval` option, or None."""
    rule = spec.get("approval") if spec else None
    if rule is None or rule is False:
        return None
    if rule is True:
        return f"{call['name']} needs approval"
    decided = rule(call["arguments"])
    if not decided:
        return None
    return decided if isinstance(decided, str) else f"{call['name']} needs approval"


# ----------------------------------------------------------------------
# schemas


_PRIMITIVES = {str: "string", int: "integer", float: "number", bool: "boolean"}


def _schema(fn, params_doc, name):
    sig = inspect.signature(fn)
    try:
        hints = typing.get_type_hints(fn)
    except Exception:  # an annotation that cannot be evaluated: use what is written
        hints = {k: p.annotation for k, p in sig.parameters.items()}
    props, required = {}, []
    for pname, p in sig.parameters.items():
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            raise vm.BadArg(f"tool {name!r}: *{pname} cannot be described to a model; name "
                            "every parameter, or give schema=")
        if p.kind is p.POSITIONAL_ONLY:
            raise vm.BadArg(f"tool {name!r}: positional-only {pname!r}; models pass arguments "
                            "by name")
        ann = hints.get(pname, p.annotation)
        prop = _type_schema(None if ann is inspect.Parameter.empty else ann)
        if pname in params_doc:
            prop["description"] = params_doc[pname]
        if p.default is inspect.Parameter.empty:
            required.append(pname)
        elif p.default is not None and _jsonable(p.default):
            prop["default"] = p.default
        props[pname] = prop
    schema = {"type": "object", "properties": props, "additionalProperties": False}
    if required:
        schema["required"] = required
    return schema


def _jsonable(x):
    try:
        json.dumps(x)
        return True
    except (TypeError, ValueError):
        return False


def _type_schema(ann) -> dict:
    if ann is None or ann is typing.Any:
        return {}
    if ann in _PRIMITIVES:
        return {"type": _PRIMITIVES[ann]}
    origin, args = typing.get_origin(ann), typing.get_args(ann)
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin in (typing.Union, types.UnionType):
        rest = [a for a in args if a is not type(None)]
        inner = _type_schema(rest[0]) if len(rest) == 1 else {"anyOf": [_type_schema(a)
                                                                         for a in rest]}
        if len(rest) < len(args) and "type" in inner:
            inner["type"] = [inner["type"], "null"]
        return inner
    if ann in (list, tuple, set) or origin in (list, tuple, set):
        out = {"type": "array"}
        if args:  # list[X], set[X], tuple[X, ...]: items of the first argument
            out["items"] = _type_schema(args[0])
        return out
    if ann is dict or origin is dict:
        return {"type": "object"}
    return {}


def _docstring(fn):
    """(description, {param: description}) from a Google- or Sphinx-style docstring."""
    doc = inspect.getdoc(fn) or ""
    params: dict = {}
    for m in re.finditer(r":param\s+(?:\w+\s+)?(\w+):\s*(.+)", doc):
        params[m.group(1)] = m.group(2).strip()
    section = re.search(r"^(Args|Arguments|Parameters):\s*$(.*?)(?=^\S|\Z)", doc, re.M | re.S)
    if section:
        current, indent = None, 0
        for line in section.group(2).splitlines():
            m = re.match(r"\s+(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)", line)
            if m and (current is None or len(line) - len(line.lstrip()) <= indent):
                current, indent = m.group(1), len(line) - len(line.lstrip())
                params[current] = m.group(2).strip()
            elif current and line.strip():
                params[current] += " " + line.strip()
    description = re.split(r"\n\s*\n|^(?:Args|Arguments|Parameters|Returns|Raises):",
                           doc, maxsplit=1, flags=re.M)[0]
    return " ".join(description.split()), params


# ----------------------------------------------------------------------
# arguments


_JSON_TYPES = {"string": str, "integer": int, "number": (int, float), "boolean": bool,
               "array": list, "object": dict, "null": type(None)}


def validate_arguments(spec, args):
    """None if `args` fit the tool's schema; else a message for the model."""
    if type(args) is tuple:  # ("invalid_json", why)
        return f"the arguments for {spec['name']} were not usable: {args[1]}"
    schema = spec["parameters"]
    props = schema.get("properties") or {}
    missing = [k for k in schema.get("required") or () if k not in args]
    if missing:
        return f"{spec['name']} needs {', '.join(missing)}"
    if schema.get("additionalProperties") is False:
        extra = [k for k in args if k not in props]
        if extra:
            return (f"{spec['name']} has no parameter {', '.join(extra)}; its parameters: "
                    f"{', '.join(props) or 'none'}")
    for k, v in args.items():
        prop = props.get(k) or {}
        want = prop.get("type")
        if want is not None:
            kinds = want if isinstance(want, list) else [want]
            if not any(_is_json_type(v, w) for w in kinds):
                return f"{spec['name']}: {k} must be {' or '.join(kinds)}, not {json.dumps(v)}"
        enum = prop.get("enum")
        if enum is not None and v not in enum:
            return f"{spec['name']}: {k} must be one of {json.dumps(enum)}, not {json.dumps(v)}"
    return None


def _is_json_type(v, kind):
    if isinstance(v, bool):
        return kind == "boolean"
    want = _JSON_TYPES.get(kind)
    return want is None or isinstance(v, want)


def result_text(value) -> str:
    """What the model is shown for a tool's return value."""
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=str)
        except (TypeError, ValueError):
            text = repr(value)
    if len(text) > MAX_RESULT:
        text = text[:MAX_RESULT] + f"... [{len(text) - MAX_RESULT} more characters cut]"
    return text


def error_text(exc) -> str:
    """A tool's exception as the model sees it: type and message, redacted, no traceback."""
    return redact(f"{type(exc).__name__}: {exc}")


def redacted_crash(exc):
    crash = vm.Crash.from_exception(exc)
    return vm.Crash(crash.exc_type, redact(crash.message), redact(crash.traceback, limit=None))


# ----------------------------------------------------------------------
# the call's process


def run_call(agent, ref, spec, args, context):
    """The body of a tool call's process: run, then report to the agent.

    A durable agent's call first waits until the store has committed its
    `started` entry (so it can only run if the journal knows it started), and
    writes its result to the journal itself before telling the agent."""
    journal = context.get("journal")
    vm.put("$agent_request", {k: context.get(k) for k in _REQUEST_KEYS})
    vm.process_flag("label", f"tool {spec['name']}")
    if journal is not None:
        from . import store

        store.sync(journal[0])
    span = _open_span(spec, context, args)
    fn, blocking = spec["fn"], spec["blocking"]
    try:
        if blocking == "thread":
            value = vm.to_thread(fn, **args)
        elif blocking == "process":
            value = vm.to_process(_call_with_kwargs, fn, args)
        elif blocking == "port":
            value = fn(spec["command"], args)  # commands.run_command: a port of this process
        else:
            value = fn(**args)
        text = result_text(value)
    except Exception as e:  # vm.Exit (a BaseException) is not the tool's failure: let it go
        if span is not None:
            end_span(span, error=e)
        if spec["policy"] == "crash":
            raise vm.Exit(("tool_crashed", spec["name"], redacted_crash(e))) from None
        outcome = ("error", error_text(e))
    else:
        if span is not None:
            from .tracing import capture_content

            end_span(span, attributes={"gen_ai.tool.call.result": redact(text)}
                     if capture_content() else None)
        outcome = ("ok", text)
    if journal is not None:
        from .journal import write_raw

        write_raw(journal, context["call_id"], {"ok": outcome[0] == "ok", "text": outcome[1]})
    vm.send(agent, ("$agent_tool", ref, outcome))


_REQUEST_KEYS = ("request_id", "agent", "call_id", "tool", "metadata", "principal")


def _open_span(spec, context, args):
    from .tracing import capture_content, collector

    if collector() is None:
        return None
    from .spans import tool_attributes

    return start_span(f"execute_tool {spec['name']}",
                      tool_attributes(spec, context.get("call_id"), args, capture_content()))


def _call_with_kwargs(fn, kwargs):
    return fn(**kwargs)


def current_request() -> dict | None:
    """Inside a tool call: {"request_id", "agent", "call_id", "tool", "metadata",
    "principal"} of the request it serves (None elsewhere). Metadata is what the
    asker passed; principal is who asked."""
    return vm.get("$agent_request")
