"""Priority inversion: a low-priority process holds what a high one waits for.

What it teaches: a `high` process needs a lock that a `low` process holds
(the lock is a server process granting it to one holder at a time). While
`normal` hogs keep the CPU busy, the low holder runs only when BEAM lets a
low process through (once per 8 passes over it), so the high process waits
far longer than its priority suggests: compare the `high-waiter`'s SLICES
(each is one trip through the lock) with the hogs', and read the
`low-holder`'s queue delay (QD max: how long it sat runnable, holding the
lock, while normal processes ran). Proportional-share policies
(`--policy stride,cfs`) give low a small but steady share and shorten the
inversion; giving the holder a higher priority (`--priority
low-holder=high` with `--group-by label`) removes it, as priority
inheritance would.

    beamlet fairness priority_inversion --group-by label
    beamlet fairness priority_inversion --group-by label --policy beam,stride,cfs
"""

import vm

DURATION = 2.0


def lock_server():
    vm.process_flag("label", "lock")
    vm.register("lock", vm.self())
    while True:
        _, holder = vm.receive(("acquire", vm.Pid))
        vm.send(holder, "granted")
        vm.receive(("release", holder))


def with_lock(work):
    me = vm.self()
    vm.send("lock", ("acquire", me))
    vm.receive("granted")
    try:
        work()
    finally:
        vm.send("lock", ("release", me))


def critical_section():
    x = 0
    for i in range(20_000):
        x += i


def low_holder():
    vm.process_flag("label", "low-holder")
    vm.process_flag("priority", "low")
    while True:
        with_lock(critical_section)
        vm.sleep(0.001)


def high_waiter():
    vm.process_flag("label", "high-waiter")
    vm.process_flag("priority", "high")
    while True:
        vm.sleep(0.01)
        with_lock(lambda: None)


def hog():
    vm.process_flag("label", "normal-hog")
    n = 0
    while True:
        n += 1


def main():
    vm.spawn(lock_server)
    while vm.whereis("lock") is None:
        vm.sleep(0.0001)
    vm.spawn(low_holder)
    vm.sleep(0.0005)  # the holder takes the lock first
    for _ in range(3):
        vm.spawn(hog)
    vm.spawn(high_waiter)
    vm.sleep(DURATION)
