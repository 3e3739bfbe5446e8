"""Reports as the shell shows them: one line each, with where it failed.

What this module owns:

- `short_report(record)`: a logging record of a beamlet report (crash,
  supervisor, gen_server and gen_statem termination, a process crash) as one
  line, as `=CRASH REPORT== <0.42.0> ZeroDivisionError: division by zero
  (at kv.py:12 in handle_call)`. The place is the innermost frame of the
  program's own code in the crash's traceback (beamlet's frames are
  skipped), so a learner can find the bug from the line alone.
- `reason_text(reason)`: an exit reason as the shell prints it (atoms bare,
  as Erlang prints them; a crash as `Type: message`).
- `ShortReports`, `install_short_reports()`: the logging handler the shell
  and `beamlet shell -c` use, so a crash storm stays readable.

What it refuses: the full OTP report text (stdlib/reports.py renders it).
"""

from __future__ import annotations

import logging
import os
import re
import sys

import vm

_FRAME = re.compile(r'^  File "(?P<file>[^"]+)", line (?P<line>\d+), in (?P<fn>.+)$')
_BEAMLET = tuple(os.path.dirname(os.path.abspath(m.__file__)) + os.sep
                 for m in (vm, sys.modules[__name__.rsplit(".", 2)[0]]))


def crash_site(reason) -> str | None:
    """`file:line in function` of the innermost frame of the program's own code
    in a crash's traceback (or beamlet's innermost, when all frames are
    beamlet's); None when the reason carries no traceback."""
    if not isinstance(reason, vm.Crash) or not reason.traceback:
        return None
    frames = []
    for line in reason.traceback.splitlines():
        m = _FRAME.match(line)
        if m:
            frames.append((m.group("file"), m.group("line"), m.group("fn")))
    if not frames:
        return None
    own = [f for f in frames if not os.path.abspath(f[0]).startswith(_BEAMLET)]
    path, line, fn = (own or frames)[-1]
    return f"{_short_path(path)}:{line} in {fn}"


def _short_path(path: str) -> str:
    if path.startswith("<"):
        return path
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return rel if not rel.startswith("..") else path


def reason_text(reason, limit=160) -> str:
    """An exit reason as the shell prints it: atoms bare, a crash as Type: message."""
    if isinstance(reason, vm.Crash):
        return _cut(f"{reason.exc_type}: {reason.message}", limit)
    if isinstance(reason, str):
        return _cut(str(reason), limit)
    return _cut(repr(reason), limit)


def _with_site(reason) -> str:
    site = crash_site(reason)
    return reason_text(reason) + (f" (at {site})" if site else "")


def _cut(text, n=160):
    return text if n is None or len(text) <= n else text[: n - 3] + "..."


def short_report(record) -> str | None:
    """One line for a report record (None for progress reports, which the shell hides)."""
    r = getattr(record, "report", None)
    if isinstance(r, dict):
        label = r.get("label")
        if label == "crash_report":
            info = r.get("error_info")
            reason = info[1] if isinstance(info, tuple) and len(info) == 3 else info
            return f"=CRASH REPORT== {r.get('pid')!r} {_with_site(reason)}"
        if label == "supervisor_report":
            off = r.get("offender") or {}
            child = off.get("id") if isinstance(off, dict) else off
            if isinstance(child, type):
                child = child.__name__
            return (f"=SUPERVISOR REPORT== {r.get('supervisor')!r} {r.get('errorContext')}: "
                    f"child {child!r}, reason {reason_text(r.get('reason'))}")
        if label in ("gen_server_terminate", "gen_statem_terminate"):
            return (f"=ERROR REPORT== {r.get('name')!r} terminating: "
                    f"{_with_site(r.get('reason'))}")
        if label == "progress":
            return None
        if label == "long_slice":
            what = r.get("what")
            return (f"=LONG SLICE== {r.get('pid')!r} ran {r.get('seconds', 0):.3f} s in one slice"
                    + (f", {what}" if what else "") + f", at {r.get('where')}")
        if label == "crash":
            return (f"=ERROR REPORT== Error in process {r.get('pid')!r} with exit value: "
                    f"{_with_site(r.get('reason'))}")
        return f"={str(label).upper()}== " + _cut(repr({k: v for k, v in r.items()
                                                           if k != "label"}))
    msg = record.getMessage().splitlines()
    return f"={record.levelname} REPORT== {msg[0] if msg else ''}"


class ShortReports(logging.Handler):
    """One line per report, so a crash storm stays readable in the shell."""

    def __init__(self, level=logging.WARNING, stream=None):
        super().__init__(level)
        self.stream = stream  # None: whatever sys.stderr is when a report comes

    def emit(self, record):
        try:
            line = short_report(record)
            if line:
                stream = self.stream or sys.stderr
                stream.write(line + "\n")
                stream.flush()
        except Exception:  # noqa: BLE001 - logging must never break the node
            pass


def install_short_reports(stream=None):
    """Route beamlet's reports through ShortReports unless logging is configured;
    returns the handler (pass it to `remove_short_reports`), or None."""
    root = logging.getLogger()
    bl = logging.getLogger("beamlet")
    if root.handlers or bl.handlers:
        return None
    h = ShortReports(logging.WARNING, stream)
    bl.addHandler(h)
    bl.propagate = False
    return h


def remove_short_reports(handler) -> None:
    if handler is not None:
        bl = logging.getLogger("beamlet")
        bl.removeHandler(handler)
        bl.propagate = True


__all__ = ["ShortReports", "crash_site", "install_short_reports", "reason_text",
           "remove_short_reports", "short_report"]
