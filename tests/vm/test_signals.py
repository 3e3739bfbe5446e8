"""Links, exit signals (the matrix of reference §1.2) and monitors."""

import contextlib

import pytest

import vm
from vm.testing import run

ANY = vm.ANY


def down_of(ref):
    return vm.receive(("DOWN", ref, ANY, ANY, ANY))


def idle():
    vm.receive()


def trapper(parent):
    vm.process_flag("trap_exit", True)
    vm.send(parent, "ready")
    while True:
        vm.send(parent, ("got", vm.receive()))


def outcome(target_fn, signal, trap):
    """Spawn a target, deliver a signal, return ('msg', m) or ('died', reason)."""

    def main():
        me = vm.self()
        if trap:
            pid = vm.spawn(trapper, me)
            vm.receive("ready")
        else:
            pid = vm.spawn(target_fn)
            vm.sleep(0)
        ref = vm.monitor(pid)
        signal(pid)
        m = vm.receive(("got", ANY), ("DOWN", ref, ANY, ANY, ANY), timeout=1)
        if m == vm.TIMEOUT:
            return ("alive",)
        if m[0] == "got":
            return ("msg", m[1])
        return ("died", m[4])

    return run(main)


def linked_death(reason):
    """Signal: a process linked to the target exits with `reason`."""

    def signal(target):
        def dier():
            vm.link(target)
            vm.exit(reason)

        vm.spawn(dier)

    return signal


def test_link_normal_ignored_when_not_trapping():
    assert outcome(idle, linked_death("normal"), False) == ("alive",)


def test_link_normal_message_when_trapping():
    r = outcome(None, linked_death("normal"), True)
    assert r[0] == "msg" and r[1][0] == "EXIT" and r[1][2] == "normal"


def test_link_kill_kills_with_kill_not_killed():
    assert outcome(idle, linked_death("kill"), False) == ("died", "kill")


def test_link_kill_is_trappable():
    r = outcome(None, linked_death("kill"), True)
    assert r[1][2] == "kill"


def test_link_other_reason_kills():
    assert outcome(idle, linked_death("boom"), False) == ("died", "boom")


def test_link_other_reason_trapped():
    assert outcome(None, linked_death("boom"), True)[1][2] == "boom"


def test_exit2_normal_ignored_when_not_trapping():
    assert outcome(idle, lambda p: vm.exit(p, "normal"), False) == ("alive",)


def test_exit2_normal_trapped_carries_sender():
    def main():
        me = vm.self()
        pid = vm.spawn(trapper, me)
        vm.receive("ready")
        vm.exit(pid, "normal")
        return vm.receive(("got", ANY)), me

    (tag, msg), me = run(main)
    assert msg == ("EXIT", me, "normal")


def test_exit2_kill_is_untrappable_and_becomes_killed():
    assert outcome(None, lambda p: vm.exit(p, "kill"), True) == ("died", "killed")
    assert outcome(idle, lambda p: vm.exit(p, "kill"), False) == ("died", "killed")


def test_exit2_other_reason():
    assert outcome(idle, lambda p: vm.exit(p, "boom"), False) == ("died", "boom")
    assert outcome(None, lambda p: vm.exit(p, "boom"), True)[1][2] == "boom"


def test_exit_self_normal_kills_when_not_trapping():
    def victim():
        vm.exit(vm.self(), "normal")
        vm.sleep(10)

    def main():
        pid, ref = vm.spawn_monitor(victim)
        return down_of(ref)[4]

    assert run(main) == "normal"


def test_exit_self_normal_trapped_is_a_message():
    def victim(parent):
        vm.process_flag("trap_exit", True)
        vm.exit(vm.self(), "normal")
        vm.send(parent, vm.receive())

    def main():
        pid = vm.spawn(victim, vm.self())
        return vm.receive(), pid

    msg, pid = run(main)
    assert msg == ("EXIT", pid, "normal")


def test_killed_propagates_as_killed_along_links():
    def chain():
        def c():
            idle()

        def b():
            vm.spawn_link(c)
            idle()

        return b

    def main():
        b = vm.spawn(chain())
        vm.sleep(0)
        c = [p for p in vm.process_info(b, "links")][0]
        rb, rc = vm.monitor(b), vm.monitor(c)
        a = vm.spawn(idle)
        vm.sleep(0)
        # a -- b -- c, none trapping
        vm.spawn(lambda: (vm.link(a), vm.link(b), idle()))
        vm.exit(b, "kill")
        return down_of(rb)[4], down_of(rc)[4]

    assert run(main) == ("killed", "killed")


def test_exit1_kill_propagates_kill():
    def main():
        me = vm.self()

        def c():
            idle()

        def b():
            vm.spawn_link(c)
            vm.send(me, "ok")
            idle()

        bpid = vm.spawn(b)
        vm.receive("ok")
        c_pid = vm.process_info(bpid, "links")[0]
        rc = vm.monitor(c_pid)
        vm.spawn(lambda: (vm.link(bpid), vm.exit("kill")))
        return down_of(rc)[4]

    assert run(main) == "kill"


def test_link_is_symmetric_and_idempotent():
    def main():
        pid = vm.spawn(idle)
        vm.link(pid)
        vm.link(pid)
        return vm.process_info(vm.self(), "links"), vm.process_info(pid, "links"), pid

    mine, theirs, pid = run(main)
    assert mine == [pid] and len(theirs) == 1


def test_link_to_self_is_noop():
    def main():
        vm.link(vm.self())
        return vm.process_info(vm.self(), "links")

    assert run(main) == []


def test_link_to_dead_pid_raises_noproc_without_trap():
    def main():
        pid, ref = vm.spawn_monitor(lambda: None)
        down_of(ref)
        with pytest.raises(vm.NoProc):
            vm.link(pid)
        return True

    assert run(main)


def test_link_to_dead_pid_when_trapping_gives_exit_noproc():
    def main():
        vm.process_flag("trap_exit", True)
        pid, ref = vm.spawn_monitor(lambda: None)
        down_of(ref)
        assert vm.link(pid) is True
        return vm.receive(), pid

    msg, pid = run(main)
    assert msg == ("EXIT", pid, "noproc")


def test_unlink_stops_propagation():
    def main():
        pid = vm.spawn(idle)
        vm.link(pid)
        vm.unlink(pid)
        vm.exit(pid, "boom")
        vm.sleep(0)
        return "survived", vm.process_info(vm.self(), "links")

    assert run(main) == ("survived", [])


def test_unlink_leaves_queued_exit():
    def main():
        vm.process_flag("trap_exit", True)
        pid = vm.spawn_link(lambda: vm.exit("bye"))
        vm.sleep(0.01)
        vm.unlink(pid)
        return vm.flush(), pid

    msgs, pid = run(main)
    assert msgs == [("EXIT", pid, "bye")]


def test_spawn_link_crash_reaches_trapping_parent():
    def main():
        vm.process_flag("trap_exit", True)
        pid = vm.spawn_link(lambda: 1 / 0)
        return vm.receive(), pid

    (tag, frm, reason), pid = run(main)
    assert (tag, frm) == ("EXIT", pid)
    assert isinstance(reason, vm.Crash) and reason.exc_type == "ZeroDivisionError"


def test_spawn_link_crash_kills_non_trapping_parent():
    def main():
        vm.spawn_link(lambda: vm.exit("boom"))
        vm.sleep(1)

    with pytest.raises(vm.ProcessExit) as info:
        run(main)
    assert info.value.reason == "boom"


def test_message_then_exit_signal_keep_pair_order():
    def main():
        me = vm.self()

        def t():
            vm.process_flag("trap_exit", True)
            vm.send(me, "ready")
            vm.send(me, [vm.receive(), vm.receive()])

        pid = vm.spawn(t)
        vm.receive("ready")
        vm.send(pid, "m1")
        vm.exit(pid, "boom")
        return vm.receive(list)

    first, second = run(main)
    assert first == "m1" and second[0] == "EXIT"


# ---------------------------------------------------------------- monitors


def test_monitor_down_reason():
    def main():
        pid, ref = vm.spawn_monitor(lambda: vm.exit("boom"))
        return down_of(ref), pid, ref

    down, pid, ref = run(main)
    assert down == ("DOWN", ref, "process", pid, "boom")


def test_monitor_dead_target_gives_noproc():
    def main():
        pid, ref = vm.spawn_monitor(lambda: None)
        down_of(ref)
        ref2 = vm.monitor(pid)
        return down_of(ref2)[4]

    assert run(main) == "noproc"


def test_two_monitors_two_downs():
    def main():
        pid = vm.spawn(idle)
        r1, r2 = vm.monitor(pid), vm.monitor(pid)
        vm.exit(pid, "kill")
        return down_of(r1)[4], down_of(r2)[4], r1 != r2

    assert run(main) == ("killed", "killed", True)


def test_monitor_by_name_reports_name_node():
    def main():
        pid = vm.spawn(idle)
        vm.register("srv", pid)
        ref = vm.monitor("srv")
        vm.exit(pid, "kill")
        return down_of(ref)[3]

    assert run(main) == ("srv", "nonode@nohost")


def test_monitor_unknown_name_gives_noproc():
    def main():
        ref = vm.monitor("ghost")
        return down_of(ref)[3:]

    assert run(main) == (("ghost", "nonode@nohost"), "noproc")


def test_demonitor_flush_removes_queued_down():
    def main():
        pid, ref = vm.spawn_monitor(lambda: None)
        vm.sleep(0.01)
        info = vm.demonitor(ref, flush=True, info=True)
        return info, vm.flush()

    assert run(main) == (False, [])


def test_demonitor_info_true_while_active():
    def main():
        pid = vm.spawn(idle)
        ref = vm.monitor(pid)
        active = vm.demonitor(ref, info=True)
        vm.exit(pid, "kill")
        vm.sleep(0.01)
        return active, vm.flush()

    assert run(main) == (True, [])


def test_demonitor_without_flush_leaves_down():
    def main():
        pid, ref = vm.spawn_monitor(lambda: None)
        vm.sleep(0.01)
        assert vm.demonitor(ref) is True
        return len(vm.flush())

    assert run(main) == 1


def test_monitors_and_monitored_by_in_process_info():
    def main():
        pid = vm.spawn(idle)
        vm.monitor(pid)
        return vm.process_info(vm.self(), "monitors"), vm.process_info(pid, "monitored_by"), pid

    mons, by, pid = run(main)
    assert mons == [("process", pid)] and len(by) == 1


def test_name_released_before_down_is_delivered():
    def main():
        pid = vm.spawn(idle)
        vm.register("svc", pid)
        ref = vm.monitor(pid)
        vm.exit(pid, "kill")
        down_of(ref)
        return vm.register("svc", vm.self())

    assert run(main) is True


def test_is_process_alive_false_right_after_kill():
    def main():
        pid = vm.spawn(idle)
        vm.exit(pid, "kill")
        return vm.is_process_alive(pid)

    assert run(main) is False


def test_long_link_chain_dies_without_recursion_error():
    def main():
        me = vm.self()

        def node(n):
            if n:
                vm.spawn_link(node, n - 1)
            else:
                vm.send(me, ("leaf", vm.self()))
            idle()

        first = vm.spawn(node, 5000)
        _, leaf = vm.receive(("leaf", ANY))
        ref = vm.monitor(leaf)
        vm.exit(first, "boom")
        return down_of(ref)[4]

    assert run(main) == "boom"


# ---------------------------------------------------------------- aliases


def test_alias_delivers_until_unalias():
    def main():
        a = vm.alias()
        vm.send(a, "one")
        first = vm.receive()
        assert vm.unalias(a) is True
        vm.send(a, "two")
        vm.sleep(0)
        return first, vm.flush(), vm.unalias(a)

    assert run(main) == ("one", [], False)


def test_reply_alias_takes_one_message():
    def main():
        a = vm.alias("reply")
        vm.send(a, 1)
        vm.send(a, 2)
        return vm.flush()

    assert run(main) == [1]


def test_monitor_alias_dies_with_demonitor():
    def server():
        ref = vm.receive()
        vm.sleep(0.1)  # too late: the client gave up
        vm.send(ref, ("late", ref))

    def main():
        pid = vm.spawn(server)
        ref = vm.monitor(pid, alias="demonitor")
        vm.send(pid, ref)
        got = vm.receive(("late", ref), timeout=0.05)
        vm.demonitor(ref, flush=True)
        vm.sleep(0.2)
        return got, vm.flush()

    assert run(main) == (vm.TIMEOUT, [])


def test_alias_deactivated_when_owner_dies():
    def main():
        me = vm.self()

        def owner():
            vm.send(me, vm.alias())

        vm.spawn(owner)
        a = vm.receive()
        vm.sleep(0)
        return vm.send(a, "to nobody")

    assert run(main) == "to nobody"


@pytest.mark.parametrize("other", [("other@host", 0), ("nonode@nohost", 1)],
                         ids=["another node", "another incarnation"])
def test_a_ref_of_another_node_is_never_taken_for_a_local_alias(other):
    """Reference ids start small on every node: another node's alias (or one of
    an earlier incarnation of this node) often has the id of a live local alias,
    and must not reach its owner, be replied to here, or unalias it."""
    from vm.lowlevel import call_reply

    def main():
        # a call's alias (a monitor's, "demonitor" mode): replies go straight to it
        mine = vm.monitor(vm.spawn(vm.receive), alias="demonitor")
        node, creation_delta = other
        theirs = vm.Ref(node, mine.id, mine.creation + creation_delta)
        vm.send(theirs, "sent to their alias")
        call_reply(theirs, "a reply to their call")
        gone = vm.unalias(theirs)
        call_reply(mine, "to mine")
        return gone, vm.flush() == [(mine, "to mine")], vm.unalias(mine)

    assert run(main) == (False, True, True)


# ----------------------------------------------------------------------
# after death: a killed process's finally blocks run, but it acts no more


def test_a_dead_process_cannot_send_spawn_link_monitor_or_register():
    outcomes = []

    def victim(parent, other):
        try:
            vm.receive()
        finally:
            vm.send(parent, "sent after death")  # dropped
            vm.exit(other, "boom")  # dropped too: a dead process sends no signal
            for name, act in [
                ("spawn_link", lambda: vm.spawn_link(vm.receive)),
                ("spawn", lambda: vm.spawn(vm.receive)),
                ("monitor", lambda: vm.monitor(parent)),
                ("link", lambda: vm.link(parent)),
                ("register", lambda: vm.register("ghost", other)),
                ("send_after", lambda: vm.send_after(0, parent, "late")),
            ]:
                try:
                    act()
                    outcomes.append((name, "done"))
                except BaseException as e:  # noqa: BLE001 - the kill raised again
                    outcomes.append((name, type(e).__name__, str(e)))

    def main():
        other = vm.spawn(vm.receive)
        before = len(vm.processes())
        pid, ref = vm.spawn_monitor(victim, vm.self(), other)
        vm.sleep(0.01)
        vm.exit(pid, "kill")
        down = vm.receive(("DOWN", ref, vm.ANY, vm.ANY, vm.ANY))
        vm.sleep(0.01)
        return (down[4], vm.flush(), len(vm.processes()) == before,
                vm.is_process_alive(other), vm.whereis("ghost"),
                vm.process_info(vm.self(), "monitored_by"))

    reason, left, same_count, other_alive, ghost, monitored_by = run(main)
    assert reason == "killed"
    assert left == []  # nothing arrived after the DOWN
    assert same_count and other_alive and ghost is None
    assert monitored_by == []
    assert outcomes and all(kind == "_Killed" for _, kind, _ in outcomes), outcomes
    # The kill raised again says which call was refused and why.
    for name, _, message in outcomes:
        assert "already dead" in message and message.split(":")[0] in (name, "spawn"), message


def test_a_thousand_kills_leave_no_orphans():
    def victim():
        try:
            vm.receive()
        finally:
            with contextlib.suppress(BaseException):
                vm.spawn_link(vm.receive)

    def main():
        base = len(vm.processes())
        for _ in range(1000):
            pid = vm.spawn(victim)
            vm.sleep(0)
            vm.exit(pid, "kill")
        vm.sleep(0.01)
        return len(vm.processes()) - base

    assert run(main) == 0
