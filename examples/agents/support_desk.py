"""A support desk: traced, audited, durable agents with a human in the loop.

    beamlet run examples/agents/support_desk.py [DIR]

runs with no network and no key (each agent plays a small deterministic
"brain" on the scripted model; with OPENAI_BASE_URL set the same desk talks
to that OpenAI-compatible endpoint, see README.md here). It writes its store
(`desk.db`: audit trail, journals, approvals) and its spans
(`spans.jsonl`) to DIR (default: a new temporary directory), and prints
where, so you can look afterwards:

    beamlet audit DIR/desk.db --kind approval
    beamlet approvals --store DIR/desk.db

The tree (one_for_one):

    desk (supervisor)
    |-- the store          one writer for desk.db (audit trail, journals, approvals)
    |-- escalation         the handler approvals escalate to when nobody answers
    |-- billing            orders and refunds; a refund above 100 needs approval
    |-- shipping           tracks parcels with a slow carrier call; durable
    `-- triage             hands each ticket to billing or shipping (through tools)

What it shows, in order:
1. a refund that needs approval: the ticket's agents wait (hibernated) until
   a manager approves it, then the refund runs; the whole ticket is one trace;
2. a refund nobody answers: after its timeout it escalates to the
   supervisor's handler, which refuses it (the model is told why);
3. an agent killed mid-work: shipping is killed while the carrier is being
   called; its supervisor restarts it and it resumes from its journal, not
   from the start, and asking again with the same request id gets the answer;
4. the audit trail verified (a hash chain: any change would be detected);
5. the first ticket's trace drawn as a sequence diagram across agents and tools.
"""

import os
import re
import shutil
import tempfile

import vm
from stdlib import agents, supervisor
from stdlib.agents import observe, reply, tool_call, tool_call_step
from stdlib.observer.crashlog import install_short_reports, remove_short_reports

REAL_MODEL = bool(os.environ.get("OPENAI_BASE_URL"))
ORDERS = {"1042": {"item": "a kettle", "paid": 250}, "2077": {"item": "a sofa", "paid": 1800},
          "3001": {"item": "a lamp", "paid": 40}}


# ----------------------------------------------------------------------
# tools


@agents.tool
def lookup_order(order: str) -> str:
    """Look an order up: what was bought and what was paid."""
    o = ORDERS.get(order)
    if o is None:
        raise KeyError(f"no order {order}")
    return f"order {order}: {o['item']}, paid {o['paid']}"


def refund_rule(arguments):
    """Refunds above 100 wait for a person."""
    amount = arguments["amount"]
    return amount > 100 and f"a refund of {amount} is above 100"


@agents.tool(approval=refund_rule)
def refund(order: str, amount: int) -> str:
    """Refund (part of) an order to the customer's card."""
    vm.send("desk_log", ("refunded", order, amount))
    return f"refunded {amount} on order {order}"


@agents.tool
def locate_parcel(order: str) -> str:
    """Where the parcel of an order was last scanned."""
    vm.sleep(0.2)
    vm.send("desk_log", ("ran", "locate_parcel"))
    return f"the parcel of order {order} was scanned in Lyon yesterday"


@agents.tool(on_interrupted="retry")
def contact_carrier(order: str) -> str:
    """Ask the carrier for a delivery date (slow; asking twice is harmless)."""
    vm.sleep(1.5)
    vm.send("desk_log", ("ran", "contact_carrier"))
    return f"the carrier will deliver order {order} on Friday"


@agents.tool
def ask_billing(question: str) -> str:
    """Hand a billing question (orders, refunds) to the billing agent."""
    return agents.ask("billing", question, timeout=60)


@agents.tool
def ask_shipping(question: str) -> str:
    """Hand a shipping question (parcels, deliveries) to the shipping agent."""
    return agents.ask("shipping", question, timeout=60)


# ----------------------------------------------------------------------
# scripted brains (used when no endpoint is configured)


def _user(request):
    return next(m["content"] for m in reversed(request["messages"]) if m["role"] == "user")


def _since_user(request):
    """The tool results of the current request, by tool name."""
    out = {}
    for m in reversed(request["messages"]):
        if m["role"] == "user":
            break
        if m["role"] == "tool":
            out[m["name"]] = m["content"]
    return out


def triage_brain(request):
    done = _since_user(request)
    if done:
        return reply("The desk says: " + next(iter(done.values())))
    question = _user(request)
    tool = "ask_shipping" if re.search(r"parcel|deliver", question) else "ask_billing"
    return tool_call_step(tool_call(tool, {"question": question}))


def billing_brain(request):
    question, done = _user(request), _since_user(request)
    order = re.search(r"\d{4}", question).group(0)
    if "lookup_order" not in done:
        return tool_call_step(tool_call("lookup_order", {"order": order}))
    if "refund" not in done:
        paid = int(re.search(r"paid (\d+)", done["lookup_order"]).group(1))
        return tool_call_step(tool_call("refund", {"order": order, "amount": paid}))
    return reply(done["refund"].replace("error: ", ""))


def shipping_brain(request):
    order = re.search(r"\d{4}", _user(request)).group(0)
    done = _since_user(request)
    if "locate_parcel" not in done:
        return tool_call_step(tool_call("locate_parcel", {"order": order}))
    if "contact_carrier" not in done:
        return tool_call_step(tool_call("contact_carrier", {"order": order}))
    return reply(f"{done['locate_parcel']}; {done['contact_carrier']}")


def model_for(brain):
    if REAL_MODEL:
        return agents.default_model()
    return agents.scripted_model([brain], when_exhausted="repeat_last")


# ----------------------------------------------------------------------
# the agents


class Triage(agents.Agent):
    instructions = "You pass each ticket to billing or shipping and report their answer."
    tools = [ask_billing, ask_shipping]
    audit = True


class Billing(agents.Agent):
    instructions = ("You handle orders and refunds. Look the order up, then refund what was "
                    "paid when the customer asks for a refund.")
    tools = [lookup_order, refund]
    audit = True
    approval_timeout = 1.0  # a demo: real desks wait longer before escalating


class Shipping(agents.Agent):
    instructions = "You find parcels: locate it, then ask the carrier for a delivery date."
    tools = [locate_parcel, contact_carrier]
    audit = True
    durable = True  # its journal lets it resume after a crash


def escalate(approval):
    """The supervisor's escalation handler: nobody answered in time."""
    vm.send("desk_log", ("escalated", approval["id"]))
    return ("refuse", "no manager answered in time; refunds above 100 need one")


def desk_children(store_path):
    return [
        agents.store.child_spec(store_path),
        agents.escalation_handler(escalate),
        agents.child_spec(Billing, {"model": model_for(billing_brain), "store": store_path},
                          name="billing"),
        agents.child_spec(Shipping, {"model": model_for(shipping_brain), "store": store_path},
                          name="shipping"),
        agents.child_spec(Triage, {"model": model_for(triage_brain), "store": store_path},
                          name="triage"),
    ]


# ----------------------------------------------------------------------
# the session


def log_keeper():
    vm.register("desk_log", vm.self())
    seen = []
    while True:
        msg = vm.receive()
        if type(msg) is tuple and msg[0] == "dump":
            vm.send(msg[1], ("log", list(seen)))
        else:
            seen.append(msg)


def desk_log():
    vm.send("desk_log", ("dump", vm.self()))
    return vm.receive(("log", vm.ANY))[1]


def wait_for_approval():
    for _ in range(200):
        pending = agents.approvals()
        if pending:
            return pending[0]
        vm.sleep(0.02)
    return None


def run_desk(directory=None, out=print):
    """Run the whole session; returns what happened, for the tests."""
    reports = install_short_reports()  # the supervisor's report of the kill, on one line
    try:
        return _session(directory, out)
    finally:
        remove_short_reports(reports)


def _session(directory, out):
    directory = directory or tempfile.mkdtemp(prefix="support-desk-")
    os.makedirs(directory, exist_ok=True)
    store_path = os.path.join(directory, "desk.db")
    spans_path = os.path.join(directory, "spans.jsonl")
    for stale in (store_path, store_path + "-wal", store_path + "-shm", spans_path):
        if os.path.exists(stale):
            os.remove(stale)
    out("support desk on " + ("an OpenAI-compatible endpoint" if REAL_MODEL
                              else "the scripted model (set OPENAI_BASE_URL for a real one)"))
    out(f"store {store_path}, spans {spans_path}")
    vm.spawn_link(log_keeper)
    agents.tracing.start(spans_path)
    sup = supervisor.start_link_children(desk_children(store_path), strategy="one_for_one",
                                         intensity=5, period=60, name="desk")[1]
    seen = {"directory": directory, "store": store_path, "spans": spans_path}

    out("\n1. Ticket T-1: a refund that needs a manager's approval")
    with agents.span("ticket T-1", ticket="T-1") as ticket:
        req = agents.send_ask("triage", "Please refund order 1042, the kettle leaks.",
                              principal="customer-ada", timeout=60)
        pending = wait_for_approval()
        out(f"   waiting for approval {pending['id']}: {pending['why']} "
            f"(asked by {pending['principal']}); billing is "
            f"{agents.status('billing')['state']}")
        out(f"   manager bob approves: {agents.approve(pending['id'], by='manager-bob')}")
        answer = agents.receive_answer(req, 30)
    out(f"   [triage] {answer[1]}")
    seen["t1"], seen["t1_trace"] = answer, ticket.trace_id

    out("\n2. Ticket T-2: a refund nobody answers")
    answer = agents.receive_answer(agents.send_ask(
        "triage", "Refund order 2077 please, the sofa is too big.", principal="customer-bo",
        timeout=60), 30)
    out(f"   after {Billing.approval_timeout} s the approval escalated to the supervisor's "
        f"handler, which refused it\n   [triage] {answer[1]}")
    seen["t2"] = answer

    out("\n3. Ticket T-3: shipping is killed while it calls the carrier")
    req = agents.send_ask("shipping", "Where is the parcel of order 3001?",
                          principal="customer-cy", request_id="T-3", timeout=60)
    vm.sleep(0.6)  # the parcel is located; the carrier call is running
    before = vm.whereis("shipping")
    vm.exit(before, "kill")
    out(f"   killed shipping {before}: the asker gets {agents.receive_answer(req, 5)[1][0]}")
    vm.sleep(0.1)
    after = vm.whereis("shipping")
    out(f"   the supervisor restarted it as {after}; it resumed request T-3 from its journal")
    answer = agents.ask("shipping", "Where is the parcel of order 3001?", request_id="T-3",
                        principal="customer-cy", timeout=60)
    ran = [m[1] for m in desk_log() if m[0] == "ran"]
    out(f"   asking again with request id T-3: {answer}")
    out(f"   tools run to their end: {ran} (locate_parcel once: it was in the journal; the "
        "carrier call, killed mid-way, was retried as its tool allows)")
    seen["t3"], seen["t3_ran"], seen["restarted"] = answer, ran, before != after

    out("\n4. The audit trail")
    agents.store.sync(store_path)
    verdict = agents.audit.verify(store_path)
    records = agents.audit.query(store_path)
    kinds = {}
    for r in records:
        kinds[r["kind"]] = kinds.get(r["kind"], 0) + 1
    out(f"   {verdict['records']} records, the chain "
        f"{'verifies' if verdict['ok'] else 'is BROKEN: ' + str(verdict['broken'])}; "
        f"by kind: {kinds}")
    for r in agents.audit.query(store_path, kind="approval"):
        out("   " + agents.audit.format_record(r, 150))
    out(f"   check it yourself: beamlet audit {store_path}")
    seen["audit"], seen["records"] = verdict, records

    out("\n5. Ticket T-1's trace, across agents and tools")
    agents.tracing.flush()
    view = observe.trace_view(seen["t1_trace"], width=shutil.get_terminal_size((150, 40))[0])
    out(view.text)
    seen["trace"] = view.data
    seen["log"] = desk_log()
    agents.tracing.stop()
    vm.unlink(sup)
    vm.exit(sup, "shutdown")
    return seen


def main(args):
    run_desk(args[0] if args else None)
