"""Every benchmark runs at tiny sizes and reports sane records (not how fast).

Nothing here depends on timing: the records' shape is checked (keys, units,
finite numbers, the rows each benchmark declares), and the noise handling of
the harness (difference figures settled at zero, ratios that mean something)
is checked on records made up for the purpose.
"""

import copy
import shutil

import pytest

from benchmarks import harness, hogs, selftest
from benchmarks.common import record, settle_noise

NAMES = ["ring", "pingpong", "spawn", "fairness", "latency", "selective", "copy", "restart", "call",
         "preemption", "fanout", "ets", "agents"]


@pytest.mark.parametrize("name", NAMES)
def test_benchmark_runs_and_reports_sane_fields(name):
    records = getattr(selftest, name)()
    assert records, f"{name} reported nothing"
    assert not selftest.problems(records, name)
    systems = {r["system"] for r in records}
    assert {"beamlet", "asyncio"} <= systems


@pytest.mark.skipif(not (shutil.which("erl") and shutil.which("erlc")), reason="no erl/erlc")
@pytest.mark.parametrize("name", ["fairness", "latency", "selective", "dist"])
def test_erlang_twin_reports_the_same_rows(name):
    records = selftest.run(name, ("erlang",))
    assert not selftest.problems(records, name, ("erlang",))


def test_dist_reports_round_trips_and_each_node_count():
    records = selftest.dist()
    assert not selftest.problems(records, "dist")
    beamlet = {(r["metric"], r["params"].get("case")) for r in records
               if r["system"] == "beamlet" and r["status"] == "ok"}
    assert {("cross_node_round_trips_per_s", None), ("served_per_s", "1 node"),
            ("served_per_s", "2 nodes")} <= beamlet
    if shutil.which("erl"):  # the mixed pairs
        assert {("cross_node_round_trips_per_s", "beamlet -> erl node"),
                ("cross_node_round_trips_per_s", "erl -> beamlet node")} <= beamlet


def test_the_new_rows_are_declared():
    lat = selftest.TINY["latency"]
    rows = harness.load("latency").expected_rows(lat)
    for case in ("8 C-call hogs", "8 Python-loop hogs", "to_thread, 0 hogs",
                 "to_thread, 8 C-call hogs", "to_thread, 8 Python-loop hogs"):
        assert ("lateness_ms_p99", case) in rows
    assert ("p99_added_by_hogs_ms", None) in rows
    assert ("p99_added_by_hogs_ms", "to_thread, 8 C-call hogs") in rows
    fair = harness.load("fairness").expected_rows(selftest.TINY["fairness"])
    assert {("jain_index", None), ("jain_index", "C-call hogs"),
            ("jain_index", "Python-loop hogs")} <= fair
    sel = harness.load("selective")
    full = sel.params(False)
    assert {("match_after_queue_us", "100,000 queued"),
            ("match_after_queue_us", "1,000,000 queued"),
            ("scan_cost_growth", "100,000 vs 1,000 queued")} <= sel.expected_rows(full)
    assert max(selftest.TINY["selective"]["scan_sizes"]) <= 1_000  # the selftest stays tiny
    targets = {(t.metric, t.case) for t in harness.load("latency").TARGETS}
    assert ("p99_added_by_hogs_ms", "8 C-call hogs") in targets


def test_calibration_gives_a_size_per_slow_kind():
    assert hogs.case_of("n += 1") is None and hogs.case_of("C call", 8) == "8 C-call hogs"
    for kind in hogs.SLOW_KINDS:
        size = hogs.calibrate(kind, target_ms=0.05)
        assert isinstance(size, int) and size >= 1


# -------------------------------------------------------------- noise


def _diff(value, system="beamlet", note="p99 1.2 ms with 8 hogs, 1.8 ms with none"):
    return record("latency", system, "p99_added_by_hogs_ms", value, "ms", selftest.TINY["latency"],
                  note=note)


def _settled(*recs):
    return settle_noise(list(recs), harness.load("latency").FIGURES)


def test_a_negative_difference_is_recorded_as_zero_with_what_was_measured():
    (r,) = _settled(_diff(-0.637))
    assert r["value"] == 0.0 and r["measured"] == -0.637
    assert r["note"].startswith("within noise: measured -0.637 ms; p99 1.2 ms")
    assert [p for p in selftest.problems([r], "latency", ("beamlet",))
            if "row missing" not in p] == []
    (again,) = _settled(copy.deepcopy(r))  # settling twice changes nothing
    assert again == r
    (pos,) = _settled(_diff(2.5))
    assert pos["value"] == 2.5 and pos["measured"] == 2.5 and "noise" not in pos["note"]


def test_rounds_merge_on_the_median_of_what_was_measured():
    rounds = [_settled(_diff(m)) for m in (-0.6, 0.4, -0.2)]
    (merged,) = harness.merge_rounds(rounds)
    assert merged["measured"] == -0.2 and merged["value"] == 0.0
    assert merged["note"].startswith("within noise: measured -0.2 ms; ")
    assert merged["note"].count("within noise") == 1
    assert merged["note"].endswith("measured per round: -0.6, 0.4, -0.2")
    (up,) = harness.merge_rounds([_settled(_diff(m)) for m in (-0.6, 0.4, 0.3)])
    assert up["value"] == up["measured"] == 0.3 and "noise" not in up["note"]


def _doc(results):
    return {"machine": {"systems": ["beamlet", "asyncio", "erlang"], "rounds": 1},
            "results": results, "runs": [], "skipped": []}


def test_the_table_says_noise_and_prints_no_ratio_of_differences():
    results = _settled(_diff(-0.637), _diff(1990.0, "asyncio"), _diff(-0.058, "erlang"))
    table = harness.format_table(_doc(results))
    row = next(line for line in table.splitlines() if "p99_added_by_hogs_ms " in line)
    assert "0~" in row and "1,990" in row
    assert "x)" not in row  # no beamlet/peer ratio of two differences
    assert "PASS (0, within noise: measured -0.637)" in row
    assert "within noise: latency/beamlet p99_added_by_hogs_ms: measured -0.637 ms" in table
    assert "within noise: latency/erlang" in table


def test_small_ratios_keep_their_meaning():
    assert harness.fmt_ratio(2.46 / 1990) == "0.0012x"
    assert harness.fmt_ratio(0.55) == "0.55x"
    assert harness.fmt_ratio(0.048) == "0.048x"
    assert harness.fmt_ratio(0.9996) == "1.00x"
    assert harness.fmt_ratio(1.55) == "1.55x"
    assert harness.fmt_ratio(129.4) == "129x"
    b = {"value": 2.0}
    assert harness.ratio(b, {"value": -0.058}) is None  # a ratio of signs means nothing
    assert harness.ratio({"value": 0.0}, {"value": 3.0}) is None
    assert harness.ratio(b, {"value": 4.0}) == 0.5


def test_problems_catches_bad_shapes():
    good = selftest.fairness(systems=("asyncio",))
    assert not selftest.problems(good, "fairness", ("asyncio",))
    bad = copy.deepcopy(good)
    jain_c = next(r for r in bad if r["metric"] == "jain_index"
                  and r["params"].get("case") == "C-call hogs")
    bad.remove(jain_c)
    bad[0]["unit"] = "furlongs"
    rate = next(r for r in bad if r["metric"] == "loop_iters_per_s")
    rate["value"] = -1.0
    share = next(r for r in bad if r["metric"] == "share")
    share["value"] = float("nan")
    found = "\n".join(selftest.problems(bad, "fairness", ("asyncio",)))
    assert "asyncio/jain_index/C-call hogs: row missing" in found
    assert "unit 'furlongs'" in found
    assert "negative value -1.0" in found
    assert "not a finite number" in found
    unsettled = _diff(-0.5)
    unsettled["measured"] = -0.5  # claimed measured, never settled
    assert any("settled at zero" in p
               for p in selftest.problems([unsettled], "latency", ("beamlet",)))


def test_the_accounting_benchmark_reports_every_case_for_beamlet_only():
    records = selftest.accounting()
    assert not selftest.problems(records, "accounting", ("beamlet",))
    cases = {r["params"].get("case") for r in records
             if r["system"] == "beamlet" and r["status"] == "ok"}
    assert cases == {"off", "accounting", "accounting+timeline", "msacc", "beam-python"}
    assert {r["status"] for r in records if r["system"] == "asyncio"} == {"n/a"}


@pytest.mark.parametrize("case", ["off", "accounting", "timeline", "msacc", "beam-python"])
def test_the_instruction_counts_workload_runs_with_each_scheduling_switch(case):
    from benchmarks import instructions

    instructions._pingpong(50, False, case)  # what callgrind counts, without callgrind
