"""The model interface: a request in, a reply out, deltas as messages.

What this module owns: the one function every model call goes through,
`complete(model, request)`, and the shapes it takes and gives. A *model* is
a dict of terms made by a provider's constructor (`openai_model(...)`,
`scripted_model(...)`), so it can sit in an agent's start arguments, a
child spec or a message; it never holds a key (see redact.py).

    request = {
        "messages": [{"role": "system" | "user" | "assistant" | "tool", "content": str,
                      # assistant: "tool_calls": [{"id", "name", "arguments_text"}]
                      # tool:      "tool_call_id": id, "name": tool name
                      }, ...],
        "tools":    [{"name", "description", "parameters": <JSON Schema>}, ...],
        "options":  {"max_tokens", "temperature", "top_p", "stop", "seed",
                     "tool_choice", "parallel_tool_calls", "stream"},
        "metadata": {...},   # travels with the request (hooks, tracing); never sent
        "cursor":   int,     # model attempts made before this one in the conversation
    }
    reply = {
        "content": str | None,
        "tool_calls": [{"id", "name", "arguments": dict | ("invalid_json", why),
                        "arguments_text": str}],
        "finish_reason": "stop" | "tool_calls" | "length" | "content_filter",
        "usage": {"input_tokens", "output_tokens", "reported": bool},
        "cost": float | None,   # from the model's prices per million tokens
        "model": str, "id": str, "attempts": int,
    }

**Streaming.** With `stream_to=pid`, the reply is also delivered piece by
piece as messages `("model_delta", tag, delta)` to `pid`, where `delta` is
`{"content": text}` or `{"tool_call": {"index", "id", "name", "arguments"}}`
(see stream.py); the reply returned at the end is the whole of it.

**Retries** (retry.py's rules) happen here, for every provider: a scripted
429 is retried exactly as an HTTP one. A streamed attempt that has already
delivered deltas is not retried (the caller has seen part of a reply).
Every wait goes through `vm.sleep` or a receive, so killing the calling
process stops a call at once, wherever it is.

**Rate limits.** A model with `rate_limit` queues each attempt in its
provider's limiter process first (ratelimit.py).

**Providers.** `model["provider"]` names one: "openai" (openai.py) or
"scripted" (scripted.py). A model may instead carry `"attempt": fn`, a
module-level function `fn(model, request, ctx) -> reply` (one attempt;
raise `ModelError` to fail) to plug in any other backend.

What it refuses: agent logic (agent.py) and budgets (budget.py): a model
call spends what it is given, the caller decides whether it may.
"""

from __future__ import annotations

import logging
import math
import os
import random

import vm

from . import ratelimit, retry
from .errors import ModelError
from .options import check_keys, left_until

__all__ = ["complete", "cost_of", "default_model", "estimate_input_tokens", "estimate_tokens",
           "max_tokens_of"]

DEFAULT_MAX_TOKENS = 1024
_log = logging.getLogger("beamlet.agents")
_REQUEST_KEYS = ("messages", "tools", "options", "metadata", "cursor")
_OPTION_KEYS = ("max_tokens", "temperature", "top_p", "stop", "seed", "tool_choice",
                "parallel_tool_calls", "stream")
_ROLES = ("system", "developer", "user", "assistant", "tool")
_told_scripted = False


def _providers():
    from . import openai, scripted  # late: they import this module's helpers

    return {"openai": openai.attempt, "scripted": scripted.attempt}


def complete(model, request, *, stream_to=None, tag=None, deadline=None) -> dict:
    """Make one model call (with its retries) and return the reply.

    `deadline` is a `vm.monotonic()` time after which the call gives up
    with `ModelError("deadline")`; the model's own `timeout` (seconds per
    call) applies too, whichever comes first. Raises `ModelError`.
    """
    attempt_fn = _attempt_fn(model)
    check_request(request)
    if stream_to is not None and type(stream_to) is not vm.Pid:
        raise vm.BadArg(f"complete: stream_to must be a Pid, not {stream_to!r}")
    from . import tracing

    if tracing.collector() is None:
        return _complete(attempt_fn, model, request, stream_to, tag, deadline)
    # a `chat {model}` span around the call and its retries (spans.py names the attributes)
    from .spans import chat_attributes, chat_reply_attributes
    from .tracecontext import end_span, start_span

    capture = tracing.capture_content()
    span = start_span(f"chat {model.get('name') or model['provider']}",
                      chat_attributes(model, request, capture), kind="client")
    try:
        reply = _complete(attempt_fn, model, request, stream_to, tag, deadline)
    except ModelError as e:
        end_span(span, error=e, attributes={"error.type": e.kind,
                                            "beamlet.attempts": e.attempts or 1})
        raise
    except Exception as e:
        end_span(span, error=e)
        raise
    end_span(span, attributes=chat_reply_attributes(reply, capture))
    return reply


def _complete(attempt_fn, model, request, stream_to, tag, deadline):
    now = vm.monotonic()
    limit = model.get("timeout")
    if limit is not None:
        deadline = now + limit if deadline is None else min(deadline, now + limit)
    max_retries = model.get("max_retries", retry.DEFAULT_MAX_RETRIES)
    cursor = request.get("cursor")
    own_cursor = cursor is None
    if own_cursor:  # used outside an agent: this process keeps the count
        cursor = vm.get(("$model_cursor", model.get("id"))) or 0
    ctx = {"stream_to": stream_to, "tag": tag, "deadline": deadline, "emitted": 0,
           "cursor": cursor, "attempt": 0}
    tokens = (estimate_input_tokens(request) + max_tokens_of(model, request)
              if model.get("rate_limit") else 0)
    attempts = 0
    try:
        while True:
            ctx["attempt"] = attempts
            attempts += 1
            grant = ratelimit.acquire(model, tokens, deadline) if model.get("rate_limit") else None
            try:
                reply = attempt_fn(model, request, ctx)
            except ModelError as e:
                if grant is not None:
                    ratelimit.settle(grant, 0)
                e.attempts = attempts
                delay = _retry_delay(e, attempts - 1, max_retries, ctx)
                if delay is None:
                    raise ModelError(e.kind, e.message, status=e.status, code=e.code,
                                     type_=e.type, retryable=e.retryable,
                                     attempts=attempts) from None
                _log.info("model call failed (%s); retry %d of %d in %.2f s",
                          e.kind, attempts, max_retries, delay)
                vm.sleep(delay)
                continue
            if grant is not None:
                used = reply["usage"]
                ratelimit.settle(grant, used["input_tokens"] + used["output_tokens"])
            reply["attempts"] = attempts
            reply["cost"] = cost_of(model, reply["usage"])
            return reply
    finally:
        if own_cursor:
            vm.put(("$model_cursor", model.get("id")), cursor + attempts)


def _retry_delay(e, retries_so_far, max_retries, ctx):
    """Seconds to wait before trying again, or None when this failure is final."""
    if not e.retryable or retries_so_far >= max_retries or ctx["emitted"]:
        return None
    delay = e.retry_after if e.retry_after is not None else retry.backoff(retries_so_far, _rng)
    deadline = ctx["deadline"]
    if deadline is not None and vm.monotonic() + delay >= deadline:
        return None
    return delay


_rng = random.Random()


def emit(ctx, delta) -> None:
    """Providers call this for each piece of a streamed reply."""
    if ctx["stream_to"] is not None:
        ctx["emitted"] += 1
        vm.send(ctx["stream_to"], ("model_delta", ctx["tag"], delta))


def remaining(ctx, what="the model call"):
    """Seconds left before the call's deadline (None: no deadline); raises when none are."""
    left = left_until(ctx["deadline"])
    if left is not None and left <= 0:
        raise ModelError("deadline", f"{what} did not finish before its deadline")
    return left


# ----------------------------------------------------------------------
# checking


def check_model(model) -> None:
    """Refuse anything that is not a model dict of a known provider."""
    _attempt_fn(model)


def _attempt_fn(model):
    if type(model) is not dict or "provider" not in model:
        raise vm.BadArg(
            f"a model is the dict a provider's constructor returns (openai_model(...), "
            f"scripted_model(...)), not {type(model).__name__}"
        )
    custom = model.get("attempt")
    if custom is not None:
        if not callable(custom):
            raise vm.BadArg(f"model['attempt'] must be a function, not {custom!r}")
        return custom
    fn = _providers().get(model["provider"])
    if fn is None:
        raise vm.BadArg(f"unknown model provider {model['provider']!r}; known: openai, "
                        "scripted (or give the model an 'attempt' function)")
    return fn


def check_request(request) -> None:
    check_keys("model request", request, _REQUEST_KEYS)
    messages = request.get("messages")
    if type(messages) is not list or not messages:
        raise vm.BadArg("a model request needs 'messages': a non-empty list")
    for i, m in enumerate(messages):
        if type(m) is not dict or m.get("role") not in _ROLES:
            raise vm.BadArg(f"messages[{i}] must be a dict with a 'role' in {_ROLES}, not {m!r}")
    check_keys("model request options", request.get("options"), _OPTION_KEYS)
    tools = request.get("tools") or []
    if type(tools) is not list:
        raise vm.BadArg("a model request's 'tools' must be a list of tool schemas")
    for t in tools:
        if type(t) is not dict or not isinstance(t.get("name"), str):
            raise vm.BadArg(f"a tool schema is a dict with a 'name', not {t!r}")


# ----------------------------------------------------------------------
# tokens and money


def estimate_tokens(text) -> int:
    """A deliberately high estimate of a text's tokens: one per three bytes of UTF-8.

    (Real tokenizers average about four bytes per token in English; a budget
    reservation should err towards the high side.)"""
    if not text:
        return 0
    return math.ceil(_utf8_len(text) / 3)


def _utf8_len(text) -> int:
    text = str(text)
    return len(text) if text.isascii() else len(text.encode("utf-8"))


def estimate_input_tokens(request) -> int:
    """An upper-leaning estimate of what a request costs in input tokens: the
    estimate of its text plus four tokens of framing per message and per call."""
    size = items = 0
    for m in request.get("messages") or ():
        items += 1
        content = m.get("content")
        if content:
            size += _utf8_len(content)
        for c in m.get("tool_calls") or ():
            items += 1
            size += _utf8_len(c.get("name") or "") + _utf8_len(c.get("arguments_text") or "")
    for t in request.get("tools") or ():
        size += _utf8_len(repr(t))
    return math.ceil(size / 3) + 4 * items


def max_tokens_of(model, request) -> int:
    """The output tokens a call may produce: the request's max_tokens, else the model's."""
    opts = request.get("options") or {}
    n = opts.get("max_tokens") or model.get("max_tokens") or DEFAULT_MAX_TOKENS
    return int(n)


def cost_of(model, usage):
    """Money spent for `usage` at the model's prices per million tokens (None: no prices)."""
    price = model.get("price")
    if not price:
        return None
    return (usage.get("input_tokens", 0) * price.get("input", 0.0)
            + usage.get("output_tokens", 0) * price.get("output", 0.0)) / 1_000_000


def check_price(price):
    if price is None:
        return None
    price = check_keys("price (per million tokens)", price, ("input", "output"))
    for k, v in price.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise vm.BadArg(f"price[{k!r}] must be a number >= 0 (money per million tokens)")
    return {"input": float(price.get("input", 0.0)), "output": float(price.get("output", 0.0))}


# ----------------------------------------------------------------------
# the default


def default_model(script=None, **options):
    """The model to use when the program names none.

    With `OPENAI_BASE_URL` set, an OpenAI-compatible model configured from
    the environment (`OPENAI_API_KEY`, `BEAMLET_MODEL`); otherwise the
    scripted model playing `script` (by default one that answers each
    prompt with a short note saying it is scripted), and a log line, once
    per OS process, saying so.
    """
    global _told_scripted
    from . import openai, scripted

    if os.environ.get("OPENAI_BASE_URL"):
        return openai.openai_model(**options)
    if not _told_scripted:
        _told_scripted = True
        _log.warning("no model endpoint configured (OPENAI_BASE_URL is not set): agents use "
                     "the scripted model, which replays a fixed script. Set OPENAI_BASE_URL "
                     "(and OPENAI_API_KEY, BEAMLET_MODEL) to talk to a real model.")
    steps = script if script is not None else [scripted.echo_step]
    return scripted.scripted_model(steps, when_exhausted="repeat_last" if script is None
                                   else "error", **options)
