"""Sweeps: one run per combination of scheduler settings, one document.

What this module owns: the combinations (`--reductions`, `--slice-time`,
`--policy` and `--priority` lists, in that nesting order, the last varying
fastest), a label per run naming the settings that vary, running them one
after the other with the same seed, clock and duration, and the document
`--json` prints (its schema is `schema.json`, documented in
docs/fairness.md).

What it refuses: judging the results; the comparison rows hold figures,
and the reader decides.
"""

from __future__ import annotations

import itertools

from . import report, runner

#: The document's `schema` field: bumped when a field changes meaning or goes.
SCHEMA_ID = "beamlet.fairness/1"


def combinations(reductions, slice_times, policies, priorities) -> list[dict]:
    """Every combination as settings plus a `label` naming what varies ("run"
    when nothing does)."""
    dims = {"reductions": list(reductions), "slice_time": list(slice_times),
            "policy": list(policies), "priority": list(priorities)}
    for name, values in dims.items():
        if not values:
            raise ValueError(f"sweep: no value for {name}")
    varying = [name for name, values in dims.items() if len(values) > 1]
    out = []
    for combo in itertools.product(*dims.values()):
        settings = dict(zip(dims, combo, strict=True))
        parts = [f"{name}={_show(settings[name])}" for name in varying]
        out.append({**settings, "label": " ".join(parts) or "run"})
    return out


def _show(value) -> str:
    if isinstance(value, dict):
        return ",".join(f"{k}={v}" for k, v in value.items()) or "none"
    return "off" if value is None else f"{value:g}" if isinstance(value, float) else str(value)


def run_sweep(path: str, *, entry: str = "main", seconds: float = 5.0, seed=None,
              clock: str = "real", group_by: str = "initial_call", reductions=(4000,),
              slice_times=(0.00025,), policies=("beam",), priorities=({},),
              progress=None, on_run=None) -> dict:
    """Run every combination; the whole document (see schema.json). `progress`,
    if given, is called with each run's label before it starts; `on_run` with
    (index, raw figures, run report) after each (the charts need the raw timeline,
    which the document leaves out)."""
    runner.check_entry(path, entry)
    runs = []
    for index, combo in enumerate(combinations(reductions, slice_times, policies, priorities)):
        if progress is not None:
            progress(combo["label"])
        raw = runner.run_once(path, entry=entry, seconds=seconds, seed=seed, clock=clock,
                              reductions=combo["reductions"], slice_time=combo["slice_time"],
                              policy=combo["policy"], priorities=combo["priority"],
                              group_by=group_by, label=combo["label"])
        run = report.run_report(raw, group_by=group_by)
        if on_run is not None:
            on_run(index, raw, run)
        runs.append(run)
    return {
        "schema": SCHEMA_ID,
        "file": path,
        "workload": entry,
        "group_by": group_by,
        "clock": clock,
        "seed": seed,
        "seconds": seconds,
        "runs": runs,
        "comparison": [report.comparison_row(r) for r in runs],
    }
