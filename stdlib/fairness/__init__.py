"""Fairness reports: how the scheduler treated each process of a workload.

`beamlet fairness FILE` is the front end (stdlib/fairness/cli.py); this
package is also usable from a script:

    from stdlib import fairness
    doc = fairness.run_sweep("my_workload.py", seconds=2, clock="virtual",
                             policies=["beam", "stride"])
    print(fairness.document_text(doc))

Modules: `report` (the figures, pure functions: `jain`, `percentile`,
grouping), `runner` (one run in a fresh node), `sweep` (one run per
combination of settings, the JSON document), `text` (the printed tables),
`plot` (charts, with matplotlib from the `plot` extra), `schema.json` (the
document's JSON Schema). docs/fairness.md defines every figure.
"""

from .report import GROUP_BY, distribution, jain, percentile
from .runner import WorkloadError, parse_priorities, run_once
from .sweep import SCHEMA_ID, combinations, run_sweep
from .text import document_text

__all__ = ["GROUP_BY", "SCHEMA_ID", "WorkloadError", "combinations", "distribution",
           "document_text", "jain", "parse_priorities", "percentile", "run_once",
           "run_sweep", "schema"]


def schema() -> dict:
    """The JSON Schema of the document `run_sweep` returns (and `--json` prints)."""
    import json
    import os

    with open(os.path.join(os.path.dirname(__file__), "schema.json"), encoding="utf-8") as f:
        return json.load(f)
