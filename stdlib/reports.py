"""Structured reports: how crash, supervisor and progress reports read.

What this module owns: the shape of an OTP-style report and its text.

A report is a dict with a `"label"` key (`"crash_report"`,
`"gen_server_terminate"`, `"gen_statem_terminate"`, `"gen_event_terminate"`,
`"supervisor_report"`, `"progress"`, ...) and the fields of that report.
Behaviours hand reports to `logger.log_report(level, report)` (logger.py),
whose handlers decide where they go; the default handler is Python's
`logging` (logger `beamlet.otp`, the dict as `record.report`).
`ReportFormatter` renders the familiar OTP text ("=CRASH REPORT==== ...")
for Python logging; `format_report(report)` is the same text as a string.

Reports for reasons `normal`, `shutdown` and `("shutdown", x)` are never
logged as errors: `is_quiet(reason)` says so, and every behaviour asks it.

What it refuses: deciding when to report (behaviours) and where reports go
(logger.py).
"""

from __future__ import annotations

import logging
import pprint

# OTP's report labels and the heading each renders with.
HEADINGS = {
    "crash_report": "CRASH REPORT",
    "gen_server_terminate": "ERROR REPORT",
    "gen_statem_terminate": "ERROR REPORT",
    "gen_event_terminate": "ERROR REPORT",
    "supervisor_report": "SUPERVISOR REPORT",
    "progress": "PROGRESS REPORT",
    "application_exit": "INFO REPORT",
}


def is_quiet(reason) -> bool:
    """True for the exit reasons OTP does not report: normal, shutdown, (shutdown, _)."""
    if reason == "normal" or reason == "shutdown":
        return True
    return type(reason) is tuple and len(reason) == 2 and reason[0] == "shutdown"


def _fmt(value, width=72) -> str:
    text = pprint.pformat(value, width=width, compact=True)
    return text.replace("\n", "\n    ")


def format_report(report: dict) -> str:
    """The human-readable text of a report, in OTP's layout."""
    label = report.get("label", "report")
    heading = HEADINGS.get(label, label.upper())
    lines = [f"=={heading}===="]
    render = _RENDERERS.get(label)
    if render is not None:
        lines.extend(render(report))
    else:
        for key, value in report.items():
            if key != "label":
                lines.append(f"    {key}: {_fmt(value)}")
    return "\n".join(lines)


def _crash_report(r):
    out = ["  crasher:"]
    for key in ("initial_call", "pid", "registered_name", "error_info", "ancestors",
                "message_queue_len", "messages", "links", "dictionary", "trap_exit",
                "status", "memory", "reductions"):
        if key in r:
            value = r[key]
            if key == "error_info" and isinstance(value, tuple) and len(value) == 3:
                kind, reason, stack = value
                out.append(f"    exception {kind}: {_fmt(reason)}")
                if stack:
                    out.append("      " + str(stack).rstrip().replace("\n", "\n      "))
                continue
            out.append(f"    {key}: {_fmt(value)}")
    neighbours = r.get("neighbours") or []
    out.append(f"  neighbours: {_fmt(neighbours)}")
    return out


def _server_terminate(r):
    kind = "Generic server" if r["label"] == "gen_server_terminate" else "State machine"
    out = [f"** {kind} {r.get('name')!r} terminating"]
    if "last_message" in r:
        out.append(f"** Last message in was {_fmt(r['last_message'])}")
    if "state" in r:
        out.append(f"** When server state  == {_fmt(r['state'])}")
    out.append(f"** Reason for termination == {_fmt(r.get('reason'))}")
    if r.get("log"):
        out.append(f"** Log == {_fmt(r['log'])}")
    client = r.get("client")
    if client is not None:
        out.append(f"** Client {_fmt(client)}")
    return out


def _event_handler_terminate(r):
    return [
        f"** gen_event handler {r.get('handler')!r} crashed.",
        f"** Was installed in {r.get('name')!r}",
        f"** Last event was: {_fmt(r.get('last_message'))}",
        f"** When handler state == {_fmt(r.get('state'))}",
        f"** Reason == {_fmt(r.get('reason'))}",
    ]


def _supervisor_report(r):
    return [
        f"    supervisor: {_fmt(r.get('supervisor'))}",
        f"    errorContext: {r.get('errorContext')}",
        f"    reason: {_fmt(r.get('reason'))}",
        f"    offender: {_fmt(r.get('offender'))}",
    ]


def _progress(r):
    out = []
    for key, value in r.items():
        if key != "label":
            out.append(f"    {key}: {_fmt(value)}")
    return out


_RENDERERS = {
    "crash_report": _crash_report,
    "gen_server_terminate": _server_terminate,
    "gen_statem_terminate": _server_terminate,
    "gen_event_terminate": _event_handler_terminate,
    "supervisor_report": _supervisor_report,
    "progress": _progress,
}


class ReportFormatter(logging.Formatter):
    """A logging formatter that renders report records in OTP's layout.

    Records without a report are formatted as usual.
    """

    def format(self, record: logging.LogRecord) -> str:
        report = getattr(record, "report", None)
        if isinstance(report, dict) and "label" in report:
            head = f"{record.levelname} {self.formatTime(record)} {record.name}"
            return f"{head}\n{format_report(report)}"
        return super().format(record)
