"""logger: where beamlet's reports go (OTP's logger, in small).

Every report a behaviour makes (a process's CRASH REPORT, a server's ERROR
REPORT, a SUPERVISOR REPORT, a PROGRESS REPORT, an event handler's crash)
and every `logger.log(...)` call becomes a *log event* that is handed to
each installed *handler* whose level admits it, in the process that logs,
as OTP's logger does:

    event = {"level": "error",                 # OTP's level names
             "report": {"label": ..., ...},    # or "message": "text"
             "meta": {"pid": Pid, "time": t}}  # node-clock seconds

Handlers (per node, by id):

    add_handler(handler_id, handler, config=None)  "ok" | ("error", reason)
    remove_handler(handler_id)                     "ok" | ("error", ("not_found", id))
    get_handler_ids()                              [handler_id, ...]
    get_handler_config(handler_id)                 ("ok", config) | ("error", ...)
    set_handler_config(handler_id, key, value)     "ok" | ("error", ...)
    set_primary_config("level", level), get_primary_config()

A handler is an object (or class) with `log(event, config)`, or a plain
callable `handler(event, config)`; it may define `adding_handler(config)
-> ("ok", config) | ("error", reason)` and `removing_handler(config)`.
`config` is a dict; its "level" (default "all") filters what the handler
sees. A handler that raises is removed (with a warning through Python's
`logging`), so a broken handler never breaks the process that logs.

The handler "default" is installed on every node: it sends each report to
Python's `logging` on the logger `beamlet.otp` with the report dict as
`record.report`, exactly as beamlet always did (configure Python logging to
see or silence them; `reports.ReportFormatter` renders them). Remove it to
take reports away from Python logging.

`add_report_handler(handler_class, args)` is OTP's
`error_logger:add_report_handler`: it starts (once per node) a gen_event
manager registered as "error_logger", routes every log event to it as a
`notify`, and adds the gen_event handler there, so a report handler written
for gen_event sees the events (`handle_event(event, state)`).

Levels, most severe first: emergency, alert, critical, error, warning,
notice, info, debug; "all" and "none" for configuration. Behaviours log
with Python's level numbers (`logging.ERROR`), mapped onto these.

What it refuses: rendering (reports.py) and deciding what to report (the
behaviours).
"""

from __future__ import annotations

import contextlib
import logging
import weakref

import vm
from vm.lowlevel import current_node

__all__ = [
    "LEVELS",
    "add_handler",
    "add_report_handler",
    "allows",
    "delete_report_handler",
    "get_handler_config",
    "get_handler_ids",
    "get_primary_config",
    "log",
    "log_report",
    "remove_handler",
    "set_handler_config",
    "set_primary_config",
]

LEVELS = ("emergency", "alert", "critical", "error", "warning", "notice", "info", "debug")
_RANK = {name: i for i, name in enumerate(LEVELS)}
_RANK["all"] = len(LEVELS)
_RANK["none"] = -1
_PY_LEVELS = {"emergency": logging.CRITICAL, "alert": logging.CRITICAL,
              "critical": logging.CRITICAL, "error": logging.ERROR, "warning": logging.WARNING,
              "notice": logging.INFO, "info": logging.INFO, "debug": logging.DEBUG}
_OK = vm.Atom("ok")
EVENT_MANAGER = "error_logger"

_python_log = logging.getLogger("beamlet.otp")


def _level_name(level) -> str:
    """An OTP level name from a name or a Python logging number."""
    if isinstance(level, str):
        if level in _RANK and level not in ("all", "none"):
            return level
    elif type(level) is int:
        if level >= logging.CRITICAL:
            return "critical"
        if level >= logging.ERROR:
            return "error"
        if level >= logging.WARNING:
            return "warning"
        if level >= logging.INFO:
            return "info"
        return "debug"
    raise vm.BadArg(f"logger: a level is one of {', '.join(LEVELS)} (or a Python logging "
                    f"level number), not {level!r}")


def _check_config_level(level):
    if not (isinstance(level, str) and level in _RANK):
        raise vm.BadArg(f"logger: a configured level is one of {', '.join(LEVELS)}, 'all' or "
                        f"'none', not {level!r}")
    return level


class PythonLogging:
    """The "default" handler: reports and messages to Python's `logging`, on the
    logger `beamlet.otp`, the report attached to the record as `record.report`."""

    @staticmethod
    def enabled(level_name) -> bool:
        return _python_log.isEnabledFor(_PY_LEVELS[level_name])

    @staticmethod
    def log(event, config):
        level = _PY_LEVELS[event["level"]]
        report = event.get("report")
        if report is None:
            _python_log.log(level, "%s", event.get("message", ""))
        else:
            _python_log.log(level, "%s", _Lazy(report), extra={"report": report})


class _Lazy:
    """Renders the report only if a Python handler actually formats the record."""

    __slots__ = ("report",)

    def __init__(self, report):
        self.report = report

    def __str__(self):
        from .reports import format_report
        return format_report(self.report)


class _Config:
    """One node's logger: its primary level and handlers, in the order added."""

    __slots__ = ("level", "handlers")

    def __init__(self):
        self.level = "all"
        self.handlers = {"default": (PythonLogging, {"level": "all"})}


_configs: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _config() -> _Config:
    node = current_node()
    cfg = _configs.get(node)
    if cfg is None:
        cfg = _configs[node] = _Config()
    return cfg


# ----------------------------------------------------------------------
# configuration


def add_handler(handler_id, handler, config=None):
    """Install `handler` under `handler_id` on this node (see the module docstring)."""
    cfg = _config()
    if handler_id in cfg.handlers:
        return ("error", ("already_exist", handler_id))
    if not (callable(getattr(handler, "log", None)) or callable(handler)):
        raise vm.BadArg(f"logger.add_handler: {handler!r} is not a handler: give an object "
                        "with log(event, config) or a function (event, config)")
    config = dict(config or {})
    _check_config_level(config.setdefault("level", "all"))
    adding = getattr(handler, "adding_handler", None)
    if callable(adding):
        r = adding(config)
        if not (type(r) is tuple and len(r) == 2 and r[0] == "ok"):
            return r if type(r) is tuple and r and r[0] == "error" else ("error", r)
        config = r[1]
    cfg.handlers[handler_id] = (handler, config)
    return _OK


def remove_handler(handler_id):
    cfg = _config()
    entry = cfg.handlers.pop(handler_id, None)
    if entry is None:
        return ("error", ("not_found", handler_id))
    removing = getattr(entry[0], "removing_handler", None)
    if callable(removing):
        with contextlib.suppress(Exception):  # it is gone either way
            removing(entry[1])
    return _OK


def get_handler_ids() -> list:
    return list(_config().handlers)


def get_handler_config(handler_id):
    entry = _config().handlers.get(handler_id)
    if entry is None:
        return ("error", ("not_found", handler_id))
    return ("ok", {"id": handler_id, "module": entry[0], **entry[1]})


def set_handler_config(handler_id, key, value):
    cfg = _config()
    entry = cfg.handlers.get(handler_id)
    if entry is None:
        return ("error", ("not_found", handler_id))
    if key == "level":
        _check_config_level(value)
    cfg.handlers[handler_id] = (entry[0], {**entry[1], key: value})
    return _OK


def set_primary_config(key, value):
    """Only "level" is configurable: events below it reach no handler."""
    if key != "level":
        raise vm.BadArg(f"logger.set_primary_config: only 'level' is configurable, not {key!r}")
    _config().level = _check_config_level(value)
    return _OK


def get_primary_config() -> dict:
    return {"level": _config().level}


# ----------------------------------------------------------------------
# logging


def allows(level) -> bool:
    """Would an event at `level` reach any handler? (OTP's logger:allow; behaviours
    ask before building a report.)"""
    name = _level_name(level)
    rank = _RANK[name]
    cfg = _config()
    if rank > _RANK[cfg.level]:
        return False
    for handler, config in cfg.handlers.values():
        if rank <= _RANK[config["level"]] and (handler is not PythonLogging
                                                or PythonLogging.enabled(name)):
            return True
    return False


def log_report(level, report: dict) -> None:
    """Hand a report (a dict with a "label") to the handlers, at `level`."""
    _dispatch(_level_name(level), "report", report)


def log(level, what) -> None:
    """`log(level, "text")` or `log(level, report_dict)` (OTP's logger:log/2)."""
    _dispatch(_level_name(level), "report" if isinstance(what, dict) else "message",
              what if isinstance(what, dict) else str(what))


def _dispatch(name, kind, what):
    cfg = _config()
    rank = _RANK[name]
    if rank > _RANK[cfg.level]:
        return
    event = None
    for handler_id, (handler, config) in list(cfg.handlers.items()):
        if rank > _RANK[config["level"]]:
            continue
        if handler is PythonLogging:
            if PythonLogging.enabled(name):
                PythonLogging.log({"level": name, kind: what}, config)
            continue
        if event is None:
            event = {"level": name, kind: what, "meta": {"pid": vm.self(),
                                                         "time": vm.monotonic()}}
        try:
            fn = getattr(handler, "log", None)
            (fn if callable(fn) else handler)(event, config)
        except Exception as e:  # OTP removes a handler that crashes
            cfg.handlers.pop(handler_id, None)
            _python_log.warning("logger: handler %r crashed and was removed: %s: %s",
                                handler_id, type(e).__name__, e)


# ----------------------------------------------------------------------
# error_logger: report handlers written for gen_event


class _ToEventManager:
    """The logger handler "error_logger": forwards every event to the gen_event
    manager registered under that name (values that cannot travel in a message
    are shown by their repr)."""

    @staticmethod
    def log(event, config):
        mgr = vm.whereis(EVENT_MANAGER)
        if mgr is not None and mgr != vm.self():
            from .gen import term_safe  # gen needs logger (through proc_lib): import late
            vm.send(mgr, (vm.Atom("notify"), term_safe(event)))


def add_report_handler(handler, args=None):
    """OTP's error_logger:add_report_handler: install gen_event `handler` (a class,
    or (class, id)) in the node's "error_logger" event manager, starting the manager
    and routing log events to it on first use; returns what gen_event.add_handler
    returns."""
    from . import gen_event

    if vm.whereis(EVENT_MANAGER) is None:
        r = gen_event.start(name=EVENT_MANAGER)
        if r[0] != "ok" and not (r[0] == "error" and r[1][0] == "already_started"):
            return r
    if "error_logger" not in _config().handlers:
        add_handler("error_logger", _ToEventManager)
    return gen_event.add_handler(EVENT_MANAGER, handler, args)


def delete_report_handler(handler):
    """Remove a report handler added by add_report_handler; what
    gen_event.delete_handler returns, or ("error", "module_not_found")."""
    from . import gen_event

    if vm.whereis(EVENT_MANAGER) is None:
        return ("error", vm.Atom("module_not_found"))
    return gen_event.delete_handler(EVENT_MANAGER, handler, None)
