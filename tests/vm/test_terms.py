"""Pids, refs and crashes are shared between processes, so they cannot change."""

import contextlib
import copy
import pickle

import pytest

import vm
from vm.lowlevel import copy_term
from vm.testing import run


@pytest.mark.parametrize("make", [lambda: vm.Pid("n@h", 5, 0, 1), lambda: vm.Ref("n@h", 7, 1)],
                         ids=["Pid", "Ref"])
def test_pids_and_refs_refuse_changes(make):
    x = make()
    for name in ("id", "node", "creation", "_hash", "anything"):
        with pytest.raises(AttributeError, match="immutable"):
            setattr(x, name, 9)
        with pytest.raises(AttributeError, match="immutable"):
            delattr(x, name)
    with pytest.raises(AttributeError, match="immutable"):
        x.__class__ = object
    assert x == make() and hash(x) == hash(make())


def test_pids_and_refs_still_pickle_and_copy():
    pid, ref = vm.Pid("n@h", 5, 2, 3), vm.Ref("n@h", 1 << 70, 3)
    for x in (pid, ref):
        assert pickle.loads(pickle.dumps(x)) == x
        assert copy.deepcopy(x) == x and copy.copy(x) == x


def test_a_receiver_cannot_make_a_process_unkillable():
    def victim():
        vm.receive()

    def meddler():
        pid = vm.receive()
        with contextlib.suppress(AttributeError):
            pid.id = 10**9
        vm.receive()

    def main():
        v = vm.spawn(victim)
        m = vm.spawn(meddler)
        vm.send(m, v)
        vm.sleep(0)
        ref = vm.monitor(v)
        vm.exit(v, "kill")
        return vm.receive(("DOWN", ref, vm.ANY, vm.ANY, vm.ANY))[4]

    assert run(main) == "killed"


@pytest.mark.parametrize("fields", [
    ([], "m", "tb"),
    ("E", {"k": 1}, "tb"),
    ("E", "m", None),
    (1, "m"),
], ids=["list type", "dict message", "None traceback", "int type"])
def test_a_crash_holds_only_strings(fields):
    with pytest.raises(vm.BadArg, match="Crash .* must be a str"):
        vm.Crash(*fields)


def test_a_crash_stores_string_subclasses_as_plain_strings():
    class Loud(str):
        pass

    c = vm.Crash(Loud("E"), "m", vm.Atom("tb"))
    assert c == ("E", "m", "tb") and type(c[0]) is str and type(c[2]) is vm.Atom
    assert copy_term(c) is c


def test_from_exception_still_builds_a_crash():
    try:
        1 / 0  # noqa: B018 - a real exception, traceback and all
    except ZeroDivisionError as e:
        c = vm.Crash.from_exception(e)
    assert c.exc_type == "ZeroDivisionError" and "division" in c.message
