"""The pg scope process: one per scope and node, the only writer of the scope's table.

What this module owns: the gen_server behind `stdlib.pg` (the API and the
reads live in pg.py), and the exchange that spreads a scope over nodes,
which is OTP's, term for term, so that a beamlet node and an Erlang node
share a scope:

- on start, and on every `("nodeup", node)` (`vm.dist.monitor_nodes`), the
  scope sends `(discover, self)` to the process registered under the
  scope's name on that node (every connected node, hidden ones too: beamlet
  nodes start hidden);
- a scope that gets `(discover, peer)` casts `(sync, self, [(group,
  local pids), ...])` to `peer`, and, the first time it hears of that peer,
  monitors it and sends `(discover, self)` back; a `sync` replaces all that
  is known of the peer's members;
- local joins and leaves go to every known peer as `(join, self, group,
  pid_or_pids)` and `(leave, self, pid_or_pids, [group, ...])`; a local
  member's death is one `leave` naming every group it was in;
- a peer scope's DOWN (its node gone: `noconnection`, or the scope
  stopped) drops every member it reported; `nodedown` alone changes
  nothing, as in OTP. When the scope stopped but its node is still
  connected, `discover` is sent again a few times (after 0.2, 1, 5 and
  25 s) until a scope there answers: a restarted Erlang scope discovers
  visible nodes only, so it would never find this (hidden) node by itself.

Every change, local or remote, updates the table and notifies the
`monitor`/`monitor_scope` subscribers with `(ref, join|leave, group, pids)`.

What it refuses: messages it cannot read. A `join`, `leave` or `sync` from
a scope it has not discovered is ignored, as OTP ignores it (a late message
from a node that flickered); a malformed one, or one naming a group that
cannot be a Python dict key (an Erlang list or map), is ignored with a
warning on the "beamlet.pg" logger instead of crashing the scope as OTP's
does.
"""

from __future__ import annotations

import logging

import vm
from vm import Atom
from vm import dist as _dist

from . import ets, gen_server
from .gen_server import GenServer

log = logging.getLogger("beamlet.pg")

OK = Atom("ok")
NOT_JOINED = Atom("not_joined")
JOIN = Atom("join")
LEAVE = Atom("leave")
DISCOVER = Atom("discover")
SYNC = Atom("sync")
REDISCOVER = "$pg_rediscover"
REDISCOVER_AFTER = (0.2, 1.0, 5.0, 25.0)  # seconds, from a peer scope's DOWN


class Scope(GenServer):
    """State, as plain terms:

    scope             the scope's name (also its table's and its registered name)
    local             {pid: (monitor ref, [groups joined, newest first])}
    remote            {peer scope pid: (monitor ref, {group: [pids]})}
    scope_monitors    {ref: subscriber pid}
    group_monitors    {ref: (subscriber pid, group)}
    monitored_groups  {group: [(subscriber pid, ref)]}
    """

    def init(self, scope):
        ets.new(scope, ["set", "protected", "named_table", ("read_concurrency", True)])
        _dist.monitor_nodes(True)
        for node in _dist.nodes("connected"):
            vm.send((scope, node), (DISCOVER, vm.self()))
        return ("ok", {"scope": scope, "local": {}, "remote": {}, "scope_monitors": {},
                       "group_monitors": {}, "monitored_groups": {}})

    def terminate(self, reason, s):
        _dist.monitor_nodes(False)

    # ------------------------------------------------------------------ calls

    def handle_call(self, request, from_, s):
        match request:
            case ("join_local", group, pids):
                for pid in _as_list(pids):
                    self._remember(s, pid, group)
                self._add(s, group, _as_list(pids), local=True)
                self._broadcast(s, (JOIN, vm.self(), group, pids))
                return ("reply", OK, s)
            case ("leave_local", group, pids):
                if not any([self._forget(s, pid, group) for pid in _as_list(pids)]):
                    return ("reply", NOT_JOINED, s)
                self._remove(s, group, _as_list(pids))
                self._broadcast(s, (LEAVE, vm.self(), pids, [group]))
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
                members = ets.lookup_element(s["scope"], group, 2, default=[])
                return ("reply", (ref, members), s)
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

    # ------------------------------------------------------------------ the exchange

    def handle_cast(self, msg, s):
        match msg:
            case ("sync", vm.Pid() as peer, list(groups)) if _readable_sync(groups):
                self._sync(s, peer, groups)
            case _:
                log.warning("pg scope %r: ignored a malformed cast %r", s["scope"], msg)
        return ("noreply", s)

    def handle_info(self, msg, s):
        match msg:
            case ("join", vm.Pid() as peer, group, pids) if _pids(pids):
                if peer in s["remote"] and _hashable(s, group, peer):
                    self._add(s, group, _as_list(pids), local=False)
                    known = s["remote"][peer][1]
                    known[group] = _as_list(pids) + known.get(group, [])
            case ("leave", vm.Pid() as peer, pids, list(groups)) if _pids(pids):
                if peer in s["remote"] and all(_hashable(s, g, peer) for g in groups):
                    known = s["remote"][peer][1]
                    for group in groups:
                        self._remove(s, group, _as_list(pids))
                        rest = _minus(known.get(group, []), _as_list(pids))
                        if rest:
                            known[group] = rest
                        else:
                            known.pop(group, None)
            case ("discover", vm.Pid() as peer) | ("discover", vm.Pid() as peer, _):
                self._discovered_by(s, peer)
            case ("DOWN", ref, "process", pid, reason):
                self._down(s, ref, pid, reason)
            case ("nodeup", node):
                vm.send((s["scope"], node), (DISCOVER, vm.self()))
            case ("$pg_rediscover", node, attempt):
                self._rediscover(s, node, attempt)
            case ("nodedown", _):
                pass  # the peer scope's DOWN (noconnection) follows: it drops the members
            case _:
                log.warning("pg scope %r: ignored an unexpected message %r", s["scope"], msg)
        return ("noreply", s)

    def _discovered_by(self, s, peer):
        by_group: dict = {}
        for pid, (_ref, groups) in s["local"].items():
            for group in groups:
                by_group.setdefault(group, []).insert(0, pid)
        gen_server.cast(peer, (SYNC, vm.self(), list(by_group.items())))
        if peer not in s["remote"]:
            s["remote"][peer] = (vm.monitor(peer), {})
            vm.send(peer, (DISCOVER, vm.self()))

    def _sync(self, s, peer, groups):
        """The peer's local members, all of them: replace what we knew of it."""
        if peer in s["remote"]:
            ref, old = s["remote"][peer]
        else:
            ref, old = vm.monitor(peer), {}
        new: dict = {}
        for group, pids in groups:
            if _hashable(s, group, peer):
                new[group] = list(pids)
        for group, pids in new.items():
            before = old.pop(group, None)
            if before == pids:
                continue
            if before:
                self._remove(s, group, before)
            self._add(s, group, pids, local=False)
        for group, pids in old.items():  # groups the peer no longer has
            self._remove(s, group, pids)
        s["remote"][peer] = (ref, new)

    def _down(self, s, ref, pid, reason):
        entry = s["local"].get(pid)
        if entry is not None and entry[0] == ref:
            del s["local"][pid]
            for group in entry[1]:
                self._remove(s, group, [pid])
            self._broadcast(s, (LEAVE, vm.self(), pid, entry[1]))
            return
        peer = s["remote"].get(pid)
        if peer is not None and peer[0] == ref:
            del s["remote"][pid]
            for group, pids in peer[1].items():
                self._remove(s, group, pids)
            if reason != "noconnection":  # the scope went, its node stays: it may restart
                vm.send_after(REDISCOVER_AFTER[0], vm.self(), (REDISCOVER, pid.node, 0))
            return
        if s["scope_monitors"].pop(ref, None) is None:
            gm = s["group_monitors"].pop(ref, None)
            if gm is not None:
                self._drop_group_monitor(s, gm[1], gm[0], ref)

    def _rediscover(self, s, node, attempt):
        if any(peer.node == node for peer in s["remote"]) or \
                node not in _dist.nodes("connected"):
            return  # a scope there answered, or the node went (nodeup will discover)
        vm.send((s["scope"], node), (DISCOVER, vm.self()))
        if attempt + 1 < len(REDISCOVER_AFTER):
            vm.send_after(REDISCOVER_AFTER[attempt + 1], vm.self(),
                          (REDISCOVER, node, attempt + 1))

    @staticmethod
    def _broadcast(s, msg):
        for peer in s["remote"]:
            vm.send(peer, msg)

    # ------------------------------------------------------------------ bookkeeping

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

    def _add(self, s, group, new, local):
        """`new` (a list of pids) joined `group`: in front of the members (and
        of the local members when they are ours)."""
        if not new:
            return
        scope = s["scope"]
        found = ets.lookup(scope, group)
        members, mine = (found[0][1], found[0][2]) if found else ([], [])
        ets.insert(scope, (group, new + members, new + mine if local else mine))
        self._notify(s, JOIN, group, new)

    def _remove(self, s, group, gone):
        """`gone` (a list of pids) left `group` once each, wherever they run."""
        scope = s["scope"]
        found = ets.lookup(scope, group)
        if not found or not gone:
            return
        _, members, mine = found[0]
        members, mine = _minus(members, gone), _minus(mine, gone)
        if members:
            ets.insert(scope, (group, members, mine))
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


# ----------------------------------------------------------------------
# reading what peers send


def _as_list(pids) -> list:
    return pids if type(pids) is list else [pids]


def _pids(pids) -> bool:
    """A pid, or a list of pids (what join and leave carry)."""
    return type(pids) is vm.Pid or (type(pids) is list and all(type(p) is vm.Pid for p in pids))


def _readable_sync(groups) -> bool:
    return all(type(g) is tuple and len(g) == 2 and type(g[1]) is list and _pids(g[1])
               for g in groups)


def _hashable(s, group, peer) -> bool:
    try:
        hash(group)
    except TypeError:
        log.warning("pg scope %r: ignored the group %r from %r: a group must be usable as a "
                    "Python dict key (an atom, number, binary, pid, or a tuple of those), "
                    "not a list or map", s["scope"], group, peer)
        return False
    return True


def _minus(members, gone):
    """Erlang's `members -- gone`: remove one occurrence per element of gone."""
    out = list(members)
    for pid in gone:
        if pid in out:
            out.remove(pid)
    return out
