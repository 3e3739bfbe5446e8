"""The exception tree of beamlet.

What this module owns: every exception the VM raises, in two families that
must never be confused:

    Exception
     +-- VMError                 you used the VM wrongly; the message says what to do
     |    +-- BadArg             a bad argument (OTP's badarg); also a TypeError
     |    |    +-- Unsendable    a message holds something that is not a term
     |    +-- NoProc             link/1 to a process that does not exist
     |    +-- NotInProcess       a process-only call made outside a process
     |    +-- ProcessExit        vm.run / Node.call: the process exited abnormally
     |    +-- Deadlock           vm.run: every process waits and nothing can wake one
     +-- VMInternalError         a bug inside beamlet; the node stops
    BaseException
     +-- Exit                    exit(reason), failed gen_server calls, ...; .reason

`Exit` derives from BaseException on purpose: a user's `except Exception`
must not swallow an exit, just as an Erlang `catch` of errors does not
swallow a kill. Uncaught, an `Exit` ends the process with `.reason`.

What it refuses: holding VM state. The private `_Killed` and `_Hibernate`
signals live in `_process.py`, because nothing outside the VM may raise them.
"""

from __future__ import annotations

import reprlib

__all__ = [
    "VMError",
    "BadArg",
    "Unsendable",
    "NoProc",
    "NotInProcess",
    "ProcessExit",
    "Deadlock",
    "VMInternalError",
    "Exit",
]


_short = reprlib.Repr()
_short.maxlevel = 3
_short.maxstring = _short.maxother = 60
_short.maxtuple = _short.maxlist = _short.maxdict = _short.maxset = 6


def show(value) -> str:
    """A short, safe repr of a value for an error message: bounded in depth and
    length, and never raising (a deeply nested argument, or one whose own
    `__repr__` fails, must still give a readable error)."""
    try:
        return _short.repr(value)
    except BaseException:  # noqa: BLE001 - any failure of a user's __repr__
        return f"<{type(value).__name__} object>"


class VMError(Exception):
    """Misuse of the VM API. The message says what to do instead."""


class BadArg(VMError, TypeError):
    """A bad argument, OTP's `badarg`: an unregistered name, a wrong type, ..."""


class Unsendable(BadArg):
    """A message (or spawn argument) holds a value that is not a term.

    `.path` says where it sits, e.g. `msg[1]["key"]`, and `.value_type` names
    the offending type.
    """

    def __init__(self, message: str, path: str = "msg", value_type: str = "?"):
        super().__init__(message)
        self.path = path
        self.value_type = value_type


class NoProc(VMError):
    """`link(pid)` to a process that does not exist, by a caller not trapping exits."""


class NotInProcess(VMError):
    """A call that needs a current process was made outside any process."""


class ProcessExit(VMError):
    """Raised by `vm.run` and `Node.call` when the process exited abnormally."""

    def __init__(self, reason):
        super().__init__(f"process exited with reason {reason!r}")
        self.reason = reason


class Deadlock(VMError):
    """Raised by `vm.run` when every process waits and nothing can ever wake one."""


class VMInternalError(Exception):
    """A bug inside beamlet itself; the node stopped. Please file a bug with the traceback."""


class Exit(BaseException):
    """An exit: raised by `vm.exit(reason)` and by failed calls.

    Catch it with `except vm.Exit as e: e.reason`. If it is not caught, the
    process exits with `e.reason`, as an Erlang `exit/1` does.
    """

    def __init__(self, reason):
        super().__init__(reason)
        self.reason = reason

    def __repr__(self):
        return f"Exit({self.reason!r})"
