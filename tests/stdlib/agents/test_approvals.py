"""Human in the loop: approve, refuse, time out, escalate; late answers ignored."""

import os
import subprocess
import sys

import pytest

import vm
from stdlib import agents, supervisor
from stdlib.agents import audit, reply, scripted_model, store, tool_call, tool_call_step
from vm.testing import run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(
    __file__)))))
REFUNDS = []


def above_100(arguments):
    return arguments["amount"] > 100 and f"a refund of {arguments['amount']} is above 100"


@agents.tool(approval=above_100)
def refund(order: str, amount: int) -> str:
    """Refund an order."""
    REFUNDS.append((order, amount))
    return f"refunded {amount} on {order}"


@agents.tool
def lookup(order: str) -> str:
    """Look an order up."""
    return f"{order}: paid"


class Clerk(agents.Agent):
    tools = [refund, lookup]
    audit = True
    approval_timeout = 600


def told(request):
    return reply("told: " + request["messages"][-1]["content"])


def refund_model(amount, order="o-1"):
    return scripted_model([tool_call_step([tool_call("refund", {"order": order, "amount": amount}),
                                           tool_call("lookup", {"order": order})]), told])


def wait_for_approval(n=1):
    for _ in range(100):
        pending = agents.approvals()
        if len(pending) >= n:
            return pending
        vm.sleep(0.01)
    raise AssertionError("no approval came")


def start_clerk(path, model, **opts):
    return agents.start_link(Clerk, dict({"model": model, "store": path}, **opts))


def test_a_small_refund_needs_no_approval(tmp_path):
    def main():
        REFUNDS.clear()
        a = start_clerk(str(tmp_path / "s.db"), refund_model(20))
        return agents.ask(a, "refund 20"), list(REFUNDS), agents.approvals()

    answer, refunds, pending = run(main)
    assert answer == "told: o-1: paid" and refunds == [("o-1", 20)] and pending == []


def test_approve_runs_the_call_and_a_duplicate_answer_is_ignored(tmp_path):
    path = str(tmp_path / "a.db")

    def main():
        REFUNDS.clear()
        a = start_clerk(path, refund_model(500))
        req = agents.send_ask(a, "refund 500", principal="ada", timeout=900)
        pending = wait_for_approval()
        status = agents.status(a)
        hibernating = vm.process_info(a, "current_stacktrace")
        ran_before = list(REFUNDS)
        first = agents.approve(pending[0]["id"], by="bob")
        second = agents.approve(pending[0]["id"], by="carol")
        late_refusal = agents.refuse(pending[0]["id"], "too late", by="dan")
        outcome = agents.receive_answer(req, 5)
        store.sync(path)
        return (pending, status, hibernating, ran_before, first, second, late_refusal, outcome,
                list(REFUNDS), agents.approvals())

    (pending, status, hibernating, ran_before, first, second, late, outcome, refunds,
     after) = run(main)
    assert len(pending) == 1
    p = pending[0]
    assert p["tool"] == "refund" and p["arguments"] == {"order": "o-1", "amount": 500}
    assert p["why"] == "a refund of 500 is above 100" and p["principal"] == "ada"
    assert p["id"] == f"{p['request_id']}:call_0_0"
    assert status["state"] == "awaiting_approval" and status["awaiting_approval"] == [p["id"]]
    assert hibernating == []  # hibernated: no stack kept, nothing polled
    assert ran_before == []
    assert first == "ok" and second == ("ignored", "approved") and late == second
    assert outcome[0] == "ok" and refunds == [("o-1", 500)] and after == []
    events = [(r["data"]["event"], r["data"].get("by")) for r in audit.query(path, kind="approval")]
    assert events == [("requested", None), ("approved", "bob")]


def test_refuse_tells_the_model_and_the_call_never_runs(tmp_path):
    def main():
        REFUNDS.clear()
        a = start_clerk(str(tmp_path / "r.db"), scripted_model([
            tool_call_step(tool_call("refund", {"order": "o-1", "amount": 500})), told]))
        req = agents.send_ask(a, "refund 500", timeout=900)
        aid = wait_for_approval()[0]["id"]
        result = agents.refuse(aid, "refunds above 100 go through finance", by="bob")
        return result, agents.receive_answer(req, 5)[1], list(REFUNDS)

    result, answer, refunds = run(main)
    assert result == "ok" and refunds == []
    assert answer == "told: error: not run: bob refused it: refunds above 100 go through finance"


def test_a_timeout_without_a_handler_expires_the_approval(tmp_path):
    def main():
        REFUNDS.clear()
        a = start_clerk(str(tmp_path / "t.db"), scripted_model([
            tool_call_step(tool_call("refund", {"order": "o-1", "amount": 500})), told]),
            approval_timeout=30)
        req = agents.send_ask(a, "refund 500", timeout=900)
        aid = wait_for_approval()[0]["id"]
        t0 = vm.monotonic()
        answer = agents.receive_answer(req, 100)[1]
        waited = vm.monotonic() - t0
        return answer, waited, agents.approve(aid, by="late bob"), list(REFUNDS)

    answer, waited, late, refunds = run(main)
    assert answer == "told: error: not run: no approval came for refund (after 30 s)"
    assert (waited, late, refunds) == (pytest.approx(30, abs=1), ("ignored", "expired"), [])


def approve_everything(approval):
    vm.send("watcher", ("escalated", approval))
    return "approve"


def leave_it(approval):
    vm.send("watcher", ("escalated", approval))
    return None


def escalated_desk(tmp_path, handler, amount=500):
    REFUNDS.clear()
    vm.register("watcher", vm.self())
    spec = agents.child_spec(Clerk, {"model": scripted_model([
        tool_call_step(tool_call("refund", {"order": "o-9", "amount": amount})), told]),
        "store": str(tmp_path / "e.db"), "approval_timeout": 60}, name="clerk")
    supervisor.start_link_children([agents.escalation_handler(handler), spec],
                                   strategy="one_for_one")
    return agents.send_ask("clerk", "refund", timeout=900, principal="ada")


def test_a_timeout_escalates_to_the_supervisors_designated_handler(tmp_path):
    def main():
        req = escalated_desk(tmp_path, approve_everything)
        t0 = vm.monotonic()
        _, approval = vm.receive(("escalated", vm.ANY))
        escalated_after = vm.monotonic() - t0
        return approval, escalated_after, agents.receive_answer(req, 10)[1], list(REFUNDS)

    approval, after, answer, refunds = run(main)
    assert 59 < after < 61
    assert approval["tool"] == "refund" and approval["arguments"]["amount"] == 500
    assert approval["agent"] == "clerk" and approval["principal"] == "ada"
    assert answer == "told: refunded 500 on o-9" and refunds == [("o-9", 500)]


def test_an_escalation_nobody_answers_expires(tmp_path):
    def main():
        req = escalated_desk(tmp_path, leave_it)
        t0 = vm.monotonic()
        vm.receive(("escalated", vm.ANY))
        answer = agents.receive_answer(req, 200)[1]
        return answer, vm.monotonic() - t0, list(REFUNDS)

    answer, waited, refunds = run(main)
    assert answer == ("told: error: not run: no approval came for refund (after 60 s and an "
                      "escalation)")
    assert 119 < waited < 121 and refunds == []


def test_an_answer_for_an_earlier_request_does_not_reach_the_next(tmp_path):
    def main():
        REFUNDS.clear()
        model = scripted_model([  # the cancelled request used the first step only
            tool_call_step(tool_call("refund", {"order": "o-1", "amount": 500})),
            tool_call_step(tool_call("refund", {"order": "o-2", "amount": 700})), told])
        a = start_clerk(str(tmp_path / "l.db"), model)
        req = agents.send_ask(a, "refund o-1", timeout=900)
        first = wait_for_approval()[0]["id"]
        agents.cancel(a, "changed my mind")
        agents.receive_answer(req, 5)
        req = agents.send_ask(a, "refund o-2", timeout=900)
        vm.sleep(0.1)
        second = [p["id"] for p in agents.approvals()]
        late = agents.approve(first, by="bob")  # the first request's approval, now stale
        vm.send(a, ("$agent_approval", first, {"status": "approved", "by": "forger"}))
        vm.sleep(0.1)
        still = agents.status(a)["state"]
        agents.approve(second[0], by="bob")
        return late, still, agents.receive_answer(req, 5)[1], list(REFUNDS)

    late, still, answer, refunds = run(main)
    assert late == ("ignored", "cancelled") and still == "awaiting_approval"
    assert answer == "told: refunded 700 on o-2" and refunds == [("o-2", 700)]


def test_a_policy_on_cost_can_require_approval(tmp_path):
    class Careful(agents.Agent):
        tools = [lookup]

        def needs_approval(self, call, context):
            if context["usage"]["input_tokens"] > 50:
                return f"this request has used {context['usage']['input_tokens']} tokens"
            return None

    def main():
        a = agents.start_link(Careful, {"model": scripted_model([
            tool_call_step(tool_call("lookup", {"order": "o-1"})), told]),
            "store": str(tmp_path / "c.db")})
        req = agents.send_ask(a, "look it up", timeout=900)
        pending = wait_for_approval()
        agents.approve(pending[0]["id"])
        return pending[0]["why"], agents.receive_answer(req, 5)[1]

    why, answer = run(main)
    assert why.startswith("this request has used") and answer == "told: o-1: paid"


def test_the_cli_answers_a_running_programs_approval(tmp_path):
    """`beamlet approvals` in another OS process approves; the program picks it up."""
    path = str(tmp_path / "cli.db")
    seen = {}

    def main():
        REFUNDS.clear()
        a = start_clerk(path, refund_model(300, "o-5"))
        req = agents.send_ask(a, "refund 300", timeout=60)
        aid = wait_for_approval()[0]["id"]
        listing = vm.to_thread(beamlet, "approvals", "--store", path)
        result = vm.to_thread(beamlet, "approvals", "--store", path, "--approve", aid,
                              "--by", "ops")
        again = vm.to_thread(beamlet, "approvals", "--store", path, "--approve", aid)
        seen["answer"] = agents.receive_answer(req, 10)
        return listing, result, again, list(REFUNDS)

    listing, result, again, refunds = vm.run(main)  # a real clock: the desk polls the file
    assert listing.returncode == 0 and "refund" in listing.stdout and "o-5" in listing.stdout
    assert result.returncode == 0 and "approved by ops" in result.stdout
    assert again.returncode == 1 and "not pending (approved)" in again.stderr
    assert seen["answer"][0] == "ok" and refunds == [("o-5", 300)]


def beamlet(*args):
    return subprocess.run([sys.executable, "-m", "stdlib.cli", *args], capture_output=True,
                          text=True, cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT),
                          timeout=60)


def test_approval_options_are_checked():
    def main():
        with pytest.raises(vm.BadArg, match="approval must be"):
            agents.tool(approval="yes")(lookup)
        with pytest.raises(vm.BadArg, match="on_approval_timeout"):
            agents.start(Clerk, {"model": scripted_model([]), "on_approval_timeout": "wait"})
        with pytest.raises(vm.BadArg, match="escalate_to"):
            agents.start(Clerk, {"model": scripted_model([]), "escalate_to": 42})
        with pytest.raises(vm.BadArg, match="approval id"):
            agents.approve(None)
        return agents.approve("nothing:here")

    assert run(main) == ("ignored", "unknown")


def test_a_durable_agent_restarted_while_waiting_still_waits_and_runs_the_call_once(tmp_path):
    path = str(tmp_path / "d.db")

    def main():
        REFUNDS.clear()
        spec = agents.child_spec(Clerk, {"model": refund_model(400, "o-4"), "store": path,
                                         "durable": True}, name="clerk")
        supervisor.start_link_children([spec], strategy="one_for_one")
        req = agents.send_ask("clerk", "refund 400", request_id="R-4", timeout=900)
        aid = wait_for_approval()[0]["id"]
        vm.exit(vm.whereis("clerk"), "kill")  # killed while it waits
        agents.receive_answer(req, 5)
        vm.sleep(0.1)
        waiting = agents.status("clerk")["state"], [p["id"] for p in agents.approvals()]
        first = agents.approve(aid, by="bob")
        answer = agents.ask("clerk", "refund 400", request_id="R-4", timeout=900)
        return aid, waiting, first, answer, list(REFUNDS)

    aid, waiting, first, answer, refunds = run(main)
    assert waiting == ("awaiting_approval", [aid]) and first == "ok"
    assert answer == "told: o-4: paid" and refunds == [("o-4", 400)]
