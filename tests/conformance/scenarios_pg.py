"""Python twins of the pg scenarios in erlang/scenarios_pg.erl.

Every public function is a scenario with the same name as its Erlang twin
and must log the same trace (golden/pg/<name>.trace). Literal translations:
`pg:join(Scope, G, P)` is `pg.join(g, p, scope=Scope)`, `pg:monitor(G)` is
`pg.monitor(g)`, and so on for every scoped call.
"""
from __future__ import annotations

import vm
from stdlib import pg
from vm import ANY

from . import trace as T


def _idle(role):
    return T.name(vm.spawn(lambda: vm.receive("stop")), role)


def _kill(p):
    r = vm.monitor(p)
    vm.exit(p, "kill")
    vm.receive(("DOWN", r, ANY, ANY, ANY))


def _note(ref):
    return T.receive((ref, ANY, ANY, ANY), timeout=1.0, after="no_note")


def pg_join_leave():
    pg.start_link()
    a, b = _idle("a"), _idle("b")
    T.log(("join", pg.join("crew", a)))
    pg.join("crew", [b, a])
    pg.join(("team", 1), b)
    T.log(("members", pg.get_members("crew"), pg.get_local_members("crew")))
    T.log(("groups", T.sorted_terms(pg.which_groups())))
    T.log(("leave", pg.leave("crew", a), pg.get_members("crew")))
    T.log(("not_joined", pg.leave("nobody", a)))
    T.log(("leave_list", pg.leave("crew", [a, b]), pg.get_members("crew")))
    T.log(("groups", pg.which_groups(), pg.which_local_groups()))
    T.log(("unknown_group", pg.get_members("nobody")))


def pg_double_join_death():
    pg.start_link()
    a = _idle("a")
    ref, members = pg.monitor("g")
    T.log(("monitor", ref, members))
    pg.join("g", a)
    pg.join("g", a)
    pg.join("other", a)
    T.log(("members", pg.get_members("g"), pg.get_members("other")))
    _kill(a)
    for _ in range(4):
        T.log(_note(ref))
    T.log(("after_death", pg.get_members("g"), pg.which_groups()))


def pg_monitor_scope():
    pg.start_link("sc")
    a, b = _idle("a"), _idle("b")
    pg.join("g1", a, scope="sc")
    ref, groups = pg.monitor_scope("sc")
    T.log(("monitor_scope", ref, groups))
    pg.join("g2", [a, b], scope="sc")
    T.log(_note(ref))
    pg.leave("g1", a, scope="sc")
    T.log(_note(ref))
    _kill(b)
    T.log(_note(ref))
    T.log(("demonitor", pg.demonitor(ref, scope="sc")))
    pg.join("g3", a, scope="sc")
    T.log(("after_demonitor", T.flush()))
    T.log(("demonitor_again", pg.demonitor(ref, scope="sc")))


def pg_leave_list():
    pg.start_link()
    a, b = _idle("a"), _idle("b")
    ref, _ = pg.monitor("g")
    pg.join("g", a)
    T.log(_note(ref))
    T.log(("none_joined", pg.leave("g", [b])))
    T.log(("some_joined", pg.leave("g", [a, b])))
    T.log(_note(ref))
    T.log(("members", pg.get_members("g")))


def pg_scopes():
    ok, scope = pg.start_link()
    T.name(scope, "scope")
    pg.start_link("other")
    a = _idle("a")
    pg.join("g", a)
    T.log(("default", pg.get_members("g"), "other", pg.get_members("g", scope="other")))
    T.log(("groups", pg.which_groups(), pg.which_groups("other")))
    T.log(("again", pg.start_link()))
    T.log(("not_started", pg.get_members("g", scope="nowhere"),
           pg.get_local_members("g", scope="nowhere")))
    T.log(("not_started_groups", T.attempt(pg.which_groups, "nowhere"),
           T.attempt(pg.which_local_groups, "nowhere")))


def pg_dead_pid_joins():
    pg.start_link()
    dead = T.name(vm.spawn(lambda: None), "dead")
    r = vm.monitor(dead)
    vm.receive(("DOWN", r, ANY, ANY, ANY))
    ref, _ = pg.monitor("g")
    T.log(("join", pg.join("g", dead)))
    T.log(_note(ref))
    T.log(_note(ref))
    T.log(("members", pg.get_members("g")))
