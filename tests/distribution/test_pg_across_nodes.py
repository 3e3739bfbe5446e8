"""pg scopes spanning nodes: beamlet with a real Erlang node (OTP's own pg), and two beamlet
nodes."""

import contextlib
import queue

import vm
from stdlib import gen_server, pg
from vm import Atom, dist

from .cluster import wait_for
from .erlang import requires_erl

SCOPE = Atom("crew_scope")
CREW = Atom("crew")


def _start_scope(py, scope=SCOPE):
    assert py.call(lambda: pg.start(scope))[0] == "ok"


def _member(py, group=CREW, scope=SCOPE, name=None):
    """A process on `py` that joins `group` and stays until sent "stop"; its pid."""

    def body():
        pg.join(group, vm.self(), scope=scope)
        vm.receive(lambda m: m == "stop")

    name = name or f"member{id(body)}"
    return py.spawn_registered(name, body)


def _members(py, group=CREW, scope=SCOPE):
    return py.call(lambda: pg.get_members(group, scope=scope))


def _member_nodes(py, group=CREW, scope=SCOPE):
    """The nodes of the group's members as `py` sees them, sorted."""
    return py.call(lambda: sorted(dist.node() if p.node == vm.node_name() else p.node
                                  for p in pg.get_members(group, scope=scope)))


def _subscriber(py, scope=SCOPE):
    """Subscribe to `scope` on `py`; return a queue of what it gets: first the
    monitor_scope answer, then every notification."""
    q: queue.Queue = queue.Queue()

    def body():
        q.put(pg.monitor_scope(scope))
        while True:
            q.put(vm.receive())

    py.node.spawn(body)
    return q


# ----------------------------------------------------------------------
# with a real Erlang node


def _erl_members(erl, group="crew"):
    """The nodes of the group's members as Erlang sees them, sorted."""
    out = erl.eval(f"string:join(lists:sort([atom_to_list(node(P)) || "
                   f"P <- pg:get_members(crew_scope, {group})]), \" \").")
    return [] if out == "[]" else out.strip('"').split()  # "" prints as []


@requires_erl
def test_groups_are_shared_with_erlang_both_ways(erl_and_py):
    erl, py = erl_and_py
    erl.eval("{ok, _} = pg:start(crew_scope), "
             "E = spawn(fun() -> receive stop -> ok end end), pg:join(crew_scope, crew, E).")
    _start_scope(py)
    sub = _subscriber(py)
    assert sub.get(timeout=10)[1] == {}
    assert py.call(lambda: dist.connect(erl.name))
    # Erlang's member shows in beamlet's view, and not among its local members
    assert wait_for(lambda: _member_nodes(py) == [erl.name])
    assert py.call(lambda: pg.get_local_members(CREW, scope=SCOPE)) == []
    assert py.call(lambda: pg.which_groups(SCOPE)) == [CREW]
    assert py.call(lambda: pg.which_local_groups(SCOPE)) == []
    ref, action, group, pids = sub.get(timeout=10)
    assert (action, group, [p.node for p in pids]) == ("join", CREW, [erl.name])

    # a beamlet member shows in Erlang's view
    mine = _member(py)
    assert wait_for(lambda: _erl_members(erl) == sorted([erl.name, py.name]))
    assert erl.eval("[P || P <- pg:get_local_members(crew_scope, crew), node(P) =/= node()].") \
        == "[]"
    assert sub.get(timeout=10)[1:3] == ("join", CREW)

    # Erlang's member leaves: gone here, and the subscriber hears it
    erl.eval("pg:leave(crew_scope, crew, E).")
    assert wait_for(lambda: _member_nodes(py) == [py.name])
    assert sub.get(timeout=10)[1:3] == ("leave", CREW)

    # the beamlet member dies: gone there
    py.call(lambda: vm.send(mine, "stop"))
    assert wait_for(lambda: _erl_members(erl) == [])
    assert py.call(lambda: pg.which_groups(SCOPE)) == []


@requires_erl
def test_an_erlang_node_going_down_takes_its_members(erl_and_py):
    erl, py = erl_and_py
    erl.eval("{ok, _} = pg:start(crew_scope), "
             "[pg:join(crew_scope, G, spawn(fun() -> receive stop -> ok end end)) "
             "|| G <- [crew, crew, {other, 1}]].")
    _start_scope(py)
    _member(py)
    assert py.call(lambda: dist.connect(erl.name))
    assert wait_for(lambda: len(_members(py)) == 3)
    assert py.call(lambda: pg.get_members((Atom("other"), 1), scope=SCOPE))[0].node == erl.name
    assert wait_for(lambda: _erl_members(erl) == sorted([erl.name, erl.name, py.name]))
    erl.kill()
    assert wait_for(lambda: _member_nodes(py) == [py.name])
    assert py.call(lambda: pg.which_groups(SCOPE)) == [CREW]


@requires_erl
def test_beamlet_disconnecting_drops_its_members_on_erlang(erl_and_py):
    erl, py = erl_and_py
    _start_scope(py)
    _member(py)
    erl.eval("{ok, _} = pg:start(crew_scope).")
    # this time the Erlang node connects; beamlet's scope hears nodeup and discovers
    assert erl.eval(f"net_adm:ping('{py.name}').") == "pong"
    assert wait_for(lambda: _erl_members(erl) == [py.name])
    assert py.call(lambda: dist.disconnect(erl.name))
    assert wait_for(lambda: _erl_members(erl) == [])
    # and a new connection brings them back (discover again on nodeup)
    assert py.call(lambda: dist.connect(erl.name))
    assert wait_for(lambda: _erl_members(erl) == [py.name])
    # a scope that stops takes its node's members with it, on the other side
    erl.eval("pg:join(crew_scope, crew, spawn(fun() -> receive stop -> ok end end)).")
    assert wait_for(lambda: _member_nodes(py) == sorted([erl.name, py.name]))
    py.call(lambda: gen_server.stop(SCOPE))
    assert wait_for(lambda: _erl_members(erl) == [erl.name])
    # a scope started while connected discovers the other node's members
    _start_scope(py)
    assert wait_for(lambda: _member_nodes(py) == [erl.name])
    erl.eval("gen_server:stop(crew_scope).")
    assert wait_for(lambda: _member_nodes(py) == [])
    # a restarted Erlang scope discovers visible nodes only: beamlet's scope, seeing
    # the old one go while the node stays, discovers the new one itself
    erl.eval("{ok, _} = pg:start(crew_scope), "
             "pg:join(crew_scope, crew, spawn(fun() -> receive stop -> ok end end)).")
    assert wait_for(lambda: _member_nodes(py) == [erl.name])
    _member(py, name="again")  # (the restarted beamlet scope lost its members, as OTP's do)
    assert wait_for(lambda: _erl_members(erl) == sorted([erl.name, py.name]))


@requires_erl
def test_a_group_erlang_cannot_share_is_ignored_with_a_warning(erl_and_py, caplog):
    erl, py = erl_and_py
    _start_scope(py)
    erl.eval("{ok, _} = pg:start(crew_scope), "
             "pg:join(crew_scope, [a, list], spawn(fun() -> receive stop -> ok end end)), "
             "pg:join(crew_scope, crew, spawn(fun() -> receive stop -> ok end end)).")
    with caplog.at_level("WARNING", logger="beamlet.pg"):
        assert py.call(lambda: dist.connect(erl.name))
        assert wait_for(lambda: len(_members(py)) == 1)
    assert any("[a, list]" in r.getMessage() or "['a', 'list']" in r.getMessage()
               for r in caplog.records), [r.getMessage() for r in caplog.records]
    assert py.call(lambda: pg.which_groups(SCOPE)) == [CREW]


# ----------------------------------------------------------------------
# two beamlet nodes


def test_two_beamlet_nodes_share_a_scope(two_py):
    a, b = two_py
    _start_scope(a)
    _start_scope(b)
    member_a = _member(a, name="ma")
    sub = _subscriber(b)
    assert sub.get(timeout=10)[1] == {}
    group_sub: queue.Queue = queue.Queue()

    def group_watcher():
        group_sub.put(pg.monitor(CREW, scope=SCOPE))
        while True:
            group_sub.put(vm.receive())

    b.node.spawn(group_watcher)
    assert group_sub.get(timeout=10)[1] == []
    assert a.call(lambda: dist.connect(b.name))
    assert wait_for(lambda: _members(b) == [member_a])
    assert sub.get(timeout=10)[1:] == ("join", CREW, [member_a])
    assert group_sub.get(timeout=10)[1:] == ("join", CREW, [member_a])
    # a str group stays a str between beamlet nodes
    member_b = _member(b, group="text group", name="mb")
    assert wait_for(lambda: a.call(lambda: pg.get_members("text group", scope=SCOPE))
                    == [member_b])
    assert sub.get(timeout=10)[1:3] == ("join", "text group")  # b's own join
    # a member that dies leaves, on the other node too
    a.call(lambda: vm.send(member_a, "stop"))
    assert wait_for(lambda: _members(b) == [])
    assert sub.get(timeout=10)[1:] == ("leave", CREW, [member_a])
    assert group_sub.get(timeout=10)[1:] == ("leave", CREW, [member_a])  # not "text group"


def test_a_beamlet_node_going_away_takes_its_members(two_py):
    a, b = two_py
    _start_scope(a)
    _start_scope(b)

    def twice():
        pg.join(CREW, [vm.self(), vm.self()], scope=SCOPE)
        vm.receive()

    a.spawn_registered("twice", twice)
    _member(b, name="mb")
    assert b.call(lambda: dist.connect(a.name))
    assert wait_for(lambda: len(_members(a)) == 3 and len(_members(b)) == 3)
    a.close()
    assert wait_for(lambda: _member_nodes(b) == [b.name])


def test_a_scope_started_before_the_distribution_joins_in_when_it_starts(beamlet_epmd, home):
    from .cluster import PyNode
    from .erlang import unique

    a = PyNode(unique("a"), "shared", beamlet_epmd)
    late = vm.Node().start()
    try:
        assert late.call(lambda: pg.start(SCOPE))[0] == "ok"
        late.spawn(lambda: (pg.join(CREW, vm.self(), scope=SCOPE), vm.receive()))
        assert wait_for(lambda: late.call(lambda: pg.get_members(CREW, scope=SCOPE)) != [])
        name = late.call(lambda: dist.start(unique("late"), cookie="shared",
                                            epmd_port=beamlet_epmd), timeout=30)
        _start_scope(a)
        assert a.call(lambda: dist.connect(name))
        assert wait_for(lambda: _member_nodes(a) == [name])
    finally:
        with contextlib.suppress(Exception):  # the node may be gone already
            late.call(dist.stop, timeout=10)
        late.stop(timeout=10)
        a.close()
