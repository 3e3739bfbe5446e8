"""Child specs and supervisor flags: their defaults and their validation.

What this module owns: turning what a user wrote into the normalized dicts
a supervisor works with, or refusing it with OTP's error term (so that
`check_childspecs` and a failed supervisor start read as they do in OTP)
and a message that names the problem and the fix.

Supervisor flags (a dict, or OTP's tuple `(strategy, intensity, period)`):

    strategy       "one_for_one" (default) | "one_for_all" | "rest_for_one"
                   | "simple_one_for_one"
    intensity      int >= 0, default 1        at most this many restarts ...
    period         seconds > 0, default 5     ... within this many seconds
    auto_shutdown  "never" (default) | "any_significant" | "all_significant"

Child spec (a dict, or OTP's tuple `(id, start, restart, shutdown, type,
modules)`):

    id           required; any hashable term
    start        required; (fn, args): fn(*args) must start and link the child
                 and return ("ok", pid), ("ok", pid, info), "ignore" or ("error", r)
    restart      "permanent" (default) | "transient" | "temporary"
    significant  False (default) | True (not with permanent; needs auto_shutdown)
    shutdown     seconds >= 0 | None (infinity) | "brutal_kill";
                 default 5.0 for a worker, None for a supervisor
    type         "worker" (default) | "supervisor"
    modules      a list (default [module of fn]) | "dynamic"

Errors (OTP's terms): `missing_id`, `missing_start`, `("duplicate_child_name",
id)`, `("invalid_child_spec", x)`, `("invalid_mfa", x)`,
`("invalid_restart_type", x)`, `("invalid_significant", x)`,
`("invalid_shutdown", x)`, `("invalid_child_type", x)`,
`("invalid_modules", x)`, `("bad_combination", [...])`; for flags
`("invalid_strategy", x)`, `("invalid_intensity", x)`, `("invalid_period",
x)`, `("invalid_auto_shutdown", x)`. beamlet also refuses unknown keys
(`("unknown_key", key)`) where OTP ignores them: a misspelt "intesity" should
not silently mean the default.

What it refuses: starting anything. The supervisor does that.
"""

from __future__ import annotations

import vm

STRATEGIES = ("one_for_one", "one_for_all", "rest_for_one", "simple_one_for_one")
RESTARTS = ("permanent", "transient", "temporary")
AUTO_SHUTDOWNS = ("never", "any_significant", "all_significant")
CHILD_TYPES = ("worker", "supervisor")
SPEC_KEYS = ("id", "start", "restart", "significant", "shutdown", "type", "modules")
FLAG_KEYS = ("strategy", "intensity", "period", "auto_shutdown")
DEFAULT_FLAGS = {"strategy": "one_for_one", "intensity": 1, "period": 5,
                 "auto_shutdown": "never"}
WORKER_SHUTDOWN = 5.0


class SpecError(vm.BadArg):
    """A bad child spec or flag set; `.reason` is OTP's error term."""

    def __init__(self, reason, hint):
        super().__init__(f"{reason!r}: {hint}")
        self.reason = reason


def _is_seconds(x, allow_zero=True):
    if type(x) is bool or not isinstance(x, (int, float)) or x != x:
        return False
    return x >= 0 if allow_zero else x > 0


def check_flags(flags) -> dict:
    """Normalize supervisor flags (dict or (strategy, intensity, period)); raise SpecError."""
    if type(flags) is tuple and len(flags) == 3:
        flags = {"strategy": flags[0], "intensity": flags[1], "period": flags[2]}
    if type(flags) is not dict:
        raise SpecError(("invalid_type", flags),
                        "supervisor flags must be a dict such as {'strategy': 'one_for_one', "
                        "'intensity': 1, 'period': 5} or a (strategy, intensity, period) tuple")
    for k in flags:
        if k not in FLAG_KEYS:
            raise SpecError(("unknown_key", k),
                            f"supervisor flags take only {', '.join(FLAG_KEYS)}")
    out = dict(DEFAULT_FLAGS)
    out.update(flags)
    if out["strategy"] not in STRATEGIES:
        raise SpecError(("invalid_strategy", out["strategy"]),
                        f"strategy must be one of {', '.join(STRATEGIES)}")
    i = out["intensity"]
    if type(i) is not int or i < 0:
        raise SpecError(("invalid_intensity", i), "intensity must be an int >= 0")
    if not _is_seconds(out["period"], allow_zero=False):
        raise SpecError(("invalid_period", out["period"]), "period must be seconds > 0")
    if out["auto_shutdown"] not in AUTO_SHUTDOWNS:
        raise SpecError(("invalid_auto_shutdown", out["auto_shutdown"]),
                        f"auto_shutdown must be one of {', '.join(AUTO_SHUTDOWNS)}")
    if out["auto_shutdown"] != "never" and out["strategy"] == "simple_one_for_one":
        raise SpecError(("bad_combination", [("auto_shutdown", out["auto_shutdown"]),
                                             ("strategy", "simple_one_for_one")]),
                        "auto_shutdown cannot be used with simple_one_for_one")
    return out


def _default_modules(fn):
    owner = getattr(fn, "__self__", None)
    if isinstance(owner, type):
        return [owner]  # a classmethod such as Worker.start_link: the class is the module
    mod = getattr(fn, "__module__", None)
    return [mod] if mod else []


TUPLE_KEYS = ("id", "start", "restart", "shutdown", "type", "modules")  # OTP's 6-tuple


def from_tuple(spec):
    """A spec in OTP's 6-tuple form as a dict; anything else unchanged."""
    if type(spec) is tuple and len(spec) == len(TUPLE_KEYS):
        return dict(zip(TUPLE_KEYS, spec, strict=True))
    return spec


def check_childspec(spec, auto_shutdown=None) -> dict:
    """Normalize one child spec into a dict with every key; raise SpecError.

    `auto_shutdown` (the supervisor's flag) also checks that significant
    children are allowed; None skips that check (OTP's check_childspecs/1).
    """
    spec = from_tuple(spec)
    if type(spec) is not dict:
        raise SpecError(("invalid_child_spec", spec),
                        "a child spec is a dict {'id': ..., 'start': (fn, args), ...}")
    if "id" not in spec:
        raise SpecError(vm.Atom("missing_id"), "every child spec needs an 'id'")
    if "start" not in spec:
        raise SpecError(vm.Atom("missing_start"),
                        "every child spec needs 'start': (fn, args), fn(*args) starting the child")
    for k in spec:
        if k not in SPEC_KEYS:
            raise SpecError(("unknown_key", k), f"child spec keys are {', '.join(SPEC_KEYS)}")
    cid = spec["id"]
    try:
        hash(cid)
    except TypeError:
        raise SpecError(("invalid_child_id", cid),
                        "a child id must be hashable (a str, a tuple, a class, ...)") from None
    start = spec["start"]
    if not (type(start) in (tuple, list) and len(start) == 2 and callable(start[0])
            and type(start[1]) in (tuple, list)):
        raise SpecError(("invalid_mfa", start),
                        "'start' must be (fn, args) with fn callable and args a tuple")
    start = (start[0], tuple(start[1]))
    restart = spec.get("restart", "permanent")
    if restart not in RESTARTS:
        raise SpecError(("invalid_restart_type", restart),
                        f"restart must be one of {', '.join(RESTARTS)}")
    significant = spec.get("significant", False)
    if type(significant) is not bool:
        raise SpecError(("invalid_significant", significant), "significant must be True or False")
    ctype = spec.get("type", "worker")
    if ctype not in CHILD_TYPES:
        raise SpecError(("invalid_child_type", ctype), "type must be 'worker' or 'supervisor'")
    shutdown = spec.get("shutdown", WORKER_SHUTDOWN if ctype == "worker" else None)
    if shutdown == "infinity":
        shutdown = None
    if not (shutdown is None or shutdown == "brutal_kill" or _is_seconds(shutdown)):
        raise SpecError(("invalid_shutdown", shutdown),
                        "shutdown must be seconds >= 0, None (infinity) or 'brutal_kill'")
    modules = spec.get("modules")
    if modules is None:
        modules = _default_modules(start[0])
    elif modules != "dynamic" and type(modules) not in (list, tuple):
        raise SpecError(("invalid_modules", modules), "modules must be a list or 'dynamic'")
    elif modules != "dynamic":
        modules = list(modules)
    if significant and restart == "permanent":
        raise SpecError(("bad_combination", [("restart", "permanent"), ("significant", True)]),
                        "a significant child must be transient or temporary")
    if significant and auto_shutdown == "never":
        raise SpecError(("bad_combination", [("auto_shutdown", "never"), ("significant", True)]),
                        "significant children need auto_shutdown any_significant or "
                        "all_significant")
    return {"id": cid, "start": start, "restart": vm.Atom(restart), "significant": significant,
            "shutdown": shutdown, "type": vm.Atom(ctype), "modules": modules}


def check_childspecs(specs, auto_shutdown=None) -> list:
    """Normalize a list of child specs (ids unique); raise SpecError."""
    if type(specs) not in (list, tuple):
        raise SpecError(("badarg", specs), "child specs must be a list")
    out = []
    seen = set()
    for s in specs:
        c = check_childspec(s, auto_shutdown)
        if c["id"] in seen:
            raise SpecError(("duplicate_child_name", c["id"]), "child ids must be unique")
        seen.add(c["id"])
        out.append(c)
    return out


def expand(child):
    """Elixir's shorthand: a spec dict or 6-tuple as is; `(Cls, arg)` or `Cls` through
    `Cls.child_spec(arg)` (a GenServer, Supervisor, ... subclass)."""
    if type(child) is dict or (type(child) is tuple and len(child) == 6):
        return child
    if type(child) is tuple and len(child) == 2 and callable(getattr(child[0], "child_spec", None)):
        return child[0].child_spec(child[1])
    if isinstance(child, type) and callable(getattr(child, "child_spec", None)):
        return child.child_spec(None)
    raise vm.BadArg(
        f"a child must be a spec dict, (Class, arg) or Class where Class has a child_spec "
        f"(GenServer, Supervisor, ... subclasses do), not {child!r}"
    )
