"""docs/ets_pg_registry.md stays true: every ```python example runs on a fresh
virtual-clock node and its asserts hold."""

import os
import re
from pathlib import Path

import pytest

from vm.testing import run

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(ROOT, "docs", "ets_pg_registry.md")
EXAMPLES = re.findall(r"```python\n(.*?)```", Path(DOC).read_text(encoding="utf-8"), re.DOTALL)


def test_the_page_has_examples_for_every_module():
    text = "\n".join(EXAMPLES)
    for module in ("ets", "persistent_term", "pg", "Registry"):
        assert module in text


@pytest.mark.parametrize("code", EXAMPLES, ids=[f"example{i + 1}" for i in range(len(EXAMPLES))])
def test_example_runs(code):
    namespace = {"__name__": "docs_example"}
    exec(compile(code, DOC, "exec"), namespace)
    run(namespace["main"])
