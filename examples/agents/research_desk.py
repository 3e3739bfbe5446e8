"""A supervised research desk: agents as processes, on the scripted model.

    beamlet run examples/agents/research_desk.py

runs with no network and no key: every agent plays a small deterministic
"brain" through the scripted model. With OPENAI_BASE_URL set (and
OPENAI_API_KEY, BEAMLET_MODEL as your server needs), the same desk talks
to that OpenAI-compatible endpoint instead (see README.md here).

The tree (one_for_one, at most 3 restarts in 60 s):

    desk (supervisor)
    |-- desk_budget      one budget process the whole desk draws on
    |-- researcher       tools over knowledge.md, a flaky tool, a slow tool
    |-- triage           hands questions to the researcher (through a tool)
    `-- runaway          a model that never stops asking for tools

What it shows, in order:
1. triage asks the researcher through a tool (an agent asking an agent);
2. a flaky tool whose policy is "crash" takes the researcher down, and the
   supervisor restarts it (the asker gets the reason, not silence);
3. a slow tool is killed at its 2 s timeout, and the model is told so;
4. the runaway agent is stopped by its budget, naming what ran out;
5. the books of the shared budget, with every call counted once.
"""

import logging
import os
import re

import vm
from stdlib import agents, supervisor
from stdlib.agents import reply, tool_call, tool_call_step

HERE = os.path.dirname(os.path.abspath(__file__))
NOTES = os.path.join(HERE, "knowledge.md")
REAL_MODEL = bool(os.environ.get("OPENAI_BASE_URL"))


# ----------------------------------------------------------------------
# tools


def _notes():
    with open(NOTES, encoding="utf-8") as f:
        text = f.read()
    return {title.strip(): body.strip()
            for title, body in re.findall(r"^# ([^\n]+)\n(.*?)(?=^# |\Z)", text, re.M | re.S)}


@agents.tool
def search_notes(query: str) -> list:
    """Search the desk's knowledge file.

    Args:
        query: a word or two to look for in the notes' titles and text
    """
    words = [w for w in re.findall(r"\w+", query.lower()) if len(w) > 2]
    scored = sorted(((sum(w in (t + " " + b).lower() for w in words), t)
                     for t, b in _notes().items()), reverse=True)
    return [t for score, t in scored if score][:3]


@agents.tool
def read_note(title: str) -> str:
    """Read one note of the knowledge file by its title."""
    notes = _notes()
    if title not in notes:
        raise KeyError(f"no note titled {title!r}; titles: {', '.join(notes)}")
    return notes[title]


@agents.tool(policy="crash")
def flaky_lookup(term: str) -> str:
    """Look a term up in the (unreliable) external glossary."""
    if "flaky" in term:
        raise ConnectionResetError("glossary connection reset (password=swordfish)")
    return f"{term}: see the notes"


@agents.tool(timeout=2.0)
def slow_archive(query: str) -> str:
    """Search the archive (slow)."""
    vm.sleep(30)
    return f"archived results for {query}"


@agents.tool
def ask_researcher(question: str) -> str:
    """Hand a question to the researcher agent and return its answer."""
    return agents.ask("researcher", question, timeout=20,
                      metadata=agents.current_request()["metadata"])


@agents.tool
def dig(depth: int) -> str:
    """Dig one level deeper."""
    return f"level {depth}: nothing yet, dig deeper"


# ----------------------------------------------------------------------
# scripted brains (used when no endpoint is configured)


def _last(request, role):
    return next((m for m in reversed(request["messages"]) if m["role"] == role), {})


def researcher_brain(request):
    last = request["messages"][-1]
    question = _last(request, "user").get("content", "")
    if last["role"] == "user":
        if "flaky" in question:
            return tool_call_step(tool_call("flaky_lookup", {"term": "flaky term"}))
        if "archive" in question:
            return tool_call_step(tool_call("slow_archive", {"query": question}))
        topic = max(re.findall(r"\w+", question), key=len)  # the longest word
        return tool_call_step(tool_call("search_notes", {"query": topic}), latency=0.2)
    if last.get("name") == "search_notes":
        titles = re.findall(r'"([^"]+)"', last["content"])
        if titles:
            return tool_call_step(tool_call("read_note", {"title": titles[0]}), latency=0.2)
        return reply("The notes say nothing about that.")
    if last.get("name") == "read_note":
        return reply(f"From the notes: {last['content']}", latency=0.2)
    return reply(f"I could not finish: {last['content']}")


def triage_brain(request):
    last = request["messages"][-1]
    if last["role"] == "user":
        return tool_call_step(tool_call("ask_researcher", {"question": last["content"]}),
                              latency=0.1)
    return reply(f"The research desk says: {last['content']}", latency=0.1)


def runaway_brain(request):
    depth = sum(1 for m in request["messages"] if m["role"] == "tool")
    return tool_call_step(tool_call("dig", {"depth": depth + 1}), latency=0.05)


def model_for(brain):
    prices = {"input": 0.15, "output": 0.60}  # per million tokens, for the books
    if REAL_MODEL:
        return agents.default_model(price=prices)
    return agents.scripted_model([brain], when_exhausted="repeat_last", price=prices)


# ----------------------------------------------------------------------
# the agents


class Researcher(agents.Agent):
    instructions = ("You answer questions from the desk's notes: search them, read the best "
                    "note, answer in two sentences. Use flaky_lookup for glossary terms and "
                    "slow_archive when asked about the archive.")
    tools = [search_notes, read_note, flaky_lookup, slow_archive]
    limits = {"steps": 6}


class Triage(agents.Agent):
    instructions = "You pass every question to the researcher and report its answer briefly."
    tools = [ask_researcher]
    limits = {"steps": 3}


class Runaway(agents.Agent):
    instructions = "Call dig with depth one more than before, forever."
    tools = [dig]
    loop_threshold = None  # it never repeats itself exactly: only the budget can stop it
    on_budget_exhausted = "stop_agent"


def desk_children():
    return [
        agents.budget.child_spec({"model_calls": 40, "cost": 0.05}, name="desk_budget"),
        agents.child_spec(Researcher, {"model": model_for(researcher_brain),
                                       "budget": "desk_budget"}, name="researcher"),
        agents.child_spec(Triage, {"model": model_for(triage_brain), "budget": "desk_budget"},
                          name="triage"),
        agents.child_spec(Runaway, {"model": model_for(runaway_brain),
                                    "budget": {"model_calls": 6, "parent": "desk_budget"}},
                          name="runaway"),
    ]


# ----------------------------------------------------------------------
# the session


def ask(out, who, question, **opts):
    out(f"\n[{who}] Q: {question}")
    try:
        answer = agents.ask(who, question, **opts)
        out(f"[{who}] A: {answer}")
        return ("ok", answer)
    except agents.AgentError as e:
        out(f"[{who}] failed: {e}")
        return ("error", e.reason)


class SupervisorLines(logging.Handler):
    """Show each supervisor report as one line (the full reports are long)."""

    def __init__(self, out):
        super().__init__()
        self.out = out

    def emit(self, record):
        r = getattr(record, "report", None) or {}
        if r.get("label") == "supervisor_report":
            reason = r.get("reason")
            what = reason[0] if type(reason) is tuple else reason
            self.out(f"  [supervisor {r.get('supervisor')}] {r.get('errorContext')}: "
                     f"{r['offender']['id']} exited with {what}; restarting it")


def run_desk(out=print):
    """Run the whole session; returns what happened, for the tests."""
    otp_log = logging.getLogger("beamlet.otp")
    handler = SupervisorLines(out)
    otp_log.addHandler(handler)
    otp_log.propagate = False
    try:
        return _session(out)
    finally:
        otp_log.removeHandler(handler)
        otp_log.propagate = True


def _session(out):
    out("research desk on " + ("an OpenAI-compatible endpoint" if REAL_MODEL
                               else "the scripted model (set OPENAI_BASE_URL for a real one)"))
    sup = supervisor.start_link_children(desk_children(), strategy="one_for_one",
                                         intensity=3, period=60, name="desk")[1]
    seen = {}
    seen["triage"] = ask(out, "triage", "What does a supervisor do?",
                         metadata={"ticket": "T-1"})
    before = vm.whereis("researcher")
    seen["flaky"] = ask(out, "researcher", "Look up a flaky term")
    vm.sleep(0.1)
    after = vm.whereis("researcher")
    seen["restarted"] = before != after and after is not None
    if seen["restarted"]:
        out(f"  researcher {before} crashed; the supervisor restarted it as {after}")
    else:
        out(f"  researcher {before} did not crash (its model did not call the flaky tool)")
    seen["slow"] = ask(out, "researcher", "What is in the archive?")
    seen["slow_told"] = [m["content"] for m in agents.history("researcher")
                         if m["role"] == "tool"]
    seen["runaway"] = ask(out, "runaway", "Dig until you find something.")
    vm.sleep(0.1)
    books = agents.budget.usage("desk_budget")
    used = books["used"]
    out(f"\ndesk budget: {used['model_calls']} model calls, {used['tool_calls']} tool calls, "
        f"{used['input_tokens']} in / {used['output_tokens']} out tokens, "
        f"${used['cost']:.6f}; nothing left reserved: {books['open_reservations'] == 0}")
    seen["books"] = books
    vm.unlink(sup)
    vm.exit(sup, "shutdown")
    return seen


def main():
    run_desk()
