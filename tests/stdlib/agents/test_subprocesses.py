"""Tools that must be killable: worker OS processes (vm.to_process) and command
tools (ports). Killing the call, or its agent, leaves no OS process behind.

These run on the real clock (they start OS processes); the waits for a killed
process to be gone are bounded polls, never timing assertions.
"""

import os
import time

import pytest

import vm
from stdlib import agents
from stdlib.agents import reply, scripted_model, tool_call, tool_call_step


def children():
    """Live (not zombie) OS processes whose parent is this one."""
    me = str(os.getpid())
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/status") as f:
                fields = dict(line.split(":\t", 1) for line in f.read().splitlines()
                              if ":\t" in line)
        except OSError:
            continue
        if fields.get("PPid", "").strip() == me and not fields.get("State", "").startswith("Z"):
            found.append(int(pid))
    return found


def settle_children(expected, limit=10.0):
    """Poll (bounded) until the number of live child processes is `expected`."""
    end = time.monotonic() + limit
    while len(children()) != expected and time.monotonic() < end:
        vm.sleep(0.02)
    return len(children())


def sleepy(seconds: float) -> str:
    """Sleep in a worker OS process (a blocking call no thread could be stopped in)."""
    time.sleep(seconds)
    return "woke"


def long_sleep(seconds: float) -> str:
    """Sleep in a worker OS process, with no timeout of its own."""
    time.sleep(seconds)
    return "woke"


stuck = agents.tool(sleepy, name="stuck", blocking="process", timeout=0.5)
agents.tool(long_sleep, blocking="process", timeout=None)
nap = agents.command_tool("nap", ["sleep", "{seconds}"], timeout=0.5)
echo = agents.command_tool("echo", ["printf", "%s\\n", "{word}"])
fail = agents.command_tool("fail", ["sh", "-c", "echo broken >&2; exit 3"])
hang = agents.command_tool("hang", ["sleep", "{seconds}"], timeout=None)


class Worker(agents.Agent):
    tools = [stuck, nap, echo, fail, hang, long_sleep]


def start(steps):
    return agents.start(Worker, {"model": scripted_model(steps)})


def test_a_process_tool_is_killed_at_its_timeout():
    def main():
        before = len(children())
        a = start([tool_call_step(tool_call("stuck", {"seconds": 60})), "gave up"])
        answer = agents.ask(a, "go", timeout=30)
        told = agents.history(a)[2]["content"]
        return before, answer, told, settle_children(before)

    before, answer, told, after = vm.run(main)
    assert answer == "gave up" and "did not finish within 0.5 s" in told
    assert after == before


def test_a_command_tool_is_killed_at_its_timeout():
    def main():
        before = len(children())
        a = start([tool_call_step(tool_call("nap", {"seconds": "60"})), "gave up"])
        answer = agents.ask(a, "go", timeout=30)
        return before, answer, agents.history(a)[2]["content"], settle_children(before)

    before, answer, told, after = vm.run(main)
    assert answer == "gave up" and "did not finish within 0.5 s" in told and after == before


def test_command_tools_report_output_and_failures():
    def main():
        a = start([tool_call_step([tool_call("echo", {"word": "-n hello"}),
                                   tool_call("fail", {})]), "ok"])
        agents.ask(a, "go", timeout=30)
        return [m["content"] for m in agents.history(a) if m["role"] == "tool"]

    out, failed = vm.run(main)
    assert out == "-n hello\n"  # one argument, passed as is: no shell
    assert failed.startswith("error: CommandFailed: sh exited with status 3") and "broken" in failed


@pytest.mark.parametrize("tool", ["long_sleep", "hang"])
def test_an_agent_killed_mid_tool_call_leaves_no_os_process(tool):
    def main():
        before_procs = set(vm.processes())
        before = len(children())
        a = start([tool_call_step(tool_call(tool, {"seconds": 60 if tool == "long_sleep"
                                                   else "60"})), reply("never")])
        vm.spawn(lambda: agents.ask(a, "go", timeout=60))
        during = settle_children(before + 1)
        vm.exit(a, "kill")
        after = settle_children(before)
        vm.sleep(0.05)
        left = set(vm.processes()) - before_procs
        left = {p for p in left if vm.process_info(p, "label") is None
                or "pool" not in str(vm.process_info(p, "label"))}
        return before, during, after, left

    before, during, after, left = vm.run(main)
    assert during == before + 1  # the worker (or the command) was running
    assert after == before  # and is gone with the agent
    assert left == set()
