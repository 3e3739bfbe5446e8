"""process_info, processes, the process dictionary, process_flag."""

import pytest

import vm
from vm.testing import run


def idle():
    vm.receive()


def test_status_of_blocked_and_running_process():
    def main():
        pid = vm.spawn(idle)
        vm.sleep(0)
        return vm.process_info(pid, "status"), vm.process_info(vm.self(), "status")

    assert run(main) == ("waiting", "running")


def test_message_queue_len_and_messages():
    def main():
        pid = vm.spawn(lambda: vm.sleep(10))
        for m in ("a", "b", "c"):
            vm.send(pid, m)
        return vm.process_info(pid, ["message_queue_len", "messages"])

    assert run(main) == {"message_queue_len": 3, "messages": ["a", "b", "c"]}


def test_dead_pid_gives_none():
    def main():
        pid, ref = vm.spawn_monitor(lambda: None)
        vm.receive(("DOWN", ref, vm.ANY, vm.ANY, vm.ANY))
        return vm.process_info(pid), vm.process_info(pid, "status")

    assert run(main) == (None, None)


def test_default_info_is_a_dict_of_otp_items():
    def main():
        return vm.process_info(vm.self())

    info = run(main)
    for key in ("current_function", "initial_call", "status", "message_queue_len", "links",
                "dictionary", "trap_exit", "priority", "reductions"):
        assert key in info
    assert "registered_name" not in info


def test_current_function_points_at_user_code():
    def waiter():
        vm.receive()

    def main():
        pid = vm.spawn(waiter)
        vm.sleep(0)
        return vm.process_info(pid, "current_function"), vm.process_info(pid, "initial_call")

    cf, ic = run(main)
    assert cf[1].endswith("waiter") and cf[2] == 0
    assert ic[1].endswith("waiter")


def test_current_stacktrace_lists_frames_with_lines():
    def inner():
        vm.receive()

    def outer():
        inner()

    def main():
        pid = vm.spawn(outer)
        vm.sleep(0)
        return vm.process_info(pid, "current_stacktrace")

    st = run(main)
    assert [f[1].rsplit(".", 1)[-1] for f in st[:2]] == ["inner", "outer"]
    assert st[0][3][1] > 0


def test_reductions_grow_with_work():
    def main():
        me = vm.self()
        a = vm.process_info(me, "reductions")
        for _ in range(50):
            vm.send(me, 1)
        return vm.process_info(me, "reductions") - a

    assert run(main) >= 50


def test_memory_counts_mailbox():
    def main():
        pid = vm.spawn(lambda: vm.sleep(10))
        vm.sleep(0)
        before = vm.process_info(pid, "memory")
        vm.send(pid, "x" * 100_000)
        return vm.process_info(pid, "memory") - before

    assert run(main) >= 100_000


def test_memory_counts_state_held_in_locals():
    def holder():
        state = list(range(50_000))  # noqa: F841 - held on purpose
        vm.receive()

    def main():
        small = vm.spawn(idle)
        big = vm.spawn(holder)
        vm.sleep(0)
        return vm.process_info(big, "memory") - vm.process_info(small, "memory")

    assert run(main) > 50_000 * 8


def test_unknown_item_and_bad_pid():
    def main():
        with pytest.raises(vm.BadArg, match="unknown item"):
            vm.process_info(vm.self(), "colour")
        with pytest.raises(vm.BadArg, match="expected a Pid"):
            vm.process_info("me", "status")
        return True

    assert run(main)


def test_processes_lists_live_ones():
    def main():
        pid = vm.spawn(idle)
        dead, ref = vm.spawn_monitor(lambda: None)
        vm.receive(("DOWN", ref, vm.ANY, vm.ANY, vm.ANY))
        ps = vm.processes()
        return vm.self() in ps, pid in ps, dead in ps

    assert run(main) == (True, True, False)


def test_process_dictionary():
    def main():
        r = [vm.put("a", 1), vm.put("a", 2), vm.get("a"), vm.get("missing")]
        vm.put("b", 2)
        r += [sorted(vm.get_keys()), vm.get_keys(2), vm.erase("a"), vm.erase("a")]
        r.append(vm.process_info(vm.self(), "dictionary"))
        r.append(vm.process_info(vm.self(), ("dictionary", "b")))
        r.append(vm.erase())
        r.append(vm.get())
        return r

    assert run(main) == [
        None, 1, 2, None, ["a", "b"], ["a", "b"], 2, None, {"b": 2}, 2, [("b", 2)], []
    ]


def test_dictionary_info_shows_non_terms_as_repr():
    def main():
        vm.put("lock", __import__("threading").Lock())
        return vm.process_info(vm.self(), "dictionary")["lock"]

    assert "lock" in run(main)


def test_process_flag_returns_old_value():
    def main():
        return [
            vm.process_flag("trap_exit", True),
            vm.process_flag("trap_exit", False),
            vm.process_flag("priority", "high"),
            vm.process_flag("priority", "normal"),
            vm.process_flag("label", "worker"),
            vm.process_info(vm.self(), "label"),
        ]

    assert run(main) == [False, True, "normal", "high", None, "worker"]


def test_process_flag_bad_input():
    def main():
        with pytest.raises(vm.BadArg, match="unknown flag"):
            vm.process_flag("colour", 1)
        with pytest.raises(vm.BadArg, match="True or False"):
            vm.process_flag("trap_exit", 1)
        with pytest.raises(vm.BadArg, match="priority"):
            vm.process_flag("priority", "urgent")
        return True

    assert run(main)
