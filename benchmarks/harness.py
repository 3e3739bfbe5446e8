"""The harness: runs each (benchmark, system) in a fresh subprocess and collects records.

What it owns: choosing parameters (full or --quick), starting one fresh
interpreter (or one fresh BEAM) per (benchmark, system) so memory figures and
gevent's global state stay isolated, watching /proc/stat to tell how busy the
machine was while each run went, compiling the Erlang sources once per suite
run, and turning everything into the JSON document and one table.
What it refuses: benchmark logic (that lives in one module per benchmark) and
pass/fail decisions beyond the targets written in each module.

A worker is started as ``python -m benchmarks.harness worker BENCH SYSTEM
PARAMS_JSON``; it prints its records as one JSON line after a marker.
"""

from __future__ import annotations

import datetime
import importlib
import importlib.metadata
import importlib.util
import json
import os
import platform
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from .common import (
    PEERS,
    SYSTEMS,
    NotAvailable,
    median,
    record,
    settle_noise,
    settle_record,
    within_noise,
)

BENCHMARKS = ("ring", "pingpong", "spawn", "fairness", "latency", "selective",
              "copy", "restart", "call", "preemption", "fanout", "ets",
              "agents", "dist", "accounting")
MARKER = "@@beamlet-bench@@ "
HERE = Path(__file__).resolve().parent
PROJECT_ROOT = HERE.parent
ERLANG_SRC = HERE / "erlang"
BUSY_PCT = 10  # other load (percent of the machine) above which a run is flagged

PEER_PACKAGES = {"gevent": "gevent", "pykka": "pykka"}
PURE_RUNS_AS = "beamlet"  # the "pure" peer: beamlet's runners, pure-Python core


def load(name: str):
    if name not in BENCHMARKS:
        raise KeyError(f"unknown benchmark {name!r}; known: {', '.join(BENCHMARKS)}")
    return importlib.import_module(f"benchmarks.{name}")


def params_for(name: str, system: str, quick: bool, round_index: int = 0) -> dict:
    mod = load(name)
    p = dict(mod.params(quick))
    adjust = getattr(mod, "adjust", None)
    if adjust is not None:
        p = adjust(system, p, quick)
    per_round = getattr(mod, "per_round", None)
    if per_round is not None:
        p = per_round(p, round_index)
    return p


def merge_rounds(rounds: list[list[dict]]) -> list[dict]:
    """One record per row: the median over rounds (fresh processes each)."""
    if len(rounds) == 1:
        return rounds[0]
    groups: dict = {}
    for recs in rounds:
        for r in recs:
            groups.setdefault(row_key(r), []).append(r)
    out = []
    for group in groups.values():
        vals = [r["value"] for r in group if r.get("value") is not None]
        ok = [r for r in group if r.get("status") == "ok"]
        base = dict(ok[0] if ok else group[0])
        if vals:
            base["value"] = median(vals)
            base["status"] = "ok"
            base["rounds"] = vals
            if len(vals) > 1:
                base["note"] = (base.get("note", "") + "; " if base.get("note") else "") + \
                    f"median of {len(vals)} rounds (fresh processes)"
        measured = [r["measured"] for r in group if r.get("measured") is not None]
        if measured:  # a difference figure: the median of what was measured, settled
            base["measured"] = median(measured)
            settle_record(base)
            if len(measured) > 1:  # the note's p99s are the first round's
                base["measured_rounds"] = measured
                per_round = "measured per round: " + ", ".join(f"{m:.3g}" for m in measured)
                base["note"] = f"{base['note']}; {per_round}" if base.get("note") else per_round
        samples = [x for r in group for x in (r.get("samples") or [])]
        if samples:
            base["samples"] = samples
        busy = [r["busy"] for r in group if r.get("busy")]
        base.pop("busy", None)
        if len(busy) * 2 > len(group):  # flagged when most rounds ran beside load
            base["busy"] = max(busy)
        out.append(base)
    return out


# ------------------------------------------------------------------ worker

def run_in_process(name: str, system: str, params: dict) -> list[dict]:
    """Run one benchmark for one Python system in this interpreter."""
    mod = load(name)
    fn = getattr(mod, f"run_{PURE_RUNS_AS if system == 'pure' else system}", None)
    if system == "pure" and _compiled_core():
        raise RuntimeError("the 'pure' peer runs with BEAMLET_PURE_PYTHON=1, but the "
                           "compiled core was loaded")
    try:
        if fn is None:
            raise NotAvailable(f"no {system} version of {name}")
        return settle_noise(fn(params), mod.FIGURES)
    except NotAvailable as e:
        return placeholder_records(mod, system, params, "n/a", str(e))


def placeholder_records(mod, system, params, status, reason):
    return [record(mod.NAME, system, f.metric, None, f.unit, params,
                   note=reason, status=status)
            for f in mod.FIGURES]


def worker_main(argv: list[str]) -> int:
    name, system, params_json = argv
    params = json.loads(params_json)
    try:
        records = run_in_process(name, system, params)
    except BaseException as e:  # noqa: BLE001 - reported, not hidden
        tb = traceback.format_exc()
        sys.stderr.write(tb)
        mod = load(name)
        records = placeholder_records(mod, system, params, "error",
                                      f"{type(e).__name__}: {e}"[:300])
    for r in records:
        r["system"] = system  # "pure" ran beamlet's code: its rows are the pure build's
    sys.stdout.write(MARKER + json.dumps(records) + "\n")
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip interpreter teardown of a million objects


# ------------------------------------------------------------- /proc/stat

def cpu_snapshot() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine."""
    with open("/proc/stat") as f:
        parts = f.readline().split()[1:]
    v = [int(x) for x in parts[:8]]
    user, nice, system, idle, iowait, irq, softirq, steal = v
    busy = user + nice + system + irq + softirq + steal
    return busy, busy + idle + iowait


def busy_percent(seconds: float) -> float:
    b0, t0 = cpu_snapshot()
    time.sleep(seconds)
    b1, t1 = cpu_snapshot()
    return 100.0 * (b1 - b0) / max(1, t1 - t0)


# ----------------------------------------------------------------- Erlang

class Erlang:
    """Compiles benchmarks/erlang/*.erl once into a temp dir and runs modules."""

    def __init__(self):
        self.erl = shutil.which("erl")
        self.erlc = shutil.which("erlc")
        self.ebin = None
        self.error = None
        self.version = None

    @property
    def available(self) -> bool:
        return bool(self.erl and self.erlc)

    def compile(self) -> bool:
        if self.ebin or self.error:
            return self.ebin is not None
        if not self.available:
            self.error = "erl/erlc not on PATH"
            return False
        self.ebin = tempfile.mkdtemp(prefix="beamlet-bench-ebin-")
        srcs = sorted(str(p) for p in ERLANG_SRC.glob("*.erl"))
        r = subprocess.run([self.erlc, "-o", self.ebin, *srcs],
                           check=False, capture_output=True, text=True)
        if r.returncode != 0:
            self.error = "erlc failed: " + (r.stderr or r.stdout).strip()[-400:]
            shutil.rmtree(self.ebin, ignore_errors=True)
            self.ebin = None
            return False
        try:
            v = subprocess.run(
                [self.erl, "-noshell", "-eval",
                 ('io:format("OTP ~s, ERTS ~s", [erlang:system_info(otp_release),'
                  ' erlang:system_info(version)]), halt().')],
                check=False, capture_output=True, text=True, timeout=30)
            self.version = v.stdout.strip()
        except (OSError, subprocess.SubprocessError):
            self.version = "?"
        return True

    def command(self, name: str, params: dict) -> list[str]:
        expr = f"bl_{name}:main({erlang_term(params)}), halt()."
        # +S 1:1: one scheduler, like one beamlet node on one OS thread.
        # +P: room for the 1,000,000 idle processes of the spawn benchmark.
        return [self.erl, "+S", "1:1", "+P", "2097152", "-noshell", "-pa", self.ebin,
                "-eval", expr]

    def cleanup(self):
        if self.ebin:
            shutil.rmtree(self.ebin, ignore_errors=True)
            self.ebin = None


def erlang_term(v) -> str:
    """A Python parameter value as an Erlang literal (maps with atom keys)."""
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "undefined"
    if isinstance(v, (int, float)):
        return repr(float(v)) if isinstance(v, float) else str(v)
    if isinstance(v, str):
        return '<<"' + v.replace("\\", "\\\\").replace('"', '\\"') + '">>'
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(erlang_term(x) for x in v) + "]"
    if isinstance(v, dict):
        return "#{" + ",".join(f"'{k}' => {erlang_term(x)}" for k, x in v.items()) + "}"
    raise TypeError(f"cannot pass {type(v).__name__} to Erlang")


def parse_erlang_output(name: str, params: dict, out: str) -> list[dict]:
    """Lines `@@<TAB>metric<TAB>case<TAB>value<TAB>unit<TAB>note[<TAB>samples]`."""
    recs = []
    for line in out.splitlines():
        if not line.startswith("@@\t"):
            continue
        f = line.split("\t")
        _, metric, case, value, unit, note = f[:6]
        samples = None
        if len(f) > 6 and f[6]:
            samples = [float(x) for x in f[6].split(",")]
        val = None if value in ("null", "undefined") else float(value)
        recs.append(record(name, "erlang", metric, val, unit, params,
                           case=None if case == "-" else case,
                           note=note or None, samples=samples))
    return recs


# ------------------------------------------------------------- one run

def child_env() -> dict:
    env = dict(os.environ)
    root = str(PROJECT_ROOT)
    pp = env.get("PYTHONPATH", "")
    env["PYTHONPATH"] = root + (os.pathsep + pp if pp else "")
    env.setdefault("PYTHONHASHSEED", "0")
    return env


def run_one(name: str, system: str, params: dict, *, erlang: Erlang | None = None,
            timeout: float = 600.0) -> tuple[list[dict], dict]:
    """Run (benchmark, system) in a fresh subprocess. Returns (records, run info)."""
    mod = load(name)
    if system == "erlang":
        if not (ERLANG_SRC / f"bl_{name}.erl").exists():
            return placeholder_records(mod, system, params, "n/a",
                                       f"no Erlang version of {name}"), {}
        erlang = erlang or Erlang()
        if not erlang.compile():
            return placeholder_records(mod, system, params, "skipped", erlang.error), {}
        cmd = erlang.command(name, params)
    else:
        cmd = [sys.executable, "-m", "benchmarks.harness", "worker", name, system,
               json.dumps(params)]
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    b0, _ = cpu_snapshot()
    w0 = time.perf_counter()
    env = child_env()
    if system == "pure":
        env["BEAMLET_PURE_PYTHON"] = "1"
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=str(PROJECT_ROOT),
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the child's own session only
        out, err = proc.communicate()
        timed_out = True
    wall = time.perf_counter() - w0
    b1, _ = cpu_snapshot()
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    child_cpu = (ru1.ru_utime - ru0.ru_utime) + (ru1.ru_stime - ru0.ru_stime)
    hz = os.sysconf("SC_CLK_TCK")
    ncpu = os.cpu_count() or 1
    machine_busy_s = (b1 - b0) / hz
    other = max(0.0, machine_busy_s - child_cpu)
    info = {"benchmark": name, "system": system, "wall_s": round(wall, 3),
            "cpu_s": round(child_cpu, 3),
            "other_load_pct": round(100.0 * other / max(1e-9, wall * ncpu), 1),
            "returncode": proc.returncode}

    if timed_out:
        recs = placeholder_records(mod, system, params, "error",
                                   f"timed out after {timeout:.0f} s")
    elif system == "erlang":
        recs = settle_noise(parse_erlang_output(name, params, out), mod.FIGURES)
        if proc.returncode != 0 or not recs:
            tail = (err or out).strip().splitlines()[-3:]
            recs = recs or placeholder_records(
                mod, system, params, "error",
                f"erl exited {proc.returncode}: " + " | ".join(tail)[:300])
    else:
        recs = None
        for line in out.splitlines():
            if line.startswith(MARKER):
                recs = json.loads(line[len(MARKER):])
        if recs is None:
            tail = err.strip().splitlines()[-3:] if err else ["no output"]
            recs = placeholder_records(
                mod, system, params, "error",
                f"worker exited {proc.returncode}: " + " | ".join(tail)[:300])
    if info["other_load_pct"] > BUSY_PCT:
        for r in recs:
            r["busy"] = info["other_load_pct"]
    return recs, info


# ------------------------------------------------------------ the suite

def peer_status(system: str) -> str | None:
    """None when the peer can run here, else the reason it is skipped."""
    if system == "asyncio":
        return None
    if system in PEER_PACKAGES:
        if importlib.util.find_spec(PEER_PACKAGES[system]) is None:
            return f"{system} not installed (pip install 'beamlet[peers]')"
        return None
    if system == "erlang":
        if not (shutil.which("erl") and shutil.which("erlc")):
            return "erl/erlc not on PATH (Debian: apt-get install erlang-nox)"
        return None
    if system == "pure":
        if not _compiled_core():
            return "beamlet itself runs the pure-Python core here (no compiled core built)"
        return None
    return f"unknown peer {system!r}"


def _compiled_core() -> bool:
    """Do beamlet's runs here use the compiled core? (They inherit this environment.)"""
    from vm.lowlevel import compiled

    return compiled()


def version_of(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def machine_info(busy_before: float, quick: bool, argv: list[str] | None) -> dict:
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = None
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    mem = round(int(line.split()[1]) / 1048576, 1)
    except OSError:
        pass
    return {
        "date": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "command": "beamlet bench " + " ".join(argv or []),
        "host": f"{platform.system()} {platform.release()} {platform.machine()}",
        "cpu": model, "nproc": os.cpu_count(), "mem_gib": mem,
        "python": platform.python_version(),
        "core": "compiled" if _compiled_core() else "pure Python",
        "packages": {d: version_of(d) for d in ("greenlet", "msgpack", "gevent", "pykka")},
        "busy_before_pct": round(busy_before, 1),
        "quick": quick,
    }


def run_suite(names=None, peers=None, *, quick=False, rounds=None, argv=None, progress=None):
    """Run the benchmarks and return the JSON document (a dict).

    Each (benchmark, system) runs `rounds` times (default 1 with quick, else 3),
    each in a fresh subprocess, interleaved across systems so that a change in
    the machine's load hits every system alike; rows report the median.
    """
    rounds = rounds or (1 if quick else 3)
    names = list(names or BENCHMARKS)
    peers = list(PEERS if peers is None else peers)
    for n in names:
        load(n)
    say = progress or (lambda s: None)
    busy_before = busy_percent(0.5 if quick else 1.0)
    doc = {"machine": machine_info(busy_before, quick, argv), "results": [],
           "skipped": [], "runs": []}
    erlang = Erlang()
    systems = ["beamlet"]
    for p in peers:
        why = peer_status(p)
        if why:
            doc["skipped"].append({"system": p, "reason": why})
        else:
            systems.append(p)
    try:
        if "erlang" in systems:
            if erlang.compile():
                doc["machine"]["erlang"] = erlang.version
            else:
                doc["skipped"].append({"system": "erlang", "reason": erlang.error})
                systems.remove("erlang")
        for n in names:
            per_system = {s: [] for s in systems}
            for k in range(rounds):
                for s in systems:
                    params = params_for(n, s, quick, k)
                    tag = f"{n:<10} {s:<8}" + (f" round {k + 1}/{rounds}" if rounds > 1 else "")
                    say(f"{tag} ...")
                    recs, info = run_one(n, s, params, erlang=erlang,
                                         timeout=120 if quick else 900)
                    per_system[s].append(recs)
                    if info:
                        info["round"] = k + 1
                        doc["runs"].append(info)
                        say(f"{tag} done in {info['wall_s']:.1f} s"
                            + (f"  (other load {info['other_load_pct']:.0f}%)"
                               if info["other_load_pct"] > BUSY_PCT else ""))
            for s in systems:
                doc["results"].extend(merge_rounds(per_system[s]))
    finally:
        erlang.cleanup()
    loads = [r["other_load_pct"] for r in doc["runs"]]
    doc["machine"]["other_load_max_pct"] = max(loads) if loads else 0.0
    doc["machine"]["systems"] = systems
    doc["machine"]["rounds"] = rounds
    return doc


# ------------------------------------------------------------ the table

def fmt_value(v, unit: str) -> str:
    if v is None:
        return "n/a"
    if unit in ("bytes", "B"):
        return f"{v:,.0f}"
    a = abs(v)
    if a >= 1e6:
        return f"{v / 1e6:.3g}M"
    if a >= 1e4:
        return f"{v / 1e3:.3g}k"
    if a >= 100:
        return f"{v:,.0f}"
    if a == 0:
        return "0"
    return f"{v:.3g}"


def fmt_ratio(r: float) -> str:
    """A ratio with two significant figures at least below 0.1: 0.0012x, never 0.00x."""
    if r >= 100:
        return f"{r:.0f}x"
    if r >= 10:
        return f"{r:.1f}x"
    if r >= 0.1:
        return f"{r:.2f}x"
    return f"{r:#.2g}x"


def row_key(r):
    return (r["benchmark"], r["metric"], r["params"].get("case"))


def collect_rows(doc):
    """Ordered rows: key -> {system: record}."""
    rows: dict = {}
    order = {s: i for i, s in enumerate(SYSTEMS)}
    for r in sorted(doc["results"], key=lambda r: (BENCHMARKS.index(r["benchmark"])
                                                   if r["benchmark"] in BENCHMARKS else 99,
                                                   order.get(r["system"], 9))):
        rows.setdefault(row_key(r), {})[r["system"]] = r
    # A system that could not run at all reports each metric once, without a
    # case; spread that entry over the metric's per-case rows.
    for key in [k for k in rows if k[2] is None]:
        siblings = [k for k in rows if k[:2] == key[:2] and k[2] is not None]
        if not siblings or any(r.get("status") == "ok" for r in rows[key].values()):
            continue
        for k in siblings:
            for s, r in rows[key].items():
                rows[k].setdefault(s, r)
        del rows[key]
    return rows


def ratio(b, p):
    """beamlet/peer, or None where it would mean nothing (a value missing, zero or
    below: lateness can be measured below zero, and a ratio of signs says nothing)."""
    if not b or not p:
        return None
    bv, pv = b.get("value"), p.get("value")
    if bv is None or pv is None or bv <= 0 or pv <= 0:
        return None
    return bv / pv


def check_target(t, cells) -> tuple[str, str]:
    """(verdict, detail) for a target given the row's cells."""
    b = cells.get("beamlet")
    if not b or b.get("value") is None:
        return "n/a", "beamlet n/a"
    if t.kind == "ratio":
        r = ratio(b, cells.get(t.vs))
        if r is None:
            return "n/a", f"no {t.vs} figure"
        return ("PASS" if r >= t.threshold else "MISS"), fmt_ratio(r)
    v = b["value"]
    ok = v >= t.threshold if t.kind == "min" else v <= t.threshold
    detail = fmt_value(v, b["unit"])
    if within_noise(b):
        detail += f", within noise: measured {fmt_value(b['measured'], b['unit'])}"
    return ("PASS" if ok else "MISS"), detail


def figure_meta():
    """(benchmark, metric) -> Figure, and (benchmark, metric, case) -> Target."""
    figures, targets = {}, {}
    for n in BENCHMARKS:
        try:
            mod = load(n)
        except ImportError:
            continue
        for f in mod.FIGURES:
            figures[(n, f.metric)] = f
        for t in getattr(mod, "TARGETS", ()):
            targets[(n, t.metric, t.case)] = t
    return figures, targets


def format_table(doc) -> str:
    systems = doc["machine"].get("systems") or sorted(
        {r["system"] for r in doc["results"]}, key=SYSTEMS.index)
    peers = [s for s in systems if s != "beamlet"]
    rows = collect_rows(doc)
    figures, targets = figure_meta()
    header = ["benchmark", "figure", "unit", "beamlet"] + \
             [f"{p} (b/{p})" for p in peers] + ["target", ""]
    lines = []
    busy_marks = noise_marks = False
    for key, cells in rows.items():
        bench, metric, case = key
        unit = next(iter(cells.values()))["unit"]
        fig = metric + (f" [{case}]" if case else "")

        def cell(s, cells=cells, unit=unit):
            r = cells.get(s)
            if r is None:
                return "-"
            if r.get("status") == "error":
                return "error"
            if r.get("status") == "skipped":
                return "skipped"
            txt = fmt_value(r.get("value"), unit)
            if within_noise(r):
                nonlocal noise_marks
                noise_marks = True
                txt += "~"
            if r.get("busy"):
                nonlocal busy_marks
                busy_marks = True
                txt += "*"
            return txt

        row = [bench, fig, unit, cell("beamlet")]
        meta = figures.get((bench, metric))
        for p in peers:
            c = cell(p)
            meaningful = meta is None or (meta.ratio and not meta.difference)
            rt = ratio(cells.get("beamlet"), cells.get(p)) if meaningful else None
            row.append(c + (f" ({fmt_ratio(rt)})" if rt is not None else ""))
        t = targets.get(key)
        if t:
            verdict, detail = check_target(t, cells)
            row += [t.describe(), f"{verdict} ({detail})" if verdict != "n/a" else "n/a"]
        else:
            row += ["", ""]
        lines.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *lines, strict=True)]

    def fmt(row):
        out = []
        for i, (x, w) in enumerate(zip(row, widths, strict=True)):
            out.append(str(x).ljust(w) if i < 3 or i >= len(row) - 2 else str(x).rjust(w))
        return "  ".join(out).rstrip()

    text = [fmt(header), fmt(["-" * w for w in widths])]
    prev = None
    for row in lines:
        if prev is not None and row[0] != prev:
            text.append("")
        prev = row[0]
        text.append(fmt(row))
    text.append("")
    text.extend(notes(doc, rows, busy_marks, noise_marks))
    return "\n".join(text)


def notes(doc, rows, busy_marks, noise_marks=False) -> list[str]:
    m = doc["machine"]
    out = [("Ratios are beamlet/peer from this run (for 'lower is better' units "
            "such as ms, us and bytes, below 1x means beamlet is better). Differences "
            "(p99 with load minus p99 without) have no ratio: the ratio of two "
            "differences means nothing.")]
    if noise_marks:
        out.append("~: a difference measured below zero, which is noise: recorded as 0 "
                   "(the measured value follows).")
    out.append(f"Machine: {m.get('cpu')}, {m.get('nproc')} cores; Python {m.get('python')}"
               + (f"; beamlet's core: {m['core']}" if m.get("core") else "")
               + (f"; {m['erlang']} (+S 1:1)" if m.get("erlang") else "")
               + ("; --quick (small sizes)" if m.get("quick") else "")
               + (f"; each figure is the median of {m['rounds']} rounds, each (benchmark, "
                  "system) in a fresh process" if m.get("rounds", 1) > 1 else ""))
    runs = doc.get("runs", [])
    busy = [r for r in runs if r["other_load_pct"] > BUSY_PCT]
    if m.get("busy_before_pct", 0) > BUSY_PCT or busy:
        loads = sorted(r["other_load_pct"] for r in busy)
        if len(busy) <= 4:
            which = ", ".join(f"{r['benchmark']}/{r['system']} {r['other_load_pct']:.0f}%"
                              for r in busy)
        else:
            which = (f"{len(busy)} of {len(runs)} runs (median {loads[len(loads) // 2]:.0f}%,"
                     f" max {loads[-1]:.0f}% of the machine)")
        out.append(f"NOTE: the machine was busy: {m.get('busy_before_pct')}% before the run; "
                   f"other processes' load above {BUSY_PCT}% during "
                   + (which or "no run")
                   + ". Figures marked * ran beside that load and may be off.")
    for s in doc.get("skipped", []):
        out.append(f"skipped {s['system']}: {s['reason']}")
    seen = set()
    for cells in rows.values():
        for s, r in cells.items():
            if within_noise(r):
                out.append(f"within noise: {r['benchmark']}/{s} {r['metric']}"
                           + (f" [{r['params']['case']}]" if r["params"].get("case") else "")
                           + f": measured {r['measured']:.3g} {r['unit']}, recorded as 0")
            if r.get("status") in ("n/a", "error") and r.get("note"):
                k = (r["benchmark"], s, r["note"])
                if k in seen:
                    continue
                seen.add(k)
                out.append(f"{r['status']}: {r['benchmark']}/{s}: {r['note']}")
            elif r.get("params", {}).get("scaled"):
                k = (r["benchmark"], s, "scaled")
                if k not in seen:
                    seen.add(k)
                    out.append(f"scaled: {r['benchmark']}/{s}: {r['params']['scaled']}")
    return out


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "worker":
        sys.exit(worker_main(sys.argv[2:]))
    print("usage: python -m benchmarks.harness worker BENCH SYSTEM PARAMS_JSON", file=sys.stderr)
    sys.exit(2)
