"""Shared test helpers.

`run_vm(fn, *args)` runs `fn` as the main process of a fresh node on the
virtual clock, so every timeout in a test is instant and deterministic.
"""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

import vm  # noqa: E402


def run_vm(fn, *args, **opts):
    opts.setdefault("clock", "virtual")
    return vm.run(fn, *args, **opts)


@pytest.fixture
def run():
    return run_vm
