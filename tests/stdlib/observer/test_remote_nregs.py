"""`nregs()`: registered names on this node and on every connected node, asked
through rpc; against a second beamlet node and against a real Erlang node."""

import pytest

import vm
from stdlib.observer import helpers
from vm.dist import rpc
from vm.testing import run


def _data_and_text(view):  # a View is no term: what node.call can hand back
    return view.data, view.text


def test_a_node_alone_lists_its_own_names():
    def main():
        vm.register("keeper", vm.self())
        return helpers.nregs(), helpers.nregs(json=True)

    view, as_json = run(main)
    lines = str(view).splitlines()
    assert lines[0] == "** Registered procs on node nonode@nohost **"
    assert lines[1].split() == ["Name", "Pid"] and lines[2].split() == ["keeper", "<0.1.0>"]
    assert '"node": "nonode@nohost"' in str(as_json) and '"name": "keeper"' in str(as_json)


def test_a_bad_timeout_is_refused():
    with pytest.raises(vm.ProcessExit, match="nregs: timeout must be a number"):
        run(lambda: helpers.nregs(timeout=0))


def test_two_beamlet_nodes_each_list_the_other(two_py):
    a, b = two_py
    b.spawn_registered("worker", vm.receive)
    worker = b.whereis("worker")
    assert a.call(lambda: vm.dist.connect(b.name))
    data, text = a.call(lambda: _data_and_text(helpers.nregs()))
    groups = {g["node"]: g for g in data["nodes"]}
    assert list(groups) == [a.name, b.name]  # this node first
    b_rows = {r["name"]: r["pid"] for r in groups[b.name]["rows"]}
    assert b_rows["worker"] == a.call(lambda: repr(worker)) and "rex" in b_rows
    assert "rex" in {r["name"] for r in groups[a.name]["rows"]}
    assert f"** Registered procs on node {b.name} **" in text
    # beamlet's rex answers these two without the allow-list, and only these
    assert a.call(lambda: rpc.exposed()) == []
    assert "worker" in a.call(lambda: rpc.call(b.name, "erlang", "registered", []))
    refused = a.call(lambda: rpc.call(b.name, "erlang", "halt", []))
    assert refused[0] == "badrpc" and "undef" in repr(refused)


def test_a_node_that_does_not_answer_is_shown_as_such(two_py):
    a, b = two_py
    assert a.call(lambda: vm.dist.connect(b.name))

    def silence_rex():  # a rex that takes every request and answers none
        vm.unregister("rex")
        vm.register("rex", vm.spawn(lambda: [vm.receive() for _ in iter(int, 1)]))

    b.call(silence_rex)
    data, text = a.call(lambda: _data_and_text(helpers.nregs(timeout=0.3)))
    assert data["nodes"][1] == {"node": b.name, "error": "no answer within 300 ms"}
    assert f"** Registered procs on node {b.name} **\n(no answer within 300 ms)" in text


def test_a_real_erlang_node_is_asked_and_asks(erl_and_py):
    erl, py = erl_and_py
    assert erl.eval(f"net_adm:ping('{py.name}').") == "pong"
    data, _text = py.call(lambda: _data_and_text(helpers.nregs()))
    groups = {g["node"]: g for g in data["nodes"]}
    erl_names = {r["name"] for r in groups[erl.name]["rows"]}
    assert {"code_server", "rex", "net_kernel", "init"} <= erl_names
    # and Erlang's c:nregs/0 way works on the beamlet node (atoms come back)
    names = erl.eval(f"lists:sort(rpc:call('{py.name}', erlang, registered, [])).")
    assert "rex" in names and "net_kernel" in names and '"' not in names
    assert erl.eval(f"is_pid(rpc:call('{py.name}', erlang, whereis, [rex])).") == "true"
