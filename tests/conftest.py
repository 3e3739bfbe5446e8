"""Shared test setup: the repository root on sys.path, so `tests.*` helper
modules import without installing the package.

Tests run their processes with `vm.testing.run` (a fresh node on the
virtual clock: every timeout in a test is instant and deterministic), and
take `drain`/`catch` from `vm.testing` too.
"""

import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
