"""stdlib.fairness.plot: the binning behind the share-over-time chart (no
matplotlib needed; the charts themselves are drawn in test_fairness_cli)."""

import pytest

from stdlib.fairness.plot import share_bins, slug


def test_a_slice_is_split_over_the_windows_it_overlaps():
    timeline = [{"pid": "a", "start": 0.0, "end": 1.5},   # all of window 0, half of 1
                {"pid": "b", "start": 1.5, "end": 2.0},   # the other half of window 1
                {"pid": "c", "start": 3.0, "end": 9.0}]   # window 3, past the end
    xs, shares = share_bins(timeline, 0.0, 4.0, key=lambda pid: pid, bins=4)
    assert xs == [0.0, 1.0, 2.0, 3.0]
    assert shares["a"] == pytest.approx([1.0, 0.5, 0.0, 0.0])
    assert shares["b"] == pytest.approx([0.0, 0.5, 0.0, 0.0])
    assert shares["c"] == pytest.approx([0.0, 0.0, 0.0, 1.0])


def test_processes_the_key_leaves_out_are_not_counted():
    timeline = [{"pid": "me", "start": 0.0, "end": 1.0}, {"pid": "a", "start": 0.0, "end": 0.5}]
    _, shares = share_bins(timeline, 0.0, 1.0, key=lambda p: None if p == "me" else p, bins=1)
    assert shares == {"a": [1.0]}


def test_file_names_from_run_labels():
    assert slug("reductions=1000 policy=beam") == "reductions=1000_policy=beam"
    assert slug("priority=server=high,hog=low") == "priority=server=high_hog=low"
    assert slug("///") == "run"
