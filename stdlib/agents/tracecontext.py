"""Trace context that rides on messages, and spans around any block of code.

What this module owns: a process's *trace context* (a trace id and the id
of the current span) and the spans opened under it. The context lives in
the runtime's trace token (`vm.lowlevel.trace_token`), as Erlang's
seq_trace token does: while a process has one, every message it sends
(sends, calls, casts, replies) carries it, every process it spawns
inherits it, and a process that receives a message takes the message's
context as its own. So a request's work joins one trace across agents,
model calls, tools and anything they ask, with nothing passed by hand.

    with agents.span("handle ticket", ticket="T-17") as s:
        answer = agents.ask("support", question)   # the agent's spans join s's trace
    s.trace_id, s.span_id

    agents.trace_context()                  # {"trace_id", "span_id"} or None
    agents.set_trace_context(ctx)           # a dict as above, or a W3C traceparent
    agents.clear_trace_context()

The token is the term `("$trace", trace_id, span_id)` (ids as lowercase
hex, 32 and 16 digits, as W3C Trace Context and OpenTelemetry write them);
a token of another shape (set by other code through `vm.lowlevel`) is
left alone and is not a trace context.

**Recording.** A span is recorded (sent to the span collector, tracing.py)
only while tracing is on (`agents.tracing.start(...)`); otherwise opening
one only makes ids, so a context still travels and a later collector, or a
trace started elsewhere (`set_trace_context(traceparent)`), sees joined work.
Span times are the node's clock (`vm.monotonic()`, so virtual in tests)
anchored to the wall clock once per node.

What it refuses: the runtime's part (vm.lowlevel carries the token) and
what spans say (spans.py names the attributes; tracing.py writes them).
"""

from __future__ import annotations

import contextlib
import random
import re
import time
import weakref

import vm
from vm import lowlevel

__all__ = ["Span", "clear_trace_context", "current", "end_span", "new_span_id",
           "new_trace_id", "reassert", "set_trace_context", "span", "start_span",
           "trace_context", "traceparent"]

TAG = "$trace"
OPEN = "$trace_open"  # the process dictionary key of the innermost open span
_rng = random.Random()
_anchors: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
_HEX = re.compile(r"^[0-9a-f]+$")


def new_trace_id() -> str:
    return f"{_rng.getrandbits(128) or 1:032x}"


def new_span_id() -> str:
    return f"{_rng.getrandbits(64) or 1:016x}"


# ----------------------------------------------------------------------
# the context


def current():
    """The caller's context as `(trace_id, span_id)`, or None (cheap: no dict made).

    The innermost span open in this process wins; otherwise it is the context
    of the last message received (or inherited at spawn), as seq_trace's
    token is. So a reply from a peer that answered from inside a span of its
    own does not re-parent the spans this process opens next."""
    opened = vm.get(OPEN)
    if opened is not None:
        return opened
    token = lowlevel.trace_token()
    if type(token) is tuple and len(token) == 3 and token[0] == TAG:
        return token[1], token[2]
    return None


def reassert():
    """Make the messages the caller sends next carry its current context (after a
    receive may have replaced the runtime token): asks and spawns call this."""
    opened = vm.get(OPEN)
    if opened is not None:
        token = (TAG, opened[0], opened[1])
        if lowlevel.trace_token() != token:
            lowlevel.set_trace_token(token)


def trace_context():
    """The calling process's trace context: `{"trace_id", "span_id"}`, or None."""
    ctx = current()
    return None if ctx is None else {"trace_id": ctx[0], "span_id": ctx[1]}


def set_trace_context(ctx):
    """Make `ctx` the caller's trace context: a dict `{"trace_id", "span_id"}`, a W3C
    `traceparent` header value, or None (clears it). Returns the previous context."""
    old = trace_context()
    if ctx is None:
        lowlevel.set_trace_token(None)
        vm.erase(OPEN)
        return old
    if isinstance(ctx, str):
        m = _TRACEPARENT.match(ctx.strip().lower())
        if m is None:
            raise vm.BadArg(f"not a W3C traceparent ('00-<32 hex>-<16 hex>-<2 hex>'): {ctx!r}")
        tid, sid = m.group(1), m.group(2)
    elif type(ctx) is dict:
        tid, sid = ctx.get("trace_id"), ctx.get("span_id")
    else:
        raise vm.BadArg(f"a trace context is a dict {{'trace_id', 'span_id'}}, a traceparent "
                        f"string or None, not {ctx!r}")
    _check_id("trace_id", tid, 32)
    _check_id("span_id", sid, 16)
    lowlevel.set_trace_token((TAG, tid, sid))
    vm.erase(OPEN)
    return old


def clear_trace_context():
    """Forget the caller's trace context (its messages carry none from now on)."""
    return set_trace_context(None)


def traceparent(ctx=None):
    """The W3C `traceparent` value of `ctx` (default: the caller's), or None."""
    if ctx is None:
        ctx = trace_context()
        if ctx is None:
            return None
    return f"00-{ctx['trace_id']}-{ctx['span_id']}-01"


def _check_id(what, value, digits):
    if not isinstance(value, str) or len(value) != digits or not _HEX.match(value) \
            or value == "0" * digits:
        raise vm.BadArg(f"{what} must be {digits} lowercase hex digits, not all zero; "
                        f"got {value!r}")


def token_of(ctx):
    """The runtime token for a `(trace_id, span_id)` pair (None for None)."""
    return None if ctx is None else (TAG, ctx[0], ctx[1])


# ----------------------------------------------------------------------
# spans


def now_ns() -> int:
    """The node's clock as Unix nanoseconds (anchored once per node)."""
    node = lowlevel.current_node()
    anchor = _anchors.get(node)
    mono = vm.monotonic()
    if anchor is None:
        anchor = _anchors[node] = time.time() - mono
    return int((anchor + mono) * 1e9)


def start_span(name, attributes=None, *, kind="internal", parent=None) -> dict:
    """Open a span (a dict of terms) under `parent` (a `(trace_id, span_id)` pair;
    default: the caller's context); it is the caller's context until `end_span`.
    The agent loop uses this for spans that outlive a block of code."""
    if parent is None:
        parent = current()
    sid = new_span_id()
    tid = parent[0] if parent is not None else new_trace_id()
    s = {"trace_id": tid, "span_id": sid,
         "parent_span_id": parent[1] if parent is not None else None,
         "name": name, "kind": kind, "start": now_ns(),
         "attributes": dict(attributes) if attributes else {},
         "restore": lowlevel.trace_token(), "outer": vm.get(OPEN)}
    vm.put(OPEN, (tid, sid))
    lowlevel.set_trace_token((TAG, tid, sid))
    return s


def end_span(s, *, error=None, attributes=None):
    """Close span `s`: record it if tracing is on; give the caller back the context
    it had when the span opened. `error` (an exception or a short type name) marks
    it failed, with `error.type` as OpenTelemetry names it."""
    from . import tracing

    if s["outer"] is None:
        vm.erase(OPEN)
    else:
        vm.put(OPEN, s["outer"])
    lowlevel.set_trace_token(s["restore"])
    if attributes:
        s["attributes"].update(attributes)
    collector = tracing.collector()
    if collector is None:
        return None
    record = {"trace_id": s["trace_id"], "span_id": s["span_id"],
              "parent_span_id": s["parent_span_id"], "name": s["name"], "kind": s["kind"],
              "start_time_unix_nano": s["start"], "end_time_unix_nano": now_ns(),
              "status": "ok", "status_message": None, "attributes": s["attributes"]}
    record["attributes"].setdefault("beamlet.pid", repr(vm.self()))
    if error is not None:
        etype = error if isinstance(error, str) else type(error).__qualname__
        record["status"] = "error"
        record["status_message"] = etype if isinstance(error, str) else _short(error)
        record["attributes"].setdefault("error.type", etype)
    tracing.emit(collector, record)
    return record


def _short(exc):
    from .redact import redact

    return redact(f"{type(exc).__name__}: {exc}", limit=300)


class Span:
    """`with agents.span(name, **attributes) as s:` a span around a block.

    Inside, `s.trace_id` and `s.span_id` name it, `s.set(key, value)` adds an
    attribute (names with dots, such as `gen_ai.agent.name`, go through `set`
    or `attributes=`). An exception leaving the block marks the span failed
    (`error.type` is the exception's class) and goes on."""

    __slots__ = ("_s", "kind", "name", "attributes")

    def __init__(self, name, kind="internal", attributes=None):
        if not isinstance(name, str) or not name:
            raise vm.BadArg(f"a span's name is a non-empty str, not {name!r}")
        if kind not in ("internal", "client", "server", "producer", "consumer"):
            raise vm.BadArg(f"span kind must be internal, client, server, producer or "
                            f"consumer, not {kind!r}")
        self.name = name
        self.kind = kind
        self.attributes = attributes
        self._s = None

    def __enter__(self):
        self._s = start_span(self.name, self.attributes, kind=self.kind)
        return self

    def __exit__(self, etype, exc, tb):
        with contextlib.suppress(BaseException):  # unwinding a killed process: it cannot send
            end_span(self._s, error=exc)
        return False

    @property
    def trace_id(self):
        return self._s["trace_id"]

    @property
    def span_id(self):
        return self._s["span_id"]

    @property
    def context(self):
        return {"trace_id": self._s["trace_id"], "span_id": self._s["span_id"]}

    def set(self, key, value):
        """Add or change an attribute of the open span."""
        from .spans import check_value

        self._s["attributes"][key] = check_value(key, value)
        return self


def span(name, *, kind="internal", attributes=None, **attrs) -> Span:
    """A span around a block: `with agents.span("lookup", customer="acme"):`."""
    from .spans import check_value

    merged = dict(attributes or {})
    merged.update(attrs)
    for k, v in merged.items():
        merged[k] = check_value(k, v)
    return Span(name, kind, merged)
