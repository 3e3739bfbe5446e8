"""`beamlet fairness`: the command line of the fairness report.

What this module owns: parsing the options (lists for sweeps, priority
assignments), turning bad input into click usage errors that name the fix,
and choosing the output (text, `--json`, `--plot DIR`). The work is
`sweep.run_sweep`'s; the figures `report`'s.
"""

from __future__ import annotations

import contextlib
import json
import sys

import click

from .report import GROUP_BY
from .runner import library_names as _library_names

DEFAULT_SLICE_TIME = 0.00025
EXIT_INTERRUPTED = 130  # as every beamlet command (stdlib/cli.py)


def _list(value: str, param: str, convert, what: str) -> list:
    items = [x.strip() for x in value.split(",")]
    if not value.strip() or any(not x for x in items):
        raise click.BadParameter(f"{value!r} is not a comma-separated list of {what}",
                                 param_hint=param)
    out = []
    for x in items:
        try:
            out.append(convert(x))
        except ValueError as e:
            raise click.BadParameter(f"{x!r}: {e}", param_hint=param) from None
    return out


def _reductions(x: str) -> int:
    n = int(x.replace("_", ""))
    if n < 1:
        raise ValueError("reductions per slice must be at least 1")
    return n


def _slice_time(x: str):
    if x in ("off", "none"):
        return None
    t = float(x)
    if not 0 < t < 3600:
        raise ValueError("a slice time is seconds > 0 (e.g. 0.00025), or off")
    return t


def _policy(x: str) -> str:
    import vm.scheduling as scheduling

    if x != "beam" and x not in scheduling.POLICIES:
        raise ValueError(f"unknown policy; known: beam, {', '.join(sorted(scheduling.POLICIES))}")
    return x


@click.command()
@click.argument("file")
@click.option("--workload", "entry", default="main", show_default=True, metavar="NAME",
              help="The function of FILE to run (instead of main).")
@click.option("--seconds", default=5.0, show_default=True,
              type=click.FloatRange(min=0, min_open=True, max=86400),
              help="Stop the workload after this long (node clock), if it has not returned.")
@click.option("--seed", type=int, default=None,
              help="Seed for a reproducible interleaving (the same for every run of a sweep).")
@click.option("--clock", type=click.Choice(["real", "virtual"]), default="real",
              show_default=True,
              help="virtual: a slice lasts its reductions in microseconds, waits cost no time; "
                   "runs are exact and repeatable.")
@click.option("--group-by", type=click.Choice(GROUP_BY), default="initial_call",
              show_default=True, help="Group processes by spawned function, name or label.")
@click.option("--reductions", default="4000", show_default=True, metavar="N[,N...]",
              help="Reductions per slice; a list sweeps.")
@click.option("--slice-time", "slice_time", default=str(DEFAULT_SLICE_TIME), show_default=True,
              metavar="S[,S...]",
              help="Seconds after which a slice of compiled code ends while others wait "
                   "(off: none); a list sweeps. No effect under --seed or --clock virtual.")
@click.option("--policy", default="beam", show_default=True, metavar="NAME[,NAME...]",
              help="Scheduling policy: beam, beam-python, stride, cfs, lottery; a list sweeps.")
@click.option("--priority", "priority", multiple=True, metavar="KEY=LEVEL[,KEY=LEVEL...]",
              help="Give the processes whose group key is KEY that priority (low, normal, "
                   "high, max). Repeat the option to sweep over assignments ('none': as "
                   "spawned).")
@click.option("--json", "as_json", is_flag=True,
              help="Print one JSON document (schema: stdlib/fairness/schema.json).")
@click.option("--plot", "plot_dir", default=None, type=click.Path(file_okay=False),
              metavar="DIR", help="Write charts (PNG) into DIR (needs the plot extra).")
def fairness(file, entry, seconds, seed, clock, group_by, reductions, slice_time, policy,
             priority, as_json, plot_dir):
    """How the scheduler treated each process of FILE's workload.

    Runs FILE's main() (or --workload NAME) in a fresh node with scheduling
    accounting on, until it returns or --seconds pass, and reports per group
    and per process: CPU share, Jain's fairness index, queue delay and
    response time (p50, p99, max), slices and how they ended. FILE may also
    be the name of a workload of beamlet's library: {workloads}.

    Lists in --reductions, --slice-time, --policy (and a repeated
    --priority) run once per combination, with the same seed, and end with
    a comparison table. docs/fairness.md defines every figure.

    Exit status: 0 success (also when the workload failed: the report says
    so), 2 usage error, 130 interrupted.
    """
    from . import runner, sweep

    reductions_list = _list(reductions, "--reductions", _reductions, "integers")
    slice_times = _list(slice_time, "--slice-time", _slice_time, "seconds")
    policies = _list(policy, "--policy", _policy, "policy names")
    variants = []
    for text in priority or ("none",):
        try:
            variants.append(runner.parse_priorities(text))
        except ValueError as e:
            raise click.BadParameter(str(e), param_hint="--priority") from None
    try:
        path = runner.workload_path(file)
        runner.check_entry(path, entry)
    except runner.WorkloadError as e:
        raise click.UsageError(str(e)) from None
    if plot_dir is not None:
        from . import plot

        try:
            plot._pyplot()
        except plot.PlotUnavailable as e:
            raise click.UsageError(str(e)) from None
    if (seed is not None or clock == "virtual") and slice_times != [DEFAULT_SLICE_TIME]:
        click.echo("beamlet fairness: --slice-time has no effect under --seed or --clock "
                   "virtual (slices end by reductions only there)", err=True)
    info = sys.stderr if as_json else sys.stdout
    runs = len(reductions_list) * len(slice_times) * len(policies) * len(variants)
    charts: list = []

    def progress(label):
        if runs > 1:
            click.echo(f"running {label} ...", err=True)

    def on_run(index, raw, run):
        if plot_dir is not None:
            from . import plot

            prefix = "" if runs == 1 else f"{index + 1:02d}-{plot.slug(run['label'])}-"
            charts.extend(plot.plot_run(raw, run, plot_dir, prefix))

    # With --json, stdout carries the document alone: the workload's prints go to stderr.
    quiet = contextlib.redirect_stdout(sys.stderr) if as_json else contextlib.nullcontext()
    try:
        with quiet:
            doc = sweep.run_sweep(path, entry=entry, seconds=seconds, seed=seed, clock=clock,
                                  group_by=group_by, reductions=reductions_list,
                                  slice_times=slice_times, policies=policies,
                                  priorities=variants, progress=progress, on_run=on_run)
    except runner.WorkloadError as e:
        raise click.UsageError(str(e)) from None
    except KeyboardInterrupt:
        click.echo("beamlet: fairness interrupted", err=True)
        sys.exit(EXIT_INTERRUPTED)
    if plot_dir is not None and runs > 1:
        from . import plot

        charts.extend(plot.plot_comparison(doc, plot_dir))
    if as_json:
        click.echo(json.dumps(doc, indent=1))
    else:
        from .text import document_text

        click.echo(document_text(doc), nl=False)
    for chart in charts:
        click.echo(f"chart: {chart}", file=info)


# The list in the help is the library's own, so it cannot name a workload that is not there.
fairness.help = fairness.help.replace("{workloads}", ", ".join(_library_names()))
