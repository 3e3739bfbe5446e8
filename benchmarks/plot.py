"""`--plot DIR`: PNG charts through matplotlib (an optional extra).

Three charts: each hog's share of the CPU in the fairness run, the latency
distribution with and without hogs, and ring rate against ring size.
"""

from __future__ import annotations

import os

from .common import SYSTEMS

COLORS = {"beamlet": "#d62728", "asyncio": "#1f77b4", "gevent": "#2ca02c",
          "pykka": "#9467bd", "erlang": "#ff7f0e",
          "pure": "#8c564b"}


def unavailable() -> str | None:
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return "--plot needs matplotlib, which is not installed: pip install 'beamlet[plot]'"
    return None


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _by(doc, bench, metric):
    out = {}
    for r in doc["results"]:
        if r["benchmark"] == bench and r["metric"] == metric and r.get("value") is not None:
            out.setdefault(r["system"], []).append(r)
    return {s: out[s] for s in SYSTEMS if s in out}


def write_all(doc, outdir) -> list[str]:
    os.makedirs(outdir, exist_ok=True)
    written = []
    for fn in (plot_fairness, plot_latency, plot_ring):
        path = fn(doc, outdir)
        if path:
            written.append(path)
    return written


def plot_fairness(doc, outdir):
    data = _by(doc, "fairness", "share")
    if not data:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    systems = list(data)
    width = 0.8 / 4
    for i in range(4):
        xs, ys = [], []
        for j, s in enumerate(systems):
            recs = {r["params"].get("case"): r["value"] for r in data[s]}
            xs.append(j + (i - 1.5) * width)
            ys.append(recs.get(f"hog {i + 1}", 0.0))
        ax.bar(xs, ys, width, label=f"hog {i + 1}")
    ax.axhline(0.25, color="grey", linestyle="--", linewidth=1, label="fair share")
    jain = {r["system"]: r["value"] for r in doc["results"]
            if r["benchmark"] == "fairness" and r["metric"] == "jain_index"
            and r["params"].get("case") is None}
    ax.set_xticks(range(len(systems)))
    ax.set_xticklabels([f"{s}\nJain {jain[s]:.3f}" if jain.get(s) is not None else s
                        for s in systems])
    ax.set_ylabel("share of loop iterations")
    ax.set_ylim(0, 1.05)
    ax.set_title("Fairness: 4 CPU-bound processes that never yield (n += 1)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    path = os.path.join(outdir, "fairness.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


LATENCY_CASES = ("0 hogs", "8 hogs", "8 C-call hogs", "8 Python-loop hogs",
                 "to_thread, 0 hogs", "to_thread, 8 hogs", "to_thread, 8 C-call hogs",
                 "to_thread, 8 Python-loop hogs")


def plot_latency(doc, outdir):
    series = {}
    for r in doc["results"]:
        if r["benchmark"] == "latency" and r["metric"] == "lateness_ms_p50" and r.get("samples"):
            series.setdefault(r["system"], {})[r["params"].get("case")] = r["samples"]
    if not series:
        return None
    plt = _pyplot()
    systems = [s for s in SYSTEMS if s in series]
    cases = [c for c in LATENCY_CASES if any(c in series[s] for s in systems)]
    rows = [[c for c in cases if not c.startswith("to_thread")],
            [c for c in cases if c.startswith("to_thread")]]
    rows = [r for r in rows if r]
    ncols = max(len(r) for r in rows)
    fig, axes = plt.subplots(len(rows), ncols, figsize=(4 * ncols, 4.2 * len(rows)),
                             sharey=True, squeeze=False)
    for ax in axes.flat:
        ax.set_visible(False)
    for ax, case in ((axes[i][j], c) for i, r in enumerate(rows) for j, c in enumerate(r)):
        ax.set_visible(True)
        data, labels = [], []
        for s in systems:
            v = series[s].get(case)
            if v:
                data.append(v)
                labels.append(f"{s}\n(n={len(v)})")
        if data:
            ax.boxplot(data, whis=(0, 100))
            ax.set_xticks(range(1, len(labels) + 1))
            ax.set_xticklabels(labels)
        ax.set_yscale("symlog", linthresh=1.0)
        ax.set_title(f"10 ms {'to_thread' if case.startswith('to_thread') else 'sleep'}, "
                     f"{case.split(', ')[-1]}", fontsize=10)
        ax.set_ylabel("lateness (ms)")
        ax.grid(True, axis="y", alpha=0.3)
    fig.suptitle("Latency: how late a 10 ms wait (a timer, or a blocking call on the "
                 "dirty pool) wakes beside hogs")
    fig.tight_layout()
    path = os.path.join(outdir, "latency.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_ring(doc, outdir):
    data = _by(doc, "ring", "hops_per_s_by_n")
    if not data:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for s, recs in data.items():
        pts = sorted((int(r["params"]["case"].split("=")[1]), r["value"]) for r in recs)
        ax.plot([p[0] for p in pts], [p[1] for p in pts], marker="o", label=s,
                color=COLORS.get(s))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("processes in the ring (N)")
    ax.set_ylabel("hops per second")
    ax.set_title("Ring: token hops per second against ring size")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    path = os.path.join(outdir, "ring.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
