"""pg: named process groups (OTP 23+), in scopes.

    from stdlib import pg

    pg.start_link()                          # the default scope, "pg"
    pg.join("crew", vm.self())
    pg.get_members("crew")                   # [<0.5.0>]
    for member in pg.get_members("crew"):
        vm.send(member, "hello")

What this module owns: OTP's `pg` API. A scope is a
gen_server registered under the scope's name, which owns a protected ETS
table of the same name holding `(group, members, local_members)`; every
change goes through the scope process (so changes are serialised, as in
OTP) and every read (`get_members`, `which_groups`, ...) reads the table
directly, without a message. The scope monitors each member once; when a
member dies it leaves every group it joined, as many times as it joined
(a process that joined a group twice must leave twice, or die).

Scope arguments: OTP's `pg:join(Scope, Group, Pids)` is
`pg.join(group, pids, scope=Scope)` here (and likewise for every call);
leaving `scope` out means the default scope `"pg"`, which, as in OTP, must
have been started (`pg.start_link()`; OTP's kernel starts it when
configured to). A call to a scope that is not running exits with
`("noproc", ...)`, as OTP's does.

Members are listed newest first, as OTP lists them. Groups are any
hashable term. Monitors (OTP 25.1): `monitor_scope()` returns `(ref,
{group: members})` and `monitor(group)` returns `(ref, members)`; then
every change arrives as `(ref, "join", group, pids)` or `(ref, "leave",
group, pids)` until `demonitor(ref)`, which also flushes the ones already
queued.

Across nodes: scopes of the same name on connected nodes share their
groups, over OTP's own protocol (`_pg_scope.py` has it), so a beamlet
node and an Erlang node share a scope too. `get_members` lists every
member, wherever it runs; `get_local_members` and `which_local_groups`
only this node's; subscribers hear of remote joins and leaves as of local
ones; a node that goes away takes its members with it. Membership is
eventually consistent, as in OTP: a join on one node shows on the others
when its message arrives. Groups travel as terms: a `str` group is an
Erlang binary, so a group shared with Erlang code is usually a `vm.Atom`
(`pg.join(vm.Atom("crew"), ...)` is Erlang's `crew`).

A scope that is not running has no members (`get_members` returns []),
but `which_groups` and `which_local_groups` raise `vm.BadArg`, as OTP's do.

What it refuses: remote pids (`vm.BadArg`, OTP's `{nolocal, Pid}`), and
groups that cannot be dict keys.
"""

from __future__ import annotations

import vm
from vm import ANY, Atom

from . import ets, gen_server
from ._pg_scope import Scope as _Scope

__all__ = ["demonitor", "get_local_members", "get_members", "join", "leave", "monitor",
           "monitor_scope", "start", "start_link", "which_groups", "which_local_groups"]

DEFAULT_SCOPE = Atom("pg")
OK = Atom("ok")
JOIN = Atom("join")
LEAVE = Atom("leave")


# ----------------------------------------------------------------------
# starting


def start_link(scope=DEFAULT_SCOPE):
    """Start a scope linked to the caller: `("ok", pid)`, or `("error", why)`
    (`("already_started", pid)` when the scope runs already)."""
    return gen_server.start_link(_Scope, _scope_name(scope), name=_scope_name(scope))


def start(scope=DEFAULT_SCOPE):
    """Start a scope outside any supervision tree."""
    return gen_server.start(_Scope, _scope_name(scope), name=_scope_name(scope))


def child_spec(scope=DEFAULT_SCOPE) -> dict:
    """The child spec that starts `scope` under a supervisor."""
    return {"id": ("pg", _scope_name(scope)), "start": (start_link, (scope,)),
            "restart": "permanent", "type": "worker", "modules": [_Scope]}


def _scope_name(scope):
    if not isinstance(scope, str):
        raise vm.BadArg(f"pg: a scope is named by a str or vm.Atom, not {scope!r}")
    return Atom(scope)


# ----------------------------------------------------------------------
# changing membership


def join(group, pids, scope=DEFAULT_SCOPE):
    """Join one local pid, or a list of them (a pid may appear several times),
    to `group`; returns "ok". A process may join a group many times."""
    _check_group(group)
    _check_local(pids)
    return gen_server.call(_scope_name(scope), ("join_local", group, pids), None)


def leave(group, pids, scope=DEFAULT_SCOPE):
    """Make one pid (or a list) leave `group` once; "ok", or "not_joined" when
    none of them was a member."""
    _check_group(group)
    _check_local(pids)
    return gen_server.call(_scope_name(scope), ("leave_local", group, pids), None)


def _check_group(group):
    try:
        hash(group)
    except TypeError:
        raise vm.BadArg(f"pg: a group must be hashable (a dict key), not {group!r}") from None


def _check_local(pids):
    here = vm.node_name()
    for pid in pids if type(pids) is list else [pids]:
        if type(pid) is not vm.Pid or pid.node != here:
            raise vm.BadArg(f"pg: only local processes may join or leave a group; {pid!r} "
                            "is not a local pid (OTP: {nolocal, Pid})")


# ----------------------------------------------------------------------
# reading (straight from the scope's table)


def get_members(group, scope=DEFAULT_SCOPE) -> list:
    """Every member of `group` (newest first; a pid that joined twice is listed twice)."""
    return _read(scope, group, 1)


def get_local_members(group, scope=DEFAULT_SCOPE) -> list:
    """The members of `group` running on this node."""
    return _read(scope, group, 2)


def _read(scope, group, pos):
    try:
        return ets.lookup_element(_scope_name(scope), group, pos, default=[])
    except vm.BadArg:
        return []  # the scope is not running: no group has members


def which_groups(scope=DEFAULT_SCOPE) -> list:
    """Every group with at least one member. `vm.BadArg` if the scope is not
    running (as OTP's; get_members says [] instead)."""
    return [g for [g] in ets.match(_scope_table(scope, "which_groups"), ("$1", "_", "_"))]


def which_local_groups(scope=DEFAULT_SCOPE) -> list:
    """Every group with at least one member on this node."""
    return ets.select(_scope_table(scope, "which_local_groups"),
                      [(("$1", "_", "$2"), [("=/=", "$2", [])], ["$1"])])


def _scope_table(scope, what):
    name = _scope_name(scope)
    if ets.whereis(name) is None:
        raise vm.BadArg(f"pg.{what}: the scope {name!r} is not running; start it with "
                        f"pg.start_link({name!r})")
    return name


# ----------------------------------------------------------------------
# monitoring


def monitor_scope(scope=DEFAULT_SCOPE):
    """Subscribe to every change in the scope: `(ref, {group: members})`."""
    return gen_server.call(_scope_name(scope), "monitor", None)


def monitor(group, scope=DEFAULT_SCOPE):
    """Subscribe to the changes of one group: `(ref, members)`."""
    _check_group(group)
    return gen_server.call(_scope_name(scope), ("monitor", group), None)


def demonitor(ref, scope=DEFAULT_SCOPE):
    """Unsubscribe and drop the notifications already queued; "ok", or False
    if `ref` was not a subscription of this scope."""
    if gen_server.call(_scope_name(scope), ("demonitor", ref), None) != OK:
        return False
    while vm.receive((ref, JOIN, ANY, ANY), (ref, LEAVE, ANY, ANY), timeout=0) is not vm.TIMEOUT:
        pass
    return OK
