#!/usr/bin/env python3
"""Record the golden traces of the conformance scenarios on real Erlang/OTP.

    python3 tests/conformance/record_otp.py            # rewrite every golden trace
    python3 tests/conformance/record_otp.py --check    # record into a temp dir
                                                       # and diff with golden/
    python3 tests/conformance/record_otp.py NAME ...   # only these scenarios
    python3 tests/conformance/record_otp.py gen_server/  # one group

Compiles erlang/*.erl with erlc into a temporary directory, lists the
scenarios (every exported arity-0 function of every `scenarios*` module),
and runs each one in a fresh node (`erl -noshell +S 1`, one scheduler, so
that nothing but the scenario's own causality orders the trace).

Golden files are namespaced by module: the core module `scenarios` writes
golden/<name>.trace, a module `scenarios_<group>` writes
golden/<group>/<name>.trace. A scenario is named on the command line by its
key (`<name>` for the core, `<group>/<name>` otherwise), by its bare name if
that is unambiguous, or a whole group by `<group>/`. Golden files of
scenarios that no longer exist are removed (only when recording all). Needs
only the Python standard library and erl/erlc on PATH; CI never runs this
(it has no Erlang): it only compares against the files.
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
CORE_MODULE = "scenarios"
ERL = ["erl", "-noshell", "+S", "1", "+A", "1"]
TIMEOUT = 60


def scenario_modules() -> list[str]:
    """The Erlang scenario modules: erlang/scenarios.erl and erlang/scenarios_*.erl."""
    return sorted(p.stem for p in ERLANG_DIR.glob("scenarios*.erl")
                  if p.stem == CORE_MODULE or p.stem.startswith(CORE_MODULE + "_"))


def group_of(module: str) -> str:
    """'' for the core module, '<group>' for scenarios_<group>."""
    return "" if module == CORE_MODULE else module[len(CORE_MODULE) + 1:]


def golden_dir(group: str) -> pathlib.Path:
    return GOLDEN_DIR / group if group else GOLDEN_DIR


def key_of(group: str, name: str) -> str:
    return f"{group}/{name}" if group else name


def compile_erlang(ebin: pathlib.Path) -> None:
    sources = sorted(str(p) for p in ERLANG_DIR.glob("*.erl"))
    subprocess.run(["erlc", "-Werror", "-o", str(ebin), *sources], check=True)


def list_scenarios(ebin: pathlib.Path) -> dict[str, tuple[str, str]]:
    """key -> (module, function) for every scenario of every module."""
    modules = scenario_modules()
    expr = (
        f"[io:format(\"~s ~s~n\", [M, F]) || M <- [{', '.join(modules)}],"
        " {F, 0} <- M:module_info(exports), F =/= module_info], halt()."
    )
    out = subprocess.run(
        [*ERL, "-pa", str(ebin), "-eval", expr],
        check=True, capture_output=True, text=True, timeout=TIMEOUT,
    ).stdout
    found = {}
    for line in out.splitlines():
        if line.strip():
            module, name = line.split()
            found[key_of(group_of(module), name)] = (module, name)
    return dict(sorted(found.items()))


def trace_path(out_root: pathlib.Path, key: str) -> pathlib.Path:
    return out_root / f"{key}.trace"


def record(ebin: pathlib.Path, key: str, scenario: tuple[str, str],
           out_root: pathlib.Path) -> pathlib.Path:
    module, name = scenario
    out = trace_path(out_root, key)
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    subprocess.run(
        [*ERL, "-pa", str(ebin), "-run", "conf", "main", module, name, str(out)],
        check=True, capture_output=True, timeout=TIMEOUT,
    )
    if not out.exists():
        raise RuntimeError(f"scenario {key} wrote no trace")
    return out


def select(scenarios: dict, names: list[str]) -> tuple[list[str], list[str]]:
    """(chosen keys, unknown names) for the command-line names."""
    if not names:
        return list(scenarios), []
    chosen, unknown = [], []
    for n in names:
        if n.endswith("/"):
            keys = [k for k in scenarios if k.startswith(n)]
        elif n in scenarios:
            keys = [n]
        else:
            keys = [k for k in scenarios if k.rsplit("/", 1)[-1] == n]
            if len(keys) > 1:
                print(f"ambiguous scenario {n}: {', '.join(keys)}", file=sys.stderr)
                keys = []
        if keys:
            chosen.extend(k for k in keys if k not in chosen)
        else:
            unknown.append(n)
    return chosen, unknown


def golden_keys() -> set[str]:
    """Keys of the golden files now on disk."""
    keys = {p.stem for p in GOLDEN_DIR.glob("*.trace")}
    for d in GOLDEN_DIR.iterdir():
        if d.is_dir():
            keys |= {f"{d.name}/{p.stem}" for p in d.glob("*.trace")}
    return keys


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
        chosen, unknown = select(scenarios, args.names)
        if unknown:
            print(f"unknown scenarios: {', '.join(unknown)}", file=sys.stderr)
            return 2

        out_root = tmp_path / "out" if args.check else GOLDEN_DIR
        out_root.mkdir(parents=True, exist_ok=True)
        with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
            list(pool.map(lambda k: record(ebin, k, scenarios[k], out_root), chosen))

        if args.check:
            differ = [k for k in chosen
                      if not trace_path(GOLDEN_DIR, k).exists()
                      or trace_path(out_root, k).read_bytes()
                      != trace_path(GOLDEN_DIR, k).read_bytes()]
            for k in differ:
                print(f"differs from golden: {k}")
            stale = sorted(golden_keys() - set(scenarios)) if not args.names else []
            for k in stale:
                print(f"golden file without an Erlang scenario: {k}.trace")
            print(f"checked {len(chosen)} scenarios, {len(differ)} differ")
            return 1 if differ or stale else 0

        if not args.names:
            for stale in sorted(golden_keys() - set(scenarios)):
                trace_path(GOLDEN_DIR, stale).unlink()
                print(f"removed stale golden file: {stale}.trace")
            for d in GOLDEN_DIR.iterdir():
                if d.is_dir() and not any(d.iterdir()):
                    d.rmdir()
        print(f"recorded {len(chosen)} scenarios into {out_root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
