"""_behaviour: what gen_server, gen_statem and gen_event share, in OTP's shape.

OTP writes each behaviour loop around three small functions, and so does
beamlet:

- `try_callback(fn, *args) -> (kind, value)`: OTP's `try_dispatch`,
  `try_handle_call` and `try_terminate` in one. It calls a callback and
  turns how it ended into a value: `(OK, result)` when it returned,
  `(EXIT, reason)` when it exited (`vm.exit(reason)`), `(ERROR, crash)`
  when it raised (`vm.Crash` of the exception). A loop then has one place
  that decides what a failure means, instead of a `try` block per callback.
  `Failure(kind, reason)`, raised by the behaviour's own code while it reads
  a callback's result, ends the same way with the class it names (a bad
  return value is an error, a stop result is an exit).
- `terminate(loop, kind, reason)`: OTP's `terminate`: run the callback's
  terminate through `try_callback`; if that fails, report its failure and
  exit with it; otherwise report unless the reason is quiet (`normal`,
  `shutdown`, `("shutdown", x)`), and exit with the reason. The loop object
  supplies `call_terminate(reason)` and `error_info(kind, reason)`.
- The common reply handling of each behaviour (gen_server's
  `handle_common_reply`) lives in the behaviour, on top of these.

And the start-up every behaviour shares: `check_start_options` (debug and
hibernate_after, checked in the caller), `check_callback_class`, `start`
(through `gen.start`, with `start_monitor`'s result shaped as OTP's
`{ok, {Pid, Ref}}`), `enter_loop_parent` (OTP's `gen:get_parent`),
`client_info` (who was calling, for reports), and `Callbacks` /
`LinkedCallbacks`, the Elixir-style `Cls.start(arg)`, `Cls.start_link(arg)`
and `Cls.child_spec(arg)` of every callback base class.

What it refuses: any behaviour's semantics (what a callback may return, when
terminate runs): those stay in each behaviour module.
"""

from __future__ import annotations

import importlib
import logging

import vm

from . import gen, logger, otp_sys
from .reports import is_quiet

OK = vm.Atom("ok")
EXIT = vm.Atom("exit")
ERROR = vm.Atom("error")
_NUMBERS = (int, float)


class Failure(vm.Exit):
    """Raised by a behaviour's own code to end a callback's processing with
    `reason` and the class `kind` (EXIT or ERROR); `try_callback` reports it
    as `(kind, reason)`."""

    def __init__(self, kind, reason):
        super().__init__(reason)
        self.kind = kind


def try_callback(fn, *args):
    """Call `fn(*args)`: `(OK, result)`, `(EXIT, reason)` or `(ERROR, crash)`."""
    try:
        return OK, fn(*args)
    except Failure as f:
        return f.kind, f.reason
    except vm.Exit as e:
        return EXIT, e.reason
    except Exception as e:
        return ERROR, vm.Crash.from_exception(e)


def terminate(loop, kind, reason):
    """Run the loop's terminate callback, report, and exit with `reason`. Never returns.

    A terminate that fails replaces the reason (and is always reported); a
    quiet reason is not reported.
    """
    tkind, out = try_callback(loop.call_terminate, reason)
    if tkind is not OK:
        loop.error_info(tkind, out)
        raise vm.Exit(out)
    if not is_quiet(reason):
        loop.error_info(kind, reason)
    raise vm.Exit(reason)


# ----------------------------------------------------------------------
# starting


def check_start_options(what, debug, hibernate_after):
    """Check a start's debug and hibernate_after options in the caller; returns the
    debug options (None when there are none)."""
    dbg = otp_sys.debug_options(debug)  # raises on bad options
    if hibernate_after is not None and (type(hibernate_after) is bool or
                                        not isinstance(hibernate_after, _NUMBERS)
                                        or hibernate_after < 0):
        raise vm.BadArg(f"{what}: hibernate_after must be seconds >= 0 or None, "
                        f"not {hibernate_after!r}")
    return dbg


def check_callback_class(cls, base, what, needs=()):
    """`cls` must be a class (not an instance) deriving from `base`, or, when
    `needs` names callbacks, any class defining them."""
    if isinstance(cls, base):
        raise vm.BadArg(f"{what} takes the callback class, not an instance: pass "
                        f"{type(cls).__qualname__}, it is instantiated inside the new process")
    hint = f"define `class My{base.__name__}({base.__module__.split('.')[-1]}." \
           f"{base.__name__})`" + (" with " + " and ".join(needs) if needs else "")
    if not isinstance(cls, type):
        raise vm.BadArg(f"{what}: {cls!r} is not a {base.__name__} subclass; {hint}")
    if issubclass(cls, base):
        return cls
    missing = [n for n in needs if not callable(getattr(cls, n, None))]
    if needs and not missing:
        return cls
    lack = f"has no {missing[0]}()" if missing else f"is not a {base.__name__} subclass"
    raise vm.BadArg(f"{what}: {cls.__qualname__} {lack}; {hint}")


def start(init_it, args, *, link, monitor, name, timeout, spawn_opts):
    """Start a behaviour process through gen.start; `start_monitor`'s result is
    `("ok", (pid, ref))`, or the failure with the monitor gone (OTP's shape)."""
    r = gen.start(init_it, link, name, args, timeout=timeout, spawn_opts=spawn_opts,
                  monitor=monitor)
    if not monitor:
        return r
    # gen.start gives (result, ref) once a process was spawned; a name clash
    # answers before spawning, with the plain result.
    if type(r) is tuple and len(r) == 2 and type(r[1]) is vm.Ref:
        res, ref = r
        if type(res) is tuple and len(res) == 2 and res[0] == "ok":
            return ("ok", (res[1], ref))
        vm.demonitor(ref, flush=True)  # the process is gone: drop its DOWN (OTP does)
        return res
    return r


def start_kind(link, monitor):
    return "start_monitor" if monitor else ("start_link" if link else "start")


def start_functions(module, what, starter):
    """A behaviour module's `start`, `start_link` and `start_monitor`, all calling
    `starter(link, monitor, cls, arg, name, timeout, spawn_opts, debug,
    hibernate_after)`; `what` names the process in their docstrings ("a server")."""

    def start(cls, arg=None, *, name=None, timeout=None, spawn_opts=None, debug=None,
              hibernate_after=None):
        return starter(False, False, cls, arg, name, timeout, spawn_opts, debug,
                       hibernate_after)

    def start_link(cls, arg=None, *, name=None, timeout=None, spawn_opts=None, debug=None,
                   hibernate_after=None):
        return starter(True, False, cls, arg, name, timeout, spawn_opts, debug,
                       hibernate_after)

    def start_monitor(cls, arg=None, *, name=None, timeout=None, spawn_opts=None,
                      debug=None, hibernate_after=None):
        return starter(False, True, cls, arg, name, timeout, spawn_opts, debug,
                       hibernate_after)

    options = ("`name`: a str or `(\"via\", registry, key)`; `timeout`: seconds the "
               "callback's init may take (then the process is killed and `(\"error\", "
               "\"timeout\")` returned); `spawn_opts`: vm.spawn_opt options; `debug`: "
               "otp_sys options (`[\"trace\", \"log\", \"statistics\"]`); "
               "`hibernate_after`: seconds of idleness after which it hibernates.")
    start.__doc__ = (f"Start {what} with callback class `cls`, not linked; returns "
                     f"`(\"ok\", pid)`, `\"ignore\"` or `(\"error\", reason)` once its "
                     f"init has run.\n\n{options}")
    start_link.__doc__ = f"As `start`, linked to the caller (its parent).\n\n{options}"
    start_monitor.__doc__ = (f"As `start`, monitored by the caller: `(\"ok\", (pid, ref))` "
                             f"on success.\n\n{options}")
    for fn in (start, start_link, start_monitor):
        fn.__module__ = module
        fn.__qualname__ = fn.__name__
    return start, start_link, start_monitor


def enter_loop_parent(name):
    """The parent of a process turning itself into a behaviour (OTP's
    gen:get_parent: its first ancestor); exits as OTP does when the process was
    not started by proc_lib or is not registered under `name`."""
    ancestors = vm.get("$ancestors")
    if not ancestors:
        vm.exit("process_was_not_started_by_proc_lib")
    parent = ancestors[0]
    if isinstance(parent, str):
        parent = vm.whereis(parent)
        if parent is None:
            vm.exit("could_not_find_registered_name")
    if name is not None and gen.whereis(gen.check_name(name)) != vm.self():
        vm.exit("process_not_registered")
    return parent


def client_info(pid):
    """Who was calling when a behaviour died: `(pid, (name or pid, stacktrace))`,
    `(pid, "dead")`, `(pid, "remote")`, or None (OTP's client info)."""
    if type(pid) is not vm.Pid:
        return None
    if pid.node != vm.node_name():
        return (pid, "remote")
    info = vm.process_info(pid, ["registered_name", "current_stacktrace"])
    if info is None:
        return (pid, "dead")
    return (pid, (info.get("registered_name") or pid, info.get("current_stacktrace")))


def undefined_handle_info(who, msg):
    """OTP's warning for a message a callback class has no handle_info for (the
    message is dropped, the process goes on)."""
    logger.log(logging.WARNING, f"** Undefined handle_info in {who}\n"
                                f"** Unhandled message: {msg!r}")


def report_name(name):
    """A behaviour's name as reports show it: the name, or its pid."""
    if name is None:
        return vm.self()
    if isinstance(name, str):
        return name
    return ("via", name[2])


class LinkedCallbacks:
    """`Cls.start_link(arg, **opts)` and `Cls.child_spec(arg)` for a callback base
    class, through the behaviour module named by `_behaviour`."""

    _behaviour = ""  # the behaviour module, e.g. "stdlib.gen_server"
    _child_type = "worker"

    @classmethod
    def start_link(cls, arg=None, **opts):
        return importlib.import_module(cls._behaviour).start_link(cls, arg, **opts)

    @classmethod
    def child_spec(cls, arg=None) -> dict:
        """The child spec a supervisor uses for the shorthand `(cls, arg)`.

        Override it (calling super) to change restart, shutdown, id, ...
        """
        spec = {"id": cls, "start": (cls.start_link, (arg,)), "restart": "permanent",
                "type": cls._child_type, "modules": [cls]}
        if cls._child_type == "supervisor":
            spec["shutdown"] = None  # a supervisor child is waited for
        return spec


class Callbacks(LinkedCallbacks):
    """`LinkedCallbacks` plus `Cls.start(arg, **opts)` (not linked)."""

    @classmethod
    def start(cls, arg=None, **opts):
        return importlib.import_module(cls._behaviour).start(cls, arg, **opts)
