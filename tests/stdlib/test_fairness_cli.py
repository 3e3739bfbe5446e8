"""`beamlet fairness`: sweeps, --json against the schema, grouping, priorities,
charts, and bad input (all on the virtual clock with a seed: deterministic)."""

import json
import sys

import pytest
from click.testing import CliRunner

import stdlib.fairness as fairness
from stdlib.cli import main

WORKLOAD = '''
import vm

def hog(n):
    vm.process_flag("label", "hog")
    x = 0
    for i in range(n):
        x += i

def sleeper():
    vm.process_flag("label", "io")
    vm.register("io", vm.self())
    for _ in range(10):
        vm.sleep(0.001)

def main():
    print("the workload says hello")
    for _ in range(2):
        vm.spawn(hog, 30_000)
    vm.spawn(sleeper)
    vm.sleep(0.1)

def forever():
    vm.spawn(hog, 10**9)
    vm.receive(lambda m: False)

def crash():
    raise RuntimeError("the workload broke")

def needs(n):
    vm.spawn(hog, n)
'''


@pytest.fixture
def workload(tmp_path):
    path = tmp_path / "w.py"
    path.write_text(WORKLOAD)
    return str(path)


def fair(*args):
    return CliRunner().invoke(main, ["fairness", *args], catch_exceptions=False)


def fair_json(*args):
    result = fair(*args, "--json", "--clock", "virtual", "--seed", "1")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# ----------------------------------------------------------------------
# a tiny validator for the subset of JSON Schema that schema.json uses


def validate(value, schema, root, where="$"):
    if "$ref" in schema:
        name = schema["$ref"].removeprefix("#/$defs/")
        return validate(value, root["$defs"][name], root, where)
    problems = []
    types = schema.get("type")
    if types is not None:
        types = [types] if isinstance(types, str) else types
        kinds = {"object": dict, "array": list, "string": str, "boolean": bool,
                 "null": type(None)}
        ok = any((t == "integer" and type(value) is int)
                 or (t == "number" and type(value) in (int, float))
                 or (t in kinds and isinstance(value, kinds[t]) and
                     not (t != "boolean" and type(value) is bool))
                 for t in types)
        if not ok:
            return [f"{where}: {value!r} is not of type {types}"]
    if "enum" in schema and value not in schema["enum"]:
        problems.append(f"{where}: {value!r} not in {schema['enum']}")
    if "const" in schema and value != schema["const"]:
        problems.append(f"{where}: {value!r} is not {schema['const']!r}")
    if type(value) in (int, float):
        if "minimum" in schema and value < schema["minimum"]:
            problems.append(f"{where}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            problems.append(f"{where}: {value} > {schema['maximum']}")
    if isinstance(value, dict):
        props = schema.get("properties", {})
        for key in schema.get("required", []):
            if key not in value:
                problems.append(f"{where}: missing {key!r}")
        extra = schema.get("additionalProperties", True)
        for key, v in value.items():
            if key in props:
                problems += validate(v, props[key], root, f"{where}.{key}")
            elif extra is False:
                problems.append(f"{where}: unexpected {key!r}")
            elif isinstance(extra, dict):
                problems += validate(v, extra, root, f"{where}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, v in enumerate(value):
            problems += validate(v, schema["items"], root, f"{where}[{i}]")
    return problems


def test_the_validator_catches_what_the_schema_forbids(workload):
    doc = fair_json(workload)
    schema = fairness.schema()
    bad = json.loads(json.dumps(doc))
    bad["runs"][0]["overall"]["jain"] = 1.5
    del bad["runs"][0]["processes"][0]["share"]
    bad["runs"][0]["settings"]["policy"] = "fifo"
    bad["surprise"] = 1
    found = "\n".join(validate(bad, schema, schema))
    assert "jain: 1.5 > 1" in found and "missing 'share'" in found
    assert "'fifo' not in" in found and "unexpected 'surprise'" in found


def test_json_output_is_valid_against_the_documented_schema(workload):
    doc = fair_json(workload, "--policy", "beam,cfs", "--group-by", "label")  # prints too
    schema = fairness.schema()
    assert validate(doc, schema, schema) == []
    assert doc["schema"] == fairness.SCHEMA_ID == schema["properties"]["schema"]["const"]
    run = doc["runs"][0]
    assert run["ended"] == "returned"
    assert sum(p["share"] for p in run["processes"]) == pytest.approx(1.0)
    assert run["overall"]["runtime"] == pytest.approx(sum(p["runtime"] for p in run["processes"]))
    hogs = [p for p in run["processes"] if p["label"] == "hog"]
    assert len(hogs) == 2 and all(p["preempted"] >= 5 for p in hogs)


def test_a_seeded_virtual_run_is_reproducible(workload):
    def figures(doc):
        return [{k: v for k, v in r.items() if k != "msacc"} for r in doc["runs"]]

    assert figures(fair_json(workload)) == figures(fair_json(workload))


def test_a_sweep_runs_once_per_combination_each_labelled(workload):
    doc = fair_json(workload, "--reductions", "1000,4000", "--policy", "beam,stride")
    labels = [r["label"] for r in doc["runs"]]
    assert labels == ["reductions=1000 policy=beam", "reductions=1000 policy=stride",
                      "reductions=4000 policy=beam", "reductions=4000 policy=stride"]
    assert [(r["settings"]["reductions"], r["settings"]["policy"]) for r in doc["runs"]] == [
        (1000, "beam"), (1000, "stride"), (4000, "beam"), (4000, "stride")]
    assert [c["label"] for c in doc["comparison"]] == labels
    by = {r["label"]: r["overall"]["slices"] for r in doc["runs"]}
    assert by["reductions=1000 policy=beam"] > by["reductions=4000 policy=beam"]


def test_the_text_report_has_one_comparison_row_per_run(workload):
    result = fair(workload, "--clock", "virtual", "--seed", "1", "--slice-time", "off",
                  "--priority", "none", "--priority", "hog=low", "--group-by", "label")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "== comparison" in out
    table = out.split("== comparison", 1)[1].splitlines()
    assert sum(1 for line in table if line.startswith("priority=")) == 2
    assert "JAIN" in out and "RT p99" in out and "hog " in out


def test_grouping_by_label_name_and_initial_call(workload):
    keys = {g: {x["key"] for x in fair_json(workload, "--group-by", g)["runs"][0]["groups"]}
            for g in ("label", "name", "initial_call")}
    assert keys["label"] == {"hog", "io", "(no label) w.main"}
    assert keys["name"] == {"io", "(unregistered) w.hog/1", "(unregistered) w.main"}
    assert keys["initial_call"] == {"w.hog/1", "w.sleeper/0", "w.main"}


def test_priorities_are_assigned_by_group_key(workload):
    for group_by, key in (("label", "hog"), ("initial_call", "w.hog/1")):
        doc = fair_json(workload, "--group-by", group_by, "--priority", f"{key}=low")
        run = doc["runs"][0]
        levels = {p["group"]: p["priority"] for p in run["processes"]}
        assert levels[key] == "low" and run["settings"]["priority"] == {key: "low"}
        assert {lv for g, lv in levels.items() if g != key} == {"normal"}
    doc = fair_json(workload, "--priority", "w.main=high")
    assert [p["priority"] for p in doc["runs"][0]["processes"] if p["group"] == "w.main"] == [
        "high"]


def test_seconds_stops_a_workload_that_does_not_return(workload):
    doc = fair_json(workload, "--workload", "forever", "--seconds", "0.05")
    run = doc["runs"][0]
    assert run["ended"] == "timeout" and run["elapsed"] == pytest.approx(0.05, abs=0.01)


def test_a_failing_workload_is_reported(workload):
    doc = fair_json(workload, "--workload", "crash")
    assert doc["runs"][0]["ended"] == "failed"
    assert "RuntimeError: the workload broke" in doc["runs"][0]["error"]


def test_a_file_that_runs_itself_with_vm_run_runs_once(tmp_path):
    path = tmp_path / "self_running.py"
    path.write_text(WORKLOAD + "\nif __name__ == '__main__':\n    vm.run(main)\n"
                    + "vm.run(lambda: [vm.spawn(hog, 5), vm.sleep(0.01)])  # unguarded\n")
    doc = fair_json(str(path), "--group-by", "label")
    run = doc["runs"][0]
    assert run["ended"] == "returned"
    keys = {g["key"]: g["processes"] for g in run["groups"]}
    assert keys["hog"] == 1 and "io" not in keys  # the guarded main never ran


def test_a_function_that_needs_arguments_is_a_usage_error(workload):
    result = fair(workload, "--workload", "needs", "--clock", "virtual")
    assert result.exit_code == 2
    assert "needs() needs arguments" in result.output and "--workload NAME" in result.output


def test_plots_are_written_and_named(workload, tmp_path):
    pytest.importorskip("matplotlib")
    out = tmp_path / "charts"
    result = fair(workload, "--clock", "virtual", "--policy", "beam,cfs", "--plot", str(out))
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in out.iterdir())
    assert written == ["01-policy=beam-gantt.png", "01-policy=beam-latency_cdf.png",
                       "01-policy=beam-share.png", "02-policy=cfs-gantt.png",
                       "02-policy=cfs-latency_cdf.png", "02-policy=cfs-share.png",
                       "comparison.png"]
    assert all((out / n).read_bytes()[:4] == b"\x89PNG" for n in written)
    assert f"chart: {out / 'comparison.png'}" in result.stdout


def test_plot_without_matplotlib_says_how_to_install_it(workload, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    result = fair(workload, "--plot", str(tmp_path))
    assert result.exit_code == 2 and "pip install 'beamlet[plot]'" in result.output


@pytest.mark.parametrize("args, message", [
    (["--policy", "beam,fifo"], "unknown policy; known: beam, beam-python, cfs, lottery, stride"),
    (["--priority", "hog"], "'hog' is not NAME=LEVEL"),
    (["--priority", "hog=urgent"], "the level must be one of low, normal, high, max"),
    (["--reductions", "0"], "reductions per slice must be at least 1"),
    (["--reductions", "1000,,4000"], "not a comma-separated list"),
    (["--slice-time", "-1"], "a slice time is seconds > 0"),
    (["--workload", "nope"], "has no function 'nope': define def nope(): ... in it, or "
                             "name one of its functions with --workload NAME (crash, forever, "
                             "hog, main,"),
])
def test_bad_input_is_a_usage_error_naming_the_fix(workload, args, message):
    result = fair(workload, *args)
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())


def test_missing_file_and_file_without_main(tmp_path):
    result = fair(str(tmp_path / "nope.py"))
    assert result.exit_code == 2
    assert "no such file" in result.output and "priority_inversion" in result.output
    empty = tmp_path / "empty.py"
    empty.write_text("x = 1\n")
    result = fair(str(empty))
    assert result.exit_code == 2 and "has no function 'main': define def main()" in result.output
    broken = tmp_path / "broken.py"
    broken.write_text("def main(:\n")
    result = fair(str(broken))
    assert result.exit_code == 2 and "syntax error" in result.output


def test_an_entry_defined_conditionally_is_found(tmp_path):
    path = tmp_path / "cond.py"
    path.write_text("import vm\ntry:\n    import nothing_here\nexcept ImportError:\n"
                    "    def main():\n        vm.sleep(0.01)\n")
    assert fair_json(str(path))["runs"][0]["ended"] == "returned"


def test_the_library_api_runs_a_sweep(workload):
    doc = fairness.run_sweep(workload, clock="virtual", seed=3, seconds=1,
                             policies=["lottery", "beam-python"])
    assert [r["settings"]["policy"] for r in doc["runs"]] == ["lottery", "beam-python"]
    assert "== comparison" in fairness.document_text(doc)
