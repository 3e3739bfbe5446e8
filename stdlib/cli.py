"""The `beamlet` command line: run, demo, bench, shell, audit, approvals.

What this module owns: turning command-line words into calls of the
library; no behaviour of its own lives here.

Exit statuses, the same for every command: 0 success; 1 the program (or a
shell command) failed; 2 a usage error (click's own, or arguments `main`
cannot take); 130 interrupted by Ctrl-C (no "Aborted!", no traceback).
"""

from __future__ import annotations

import sys

import click

EXIT_INTERRUPTED = 130


def core_build() -> str:
    """Which build of the VM this interpreter runs: "compiled", "pure Python", or
    "partly compiled (...)" naming the modules that run pure."""
    from vm.lowlevel import compiled_modules

    modules = compiled_modules()
    if all(modules.values()):
        return "compiled"
    if not any(modules.values()):
        return "pure Python"
    pure = ", ".join(f"vm.{m}" for m, c in modules.items() if not c)
    return f"partly compiled ({pure} pure Python: its extension is missing or stale)"


def _print_version(ctx, _param, value):
    if not value or ctx.resilient_parsing:
        return
    from importlib.metadata import version

    click.echo(f"beamlet {version('beamlet')} ({core_build()})")
    ctx.exit()


@click.group()
@click.option("--version", is_flag=True, expose_value=False, is_eager=True,
              callback=_print_version,
              help="Show the version and which build of the core runs (compiled or "
                   "pure Python), then exit.")
def main():
    """beamlet: an Erlang-style process VM for Python."""


def _interrupted(what: str) -> None:
    click.echo(f"beamlet: {what} interrupted", err=True)
    sys.exit(EXIT_INTERRUPTED)


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.argument("args", nargs=-1)
@click.option("--reductions", default=4000, show_default=True, type=click.IntRange(min=1),
              help="Reductions per time slice.")
@click.option("--seed", type=int, default=None, help="Seed for a reproducible interleaving.")
@click.option("--instrument", "instrument", multiple=True, metavar="MODULE",
              help="Also compile this module or package with reduction checks (repeatable).")
@click.option("--timeslice", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="SECONDS",
              help="Also preempt by a timer signal (for code without checks; not deterministic).")
@click.option("--sname", default=None, metavar="NAME",
              help="Make a distributed node NAME@<short host> (registered with EPMD).")
@click.option("--name", "long_name", default=None, metavar="NAME[@HOST]",
              help="Make a distributed node with a long (fully qualified) name.")
@click.option("--cookie", default=None, metavar="COOKIE",
              help="The magic cookie (default: $ERLANG_COOKIE, then ~/.erlang.cookie).")
@click.option("--listen", default=None, metavar="ADDRESS",
              help="Address for distribution connections (default 127.0.0.1, loopback only).")
@click.option("--visible", is_flag=True, help="Be a visible node (default hidden, as erl -hidden).")
@click.option("--nodes", default=1, show_default=True, type=click.IntRange(min=1), metavar="N",
              help="Start N connected local nodes (one OS process each); main runs on the first.")
@click.option("--allow-remsh", is_flag=True,
              help="Let `beamlet shell --remsh` attach (anyone with the cookie can run code).")
@click.option("--entry", default="main", hidden=True)
def run(file, args, reductions, seed, instrument, timeslice, sname, long_name, cookie, listen,
        visible, nodes, allow_remsh, entry):
    """Run FILE as a program inside a fresh node.

    FILE runs as `__main__` with reduction checks compiled in (its busy loops
    are preempted), as the node's first process. If FILE calls vm.run(main)
    itself, main runs there, once. Otherwise its main() runs after the
    module body, and what it returns is printed unless it is None.

    ARGS reach the program as sys.argv[1:] and, by main's signature:
    def main() takes none; def main(args) gets them as one list of strings;
    def main(a, b) gets one per parameter; def main(*args) gets them spread.
    Put `--` before ARGS that start with a dash.

    With --sname or --name the node joins Erlang's distribution (see
    docs/distribution.md); with --nodes N the other nodes run FILE's
    worker_node() if it has one.

    Exit status: 0 success, 1 the program failed, 2 usage error,
    130 interrupted.
    """
    from stdlib.runner import run_file

    sys.exit(run_file(file, list(args), reductions=reductions, seed=seed,
                      instrument=instrument, timeslice=timeslice, sname=sname, name=long_name,
                      cookie=cookie, listen=listen, hidden=not visible, nodes=nodes,
                      allow_remsh=allow_remsh, entry=entry))


@main.command()
@click.option("--seconds", default=3.0, show_default=True,
              type=click.FloatRange(min=0.5, max=3600),
              help="How long the showcase runs (0.5 to 3600).")
@click.option("--reports", is_flag=True,
              help="At the end, print the crash and supervisor reports the demo counted.")
def demo(seconds, reports):
    """The showcase: a supervision tree under a crash load, live (works in a pipe too)."""
    from stdlib.demo import run_demo

    try:
        run_demo(seconds=seconds, show_reports=reports)
    except KeyboardInterrupt:
        _interrupted("demo")


class LazyCommand(click.Command):
    """A command whose module is imported only when the command runs.

    `beamlet --help` lists it from `help` (the real command's first
    paragraph) alone; parsing its arguments
    (running it, or `beamlet NAME --help`) imports `module` and hands over to
    the command named `attr` there. This is how `bench` stays out of every
    other command's start-up: stdlib does not import `benchmarks` otherwise.
    """

    def __init__(self, name: str, module: str, attr: str, help: str):
        super().__init__(name, help=help, add_help_option=False)
        self.module = module
        self.attr = attr

    def load(self) -> click.Command:
        import importlib

        return getattr(importlib.import_module(self.module), self.attr)

    def make_context(self, info_name, args, parent=None, **extra):
        return self.load().make_context(info_name, args, parent=parent, **extra)


main.add_command(LazyCommand(
    "bench", "benchmarks.cli", "bench",
    "Benchmark beamlet against asyncio, gevent, Pykka and real BEAM, side by side."))


def _register_agents():
    from stdlib.agents_cli import approvals, audit

    main.add_command(audit)
    main.add_command(approvals)


_register_agents()


def _register_fairness():
    from stdlib.fairness.cli import fairness

    main.add_command(fairness)


_register_fairness()


@main.command()
@click.argument("file", required=False, type=click.Path(exists=True, dir_okay=False))
@click.option("-c", "--command", "commands", multiple=True, metavar="EXPR",
              help="Evaluate EXPR in the shell process, print the result, exit (repeatable).")
@click.option("--json", "as_json", is_flag=True,
              help="Print each command's value as one JSON document per line on stdout; "
                   "everything else (the program's prints, notices) goes to stderr.")
@click.option("--wait", default=0.0, show_default=True, type=click.FloatRange(min=0),
              help="With -c: seconds to let FILE's main run before the commands.")
@click.option("--reductions", default=4000, show_default=True, type=click.IntRange(min=1),
              help="Reductions per time slice.")
@click.option("--remsh", default=None, metavar="NODE",
              help="Attach to the running beamlet node NODE (started with --allow-remsh).")
@click.option("--cookie", default=None, metavar="COOKIE",
              help="With --remsh: the cookie (default: $ERLANG_COOKIE, then ~/.erlang.cookie).")
@click.option("--sname", default=None, metavar="NAME",
              help="With --remsh: this shell's own node name (default remsh<pid>).")
def shell(file, commands, as_json, wait, reductions, remsh, cookie, sname):
    """An interactive shell whose expressions run in a shell process.

    With FILE, FILE runs as a program in the same node (as `beamlet run`
    runs it), so you can watch and poke at it. help() inside lists the
    helpers (i, top, tree, trace, v, b, f, l, c, ...). Ctrl-C interrupts
    the running expression; twice quickly opens the break menu.

    With --remsh NODE, expressions run on that node instead, as erl -remsh.

    Exit status: 0 success, 1 a -c command failed, 2 usage error,
    130 interrupted.
    """
    if remsh is not None:
        if file is not None or as_json:
            raise click.UsageError("--remsh takes neither FILE nor --json")
        from stdlib.observer.remote import run_remsh

        sys.exit(run_remsh(remsh, commands=commands, cookie=cookie, sname=sname))
    from stdlib.observer.shell import run_shell

    try:
        status = run_shell(file, commands=commands, json=as_json, reductions=reductions,
                           wait=wait)
    except KeyboardInterrupt:
        _interrupted("shell")
    sys.exit(status)


if __name__ == "__main__":  # pragma: no cover
    main()
