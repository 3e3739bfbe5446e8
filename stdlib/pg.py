"""pg: named process groups (OTP 23+), in scopes.

    from stdlib import pg

    pg.start_link()                          # the default scope, "pg"
    pg.join("crew", vm.self())
    pg.get_members("crew")                   # [<0.5.0>]
    for member in pg.get_members("crew"):
        vm.send(member, "hello")

What this module owns: OTP's `pg` for the local node. A scope is a
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

Distribution, later: a scope is shaped as OTP's, so that spreading groups
across nodes is OTP's protocol and nothing else. On start a scope will send
`("discover", self)` to the scope of the same name on every connected
node; each answers with a `sync` cast of its local members per group and
monitors the asker; joins and leaves of local processes are broadcast as
`("join", scope_pid, group, pids)` / `("leave", scope_pid, pids, groups)`;
a remote scope's DOWN (its node gone) drops every member it reported. The
table already separates all members from local ones (`get_local_members`
reads the third element), and only local pids may join, as in OTP, so the
remote half slots in without changing what a reader sees.

A scope that is not running has no members (`get_members` returns []),
but `which_groups` and `which_local_groups` raise `vm.BadArg`, as OTP's do.

What it refuses: remote pids (`vm.BadArg`, OTP's `{nolocal, Pid}`), and
groups that cannot be dict keys.
"""

from __future__ import annotations

import vm
from vm import ANY, Atom

from . import ets, gen_server
from .gen_server import GenServer

__all__ = ["demonitor", "get_local_members", "get_members", "join", "leave", "monitor",
           "monitor_scope", "start", "start_link", "which_groups", "which_local_groups"]

DEFAULT_SCOPE = Atom("pg")
OK = Atom("ok")
NOT_JOINED = Atom("not_joined")
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


# ----------------------------------------------------------------------
# the scope process


class _Scope(GenServer):
    """State: the scope's name and who is monitored, as plain terms:

    local             {pid: (monitor ref, [groups joined, newest first])}
    scope_monitors    {ref: subscriber pid}
    group_monitors    {ref: (subscriber pid, group)}
    monitored_groups  {group: [(subscriber pid, ref)]}
    """

    def init(self, scope):
        ets.new(scope, ["set", "protected", "named_table", ("read_concurrency", True)])
        return ("ok", {"scope": scope, "local": {}, "scope_monitors": {}, "group_monitors": {},
                       "monitored_groups": {}})

    def handle_call(self, request, from_, s):
        match request:
            case ("join_local", group, pids):
                for pid in pids if type(pids) is list else [pids]:
                    self._remember(s, pid, group)
                self._add(s, group, pids)
                return ("reply", OK, s)
            case ("leave_local", group, pids):
                if not any([self._forget(s, pid, group)
                            for pid in (pids if type(pids) is list else [pids])]):
                    return ("reply", NOT_JOINED, s)
                self._remove(s, group, pids)
                return ("reply", OK, s)
            case "monitor":
                ref = vm.monitor(from_[0])
                s["scope_monitors"][ref] = from_[0]
                groups = {g: members for g, members, _ in ets.tab2list(s["scope"])}
                return ("reply", (ref, groups), s)
            case ("monitor", group):
                ref = vm.monitor(from_[0])
                s["group_monitors"][ref] = (from_[0], group)
                s["monitored_groups"].setdefault(group, []).insert(0, (from_[0], ref))
                return ("reply", (ref, get_members(group, s["scope"])), s)
            case ("demonitor", ref):
                if s["scope_monitors"].pop(ref, None) is not None:
                    vm.demonitor(ref)
                    return ("reply", OK, s)
                entry = s["group_monitors"].pop(ref, None)
                if entry is None:
                    return ("reply", False, s)
                vm.demonitor(ref)
                self._drop_group_monitor(s, entry[1], entry[0], ref)
                return ("reply", OK, s)
        raise vm.BadArg(f"pg scope {s['scope']!r}: unknown request {request!r}")

    def handle_info(self, msg, s):
        match msg:
            case ("DOWN", ref, "process", pid, _):
                entry = s["local"].get(pid)
                if entry is not None and entry[0] == ref:
                    del s["local"][pid]
                    for group in entry[1]:
                        self._remove(s, group, pid)
                elif s["scope_monitors"].pop(ref, None) is None:
                    gm = s["group_monitors"].pop(ref, None)
                    if gm is not None:
                        self._drop_group_monitor(s, gm[1], gm[0], ref)
        return ("noreply", s)

    # -------------------------------------------------------------- bookkeeping

    @staticmethod
    def _remember(s, pid, group):
        entry = s["local"].get(pid)
        if entry is None:
            s["local"][pid] = (vm.monitor(pid), [group])
        else:
            entry[1].insert(0, group)

    @staticmethod
    def _forget(s, pid, group) -> bool:
        """Drop one membership of pid in group; True if it had one."""
        entry = s["local"].get(pid)
        if entry is None or group not in entry[1]:
            return False
        entry[1].remove(group)
        if not entry[1]:
            vm.demonitor(entry[0])
            del s["local"][pid]
        return True

    def _add(self, s, group, pids):
        new = pids if type(pids) is list else [pids]
        scope = s["scope"]
        found = ets.lookup(scope, group)
        if found:
            _, members, local = found[0]
            ets.insert(scope, (group, new + members, new + local))
        else:
            ets.insert(scope, (group, list(new), list(new)))
        self._notify(s, JOIN, group, new)

    def _remove(self, s, group, pids):
        gone = pids if type(pids) is list else [pids]
        scope = s["scope"]
        found = ets.lookup(scope, group)
        if not found:
            return
        _, members, local = found[0]
        members, local = _minus(members, gone), _minus(local, gone)
        if members:
            ets.insert(scope, (group, members, local))
        else:
            ets.delete(scope, group)
        self._notify(s, LEAVE, group, gone)

    @staticmethod
    def _notify(s, action, group, pids):
        for ref, pid in s["scope_monitors"].items():
            vm.send(pid, (ref, action, group, pids))
        for pid, ref in s["monitored_groups"].get(group, ()):
            vm.send(pid, (ref, action, group, pids))

    @staticmethod
    def _drop_group_monitor(s, group, pid, ref):
        watchers = [w for w in s["monitored_groups"].get(group, []) if w != (pid, ref)]
        if watchers:
            s["monitored_groups"][group] = watchers
        else:
            s["monitored_groups"].pop(group, None)


def _minus(members, gone):
    """Erlang's `members -- gone`: remove one occurrence per element of gone."""
    out = list(members)
    for pid in gone:
        if pid in out:
            out.remove(pid)
    return out
