"""Every documented example runs as shown.

Each fenced block marked ```python in README.md and docs/*.md (any page
that lands there later is picked up too) is a program: it is saved to a
file and run with `beamlet run FILE`, which must exit with status 0. When
the block is followed (after blank lines only) by a block marked
```output, the program's stdout must match it, with `...` standing for
any text (doctest's ELLIPSIS), so pids and timings may vary.

A block that is not meant to run on its own (a fragment that needs
context, a sketch) says so on the line just before its fence:

    <!-- docs-test: skip (why) -->

The tutorial's lessons are shell transcripts, run by
tests/stdlib/observer/test_tutorial.py; the notebooks by
tests/test_notebooks.py.
"""

import doctest
import glob
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "docs", "*.md")))
SKIP = re.compile(r"<!--\s*docs-test:\s*skip\b")
FENCE = re.compile(r"^(`{3,}|~{3,})\s*([\w+-]*)\s*$")
TIMEOUT = 120


def blocks(path):
    """[(line number, info, text, skipped)] of the fenced blocks of a page."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()
    out = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, info, start = m.group(1), m.group(2).lower(), i
        body = []
        i += 1
        while i < len(lines) and not lines[i].startswith(fence):
            body.append(lines[i])
            i += 1
        prev = lines[start - 1] if start > 0 else ""
        out.append((start + 1, info, "\n".join(body) + "\n", bool(SKIP.search(prev)),
                    start, i))
        i += 1
    return out, lines


def examples():
    found = []
    for path in PAGES:
        bs, lines = blocks(path)
        for k, (line, info, text, skipped, _start, end) in enumerate(bs):
            if info not in ("python", "py"):
                continue
            expected = None
            if k + 1 < len(bs) and bs[k + 1][1] == "output":
                gap = lines[end + 1: bs[k + 1][4]]
                if all(not g.strip() for g in gap):
                    expected = bs[k + 1][2]
            rel = os.path.relpath(path, ROOT)
            found.append(pytest.param(rel, line, text, expected,
                                      marks=[pytest.mark.skip(reason="marked docs-test: skip")]
                                      if skipped else [],
                                      id=f"{rel}:{line}"))
    return found


@pytest.mark.parametrize("page,line,source,expected", examples())
def test_documented_example_runs(page, line, source, expected, tmp_path):
    prog = tmp_path / "example.py"
    prog.write_text(source)
    env = dict(os.environ, PYTHONPATH=ROOT)
    r = subprocess.run([sys.executable, "-m", "stdlib.cli", "run", str(prog)], cwd=tmp_path,
                       env=env, capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, (f"{page}:{line} exited with {r.returncode}\n"
                               f"stdout:\n{r.stdout}\nstderr:\n{r.stderr}")
    if expected is not None:
        checker = doctest.OutputChecker()
        assert checker.check_output(expected, r.stdout, doctest.ELLIPSIS), (
            f"{page}:{line} printed something else than the page shows:\n"
            f"shown:\n{expected}\nprinted:\n{r.stdout}")


def test_every_page_is_scanned():
    """The test finds the pages and their examples (a broken glob would pass silently)."""
    assert any(p.endswith("README.md") for p in PAGES)
    assert len(examples()) >= 10


def test_no_page_or_comment_cites_files_outside_the_repository():
    """Docs and comments explain themselves: no DESIGN.md, no reference/ files,
    no decision numbers (D1, D10, ...) that only exist outside the repo."""
    pattern = re.compile(r"DESIGN\.md|reference/otp-semantics|reference/[\w-]+\.md|"
                         r"\b(?:decision|decisions)\s+D\d+\b|\(D\d{1,2}\)|\bD\d{1,2}\b(?=[:,;)])")
    listed = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True)
    files = listed.stdout.split() if listed.returncode == 0 else []
    assert files, "git ls-files found nothing"
    bad = []
    for rel in files:
        if not rel.endswith((".py", ".md", ".toml", ".txt", ".erl", ".ipynb", ".cfg")) and \
                not rel.startswith(".ci/"):
            continue
        if rel == "tests/test_docs.py":
            continue
        try:
            text = Path(ROOT, rel).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if pattern.search(line):
                bad.append(f"{rel}:{n}: {line.strip()[:100]}")
    assert not bad, "references to files outside the repository:\n" + "\n".join(bad)


def test_architecture_names_every_module_of_vm():
    """docs/architecture.md's table of vm/ has a row for every module there."""
    text = Path(ROOT, "docs", "architecture.md").read_text(encoding="utf-8")
    rows = " ".join(line.split("|")[1] for line in text.splitlines()
                    if line.startswith("| `"))
    named = set(re.findall(r"`([\w/]+)`", rows))
    modules = {f[:-3] for f in os.listdir(os.path.join(ROOT, "vm")) if f.endswith(".py")}
    modules.add("dist/")
    assert modules <= named, f"not in docs/architecture.md's table: {sorted(modules - named)}"
