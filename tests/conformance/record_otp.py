#!/usr/bin/env python3
"""Record the golden traces of the conformance scenarios on real Erlang/OTP.

    python3 tests/conformance/record_otp.py            # rewrite golden/*.trace
    python3 tests/conformance/record_otp.py --check    # record into a temp dir
                                                       # and diff with golden/
    python3 tests/conformance/record_otp.py NAME ...   # only these scenarios

Compiles erlang/*.erl with erlc into a temporary directory, lists the
scenarios (every exported arity-0 function of the `scenarios` module), and
runs each one in a fresh node (`erl -noshell +S 1`, one scheduler, so that
nothing but the scenario's own causality orders the trace). Each run writes
golden/<scenario>.trace. Golden files of scenarios that no longer exist are
removed. Needs only the Python standard library and erl/erlc on PATH; CI
never runs this (it has no Erlang): it only compares against the files.
"""
from __future__ import annotations

import argparse
import concurrent.futures
import pathlib
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
ERLANG_DIR = HERE / "erlang"
GOLDEN_DIR = HERE / "golden"
MODULE = "scenarios"
ERL = ["erl", "-noshell", "+S", "1", "+A", "1"]
TIMEOUT = 60


def compile_erlang(ebin: pathlib.Path) -> None:
    sources = sorted(str(p) for p in ERLANG_DIR.glob("*.erl"))
    subprocess.run(["erlc", "-Werror", "-o", str(ebin), *sources], check=True)


def list_scenarios(ebin: pathlib.Path) -> list[str]:
    expr = (
        f"[io:format(\"~s~n\", [F]) || {{F, 0}} <- {MODULE}:module_info(exports),"
        " F =/= module_info], halt()."
    )
    out = subprocess.run(
        [*ERL, "-pa", str(ebin), "-eval", expr],
        check=True, capture_output=True, text=True, timeout=TIMEOUT,
    ).stdout
    return sorted(line.strip() for line in out.splitlines() if line.strip())


def record(ebin: pathlib.Path, name: str, out_dir: pathlib.Path) -> pathlib.Path:
    out = out_dir / f"{name}.trace"
    if out.exists():
        out.unlink()
    subprocess.run(
        [*ERL, "-pa", str(ebin), "-run", "conf", "main", MODULE, name, str(out)],
        check=True, capture_output=True, timeout=TIMEOUT,
    )
    if not out.exists():
        raise RuntimeError(f"scenario {name} wrote no trace")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="scenarios to record (default: all)")
    parser.add_argument("--check", action="store_true",
                        help="record into a temp dir and compare with golden/")
    parser.add_argument("-j", "--jobs", type=int, default=4,
                        help="nodes run at the same time (default 4)")
    args = parser.parse_args(argv)

    for tool in ("erl", "erlc"):
        if shutil.which(tool) is None:
            print(f"{tool} not found on PATH: install Erlang/OTP 25", file=sys.stderr)
            return 2

    with tempfile.TemporaryDirectory(prefix="beamlet-conf-") as tmp:
        tmp_path = pathlib.Path(tmp)
        ebin = tmp_path / "ebin"
        ebin.mkdir()
        compile_erlang(ebin)
        scenarios = list_scenarios(ebin)
        unknown = sorted(set(args.names) - set(scenarios))
        if unknown:
            print(f"unknown scenarios: {', '.join(unknown)}", file=sys.stderr)
            return 2
        chosen = args.names or scenarios

        out_dir = tmp_path / "out" if args.check else GOLDEN_DIR
        out_dir.mkdir(parents=True, exist_ok=True)
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(lambda n: record(ebin, n, out_dir), chosen))

        if args.check:
            differ = [n for n in chosen
                      if not (GOLDEN_DIR / f"{n}.trace").exists()
                      or (out_dir / f"{n}.trace").read_bytes()
                      != (GOLDEN_DIR / f"{n}.trace").read_bytes()]
            for n in differ:
                print(f"differs from golden: {n}")
            print(f"checked {len(chosen)} scenarios, {len(differ)} differ")
            return 1 if differ else 0

        if not args.names:
            for stale in sorted(set(p.stem for p in GOLDEN_DIR.glob("*.trace"))
                                - set(scenarios)):
                (GOLDEN_DIR / f"{stale}.trace").unlink()
                print(f"removed stale golden file: {stale}.trace")
        print(f"recorded {len(chosen)} scenarios into {out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
