"""Charts of a fairness run (`beamlet fairness --plot DIR`), as PNG files.

What this module owns: per run, the share of the CPU each process (or
group, when there are many processes) got over time, the CDFs of queue
delay and response time per group, and a timeline of which process ran
when (a Gantt chart: the picture that explains an unfair result at a
glance); for a sweep, one chart comparing the runs. Each function returns
the paths it wrote.

matplotlib comes from the `plot` extra (`pip install 'beamlet[plot]'`) and
is imported only here, only when a chart is drawn; without it,
`PlotUnavailable` says how to install it.

What it refuses: computing figures (the report's) beyond binning the
timeline into time windows for the share chart.
"""

from __future__ import annotations

import os
import re

#: Time windows of the share-over-time chart.
BINS = 60
#: Processes drawn one by one (share chart, Gantt); beyond that, groups.
MAX_ROWS = 24


class PlotUnavailable(Exception):
    """matplotlib is not installed."""


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise PlotUnavailable("--plot needs matplotlib: pip install 'beamlet[plot]' "
                              "(or pip install matplotlib)") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.=_-]+", "_", text).strip("_") or "run"


def share_bins(timeline, start: float, end: float, key, bins: int = BINS):
    """(bin edges' left ends, {key: [share of process time in each bin]}): each
    slice's time is split over the windows it overlaps."""
    width = (end - start) / bins if end > start else 1.0
    busy: dict = {}
    totals = [0.0] * bins
    for s in timeline:
        k = key(s["pid"])
        if k is None:
            continue
        row = busy.setdefault(k, [0.0] * bins)
        a, b = max(s["start"], start), min(s["end"], end)
        i = max(0, int((a - start) / width))
        while a < b and i < bins:
            edge = start + (i + 1) * width
            part = min(b, edge) - a
            row[i] += part
            totals[i] += part
            a = edge
            i += 1
    shares = {k: [x / t if t > 0 else 0.0 for x, t in zip(row, totals, strict=True)]
              for k, row in busy.items()}
    return [i * width for i in range(bins)], shares


def _rows(run: dict):
    """How the share and Gantt charts name a pid: its own row while few, else its group."""
    procs = run["processes"]
    by_pid = {p["pid"]: p for p in procs}
    if len(procs) <= MAX_ROWS:
        return lambda pid: (f"{p['pid']} {p['group']}" if (p := by_pid.get(str(pid))) else None)
    return lambda pid: (p["group"] if (p := by_pid.get(str(pid))) else None)


def plot_run(raw: dict, run: dict, directory: str, prefix: str) -> list[str]:
    """The three charts of one run; the paths written."""
    plt = _pyplot()
    os.makedirs(directory, exist_ok=True)
    timeline, start, end = raw["timeline"], raw["start"], raw["end"]
    name = _rows(run)
    paths = []

    xs, shares = share_bins(timeline, start, end, name)
    fig, ax = plt.subplots(figsize=(10, 5))
    if shares:
        keys = sorted(shares)
        ax.stackplot(xs, *(shares[k] for k in keys), labels=keys, step="post")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize="small")
    ax.set(xlabel="seconds since the start", ylabel="share of process time",
           title=f"CPU share over time: {run['label']}", ylim=(0, 1))
    paths.append(_save(fig, plt, directory, f"{prefix}share.png"))

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    group_of = {p["pid"]: p["group"] for p in run["processes"]}
    for ax, what, title in ((axes[0], "queue", "queue delay"),
                            (axes[1], "response", "response time")):
        per_group: dict = {}
        for s in timeline:
            g = group_of.get(str(s["pid"]))
            if g is None or (what == "response" and s["reason"] not in ("new", "woken")):
                continue
            per_group.setdefault(g, []).append(s["queue_delay"] * 1000)
        for g, values in sorted(per_group.items()):
            values.sort()
            n = len(values)
            ax.step(values, [(i + 1) / n for i in range(n)], where="post", label=f"{g} ({n})")
        ax.set(xlabel=f"{title} (ms)", title=f"{title} CDF")
        if per_group:
            ax.legend(fontsize="small")
    axes[0].set_ylabel("fraction of waits at most x")
    fig.suptitle(run["label"])
    paths.append(_save(fig, plt, directory, f"{prefix}latency_cdf.png"))

    bars: dict = {}
    for s in timeline:
        k = name(s["pid"])
        if k is not None:
            bars.setdefault(k, []).append((s["start"] - start, s["end"] - s["start"]))
    order = sorted(bars)
    fig, ax = plt.subplots(figsize=(11, 0.35 * len(order) + 2))
    colors = plt.get_cmap("tab20")
    for i, k in enumerate(order):
        ax.broken_barh(bars[k], (i - 0.4, 0.8), color=colors(i % 20))
    ax.set_yticks(range(len(order)), order, fontsize="small")
    ax.set(xlabel="seconds since the start", title=f"who ran when: {run['label']}",
           xlim=(0, max(end - start, 1e-9)))
    paths.append(_save(fig, plt, directory, f"{prefix}gantt.png"))
    return paths


def plot_comparison(doc: dict, directory: str) -> list[str]:
    """For a sweep: Jain's index and response-time p99 per run, side by side."""
    plt = _pyplot()
    os.makedirs(directory, exist_ok=True)
    rows = doc["comparison"]
    labels = [r["label"] for r in rows]
    fig, axes = plt.subplots(1, 3, figsize=(14, 0.4 * len(rows) + 2.5), sharey=True)
    ys = range(len(rows))
    axes[0].barh(ys, [r["jain"] or 0 for r in rows])
    axes[0].set(xlabel="Jain's index, all processes", xlim=(0, 1))
    axes[1].barh(ys, [r["worst_group_jain"] or 0 for r in rows], color="tab:orange")
    axes[1].set(xlabel="Jain's index, worst group", xlim=(0, 1))
    axes[2].barh(ys, [(r["response_time_p99"] or 0) * 1000 for r in rows], color="tab:red")
    axes[2].set(xlabel="response time p99 (ms)")
    axes[0].set_yticks(list(ys), labels, fontsize="small")
    fig.suptitle(f"{os.path.basename(doc['file'])}: comparison of {len(rows)} runs")
    return [_save(fig, plt, directory, "comparison.png")]


def _save(fig, plt, directory, name) -> str:
    path = os.path.join(directory, name)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
