"""docs/api.md documents every public name, and only public names.

For each module with an `__all__` (`vm`, its public submodules, and every
stdlib module that declares one, including ones added later), docs/api.md
must have a section headed "## `module`" whose `Names:` line lists exactly
that `__all__`, and each name must be described in the section besides
that line."""

import importlib
import os
import pkgutil
import re
from pathlib import Path

import pytest

import stdlib
import vm

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
API = os.path.join(ROOT, "docs", "api.md")
VM_MODULES = ["vm", "vm.lowlevel", "vm.net", "vm.code", "vm.testing", "vm.scheduling"]


def public_modules():
    found = list(VM_MODULES)
    for info in pkgutil.walk_packages(stdlib.__path__, "stdlib."):
        if any(part.startswith("_") for part in info.name.split(".")):
            continue
        try:
            module = importlib.import_module(info.name)
        except ImportError:  # an optional extra is missing: its own tests say so
            continue
        if hasattr(module, "__all__") and (info.ispkg or "." not in info.name[7:]):
            found.append(info.name)
    return found


def sections():
    """module -> (names on its Names: line, the section's text without that line)."""
    text = Path(API).read_text(encoding="utf-8")
    out = {}
    parts = re.split(r"^## `([\w.]+)`\s*$", text, flags=re.M)
    for k in range(1, len(parts), 2):
        module, body = parts[k], parts[k + 1]
        m = re.search(r"^Names:(.*?)(?:\n\n|\Z)", body, flags=re.M | re.S)
        names = set(re.findall(r"`([\w]+)`", m.group(1))) if m else None
        rest = body[:m.start()] + body[m.end():] if m else body
        out[module] = (names, rest)
    return out


@pytest.mark.parametrize("module", public_modules())
def test_every_public_name_is_documented(module):
    docs = sections()
    assert module in docs, f"docs/api.md has no section headed ## `{module}`"
    names, rest = docs[module]
    assert names is not None, f"the section of {module} has no `Names:` line"
    exported = set(importlib.import_module(module).__all__)
    assert names == exported, (
        f"{module}: exported but not listed: {sorted(exported - names)}; "
        f"listed but not exported: {sorted(names - exported)}")
    undescribed = [n for n in sorted(exported) if not re.search(rf"\b{re.escape(n)}\b", rest)]
    assert not undescribed, f"{module}: listed but never described: {undescribed}"


def test_every_section_is_a_module():
    for module in sections():
        importlib.import_module(module)


def test_vm_itself_is_covered():
    assert "vm" in public_modules() and "stdlib.gen_server" in public_modules()
    assert set(vm.__all__) == sections()["vm"][0]
