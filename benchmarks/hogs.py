"""The CPU-bound loops ("hogs") that fairness and latency run, for every
Python system, and the calibration of their slow iterations.

Three kinds of iteration, all in a loop that never calls the VM:

- ``n += 1``: the quickest iteration Python has (a few tens of ns);
- ``C call``: one ~1 ms call into C, ``sum(range(size))``, which carries no
  reduction check inside (beamlet can only preempt between two calls);
- ``Python loop``: ~1 ms of pure Python, an inner ``for`` loop, which beamlet's
  compiled checks can preempt inside.

`size` is calibrated once per suite run, in the harness's process, so that
one iteration lasts about a millisecond on this machine (`calibrate`); every
system gets the same size, and each run measures one iteration again for its
note (`iteration_ms`).

What this module refuses: the measurement around the hogs (that is each
benchmark's). beamlet spawns `beamlet_hog` from here, so this module is the
one its reduction-check compiler instruments, like any user code.
"""

from __future__ import annotations

import time

KINDS = ("n += 1", "C call", "Python loop")
SLOW_KINDS = KINDS[1:]
ITERATION_MS = 1.0  # the calibration target of a slow iteration


def c_call(size):
    return sum(range(size))


def python_loop(size):
    x = 0
    for i in range(size):
        x += i
    return x


SLOW_BODIES = {"C call": c_call, "Python loop": python_loop}
_LABEL = {"n += 1": "hogs", "C call": "C-call hogs", "Python loop": "Python-loop hogs"}


def case_of(kind, count=None):
    """The case of a row measured beside hogs of `kind` ("8 C-call hogs").

    Without a count: None for `n += 1` (the rows this suite had before the
    slow kinds came), else "C-call hogs" / "Python-loop hogs".
    """
    if count is not None:
        return f"{count} {_LABEL[kind] if count else 'hogs'}"
    return None if kind == "n += 1" else _LABEL[kind]


def spin(deadline, kind, size):
    """Run iterations of `kind` until `deadline` (perf_counter); return their count."""
    pc = time.perf_counter
    n = 0
    if kind == "n += 1":
        while pc() < deadline:
            n += 1
        return n
    body = SLOW_BODIES[kind]
    while pc() < deadline:
        body(size)
        n += 1
    return n


async def aio_spin(deadline, kind, size):
    """`spin` as an asyncio coroutine: it never awaits, so it never yields."""
    return spin(deadline, kind, size)


def beamlet_hog(parent, tag, deadline, kind, size):
    """A beamlet process: spin, then send `(tag, count)` to `parent` (if any)."""
    n = spin(deadline, kind, size)
    if parent is not None:
        import vm
        vm.send(parent, (tag, n))


def iteration_ms(kind, size, reps=15):
    """The median time of one iteration of a slow `kind`, in ms, measured here."""
    body = SLOW_BODIES[kind]
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        body(size)
        times.append(time.perf_counter() - t0)
    times.sort()
    return times[len(times) // 2] * 1e3


_calibrated: dict = {}


def calibrate(kind, target_ms=ITERATION_MS):
    """The size for which one iteration of `kind` lasts about `target_ms` here.

    Scaled from a first guess three times, each from a median of 15 timings
    (the machine is shared: a median shrugs off a preempted timing). Cached for
    the life of the process, so every system of a suite run gets the same size.
    """
    if kind not in _calibrated:
        size = 10_000
        for _ in range(3):
            size = max(1, round(size * target_ms / iteration_ms(kind, size)))
        _calibrated[kind] = size
    return _calibrated[kind]


def sizes_note(p) -> str:
    """How long one slow iteration took in this run (for the records' notes)."""
    parts = [f"{kind}: {p['sizes'][kind]:,} -> {iteration_ms(kind, p['sizes'][kind]):.2f} ms"
             for kind in p["kinds"] if kind in SLOW_BODIES]
    return ("one iteration (" + ", ".join(parts) + ", median of 15 outside any VM)"
            if parts else "")


def size_of(p, kind):
    """The size of one iteration of `kind` in a benchmark's params (0 for `n += 1`)."""
    return p["sizes"][kind] if kind in SLOW_BODIES else 0


def adjust(system: str, p: dict, quick: bool) -> dict:
    """A benchmark's `adjust` hook: BEAM gets the target of its calibration, not
    the sizes calibrated for Python (its iterations are Erlang code)."""
    if system == "erlang":
        p.pop("sizes", None)
        p["iter_ms"] = ITERATION_MS
    return p


def slow_sizes() -> dict:
    """The calibrated size of each slow kind (for a benchmark's params)."""
    return {kind: calibrate(kind) for kind in SLOW_KINDS}
