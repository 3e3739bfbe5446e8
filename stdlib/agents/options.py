"""Option dicts checked loudly: an unknown key is an error, never ignored.

What this module owns: one function every public entry point of the agents
package uses on its keyword options and option dicts. A misspelt key
(`max_concurent_tools`) or a key put at the wrong level is refused with the
list of keys that would be understood, instead of being silently dropped
(one framework documented a concurrency cap under a key its code never
read). It also checks the common value shapes (seconds, counts).

What it refuses: what an option means; each module checks its own values.
"""

from __future__ import annotations

import math

import vm

__all__ = ["check_keys", "count", "left_until", "seconds", "switch"]


def check_keys(what: str, given, known) -> dict:
    """`given` as a dict, after refusing any key not in `known`."""
    if given is None:
        return {}
    if type(given) is not dict:
        raise vm.BadArg(f"{what}: expected a dict of options, not {type(given).__name__} "
                        f"({given!r})")
    unknown = [k for k in given if k not in known]
    if unknown:
        raise vm.BadArg(
            f"{what}: unknown option{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(k) for k in unknown)}; known: {', '.join(sorted(known))}"
        )
    return dict(given)


def switch(what: str, value, known):
    """An option that is off (None, False), on with defaults (True) or on with a
    dict of settings: None when off, else the checked dict."""
    if value is None or value is False:
        return None
    return check_keys(what, {} if value is True else value, known)


def seconds(what: str, value, *, allow_none=True):
    """A duration in seconds (int or float >= 0), or None for no limit."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or (
            isinstance(value, float) and math.isnan(value)):
        none = " or None (no limit)" if allow_none else ""
        raise vm.BadArg(f"{what} must be seconds >= 0{none}, not {value!r}")
    return None if value == math.inf and allow_none else value


def left_until(deadline):
    """Seconds from now (the node's clock) to `deadline`, a `vm.monotonic()` time:
    None for no deadline, and 0 or less once it has passed."""
    return None if deadline is None else deadline - vm.monotonic()


def count(what: str, value, *, minimum=0, allow_none=True):
    """A whole number >= minimum, or None for no limit."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        none = " or None (no limit)" if allow_none else ""
        raise vm.BadArg(f"{what} must be a whole number >= {minimum}{none}, not {value!r}")
    return value
