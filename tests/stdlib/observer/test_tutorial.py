"""The tutorial stays true: every lesson's inputs, typed into a fresh shell, run
without a failure the lesson does not show, and the values the lesson shows
for simple expressions come out the same."""

import glob
import io
import os
import re
from pathlib import Path

import pytest

from stdlib.observer.shell import Shell

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))
LESSONS = sorted(glob.glob(os.path.join(ROOT, "docs", "tutorial", "0*.md")))
PROMPT = re.compile(r"^(\d+)> (.*)$")
MORE = re.compile(r"^\.+(?: (.*))?$")


def session(path):
    """[(number, source, shown output lines)] from the lesson's transcript blocks."""
    text = Path(path).read_text(encoding="utf-8")
    steps = []
    for block in re.findall(r"```\n(.*?)```", text, re.DOTALL):
        if not PROMPT.match(block.splitlines()[0]):
            continue
        for line in block.splitlines():
            m = PROMPT.match(line)
            if m:
                steps.append([int(m.group(1)), m.group(2) + "\n", []])
                continue
            c = MORE.match(line)
            if c and steps and not steps[-1][2]:
                steps[-1][1] += (c.group(1) or "") + "\n"
            elif steps:
                steps[-1][2].append(line)
    return steps


@pytest.mark.parametrize("path", LESSONS, ids=[os.path.basename(p)[:2] for p in LESSONS])
def test_lesson_runs_as_shown(path):
    steps = session(path)
    assert steps and [s[0] for s in steps] == list(range(1, len(steps) + 1))
    out = io.StringIO()
    sh = Shell(out=out)
    try:
        for number, source, shown in steps:
            out.seek(0)
            out.truncate()
            ok = sh.run_source(source)
            expected_failure = any(x.startswith(("** exception", "** refused")) for x in shown)
            assert ok != expected_failure, (number, source, out.getvalue())
            got = [x for x in out.getvalue().splitlines() if not x.startswith("=")]
            shown = [x for x in shown if not x.startswith("=")]
            # simple values (no pids, refs or timings) must print exactly as shown
            if len(shown) == 1 and not re.search(r"<0\.|#Ref|ms\b| s\b", shown[0]):
                assert got[-1:] == shown, (number, source)
    finally:
        sh.close()
