"""Supervision trees from running supervisors and applications."""

import pytest

import vm
from stdlib import application, dynamic_supervisor, gen_server, supervisor
from stdlib.observer import helpers
from stdlib.observer.suptree import snapshot_tree
from vm.testing import run


class Worker(gen_server.GenServer):
    def init(self, arg):
        return ("ok", arg)

    def handle_cast(self, msg, state):
        raise RuntimeError("crash on request")


def start_worker(arg, name=None):
    return gen_server.start_link(Worker, arg, name=name)


class Pool(supervisor.Supervisor):
    def init(self, _):
        return ("ok", ({"strategy": "simple_one_for_one"},
                       [{"id": "w", "start": (start_worker, ()), "restart": "temporary"}]))


class Top(supervisor.Supervisor):
    def init(self, _):
        return ("ok", ({"strategy": "one_for_all", "intensity": 5}, [
            {"id": "cache", "start": (start_worker, (1, "cache")), "restart": "transient"},
            {"id": "pool", "start": (supervisor.start_link, (Pool, None)),
             "type": "supervisor"},
            {"id": "log", "start": (start_worker, (2,))},
        ]))


def test_tree_of_a_supervisor():
    def main():
        ok, top = supervisor.start_link(Top, None, name="top")
        pool = next(c[1] for c in supervisor.which_children(top) if c[0] == "pool")
        supervisor.start_child(pool, [10])
        supervisor.start_child(pool, [11])
        return top, snapshot_tree("top")

    top, t = run(main)
    assert t["pid"] == top and t["name"] == "top" and t["strategy"] == "one_for_all"
    assert [c["id"] for c in t["children"]] == ["cache", "pool", "log"]  # start order
    cache, pool, log = t["children"]
    assert cache["name"] == "cache" and cache["restart"] == "transient"
    assert cache["type"] == "worker" and top in cache["links"]
    assert pool["type"] == "supervisor" and pool["strategy"] == "simple_one_for_one"
    assert [c["restart"] for c in pool["children"]] == ["temporary", "temporary"]
    assert log["restart"] == "permanent"


def test_tree_view_and_mermaid_from_the_helper():
    def main():
        supervisor.start_link(Top, None, name="top")
        return helpers.tree("top"), helpers.tree("top", mermaid=True), \
            helpers.tree("top", json=True)

    v, m, j = run(main)
    lines = v.text.splitlines()
    assert lines[0].startswith("top <0.") and lines[0].endswith("supervisor one_for_all")
    assert lines[1].startswith("├── cache <0.") and lines[1].endswith("worker transient")
    assert lines[2].startswith("├── pool <0.") and "simple_one_for_one" in lines[2]
    assert lines[3].startswith("└── log <0.")
    assert m.startswith("graph TD") and ":::root" in m
    assert '"kind": "tree"' in j


def test_a_restarting_child_shows_its_new_pid():
    def main():
        ok, top = supervisor.start_link(Top, None, name="top")
        before = snapshot_tree(top)
        gen_server.cast("cache", "boom")  # one_for_all: everyone restarts
        vm.sleep(0.1)
        return before, snapshot_tree(top)

    before, after = run(main)
    for b, a in zip(before["children"], after["children"], strict=True):
        assert isinstance(a["pid"], vm.Pid) and a["pid"] != b["pid"]


def test_dynamic_supervisor():
    def main():
        ok, dyn = dynamic_supervisor.start_link(name="dyn")
        dynamic_supervisor.start_child(dyn, {"id": "x", "start": (start_worker, (1,))})
        return snapshot_tree("dyn")

    t = run(main)
    assert t["name"] == "dyn" and len(t["children"]) == 1
    assert t["children"][0]["type"] == "worker"


def test_refuses_what_is_not_a_supervisor_without_sending_it_anything():
    def main():
        plain = vm.spawn(vm.receive)
        ok, srv = start_worker(1)
        vm.sleep(0)
        with pytest.raises(vm.BadArg, match="runs no behaviour loop"):
            snapshot_tree(plain)
        with pytest.raises(vm.BadArg, match="is not a supervisor"):
            snapshot_tree(srv)
        with pytest.raises(vm.BadArg, match="no process is registered"):
            snapshot_tree("nobody")
        return vm.process_info(plain, "message_queue_len")

    assert run(main) == 0


class Shop(application.Application):
    name = "shop"

    def start(self, start_type, args):
        return supervisor.start_link(Top, None, name="shop_sup")


def test_tree_of_an_application():
    def main():
        assert application.start(Shop) == "ok"
        t = snapshot_tree(("app", "shop"))
        with pytest.raises(vm.BadArg, match="not running"):
            snapshot_tree(("app", "nope"))
        application.stop("shop")
        return t

    t = run(main)
    assert t["name"] == "shop_sup" and t["id"] == "shop"
    assert [c["id"] for c in t["children"]] == ["cache", "pool", "log"]
