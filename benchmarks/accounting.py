"""What scheduling accounting costs: ping-pong with it off and on.

Ping-pong (two processes bouncing a message, benchmarks/pingpong.py) is the
workload where the scheduler's per-slice work weighs most: every round trip
is two slices of a few reductions. It runs, in one interpreter and
interleaved round by round (so the machine's load hits every case alike):

- `off`: the built-in BEAM policy, nothing switched on (the fast path);
- `accounting`: `vm.scheduling.accounting(True)` (per-process figures);
- `accounting+timeline`: the same with `timeline=True` (a record per slice,
  what `beamlet fairness` switches on);
- `msacc`: microstate accounting (`vm.scheduling.msacc(True)`);
- `beam-python`: accounting off, but BEAM's algorithm as a Python `Policy`
  (`policy="beam-python"`): the price of the policy interface itself.

Figures: round trips per second per case (median of the rounds) and each
case's time per round trip over `off`'s, the median of per-round ratios
(1.00x: no cost). beamlet only: the peers have no such switches.

    python -m benchmarks.accounting [--quick]
"""

from __future__ import annotations

from .common import Figure, Recorder, median, pc, runs_note
from .pingpong import pinger, ponger

NAME = "accounting"
CASES = ("off", "accounting", "accounting+timeline", "msacc", "beam-python")
FIGURES = (
    Figure("round_trips_per_s", "rt/s", "higher",
           "ping-pong round trips per second with the case switched on"),
    Figure("time_vs_off", "x", "lower",
           "time per round trip over the same with everything off (median of per-round "
           "ratios)", ratio=False),
)
TARGETS = ()


def params(quick: bool) -> dict:
    return {"rounds": 20_000 if quick else 100_000, "reps": 5 if quick else 9}


def expected_rows(p):
    rows = {("round_trips_per_s", c) for c in CASES}
    return rows | {("time_vs_off", c) for c in CASES if c != "off"}


def _main(case, rounds):
    import vm
    import vm.scheduling as scheduling
    if case == "accounting":
        scheduling.accounting(True)
    elif case == "accounting+timeline":
        scheduling.accounting(True, timeline=True)
    elif case == "msacc":
        scheduling.msacc(True)
    pong = vm.spawn(ponger)
    t0 = pc()
    pinger(pong, rounds)
    rate = rounds / (pc() - t0)
    vm.send(pong, "stop")
    return rate


def run_beamlet(p):
    from .beamlet_support import require_vm
    vm = require_vm()
    rec = Recorder(NAME, "beamlet", p)
    rates: dict = {c: [] for c in CASES}
    for rep in range(p["reps"]):
        order = CASES[rep % len(CASES):] + CASES[:rep % len(CASES)]  # rotate who goes first
        for case in order:
            policy = "beam-python" if case == "beam-python" else None
            rates[case].append(vm.run(_main, case, p["rounds"], policy=policy))
    for case in CASES:
        rec.add("round_trips_per_s", median(rates[case]), "rt/s", case=case,
                note=f"{p['rounds']:,} round trips; " + runs_note(rates[case]))
        if case != "off":
            ratios = [off / r for off, r in zip(rates["off"], rates[case], strict=True)]
            rec.add("time_vs_off", median(ratios), "x", case=case,
                    note="per round: " + ", ".join(f"{x:.3f}" for x in ratios))
    return rec.records


if __name__ == "__main__":
    from .cli import main_for
    main_for(NAME)
