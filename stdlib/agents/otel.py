"""Spans to OpenTelemetry: beamlet's span records as the SDK's finished spans.

What this module owns: the conversion of a span record (tracing.py's JSON
line) into an OpenTelemetry `ReadableSpan` with the *same* trace id, span
id and parent, and handing them to a `SpanProcessor`: yours, or the SDK's
`BatchSpanProcessor` in front of a `SpanExporter` you give (OTLP, console,
in-memory, or any other), which exports on its own thread. It needs the
optional extra:

    pip install 'beamlet[otel]'        # opentelemetry-api and opentelemetry-sdk

Why the SDK and not only the API: a span's ids are made where the work
happens (in whatever process opens it) and ride on messages as the trace
context; the OpenTelemetry API can only start spans whose ids its own SDK
makes, in the same Python object graph. The SDK's exporter interface takes
finished spans as they are, so the ids in the JSON lines, the audit trail
and the tracing backend are one and the same.

The resource is the SDK's default (`OTEL_SERVICE_NAME`,
`OTEL_RESOURCE_ATTRIBUTES`), with `service.name` "beamlet" when none is
given; the instrumentation scope is "beamlet.agents" with the conventions'
schema URL.

What it refuses: deciding what to export or when (tracing.py).
"""

from __future__ import annotations

import vm

__all__ = ["export", "processor_for", "require", "to_readable_span"]

_SCOPE = "beamlet.agents"
_resource = None


def require():
    """Import the SDK, or raise BadArg naming the extra to install."""
    try:
        import opentelemetry.sdk.trace  # noqa: F401
    except ImportError:
        raise vm.BadArg("OpenTelemetry export needs the optional extra: "
                        "pip install 'beamlet[otel]' (opentelemetry-api and "
                        "opentelemetry-sdk)") from None


def _resource_():
    global _resource
    if _resource is None:
        import os

        from opentelemetry.sdk.resources import Resource

        attrs = {} if os.environ.get("OTEL_SERVICE_NAME") else {"service.name": "beamlet"}
        _resource = Resource.create(attrs)
    return _resource


def to_readable_span(record):
    """One span record as an OpenTelemetry `ReadableSpan` (the same ids)."""
    from opentelemetry.sdk.trace import ReadableSpan
    from opentelemetry.sdk.util.instrumentation import InstrumentationScope
    from opentelemetry.trace import SpanContext, SpanKind, Status, StatusCode, TraceFlags

    from .spans import SCHEMA_URL

    flags = TraceFlags(TraceFlags.SAMPLED)
    tid = int(record["trace_id"], 16)
    ctx = SpanContext(tid, int(record["span_id"], 16), is_remote=False, trace_flags=flags)
    parent = None
    if record.get("parent_span_id"):
        parent = SpanContext(tid, int(record["parent_span_id"], 16), is_remote=False,
                             trace_flags=flags)
    kind = {"client": SpanKind.CLIENT, "server": SpanKind.SERVER,
            "producer": SpanKind.PRODUCER, "consumer": SpanKind.CONSUMER}.get(
        record.get("kind"), SpanKind.INTERNAL)
    if record.get("status") == "error":
        status = Status(StatusCode.ERROR, record.get("status_message"))
    else:
        status = Status(StatusCode.OK) if record.get("status") == "ok" else Status(
            StatusCode.UNSET)
    return ReadableSpan(
        name=record["name"], context=ctx, parent=parent, resource=_resource_(),
        attributes=dict(record.get("attributes") or {}), kind=kind, status=status,
        start_time=int(record["start_time_unix_nano"]),
        end_time=int(record["end_time_unix_nano"]),
        instrumentation_scope=InstrumentationScope(_SCOPE, schema_url=SCHEMA_URL))


def processor_for(otel):
    """(span processor, owned): a SpanProcessor is used as it is; a SpanExporter is
    put behind the SDK's BatchSpanProcessor (its own thread, so no process waits
    for the network), which the collector shuts down when tracing stops."""
    if callable(getattr(otel, "on_end", None)):
        return otel, False
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    return BatchSpanProcessor(otel), True


def export(processor, records):
    """Hand finished span records to the processor (never blocks on the network)."""
    for r in records:
        processor.on_end(to_readable_span(r))
    return len(records)
