"""gen's asynchronous requests: send_request, wait/receive/check_response and
request-id collections, beyond what the conformance scenarios record from OTP
(bad input, via names, other nodes, collections as values, dying waiters)."""

from pathlib import Path

import pytest

import vm
from stdlib import gen, gen_server, gen_statem, proc_lib
from tests.stdlib.test_proc_lib_gen import DictRegistry, echo_server
from vm.testing import run

ANY = vm.ANY


def start_echo():
    ok, pid = proc_lib.start(echo_server, None)
    return pid


def test_behaviour_modules_share_gen_functions():
    for name in ("wait_response", "receive_response", "check_response", "reqids_new",
                 "reqids_add", "reqids_size", "reqids_to_list"):
        assert getattr(gen_server, name) is getattr(gen, name)
        assert getattr(gen_statem, name) is getattr(gen, name)
        assert name in gen_server.__all__ and name in gen_statem.__all__
    assert "send_request" in gen_server.__all__ and "send_request" in gen_statem.__all__


def test_reply_goes_to_an_alias_and_leaves_nothing_behind():
    def main():
        pid = start_echo()
        r = gen_server.send_request(pid, "ping")
        got = gen_server.receive_response(r)
        return got, vm.process_info(vm.self(), "monitors"), vm.receive(timeout=0)

    assert run(main) == (("reply", "ping"), [], vm.TIMEOUT)


def test_late_reply_after_receive_timeout_never_arrives():
    def main():
        pid = start_echo()
        r = gen_server.send_request(pid, "slow")  # echo_server answers after 1 s
        first = gen_server.receive_response(r, 0.1)
        vm.sleep(2.0)
        return first, vm.receive(timeout=0), vm.is_process_alive(pid)

    assert run(main) == ("timeout", vm.TIMEOUT, True)


def test_wait_timeout_keeps_the_request_alive():
    def main():
        pid = start_echo()
        r = gen_server.send_request(pid, "slow")
        return gen_server.wait_response(r, 0.1), gen_server.wait_response(r, 5.0)

    assert run(main) == ("timeout", ("reply", "slow-done"))


def test_server_dying_before_replying():
    def main():
        pid = start_echo()
        r = gen_server.send_request(pid, ("die", "bye"))
        return gen_server.wait_response(r), pid

    (kind, (reason, server)), pid = run(main)
    assert (kind, reason, server) == ("error", "bye", pid)


def test_unknown_names_other_nodes_and_via_names():
    DictRegistry.names.clear()

    def main():
        out = [gen_server.receive_response(gen_server.send_request("nobody", 1))]
        out.append(gen_server.receive_response(gen_server.send_request(("x", "other@host"), 1)))
        name = ("via", DictRegistry, "svc")
        out.append(gen_server.receive_response(gen_server.send_request(name, 1)))
        gen.start(lambda n: echo_server(n), False, name, ())
        out.append(gen_server.receive_response(gen_server.send_request(name, "via!")))
        return out

    nobody, other_node, no_via, via = run(main)
    assert nobody == ("error", ("noproc", "nobody"))
    assert other_node == ("error", (("nodedown", "other@host"), ("x", "other@host")))
    # a via registry object is not a term: the server shows as its repr
    assert no_via[0] == "error" and no_via[1][0] == "noproc"
    assert via == ("reply", "via!")


def test_collections_are_values():
    def main():
        pid = start_echo()
        empty = gen_server.reqids_new()
        one = gen_server.send_request(pid, "a", label="A", reqids=empty)
        two = gen_server.send_request(pid, "b", label="B", reqids=one)
        taken = gen_server.receive_response(two, 5.0, delete=True)
        kept = gen_server.receive_response(two, 5.0, delete=False)
        return (len(empty), len(one), len(two), taken[1], len(taken[2]), kept[1],
                kept[2] is two)

    assert run(main) == (0, 1, 2, "A", 1, "B", True)


def test_label_defaults_to_none_in_a_collection():
    def main():
        pid = start_echo()
        col = gen_server.send_request(pid, "x", reqids=gen_server.reqids_new())
        return gen_server.reqids_to_list(col)[0][1], gen_server.receive_response(col, None, True)

    label, (resp, label2, rest) = run(main)
    assert (label, resp, label2, rest) == (None, ("reply", "x"), None, {})


def test_receive_timeout_on_a_collection_drops_every_late_reply():
    def main():
        pid = start_echo()
        col = gen_server.send_request(pid, "slow", "s1", gen_server.reqids_new())
        col = gen_server.send_request(pid, "slow", "s2", col)
        r = gen_server.receive_response(col, 0.5, True)
        vm.sleep(5.0)
        return r, vm.receive(timeout=0), vm.process_info(vm.self(), "monitors")

    assert run(main) == ("timeout", vm.TIMEOUT, [])


def test_bad_input_is_refused_with_a_message():
    def main():
        pid = start_echo()
        r = gen_server.send_request(pid, "x")
        col = gen_server.reqids_add(r, "l", gen_server.reqids_new())
        cases = [
            (lambda: gen_server.send_request(pid, "x", label="l"), "label"),
            (lambda: gen_server.send_request(42, "x"), "server reference"),
            (lambda: gen_server.send_request(pid, "x", "l", reqids=[]), "collection"),
            (lambda: gen_server.wait_response(r, 1.0, delete=True), "single request"),
            (lambda: gen_server.wait_response(col, 1.0), "delete=True"),
            (lambda: gen_server.check_response("m", col, delete="yes"), "delete=True"),
            (lambda: gen_server.receive_response("not a ref"), "request id"),
            (lambda: gen_server.wait_response(r, -1), "seconds"),
            (lambda: gen_server.wait_response(r, ("abs", "soon")), "seconds"),
            (lambda: gen_server.reqids_add(r, "again", col), "already"),
            (lambda: gen_server.reqids_add("nope", "l", col), "request id"),
            (lambda: gen_server.reqids_size([]), "collection"),
            (lambda: gen_server.reqids_to_list(None), "collection"),
            (lambda: gen_server.multi_call(42, "x"), "registered name"),
            (lambda: gen_server.multi_call("srv", "x", timeout="soon"), "seconds"),
        ]
        for fn, words in cases:
            with pytest.raises(vm.BadArg, match=words):
                fn()
        return gen_server.receive_response(r, 1.0)

    assert run(main) == ("reply", "x")


def test_abs_timeout_in_the_past_only_looks_at_the_mailbox():
    def main():
        pid = start_echo()
        r = gen_server.send_request(pid, "slow")
        return gen_server.wait_response(r, ("abs", vm.monotonic() - 10)), \
            gen_server.wait_response(r, ("abs", vm.monotonic() + 5))

    assert run(main) == ("timeout", ("reply", "slow-done"))


def test_a_waiter_killed_while_waiting_leaves_no_trace():
    def main():
        pid = start_echo()

        def waiter():
            r = gen_server.send_request(pid, "slow")
            gen_server.wait_response(r)

        w = vm.spawn(waiter)
        vm.sleep(0.1)
        vm.exit(w, "kill")
        vm.sleep(2.0)
        return vm.is_process_alive(pid), len(gen._waiting)

    assert run(main) == (True, 0)


def test_statem_requests_are_call_events():
    class Machine(gen_statem.GenStatem):
        def callback_mode(self):
            return "handle_event_function"

        def init(self, _arg):
            return ("ok", "idle", 0)

        def handle_event(self, etype, content, state, data):
            if type(etype) is tuple and etype[0] == "call":
                return ("keep_state", data + 1, [("reply", etype[1], (state, content, data))])
            return "keep_state_and_data"

    def main():
        ok, sm = gen_statem.start(Machine)
        col = gen_statem.reqids_new()
        for i in range(3):
            col = gen_statem.send_request(sm, i, label=i, reqids=col)
        out = []
        while True:
            r = gen_statem.receive_response(col, 1.0, delete=True)
            if r == "no_request":
                return out
            resp, label, col = r
            out.append((label, resp))

    assert run(main) == [(0, ("reply", ("idle", 0, 0))), (1, ("reply", ("idle", 1, 1))),
                            (2, ("reply", ("idle", 2, 2)))]


def doc_example(path, heading):
    """The first python block under `heading` in a doc, loaded as a module."""
    import importlib.util
    import os
    import tempfile

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    text = Path(root, path).read_text(encoding="utf-8")
    code = text.split(heading + "\n", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as f:
        f.write(code)
    spec = importlib.util.spec_from_file_location("_doc_example", f.name)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    os.unlink(f.name)
    return module


def test_fan_out_example_in_the_docs_runs(capsys):
    run(doc_example("docs/behaviours.md", "### Asynchronous requests").main)
    assert capsys.readouterr().out.splitlines() == ["s0 reply 2", "s1 reply 4", "s2 reply 6"]
