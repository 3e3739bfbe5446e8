"""Trace tokens ride on messages, as Erlang's seq_trace token does."""

import vm
import vm.lowlevel as ll
from stdlib import gen_server
from vm.testing import run


def echo_token():
    while True:
        msg = vm.receive()
        if msg == "stop":
            return
        sender = msg[1]
        vm.send(sender, ("token", ll.trace_token()))


def test_a_message_carries_the_senders_token_and_the_receiver_takes_it():
    def main():
        pid = vm.spawn(echo_token)
        vm.send(pid, ("ask", vm.self()))
        untraced = vm.receive(("token", vm.ANY))
        ll.set_trace_token(("trace-1", "span-a"))
        vm.send(pid, ("ask", vm.self()))
        ll.set_trace_token(None)
        traced = vm.receive(("token", vm.ANY))
        mine = ll.trace_token()  # the reply carried it back to me
        ll.set_trace_token(None)
        vm.send(pid, ("ask", vm.self()))  # sent without a token: the echo loses it
        cleared = vm.receive(("token", vm.ANY))
        vm.send(pid, "stop")
        return untraced[1], traced[1], mine, cleared[1]

    assert run(main) == (None, ("trace-1", "span-a"), ("trace-1", "span-a"), None)


def test_selective_receive_matches_traced_messages_by_their_content():
    def main():
        me = vm.self()
        vm.send(me, "plain")
        ll.set_trace_token("t")
        vm.send(me, ("traced", 1))
        ll.set_trace_token(None)
        got = vm.receive(("traced", int), timeout=0)
        token = ll.trace_token()
        rest = vm.flush()
        return got, token, rest, ll.trace_token()

    assert run(main) == (("traced", 1), "t", ["plain"], None)


def test_spawned_processes_inherit_the_token_and_introspection_shows_plain_messages():
    def child(parent):
        vm.send(parent, ("child", ll.trace_token()))

    def main():
        ll.set_trace_token({"trace": 7})
        vm.spawn(child, vm.self())
        vm.sleep(0.01)
        queued = vm.process_info(vm.self(), "messages")
        got = vm.receive()
        return queued, got

    queued, got = run(main)
    assert queued == [("child", {"trace": 7})] and got == ("child", {"trace": 7})


class TokenServer(gen_server.GenServer):
    def init(self, arg):
        return ("ok", None)

    def handle_call(self, request, from_, state):
        return ("reply", ll.trace_token(), state)

    def handle_cast(self, msg, state):
        vm.send(msg, ("cast_token", ll.trace_token()))
        return ("noreply", state)


def test_calls_and_casts_carry_the_token_to_the_server_and_back():
    def main():
        _, srv = gen_server.start_link(TokenServer)
        before = gen_server.call(srv, "which")
        ll.set_trace_token("req-42")
        during = gen_server.call(srv, "which")
        gen_server.cast(srv, vm.self())
        cast = vm.receive(("cast_token", vm.ANY))
        return before, during, cast[1], ll.trace_token()

    assert run(main) == (None, "req-42", "req-42", "req-42")


def test_no_token_means_plain_mailbox_entries():
    def main():
        vm.send(vm.self(), "x")
        mb = ll.current_process().mailbox
        return [type(m).__name__ for m in mb.q], mb.traced

    assert run(main) == (["str"], 0)


def test_a_token_must_be_a_term():
    import pytest

    def main():
        with pytest.raises(vm.Unsendable):
            ll.set_trace_token(object())
        return ll.trace_token()

    assert run(main) is None
