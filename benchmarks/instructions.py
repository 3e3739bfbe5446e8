"""Instructions per ping-pong round trip, counted by valgrind's callgrind.

A wall-clock figure on a shared 2-core machine moves by 10-30% between runs;
an instruction count moves by well under 1%, so it is the figure for small
changes to the hot path (a new field, a branch, a hook that is off). The
count is (instructions for N round trips - instructions for 0) / N, so the
start-up cost cancels out.

    python -m benchmarks.instructions [--shape SHAPE] [--token] [--scheduling CASE] [--rounds N]

`--shape` is what one round trip is: `receive` (default: `vm.send` and a
plain `vm.receive()` each way), `patterns` (the ping-pong of `beamlet bench
pingpong`: a selective receive with patterns each way), or `call` (one
`gen_server.call` to a server that replies at once). `--token` sets a
trace token (vm.lowlevel.set_trace_token) in the pinging process, so every
message carries it. `--scheduling` switches on
`vm.scheduling`'s `accounting`, `accounting` with the `timeline`, `msacc`,
or the `beam-python` policy (default `off`). Needs `valgrind` on PATH.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys

SCHEDULING = ("off", "accounting", "timeline", "msacc", "beam-python")
SHAPES = ("receive", "patterns", "call")


def _rounds(shape: str, n: int):
    """The body of `main` for one shape: n round trips."""
    import vm

    if shape == "call":
        from stdlib import gen_server

        class Echo(gen_server.GenServer):
            def init(self, arg):
                return ("ok", None)

            def handle_call(self, request, from_, state):
                return ("reply", request, state)

        _, server = gen_server.start_link(Echo, None)
        for i in range(n):
            gen_server.call(server, i)
        gen_server.stop(server)
        return

    if shape == "patterns":  # exactly the benchmark's processes
        from .pingpong import pinger, ponger

        p = vm.spawn(ponger)
        pinger(p, n)
        vm.send(p, "stop")
        return

    def pong():
        while True:
            m = vm.receive()
            if m == "stop":
                return
            vm.send(m, "pong")

    p = vm.spawn(pong)
    me = vm.self()
    for _ in range(n):
        vm.send(p, me)
        vm.receive()
    vm.send(p, "stop")


def _pingpong(n: int, token: bool, scheduling: str = "off", shape: str = "receive") -> None:
    import vm
    import vm.lowlevel
    import vm.scheduling

    def main():
        if token:
            vm.lowlevel.set_trace_token(("trace", 1))
        if scheduling in ("accounting", "timeline"):
            vm.scheduling.accounting(True, timeline=scheduling == "timeline")
        elif scheduling == "msacc":
            vm.scheduling.msacc(True)
        _rounds(shape, n)

    vm.run(main, preempt=False, policy="beam-python" if scheduling == "beam-python" else None)


def _count(n: int, token: bool, scheduling: str = "off", shape: str = "receive") -> int:
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
           "-m", "benchmarks.instructions", "--child", str(n), "--scheduling", scheduling,
           "--shape", shape] + (["--token"] if token else [])
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stderr
    m = re.search(r"Collected : (\d+)", out)
    if m is None:
        raise RuntimeError(f"callgrind printed no count:\n{out[-2000:]}")
    return int(m.group(1))


def per_round_trip(token: bool = False, rounds: int = 20_000, scheduling: str = "off",
                   shape: str = "receive") -> int:
    """Instructions one round trip costs (callgrind's count, start-up cancelled)."""
    return (_count(rounds, token, scheduling, shape)
            - _count(0, token, scheduling, shape)) // rounds


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--shape", choices=SHAPES, default="receive",
                    help="what one round trip is (see the module docstring)")
    ap.add_argument("--token", action="store_true", help="messages carry a trace token")
    ap.add_argument("--scheduling", choices=SCHEDULING, default="off",
                    help="what vm.scheduling switches on during the round trips")
    ap.add_argument("--rounds", type=int, default=20_000, help="round trips counted")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        _pingpong(args.child, args.token, args.scheduling, args.shape)
        return 0
    if shutil.which("valgrind") is None:
        print("benchmarks.instructions needs valgrind (apt-get install valgrind)",
              file=sys.stderr)
        return 2
    n = per_round_trip(args.token, args.rounds, args.scheduling, args.shape)
    print(f"instructions per round trip: {n:,}"
          + (f" ({args.shape})" if args.shape != "receive" else "")
          + (" (with a trace token)" if args.token else "")
          + (f" (scheduling: {args.scheduling})" if args.scheduling != "off" else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
