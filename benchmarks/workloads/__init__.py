"""The workload library of `beamlet fairness`: one module per lesson.

Each module is a self-contained program with a `main()` (run it with
`beamlet fairness NAME`, or `beamlet fairness benchmarks/workloads/NAME.py`),
a docstring saying what it teaches, and labels on its processes
(`vm.process_flag("label", ...)`) so that `--group-by label` groups them by
role. The modules import nothing from one another: `beamlet fairness`
compiles the file it runs with reduction checks, and only that file.
docs/fairness.md lists them with what to look for in each report.
"""


def names() -> list[str]:
    """The library's workloads, by name."""
    from stdlib.fairness.runner import library_names

    return library_names()
