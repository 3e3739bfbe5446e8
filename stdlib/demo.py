"""`beamlet demo`: a short showcase of the process VM.

What this module owns: a scripted tour that prints what happens, one line
per event, and works the same in a terminal and in a pipe (no cursor
movement, no colour unless stdout is a terminal).
"""

from __future__ import annotations

import sys
import time

import vm


def _say(text, style=None):
    if style and sys.stdout.isatty():
        codes = {"head": "1;36", "good": "32", "bad": "31", "dim": "2"}
        text = f"\033[{codes[style]}m{text}\033[0m"
    print(text, flush=True)


def _worker(n):
    """A worker that crashes on its third job if n is odd."""
    done = 0
    while True:
        msg = vm.receive()
        if msg == "stop":
            return
        job, sender = msg
        done += 1
        if n % 2 and done == 3:
            raise RuntimeError(f"worker {n} choked on job {job}")
        vm.send(sender, ("done", vm.self(), job))


def _hog(deadline):
    n = 0
    while vm.monotonic() < deadline:
        n += 1
        vm.bump_reductions(1)  # until compiled-in reduction checks land, count by hand
    return n


def _show_table():
    rows = []
    for pid in vm.processes():
        info = vm.process_info(pid, ["status", "message_queue_len", "reductions", "current_function"])
        if info is None:
            continue
        cf = info["current_function"]
        rows.append((pid, info["status"], info["message_queue_len"], info["reductions"],
                     "%s.%s/%d" % cf if cf else "-"))
    _say(f"  {'pid':<10} {'status':<9} {'msgq':>4} {'reds':>7}  current function", "dim")
    for pid, status, mq, reds, cf in rows:
        _say(f"  {pid!r:<10} {status:<9} {mq:>4} {reds:>7}  {cf}")


def _tour(seconds):
    me = vm.self()
    _say(f"beamlet demo: the shell process is {me!r}", "head")

    _say("\n1. Spawn four workers, linked to us; we trap exits so a crash becomes a message.", "head")
    vm.process_flag("trap_exit", True)
    workers = {vm.spawn_link(_worker, n): n for n in range(4)}
    for pid, n in workers.items():
        _say(f"  spawned worker {n} as {pid!r}")

    _say("\n2. Send each worker three jobs; odd workers crash on their third.", "head")
    for job in range(3):
        for pid in workers:
            vm.send(pid, (job, me))
    replies = crashes = 0
    while replies + crashes < 12:
        match vm.receive(timeout=2.0):
            case ("done", pid, job):
                replies += 1
                _say(f"  {pid!r} finished job {job}", "good")
            case ("EXIT", pid, vm.Crash() as reason):
                crashes += 1
                _say(f"  {pid!r} crashed: {reason.exc_type}: {reason.message}", "bad")
                _say(f"    -> we got ('EXIT', {pid!r}, Crash(...)) because we trap exits")
            case vm.TIMEOUT:
                break

    _say("\n3. The process table right now:", "head")
    _show_table()

    _say("\n4. Monitor a worker and stop it: a DOWN message arrives.", "head")
    survivor = next(pid for pid in workers if vm.is_process_alive(pid))
    ref = vm.monitor(survivor)
    vm.send(survivor, "stop")
    down = vm.receive(("DOWN", ref, vm.ANY, vm.ANY, vm.ANY))
    _say(f"  {down!r}")

    _say("\n5. Preemption by reductions: two busy processes share the scheduler.", "head")
    deadline = vm.monotonic() + min(1.0, seconds / 3)
    hogs = [vm.spawn_monitor(_hog, deadline) for _ in range(2)]
    for pid, ref in hogs:
        vm.receive(("DOWN", ref, vm.ANY, vm.ANY, vm.ANY))
    stats = vm.statistics()
    _say(f"  context switches so far: {stats['context_switches']}, reductions: {stats['reductions']}")

    _say("\n6. kill is untrappable: exit(pid, 'kill') ends any process.", "head")
    stubborn = vm.spawn(_stubborn)
    vm.sleep(0.01)
    ref = vm.monitor(stubborn)
    vm.exit(stubborn, "kill")
    _, _, _, _, reason = vm.receive(("DOWN", ref, vm.ANY, vm.ANY, vm.ANY))
    _say(f"  the stubborn process died with reason {reason!r}")
    _say("\nDone. Try `beamlet run examples/ping_pong.py`.", "head")


def _stubborn():
    vm.process_flag("trap_exit", True)
    while True:
        vm.receive()


def run_demo(seconds: float = 3.0) -> None:
    t0 = time.monotonic()
    vm.run(_tour, seconds)
    _say(f"(ran in {time.monotonic() - t0:.2f} s)", "dim")
