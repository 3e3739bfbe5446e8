"""beamlet demo in a pipe: frames one after another, plain text, everyone back at the end."""

import io

from stdlib.demo import run_demo


def test_demo_in_a_pipe():
    out = io.StringIO()
    crashes, down = run_demo(seconds=1.0, out=out)
    text = out.getvalue()
    assert "\x1b" not in text  # no escape codes in a pipe
    frames = text.count("beamlet demo  t=")
    assert frames >= 2
    assert text.count("supervision tree") == frames
    for name in ("shop", "orders", "payments", "bank", "ledger", "pool", "w1", "w4"):
        assert f" {name} <0." in text
    assert "top processes by reductions" in text and "+Reds" in text
    assert crashes >= 2 and "chaos crashed" in text and "came back: <0." in text
    assert down == [] and "every worker is running again" in text
