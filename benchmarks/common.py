"""Measurement helpers shared by every benchmark module.

What this module owns: the result record, the statistics (median, nearest-rank
percentile, Jain's index), memory probes (VmRSS, tracemalloc) and the
"not available" signal. What it refuses: process logic. The code that runs as
a process (a ring node, a hog, a sleeper) lives in each benchmark's own module
as a module-level function, so that the reduction-check compiler can
instrument it like any user code.
"""

from __future__ import annotations

import gc
import math
import time
from dataclasses import dataclass

# "pure": beamlet again, with BEAMLET_PURE_PYTHON=1 (the pure-Python core beside the
# compiled one, in the same run); it runs only where the compiled core is in use.
SYSTEMS = ("beamlet", "asyncio", "gevent", "pykka", "erlang", "pure")
PEERS = SYSTEMS[1:]


class NotAvailable(Exception):
    """Raised by a runner when its system cannot run this benchmark (yet).

    The harness turns it into one record per figure with ``status="n/a"`` and
    the reason as the note: the figure is reported missing, never faked.
    """


@dataclass(frozen=True)
class Figure:
    """One row family of a benchmark: a metric, its unit, which way is better."""

    metric: str
    unit: str
    better: str  # "higher" or "lower"
    text: str
    ratio: bool = True  # False where beamlet/peer means nothing (a share)
    # A difference of two measurements (p99 with load minus p99 without). Its
    # noise is as large as the smaller one's spread, so it can come out below
    # zero: `settle_noise` records that as 0 with the measured value in a note,
    # and the table prints no beamlet/peer ratio for it.
    difference: bool = False


@dataclass(frozen=True)
class Target:
    """A target of the suite, checked against beamlet's figure.

    kind: "ratio" (beamlet / `vs` >= threshold), "min" (value >= threshold),
    "max" (value <= threshold).
    """

    metric: str
    case: str | None
    kind: str
    threshold: float
    vs: str | None = None

    def describe(self) -> str:
        if self.kind == "ratio":
            return f">= {self.threshold:g}x {self.vs}"
        if self.kind == "min":
            return f">= {self.threshold:g}"
        return f"<= {self.threshold:g}"


def record(benchmark, system, metric, value, unit, params=None, *, case=None,
           note=None, samples=None, status=None):
    """A result record in the suite's JSON shape (plus note/status/samples)."""
    p = dict(params or {})
    if case is not None:
        p["case"] = case
    if value is not None and isinstance(value, float) and not math.isfinite(value):
        value = None
    r = {"benchmark": benchmark, "system": system, "metric": metric,
         "value": value, "unit": unit, "params": p,
         "status": status or ("ok" if value is not None else "n/a")}
    if note:
        r["note"] = note
    if samples is not None:
        r["samples"] = samples
    return r


class Recorder:
    """Collects the records of one (benchmark, system) run."""

    def __init__(self, benchmark: str, system: str, params: dict):
        self.benchmark, self.system = benchmark, system
        self.params = {k: v for k, v in params.items() if not k.startswith("_")}
        self.records: list[dict] = []

    def add(self, metric, value, unit, *, case=None, note=None, samples=None,
            status=None, **extra_params):
        p = dict(self.params, **extra_params)
        self.records.append(record(self.benchmark, self.system, metric, value,
                                   unit, p, case=case, note=note,
                                   samples=samples, status=status))

    def na(self, metric, unit, reason, *, case=None):
        self.add(metric, None, unit, case=case, note=reason, status="n/a")


# -------------------------------------------------------------------- noise

NOISE_PREFIX = "within noise: measured "


def settle_noise(records, figures):
    """Record each difference figure at zero or above, keeping what was measured.

    A difference figure that comes out negative (p99 with 8 hogs 0.64 ms below
    p99 without) measured noise, not a gain: its value becomes 0, its record
    keeps the measured value (`measured`) and its note says "within noise:
    measured -0.64 ms". Idempotent: the harness runs it again after merging
    rounds, on the median of the measured values.
    """
    diff = {f.metric for f in figures if f.difference}
    for r in records:
        if r["metric"] in diff:
            settle_record(r)
    return records


def settle_record(r):
    """`settle_noise` for one record of a difference figure."""
    m = r.get("measured", r.get("value"))
    if m is None:
        return
    r["measured"] = m
    r["value"] = max(0.0, m)
    note = strip_noise_note(r.get("note"))
    if m < 0:
        note = f"{NOISE_PREFIX}{m:.3g} {r['unit']}" + (f"; {note}" if note else "")
    if note:
        r["note"] = note
    else:
        r.pop("note", None)


def strip_noise_note(note):
    if note and note.startswith(NOISE_PREFIX):
        _, _, rest = note.partition("; ")
        return rest or None
    return note


def within_noise(r) -> bool:
    """Was this record's value clamped at zero (a difference measured below it)?"""
    m = r.get("measured")
    return m is not None and m < 0


# --------------------------------------------------------------- statistics

def median(xs):
    s = sorted(xs)
    n = len(s)
    if n == 0:
        return float("nan")
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def pct(xs, p):
    """Nearest-rank percentile, p in (0, 100]."""
    s = sorted(xs)
    if not s:
        return float("nan")
    k = max(1, min(len(s), math.ceil(p / 100.0 * len(s))))
    return s[k - 1]


def jain(xs):
    """Jain's fairness index: 1.0 is perfectly fair, 1/n is one taker."""
    s = sum(xs)
    sq = sum(x * x for x in xs)
    return (s * s) / (len(xs) * sq) if sq else 0.0


def shares(xs):
    s = sum(xs)
    return [x / s if s else 0.0 for x in xs]


def runs_note(rates, fmt="{:,.0f}"):
    if len(rates) == 1:
        return "1 run"
    return f"median of {len(rates)}; runs=[" + ", ".join(fmt.format(r) for r in rates) + "]"


# ----------------------------------------------------------------- memory

def rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def settle():
    for _ in range(3):
        gc.collect()


def tracemalloc_start() -> int:
    import tracemalloc
    settle()
    tracemalloc.start()
    return tracemalloc.get_traced_memory()[0]


def tracemalloc_stop(before: int) -> int:
    import tracemalloc
    settle()
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return after - before


pc = time.perf_counter
