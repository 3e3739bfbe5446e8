"""Every golden trace recorded on real OTP must be reproduced by beamlet.

Parametrised over the union of golden/*.trace and the public functions of
scenarios.py, so a golden file without a Python twin (or a Python scenario
without a golden file, i.e. without an Erlang twin) fails instead of being
silently skipped. Each scenario runs on a fresh virtual-clock node in a
worker thread with a wall-clock guard, so a hung node fails one test rather
than the whole run.

CONFORMANCE_SEEDS=N reruns every scenario on N seeded nodes as well (seeds
0..N-1, the scheduler then picks among runnable processes pseudo-randomly):
a scenario must not depend on an interleaving OTP does not guarantee.
"""
from __future__ import annotations

import difflib
import inspect
import os
import pathlib
import threading

import pytest

from . import scenarios
from . import trace

HERE = pathlib.Path(__file__).resolve().parent
GOLDEN_DIR = HERE / "golden"
WALL_CLOCK_LIMIT = 30.0  # seconds; virtual time makes a healthy run instant
SEEDS = int(os.environ.get("CONFORMANCE_SEEDS", "0") or 0)

PYTHON_SCENARIOS = {
    name: fn
    for name, fn in vars(scenarios).items()
    if inspect.isfunction(fn) and fn.__module__ == scenarios.__name__
    and not name.startswith("_")
}
GOLDEN_SCENARIOS = {path.stem: path for path in GOLDEN_DIR.glob("*.trace")}
ALL_SCENARIOS = sorted(set(PYTHON_SCENARIOS) | set(GOLDEN_SCENARIOS))


def run_scenario(fn, **node_options) -> list[str]:
    """trace.run(fn) in a daemon thread; fails the test if it does not end."""
    result: dict = {}

    def target():
        try:
            result["lines"] = trace.run(fn, **node_options)
        except BaseException as exc:  # noqa: BLE001 - reported below
            result["error"] = exc

    worker = threading.Thread(target=target, name=f"conformance-{fn.__name__}",
                              daemon=True)
    worker.start()
    worker.join(WALL_CLOCK_LIMIT)
    if worker.is_alive():
        pytest.fail(f"scenario {fn.__name__} still running after "
                    f"{WALL_CLOCK_LIMIT:.0f}s of wall-clock time", pytrace=False)
    if "error" in result:
        raise result["error"]
    return result["lines"]


def test_golden_files_exist():
    assert GOLDEN_SCENARIOS, f"no golden traces in {GOLDEN_DIR}"


@pytest.mark.parametrize("name", ALL_SCENARIOS)
def test_conformance(name):
    if name not in GOLDEN_SCENARIOS:
        pytest.fail(f"scenarios.py has {name} but golden/{name}.trace is missing: "
                    "write its Erlang twin in erlang/scenarios.erl and run "
                    "tests/conformance/record_otp.py", pytrace=False)
    if name not in PYTHON_SCENARIOS:
        pytest.fail(f"golden/{name}.trace has no Python twin: add {name}() to "
                    "tests/conformance/scenarios.py", pytrace=False)
    expected = GOLDEN_SCENARIOS[name].read_text(encoding="utf-8").splitlines()
    for seed in [None, *range(SEEDS)]:
        actual = run_scenario(PYTHON_SCENARIOS[name], seed=seed)
        if actual != expected:
            where = "" if seed is None else f" (seed={seed})"
            diff = "\n".join(difflib.unified_diff(
                expected, actual, fromfile=f"golden/{name}.trace (OTP)",
                tofile=f"{name} (beamlet){where}", lineterm=""))
            pytest.fail(f"trace of {name}{where} differs from real OTP:\n{diff}",
                        pytrace=False)
