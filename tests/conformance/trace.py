"""Trace helper for the conformance scenarios (the Python twin of erlang/conf.erl).

A scenario logs terms with `log(term)`; each becomes one line of canonical
text. The Erlang side prints the same text from real OTP into
golden/<scenario>.trace, and test_conformance.py compares the two.

Canonical text (identical rules in conf.erl)
--------------------------------------------
* one term per line, no spaces;
* atoms bare when they match ``[a-z][A-Za-z0-9_@]*`` and are not Erlang
  reserved words, otherwise in single quotes ('EXIT', 'DOWN'), with ``\\``
  and ``'`` escaped (ASCII letters only: unlike Erlang, Latin-1 letters force
  quotes; scenarios do not use them);
* integers as digits; floats as Python's repr (scenarios avoid floats);
* tuples ``{a,b}``, lists ``[a,b]``, maps/dicts ``#{k=>v}`` with pairs sorted
  by the printed key;
* binaries/bytes ``<<"...">>``: printable ASCII as is, ``"``, ``\\`` and every
  other byte as ``\\xHH``;
* pids ``<name>``: `name(pid, "a")` gives a role name, the runner names the
  scenario's own process ``main``, an unnamed pid prints ``<pN>`` (numbered
  by first appearance);
* refs ``#refN``, numbered by first appearance.

How Python values map onto Erlang terms
---------------------------------------
* ``str`` and ``vm.Atom`` print as atoms (scenarios use plain strings where
  Erlang uses atoms; Erlang strings, i.e. char lists, are never used);
* ``True``/``False``/``None`` print as ``true``/``false``/``undefined``;
* ``bytes``/``bytearray`` print as binaries.

Crash normalisation
-------------------
Erlang's ``error(boom)`` leaves the exit reason ``{boom, Stacktrace}``;
Python's ``raise RuntimeError("boom")`` leaves ``vm.Crash("RuntimeError",
"boom", tb)``. Both print ``{crash,boom}``: on the Erlang side any
``{Reason, [{M,F,Arity|Args,Location}|_]}``, on this side any ``vm.Crash``
whose message becomes the atom (a leading ``"RuntimeError: "`` is dropped).
Scenarios only ever crash with ``error(boom)`` / ``RuntimeError("boom")``,
so nothing language-specific (exception types, tracebacks) reaches a trace.

Pythonic values normalised into Erlang's shape (done by the helpers below,
so scenario code stays a literal translation):

==========================================  ==================================
Python (beamlet)                            Erlang / trace
==========================================  ==================================
time in seconds (float)                     time in ms: ``send_after(0.05, ..)``
                                            is ``send_after(50, ..)``
``vm.receive(.., timeout=T)`` returns       ``receive .. after T -> X end``;
``vm.TIMEOUT``                              the scenario logs X itself
``vm.sleep(0.05)``                          ``receive after 50 -> ok end``
``cancel_timer``/``read_timer``: seconds    ms left (integer) or ``false``;
left (float) or ``False``                   `timer_left` prints ``number`` or
                                            ``false`` on both sides
``process_info(p, item)`` returns the bare  ``{Item, Value}``; `info` returns
value                                       the bare value on both sides
``process_info(dead, item)`` is ``None``    ``undefined``
``process_info(p, "registered_name")`` is   ``[]`` (Erlang's "no name");
``None`` for a live process with no name    `info` maps it to ``[]``
``process_info(p, "dictionary")`` (a dict   list of ``{K,V}``; `info` sorts the
or pair list)                               pairs by printed form
``links``/``monitored_by`` lists            order unspecified in both: sorted
``monitors`` entries: a pid, a ``(name,     ``{process,Pid}`` or
node)`` pair, or ``("process", x)``         ``{process,{Name,Node}}``, sorted
``get()``/``erase()``: dict or pairs        list of ``{K,V}``, sorted (`pairs`)
``get_keys()``                              list, sorted (`sorted_terms`)
``vm.BadArg`` raised                        ``error:badarg`` -> ``{error,badarg}``
``vm.NoProc`` raised                        ``error:noproc`` -> ``{error,noproc}``
``vm.Exit(reason)`` raised (``vm.exit``)    ``exit:Reason`` -> ``{exit,Reason}``
other ``Exception`` e                       ``error:R`` -> ``{error,str(e)}``
``vm.demonitor(r, flush=True, info=True)``  ``demonitor(R, [flush, info])``
``vm.monitor(target)``                      ``monitor(process, Target)``
``vm.spawn_opt(f, link=True, monitor=True)``  ``spawn_opt(F, [link, monitor])``
``vm.run`` raises ``vm.ProcessExit``        main's DOWN reason is not
                                            ``normal``: ``{main_exit,Reason}``
a failed behaviour call raises ``vm.Exit(   ``{R,{gen_server,call,[S,Req,100]}}``:
(r, ("gen_server", "call", (s, req,         `attempt` turns the args tuple into
0.1)))``                                    a list and a call's or stop's third
                                            argument into ms (None: infinity)
a timeout or shutdown in seconds (None is   ms, or ``infinity``: `ms`
infinity)
``supervisor.count_children`` returns a     ``[{specs,N},{active,N},
dict                                        {supervisors,N},{workers,N}]``:
                                            `counts`
==========================================  ==================================
"""
from __future__ import annotations

import re
import threading

import vm
from vm import testing

__all__ = [
    "run", "name", "log", "fmt", "attempt", "info", "pairs", "sorted_terms",
    "timer_left", "settle", "flush", "drain", "receive", "ms", "otp_reason", "counts",
]

_BARE_ATOM = re.compile(r"[a-z][A-Za-z0-9_@]*\Z")
_RESERVED = frozenset(
    [
        "after", "and", "andalso", "band", "begin", "bnot", "bor", "bsl", "bsr", "bxor",
        "case", "catch", "cond", "div", "end", "fun", "if", "let", "not", "of", "or",
        "orelse", "receive", "rem", "try", "when", "xor",
    ]
)


class _Trace:
    """The state of one scenario run: its lines and its pid/ref numbering."""

    def __init__(self):
        self.lines: list[str] = []
        self.pid_names: dict = {}
        self.ref_numbers: dict = {}
        self.pid_counter = 0


# Each node runs on one thread; a scenario's processes all log from it.
_local = threading.local()


def _current() -> _Trace:
    trace = getattr(_local, "trace", None)
    if trace is None:
        raise RuntimeError("trace helpers are only usable inside trace.run()")
    return trace


# ---------------------------------------------------------------- runner

def run(scenario, **node_options) -> list[str]:
    """Run `scenario` as the process named main on a virtual-clock node.

    Returns the trace lines. An abnormal exit of main is logged as
    ``{main_exit,Reason}``, as conf:run/3 does on the Erlang side; a node that
    deadlocks logs ``{vm_deadlock,Text}`` (no Erlang counterpart: it can only
    appear in a failing diff).
    """
    _local.trace = trace = _Trace()
    node_options.setdefault("clock", "virtual")

    def main():
        name(vm.self(), "main")
        scenario()

    try:
        vm.run(main, **node_options)
    except vm.ProcessExit as exc:
        log(("main_exit", exc.reason))
    except vm.Deadlock as exc:
        log(("vm_deadlock", str(exc)))
    finally:
        _local.trace = None
    return trace.lines


# ---------------------------------------------------------------- logging

def name(pid, role: str):
    """Give `pid` a role name for the trace (conf:name/2)."""
    _current().pid_names[pid] = str(role)
    return pid


def log(term) -> None:
    """Append the canonical text of `term` as one line (conf:log/1)."""
    trace = _current()
    trace.lines.append(fmt(term))


def fmt(term) -> str:
    """The canonical text of a term (conf:fmt/1)."""
    return "".join(_p(term))


def _p(t):
    if t is None:
        yield "undefined"
    elif t is True:
        yield "true"
    elif t is False:
        yield "false"
    elif isinstance(t, vm.Crash):
        yield "{crash,"
        yield _atom(_crash_reason(t))
        yield "}"
    elif isinstance(t, str):
        yield _atom(t)
    elif isinstance(t, int):
        yield str(t)
    elif isinstance(t, float):
        yield repr(t)
    elif isinstance(t, vm.Pid):
        yield "<" + _pid_name(t) + ">"
    elif isinstance(t, vm.Ref):
        yield "#ref" + str(_ref_number(t))
    elif isinstance(t, (bytes, bytearray)):
        yield '<<"' + "".join(_byte(b) for b in t) + '">>'
    elif isinstance(t, tuple):
        yield "{"
        yield ",".join(fmt(e) for e in t)
        yield "}"
    elif isinstance(t, list):
        yield "["
        yield ",".join(fmt(e) for e in t)
        yield "]"
    elif isinstance(t, dict):
        items = [(fmt(k), fmt(v)) for k, v in t.items()]
        yield "#{" + ",".join(k + "=>" + v for k, v in sorted(items)) + "}"
    elif callable(t):
        yield "#fun"
    else:
        raise TypeError(f"no canonical form for {type(t).__name__}: {t!r}")


def _atom(text: str) -> str:
    text = str(text)
    if _BARE_ATOM.match(text) and text not in _RESERVED:
        return text
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _byte(b: int) -> str:
    if 32 <= b <= 126 and b not in (34, 92):
        return chr(b)
    return f"\\x{b:02x}"


def _crash_reason(crash) -> str:
    message = str(crash.message)
    prefix = f"{crash.exc_type}: "
    if message.startswith(prefix):
        message = message[len(prefix):]
    return message or str(crash.exc_type)


def _pid_name(pid) -> str:
    trace = _current()
    role = trace.pid_names.get(pid)
    if role is None:
        trace.pid_counter += 1
        role = trace.pid_names[pid] = f"p{trace.pid_counter}"
    return role


def _ref_number(ref) -> int:
    numbers = _current().ref_numbers
    if ref not in numbers:
        numbers[ref] = len(numbers) + 1
    return numbers[ref]


# ---------------------------------------------------------------- helpers

def attempt(fn, *args, **kwargs):
    """Run fn and describe the outcome like conf:attempt/1.

    ``("ok", value)``, ``("error", "badarg")`` for vm.BadArg,
    ``("error", "noproc")`` for vm.NoProc, ``("exit", reason)`` for vm.Exit,
    ``("error", str(exc))`` for any other Exception.
    """
    try:
        value = fn(*args, **kwargs)
    except vm.BadArg:
        return ("error", "badarg")
    except vm.NoProc:
        return ("error", "noproc")
    except vm.Exit as exc:
        return ("exit", otp_reason(exc.reason))
    except Exception as exc:  # noqa: BLE001 - described, not swallowed
        return ("error", str(exc))
    return ("ok", value)


_OTP_MODULES = frozenset({"gen", "gen_event", "gen_server", "gen_statem", "proc_lib", "supervisor",
                          "sys", "otp_sys"})
_TIMEOUT_ARG = frozenset({"call", "stop"})


def otp_reason(reason):
    """A behaviour call's exit reason in Erlang's shape.

    ``(r, (module, function, args))`` with an OTP module name and an args
    tuple becomes ``(r, (module, function, [args]))``; the third argument of
    a ``call`` or ``stop`` (a timeout in seconds, None for infinity) becomes
    ms (`ms`). Anything else is returned unchanged.
    """
    if type(reason) is tuple and len(reason) == 2 and type(reason[1]) is tuple \
            and len(reason[1]) == 3:
        module, function, args = reason[1]
        if isinstance(module, str) and module in _OTP_MODULES and isinstance(function, str) \
                and type(args) is tuple:
            args = list(args)
            if function in _TIMEOUT_ARG and len(args) == 3:
                args[2] = ms(args[2])
            return (reason[0], (module, function, args))
    return reason


def ms(seconds):
    """A time in seconds (None: infinity) as Erlang's ms or ``infinity``.

    Atoms such as ``brutal_kill`` pass through.
    """
    if seconds is None:
        return "infinity"
    if isinstance(seconds, (int, float)) and not isinstance(seconds, bool):
        return int(round(seconds * 1000))
    return seconds


def info(pid, item: str):
    """process_info(pid, item) as the bare value in Erlang's shape (conf:info/2)."""
    value = vm.process_info(pid, item)
    if item == "registered_name" and value in (None, "", []):
        return [] if vm.is_process_alive(pid) else None
    if value is None:
        return None
    if item in ("links", "monitored_by"):
        return sorted_terms(list(value))
    if item == "monitors":
        return sorted_terms([_monitor_entry(m) for m in value])
    if item == "dictionary":
        return pairs(value)
    if item == "messages":
        return list(value)
    return value


def _monitor_entry(entry):
    if isinstance(entry, vm.Pid):
        return ("process", entry)
    if isinstance(entry, (tuple, list)) and len(entry) == 2:
        first, second = entry
        if first == "process":
            return ("process", tuple(second) if isinstance(second, list) else second)
        return ("process", (first, second))
    return entry


def pairs(value):
    """get()/erase()/a dictionary as a sorted list of (key, value) tuples."""
    if isinstance(value, dict):
        value = value.items()
    return sorted_terms([tuple(kv) for kv in value])


def sorted_terms(items):
    """A list sorted by the printed form of its elements (conf:sorted/1)."""
    keyed = [(fmt(x), i, x) for i, x in enumerate(items)]
    return [x for _, _, x in sorted(keyed, key=lambda k: (k[0], k[1]))]


def timer_left(value):
    """cancel_timer/read_timer result: False, or "number" for time left."""
    if value is False:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return "number"
    return ("unexpected_timer_value", value)


def settle() -> None:
    """Give every process time to reach its next wait (conf:settle/0)."""
    vm.sleep(0.05)


def flush() -> list:
    """Every message now in the mailbox, oldest first (conf:flush/0)."""
    return testing.drain()


def drain(tag) -> None:
    """Log every queued (tag, _) message, oldest first (conf:drain/1)."""
    for msg in testing.drain((tag, vm.ANY)):
        log(msg)


def receive(*patterns, timeout, after):
    """``receive Patterns -> Msg after Timeout -> After end``."""
    msg = vm.receive(*patterns, timeout=timeout)
    return after if msg is vm.TIMEOUT else msg


_COUNT_KEYS = ("specs", "active", "supervisors", "workers")


def counts(value):
    """count_children's dict as OTP's list of pairs, in OTP's order."""
    if isinstance(value, dict):
        return [(k, value[k]) for k in _COUNT_KEYS if k in value] + \
            [(k, v) for k, v in value.items() if k not in _COUNT_KEYS]
    return value
