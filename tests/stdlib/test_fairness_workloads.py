"""Each workload of benchmarks/workloads runs briefly under the virtual clock,
and is what the library promises: a main(), a docstring, labelled processes."""

import importlib
import os

import pytest

from benchmarks import workloads
from stdlib.fairness import report, runner

NAMES = workloads.names()


def test_the_library_has_the_workloads_the_docs_list():
    assert {"hogs", "c_hogs", "io_bound", "server_clients", "bursty",
            "priority_inversion"} <= set(NAMES)
    path = os.path.join(os.path.dirname(__file__), "..", "..", "docs", "fairness.md")
    with open(path, encoding="utf-8") as f:
        doc = f.read()
    for name in NAMES:
        assert f"`{name}`" in doc, f"docs/fairness.md does not list the workload {name}"


def test_the_command_help_lists_the_library():
    from click.testing import CliRunner

    from stdlib.cli import main

    text = " ".join(CliRunner().invoke(main, ["fairness", "--help"]).output.split())
    assert "library: " + ", ".join(NAMES) + "." in text


@pytest.mark.parametrize("name", NAMES)
def test_workload_runs_briefly_and_labels_its_processes(name):
    module = importlib.import_module(f"benchmarks.workloads.{name}")
    assert callable(module.main) and "What it teaches" in module.__doc__
    # On the virtual clock a C call costs one reduction, a microsecond, whatever
    # it takes in real time: c_hogs runs its calls on small ranges here.
    args = (200,) if name == "c_hogs" else ()
    raw = runner.run_once(runner.workload_path(name), args=args, seconds=0.05, clock="virtual",
                          seed=1, reductions=200, group_by="label")
    run = report.run_report(raw, group_by="label")
    assert run["ended"] == "timeout", run["error"]
    labelled = [p for p in run["processes"] if p["label"] is not None]
    assert len({p["label"] for p in labelled}) >= 2
    assert run["overall"]["slices"] > 0
