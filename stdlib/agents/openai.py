"""The OpenAI-compatible chat-completions client.

What this module owns: one model attempt against any server that speaks
OpenAI's chat-completions API (OpenAI, Azure's compatible endpoints, vLLM,
Ollama, llama.cpp's server, LM Studio, LiteLLM, ...), over http.py, so a
thousand agents waiting on a slow model are a thousand parked processes.

    model = openai_model()                      # all from the environment
    model = openai_model(base_url="http://localhost:11434/v1", model="llama3.1",
                         price={"input": 0.15, "output": 0.60}, timeout=120)

Configuration, by argument or else by environment variable:

    argument         environment             default
    base_url         OPENAI_BASE_URL         https://api.openai.com/v1
    api_key          OPENAI_API_KEY          (none: no Authorization header)
    model            BEAMLET_MODEL           gpt-4o-mini
    timeout          BEAMLET_MODEL_TIMEOUT   600 s, the total deadline of one call
    connect_timeout  BEAMLET_CONNECT_TIMEOUT 10 s
    max_retries      BEAMLET_MAX_RETRIES     2
    price            BEAMLET_PRICE_INPUT,    none (money per million input and
                     BEAMLET_PRICE_OUTPUT    output tokens; needed for cost limits)

The request goes to `{base_url}/chat/completions` (a base URL with no path
gets `/v1` first, as local servers are usually given by host and port).
The key never enters a term: the model holds a handle (redact.py) that the
connection process reveals when it writes the request.

A reply is streamed (server-sent events with `stream_options.include_usage`)
when the caller asked for deltas, otherwise read whole; `stream=True/False`
forces either. Failures become `ModelError`s whose kind follows the status
(retry.py); the server's own error message is kept, redacted.

What it refuses: retrying (model.complete does it, for every provider) and
the Responses API, embeddings, audio and images.
"""

from __future__ import annotations

import json
import os

import vm

from . import http, retry
from . import model as _model
from .errors import ModelError
from .options import count, seconds
from .redact import is_secret, redact, secret, secret_from_env
from .sse import SSEParser
from .stream import ReplyAccumulator, parse_arguments, usage_of

__all__ = ["attempt", "openai_model", "wire_request"]

DEFAULT_BASE_URL = "https://api.openai.com/v1"
DEFAULT_MODEL = "gpt-4o-mini"
_TOKEN_FIELDS = ("max_tokens", "max_completion_tokens")


def openai_model(*, base_url=None, api_key=None, model=None, timeout=None, connect_timeout=None,
                 max_retries=None, price=None, rate_limit=None, max_tokens=None, ca_file=None,
                 headers=None, stream=None, max_tokens_field="max_tokens") -> dict:
    """A model dict for an OpenAI-compatible endpoint (see the module docstring)."""
    env = os.environ
    base_url = base_url or env.get("OPENAI_BASE_URL") or DEFAULT_BASE_URL
    http._split(base_url)  # refuse a URL we cannot use, now rather than at the first call
    if api_key is None:
        key = secret_from_env("OPENAI_API_KEY")
    elif is_secret(api_key):
        key = api_key
    elif isinstance(api_key, str):
        key = secret(api_key, "openai")
    else:
        raise vm.BadArg("api_key must be a str or a handle from agents.secret()")
    if price is None and (env.get("BEAMLET_PRICE_INPUT") or env.get("BEAMLET_PRICE_OUTPUT")):
        price = {"input": _env_float("BEAMLET_PRICE_INPUT", 0.0),
                 "output": _env_float("BEAMLET_PRICE_OUTPUT", 0.0)}
    if max_tokens_field not in _TOKEN_FIELDS:
        raise vm.BadArg(f"max_tokens_field must be one of {_TOKEN_FIELDS}")
    if stream not in (None, True, False):
        raise vm.BadArg(f"stream must be True, False or None (stream when asked), not {stream!r}")
    extra = []
    for k, v in (headers or {}).items():
        if not isinstance(k, str) or not (isinstance(v, str) or is_secret(v)):
            raise vm.BadArg(f"headers must map str to str (or a secret handle), not {k!r}: {v!r}")
        extra.append((k, v))
    from . import ratelimit

    return {
        "provider": "openai",
        "name": model or env.get("BEAMLET_MODEL") or DEFAULT_MODEL,
        "base_url": base_url.rstrip("/"),
        "api_key": key,
        "timeout": seconds("timeout", timeout if timeout is not None
                           else _env_float("BEAMLET_MODEL_TIMEOUT", 600.0)),
        "connect_timeout": seconds("connect_timeout", connect_timeout if connect_timeout
                                   is not None else _env_float("BEAMLET_CONNECT_TIMEOUT", 10.0)),
        "max_retries": count("max_retries", max_retries if max_retries is not None
                             else int(env.get("BEAMLET_MAX_RETRIES", "2")), allow_none=False),
        "price": _model.check_price(price),
        "rate_limit": ratelimit.check_limits(rate_limit),
        "max_tokens": count("max_tokens", max_tokens, minimum=1),
        "max_tokens_field": max_tokens_field,
        "ca_file": ca_file,
        "headers": extra,
        "stream": stream,
    }


def _env_float(name, default):
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise vm.BadArg(f"environment variable {name}={raw!r} is not a number") from None


def endpoint(model) -> str:
    base = model["base_url"]
    if http._split(base)[3] == "/":
        base += "/v1"
    return base + "/chat/completions"


# ----------------------------------------------------------------------
# one attempt


def attempt(model, request, ctx) -> dict:
    stream = model.get("stream")
    if stream is None:
        stream = ctx["stream_to"] is not None
    body = json.dumps(wire_request(model, request, stream)).encode("utf-8")
    headers = [("content-type", "application/json"),
               ("accept", "text/event-stream" if stream else "application/json"),
               ("user-agent", "beamlet-agents/0.1")]
    key = model["api_key"]
    if key[1] == "mem" or os.environ.get(key[2]):
        headers.append(("authorization", ("bearer", key)))
    headers += model.get("headers") or []
    try:
        with http.request("POST", endpoint(model), headers=headers, body=body,
                          connect_timeout=model.get("connect_timeout"),
                          deadline=ctx["deadline"], ca_file=model.get("ca_file")) as resp:
            if not 200 <= resp.status < 300:
                raise _status_error(resp, _read_error_body(resp))
            if stream:
                return _read_stream(resp, request, ctx)
            return _read_whole(resp, request, ctx)
    except http.HTTPError as e:
        raise ModelError(e.kind, e.message) from None


def wire_request(model, request, stream) -> dict:
    """The JSON body for a request in the model interface's shape."""
    opts = request.get("options") or {}
    body = {"model": model["name"], "messages": [_wire_message(m) for m in request["messages"]],
            model.get("max_tokens_field", "max_tokens"): _model.max_tokens_of(model, request)}
    for k in ("temperature", "top_p", "stop", "seed"):
        if opts.get(k) is not None:
            body[k] = opts[k]
    tools = request.get("tools") or []
    if tools:
        body["tools"] = [{"type": "function", "function": {
            "name": t["name"], "description": t.get("description", ""),
            "parameters": t.get("parameters") or {"type": "object", "properties": {}}}}
            for t in tools]
        for k in ("tool_choice", "parallel_tool_calls"):
            if opts.get(k) is not None:
                body[k] = opts[k]
    if stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body


def _wire_message(m):
    role = m["role"]
    if role == "tool":
        return {"role": "tool", "tool_call_id": m["tool_call_id"],
                "content": m.get("content") or ""}
    out = {"role": role, "content": m.get("content")}
    if role == "assistant" and m.get("tool_calls"):
        out["tool_calls"] = [{"id": c["id"], "type": "function",
                              "function": {"name": c["name"],
                                           "arguments": c.get("arguments_text") or "{}"}}
                             for c in m["tool_calls"]]
    elif out["content"] is None:
        out["content"] = ""
    return out


# ----------------------------------------------------------------------
# reading replies


def _read_error_body(resp):
    try:
        return resp.read(1 << 20)
    except http.HTTPError:
        return b""


def _status_error(resp, raw) -> ModelError:
    message, code, type_ = None, None, None
    try:
        obj = json.loads(raw)
    except ValueError:
        obj = None
    if isinstance(obj, dict):
        err = obj.get("error", obj.get("detail"))
        if isinstance(err, dict):
            message, code, type_ = err.get("message"), err.get("code"), err.get("type")
        elif err is not None:
            message = str(err)
    if not message:
        text = raw.decode("utf-8", "replace").strip()
        message = text[:500] or f"HTTP {resp.status} {resp.reason}".strip()
    code = code if isinstance(code, (str, int)) else None
    kind = retry.status_kind(resp.status, code)
    retryable = retry.should_retry(resp.status, resp.headers, code)
    return ModelError(kind, redact(message), status=resp.status, code=code,
                      type_=type_ if isinstance(type_, str) else None, retryable=retryable,
                      retry_after=retry.retry_after(resp.headers) if retryable else None)


def _json(text, what):
    try:
        return json.loads(text)
    except ValueError as e:
        raise ModelError("bad_response", f"{what} is not valid JSON ({e}): "
                         f"{redact(text[:200])!r}") from None


def _read_whole(resp, request, ctx) -> dict:
    obj = _json(resp.read().decode("utf-8", "replace"), "the reply")
    try:
        choice = obj["choices"][0]
        msg = choice["message"]
        calls = [{"id": c["id"], "name": c["function"]["name"],
                  "arguments_text": c["function"].get("arguments") or "",
                  "arguments": parse_arguments(c["function"].get("arguments"))}
                 for c in msg.get("tool_calls") or ()]
        content = msg.get("content")
        finish = choice.get("finish_reason") or ("tool_calls" if calls else "stop")
    except (KeyError, IndexError, TypeError, AttributeError) as e:
        raise ModelError("bad_response", f"the reply lacks {e!s} where a chat completion has "
                         f"it: {redact(json.dumps(obj)[:200])}") from None
    if content:
        _model.emit(ctx, {"content": content})
    reply = {"content": content, "tool_calls": calls, "finish_reason": finish,
             "usage": usage_of(obj.get("usage")), "model": obj.get("model"), "id": obj.get("id")}
    return _with_usage(reply, request)


def _read_stream(resp, request, ctx) -> dict:
    parser, acc, done = SSEParser(), ReplyAccumulator(), False
    try:
        for chunk in resp.chunks():
            for event in parser.feed(chunk):
                if done:
                    continue
                if event.data.strip() == "[DONE]":
                    done = True
                    continue
                for delta in acc.add(_json(event.data, "a stream chunk")):
                    _model.emit(ctx, delta)
    except ValueError as e:  # an SSE line beyond the parser's limit
        raise ModelError("protocol", str(e)) from None
    if not done and acc.finish_reason is None:
        raise ModelError("connection", f"the stream ended after {acc.chunks} chunks without "
                         "[DONE] or a finish reason (dropped mid-stream)")
    return _with_usage(acc.reply(), request)


def _with_usage(reply, request):
    """Servers that report no usage get an estimate, marked as such."""
    if not reply["usage"]["reported"]:
        out = _model.estimate_tokens(reply["content"]) + sum(
            _model.estimate_tokens(c["arguments_text"]) for c in reply["tool_calls"])
        reply["usage"] = {"input_tokens": _model.estimate_input_tokens(request),
                          "output_tokens": out, "reported": False}
    return reply
