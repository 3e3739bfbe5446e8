"""One rate limiter process per provider: callers queue, on the virtual clock."""

import pytest

import vm
from stdlib import agents
from stdlib.agents import ratelimit, scripted_model
from vm.testing import run

HI = {"messages": [{"role": "user", "content": "hi"}]}


def caller(m, me, n):
    agents.complete(m, HI)
    vm.send(me, (n, vm.monotonic()))


def test_requests_per_minute_queue_in_order():
    m = scripted_model(["ok"], when_exhausted="repeat_last",
                       rate_limit={"requests_per_minute": 2})

    def main():
        for n in range(5):
            vm.spawn(caller, m, vm.self(), n)
        done = [vm.receive() for _ in range(5)]
        return done, ratelimit.stats(m)

    done, stats = run(main)
    assert [n for n, _ in done] == [0, 1, 2, 3, 4]  # first come, first served
    assert [round(t) for _, t in done] == [0, 0, 60, 60, 120]
    assert stats["granted"] == 5 and stats["queued"] == 0


def test_tokens_per_minute_counts_what_was_really_used_after_settling():
    # each call reserves its input estimate + max_tokens 100, but reports 10 + 5 tokens
    m = scripted_model([agents.reply("ok", usage=(10, 5))], when_exhausted="repeat_last",
                       max_tokens=100, rate_limit={"tokens_per_minute": 250})

    def main():
        for n in range(4):
            vm.spawn(caller, m, vm.self(), n)
        return [vm.receive() for _ in range(4)]

    done = run(main)
    # reservations of ~105 fit two at a time; once settled at 15 each, the rest get in at once
    assert [round(t) for _, t in done] == [0, 0, 0, 0]


def test_a_caller_that_dies_leaves_the_queue():
    m = scripted_model([agents.reply("ok", latency=1)], when_exhausted="repeat_last",
                       rate_limit={"requests_per_minute": 1})

    def main():
        vm.spawn(caller, m, vm.self(), 0)
        vm.sleep(0.1)
        doomed = vm.spawn(caller, m, vm.self(), 1)
        vm.sleep(0.1)
        vm.spawn(caller, m, vm.self(), 2)
        vm.sleep(0.1)
        vm.exit(doomed, "kill")
        return [vm.receive() for _ in range(2)], ratelimit.stats(m)

    done, stats = run(main)
    assert [(n, round(t)) for n, t in done] == [(0, 1), (2, 61)]
    assert stats["granted"] == 2


def test_a_call_that_can_never_fit_is_refused_at_once():
    m = scripted_model(["ok"], max_tokens=5000, rate_limit={"tokens_per_minute": 1000})

    def main():
        with pytest.raises(agents.ModelError, match="can never fit"):
            agents.complete(m, HI)
        return True

    assert run(main)


def test_one_limiter_per_provider_key():
    a = scripted_model(["x"], rate_limit={"requests_per_minute": 5, "key": "shared"})
    b = scripted_model(["y"], rate_limit={"requests_per_minute": 5, "key": "shared"})
    assert ratelimit.limiter_name(a) == ratelimit.limiter_name(b) == "agents.ratelimit:shared"
    with pytest.raises(vm.BadArg, match="unknown option 'rpm'"):
        scripted_model(["x"], rate_limit={"rpm": 5})
