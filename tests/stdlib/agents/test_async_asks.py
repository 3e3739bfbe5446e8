"""Asynchronous asks: many in flight from one process, collected as they come."""

import vm
from stdlib import agents
from stdlib.agents import reply, scripted_model
from vm.testing import run


class Quick(agents.Agent):
    pass


def crew(latencies):
    return {n: agents.start_link(Quick, {"model": scripted_model(
        [reply(f"answer {n}", latency=lat, usage=(1, 1))], when_exhausted="repeat_last")})
        for n, lat in latencies.items()}


def test_a_collection_of_asks_answers_as_they_come():
    def main():
        agents_by_name = crew({"slow": 3.0, "fast": 1.0, "mid": 2.0})
        reqs = agents.reqids_new()
        for name, a in agents_by_name.items():
            reqs = agents.send_ask(a, "hi", label=name, reqids=reqs)
        order = []
        while True:
            got = agents.receive_answer(reqs, timeout=10, delete=True)
            if got == "no_request":
                return order
            outcome, label, reqs = got
            order.append((label, outcome[0], outcome[1], round(vm.monotonic())))

    assert run(main) == [("fast", "ok", "answer fast", 1), ("mid", "ok", "answer mid", 2),
                         ("slow", "ok", "answer slow", 3)]


def test_one_ask_waited_for_and_checked():
    def main():
        a = crew({"one": 2.0})["one"]
        req = agents.send_ask(a, "hi", timeout=30)
        early = agents.wait_answer(req, timeout=1)  # not yet: the request stays
        outcome = agents.wait_answer(req, timeout=5)
        req2 = agents.send_ask(a, "again")
        msg = vm.receive()
        return early, outcome, agents.check_answer(msg, req2)

    early, outcome, checked = run(main)
    assert early == "timeout"
    assert outcome == ("ok", "answer one", outcome[2]) and outcome[2]["model_calls"] == 1
    assert checked[:2] == ("ok", "answer one")

def test_an_abandoned_ask_drops_its_late_answer_and_a_dead_agent_is_an_outcome():
    def main():
        a = crew({"one": 5.0})["one"]
        req = agents.send_ask(a, "hi", timeout=30)
        assert agents.receive_answer(req, timeout=1) == "timeout"
        vm.sleep(10)
        late = vm.receive(timeout=0)
        vm.unlink(a)
        vm.exit(a, "kill")
        dead = agents.receive_answer(agents.send_ask(a, "hi"), timeout=1)
        return late, dead

    late, dead = run(main)
    assert late is vm.TIMEOUT
    assert dead == ("error", ("agent_down", {"reason": "noproc"}), {})
