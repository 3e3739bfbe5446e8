"""The figures of a fairness report, computed from what a run collected.

What this module owns: pure functions from raw accounting data (the node's
`vm.scheduling.process_stats()`, its `timeline()`, and what the runner
learnt about each process) to the report's figures: CPU share and rate,
Jain's fairness index, nearest-rank percentiles of queue delay and
response time, slice counts, per process, per group and over all.
docs/fairness.md defines every figure; the definitions live here in code
and nowhere else.

What it refuses: running anything (`runner`), printing (`text`), drawing
(`plot`). Everything here is deterministic and takes plain data, so it is
tested on constructed inputs with known answers.
"""

from __future__ import annotations

import math

#: How processes can be grouped: by the function they were spawned with, by
#: their registered name, or by the label they set (`vm.process_flag("label", x)`).
GROUP_BY = ("initial_call", "name", "label")
#: The group of a process that has no key of the chosen kind.
NO_KEY = {"initial_call": "(unknown)", "name": "(unregistered)", "label": "(no label)"}
#: Why a process became runnable when its wait counts as a response time.
RESPONSE_REASONS = ("new", "woken")
#: The counters summed per group and over all.
COUNTERS = ("reductions", "slices", "preempted", "yielded", "parked")


# ----------------------------------------------------------------------
# statistics


def jain(values) -> float | None:
    """Jain's fairness index of `values`: (sum x)^2 / (n * sum x^2).

    1.0 when all are equal, 1/n when one of n gets everything. None for no
    values; 1.0 when every value is zero (all got the same: nothing)."""
    xs = [float(x) for x in values]
    if not xs:
        return None
    if any(x < 0 or not math.isfinite(x) for x in xs):
        raise ValueError(f"jain: values must be finite and >= 0, not {xs}")
    squares = sum(x * x for x in xs)
    if squares == 0:
        return 1.0
    return sum(xs) ** 2 / (len(xs) * squares)


def percentile(values, p: float) -> float | None:
    """The nearest-rank `p`-th percentile (0 < p <= 100): the smallest value
    such that at least p% of the values are at most it. None for no values."""
    if not 0 < p <= 100:
        raise ValueError(f"percentile: p must be in (0, 100], not {p!r}")
    xs = sorted(values)
    if not xs:
        return None
    rank = max(1, math.ceil(p / 100 * len(xs)))
    return xs[rank - 1]


def distribution(values) -> dict:
    """count, mean, p50, p99 and max of `values` (None for each but count when empty)."""
    xs = sorted(values)
    if not xs:
        return {"count": 0, "mean": None, "p50": None, "p99": None, "max": None}
    return {"count": len(xs), "mean": sum(xs) / len(xs), "p50": percentile(xs, 50),
            "p99": percentile(xs, 99), "max": xs[-1]}


# ----------------------------------------------------------------------
# grouping


def term_text(value) -> str | None:
    """A label or name as the report prints it (a str as itself, other terms by repr)."""
    if value is None:
        return None
    return value if isinstance(value, str) else repr(value)


def group_key(proc: dict, group_by: str) -> str:
    """The group of one process row (which has `initial_call`, `name`, `label`).
    A process without a name or label (yet) is grouped by its initial call
    under "(unregistered) ..." or "(no label) ..."."""
    if group_by not in GROUP_BY:
        raise ValueError(f"group_by must be one of {', '.join(GROUP_BY)}, not {group_by!r}")
    key = proc.get(group_by)
    if key is not None:
        return str(key)
    call = proc.get("initial_call")
    return f"{NO_KEY[group_by]} {call}" if call and group_by != "initial_call" else NO_KEY[group_by]


# ----------------------------------------------------------------------
# building the report of one run


def samples_by_pid(timeline) -> dict:
    """pid -> (queue delays, response times) from a timeline's slices: every
    slice's wait before it, and the waits that followed a spawn or a wake-up."""
    out: dict = {}
    for s in timeline:
        waits = out.get(s["pid"])
        if waits is None:
            waits = out[s["pid"]] = ([], [])
        waits[0].append(s["queue_delay"])
        if s["reason"] in RESPONSE_REASONS:
            waits[1].append(s["queue_delay"])
    return out


def process_rows(stats: dict, info: dict, timeline, *, start: float, end: float,
                 group_by: str, exclude=()) -> list[dict]:
    """One row per process of the workload, ordered by pid.

    `stats`: `process_stats()` keyed by pid; `info`: pid -> {initial_call,
    name, label, spawned, priority} as the runner learnt them; `start`/`end`:
    the measured window on the node's clock. Processes in `exclude` (the
    runner's own) are left out."""
    samples = samples_by_pid(timeline)
    rows = []
    for pid, s in stats.items():
        if pid in exclude:
            continue
        known = info.get(pid, {})
        spawned = known.get("spawned")
        born = start if spawned is None else max(start, spawned)
        gone = end if s["exited"] is None else min(end, s["exited"])
        present = max(0.0, gone - born)
        waits, responses = samples.get(pid, ((), ()))
        label = s.get("label")
        row = {
            "pid": str(pid),
            "initial_call": known.get("initial_call"),
            "name": term_text(known.get("name")),
            "label": term_text(label if label is not None else known.get("label")),
            "priority": known.get("priority"),
            "runtime": s["runtime"],
            "present": present,
            "cpu": s["runtime"] / present if present > 0 else None,
            "exited": s["exited"] is not None,
            **{k: s[k] for k in COUNTERS},
            "queue_delay": distribution(waits),
            "response_time": distribution(responses),
        }
        row["group"] = group_key(row, group_by)
        rows.append(row)
    rows.sort(key=lambda r: _pid_order(r["pid"]))
    total = sum(r["runtime"] for r in rows)
    for r in rows:
        r["share"] = r["runtime"] / total if total > 0 else 0.0
    return rows


def _pid_order(text):
    parts = text.strip("<>").split(".")
    try:
        return tuple(int(x) for x in parts)
    except ValueError:
        return (math.inf, text)


def summary(rows: list[dict], samples: dict | None = None) -> dict:
    """The figures of a set of process rows taken together: their runtime,
    share, Jain's index over their CPU rates, summed counters, and latency
    distributions over every wait of every one of them (from `samples`, pid
    -> (queue delays, response times); without it, from the rows' own maxima
    only, which is what a row keeps)."""
    rates = [r["cpu"] for r in rows if r["cpu"] is not None]
    waits: list = []
    responses: list = []
    for r in rows:
        w = (samples or {}).get(r["pid"])
        if w is not None:
            waits.extend(w[0])
            responses.extend(w[1])
    return {
        "processes": len(rows),
        "runtime": sum(r["runtime"] for r in rows),
        "share": sum(r["share"] for r in rows),
        "jain": jain(rates),
        **{k: sum(r[k] for r in rows) for k in COUNTERS},
        "queue_delay": distribution(waits),
        "response_time": distribution(responses),
    }


def group_rows(rows: list[dict], timeline) -> list[dict]:
    """One summary per group, largest share first (ties: by key)."""
    samples = {str(pid): w for pid, w in samples_by_pid(timeline).items()}
    groups: dict = {}
    for r in rows:
        groups.setdefault(r["group"], []).append(r)
    out = [{"key": key, **summary(members, samples)} for key, members in groups.items()]
    out.sort(key=lambda g: (-g["share"], g["key"]))
    return out


def run_report(raw: dict, *, group_by: str) -> dict:
    """The report of one run (the `runs[]` item of the JSON document) from what
    `runner.collect` gathered."""
    timeline = raw["timeline"]
    rows = process_rows(raw["stats"], raw["info"], timeline, start=raw["start"],
                        end=raw["end"], group_by=group_by, exclude=raw.get("exclude", ()))
    samples = {str(pid): w for pid, w in samples_by_pid(timeline).items()}
    return {
        "settings": raw["settings"],
        "label": raw["label"],
        "ended": raw["ended"],
        "error": raw.get("error"),
        "elapsed": raw["end"] - raw["start"],
        "overall": summary(rows, samples),
        "groups": group_rows(rows, timeline),
        "processes": rows,
        "msacc": raw.get("msacc"),
        "scheduler_wall_time": raw.get("wall"),
        "timeline_slices": len(timeline),
    }


def comparison_row(run: dict) -> dict:
    """A run reduced to the figures a sweep compares."""
    o = run["overall"]
    group_jains = [g["jain"] for g in run["groups"] if g["jain"] is not None]
    return {
        "label": run["label"],
        "settings": run["settings"],
        "jain": o["jain"],
        "worst_group_jain": min(group_jains) if group_jains else None,
        "group_shares": {g["key"]: g["share"] for g in run["groups"]},
        "queue_delay_p99": o["queue_delay"]["p99"],
        "response_time_p50": o["response_time"]["p50"],
        "response_time_p99": o["response_time"]["p99"],
        "response_time_max": o["response_time"]["max"],
        "slices": o["slices"],
        "preempted": o["preempted"],
        "runtime": o["runtime"],
        "elapsed": run["elapsed"],
        "ended": run["ended"],
    }
