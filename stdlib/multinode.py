"""`beamlet run --nodes N`: N connected local nodes, one OS process each.

What this module owns: starting the N-1 other nodes (`beamlet run FILE
--sname NAME2 ...`, each loading FILE and running its `worker_node()`, or
staying up when it has none), connecting the first node to all of them
before its `main` runs, and stopping them when it ends. Their cookie
travels in the environment (`ERLANG_COOKIE`), never on a command line
that `ps` would show.

A Python node uses one core (one interpreter lock per OS process), so N
nodes on N cores is how a beamlet program uses a whole machine.

What it refuses: placing work. The program decides what runs where, by
sending to names on the other nodes (see examples/work_queue.py).
"""

from __future__ import annotations

import os
import secrets
import string
import subprocess
import sys
import time

import vm

CONNECT_WITHIN = 20.0  # seconds for the other nodes to come up


def fresh_cookie() -> str:
    return "".join(secrets.choice(string.ascii_uppercase) for _ in range(20))


def start_others(path, n, sname, name, cookie, listen, instrument):
    """Start nodes 2..n; returns [(node name, Popen)]."""
    from vm.dist.kernel import full_name

    base = sname if sname is not None else name
    longnames = sname is None
    stem, _, host = base.partition("@")
    others = []
    for i in range(2, n + 1):
        child = f"{stem}{i}" + (f"@{host}" if host else "")
        cmd = [sys.executable, "-m", "stdlib.cli", "run", path, "--entry", "worker_node",
               "--sname" if not longnames else "--name", child]
        if listen:
            cmd += ["--listen", listen]
        for mod in instrument:
            cmd += ["--instrument", mod]
        env = dict(os.environ, ERLANG_COOKIE=cookie)
        proc = subprocess.Popen(cmd, env=env, stdin=subprocess.DEVNULL)
        others.append((full_name(child, longnames), proc))
    return others


def connected_first(main, names):
    """Wrap `main` so that it runs once this node is connected to every other node."""

    def first(*args, **kwargs):
        from vm import dist

        deadline = time.monotonic() + CONNECT_WITHIN
        for node in names:
            while not dist.connect(node):
                if time.monotonic() > deadline:
                    raise vm.Exit(("nodes_not_up", node))
                vm.sleep(0.1)
        return main(*args, **kwargs)

    return first


def stop_others(others):
    for _name, proc in others:
        if proc.poll() is None:
            proc.terminate()
    for _name, proc in others:
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
