"""Copy on send and the term set."""

import socket
import threading

import pytest

import vm
from tests.conftest import run_vm
from vm._heap import copy_term, term_size


def roundtrip(msg):
    def echo():
        m, sender = vm.receive()
        vm.send(sender, m)

    def main():
        pid = vm.spawn(echo)
        vm.send(pid, (msg, vm.self()))
        return vm.receive()

    return run_vm(main)


def test_types_survive_exactly():
    msg = {
        "tuple": (1, 2),
        "list": [1, 2],
        (1, "k"): b"bytes",
        3: vm.Atom("atom"),
        None: [True, 1.5, "s"],
    }
    out = roundtrip(msg)
    assert out == msg
    assert type(out["tuple"]) is tuple and type(out["list"]) is list
    assert type(out[3]) is vm.Atom and (1, "k") in out


def test_pids_refs_crash_survive():
    def main():
        me, ref = vm.self(), vm.make_ref()
        crash = vm.Crash("E", "m", "tb")
        vm.send(me, (me, ref, crash))
        got = vm.receive()
        return got == (me, ref, crash), type(got[2]) is vm.Crash

    assert run_vm(main) == (True, True)


def test_mutable_values_are_copied():
    shared = {"items": [1, 2]}

    def main():
        me = vm.self()
        vm.send(me, shared)
        got = vm.receive()
        got["items"].append(3)
        return got is shared, got["items"] is shared["items"]

    assert run_vm(main) == (False, False)
    assert shared == {"items": [1, 2]}


def test_immutable_terms_are_shared():
    t = (1, "a", (2, b"x"))
    assert copy_term(t) is t
    big = b"x" * 1_000_000
    assert copy_term(big) is big


def test_spawn_args_are_copied():
    data = [1, 2]

    def child(d, parent):
        d.append(99)
        vm.send(parent, d)

    def main():
        vm.spawn(child, data, vm.self())
        return vm.receive()

    assert run_vm(main) == [1, 2, 99]
    assert data == [1, 2]


@pytest.mark.parametrize(
    "bad, where, name",
    [
        (lambda: ("ok", threading.Lock()), "msg[1]", "lock"),
        (lambda: {"k": [1, (x for x in [])]}, "msg['k'][1]", "generator"),
        (lambda: [socket.socket()], "msg[0]", "socket"),
        (lambda: {1, 2}, "msg", "set"),
        (lambda: {"f": open(__file__)}, "msg['f']", "TextIOWrapper"),
    ],
)
def test_unsendable_names_type_and_place(bad, where, name):
    value = bad()

    def main():
        with pytest.raises(vm.Unsendable) as info:
            vm.send(vm.self(), value)
        return str(info.value), info.value.path

    text, path = run_vm(main)
    assert path == where
    assert name in text
    assert vm.flush is not None


def test_unsendable_spawn_argument():
    def main():
        with pytest.raises(vm.Unsendable, match="lock"):
            vm.spawn(print, threading.Lock())
        return True

    assert run_vm(main)


def test_cyclic_message_is_refused():
    cyc = []
    cyc.append(cyc)
    with pytest.raises(vm.Unsendable, match="refers to itself"):
        copy_term(cyc)


def test_functions_and_classes_are_shared():
    def f():
        pass

    assert copy_term((f, int, len)) == (f, int, len)


def test_term_size_counts_nested_data():
    assert term_size([b"x" * 1000]) > 1000
    assert term_size({"a": list(range(100))}) > term_size({"a": []})
