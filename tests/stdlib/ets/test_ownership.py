"""ETS ownership: access rights against the calling process, death of the owner,
heirs, give_away, and the rule that a table is gone (or handed over) before
anybody hears of its owner's death."""

import pytest

import vm
from stdlib import ets
from vm.testing import run

ANY = vm.ANY


def attempt(fn, *args, **kw):
    try:
        return ("ok", fn(*args, **kw))
    except vm.BadArg as e:
        return ("badarg", str(e))


def in_other_process(fn, *args):
    """Run fn(*args) in a fresh process; its result."""
    me = vm.self()
    vm.spawn(lambda: vm.send(me, ("result", fn(*args))))
    return vm.receive(("result", ANY))[1]


@pytest.mark.parametrize("access, reads, writes", [
    ("public", True, True), ("protected", True, False), ("private", False, False),
])
def test_access_rights_of_another_process(access, reads, writes):
    def main():
        t = ets.new("t", access=access)
        ets.insert(t, ("k", 1))

        def other():
            return {
                "lookup": attempt(ets.lookup, t, "k"),
                "select": attempt(ets.select, t, [("_", [], ["$_"])]),
                "first": attempt(ets.first, t),
                "tab2list": attempt(ets.tab2list, t),
                "insert": attempt(ets.insert, t, ("k2", 1)),
                "update_counter": attempt(ets.update_counter, t, "k", 1),
                "delete_key": attempt(ets.delete, t, "k"),
                "info": attempt(ets.info, t, "size"),
                "give_away": attempt(ets.give_away, t, vm.self(), None),
                "setopts": attempt(ets.setopts, t, heir=None),
            }

        return in_other_process(other)

    r = run(main)
    for op in ("lookup", "select", "first", "tab2list"):
        assert (r[op][0] == "ok") == reads, op
    for op in ("insert", "delete_key", "update_counter"):
        assert (r[op][0] == "ok") == writes, op
    assert r["info"][0] == "ok"  # info is for everybody, as in OTP
    assert r["give_away"][0] == r["setopts"][0] == "badarg"  # the owner's alone
    if not reads:
        assert "is private to its owner" in r["lookup"][1]
    if not writes:
        assert f"is {access}; only its owner" in r["insert"][1]


def test_the_owner_dies_and_the_table_is_gone_before_its_down_arrives():
    def main():
        def owner():
            ets.new("cache", named_table=True, access="public")
            vm.receive()

        pid = vm.spawn(owner)
        vm.sleep(0.01)
        ref = vm.monitor(pid)
        seen_in_watcher = []

        def watcher():
            r = vm.monitor(pid)
            vm.receive(("DOWN", r, ANY, ANY, ANY))
            seen_in_watcher.append(ets.info("cache"))

        vm.spawn(watcher)
        vm.sleep(0.01)
        vm.exit(pid, "kill")
        alive_right_after_kill = ets.info("cache")  # the killer runs on: already gone
        vm.receive(("DOWN", ref, ANY, ANY, ANY))
        vm.sleep(0.01)
        return alive_right_after_kill, seen_in_watcher, ets.all()

    assert run(main) == (None, [None], [])


def test_a_name_is_free_again_once_the_owner_died():
    def main():
        pid, ref = vm.spawn_monitor(lambda: ets.new("n", named_table=True))
        vm.receive(("DOWN", ref, ANY, ANY, ANY))
        return ets.new("n", named_table=True)

    assert run(main) == "n"


def test_heir_gets_the_table_before_the_exit_and_down_of_the_owner():
    def main():
        me = vm.self()
        vm.process_flag("trap_exit", True)

        def owner():
            t = ets.new("tab", named_table=True, heir=(me, "hdata"))
            ets.insert(t, ("a", 1))
            vm.send(me, "made")
            vm.receive("stop")
            vm.exit("boom")

        pid, _ = vm.spawn_monitor(owner)
        vm.link(pid)
        vm.receive("made")
        vm.send(pid, "stop")
        vm.sleep(0.05)
        msgs = vm.flush()
        return pid, msgs, ets.info("tab", "owner") == me, ets.info("tab", "heir") == me, \
            ets.lookup("tab", "a")

    pid, msgs, owns, heir, objs = run(main)
    assert [m[0] for m in msgs] == ["ETS-TRANSFER", "EXIT", "DOWN"]
    assert msgs[0] == ("ETS-TRANSFER", "tab", pid, "hdata")
    assert owns and heir and objs == [("a", 1)]


def test_an_heir_that_died_first_means_the_table_dies_with_its_owner():
    def main():
        heir = vm.spawn(vm.receive)

        def owner():
            t = ets.new("t", named_table=True, heir=(heir, None))
            vm.exit(heir, "kill")
            vm.sleep(0.01)
            vm.send(parent, ets.info(t, "heir"))
            vm.receive()

        parent = vm.self()
        pid, ref = vm.spawn_monitor(owner)
        shown = vm.receive(ANY)
        vm.exit(pid, "kill")
        vm.receive(("DOWN", ref, ANY, ANY, ANY))
        return shown == heir, ets.info("t")

    assert run(main) == (True, None)


def test_heir_option_with_a_dead_pid_is_accepted_and_useless():
    def main():
        dead, ref = vm.spawn_monitor(lambda: None)
        vm.receive(("DOWN", ref, ANY, ANY, ANY))

        def owner():
            ets.new("t", named_table=True, heir=(dead, "x"))

        pid, ref = vm.spawn_monitor(owner)
        vm.receive(("DOWN", ref, ANY, ANY, ANY))
        return ets.info("t")

    assert run(main) is None


def test_give_away_and_its_errors():
    def main():
        me = vm.self()
        t = ets.new("t")

        def taker():
            msg = vm.receive()
            ets.insert(msg[1], ("mine", 1))  # the new owner may write
            vm.send(me, ("got", msg))
            vm.receive()

        new_owner = vm.spawn(taker)
        dead, ref = vm.spawn_monitor(lambda: None)
        vm.receive(("DOWN", ref, ANY, ANY, ANY))
        errors = [attempt(ets.give_away, t, me, 1), attempt(ets.give_away, t, dead, 1),
                  attempt(ets.give_away, t, "name", 1)]
        ets.give_away(t, new_owner, {"gift": 1})
        got = vm.receive(("got", ANY))[1]
        again = attempt(ets.give_away, t, me, 1)
        write = attempt(ets.insert, t, ("old owner", 1))
        return errors, got, me, t, ets.info(t, "owner") == new_owner, again, write

    errors, got, me, t, owned, again, write = run(main)
    assert [e[0] for e in errors] == ["badarg"] * 3
    assert "already owns" in errors[0][1] and "not a live local process" in errors[1][1]
    assert got == ("ETS-TRANSFER", t, me, {"gift": 1}) and owned
    assert again[0] == "badarg" and "only the owner" in again[1]
    assert write[0] == "badarg"


def test_setopts_changes_the_heir():
    def main():
        me = vm.self()

        def owner():
            t = ets.new("t", named_table=True)
            ets.setopts(t, [("heir", me, "late")])
            vm.send(me, ets.info(t, "heir"))
            vm.receive("die")

        pid = vm.spawn(owner)
        heir = vm.receive(ANY)
        vm.send(pid, "die")
        return heir == me, vm.receive(("ETS-TRANSFER", ANY, ANY, ANY))[3], \
            attempt(ets.setopts, "t", [("bogus", 1)])[0]

    assert run(main) == (True, "late", "badarg")


def test_a_chain_of_heirs_on_a_killed_subtree():
    """Owner and heir die in the same cascade of links: the table follows the
    heir, which is dying too, so it is deleted with it."""
    def main():
        def heir():
            vm.receive()

        def owner(h):
            ets.new("t", named_table=True, heir=(h, None))
            vm.link(h)
            vm.receive()

        h = vm.spawn(heir)
        o = vm.spawn(owner, h)
        vm.sleep(0.01)
        ref = vm.monitor(h)
        vm.exit(o, "kill")
        vm.receive(("DOWN", ref, ANY, ANY, ANY))
        return ets.info("t")

    assert run(main) is None


def test_tables_of_a_node_die_with_it():
    def main():
        ets.new("t", named_table=True)
        vm.spawn(lambda: (ets.new("u", named_table=True), vm.receive()))
        vm.sleep(0.01)
        return sorted(ets.all())

    assert run(main) == ["t", "u"]


def test_a_dead_process_in_its_finally_blocks_cannot_make_a_table():
    def main():
        def victim():
            try:
                vm.receive("never")
            finally:
                ets.new("late", named_table=True)  # raises vm.BadArg: it is dead

        pid = vm.spawn(victim)
        vm.sleep(0.01)
        vm.exit(pid, "kill")
        vm.sleep(0.01)
        return ets.info("late")

    assert run(main) is None
