"""The OpenAI-compatible client against a fake server on loopback (real sockets).

These run on the real clock (sockets and a virtual clock do not mix: virtual
time would jump past a deadline while a server thread is still writing).
Nothing here asserts a duration; waits are bounded by the calls' own
deadlines, and the server's connection count is awaited through a condition.
"""

import logging
import os
import shutil
import socket

import pytest

import vm
from stdlib import agents
from stdlib.agents import http
from tests.stdlib.agents.fake_openai import (
    FakeOpenAI,
    chunk,
    completion,
    error_body,
    self_signed_cert,
)
from vm.testing import Recorder, drain

KEY = "sk-test-DO-NOT-LEAK-0123456789abcdef"
HI = {"messages": [{"role": "user", "content": "hi"}]}


@pytest.fixture
def srv():
    s = FakeOpenAI()
    yield s
    s.close()


def model_for(s, **opts):
    opts.setdefault("api_key", KEY)
    opts.setdefault("model", "fake-1")
    opts.setdefault("timeout", 10)
    return agents.openai_model(base_url=s.base_url, **opts)


def run_real(fn, *args):
    return vm.run(fn, *args)


def sockets_to(port):
    """How many sockets this OS process holds that are connected to `port` (Linux)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as f:
                rows = f.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            cols = row.split()
            if int(cols[2].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    mine = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            link = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if link.startswith("socket:[") and link[8:-1] in inodes:
            mine += 1
    return mine


def test_plain_reply_and_the_request_on_the_wire(srv):
    srv.enqueue(lambda ex: ex.json(completion("Hello!", usage=(12, 3))))
    m = model_for(srv, price={"input": 1.0, "output": 4.0})

    def main():
        request = dict(HI, tools=[{"name": "search", "description": "find",
                                   "parameters": {"type": "object", "properties": {}}}],
                       options={"max_tokens": 77, "temperature": 0.5})
        return agents.complete(m, request)

    r = run_real(main)
    assert r["content"] == "Hello!" and r["finish_reason"] == "stop"
    assert r["usage"] == {"input_tokens": 12, "output_tokens": 3, "reported": True}
    assert r["cost"] == pytest.approx((12 * 1.0 + 3 * 4.0) / 1e6)
    ex = srv.requests[0]
    assert (ex.method, ex.path) == ("POST", "/v1/chat/completions")
    assert ex.headers["authorization"] == f"Bearer {KEY}"
    assert ex.body["model"] == "fake-1" and ex.body["max_tokens"] == 77
    assert ex.body["temperature"] == 0.5 and "stream" not in ex.body
    assert ex.body["tools"] == [{"type": "function", "function": {
        "name": "search", "description": "find",
        "parameters": {"type": "object", "properties": {}}}}]


def test_streamed_reply_with_split_tool_call_fragments_and_usage_last(srv):
    frags = [
        chunk({"role": "assistant", "content": None}),
        chunk({"tool_calls": [{"index": 0, "id": "call_a", "type": "function",
                               "function": {"name": "search", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"que'}}]}),
        chunk({"tool_calls": [{"index": 1, "id": "call_b", "type": "function",
                               "function": {"name": "fetch", "arguments": '{"url":'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": 'ry": "otp"}'}}]}),
        chunk({"tool_calls": [{"index": 1, "function": {"arguments": ' "u"}'}}]}),
        chunk(finish="tool_calls"),
        chunk(usage=(30, 12)),
    ]
    srv.enqueue(lambda ex: ex.sse(frags))
    m = model_for(srv)

    def main():
        r = agents.complete(m, HI, stream_to=vm.self(), tag="s")
        return r, [d[2] for d in drain(("model_delta", "s", vm.ANY))]

    r, deltas = run_real(main)
    assert [(c["id"], c["name"], c["arguments"]) for c in r["tool_calls"]] == [
        ("call_a", "search", {"query": "otp"}), ("call_b", "fetch", {"url": "u"})]
    assert r["usage"] == {"input_tokens": 30, "output_tokens": 12, "reported": True}
    assert len(deltas) == 5 and all("tool_call" in d for d in deltas)
    body = srv.requests[0].body
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


def test_429_with_retry_after_is_retried(srv):
    srv.enqueue(lambda ex: ex.json(error_body("Rate limit reached", "requests",
                                              "rate_limit_exceeded"), 429,
                                   [("retry-after", "1")]),
                lambda ex: ex.json(completion("after the wait")))
    m = model_for(srv)
    r = run_real(lambda: agents.complete(m, HI))
    assert r["content"] == "after the wait" and r["attempts"] == 2 and len(srv.requests) == 2


def test_429_insufficient_quota_is_not_retried(srv):
    body = error_body("You exceeded your current quota", "insufficient_quota",
                      "insufficient_quota")
    srv.enqueue(lambda ex: ex.json(body, 429))
    m = model_for(srv)

    def main():
        with pytest.raises(agents.ModelError) as e:
            agents.complete(m, HI)
        return e.value.reason

    reason = run_real(main)
    assert reason[:2] == ("model_error", "insufficient_quota")
    assert reason[2]["message"] == "You exceeded your current quota"
    assert reason[2]["status"] == 429 and reason[2]["attempts"] == 1
    assert len(srv.requests) == 1


def test_500_then_success(srv):
    srv.enqueue(lambda ex: ex.json(error_body("The server had an error"), 500,
                                   [("retry-after-ms", "10")]),
                lambda ex: ex.json(completion("recovered")))
    m = model_for(srv)
    r = run_real(lambda: agents.complete(m, HI))
    assert (r["content"], r["attempts"], len(srv.requests)) == ("recovered", 2, 2)


def test_a_hung_connection_ends_at_the_deadline_and_is_closed(srv):
    srv.enqueue(lambda ex: ex.hang())
    m = model_for(srv, timeout=0.5, max_retries=0)

    def main():
        with pytest.raises(agents.ModelError) as e:
            agents.complete(m, HI)
        return e.value.kind

    assert run_real(main) == "deadline"
    assert srv.wait_closed()  # the client closed its socket: the server's recv returned


def test_malformed_json_is_a_bad_response_and_not_retried(srv):
    def broken(ex):
        body = b'{"id": "x", "choices": [ {"message": '
        ex.head(200, [("content-type", "application/json"), ("content-length", str(len(body)))])
        ex.data(body)
        ex.end()

    srv.enqueue(broken)
    m = model_for(srv)

    def main():
        with pytest.raises(agents.ModelError) as e:
            agents.complete(m, HI)
        return e.value.kind, e.value.message

    kind, message = run_real(main)
    assert kind == "bad_response" and "not valid JSON" in message and len(srv.requests) == 1


def test_a_connection_dropped_mid_stream(srv):
    def dropper(ex):
        ex.head(200, [("content-type", "text/event-stream")])
        ex.data(b'data: {"choices": [{"index": 0, "delta": {"content": "Hal"}}]}\n\n')
        ex.drop()

    srv.enqueue(dropper)
    m = model_for(srv)

    def main():
        with pytest.raises(agents.ModelError) as e:
            agents.complete(m, HI, stream_to=vm.self())
        return e.value.kind, vm.receive(("model_delta", None, vm.ANY), timeout=0)

    kind, delta = run_real(main)
    assert kind == "connection" and delta[2] == {"content": "Hal"}
    assert len(srv.requests) == 1  # a stream that delivered deltas is not retried


def test_malformed_http_is_a_protocol_error(srv):
    srv.enqueue(lambda ex: ex.raw(b"HTTP/1.1 abc nonsense\r\n\r\n"))
    m = model_for(srv)

    def main():
        with pytest.raises(agents.ModelError) as e:
            agents.complete(m, HI)
        return e.value.kind

    assert run_real(main) == "protocol"


def test_refused_connections_are_retried_then_reported():
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))  # a port nothing listens on
    port = probe.getsockname()[1]
    m = agents.openai_model(base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY, max_retries=1)

    def main():
        with pytest.raises(agents.ModelError) as e:
            agents.complete(m, HI)
        return e.value.reason

    try:
        reason = run_real(main)
    finally:
        probe.close()
    assert reason[1] == "connection" and reason[2]["attempts"] == 2


def test_connect_timeout():
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(0)  # a server that never accepts: once its queue is full, SYNs go unanswered
    port = lsock.getsockname()[1]
    fillers = []
    for _ in range(3):
        f = socket.socket()
        f.setblocking(False)
        f.connect_ex(("127.0.0.1", port))
        fillers.append(f)
    m = agents.openai_model(base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY,
                            connect_timeout=0.3, max_retries=0)

    def main():
        with pytest.raises(agents.ModelError) as e:
            agents.complete(m, HI)
        return e.value.kind

    try:
        assert run_real(main) == "connect_timeout"
    finally:
        for f in fillers + [lsock]:
            f.close()


def test_a_host_name_is_resolved(srv):
    m = agents.openai_model(base_url=f"http://localhost:{srv.port}/v1", api_key=KEY)
    assert run_real(lambda: agents.complete(m, HI))["content"] == "ok"
    assert srv.requests[0].headers["host"] == f"localhost:{srv.port}"


def test_keep_alive_connections_are_reused(srv):
    m = model_for(srv)

    def main():
        for _ in range(3):
            agents.complete(m, HI)
        return http.pool_stats()

    stats = run_real(main)
    assert srv.accepted == 1 and len(srv.requests) == 3
    assert list(stats.values()) == [1]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_tls_against_a_self_signed_certificate_given_as_the_trust_root(tmp_path):
    cert, key = self_signed_cert(str(tmp_path))
    s = FakeOpenAI(tls_files=(cert, key))
    try:
        s.enqueue(lambda ex: ex.json(completion("over TLS")))

        def main():
            trusted = agents.complete(model_for(s, ca_file=cert), HI)
            with pytest.raises(agents.ModelError) as e:
                agents.complete(model_for(s, max_retries=0), HI)  # the system's roots
            return trusted["content"], e.value.kind, e.value.message

        content, kind, message = run_real(main)
        assert content == "over TLS"
        assert kind == "connection" and "CERTIFICATE_VERIFY_FAILED" in message
        assert s.requests[0].headers["authorization"] == f"Bearer {KEY}"
    finally:
        s.close()


def test_the_key_never_appears_in_logs_exit_reasons_or_traces(srv, caplog):
    srv.enqueue(lambda ex: ex.json(error_body(f"Incorrect API key provided: {KEY}",
                                              "invalid_request_error", "invalid_api_key"), 401))
    m = model_for(srv)
    rec = Recorder()

    class Echo(agents.Agent):
        pass

    def main():
        a = agents.start(Echo, {"model": m})
        with pytest.raises(agents.AgentError) as e:
            agents.ask(a, "hi")
        state = str(vm.process_info(a, "dictionary")) + repr(agents.usage(a))
        from stdlib import otp_sys
        state += repr(otp_sys.get_state(a))
        return e.value.reason, state

    with caplog.at_level(logging.DEBUG):
        reason, state = vm.run(main, instruments=[rec])
    assert reason[:2] == ("model_error", "authentication")
    assert "[REDACTED]" in reason[2]["message"]
    for where, text in (("reason", repr(reason)), ("state", state), ("logs", caplog.text),
                        ("trace", repr(rec.events())), ("model", repr(m))):
        assert KEY not in text, f"the key leaked into the {where}"
    assert srv.requests[0].headers["authorization"] == f"Bearer {KEY}"  # and yet it was sent


def test_an_agent_killed_mid_model_call_leaves_nothing_behind(srv):
    srv.enqueue(lambda ex: ex.hang())
    m = model_for(srv, timeout=30)

    class Waiter(agents.Agent):
        pass

    def main():
        before = set(vm.processes())
        a = agents.start(Waiter, {"model": m})
        vm.spawn(lambda: agents.ask(a, "hi", timeout=30))
        while not srv.requests:  # wait (bounded by the test's timeout) for the call to arrive
            vm.sleep(0.01)
        during = set(vm.processes()) - before
        open_during = sockets_to(srv.port)
        vm.exit(a, "kill")
        # The killed processes unwind (their finally blocks close sockets) as soon as
        # they are switched in; on a loaded machine that takes a few turns.
        for _ in range(500):
            if not sockets_to(srv.port):
                break
            vm.sleep(0.01)
        pool = vm.whereis(http.POOL)
        left = set(vm.processes()) - before - {pool}
        return len(during), left, open_during, sockets_to(srv.port)

    during, left, open_during, open_after = run_real(main)
    assert during >= 4  # the agent, its asker, the model call, the connection (and the pool)
    assert left == set()
    assert (open_during, open_after) == (1, 0)  # its socket was closed before the node stopped
    assert srv.wait_closed()
