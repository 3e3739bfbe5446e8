"""Budgets: reserve before spending, settle after, so no call overshoots a limit.

What this module owns: the books of what agents may spend, and the budget
process that keeps them for a subtree. Resources:

    steps          think-act rounds (one model call and the tools it asked for)
    model_calls    model calls (a call's retries are one call)
    tool_calls     tool calls started
    input_tokens   prompt tokens            output_tokens  completion tokens
    cost           money, from the model's prices per million tokens
    seconds        wall-clock time since the budget started (a deadline)

**Reservation.** Before a model call the agent reserves what the call may
spend at most: one step, one call, the input estimate, the call's
`max_tokens`, and their price. The reservation is refused if `used +
reserved + asked` would pass any limit, so a reply can never overshoot a
hard limit: the call is not made. After the call the agent *settles*: the
reservation is replaced by the usage the model reported. A reservation
whose holder died (an agent killed mid-call) is *charged in full*: the
provider may have billed the call, and the books stay on the safe side.
Every reservation ends in exactly one of settle, release or charge, so the
books balance whatever is killed when (a property test drives this).

**Sharing.** A budget process may have a `parent`: a reservation is made in
the parent first, then locally, and settled in both, so the agents of a
subtree draw on one budget while each keeps its own. A supervisor's agents
share a budget by naming the same budget process (start it as the first
child, with a name).

**The reason** a reservation is refused names what ran out, the amount
used, what was reserved, what was asked, the limit and the budget's name:

    ("budget_exhausted", {"resource": "output_tokens", "used": 950,
                          "reserved": 0, "asked": 100, "limit": 1000,
                          "budget": "team"})

The ledger functions (`new_ledger`, `try_reserve`, ...) are pure; the
agent uses them for per-request limits, the budget process for shared ones.

What it refuses: deciding what to do when a budget is exhausted (the agent
ends the request, or stops itself, by its policy).
"""

from __future__ import annotations

import vm

from .. import gen_server
from .options import check_keys

__all__ = ["RESOURCES", "Budget", "child_spec", "new_ledger", "release", "reserve", "settle",
           "start", "start_link", "usage"]

RESOURCES = ("steps", "model_calls", "tool_calls", "input_tokens", "output_tokens", "cost")
LIMIT_KEYS = RESOURCES + ("seconds",)
_EPS = 1e-12  # cost is a float: compare with a hair of slack


# ----------------------------------------------------------------------
# the ledger (pure)


def check_limits(what, limits) -> dict:
    limits = check_keys(what, limits, LIMIT_KEYS)
    for k, v in limits.items():
        if v is None:
            continue
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
            raise vm.BadArg(f"{what}[{k!r}] must be a number >= 0 or None (no limit), not {v!r}")
        if k not in ("cost", "seconds") and not isinstance(v, int):
            raise vm.BadArg(f"{what}[{k!r}] counts {k}: a whole number, not {v!r}")
    return {k: v for k, v in limits.items() if v is not None}


def new_ledger(name, limits, now) -> dict:
    seconds = limits.get("seconds")
    return {"name": name, "limits": dict(limits), "started": now,
            "deadline_at": None if seconds is None else now + seconds,
            "used": {r: 0 for r in RESOURCES}, "reserved": {r: 0 for r in RESOURCES},
            "open": {}}


def try_reserve(ledger, amounts, now):
    """None if `amounts` fit; else the ("budget_exhausted", detail) reason."""
    limits = ledger["limits"]
    if ledger["deadline_at"] is not None and now >= ledger["deadline_at"]:
        return ("budget_exhausted", {"resource": "seconds", "used": now - ledger["started"],
                                     "reserved": 0, "asked": 0, "limit": limits["seconds"],
                                     "budget": ledger["name"]})
    for r in RESOURCES:
        limit = limits.get(r)
        asked = amounts.get(r, 0)
        if limit is None or not asked:
            continue
        used, reserved = ledger["used"][r], ledger["reserved"][r]
        if used + reserved + asked > limit + (_EPS if r == "cost" else 0):
            return ("budget_exhausted", {"resource": r, "used": used, "reserved": reserved,
                                         "asked": asked, "limit": limit,
                                         "budget": ledger["name"]})
    return None


def add_reservation(ledger, rid, amounts, holder=None, extra=None) -> None:
    for r, v in amounts.items():
        ledger["reserved"][r] += v
    ledger["open"][rid] = {"amounts": dict(amounts), "holder": holder, "extra": extra}


def close_reservation(ledger, rid, spent):
    """End reservation `rid`: `spent` (a dict) is added to used; None if `rid` is not open.

    `spent` is the settled usage, {} for a release, or the reserved amounts
    themselves for a charge."""
    res = ledger["open"].pop(rid, None)
    if res is None:
        return None
    for r, v in res["amounts"].items():
        ledger["reserved"][r] -= v
    for r in RESOURCES:
        v = spent.get(r, 0)
        if v:
            ledger["used"][r] += v
    return res


def summary(ledger, now=None) -> dict:
    out = {"name": ledger["name"], "limits": dict(ledger["limits"]),
           "used": dict(ledger["used"]), "reserved": dict(ledger["reserved"]),
           "open_reservations": len(ledger["open"])}
    if ledger["deadline_at"] is not None and now is not None:
        out["seconds_left"] = max(0.0, ledger["deadline_at"] - now)
    return out


# ----------------------------------------------------------------------
# the budget process


class Budget(gen_server.GenServer):
    """A budget process: `start_link({"output_tokens": 50_000, "cost": 2.0}, name="team")`."""

    def init(self, arg):
        limits, name, parent = arg
        return ("ok", {"ledger": new_ledger(name, limits, vm.monotonic()), "parent": parent,
                       "holders": {}, "next": 0})

    def handle_call(self, request, from_, s):
        tag = request[0]
        if tag == "reserve":
            return ("reply", self._reserve(s, request[1], request[2]), s)
        if tag == "close":
            _, rid, how, spent = request
            return ("reply", self._close(s, rid, how, spent), s)
        if tag == "usage":
            return ("reply", summary(s["ledger"], vm.monotonic()), s)
        return ("reply", ("error", f"unknown budget request {request!r}"), s)

    def handle_info(self, msg, s):
        if type(msg) is tuple and msg[0] == "DOWN":
            holder = msg[3]
            s["holders"].pop(holder, None)
            ledger = s["ledger"]
            for rid, res in list(ledger["open"].items()):
                if res["holder"] == holder:  # died mid-call: charge what it reserved
                    close_reservation(ledger, rid, res["amounts"])
        return ("noreply", s)

    def _reserve(self, s, amounts, holder):
        ledger, now = s["ledger"], vm.monotonic()
        refused = try_reserve(ledger, amounts, now)
        if refused is not None:
            return ("error", refused)
        parent_rid, deadline = None, ledger["deadline_at"]
        if s["parent"] is not None:
            answer = _call(s["parent"], ("reserve", amounts, holder))
            if answer[0] == "error":
                return answer
            _, parent_rid, parent_deadline = answer
            if parent_deadline is not None:
                deadline = parent_deadline if deadline is None else min(deadline, parent_deadline)
        rid = s["next"]
        s["next"] += 1
        if holder not in s["holders"]:
            s["holders"][holder] = vm.monitor(holder)
        add_reservation(ledger, rid, amounts, holder, parent_rid)
        return ("ok", rid, deadline)

    def _close(self, s, rid, how, spent):
        res = close_reservation(s["ledger"], rid, _spent(how, spent, s["ledger"], rid))
        if res is None:
            return "unknown"  # already charged (its holder died first)
        if s["parent"] is not None and res["extra"] is not None:
            _call(s["parent"], ("close", res["extra"], how, spent))
        return "ok"


def _spent(how, spent, ledger, rid):
    if how == "settle":
        return spent
    if how == "release":
        return {}
    res = ledger["open"].get(rid)
    return res["amounts"] if res is not None else {}  # "charge"


def _call(budget, request):
    try:
        return gen_server.call(budget, request)
    except vm.Exit as e:
        return ("error", ("budget_unavailable", {"budget": _name(budget),
                                                 "reason": repr(e.reason)}))


def _name(budget):
    return budget if isinstance(budget, str) else repr(budget)


# ----------------------------------------------------------------------
# the API


def start_link(limits, *, name=None, parent=None, label=None):
    """Start a budget process linked to the caller; returns its pid.

    `name` registers it; `label` (default: the name) is what refusals call it."""
    return _start(gen_server.start_link, limits, name, parent, label)


def start(limits, *, name=None, parent=None, label=None):
    """Start a budget process (not linked); returns its pid."""
    return _start(gen_server.start, limits, name, parent, label)


def _start(starter, limits, name, parent, label):
    limits = check_limits("budget limits", limits)
    if parent is not None and not isinstance(parent, (vm.Pid, str)):
        raise vm.BadArg(f"a budget's parent is a budget pid or name, not {parent!r}")
    label = label or (name if name is not None else "budget")
    res = starter(Budget, (limits, label, parent), name=name)
    if res[0] != "ok":
        raise vm.BadArg(f"budget {label!r} did not start: {res!r}")
    return res[1]


def child_spec(limits, *, name, parent=None) -> dict:
    """A child spec for a named budget process, to start first under a supervisor."""
    limits = check_limits("budget limits", limits)
    return {"id": ("budget", name), "start": (_start_child, (limits, name, parent))}


def _start_child(limits, name, parent):
    return gen_server.start_link(Budget, (limits, name, parent), name=name)


def reserve(budget, amounts, holder=None):
    """Reserve `amounts` (a dict of resources) for `holder` (default: the caller).

    Returns `("ok", reservation, deadline_at)` (deadline_at: the earliest
    `vm.monotonic()` deadline of the budget chain, or None) or `("error",
    reason)`. The holder is monitored: if it dies before the reservation is
    settled or released, the reservation is charged in full."""
    check_keys("reserve amounts", amounts, RESOURCES)
    return _call(budget, ("reserve", amounts, holder or vm.self()))


def settle(budget, reservation, spent) -> str:
    """Replace a reservation by what was really `spent` (a dict of resources)."""
    check_keys("settle amounts", spent, RESOURCES)
    return _call(budget, ("close", reservation, "settle", spent))


def release(budget, reservation) -> str:
    """Give a reservation back unused (the call was never made)."""
    return _call(budget, ("close", reservation, "release", {}))


def charge(budget, reservation) -> str:
    """Count a reservation as spent in full (a call cut off: what it cost is unknown)."""
    return _call(budget, ("close", reservation, "charge", {}))


def usage(budget) -> dict:
    """The books: {"name", "limits", "used", "reserved", "open_reservations"[, "seconds_left"]}."""
    answer = _call(budget, ("usage",))
    if type(answer) is tuple and answer[0] == "error":
        raise vm.BadArg(f"budget {_name(budget)!r} is not running: {answer[1]!r}")
    return answer
