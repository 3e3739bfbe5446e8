"""Spans reach OpenTelemetry's exporters with the ids beamlet made (the otel extra)."""

import pytest

from stdlib import agents
from stdlib.agents import reply, scripted_model, tool_call, tool_call_step, tracing
from vm.testing import run

pytest.importorskip("opentelemetry.sdk.trace",
                    reason="the otel extra is not installed: pip install 'beamlet[otel]'")

from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: E402
    InMemorySpanExporter,
)
from opentelemetry.trace import SpanKind, StatusCode  # noqa: E402


@agents.tool
def lookup(term: str) -> str:
    """Look a term up."""
    if term == "boom":
        raise ValueError("no such term")
    return f"{term}: a process"


class Helper(agents.Agent):
    tools = [lookup]


def test_spans_reach_the_in_memory_exporter_with_the_same_ids():
    exporter = InMemorySpanExporter()

    def main():
        tracing.start(otel=exporter)
        a = agents.start_link(Helper, {"model": scripted_model([
            tool_call_step([tool_call("lookup", {"term": "pid"}),
                            tool_call("lookup", {"term": "boom"})]),
            reply("A pid names a process.")])})
        with agents.span("question") as root:
            agents.ask(a, "what is a pid?")
        tracing.flush()
        return root.context, tracing.spans(root.trace_id)

    root, records = run(main)
    finished = exporter.get_finished_spans()
    assert len(finished) == len(records) == 6
    by_id = {f"{s.context.span_id:016x}": s for s in finished}
    for r in records:
        s = by_id[r["span_id"]]
        assert s.name == r["name"]
        assert f"{s.context.trace_id:032x}" == root["trace_id"]
        if r["parent_span_id"]:
            assert f"{s.parent.span_id:016x}" == r["parent_span_id"]
        else:
            assert s.parent is None
        assert s.start_time == r["start_time_unix_nano"] and s.end_time == r["end_time_unix_nano"]
        assert dict(s.attributes) == r["attributes"]
    chat = next(s for s in finished if s.name == "chat scripted")
    assert chat.kind is SpanKind.CLIENT
    assert chat.attributes["gen_ai.operation.name"] == "chat"
    failed = next(s for s in finished if s.attributes.get("error.type") == "ValueError")
    assert failed.status.status_code is StatusCode.ERROR
    assert finished[0].instrumentation_scope.name == "beamlet.agents"
    assert finished[0].resource.attributes.get("service.name")


def test_a_failing_exporter_does_not_stop_tracing():
    class Broken(InMemorySpanExporter):
        def export(self, spans):
            raise ConnectionError("collector down")

    def main():
        tracing.start(otel=Broken())
        with agents.span("one"):
            pass
        tracing.flush()
        with agents.span("two"):
            pass
        tracing.flush()
        return [s["name"] for s in tracing.spans()]

    assert run(main) == ["one", "two"]  # kept in memory; the export failure was logged
