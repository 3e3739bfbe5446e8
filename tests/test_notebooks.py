"""The tutorial's notebooks run headless, cell by cell, as the lessons show.

Each lesson of docs/tutorial/ is also a notebook in docs/tutorial/notebooks/
(built from the lesson by `python -m stdlib.observer.notebook docs/tutorial`;
a test checks they are up to date). Here each is executed by a real Jupyter
kernel (nbclient + ipykernel): every cell runs in the shell process, a cell
the lesson shows failing must fail the same way, any other must not, and
trees and tables come out as rich output (Mermaid, HTML).

Needs the `notebook` extra (`pip install -e '.[notebook]'`; CI installs it);
without it these tests are skipped and say so.
"""

import glob
import json
import os
from pathlib import Path

import pytest

from stdlib.observer.notebook import FAILS_TAG, lesson_notebook

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TUTORIAL = os.path.join(ROOT, "docs", "tutorial")
LESSONS = sorted(glob.glob(os.path.join(TUTORIAL, "0*.md")))


def notebook_of(lesson):
    return os.path.join(TUTORIAL, "notebooks", os.path.basename(lesson)[:-3] + ".ipynb")


@pytest.mark.parametrize("lesson", LESSONS, ids=[os.path.basename(p)[:2] for p in LESSONS])
def test_notebook_is_built_from_its_lesson(lesson):
    path = notebook_of(lesson)
    assert os.path.exists(path), (
        f"{path} is missing: python -m stdlib.observer.notebook docs/tutorial")
    built = lesson_notebook(Path(lesson).read_text(encoding="utf-8"))
    stored = json.loads(Path(path).read_text(encoding="utf-8"))
    assert stored["cells"] == built["cells"], (
        f"{path} is out of date with its lesson: python -m stdlib.observer.notebook docs/tutorial")


def _text(output):
    if output.get("output_type") == "stream":
        return output.get("text", "")
    if output.get("output_type") == "error":
        return "\n".join(output.get("traceback", []))
    data = output.get("data", {})
    return data.get("text/plain", "")


@pytest.mark.parametrize("lesson", LESSONS, ids=[os.path.basename(p)[:2] for p in LESSONS])
def test_notebook_runs_as_the_lesson_shows(lesson):
    nbclient = pytest.importorskip(
        "nbclient", reason="the notebook extra is not installed (pip install -e '.[notebook]')")
    nbformat = pytest.importorskip("nbformat", reason="the notebook extra is not installed")
    pytest.importorskip("ipykernel", reason="the notebook extra is not installed")
    nb = nbformat.read(notebook_of(lesson), as_version=4)
    client = nbclient.NotebookClient(nb, timeout=120, kernel_name="python3",
                                     resources={"metadata": {"path": ROOT}})
    client.execute()
    rich = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = cell.get("outputs", [])
        text = "".join(_text(o) for o in outputs)
        assert not any(o.get("output_type") == "error" for o in outputs), (cell.source, text)
        failed = "** exception" in text or "** refused" in text
        expected = FAILS_TAG in cell.metadata.get("tags", [])
        assert failed == expected, (cell.source, text)
        for o in outputs:
            rich.update(k for k in o.get("data", {}) if k != "text/plain")
    source = Path(lesson).read_text(encoding="utf-8")
    if "tree(" in source:
        assert "text/markdown" in rich  # the supervision tree as a Mermaid diagram
    if "\ni()" in source or "> i()" in source:
        assert "text/html" in rich  # the process table as an HTML table
