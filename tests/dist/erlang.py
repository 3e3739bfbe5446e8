"""Running real Erlang from the distribution tests.

`requires_erl` skips a test (with the reason) only when `erl` is not
installed; CI installs erlang-nox. `erl_eval(code)` runs Erlang expressions
in a fresh `erl -noshell` and returns what they print.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest

ERL = shutil.which("erl")
requires_erl = pytest.mark.skipif(
    ERL is None, reason="needs Erlang/OTP (`erl`): apt-get install erlang-nox")


def erl_eval(code: str, timeout: float = 60.0, args=()) -> str:
    """Run `code` (Erlang expressions, comma separated) and return its standard output."""
    proc = subprocess.run(
        [ERL, "-noshell", *args, "-eval", code + ", halt()."],
        capture_output=True, text=True, encoding="utf-8", errors="replace", timeout=timeout,
    )
    if proc.returncode != 0 or "{\"init terminating" in proc.stdout + proc.stderr:
        raise AssertionError(f"erl failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout
