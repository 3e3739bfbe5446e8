"""A bursty producer: quiet, then a burst of short jobs, again and again.

What it teaches: averages hide bursts. Every 50 ms the producer spawns a
burst of 40 short jobs; two steady workers run all the time. The jobs'
queue delay grows during a burst (each waits for the ones ahead of it), so
their p99 and max are far above their p50; the share-over-time chart
(`--plot DIR`) shows the workers' share dropping during each burst.
Shorter slices (`--reductions 1000`) serve a burst more evenly.

    beamlet fairness bursty --group-by label --plot /tmp/bursty
    beamlet fairness bursty --group-by label --reductions 1000,4000,16000
"""

import vm

DURATION = 2.0
BURST = 40
PERIOD = 0.05


def job(n):
    vm.process_flag("label", "job")
    x = 0
    for i in range(2_000 + n):
        x += i
    return x


def worker():
    vm.process_flag("label", "worker")
    n = 0
    while True:
        n += 1


def producer():
    vm.process_flag("label", "producer")
    while True:
        for n in range(BURST):
            vm.spawn(job, n)
        vm.sleep(PERIOD)


def main():
    vm.spawn(worker)
    vm.spawn(worker)
    vm.spawn(producer)
    vm.sleep(DURATION)
