"""The name registry and its OTP error cases."""

import pytest

import vm
from vm.testing import run


def idle():
    vm.receive()


def test_register_whereis_registered_unregister():
    def main():
        me = vm.self()
        assert vm.register("me", me) is True
        assert vm.whereis("me") == me
        assert vm.registered() == ["me"]
        assert vm.process_info(me, "registered_name") == "me"
        assert vm.unregister("me") is True
        return vm.whereis("me"), vm.process_info(me, "registered_name")

    assert run(main) == (None, None)


@pytest.mark.parametrize(
    "case, match",
    [
        ("taken", "already registered to"),
        ("already_named", "already registered as"),
        ("dead", "not a live process"),
        ("undefined", "undefined"),
        ("not_str", "must be a str"),
        ("not_pid", "expected a Pid"),
    ],
)
def test_register_badarg_cases(case, match):
    def main():
        me = vm.self()
        other = vm.spawn(idle)
        if case == "taken":
            vm.register("x", other)
            vm.register("x", me)
        elif case == "already_named":
            vm.register("x", me)
            vm.register("y", me)
        elif case == "dead":
            pid, ref = vm.spawn_monitor(lambda: None)
            vm.receive(("DOWN", ref, vm.ANY, vm.ANY, vm.ANY))
            vm.register("x", pid)
        elif case == "undefined":
            vm.register("undefined", me)
        elif case == "not_str":
            vm.register(42, me)
        elif case == "not_pid":
            vm.register("x", "me")

    with pytest.raises(vm.ProcessExit) as info:
        run(main)
    assert info.value.reason.exc_type == "vm.errors.BadArg"
    assert match in info.value.reason.message


def test_unregister_unknown_is_badarg():
    def main():
        with pytest.raises(vm.BadArg, match="no process is registered"):
            vm.unregister("ghost")
        return True

    assert run(main)


def test_send_by_name():
    def main():
        vm.register("me", vm.self())
        vm.send("me", "hi")
        return vm.receive()

    assert run(main) == "hi"


def test_name_freed_when_process_dies():
    def main():
        pid, ref = vm.spawn_monitor(idle)
        vm.register("w", pid)
        vm.exit(pid, "kill")
        vm.receive(("DOWN", ref, vm.ANY, vm.ANY, vm.ANY))
        return vm.whereis("w"), vm.registered()

    assert run(main) == (None, [])
