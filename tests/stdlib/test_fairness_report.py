"""stdlib.fairness.report: the figures on constructed data with known answers."""

import math

import pytest

from stdlib.fairness import report
from stdlib.fairness.report import distribution, group_key, jain, percentile


def test_jain_of_equal_shares_is_one_and_of_one_taker_is_one_over_n():
    assert jain([2.0, 2.0, 2.0, 2.0]) == 1.0
    assert jain([5.0, 0.0, 0.0, 0.0]) == pytest.approx(0.25)
    assert jain([1.0, 3.0]) == pytest.approx(16 / 20)  # (1+3)^2 / (2 * (1+9))


def test_jain_edge_cases():
    assert jain([]) is None
    assert jain([0.7]) == 1.0  # one process is always treated fairly
    assert jain([0, 0, 0]) == 1.0  # all got the same: nothing
    with pytest.raises(ValueError, match=">= 0"):
        jain([1.0, -1.0])
    with pytest.raises(ValueError, match="finite"):
        jain([1.0, math.nan])


def test_nearest_rank_percentiles():
    xs = list(range(1, 101))  # 1..100
    assert percentile(xs, 50) == 50
    assert percentile(xs, 99) == 99
    assert percentile(xs, 100) == 100
    assert percentile([3, 1, 2, 4], 50) == 2  # ceil(0.5 * 4) = 2nd smallest
    assert percentile([3, 1, 2, 4], 51) == 3
    assert percentile([7], 1) == 7 and percentile([7], 99) == 7
    assert percentile([], 50) is None
    with pytest.raises(ValueError):
        percentile([1], 0)
    with pytest.raises(ValueError):
        percentile([1], 101)


def test_distribution():
    d = distribution([0.004, 0.001, 0.002, 0.003])
    assert d == {"count": 4, "mean": pytest.approx(0.0025), "p50": 0.002, "p99": 0.004,
                 "max": 0.004}
    assert distribution([]) == {"count": 0, "mean": None, "p50": None, "p99": None,
                                "max": None}


def test_group_keys_and_their_fallbacks():
    row = {"initial_call": "w.hog/1", "name": None, "label": "hog"}
    assert group_key(row, "label") == "hog"
    assert group_key(row, "initial_call") == "w.hog/1"
    assert group_key(row, "name") == "(unregistered) w.hog/1"
    assert group_key({"initial_call": None, "name": None, "label": None}, "label") == "(no label)"
    with pytest.raises(ValueError, match="group_by"):
        group_key(row, "colour")


def _stats(runtime, slices, exited=None, label=None):
    return {"runtime": runtime, "reductions": int(runtime * 1e6), "slices": slices,
            "preempted": slices, "yielded": 0, "parked": 0, "exited": exited, "label": label}


def test_a_run_report_from_constructed_accounting():
    a, b, c, me = "<0.3.0>", "<0.4.0>", "<0.5.0>", "<0.2.0>"
    stats = {a: _stats(0.3, 3, label="hog"), b: _stats(0.1, 1, label="hog"),
             c: _stats(0.0, 1, exited=0.5, label="io"), me: _stats(0.0, 1)}
    info = {a: {"initial_call": "w.hog/0", "spawned": 0.0},
            b: {"initial_call": "w.hog/0", "spawned": 0.5},  # present for half the window
            c: {"initial_call": "w.io/0", "spawned": 0.0}}
    timeline = [
        {"pid": a, "start": 0.0, "end": 0.1, "queue_delay": 0.0, "reason": "new"},
        {"pid": a, "start": 0.1, "end": 0.2, "queue_delay": 0.0, "reason": "preempted"},
        {"pid": c, "start": 0.2, "end": 0.2, "queue_delay": 0.2, "reason": "new"},
        {"pid": b, "start": 0.5, "end": 0.6, "queue_delay": 0.0, "reason": "new"},
        {"pid": a, "start": 0.6, "end": 0.7, "queue_delay": 0.4, "reason": "preempted"},
    ]
    raw = {"stats": stats, "info": info, "timeline": timeline, "start": 0.0, "end": 1.0,
           "exclude": (me,), "settings": {}, "label": "run", "ended": "timeout"}
    run = report.run_report(raw, group_by="label")
    procs = {p["pid"]: p for p in run["processes"]}
    assert set(procs) == {a, b, c}  # the runner's own process is left out
    assert procs[a]["share"] == pytest.approx(0.75) and procs[b]["share"] == pytest.approx(0.25)
    assert procs[a]["cpu"] == pytest.approx(0.3) and procs[b]["cpu"] == pytest.approx(0.2)
    assert procs[c]["present"] == pytest.approx(0.5) and procs[c]["exited"]
    assert procs[a]["queue_delay"]["max"] == 0.4 and procs[a]["response_time"]["count"] == 1
    groups = {g["key"]: g for g in run["groups"]}
    assert groups["hog"]["jain"] == pytest.approx(jain([0.3, 0.2]))
    assert groups["hog"]["queue_delay"]["count"] == 4 and groups["hog"]["slices"] == 4
    assert run["overall"]["jain"] == pytest.approx(jain([0.3, 0.2, 0.0]))
    assert run["overall"]["response_time"]["max"] == 0.2
    assert [g["key"] for g in run["groups"]] == ["hog", "io"]  # largest share first
    row = report.comparison_row(run)
    assert row["group_shares"] == {"hog": pytest.approx(1.0), "io": 0.0}
    assert row["worst_group_jain"] == pytest.approx(jain([0.3, 0.2]))
