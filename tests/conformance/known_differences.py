"""Known differences between beamlet and the OTP 25 traces, line by line.

Each entry names a scenario (its test id), why beamlet differs, and the
golden lines beamlet prints differently, as ``(OTP line, beamlet line)``
pairs. test_conformance.py then expects the golden trace with exactly
those lines replaced (in order, each pair at the next occurrence of its
OTP line), so every other line of the scenario is still checked; and a
scenario that matches OTP exactly again fails until its entry is removed.

Two kinds of entries:

* **OTP 26 by design**: the golden files are recorded on OTP 25 and
  beamlet follows OTP 26 on purpose
  where the two differ;
* **open**: beamlet differs from OTP 25 and the project has not decided
  (fix it in stdlib/, or list it in docs/deviations.md and keep the entry).

Empty this table to see the raw failures.
"""
from __future__ import annotations

OTP26 = "OTP 26 by design"
OPEN = "open"

KNOWN_DIFFERENCES: dict[str, tuple[str, str, list[tuple[str, str]]]] = {
    "gen_server/gs_init_error": (
        OTP26,
        "init returning {error, R}: OTP 26 returns {error, R} and exits normal "
        "silently; OTP 25 has no such return and calls it a bad return value.",
        [("{start,{error,{bad_return_value,{error,myreason}}}}", "{start,{error,myreason}}"),
         ("{watched,{bad_return_value,{error,myreason}}}", "{watched,normal}")],
    ),
    "gen_server/gs_init_failed_start_leaves_exit": (
        OTP26,
        "a failed start_link: OTP 26 returns once the server is dead and its "
        "'EXIT' consumed; OTP 25 returns at init_ack and leaves the 'EXIT' in "
        "the trapping caller's mailbox.",
        [("{mailbox,[{'EXIT',<p1>,myreason}]}", "{mailbox,[]}"),
         ("{mailbox,[{'EXIT',<p2>,normal}]}", "{mailbox,[]}"),
         ("{mailbox,[{'EXIT',<p3>,myreason}]}", "{mailbox,[]}")],
    ),
    "gen_statem/sm_init_results": (
        OPEN,
        "an init that raises: OTP's gen_statem:start returns {error, Reason} "
        "without the stack ({error, boom}); beamlet returns the vm.Crash.",
        [("{start,{error,boom}}", "{start,{error,{crash,boom}}}")],
    ),
    "gen_statem/sm_terminate": (
        OPEN,
        "a state callback that raises: OTP passes terminate/3 the bare reason "
        "(boom) and exits with {boom, Stack}; beamlet passes the vm.Crash. A bad "
        "return: OTP exits with error({bad_return_from_state_function, X}), i.e. "
        "with a stack; beamlet exits with the bare tuple.",
        [("{terminate,s1,boom}", "{terminate,s1,{crash,boom}}"),
         ("{'DOWN',#ref3,process,<sm>,{crash,{bad_return_from_state_function,wrong}}}",
          "{'DOWN',#ref3,process,<sm>,{bad_return_from_state_function,wrong}}")],
    ),
    "supervisor/sup_simple_one_for_one": (
        OPEN,
        "terminate_child(Sup, Pid) on a simple_one_for_one supervisor with a "
        "pid that is no longer alive: OTP 25 returns ok; beamlet returns "
        "{error, not_found}.",
        [("{terminate,ok}", "{terminate,ok}"),
         ("{terminate,ok}", "{terminate,{error,not_found}}")],
    ),
}


def apply(key: str, golden: list[str]) -> list[str]:
    """The trace beamlet is expected to print for `key`: `golden` with its
    known differences applied. Raises ValueError if an OTP line is missing
    (the entry is stale)."""
    if key not in KNOWN_DIFFERENCES:
        return golden
    lines = list(golden)
    at = 0
    for otp_line, beamlet_line in KNOWN_DIFFERENCES[key][2]:
        try:
            i = lines.index(otp_line, at)
        except ValueError:
            raise ValueError(f"known difference of {key} is stale: golden line "
                             f"{otp_line!r} not found (after line {at + 1})") from None
        lines[i] = beamlet_line
        at = i + 1
    return lines
