"""Tracing on and off: the span collector, JSON lines, and OpenTelemetry export.

What this module owns: the one process per node that receives finished
spans (tracecontext.py makes them), keeps the recent ones for the observer,
writes them as JSON lines to a file and, when asked, exports them through
an OpenTelemetry exporter. **Tracing is off until you start it**; nothing
is written or sent anywhere else:

    agents.tracing.start("spans.jsonl")                   # a file of JSON lines
    agents.tracing.start(otel=OTLPSpanExporter())         # any OpenTelemetry SpanExporter
    agents.tracing.start()                                # memory only: the observer's
    agents.tracing.start(capture_content=True)            # with messages (redacted)
    agents.tracing.stop()

`file` defaults to `$BEAMLET_SPANS` when that is set, else no file.
`capture_content` defaults to `$OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT`
("true" turns it on), else off. `keep` spans stay in memory for
`spans(trace_id)` and the sequence diagrams of observe.py. Under a
supervisor, `child_spec(...)` starts it as a child.

**One line per span** (`json.loads` each line): `trace_id`, `span_id`,
`parent_span_id`, `name`, `kind`, `start_time_unix_nano`,
`end_time_unix_nano`, `status` ("ok" or "error"), `status_message`,
`attributes` (spans.py names them). The first line of a file the collector
creates is a header `{"beamlet_spans": 1, "conventions": "<version>"}`.

**Batching.** Spans arrive as messages; the collector writes and exports
what it has each time its mailbox runs empty (or every `batch` spans), so
a busy node makes few writes. `otel=` takes a `SpanExporter`, which is put
behind the SDK's `BatchSpanProcessor` (it exports on its own thread, so no
process waits for the network), or a `SpanProcessor` of your own
(`SimpleSpanProcessor(exporter)` exports at once, in the collector).
`flush()` returns once every span sent before it is written and the
processor flushed.

**Cost when off.** A request checks one registered name (`collector()`),
and makes no ids and no spans; the trace context still travels (it is
the runtime's token, free while no process has one).

What it refuses: making spans (tracecontext.py) and naming attributes
(spans.py); the OpenTelemetry conversion is otel.py's.
"""

from __future__ import annotations

import json
import logging
import os
import secrets

import vm

from .. import gen_server, persistent_term
from .options import count

__all__ = ["child_spec", "collector", "enabled", "flush", "read", "spans", "start",
           "start_link", "stop"]

NAME = "beamlet.spans"
_CONFIG = ("beamlet.agents", "tracing")
_log = logging.getLogger("beamlet.agents")
#: Exporters on their way to a collector: start() puts one here, the collector's
#: init takes it (an object is no term, so it cannot travel in the start arguments).
_HANDOFF: dict = {}
DEFAULT_KEEP = 10_000
DEFAULT_BATCH = 512


def collector():
    """The span collector's pid while tracing is on, else None."""
    return vm.whereis(NAME)


def enabled() -> bool:
    return vm.whereis(NAME) is not None


def capture_content() -> bool:
    """Are message contents recorded in spans (tracing started with capture_content)?"""
    return persistent_term.get(_CONFIG, False) is True


def emit(pid, record) -> None:
    vm.send(pid, ("$span", record))


# ----------------------------------------------------------------------
# starting and stopping


def _options(file, otel, capture_content, keep, batch):
    if file is None:
        file = os.environ.get("BEAMLET_SPANS") or None
    if file is not None and not isinstance(file, (str, os.PathLike)):
        raise vm.BadArg(f"tracing: file must be a path, not {file!r}")
    if otel is not None and not callable(getattr(otel, "export", None)) and \
            not callable(getattr(otel, "on_end", None)):
        raise vm.BadArg("tracing: otel must be an OpenTelemetry SpanExporter (such as "
                        "OTLPSpanExporter() or InMemorySpanExporter()) or SpanProcessor; "
                        "install the extra: pip install 'beamlet[otel]'")
    if otel is not None:
        from . import otel as _otel

        _otel.require()
    if capture_content is None:
        flag = os.environ.get("OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT", "")
        capture_content = flag.strip().lower() == "true"
    if not isinstance(capture_content, bool):
        raise vm.BadArg(f"tracing: capture_content must be True or False, not "
                        f"{capture_content!r}")
    count("tracing keep", keep, allow_none=False)
    count("tracing batch", batch, minimum=1, allow_none=False)
    handoff = None
    if otel is not None:  # an object, not a term: handed to the collector, never sent
        handoff = "otel-" + secrets.token_hex(8)
        _HANDOFF[handoff] = otel
    return (None if file is None else os.fspath(file), handoff, capture_content, keep, batch)


def start(file=None, *, otel=None, capture_content=None, keep=DEFAULT_KEEP,
          batch=DEFAULT_BATCH):
    """Turn tracing on for this node; returns the collector's pid (not linked)."""
    return _start(gen_server.start, _options(file, otel, capture_content, keep, batch))


def start_link(file=None, *, otel=None, capture_content=None, keep=DEFAULT_KEEP,
               batch=DEFAULT_BATCH):
    """As `start`, linked to the caller."""
    return _start(gen_server.start_link, _options(file, otel, capture_content, keep, batch))


def child_spec(file=None, *, otel=None, capture_content=None, keep=DEFAULT_KEEP,
               batch=DEFAULT_BATCH, id="tracing") -> dict:  # noqa: A002
    """A child spec that turns tracing on while the child runs."""
    opts = _options(file, otel, capture_content, keep, batch)
    return {"id": id, "start": (_start_child, (opts,))}


def _start_child(opts):
    return gen_server.start_link(Collector, opts, name=NAME)


def _start(starter, opts):
    res = starter(Collector, opts, name=NAME)
    if res[0] != "ok":
        if type(res[1]) is tuple and res[1][0] == "already_started":
            raise vm.BadArg("tracing is already on (agents.tracing.stop() first)")
        raise vm.BadArg(f"tracing did not start: {res[1]!r}")
    return res[1]


def stop() -> bool:
    """Write what is pending and turn tracing off; False if it was off."""
    pid = collector()
    if pid is None:
        return False
    try:
        gen_server.stop(pid)
    except vm.Exit:
        return False
    return True


def flush(timeout=30.0) -> int:
    """Wait until every span sent before this call is written and exported; returns
    how many spans the collector has handled (0 when tracing is off)."""
    pid = collector()
    if pid is None:
        return 0
    return gen_server.call(pid, "flush", timeout)


def spans(trace_id=None) -> list:
    """The recent spans kept in memory (all, or one trace's), oldest first."""
    pid = collector()
    if pid is None:
        return []
    return gen_server.call(pid, ("spans", trace_id))


def read(path, trace_id=None) -> list:
    """The spans of a JSON-lines file (all, or one trace's), in file order."""
    out = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except ValueError as e:
                raise vm.BadArg(f"{path}:{n}: not a JSON line ({e})") from None
            if "beamlet_spans" in record:
                continue
            if trace_id is None or record.get("trace_id") == trace_id:
                out.append(record)
    return out


# ----------------------------------------------------------------------
# the collector


class Collector(gen_server.GenServer):
    def init(self, opts):
        file, handoff, capture, keep, batch = opts
        vm.process_flag("trap_exit", True)  # a supervisor's shutdown writes what is pending
        handle = None
        if file is not None:
            new = not os.path.exists(file) or os.path.getsize(file) == 0
            handle = open(file, "a", encoding="utf-8")  # noqa: SIM115 - closed in terminate
            if new:
                from .spans import CONVENTIONS

                handle.write(json.dumps({"beamlet_spans": 1, "conventions": CONVENTIONS}) + "\n")
                handle.flush()
        processor = owned = None
        if handoff is not None:
            from . import otel

            exporter = _HANDOFF.get(handoff)  # kept: a supervisor may start it again
            if exporter is None:
                return ("stop", "the OpenTelemetry exporter was handed to another collector "
                                "already; pass it to tracing.start() again")
            processor, owned = otel.processor_for(exporter)
        self.handles = (handle, processor, owned)  # objects: never in the state
        persistent_term.put(_CONFIG, capture)
        return ("ok", {"file": file, "keep": keep, "batch": batch, "pending": [],
                       "recent": [], "handled": 0, "dropped": 0})

    def handle_info(self, msg, s):
        if type(msg) is tuple and len(msg) == 2 and msg[0] == "$span":
            s["pending"].append(msg[1])
            if len(s["pending"]) >= s["batch"] or not _queued():
                self._write(s)
        elif type(msg) is tuple and msg[0] == "EXIT":
            return ("stop", msg[2], s)
        return ("noreply", s)

    def handle_call(self, request, from_, s):
        self._write(s)
        if request == "flush":
            processor = self.handles[1]
            if processor is not None:
                processor.force_flush()
            return ("reply", s["handled"], s)
        if type(request) is tuple and request[0] == "spans":
            tid = request[1]
            return ("reply", [r for r in s["recent"] if tid is None or r["trace_id"] == tid], s)
        return ("reply", ("error", ("unknown_request", request)), s)

    def _write(self, s):
        batch = s["pending"]
        if not batch:
            return
        s["pending"] = []
        handle, processor, _owned = self.handles
        if handle is not None:
            handle.write("".join(json.dumps(r, ensure_ascii=False, default=str) + "\n"
                                 for r in batch))
            handle.flush()
        if processor is not None:
            from . import otel

            try:
                otel.export(processor, batch)
            except Exception as e:  # noqa: BLE001 - an exporter's failure must not stop tracing
                s["dropped"] += len(batch)
                _log.warning("OpenTelemetry export failed (%d spans dropped): %s", len(batch), e)
        if s["keep"]:
            s["recent"].extend(batch)
            if len(s["recent"]) > s["keep"]:
                del s["recent"][:len(s["recent"]) - s["keep"]]
        s["handled"] += len(batch)

    def terminate(self, reason, s):
        self._write(s)
        handle, processor, owned = self.handles
        self.handles = (None, None, None)
        if handle is not None:
            handle.close()
        if processor is not None:
            try:
                processor.shutdown() if owned else processor.force_flush()
            except Exception as e:  # noqa: BLE001
                _log.warning("OpenTelemetry span processor failed to flush: %s", e)
        persistent_term.erase(_CONFIG)

    def format_status(self, status):
        data = status.get("data")
        if type(data) is dict and "recent" in data:
            status = dict(status, data={"file": data["file"], "handled": data["handled"],
                                        "pending": len(data["pending"]),
                                        "kept": len(data["recent"]),
                                        "dropped": data["dropped"]})
        return status


def _queued() -> int:
    return vm.process_info(vm.self(), "message_queue_len")
