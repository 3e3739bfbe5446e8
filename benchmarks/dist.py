"""Distribution: cross-node ping-pong, and requests served by 1, 2, 4 nodes.

    beamlet bench dist [--quick]            (beside two erl nodes, in the same run)
    python -m benchmarks.dist [--quick]      (the same, this benchmark alone)

Every node is its own OS process; they talk over the Erlang distribution on
loopback TCP, through a port mapper started for the run (beamlet's own, on a
free port) and stopped after it.

- cross_node_round_trips_per_s: a process on the client node sends `(ping,
  self)` to a process on another node and waits for `pong`. beamlet: two
  beamlet nodes; Erlang (bl_dist.erl): two erl nodes, one scheduler each
  (+S 1:1, as a beamlet node runs one), in the same run. When `erl` is
  installed the beamlet run adds the mixed pairs as cases: a beamlet client
  with an erl node's ponger, and an erl client with a beamlet node's.
- served_per_s [N nodes]: the client node keeps `window` requests
  outstanding at each of N server nodes; each request costs its server
  `work` iterations of a Python loop (about 1 ms). Requests served per
  second, all servers together. The servers need CPU and the client little,
  so on a machine with C cores expect the figure to grow with N up to about
  C nodes and to stay flat beyond (more nodes than cores only add
  switching and messages): here, with 2 cores, 2 nodes serve about twice
  what 1 does, and 4 about what 2 do.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import uuid

from .common import Figure, NotAvailable, Recorder, median, pc, runs_note

NAME = "dist"
FIGURES = (
    Figure("cross_node_round_trips_per_s", "rt/s", "higher",
           "request/reply round trips per second between processes on two nodes "
           "(two OS processes, over the distribution on loopback)"),
    Figure("served_per_s", "req/s", "higher",
           "requests (each about 1 ms of server CPU) served per second by N server nodes "
           "to one client node"),
)


def params(quick: bool) -> dict:
    if quick:
        return {"rounds": 3_000, "reps": 3, "nodes": [1, 2, 4], "seconds": 1.0, "window": 8,
                "work": 20_000}
    return {"rounds": 20_000, "reps": 3, "nodes": [1, 2, 4], "seconds": 4.0, "window": 8,
            "work": 20_000}


# ------------------------------------------------------------------ the server nodes

PING, PONG, WORK, DONE = "ping", "pong", "work", "done"
ERL = shutil.which("erl")
ERL_PONGER = ("Loop = fun(L) -> receive {ping, From} -> From ! pong, L(L); stop -> ok end end, "
              "register(ponger, spawn(fun() -> Loop(Loop) end)), receive never -> ok end.")


def erl_pinger(target: str, rounds: int, reps: int) -> str:
    """An erl node's -eval: ping-pong with `{ponger, target}`, printing the rates."""
    return (
        f"Target = {{ponger, '{target}'}}, pong = net_adm:ping('{target}'), "
        "Run = fun(N) -> Loop = fun(_, 0) -> ok; (L, K) -> Target ! {ping, self()}, "
        "receive pong -> L(L, K - 1) end end, "
        "T0 = erlang:monotonic_time(microsecond), Loop(Loop, N), "
        "N / ((erlang:monotonic_time(microsecond) - T0) / 1.0e6) end, "
        f"Run(500), Rates = [Run({rounds}) || _ <- lists:seq(1, {reps})], "
        "io:format(\"~p~n\", [Rates]), halt().")


def ponger():
    import vm

    vm.register("ponger", vm.self())
    ping, pong = vm.Atom(PING), vm.Atom(PONG)
    while True:
        msg = vm.receive()
        if msg == "stop":
            return
        if type(msg) is tuple and msg[0] == ping:
            vm.send(msg[1], pong)


def worker():
    import vm

    vm.register("worker", vm.self())
    done = vm.Atom(DONE)
    while True:
        _tag, sender, index, work = vm.receive()
        x = 0
        for k in range(work):
            x += k
        vm.send(sender, (done, index))


def serve():
    """A server node's main: a ponger and a worker, until the node is stopped."""
    import vm

    vm.spawn(ponger)
    vm.spawn(worker)
    vm.receive(lambda m: False)


# ------------------------------------------------------------------ the client node

def _connect(node: str, deadline: float) -> None:
    """Wait until `node` has started, registered and answers."""
    import vm
    from vm import dist

    while dist.ping(node, timeout=2.0) != "pong":
        if time.monotonic() > deadline:
            raise NotAvailable(f"the server node {node} did not come up")
        vm.sleep(0.05)


def _round_trips(dest, rounds: int) -> float:
    import vm

    me, ping = vm.self(), vm.Atom(PING)
    t0 = pc()
    for _ in range(rounds):
        vm.send(dest, (ping, me))
        vm.receive(PONG)
    return rounds / (pc() - t0)


def _served(servers: list, p: dict) -> float:
    """Requests served per second by `servers`, `window` outstanding at each."""
    import vm

    me, work = vm.self(), vm.Atom(WORK)
    dests = [("worker", node) for node in servers]
    for i, dest in enumerate(dests):
        for _ in range(p["window"]):
            vm.send(dest, (work, me, i, p["work"]))
    served = 0
    t0 = pc()
    deadline = t0 + p["seconds"]
    while True:
        _done, i = vm.receive()
        served += 1
        if pc() >= deadline:
            break
        vm.send(dests[i], (work, me, i, p["work"]))
    elapsed = pc() - t0
    for _ in range(len(dests) * p["window"] - 1):  # the ones still out: drain them
        vm.receive(timeout=60)
    return served / elapsed


def client_main(p: dict, servers: list, erl_node) -> dict:
    deadline = time.monotonic() + 60
    for node in servers + ([erl_node] if erl_node else []):
        _connect(node, deadline)
    out = {}
    for key, node in [("round_trips", servers[0]), ("to_erl", erl_node)]:
        if node:
            _round_trips(("ponger", node), 500)  # warm-up
            out[key] = [_round_trips(("ponger", node), p["rounds"]) for _ in range(p["reps"])]
    for n in p["nodes"]:
        _served(servers[:n], dict(p, seconds=min(0.3, p["seconds"])))  # warm-up
        out[n] = _served(servers[:n], p)
    return out


def run_beamlet(p):
    from vm.dist import epmd
    from vm.dist.epmd_daemon import ensure_running

    from .beamlet_support import require_vm

    vm = require_vm()
    port = _free_port()
    started = ensure_running(port) == "started"
    cookie = uuid.uuid4().hex
    tag = uuid.uuid4().hex[:6]
    host = __import__("socket").gethostname().split(".")[0]
    names = [f"bsrv{tag}n{i}" for i in range(max(p["nodes"]))]
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, ERLANG_COOKIE=cookie, ERL_EPMD_PORT=str(port),
               PYTHONPATH=os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")])))
    procs = [subprocess.Popen([sys.executable, "-m", "benchmarks.dist", "--serve", name],
                              env=env, stdin=subprocess.DEVNULL, cwd=root)
             for name in names]
    erl_node = None
    if ERL:
        erl_node = f"epong{tag}@{host}"
        procs.append(subprocess.Popen(
            [ERL, "+S", "1:1", "-sname", erl_node, "-setcookie", cookie, "-noshell", "-hidden",
             "-start_epmd", "false", "-eval", ERL_PONGER], env=env, stdin=subprocess.DEVNULL))
    try:
        out = vm.run(client_main, p, [f"{n}@{host}" for n in names], erl_node,
                     sname=f"bcli{tag}", cookie=cookie, dist={"epmd_port": port})
        if ERL:
            out["from_erl"] = _erl_client(f"{names[0]}@{host}", p, cookie, env)
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if started:
            epmd.kill(epmd=port)
    rec = Recorder(NAME, "beamlet", p)
    rates = out["round_trips"]
    rec.add("cross_node_round_trips_per_s", median(rates), "rt/s",
            note=f"two beamlet nodes (one OS process each); {p['rounds']:,} round trips; "
                 + runs_note(rates))
    for key, case, who in [("to_erl", "beamlet -> erl node", "a beamlet client, an erl ponger"),
                           ("from_erl", "erl -> beamlet node", "an erl client, a beamlet ponger")]:
        if out.get(key):
            rec.add("cross_node_round_trips_per_s", median(out[key]), "rt/s", case=case,
                    note=f"{who}; {p['rounds']:,} round trips; " + runs_note(out[key]))
    one = out[p["nodes"][0]]
    for n in p["nodes"]:
        rec.add("served_per_s", out[n], "req/s", case=f"{n} node" + ("s" if n > 1 else ""),
                note=f"{out[n] / one:.2f}x the first row; window {p['window']} per node; "
                     f"{os.cpu_count()} cores; {p['seconds']} s")
    return rec.records


def _erl_client(target: str, p: dict, cookie: str, env: dict) -> list | None:
    """Rates an erl node gets pinging `target`'s ponger (None if erl failed)."""
    r = subprocess.run(
        [ERL, "+S", "1:1", "-sname", f"eping{uuid.uuid4().hex[:6]}", "-setcookie", cookie,
         "-noshell", "-hidden", "-start_epmd", "false", "-eval",
         erl_pinger(target, p["rounds"], p["reps"])],
        env=env, capture_output=True, text=True, timeout=300)
    try:
        return [float(x) for x in r.stdout.strip().strip("[]").split(",")]
    except ValueError:
        print(f"erl -> beamlet: erl said {r.stdout or r.stderr}", file=sys.stderr)
        return None


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--serve":
        import vm

        vm.run(serve, sname=sys.argv[2], cookie=os.environ["ERLANG_COOKIE"],
               dist={"epmd_port": int(os.environ["ERL_EPMD_PORT"])})
        sys.exit(0)
    from .cli import main_for

    main_for(NAME)
