"""Every benchmark runs at tiny sizes and reports sane records (not how fast)."""

import pytest

from benchmarks import selftest

NAMES = ["ring", "pingpong", "spawn", "fairness", "latency", "selective", "copy", "restart", "call",
         "preemption", "fanout", "ets", "agents"]


@pytest.mark.parametrize("name", NAMES)
def test_benchmark_runs_and_reports_sane_fields(name):
    records = getattr(selftest, name)()
    assert records, f"{name} reported nothing"
    assert not selftest.problems(records, name)
    systems = {r["system"] for r in records}
    assert {"beamlet", "asyncio"} <= systems
