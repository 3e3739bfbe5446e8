"""Budgets: reservation before spending, settlement after, shared by a subtree."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vm
from stdlib.agents import budget
from vm.testing import run

CALL = {"steps": 1, "model_calls": 1, "input_tokens": 100, "output_tokens": 200}


def test_ledger_refuses_what_would_pass_a_limit_and_names_it():
    led = budget.new_ledger("team", {"output_tokens": 500}, now=0.0)
    assert budget.try_reserve(led, CALL, 0.0) is None
    budget.add_reservation(led, "r1", CALL)
    budget.add_reservation(led, "r2", CALL)
    refused = budget.try_reserve(led, CALL, 0.0)
    assert refused == ("budget_exhausted", {"resource": "output_tokens", "used": 0,
                                            "reserved": 400, "asked": 200, "limit": 500,
                                            "budget": "team"})
    budget.close_reservation(led, "r1", dict(CALL, output_tokens=20))
    assert led["used"]["output_tokens"] == 20 and led["reserved"]["output_tokens"] == 200
    assert budget.try_reserve(led, CALL, 0.0) is None


def test_seconds_is_a_deadline():
    led = budget.new_ledger("b", {"seconds": 10}, now=100.0)
    assert budget.try_reserve(led, CALL, 109.0) is None
    assert budget.try_reserve(led, CALL, 110.0)[1]["resource"] == "seconds"


def test_limits_are_checked():
    with pytest.raises(vm.BadArg, match="unknown option 'tokens'"):
        budget.check_limits("limits", {"tokens": 5})
    with pytest.raises(vm.BadArg, match="whole number"):
        budget.check_limits("limits", {"steps": 2.5})
    with pytest.raises(vm.BadArg, match=">= 0"):
        budget.check_limits("limits", {"cost": -1})


def test_budget_process_settle_release_charge_and_holder_death():
    def holder(b, me):
        ok, rid, _ = budget.reserve(b, CALL)
        vm.send(me, ("reserved", rid))
        vm.receive("never")

    def main():
        b = budget.start_link({"output_tokens": 1000}, name="team")
        _, r1, _ = budget.reserve(b, CALL)
        _, r2, _ = budget.reserve(b, CALL)
        budget.settle(b, r1, dict(CALL, output_tokens=50, input_tokens=80))
        budget.release(b, r2)
        _, r3, _ = budget.reserve(b, CALL)
        budget.charge(b, r3)
        pid = vm.spawn(holder, b, vm.self())
        vm.receive(("reserved", vm.ANY))
        vm.exit(pid, "kill")
        return budget.usage(b)

    u = run(main)
    assert u["used"]["output_tokens"] == 50 + 200 + 200  # settled + charged + holder died
    assert u["used"]["model_calls"] == 3 and u["reserved"]["output_tokens"] == 0
    assert u["open_reservations"] == 0 and u["name"] == "team"


def test_children_draw_on_the_parent():
    def main():
        parent = budget.start_link({"output_tokens": 500}, name="org")
        a = budget.start_link({"output_tokens": 400}, parent="org")
        b = budget.start_link({}, parent=parent)
        assert budget.reserve(a, CALL)[0] == "ok"
        assert budget.reserve(b, CALL)[0] == "ok"
        refused = budget.reserve(a, CALL)  # a still has room (200 of 400), the parent does not
        return refused, budget.usage(parent)["reserved"], budget.usage(a)["reserved"]

    refused, parent_reserved, a_reserved = run(main)
    assert refused[0] == "error" and refused[1][1]["budget"] == "org"
    assert parent_reserved["output_tokens"] == 400 and a_reserved["output_tokens"] == 200


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1),
       plan=st.lists(st.tuples(st.sampled_from(["settle", "release", "kill",
                                                                    "charge"]),
                               st.integers(0, 200), st.floats(0, 2)), min_size=1, max_size=12))
def test_any_interleaving_of_kills_and_replies_balances_the_books(seed, plan):
    """Agents (holders) reserve in a child budget drawing on a parent, then settle,
    release, get charged, or are killed, at random times: afterwards nothing is
    reserved in either budget, and `used` is exactly what was settled or charged."""

    def worker(child, action, spent, delay, me):
        answer = budget.reserve(child, CALL)
        if answer[0] != "ok":
            vm.send(me, ("refused", vm.self()))
            return
        rid = answer[1]
        vm.send(me, ("reserved", vm.self()))
        vm.sleep(delay)
        if action == "settle":
            budget.settle(child, rid, {"output_tokens": spent})
            vm.send(me, ("spent", spent))
        elif action == "release":
            budget.release(child, rid)
            vm.send(me, ("spent", 0))
        elif action == "charge":
            budget.charge(child, rid)
            vm.send(me, ("spent", CALL["output_tokens"]))
        else:
            vm.receive("never")

    def main():
        parent = budget.start_link({"output_tokens": 1500})
        child = budget.start_link({"output_tokens": 1200}, parent=parent)
        expected, pids = 0, []
        for (action, spent, delay) in plan:
            pids.append((vm.spawn(worker, child, action, spent, delay, vm.self()), action))
        for pid, action in pids:
            msg = vm.receive(("reserved", pid), ("refused", pid))
            if msg[0] == "reserved" and action == "kill":
                vm.sleep(0.5)
                vm.exit(pid, "kill")
                expected += CALL["output_tokens"]  # died holding it: charged in full
        while (msg := vm.receive(("spent", int), timeout=5)) is not vm.TIMEOUT:
            expected += msg[1]
        vm.sleep(1)
        return budget.usage(parent), budget.usage(child), expected

    up, uc, expected = run(main, seed=seed)
    for u in (up, uc):
        assert u["open_reservations"] == 0
        assert all(v == 0 for v in u["reserved"].values()), u
        assert u["used"]["output_tokens"] == expected
    assert uc["used"]["output_tokens"] <= 1200 + 200  # only a settle above the estimate exceeds
