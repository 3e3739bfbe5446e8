"""CPU hogs whose loop iterations cost different amounts of time.

What it teaches: beamlet (like the BEAM) shares the CPU by *reductions*, one
per loop iteration or call, not by time. Three kinds of pure-Python hog
run side by side, two of each: `cheap` (`n += 1`), `medium` (a little
arithmetic) and `costly` (building a short string each iteration). With
`--slice-time off` a slice ends after its 4,000 reductions only, so every
hog gets about as many reductions, and the costly ones take most of the
CPU time (about 68% / 22% / 11% for costly / medium / cheap on one run):
look at SHARE% per label and at Jain's index over all processes. The
default slice time (0.25 ms) also ends a slice that has run that long
while others wait: it caps the costly hogs' slices, while the cheap ones
still spend their 4,000 reductions in less, so the gap narrows (about 40%
/ 43% / 16%). Under `--clock virtual` a slice lasts exactly its reductions
and the shares come out equal: the cost of an iteration is what only the
real clock sees.

    beamlet fairness hogs --group-by label --slice-time 0.00025,off
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
