"""What preemption costs, and what the dirty pool buys.

Two figures:

- `check_cost_ratio`: a CPU-bound loop run in a process (compiled with
  reduction checks, preempted every slice) against the very same loop run as
  plain Python outside any VM, one after the other in this interpreter. The
  two loops are the same source; only the checks differ. Target: at most
  1.5x. Peers have no checks, so they have no such figure.
- `ticker_p99_added_by_blocking_ms`: a process ticks every 10 ms while another
  makes 200 ms blocking calls (`time.sleep(0.2)`, standing for an HTTP
  request or a C extension), sent to the dirty pool (`vm.to_thread`); the
  ticker's p99 lateness with the blocking calls minus without. Target: under
  5 ms. asyncio's peer sends the same calls to `asyncio.to_thread`.

    python -m benchmarks.preemption [--quick]
"""

from __future__ import annotations

import time

from .common import Figure, Recorder, Target, pct

NAME = "preemption"
FIGURES = (
    Figure("check_cost_ratio", "x", "lower",
           "time of a CPU-bound loop in a process over the same loop outside the VM"),
    Figure("ticker_p99_added_by_blocking_ms", "ms", "lower",
           "p99 lateness of a 10 ms ticker beside 200 ms blocking calls on the dirty "
           "pool, minus without them", difference=True),
)
TARGETS = (
    Target("check_cost_ratio", None, "max", 1.5),
    Target("ticker_p99_added_by_blocking_ms", None, "max", 5.0),
)


def params(quick: bool) -> dict:
    return {"loop_n": 300_000 if quick else 3_000_000, "reps": 3 if quick else 5,
            "seconds": 0.6 if quick else 2.0, "period_ms": 10, "block_ms": 200}


# The loop measured with and without checks. Module-level, so that spawning
# it instruments this module in place, as beamlet does for any user code.
def crunch(n):
    total = 0
    i = 0
    while i < n:
        total += i * i % 7
        i += 1
    return total


def _plain_crunch():
    """The same loop compiled without checks (for the outside-the-VM run)."""
    import inspect
    src = inspect.getsource(crunch)
    ns: dict = {}
    exec(compile(src, "<plain crunch>", "exec"), ns)
    return ns["crunch"]


def _median_time(fn, n, reps):
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn(n)
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def ticker(parent, deadline, period):
    """Tick until the deadline (at least once: a loaded machine may start it late)."""
    import vm
    pc = time.perf_counter
    late = []
    while True:
        t = pc()
        vm.sleep(period)
        late.append((pc() - t - period) * 1000.0)
        if pc() >= deadline:
            break
    vm.send(parent, ("late", late))


def blocker(deadline, block):
    import vm
    while time.perf_counter() < deadline:
        vm.to_thread(time.sleep, block)


def ticker_main(p, blocking):
    import vm
    period, block = p["period_ms"] / 1000.0, p["block_ms"] / 1000.0
    deadline = time.perf_counter() + p["seconds"]
    vm.spawn(ticker, vm.self(), deadline, period)
    if blocking:
        vm.spawn(blocker, deadline, block)
    _, late = vm.receive(("late", list))
    return late


def run_beamlet(p):
    from .beamlet_support import require_vm
    vm = require_vm()
    rec = Recorder(NAME, "beamlet", p)

    def in_process():
        return _median_time(crunch, p["loop_n"], p["reps"])

    plain = _plain_crunch()
    inside = vm.run(in_process)
    outside = _median_time(plain, p["loop_n"], p["reps"])
    rec.add("check_cost_ratio", inside / outside, "x",
            note=f"{p['loop_n']:,} iterations; in a process {inside * 1e3:.1f} ms, "
                 f"outside the VM {outside * 1e3:.1f} ms (median of {p['reps']})")
    quiet = vm.run(ticker_main, p, False)
    busy = vm.run(ticker_main, p, True)
    rec.add("ticker_p99_added_by_blocking_ms", pct(busy, 99) - pct(quiet, 99), "ms",
            note=f"p99 {pct(busy, 99):.2f} ms with {p['block_ms']} ms calls on vm.to_thread, "
                 f"{pct(quiet, 99):.2f} ms without; {len(busy)} samples")
    return rec.records


# ------------------------------------------------------------------ asyncio

async def aio_ticker(deadline, period):
    import asyncio
    pc = time.perf_counter
    late = []
    while True:
        t = pc()
        await asyncio.sleep(period)
        late.append((pc() - t - period) * 1000.0)
        if pc() >= deadline:
            return late


async def aio_blocker(deadline, block):
    import asyncio
    while time.perf_counter() < deadline:
        await asyncio.to_thread(time.sleep, block)


async def aio_main(p, blocking):
    import asyncio
    period, block = p["period_ms"] / 1000.0, p["block_ms"] / 1000.0
    deadline = time.perf_counter() + p["seconds"]
    tasks = [asyncio.create_task(aio_ticker(deadline, period))]
    if blocking:
        tasks.append(asyncio.create_task(aio_blocker(deadline, block)))
    results = await asyncio.gather(*tasks)
    return results[0]


def run_asyncio(p):
    import asyncio
    rec = Recorder(NAME, "asyncio", p)
    quiet = asyncio.run(aio_main(p, False))
    busy = asyncio.run(aio_main(p, True))
    rec.add("ticker_p99_added_by_blocking_ms", pct(busy, 99) - pct(quiet, 99), "ms",
            note=f"p99 {pct(busy, 99):.2f} ms with {p['block_ms']} ms calls on "
                 f"asyncio.to_thread, {pct(quiet, 99):.2f} ms without")
    return rec.records


if __name__ == "__main__":
    from .cli import main_for
    main_for(NAME)
