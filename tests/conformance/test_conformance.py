"""Every golden trace recorded on real OTP must be reproduced by beamlet.

Scenario modules are discovered: `scenarios.py` (the core runtime, golden
files in golden/<name>.trace, test ids `<name>`) and every
`scenarios_<group>.py` (golden files in golden/<group>/<name>.trace, test
ids `<group>/<name>`), mirroring erlang/scenarios*.erl. The suite is
parametrised over the union of the golden files and the public functions
of those modules, so a golden file without a Python twin (or a Python
scenario without a golden file, i.e. without an Erlang twin) fails instead
of being silently skipped. A module that fails to import fails each of its
scenarios with the import error. Each scenario runs on a fresh
virtual-clock node in a worker thread with a wall-clock guard, so a hung
node fails one test rather than the whole run.

Known differences (known_differences.py) are checked line by line: the
test expects the golden trace with exactly the listed lines replaced, and
fails once beamlet matches OTP again, so the entry gets removed.

CONFORMANCE_SEEDS=N reruns every scenario on N seeded nodes as well (seeds
0..N-1, the scheduler then picks among runnable processes pseudo-randomly):
a scenario must not depend on an interleaving OTP does not guarantee.
"""
from __future__ import annotations

import difflib
import importlib
import inspect
import os
import pathlib
import threading
import traceback

import pytest

from vm.testing import InvariantChecker

from . import known_differences, trace

HERE = pathlib.Path(__file__).resolve().parent
GOLDEN_DIR = HERE / "golden"
CORE_MODULE = "scenarios"
WALL_CLOCK_LIMIT = 30.0  # seconds; virtual time makes a healthy run instant
SEEDS = int(os.environ.get("CONFORMANCE_SEEDS", "0") or 0)


def _group_of(module_name: str) -> str:
    return "" if module_name == CORE_MODULE else module_name[len(CORE_MODULE) + 1:]


def _key(group: str, name: str) -> str:
    return f"{group}/{name}" if group else name


def _python_scenarios():
    """(key -> function, group -> import error text) over every scenarios*.py."""
    found, broken = {}, {}
    for path in sorted(HERE.glob(f"{CORE_MODULE}*.py")):
        stem = path.stem
        if stem != CORE_MODULE and not stem.startswith(CORE_MODULE + "_"):
            continue
        group = _group_of(stem)
        try:
            module = importlib.import_module(f"{__package__}.{stem}")
        except Exception:  # noqa: BLE001 - reported by each of its scenarios
            broken[group] = traceback.format_exc()
            continue
        for name, fn in vars(module).items():
            if inspect.isfunction(fn) and fn.__module__ == module.__name__ \
                    and not name.startswith("_"):
                found[_key(group, name)] = fn
    return found, broken


def _golden_scenarios():
    """key -> golden file, for golden/*.trace and golden/<group>/*.trace."""
    found = {p.stem: p for p in GOLDEN_DIR.glob("*.trace")}
    for d in sorted(GOLDEN_DIR.iterdir()):
        if d.is_dir():
            found.update({_key(d.name, p.stem): p for p in d.glob("*.trace")})
    return found


PYTHON_SCENARIOS, BROKEN_MODULES = _python_scenarios()
GOLDEN_SCENARIOS = _golden_scenarios()
ALL_SCENARIOS = sorted(set(PYTHON_SCENARIOS) | set(GOLDEN_SCENARIOS))


def run_scenario(fn, **node_options) -> list[str]:
    """trace.run(fn) in a daemon thread; fails the test if it does not end, or if
    the runtime's invariants break after any slice (vm.testing.InvariantChecker)."""
    result: dict = {}
    checker = InvariantChecker()

    def target():
        try:
            result["lines"] = trace.run(fn, instruments=[checker], **node_options)
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
    assert not checker.violations, f"invariants broken: {checker.violations[:3]}"
    return result["lines"]


def test_golden_files_exist():
    assert GOLDEN_SCENARIOS, f"no golden traces in {GOLDEN_DIR}"


def _module_file(key: str) -> str:
    group = key.rpartition("/")[0]
    return f"{CORE_MODULE}_{group}" if group else CORE_MODULE


@pytest.mark.parametrize("name", ALL_SCENARIOS)
def test_conformance(name):
    group, _, bare = name.rpartition("/")
    module = _module_file(name)
    if name not in GOLDEN_SCENARIOS:
        pytest.fail(f"{module}.py has {bare} but golden/{name}.trace is missing: "
                    f"write its Erlang twin in erlang/{module}.erl and run "
                    "tests/conformance/record_otp.py", pytrace=False)
    if name not in PYTHON_SCENARIOS:
        if group in BROKEN_MODULES:
            pytest.fail(f"tests/conformance/{module}.py does not import:\n"
                        f"{BROKEN_MODULES[group]}", pytrace=False)
        pytest.fail(f"golden/{name}.trace has no Python twin: add {bare}() to "
                    f"tests/conformance/{module}.py", pytrace=False)
    golden = GOLDEN_SCENARIOS[name].read_text(encoding="utf-8").splitlines()
    expected = known_differences.apply(name, golden)
    known = expected != golden
    for seed in [None, *range(SEEDS)]:
        actual = run_scenario(PYTHON_SCENARIOS[name], seed=seed)
        where = "" if seed is None else f" (seed={seed})"
        if known and actual == golden:
            pytest.fail(f"{name}{where} now matches OTP exactly: remove its entry from "
                        "tests/conformance/known_differences.py", pytrace=False)
        if actual != expected:
            diff = "\n".join(difflib.unified_diff(
                golden, actual, fromfile=f"golden/{name}.trace (OTP)",
                tofile=f"{name} (beamlet){where}", lineterm=""))
            note = ""
            if known:
                kind, why, _ = known_differences.KNOWN_DIFFERENCES[name]
                note = (f"\n(known difference, {kind}: {why} The diff above is against "
                        "OTP; only the listed lines may differ.)")
            pytest.fail(f"trace of {name}{where} differs from real OTP:\n{diff}{note}",
                        pytrace=False)


def test_known_differences_are_current():
    """Every known difference names a scenario and lines its golden file has."""
    for key in known_differences.KNOWN_DIFFERENCES:
        assert key in GOLDEN_SCENARIOS, \
            f"known_differences.py names {key}, which has no golden file"
        golden = GOLDEN_SCENARIOS[key].read_text(encoding="utf-8").splitlines()
        known_differences.apply(key, golden)
