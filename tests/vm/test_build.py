"""The two builds of the hot modules: compiled (vm._core_c, vm._heap_c) and pure Python.

`.ci/run` runs the whole suite once as installed and once with
BEAMLET_PURE_PYTHON=1; these tests check that each run really uses the build
it claims, that both can be had from one checkout, and that the compiled
records expose every field the rest of the VM reads and writes.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

import vm._core as core
import vm._heap as heap
from vm._compiled import load_compiled
from vm.lowlevel import compiled

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PURE = bool(os.environ.get("BEAMLET_PURE_PYTHON"))
BUILT = importlib.util.find_spec("vm._core_c") is not None
HEAP_BUILT = importlib.util.find_spec("vm._heap_c") is not None
# How a compiled record's fields show: member descriptors (object fields, see
# member_slots in vm/_core.pxd) or Cython's getset descriptors (typed ones).
FIELD_DESCRIPTORS = ("member_descriptor", "getset_descriptor")


def _probe(env_pure: bool) -> str:
    """What a fresh interpreter, with or without BEAMLET_PURE_PYTHON, reports."""
    env = dict(os.environ)
    env.pop("BEAMLET_PURE_PYTHON", None)
    if env_pure:
        env["BEAMLET_PURE_PYTHON"] = "1"
    code = ("import vm, vm._core as c, vm._heap as h, vm.lowlevel as ll;"
            "print(ll.compiled(), c.Process.__module__, h.copy_term.__module__,"
            " vm.run(lambda: 6 * 7))")
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True, timeout=60)
    return out.stdout.strip()


def test_the_build_in_use_matches_the_environment():
    if PURE:
        assert not compiled()
        assert core.Process.__module__ == "vm._core"
    else:
        # Installed with a C compiler and Cython, the extension exists and is used.
        assert compiled() is BUILT
        assert core.Process.__module__ == ("vm._core_c" if BUILT else "vm._core")
    assert core.COMPILED is compiled()
    assert heap.COMPILED is (HEAP_BUILT and not PURE)
    assert heap.copy_term.__module__ == ("vm._heap_c" if heap.COMPILED else "vm._heap")


def test_both_builds_run_from_one_checkout():
    assert _probe(env_pure=True) == "False vm._core vm._heap 42"
    core_ = "True vm._core_c" if BUILT else "False vm._core"
    heap_ = "vm._heap_c" if HEAP_BUILT else "vm._heap"
    assert _probe(env_pure=False) == f"{core_} {heap_} 42"


def test_the_compiled_copy_has_one_set_of_tables():
    # Other modules import the copy's tables, register_term_type mutates them,
    # and the compiled functions read them: one object each, the compiled
    # module's, and every name of vm._heap is the compiled module's.
    c = pytest.importorskip("vm._heap_c")
    if not heap.COMPILED:
        pytest.skip("the pure-Python copy is in use")
    import vm._scheduler

    for name, value in vars(c).items():
        if not (name.startswith("__") and name.endswith("__")) and name != "_BUILT_FROM":
            assert getattr(heap, name) is value, name
    assert core._SCALARS is vm._scheduler._SCALARS is c._SCALARS

    class Sent:
        pass

    import vm

    vm.register_term_type(Sent)
    assert Sent in c._REGISTERED
    out = c.copy_term([Sent()])
    assert type(out[0]) is Sent


def test_a_stale_or_forced_out_extension_is_not_loaded(tmp_path, monkeypatch):
    # load_compiled (shared by every compiled module) trusts an extension only
    # when it was built from the source beside the module.
    pytest.importorskip("vm._heap_c")
    src = os.path.join(ROOT, "vm", "_heap")
    for ext in (".py", ".pxd"):
        with open(src + ext) as f:
            (tmp_path / ("_heap" + ext)).write_text(f.read())
    fresh = {"__name__": "vm._heap", "__file__": str(tmp_path / "_heap.py")}
    monkeypatch.delenv("BEAMLET_PURE_PYTHON", raising=False)
    assert load_compiled(fresh) is True
    assert fresh["copy_term"].__module__ == "vm._heap_c"

    with open(tmp_path / "_heap.pxd", "a") as f:
        f.write("# edited since the build\n")
    stale = {"__name__": "vm._heap", "__file__": str(tmp_path / "_heap.py")}
    with pytest.warns(RuntimeWarning, match=r"built from another version of vm/_heap.py"):
        assert load_compiled(stale) is False
    assert set(stale) == {"__name__", "__file__"}

    monkeypatch.setenv("BEAMLET_PURE_PYTHON", "1")
    forced = {"__name__": "vm._heap", "__file__": str(src + ".py")}
    assert load_compiled(forced) is False
    assert set(forced) == {"__name__", "__file__"}


def test_the_cli_names_the_build():
    from click.testing import CliRunner

    from stdlib.cli import main

    out = CliRunner().invoke(main, ["--version"])
    assert out.exit_code == 0
    assert out.output.startswith("beamlet ")
    assert ("(compiled)" if compiled() else "(pure Python)") in out.output


# The Process fields the compiled core keeps as C integers (vm/_core.pxd).
COUNTERS = ("budget", "reductions", "received")


def test_every_process_field_reads_and_writes_in_this_build():
    # The compiled Process declares its fields in vm/_core.pxd; the pure one
    # lists them in __slots__. They must be the same set, each one writable.
    fields = core.Process.__slots__
    assert len(set(fields)) == len(fields)

    p = core.Process(lambda: None)  # a record that never runs
    for f in fields:
        if f in COUNTERS:  # C integers when compiled: any int the runtime can reach
            for value in (0, -5, core.MAX_REDUCTIONS * 1000):
                setattr(p, f, value)
                assert getattr(p, f) == value and type(getattr(p, f)) is int, f
            continue
        marker = core.Mailbox() if f == "mailbox" else object()  # mailbox is typed
        setattr(p, f, marker)
        assert getattr(p, f) is marker, f
    p.mailbox = None
    assert p.mailbox is None
    if compiled():
        with pytest.raises(TypeError):
            p.mailbox = []  # the compiled record refuses what the hot path cannot read


def test_compiled_fields_are_the_pure_slots():
    c = pytest.importorskip("vm._core_c")
    for name in ("Process", "Mailbox", "Traced"):
        declared = {k for k, v in vars(getattr(c, name)).items()
                    if type(v).__name__ in FIELD_DESCRIPTORS and not k.startswith("__")}
        assert declared == set(getattr(c, name).__slots__), name


def test_python_code_reads_object_fields_through_member_descriptors():
    # What makes `p.state` in Python code as fast as a __slots__ read (LOAD_ATTR_SLOT).
    c = pytest.importorskip("vm._core_c")
    kinds = {k: type(v).__name__ for k, v in vars(c.Process).items() if k in c.Process.__slots__}
    assert kinds.pop("mailbox") == "getset_descriptor"  # typed: refuses what is not a Mailbox
    for f in COUNTERS:  # C integers: typed descriptors, read by the runtime's cold paths
        assert kinds.pop(f) == "getset_descriptor", f
    assert set(kinds.values()) == {"member_descriptor"}
    assert type(vars(c.Core)["special"]).__name__ == "getset_descriptor"  # a C int
    core_ = c.Core.__new__(c.Core)
    core_.special = 0
    assert core_.special is False  # still a bool to Python code


def test_compiled_core_declares_every_field_the_pure_core_sets():
    c = pytest.importorskip("vm._core_c")
    declared = {k for k, v in vars(c.Core).items() if type(v).__name__ in FIELD_DESCRIPTORS}
    with open(os.path.join(ROOT, "vm", "_core.py")) as f:
        init = f.read().split("class Core:", 1)[1].split("def need_slow_path", 1)[0]
    assigned = set()
    for line in init.splitlines():
        line = line.strip()
        while line.startswith("self."):  # self.a = self.b = value
            name, line = line[5:].split("=", 1)
            assigned.add(name.split(":")[0].strip())  # self.sched: Seam | None = None
            line = line.strip()
    assert len(assigned) > 30 and assigned <= declared, assigned - declared


def test_the_compiled_mailbox_compacts_as_the_pure_one(monkeypatch):
    # tests/vm/test_mailbox.py shrinks the compaction thresholds of vm._core;
    # the compiled Mailbox reads its own module's: shrink both and rerun it.
    c = pytest.importorskip("vm._core_c")
    if not compiled():
        pytest.skip("the pure-Python core is in use")
    from tests.vm.test_mailbox import test_mailbox_behaves_like_a_list

    monkeypatch.setattr(c, "FRONT_CUT", 4)
    monkeypatch.setattr(c, "HOLES_MAX", 4)
    test_mailbox_behaves_like_a_list()


def test_the_pure_bench_peer_runs_beamlet_on_the_pure_core():
    from benchmarks import harness

    if not compiled():
        assert "pure-Python core" in harness.peer_status("pure")
        return
    assert harness.peer_status("pure") is None
    recs, info = harness.run_one("pingpong", "pure", {"rounds": 300, "reps": 1}, timeout=120)
    assert info["returncode"] == 0
    assert [(r["system"], r["status"]) for r in recs] == [("pure", "ok")]


def test_the_core_functions_travel_in_messages_in_both_builds():
    # vm.send is a compiled function in one build and a Python one in the other:
    # either way it is code, and a message may carry it (task.start(vm.send, ...)).
    import vm
    from vm.lowlevel import copy_term

    def main():
        return copy_term((vm.send, vm.receive, vm.register_term_type, copy_term))

    sent = (vm.send, vm.receive, vm.register_term_type, copy_term)
    assert all(a is b for a, b in zip(vm.run(main), sent, strict=True))


def test_the_build_names_each_module_that_runs_pure(monkeypatch):
    from stdlib.cli import core_build
    from vm import lowlevel

    assert set(lowlevel.compiled_modules()) == {"_core", "_heap", "_patterns"}
    monkeypatch.setattr(lowlevel, "compiled_modules", lambda: {"_core": True, "_heap": False})
    assert core_build() == ("partly compiled (vm._heap pure Python: its extension is missing "
                            "or stale)")
    assert lowlevel.compiled() is False
    monkeypatch.setattr(lowlevel, "compiled_modules", lambda: {"_core": False, "_heap": False})
    assert core_build() == "pure Python"
    monkeypatch.setattr(lowlevel, "compiled_modules", lambda: {"_core": True, "_heap": True})
    assert core_build() == "compiled" and lowlevel.compiled() is True
