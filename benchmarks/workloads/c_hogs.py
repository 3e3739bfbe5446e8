"""C-call hogs beside pure-Python hogs.

What it teaches: a call into C (`sum(range(50_000))`, about a millisecond)
counts as one reduction and cannot be preempted inside, while a Python loop
doing the same work is preempted every few thousand iterations. With only
reductions deciding, the C-call hogs would take most of the CPU; the slice
time limit (`--slice-time`, on by default on the real clock) ends a slice
that has run that long while others wait. Compare the SHARE% of the two
labels, and the response time of the `ticker` (a process that wakes every
5 ms), across slice settings:

    beamlet fairness c_hogs --group-by label --slice-time 0.00025,0.002,off
    beamlet fairness c_hogs --group-by label --reductions 1000,4000,16000
"""

import vm

DURATION = 2.0
SIZE = 50_000


def c_call_hog(size):
    vm.process_flag("label", "c-call")
    while True:
        sum(range(size))


def python_loop_hog(size):
    vm.process_flag("label", "python-loop")
    while True:
        x = 0
        for i in range(size):
            x += i


def ticker(period):
    vm.process_flag("label", "ticker")
    while True:
        vm.sleep(period)


def main(size=SIZE):
    for _ in range(3):
        vm.spawn(c_call_hog, size)
        vm.spawn(python_loop_hog, size)
    vm.spawn(ticker, 0.005)
    vm.sleep(DURATION)
