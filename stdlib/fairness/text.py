"""The fairness report as plain text: what `beamlet fairness` prints.

What this module owns: turning the document of `sweep.run_sweep` into
aligned tables for a person (per group, per process, the node's microstate
accounting, and, for a sweep, one comparison table). Latencies print in
milliseconds, shares and rates in percent.

What it refuses: computing any figure (they are all in the document).
"""

from __future__ import annotations

#: Processes listed per run before the rest are summarised (--json has them all).
MAX_PROCESSES = 25
#: Groups given a share column in the comparison table (the largest).
MAX_GROUP_COLUMNS = 5


def table(headers: list[str], rows: list[list[str]]) -> str:
    """Columns aligned (the first to the left, the others to the right)."""
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells):
        first = cells[0].ljust(widths[0])
        rest = [c.rjust(w) for c, w in zip(cells[1:], widths[1:], strict=True)]
        return "  ".join([first, *rest]).rstrip()

    return "\n".join([line(headers), *(line(r) for r in rows)])


def ms(seconds) -> str:
    if seconds is None:
        return "-"
    x = seconds * 1000
    return f"{x:,.0f}" if x >= 1000 else f"{x:.3g}"


def pct(fraction) -> str:
    return "-" if fraction is None else f"{fraction * 100:.1f}"


def num(x) -> str:
    return "-" if x is None else f"{x:,}" if isinstance(x, int) else f"{x:.3f}"


def _latency(d) -> list[str]:
    return [ms(d["p50"]), ms(d["p99"]), ms(d["max"])]


def _outcomes(x) -> str:
    return f"{x['preempted']}/{x['yielded']}/{x['parked']}"


LAT_HEADERS = ["QD p50", "QD p99", "QD max", "RT p50", "RT p99", "RT max"]


def groups_table(run: dict, group_by: str) -> str:
    rows = [[g["key"], str(g["processes"]), pct(g["share"]),
             num(g["jain"]), num(g["reductions"]), num(g["slices"]), _outcomes(g),
             *_latency(g["queue_delay"]), *_latency(g["response_time"])]
            for g in run["groups"]]
    o = run["overall"]
    rows.append(["(all)", str(o["processes"]), pct(o["share"]), num(o["jain"]),
                 num(o["reductions"]), num(o["slices"]), _outcomes(o),
                 *_latency(o["queue_delay"]), *_latency(o["response_time"])])
    return table([group_by.upper(), "PROCS", "SHARE%", "JAIN", "REDUCTIONS", "SLICES",
                  "PRE/YLD/PARK", *LAT_HEADERS], rows)


def processes_table(run: dict) -> str:
    procs = sorted(run["processes"], key=lambda p: -p["runtime"])
    shown = procs[:MAX_PROCESSES]
    rows = [[p["pid"], p["group"], p["priority"] or "?", pct(p["share"]), pct(p["cpu"]),
             num(p["reductions"]), num(p["slices"]), _outcomes(p),
             *_latency(p["queue_delay"]), *_latency(p["response_time"])] for p in shown]
    text = table(["PID", "GROUP", "PRIO", "SHARE%", "CPU%", "REDUCTIONS", "SLICES",
                  "PRE/YLD/PARK", *LAT_HEADERS], rows)
    if len(procs) > len(shown):
        rest = procs[len(shown):]
        text += (f"\n... {len(rest)} more processes ({pct(sum(p['share'] for p in rest))}% "
                 "of the CPU; --json lists them all)")
    return text


def msacc_line(run: dict) -> str | None:
    m = run.get("msacc")
    if not m or not m["wall"]:
        return None
    parts = [f"{state} {secs / m['wall'] * 100:.1f}%" for state, secs in m["states"].items()
             if secs / m["wall"] >= 0.001]
    return f"msacc ({m['wall']:.3f} s of the node's thread): " + ", ".join(parts)


def settings_line(s: dict) -> str:
    prio = ",".join(f"{k}={v}" for k, v in s["priority"].items()) or "as spawned"
    slice_time = "off" if s["slice_time"] is None else f"{s['slice_time'] * 1000:g} ms"
    return (f"policy {s['policy']}, {s['reductions']:,} reductions a slice, "
            f"slice time {slice_time}, priorities {prio}")


def run_text(run: dict, group_by: str) -> str:
    ended = {"returned": "the workload returned", "timeout": "stopped at --seconds",
             "failed": "the workload failed"}[run["ended"]]
    out = [f"== {run['label']}: {settings_line(run['settings'])}",
           f"{run['elapsed']:.3f} s measured ({ended}); {run['overall']['runtime']:.3f} s "
           f"of process time in {run['overall']['slices']:,} slices; Jain's index over all "
           f"processes {num(run['overall']['jain'])}"]
    if run.get("error"):
        out.append("the workload failed:\n" + run["error"])
    out += ["", groups_table(run, group_by), "", processes_table(run)]
    line = msacc_line(run)
    if line:
        out += ["", line]
    return "\n".join(out)


def comparison_text(doc: dict) -> str:
    top: dict = {}  # group -> its largest share in any run
    for row in doc["comparison"]:
        for key, share in row["group_shares"].items():
            top[key] = max(top.get(key, 0.0), share)
    shown = sorted(top, key=lambda k: -top[k])[:MAX_GROUP_COLUMNS]
    rows = [[row["label"], num(row["jain"]), num(row["worst_group_jain"]),
             ms(row["response_time_p50"]), ms(row["response_time_p99"]),
             ms(row["response_time_max"]), ms(row["queue_delay_p99"]), num(row["slices"]),
             num(row["preempted"]), *(pct(row["group_shares"].get(g)) for g in shown)]
            for row in doc["comparison"]]
    return table(["RUN", "JAIN", "WORST GROUP JAIN", "RT p50", "RT p99", "RT max", "QD p99",
                  "SLICES", "PREEMPTED", *(f"{g} %" for g in shown)], rows)


def document_text(doc: dict) -> str:
    """The whole printed report."""
    seed = "no seed" if doc["seed"] is None else f"seed {doc['seed']}"
    head = (f"beamlet fairness: {doc['file']} ({doc['workload']}), {doc['clock']} clock, "
            f"{seed}, up to {doc['seconds']:g} s a run, grouped by "
            f"{doc['group_by']}\nQD: queue delay, RT: response time (ms, nearest-rank "
            "percentiles); PRE/YLD/PARK: slices preempted / yielded / parked; "
            "docs/fairness.md defines each figure")
    parts = [head, *(run_text(r, doc["group_by"]) for r in doc["runs"])]
    if len(doc["runs"]) > 1:
        parts.append("== comparison (one row per run; shares per group in %)\n"
                     + comparison_text(doc))
    return "\n\n".join(parts) + "\n"
