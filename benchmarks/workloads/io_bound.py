"""I/O-bound processes among CPU hogs.

What it teaches: a process that mostly waits (here `vm.sleep` standing for
a socket, and `vm.to_thread` for a blocking call on the dirty pool) uses
little CPU, so its CPU share says nothing about how well it was treated;
its *response time* does: how long it waited to run after its wait ended.
Compare the RT p50, p99 and max of `sleeper` and `to_thread` across
policies: BEAM puts a process woken by a timer at the front of its queue;
the CFS-like policy ranks a woken process by its virtual runtime, with a
bounded credit for having slept, and gives hogs longer slices; stride
lets it rejoin at the global pass.

    beamlet fairness io_bound --group-by label --policy beam,cfs,stride
"""

import time

import vm

DURATION = 2.0


def hog():
    vm.process_flag("label", "hog")
    n = 0
    while True:
        n += 1


def sleeper(period):
    vm.process_flag("label", "sleeper")
    while True:
        vm.sleep(period)


def blocking_io(seconds):
    time.sleep(seconds)  # stands for a blocking library call
    return seconds


def thread_user(seconds):
    vm.process_flag("label", "to_thread")
    while True:
        vm.to_thread(blocking_io, seconds)


def main():
    for _ in range(4):
        vm.spawn(hog)
    for _ in range(3):
        vm.spawn(sleeper, 0.01)
    for _ in range(2):
        vm.spawn(thread_user, 0.005)
    vm.sleep(DURATION)
