"""Cross-node ping-pong: round trips per second between processes on two nodes.

    python -m benchmarks.dist_pingpong [--rounds 20000] [--reps 3]

In one run, on this machine, each pair is two OS processes talking over the
Erlang distribution (loopback TCP): beamlet -> beamlet, beamlet -> Erlang,
Erlang -> beamlet, and Erlang -> Erlang, plus beamlet's same-node ping-pong
for scale. Medians of `--reps` runs; the ratio is against Erlang -> Erlang
measured in the same run. Needs `erl` for the Erlang rows (skipped without).

What a round trip costs across nodes: encoding and decoding two terms, two
frames through the controller and reader processes of each connection, and
two loopback TCP hops.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
import uuid

ERL = shutil.which("erl")
PONG_ERL = ("Loop = fun(L) -> receive {ping, From} -> From ! pong, L(L); stop -> ok end end, "
            "register(ponger, spawn(fun() -> Loop(Loop) end)), receive never -> ok end.")


def _ping_erl(target: str, rounds: int, reps: int) -> str:
    return (
        f"Target = {{ponger, '{target}'}}, pong = net_adm:ping('{target}'), "
        "Run = fun(N) -> Loop = fun(_, 0) -> ok; (L, K) -> Target ! {ping, self()}, "
        "receive pong -> L(L, K - 1) end end, "
        "T0 = erlang:monotonic_time(microsecond), Loop(Loop, N), "
        "N / ((erlang:monotonic_time(microsecond) - T0) / 1.0e6) end, "
        f"Run(1000), Rates = [Run({rounds}) || _ <- lists:seq(1, {reps})], "
        "io:format(\"~p~n\", [Rates]), halt().")


# ------------------------------------------------------------------ beamlet sides

def beamlet_ponger():
    import vm

    vm.register("ponger", vm.self())
    ping = vm.Atom("ping")
    pong = vm.Atom("pong")
    while True:
        msg = vm.receive()
        if type(msg) is tuple and msg[0] == ping:
            vm.send(msg[1], pong)
        elif msg == "stop":
            return


def _rate(dest, rounds):
    import vm

    me, ping = vm.self(), vm.Atom("ping")
    t0 = time.perf_counter()
    for _ in range(rounds):
        vm.send(dest, (ping, me))
        vm.receive("pong")
    return rounds / (time.perf_counter() - t0)


def beamlet_pinger(targets, rounds, reps):
    import vm
    from vm import dist

    out = {}
    local = vm.spawn(beamlet_ponger)
    _rate(local, 1000)
    out["beamlet, same node"] = [_rate(local, rounds) for _ in range(reps)]
    for label, node in targets:
        if not dist.connect(node):
            continue
        dest = ("ponger", node)
        _rate(dest, 1000)
        out[label] = [_rate(dest, rounds) for _ in range(reps)]
    return out


# ------------------------------------------------------------------ driver

def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=20_000)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--ponger", help=argparse.SUPPRESS)  # internal: run a beamlet ponger node
    args = ap.parse_args(argv)
    if args.ponger:
        import vm

        vm.run(lambda: (vm.spawn(beamlet_ponger), vm.receive(lambda m: False)),
               sname=args.ponger)
        return 0

    from vm.dist import epmd
    from vm.dist.epmd_daemon import ensure_running

    port = epmd.epmd_port() if "ERL_EPMD_PORT" in os.environ else _free_port()
    env = dict(os.environ, ERL_EPMD_PORT=str(port),
               ERLANG_COOKIE=os.environ.get("ERLANG_COOKIE") or uuid.uuid4().hex)
    os.environ.update(ERL_EPMD_PORT=env["ERL_EPMD_PORT"], ERLANG_COOKIE=env["ERLANG_COOKIE"])
    started = ensure_running(port) == "started"
    tag = uuid.uuid4().hex[:6]
    host = __import__("socket").gethostname().split(".")[0]
    procs = []
    try:
        bpong = f"bpong{tag}"
        procs.append(subprocess.Popen([sys.executable, "-m", "benchmarks.dist_pingpong",
                                       "--ponger", bpong], env=env))
        targets = [("beamlet -> beamlet", f"{bpong}@{host}")]
        if ERL:
            epong = f"epong{tag}"
            procs.append(subprocess.Popen(
                [ERL, "-sname", epong, "-setcookie", env["ERLANG_COOKIE"], "-noshell",
                 "-hidden", "-start_epmd", "false", "-eval", PONG_ERL], env=env,
                stdin=subprocess.DEVNULL))
            targets.append(("beamlet -> Erlang", f"{epong}@{host}"))
        time.sleep(1.5)  # the pongers register with the port mapper
        import vm

        results = vm.run(beamlet_pinger, targets, args.rounds, args.reps, sname=f"bping{tag}",
                         cookie=env["ERLANG_COOKIE"])
        if ERL:
            for label, target in (("Erlang -> Erlang", f"{epong}@{host}"),
                                  ("Erlang -> beamlet", f"{bpong}@{host}")):
                out = subprocess.run(
                    [ERL, "-sname", f"eping{tag}", "-setcookie", env["ERLANG_COOKIE"],
                     "-noshell", "-hidden", "-start_epmd", "false", "-eval",
                     _ping_erl(target, args.rounds, args.reps)],
                    env=env, capture_output=True, text=True, timeout=300)
                try:
                    results[label] = [float(x) for x in out.stdout.strip().strip("[]").split(",")]
                except ValueError:
                    print(f"{label}: erl said {out.stdout or out.stderr}", file=sys.stderr)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(5)
            except subprocess.TimeoutExpired:
                p.kill()
        if started:
            epmd.kill(epmd=port)
    base = statistics.median(results["Erlang -> Erlang"]) if "Erlang -> Erlang" in results else None
    print(f"cross-node ping-pong, {args.rounds:,} round trips, median of {args.reps}")
    print(f"{'pair':24s} {'round trips/s':>14s} {'vs Erlang->Erlang':>18s}")
    for label, rates in results.items():
        med = statistics.median(rates)
        ratio = f"{med / base:.2f}x" if base else "-"
        print(f"{label:24s} {med:14,.0f} {ratio:>18s}")
    return 0


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


if __name__ == "__main__":
    sys.exit(main())
