"""CPU hogs whose loop iterations cost different amounts of time.

What it teaches: beamlet (like the BEAM) shares the CPU by *reductions*, one
per loop iteration or call, not by time. Three kinds of pure-Python hog
run side by side, two of each: `cheap` (`n += 1`), `medium` (a little
arithmetic) and `costly` (building a short string each iteration). On the
real clock every hog gets about the same number of reductions, so the
costly ones take a larger share of the CPU time: look at SHARE% per label
and at Jain's index over all processes. Under `--clock virtual` a slice lasts
exactly its reductions, so the shares come out equal: the difference is
the cost of an iteration, which only the real clock sees.

    beamlet fairness hogs --group-by label --seconds 2
    beamlet fairness hogs --group-by label --policy beam,cfs
"""

import vm

#: How long main runs (the report stops earlier with --seconds).
DURATION = 2.0
KINDS = ("cheap", "medium", "costly")


def hog(kind):
    vm.process_flag("label", f"hog-{kind}")
    n = 0
    if kind == "cheap":
        while True:
            n += 1
    elif kind == "medium":
        while True:
            n = (n * 31 + 7) % 1_000_003
    else:
        while True:
            n += len(f"{n}-" * 8)


def main():
    for kind in KINDS:
        for _ in range(2):
            vm.spawn(hog, kind)
    vm.sleep(DURATION)
