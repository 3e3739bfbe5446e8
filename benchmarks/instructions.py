"""Instructions per ping-pong round trip, counted by valgrind's callgrind.

A wall-clock figure on a shared 2-core machine moves by 10-30% between runs;
an instruction count moves by well under 1%, so it is the figure for small
changes to the hot path (a new field, a branch, a hook that is off). The
count is (instructions for N round trips - instructions for 0) / N, so the
start-up cost cancels out.

    python -m benchmarks.instructions [--token] [--scheduling CASE] [--rounds N]

`--token` sets a trace token (vm.lowlevel.set_trace_token) in the pinging
process, so every message carries it. `--scheduling` switches on
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


def _pingpong(n: int, token: bool, scheduling: str = "off") -> None:
    import vm
    import vm.lowlevel
    import vm.scheduling

    def pong():
        while True:
            m = vm.receive()
            if m == "stop":
                return
            vm.send(m, "pong")

    def main():
        if token:
            vm.lowlevel.set_trace_token(("trace", 1))
        if scheduling in ("accounting", "timeline"):
            vm.scheduling.accounting(True, timeline=scheduling == "timeline")
        elif scheduling == "msacc":
            vm.scheduling.msacc(True)
        p = vm.spawn(pong)
        me = vm.self()
        for _ in range(n):
            vm.send(p, me)
            vm.receive()
        vm.send(p, "stop")

    vm.run(main, preempt=False, policy="beam-python" if scheduling == "beam-python" else None)


def _count(n: int, token: bool, scheduling: str = "off") -> int:
    cmd = ["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable,
           "-m", "benchmarks.instructions", "--child", str(n), "--scheduling", scheduling] + (
               ["--token"] if token else [])
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stderr
    m = re.search(r"Collected : (\d+)", out)
    if m is None:
        raise RuntimeError(f"callgrind printed no count:\n{out[-2000:]}")
    return int(m.group(1))


def per_round_trip(token: bool = False, rounds: int = 20_000, scheduling: str = "off") -> int:
    """Instructions one round trip costs (callgrind's count, start-up cancelled)."""
    return (_count(rounds, token, scheduling) - _count(0, token, scheduling)) // rounds


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--token", action="store_true", help="messages carry a trace token")
    ap.add_argument("--scheduling", choices=SCHEDULING, default="off",
                    help="what vm.scheduling switches on during the round trips")
    ap.add_argument("--rounds", type=int, default=20_000, help="round trips counted")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child is not None:
        _pingpong(args.child, args.token, args.scheduling)
        return 0
    if shutil.which("valgrind") is None:
        print("benchmarks.instructions needs valgrind (apt-get install valgrind)",
              file=sys.stderr)
        return 2
    n = per_round_trip(args.token, args.rounds, args.scheduling)
    print(f"instructions per round trip: {n:,}" + (" (with a trace token)" if args.token else "")
          + (f" (scheduling: {args.scheduling})" if args.scheduling != "off" else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
