"""`beamlet bench`: the command line of the benchmark suite.

`beamlet bench` reaches it lazily (stdlib/cli.py registers a LazyCommand,
so the other commands never import benchmarks); `python -m benchmarks` and
`python -m benchmarks.<name>` run the same command.
"""

from __future__ import annotations

import json
import sys

import click

from . import harness
from .common import PEERS


def _peers(value: str | None) -> list[str]:
    if value is None:
        return list(PEERS)
    if value.strip().lower() in ("", "none"):
        return []
    out = []
    for p in value.split(","):
        p = p.strip().lower()
        if p == "beam":
            p = "erlang"
        if p not in PEERS:
            raise click.BadParameter(f"unknown peer {p!r}; choose from {', '.join(PEERS)}",
                                     param_hint="--vs")
        if p not in out:
            out.append(p)
    return out


@click.command("bench")
@click.argument("names", nargs=-1, metavar="[NAME]...")
@click.option("--vs", "vs", metavar="PEER,...", default=None,
              help="Peers to run beside beamlet: asyncio, gevent, pykka, erlang "
                   "(default: all of them that are installed; 'none' for beamlet alone).")
@click.option("--json", "json_file", type=click.Path(dir_okay=False), default=None,
              help="Also write every figure as JSON to FILE.")
@click.option("--quick", is_flag=True,
              help="Small sizes and 1 repetition: the whole run takes under a minute.")
@click.option("--rounds", type=click.IntRange(1, 20), default=None,
              help="Fresh-process runs of each (benchmark, system), median reported "
                   "(default: 1 with --quick, else 3).")
@click.option("--plot", "plot_dir", type=click.Path(file_okay=False), default=None,
              help="Write PNG charts to DIR (needs matplotlib: pip install 'beamlet[plot]').")
def bench(names, vs, json_file, quick, rounds, plot_dir):
    """Benchmark beamlet against asyncio, gevent, Pykka and real BEAM, side by side.

    NAME is one of: {names} (default: all). Each (benchmark, system) runs in a fresh
    subprocess; the table shows each figure, the ratio beamlet/peer from the
    same run, and each target with PASS or MISS. A difference figure (p99 with
    load minus p99 without) measured below zero is noise: it is shown as 0 and
    marked ~, with the measured value under the table.
    """
    for n in names:
        if n not in harness.BENCHMARKS:
            raise click.BadParameter(
                f"unknown benchmark {n!r}; choose from {', '.join(harness.BENCHMARKS)}",
                param_hint="NAME")
    peers = _peers(vs)
    if plot_dir is not None:
        from . import plot
        why = plot.unavailable()
        if why:
            raise click.UsageError(why)
    argv = [*names, *(["--vs", vs] if vs is not None else []),
            *(["--quick"] if quick else []), *(["--rounds", str(rounds)] if rounds else []),
            *(["--json", json_file] if json_file else []),
            *(["--plot", plot_dir] if plot_dir else [])]
    doc = harness.run_suite(names or None, peers, quick=quick, rounds=rounds, argv=argv,
                            progress=lambda s: click.echo(s, err=True))
    click.echo(harness.format_table(doc))
    if json_file:
        with open(json_file, "w") as f:
            json.dump(doc, f, indent=1)
        click.echo(f"JSON written to {json_file}", err=True)
    if plot_dir is not None:
        from . import plot
        for path in plot.write_all(doc, plot_dir):
            click.echo(f"plot written to {path}", err=True)


# The list in the help is the suite's own, so it cannot leave a benchmark out.
bench.help = bench.help.replace("{names}", ", ".join(harness.BENCHMARKS))


def main_for(name: str):
    """`python -m benchmarks.<name> [options]`: the bench command for one benchmark."""
    bench.main(args=[name, *sys.argv[1:]], prog_name=f"python -m benchmarks.{name}")
