"""pg: scopes, join/leave (lists, twice), members leaving when they die,
monitor_scope/monitor notifications in OTP 25's shape."""

import pytest

import vm
from stdlib import pg
from vm.testing import run

ANY = vm.ANY


def idle():
    vm.receive("stop")


def test_join_leave_and_reads():
    def main():
        pg.start_link()
        a, b = vm.spawn(idle), vm.spawn(idle)
        assert pg.join("crew", a) == "ok"
        pg.join("crew", [b, a])
        pg.join(("team", 1), b)
        members = pg.get_members("crew")
        local = pg.get_local_members("crew")
        groups = sorted(map(repr, pg.which_groups()))
        left = pg.leave("crew", a)
        after_one_leave = pg.get_members("crew")
        not_joined = pg.leave("nobody", a)
        pg.leave("crew", [a, b])
        return (a, b, members, local, groups, left, after_one_leave, not_joined,
                pg.get_members("crew"), pg.which_groups(), pg.which_local_groups())

    a, b, members, local, groups, left, once, not_joined, empty, which, which_local = \
        run(main)
    assert members == [b, a, a] and local == members
    assert groups == sorted([repr("crew"), repr(("team", 1))])
    assert left == "ok" and once == [b, a] and not_joined == "not_joined"
    assert empty == [] and which == [("team", 1)] and which_local == [("team", 1)]


def test_members_leave_when_they_die_as_many_times_as_they_joined():
    def main():
        pg.start_link()
        a = vm.spawn(idle)
        ref, members = pg.monitor("g")
        pg.join("g", a)
        pg.join("g", a)
        pg.join("other", a)
        vm.exit(a, "kill")
        notes = [vm.receive((ref, ANY, "g", ANY)) for _ in range(4)]
        return a, ref, members, notes, pg.get_members("g"), pg.which_groups()

    a, ref, members, notes, now, groups = run(main)
    assert members == []
    assert notes == [(ref, "join", "g", [a])] * 2 + [(ref, "leave", "g", [a])] * 2
    assert now == [] and groups == []


def test_monitor_scope_sees_every_group_and_demonitor_flushes():
    def main():
        pg.start_link("sc")
        a, b = vm.spawn(idle), vm.spawn(idle)
        pg.join("g1", a, scope="sc")
        ref, groups = pg.monitor_scope("sc")
        pg.join("g2", [a, b], scope="sc")
        pg.leave("g1", a, scope="sc")
        first = vm.receive((ref, ANY, ANY, ANY))
        second = vm.receive((ref, ANY, ANY, ANY))
        pg.join("g3", b, scope="sc")
        vm.sleep(0.01)
        done = pg.demonitor(ref, scope="sc")
        leftover = vm.flush()
        return a, b, ref, groups, first, second, done, leftover, pg.demonitor(ref, scope="sc")

    a, b, ref, groups, first, second, done, leftover, again = run(main)
    assert groups == {"g1": [a]}
    assert first == (ref, "join", "g2", [a, b]) and second == (ref, "leave", "g1", [a])
    assert done == "ok" and leftover == [] and again is False


def test_scopes_are_independent_and_a_subscriber_death_is_cleaned_up():
    def main():
        pg.start_link()
        pg.start_link("other")
        a = vm.spawn(idle)
        pg.join("g", a)

        def subscriber():
            pg.monitor("g")
            pg.monitor_scope()

        pid, r = vm.spawn_monitor(subscriber)
        vm.receive(("DOWN", r, ANY, ANY, ANY))
        pg.join("g", a)  # the dead subscriber gets nothing; the scope keeps running
        state = vm.process_info(vm.whereis("pg"), "status")
        return pg.get_members("g", "other"), len(pg.get_members("g")), state

    assert run(main) == ([], 2, "waiting")


def test_errors():
    def main():
        pg.start_link()
        remote = vm.Pid("other@host", 5)
        msgs = []
        for fn, args in ((pg.join, ("g", remote)), (pg.join, ("g", [vm.self(), "x"])),
                         (pg.join, (["unhashable"], vm.self())),
                         (pg.start_link, (42,))):
            with pytest.raises(vm.BadArg) as e:
                fn(*args)
            msgs.append(str(e.value))
        try:
            pg.join("g", vm.self(), scope="not_started")
        except vm.Exit as e:
            msgs.append(e.reason[0])
        again = pg.start_link()
        return msgs, again[0], again[1][0], pg.get_members("g", "not_started")

    msgs, err, already, none = run(main)
    assert "is not a local pid" in msgs[0] and "'x' is not a local pid" in msgs[1]
    assert "must be hashable" in msgs[2] and "a scope is named by a str" in msgs[3]
    assert msgs[4] == "noproc" and (err, already, none) == ("error", "already_started", [])


def test_a_dead_pid_joins_and_leaves_at_once():
    def main():
        pg.start_link()
        dead, r = vm.spawn_monitor(lambda: None)
        vm.receive(("DOWN", r, ANY, ANY, ANY))
        ref, _ = pg.monitor("g")
        pg.join("g", dead)
        return [vm.receive((ref, ANY, ANY, ANY))[1] for _ in range(2)], pg.get_members("g")

    assert run(main) == (["join", "leave"], [])


def test_a_scope_ignores_what_it_cannot_read_and_peers_it_does_not_know(caplog):
    """Exchange messages from other nodes' scopes: a malformed one is logged and
    ignored, a join or leave from a scope never discovered is ignored (as OTP
    does), and the scope keeps serving."""
    stranger = vm.Pid("other@host", 7)

    def main():
        _, scope = pg.start_link("s")
        for msg in [("join", stranger, "g", [stranger]),           # not discovered: ignored
                    ("leave", stranger, stranger, ["g"]),
                    ("join", "not a pid", "g", []),                 # malformed: logged
                    ("discover", 42), "junk"]:
            vm.send(scope, msg)
        vm.send(scope, ("$gen_cast", ("sync", stranger, "not a list")))
        pg.join("g", vm.self(), scope="s")
        return pg.get_members("g", scope="s") == [vm.self()], vm.is_process_alive(scope)

    with caplog.at_level("WARNING", logger="beamlet.pg"):
        assert run(main) == (True, True)
    warned = [r.getMessage() for r in caplog.records if r.name == "beamlet.pg"]
    assert len(warned) == 4 and all("ignored" in w for w in warned), warned
