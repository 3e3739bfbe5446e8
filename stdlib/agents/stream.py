"""Assembling a streamed reply: chunks in, deltas out, one reply at the end.

What this module owns: the part of streaming that does not care where the
chunks come from. A `ReplyAccumulator` takes the chunks of an
OpenAI-compatible stream (already parsed from JSON) and

- returns, for each chunk, the *deltas* the caller is shown: `{"content":
  text}` for a piece of the answer and `{"tool_call": {"index", "id",
  "name", "arguments"}}` for a piece of a tool call (`id` and `name` only on
  the call's first fragment, `arguments` a piece of a JSON string);
- joins tool-call fragments into whole calls. Fragments are joined per
  `index`; a fragment that carries an `id` different from the call already
  open at that index starts a new call (some servers number every call 0
  and tell them apart by id);
- records the finish reason, the model and reply ids, and the usage (the
  last chunk of a stream with `include_usage` has no choices, only usage);
- raises `ModelError("stream_error")` for an error object in the middle of
  the stream.

`reply()` gives the finished reply in the model interface's shape (see
model.py). The scripted model streams through the same class, so a test of
streaming on the scripted model exercises this code too.

What it refuses: bytes and events (sse.py), HTTP (http.py).
"""

from __future__ import annotations

from .errors import ModelError

__all__ = ["ReplyAccumulator", "parse_arguments"]


class _Call:
    __slots__ = ("index", "id", "name", "parts")

    def __init__(self, index, id_):
        self.index = index
        self.id = id_
        self.name = ""
        self.parts: list[str] = []


class ReplyAccumulator:
    def __init__(self):
        self.content: list[str] = []
        self.calls: list[_Call] = []
        self._open: dict = {}  # index -> the call fragments with that index go to
        self.finish_reason = None
        self.usage = None
        self.model = None
        self.id = None
        self.chunks = 0

    def add(self, chunk) -> list[dict]:
        """Take one parsed chunk; return the deltas to show for it."""
        if type(chunk) is not dict:
            raise ModelError("bad_response",
                             f"a stream chunk must be a JSON object, not {chunk!r}"[:300])
        if "error" in chunk and chunk["error"]:
            err = chunk["error"]
            message = err.get("message") if isinstance(err, dict) else str(err)
            code = err.get("code") if isinstance(err, dict) else None
            raise ModelError("stream_error", str(message or err), code=code)
        self.chunks += 1
        self.id = chunk.get("id") or self.id
        self.model = chunk.get("model") or self.model
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        deltas = []
        for choice in chunk.get("choices") or ():
            if type(choice) is not dict or choice.get("index", 0) != 0:
                continue  # n > 1 is not asked for; other choices are ignored
            delta = choice.get("delta") or {}
            text = delta.get("content")
            if text:
                self.content.append(text)
                deltas.append({"content": text})
            for frag in delta.get("tool_calls") or ():
                deltas.append(self._fragment(frag))
            if choice.get("finish_reason"):
                self.finish_reason = choice["finish_reason"]
        return deltas

    def _fragment(self, frag) -> dict:
        if type(frag) is not dict:
            raise ModelError("bad_response",
                             f"a tool-call fragment must be an object: {frag!r}"[:300])
        index = frag.get("index", 0)
        id_ = frag.get("id") or None
        call = self._open.get(index)
        if call is None or (id_ is not None and call.id is not None and id_ != call.id):
            call = _Call(index, id_)
            self.calls.append(call)
            self._open[index] = call
        elif id_ is not None and call.id is None:
            call.id = id_
        fn = frag.get("function") or {}
        name = fn.get("name")
        if name:
            call.name += name
        args = fn.get("arguments")
        if args:
            call.parts.append(args)
        out = {"index": self.calls.index(call)}
        if id_ is not None:
            out["id"] = id_
        if name:
            out["name"] = name
        out["arguments"] = args or ""
        return {"tool_call": out}

    def reply(self) -> dict:
        calls = []
        for n, c in enumerate(self.calls):
            text = "".join(c.parts)
            calls.append({"id": c.id or f"call_{n}", "name": c.name, "arguments_text": text,
                          "arguments": parse_arguments(text)})
        finish = self.finish_reason or ("tool_calls" if calls else "stop")
        return {
            "content": "".join(self.content) if self.content else None,
            "tool_calls": calls,
            "finish_reason": finish,
            "usage": usage_of(self.usage),
            "model": self.model,
            "id": self.id,
        }


def parse_arguments(text):
    """A tool call's arguments as a dict, or ("invalid_json", message) when the model
    wrote something that is not a JSON object (the agent tells the model so)."""
    import json

    if text is None or text.strip() == "":
        return {}
    try:
        value = json.loads(text)
    except ValueError as e:
        return ("invalid_json", f"arguments are not valid JSON ({e})")
    if type(value) is not dict:
        return ("invalid_json", "arguments must be a JSON object")
    return value


def usage_of(raw) -> dict:
    """OpenAI's usage object in the model interface's names (input/output tokens)."""
    if type(raw) is not dict:
        return {"input_tokens": 0, "output_tokens": 0, "reported": False}
    inp = raw.get("prompt_tokens", raw.get("input_tokens", 0)) or 0
    out = raw.get("completion_tokens", raw.get("output_tokens", 0)) or 0
    return {"input_tokens": int(inp), "output_tokens": int(out), "reported": True}
