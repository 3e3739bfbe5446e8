"""persistent_term: put/get/erase/info, copies, exact keys, one store per node."""

import pytest

import vm
from stdlib import persistent_term as pt
from vm.testing import run


def test_put_get_erase_info():
    def main():
        assert pt.put(("app", "cfg"), {"retries": 3}) == "ok"
        pt.put("n", 1)
        got = pt.get(("app", "cfg"))
        default = pt.get("missing", "fallback")
        with pytest.raises(vm.BadArg) as e:
            pt.get("missing")
        info = pt.info()
        return got, default, str(e.value), info, pt.erase("n"), pt.erase("n"), \
            sorted(map(repr, pt.get()))

    got, default, msg, info, erased, again, pairs = run(main)
    assert got == {"retries": 3} and default == "fallback"
    assert "no term is stored under 'missing'" in msg
    assert info["count"] == 2 and info["memory"] > 0
    assert (erased, again) == (True, False)
    assert pairs == [repr((("app", "cfg"), {"retries": 3}))]


def test_keys_are_exact():
    def main():
        pt.put(1, "int")
        pt.put(1.0, "float")
        pt.put(True, "true")
        return pt.get(1), pt.get(1.0), pt.get(True), pt.info()["count"]

    assert run(main) == ("int", "float", "true", 3)


def test_values_are_copies_and_immutable_ones_are_shared():
    def main():
        value = ["a"]
        pt.put("list", value)
        value.append("changed by the putter")
        first = pt.get("list")
        first.append("changed by a reader")
        frozen = ("x", 1, vm.self())
        pt.put("tuple", frozen)
        return pt.get("list"), pt.get("tuple") is frozen, pt.get("tuple") is pt.get("tuple")

    assert run(main) == (["a"], True, True)


def test_every_process_of_the_node_sees_the_same_store_and_nodes_are_apart():
    def main():
        pt.put("k", "v")
        me = vm.self()
        vm.spawn(lambda: vm.send(me, pt.get("k")))
        return vm.receive()

    assert run(main) == "v"
    assert run(lambda: pt.get("k", None)) is None


def test_outside_a_process():
    with pytest.raises(vm.NotInProcess):
        pt.get("k")
