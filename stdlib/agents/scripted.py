"""The scripted model: a model that replays a script, deterministically.

What this module owns: a model for tests, examples and teaching, and the
default when no endpoint is configured. A script is a list of *steps*; each
model attempt plays the next one:

    model = scripted_model([
        tool_call_step([tool_call("search", {"query": "otp"})], usage=(120, 15)),
        reply("OTP is a set of libraries.", latency=0.5, chunk_size=4),
        failure("rate_limited", status=429, retry_after=2.0),
        lambda request: reply(f"you said {request['messages'][-1]['content']}"),
    ])

A step is a str (the answer), a dict made by `reply`, `tool_call_step` or
`failure`, or a module-level function `fn(request) -> step` for replies that
depend on the request (a runaway agent's model that always asks for one
more tool call, an echo). A step may wait (`latency`, through `vm.sleep`,
so on the virtual clock it is instant and exact), fail (any model error
kind, with a status, a code and a `retry_after`; failures are retried by
model.complete exactly as HTTP ones), report token usage (default: the
estimate model.py uses for budgets) and stream (`chunk_size`: the content
and each call's arguments are sent as deltas of that many characters,
through the same accumulator as a real stream).

**Which step.** Attempt `cursor + n` of a call plays step `cursor + n`,
where the cursor is the number of attempts the conversation made before
(an agent counts its own; a process calling `complete` directly has one kept
in its dictionary). So each agent replays its script from the start,
whatever other agents do, and a retried failure moves on to the next step.
After the last step: `when_exhausted="error"` (a `script` model error that
says how many steps there were), `"repeat_last"` or `"cycle"`.

What it refuses: pretending to understand the prompt. Use a function step
for anything that depends on it.
"""

from __future__ import annotations

import json
import secrets as _random

import vm

from . import model as _model
from .errors import MODEL_ERROR_KINDS, ModelError
from .options import check_keys, seconds
from .stream import ReplyAccumulator

__all__ = ["echo_step", "failure", "reply", "scripted_model", "tool_call", "tool_call_step"]

_EXHAUSTED = ("error", "repeat_last", "cycle")
_STEP_KEYS = ("content", "tool_calls", "usage", "latency", "chunk_size", "finish_reason",
              "error")


def scripted_model(steps, *, when_exhausted="error", name="scripted", price=None,
                   rate_limit=None, max_tokens=None, max_retries=2, timeout=None) -> dict:
    """A model dict that replays `steps` (see the module docstring)."""
    if not isinstance(steps, (list, tuple)):
        raise vm.BadArg(f"scripted_model takes a list of steps, not {type(steps).__name__}")
    steps = [_check_step(s, i) for i, s in enumerate(steps)]
    if when_exhausted not in _EXHAUSTED:
        raise vm.BadArg(f"when_exhausted must be one of {_EXHAUSTED}, not {when_exhausted!r}")
    if not steps and when_exhausted != "error":
        raise vm.BadArg(f"when_exhausted={when_exhausted!r} needs at least one step")
    from . import ratelimit

    return {
        "provider": "scripted", "name": name, "id": "scripted:" + _random.token_hex(6),
        "steps": steps, "when_exhausted": when_exhausted, "price": _model.check_price(price),
        "rate_limit": ratelimit.check_limits(rate_limit), "max_tokens": max_tokens,
        "max_retries": max_retries, "timeout": seconds("timeout", timeout),
    }


def reply(content=None, *, tool_calls=(), usage=None, latency=0.0, chunk_size=None,
          finish_reason=None) -> dict:
    """A step that answers `content` and/or asks for `tool_calls` (made by `tool_call`).

    `usage` is `(input_tokens, output_tokens)` or a dict with those keys;
    `latency` seconds pass before the reply; `chunk_size` streams it.
    """
    step = {"content": content, "tool_calls": [_check_call(c) for c in tool_calls],
            "latency": seconds("latency", latency, allow_none=False)}
    if usage is not None:
        step["usage"] = _check_usage(usage)
    if chunk_size is not None:
        if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or chunk_size < 1:
            raise vm.BadArg(f"chunk_size must be a whole number >= 1, not {chunk_size!r}")
        step["chunk_size"] = chunk_size
    if finish_reason is not None:
        step["finish_reason"] = finish_reason
    return step


def tool_call_step(calls, content=None, **opts) -> dict:
    """A step that asks for tool calls: a list of `tool_call(...)`, or one."""
    if type(calls) is dict:
        calls = [calls]
    return reply(content, tool_calls=calls, **opts)


def tool_call(name, arguments=None, *, id=None) -> dict:  # noqa: A002 - the API's word
    """One tool call inside a step: `arguments` a dict (or a raw JSON string, to
    script a model that writes invalid JSON)."""
    return _check_call({"name": name, "arguments": arguments or {}, "id": id})


def failure(kind, message=None, *, status=None, code=None, retry_after=None,
            latency=0.0) -> dict:
    """A step that fails with a model error of `kind` (see errors.MODEL_ERROR_KINDS)."""
    if kind not in MODEL_ERROR_KINDS:
        raise vm.BadArg(f"failure kind must be one of {sorted(MODEL_ERROR_KINDS)}, not {kind!r}")
    return {"error": {"kind": kind, "message": message or f"scripted {kind}", "status": status,
                      "code": code, "retry_after": seconds("retry_after", retry_after)},
            "latency": seconds("latency", latency, allow_none=False)}


def echo_step(request):
    """The default script's step: says it is scripted, and what it was asked."""
    last = next((m.get("content") for m in reversed(request["messages"])
                 if m.get("role") == "user"), "")
    return reply(f"(scripted model; set OPENAI_BASE_URL for a real one) You said: {last}")


# ----------------------------------------------------------------------
# playing a step


def attempt(model, request, ctx) -> dict:
    """One attempt: play the step at `cursor + attempt`."""
    index = ctx["cursor"] + ctx["attempt"]
    step = _step_at(model, index)
    if callable(step):
        step = _check_step(step(request), index)
        if callable(step):
            raise ModelError("script", f"step {index}'s function returned a function")
    latency = step.get("latency") or 0.0
    if latency:
        left = _model.remaining(ctx, "the scripted model call")
        if left is not None and latency >= left:
            vm.sleep(left)
            raise ModelError("deadline", f"the scripted step {index} takes {latency} s; the "
                             f"call's deadline came first")
        vm.sleep(latency)
    err = step.get("error")
    if err is not None:
        raise ModelError(err["kind"], err["message"], status=err.get("status"),
                         code=err.get("code"), retry_after=err.get("retry_after"))
    return _play(model, request, step, ctx)


def _step_at(model, index):
    steps = model["steps"]
    n = len(steps)
    if index < n:
        return steps[index]
    mode = model["when_exhausted"]
    if mode == "repeat_last":
        return steps[-1]
    if mode == "cycle":
        return steps[index % n]
    raise ModelError("script", f"the script has {n} step{'s' if n != 1 else ''}; attempt "
                     f"{index + 1} has none (give more steps, or when_exhausted="
                     "'repeat_last' or 'cycle')")


def _play(model, request, step, ctx):
    """Build the stream chunks this step stands for and run them through the accumulator."""
    content = step.get("content")
    calls = step.get("tool_calls") or []
    size = step.get("chunk_size")
    acc = ReplyAccumulator()
    chunks = []
    if content:
        for piece in _pieces(content, size):
            chunks.append({"delta": {"content": piece}})
    for i, c in enumerate(calls):
        args = c["arguments"] if isinstance(c["arguments"], str) else json.dumps(c["arguments"])
        call_id = c.get("id") or f"call_{ctx['cursor'] + ctx['attempt']}_{i}"
        first = True
        for piece in _pieces(args, size) or [""]:
            frag = {"index": i, "function": {"arguments": piece}}
            if first:
                frag["id"] = call_id
                frag["function"]["name"] = c["name"]
                first = False
            chunks.append({"delta": {"tool_calls": [frag]}})
    finish = step.get("finish_reason") or ("tool_calls" if calls else "stop")
    chunks.append({"delta": {}, "finish_reason": finish})
    for chunk in chunks:
        wire = {"id": "scripted", "model": model["name"],
                "choices": [{"index": 0, "delta": chunk["delta"],
                             "finish_reason": chunk.get("finish_reason")}]}
        for delta in acc.add(wire):
            _model.emit(ctx, delta)
    result = acc.reply()
    usage = step.get("usage")
    if usage is None:
        out = _model.estimate_tokens(content) + sum(
            _model.estimate_tokens(c["arguments_text"]) + 4 for c in result["tool_calls"])
        usage = {"input_tokens": _model.estimate_input_tokens(request), "output_tokens": out}
    result["usage"] = dict(usage, reported=True)
    return result


def _pieces(text, size):
    if not text:
        return []
    if not size:
        return [text]
    return [text[i:i + size] for i in range(0, len(text), size)]


# ----------------------------------------------------------------------
# checking steps


def _check_step(step, index):
    if isinstance(step, str):
        return reply(step)
    if callable(step):
        return step
    if type(step) is not dict:
        raise vm.BadArg(f"script step {index} must be a str, a dict from reply()/"
                        f"tool_call_step()/failure() or a function, not {type(step).__name__}")
    check_keys(f"script step {index}", step, _STEP_KEYS)
    return step


def _check_call(c):
    if type(c) is not dict or not isinstance(c.get("name"), str) or not c["name"]:
        raise vm.BadArg(f"a scripted tool call is tool_call(name, arguments), not {c!r}")
    args = c.get("arguments") or {}
    if not isinstance(args, (dict, str)):
        raise vm.BadArg(f"tool_call arguments must be a dict (or a JSON string), not {args!r}")
    out = {"name": c["name"], "arguments": args}
    if c.get("id"):
        out["id"] = c["id"]
    return out


def _check_usage(usage):
    if type(usage) is tuple and len(usage) == 2:
        usage = {"input_tokens": usage[0], "output_tokens": usage[1]}
    usage = check_keys("usage", usage, ("input_tokens", "output_tokens"))
    for k in ("input_tokens", "output_tokens"):
        v = usage.get(k, 0)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise vm.BadArg(f"usage[{k!r}] must be a whole number >= 0, not {v!r}")
        usage[k] = v
    return usage
