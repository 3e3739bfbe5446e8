"""The layering of the house, checked on the source (no import of the code).

Code outside `vm/` (stdlib, benchmarks, examples, tests) uses the runtime
only through the public `vm` API and the documented functions of
`vm.lowlevel`. This module parses every such file with `ast` and fails on:

1. an import of a private runtime module: `import vm._x`, `from vm._x
   import ...`, `from vm import _x` (also `vm.dist._x`, and the string given
   to `importlib.import_module`);
2. a private attribute of the runtime: `x._name` where `_name` is an
   attribute, slot or method that a class in `vm/` defines and nothing
   outside `vm/` defines (so `self._lock` of a stdlib class is not
   mistaken for the runtime's), and any `vm._name`;
3. `vm.testing.runtime()`, the private runtime for white-box tests of vm/;
4. the runtime reached through a process record: `lowlevel.current_process()`
   hands out the `Process` record, whose `node` is the private runtime;
   `<record>.node` on a name bound to `current_process()` is refused, and so
   is `<anything>.node.<name>` where `<name>` belongs to the runtime
   (`Runtime`/`Core` in `vm/`) and is not part of the public `vm.Node`,
   and any attribute a `vm.Node` from `current_node()` does not have publicly;

and it checks that stdlib's import graph has no cycle: no cycle at all
among the imports run when a module loads, and among the deferred imports
inside functions none beyond the ones listed in `DEFERRED_BACK_EDGES`,
each with the reason it is deferred. Inside vm/, it checks that the
loop's slow-path flag has its one owner (`Core.need_slow_path`).

`tests/vm/` is exempt from 1-4: it is the runtime's own white-box suite,
mirroring the private modules it tests.
"""

from __future__ import annotations

import ast
import functools
import os
from dataclasses import dataclass
from pathlib import Path

import pytest

import vm

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("stdlib", "benchmarks", "examples", "tests")
EXEMPT = ("tests/vm/",)  # white-box tests of vm's private modules
# The runtime's classes: what a `Process.node` is. Both must exist (checked
# below), so a rename cannot quietly empty the list of runtime names.
RUNTIME_CLASSES = (("vm/_runtime.py", "Runtime"), ("vm/_core.py", "Core"))


@dataclass(frozen=True)
class Violation:
    path: str
    line: int
    what: str

    def __str__(self):
        return f"{self.path}:{self.line}: {self.what}"


def _py_files(base: Path, rel_dirs) -> list[Path]:
    out = []
    for d in rel_dirs:
        for dirpath, dirnames, filenames in os.walk(base / d):
            dirnames[:] = [n for n in dirnames if not n.startswith(".") and n != "__pycache__"]
            out += [Path(dirpath) / f for f in filenames if f.endswith(".py")]
    return sorted(out)


def _parse(path: Path) -> ast.Module:
    """The file's tree, parsed once per version of the file (the trees are only read)."""
    return _parse_version(str(path), path.stat().st_mtime_ns)


@functools.cache
def _parse_version(path: str, mtime_ns: int) -> ast.Module:
    return ast.parse(Path(path).read_text(encoding="utf-8"), path)


def _file_names(path: Path) -> set[str]:
    return _file_names_version(str(path), path.stat().st_mtime_ns)


@functools.cache
def _file_names_version(path: str, mtime_ns: int) -> frozenset[str]:
    return frozenset(_defined_names(_parse(Path(path))))


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _statements(node: ast.AST):
    """Every statement under `node` (not the expressions: definitions are statements)."""
    for field in ("body", "orelse", "finalbody", "handlers", "cases"):
        for child in getattr(node, field, ()):
            if isinstance(child, ast.stmt):
                yield child
            yield from _statements(child)


def _defined_names(tree: ast.AST) -> set[str]:
    """Attribute names a tree defines: `self.x = ...`, slots, methods, class attributes."""
    out: set[str] = set()
    if isinstance(tree, ast.Module):  # module-level functions, classes and names
        for stmt in tree.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                out.add(stmt.name)
            elif isinstance(stmt, ast.Assign):
                out |= {t.id for t in stmt.targets if isinstance(t, ast.Name)}
    for node in (tree, *_statements(tree)):
        if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for sub in ast.walk(t):
                    if isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name) \
                            and sub.value.id in ("self", "cls"):
                        out.add(sub.attr)
        if isinstance(node, ast.ClassDef):
            for stmt in node.body:
                if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    out.add(stmt.name)
                elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
                    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                    for t in targets:
                        if isinstance(t, ast.Name):
                            out.add(t.id)
                            if t.id == "__slots__" and stmt.value is not None:
                                out |= {c.value for c in ast.walk(stmt.value)
                                        if isinstance(c, ast.Constant)
                                        and isinstance(c.value, str)}
    return out


def _class_names(tree: ast.Module, cls: str) -> set[str]:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == cls:
            return _defined_names(node)
    raise LookupError(cls)


@dataclass
class Rules:
    """What the checker knows of the runtime, read from `vm/`."""

    private: frozenset[str]  # private attribute names defined in vm/ and nowhere else
    runtime: frozenset[str]  # the runtime's public-looking names that vm.Node lacks
    front: frozenset[str]  # vm.Node's public names

    @classmethod
    def from_tree(cls, root: Path = ROOT, outside: list[Path] | None = None) -> Rules:
        vm_private = set()
        for path in _py_files(root, ["vm"]):
            vm_private |= {n for n in _file_names(path) if _is_private(n)}
        elsewhere: set[str] = set()
        for path in outside if outside is not None else _py_files(root, CHECKED):
            elsewhere |= _file_names(path)
        runtime: set[str] = set()
        for rel, name in RUNTIME_CLASSES:
            runtime |= _class_names(_parse(root / rel), name)
        front = {n for n in dir(vm.Node) if not n.startswith("_")}
        return cls(frozenset(vm_private - elsewhere),
                   frozenset(n for n in runtime - front if not n.startswith("_")),
                   frozenset(front))


def _private_module(dotted: str | None) -> bool:
    parts = (dotted or "").split(".")
    return parts[0] == "vm" and any(p.startswith("_") for p in parts[1:])


def _call_name(node: ast.AST) -> str | None:
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Name):
            return f.id
        if isinstance(f, ast.Attribute):
            return f.attr
    return None


def _bindings(tree: ast.AST, fns: tuple[str, ...]) -> dict[str, tuple[set[str], set[str]]]:
    """For each of `fns` (vm.lowlevel functions): (its spellings in the module, `fn`
    and the names it is imported as; the names bound to a call of it anywhere in
    the module, `x = fn()` or `x := fn()`)."""
    spellings = {fn: {fn} for fn in fns}
    calls: list[tuple[str | None, list[str]]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "vm.lowlevel":
            for a in node.names:
                if a.name in spellings and a.asname:
                    spellings[a.name].add(a.asname)
        elif isinstance(node, ast.Assign):
            names = [t.id for t in node.targets if isinstance(t, ast.Name)]
            if names:
                calls.append((_call_name(node.value), names))
        elif isinstance(node, ast.NamedExpr):
            calls.append((_call_name(node.value), [node.target.id]))
    return {fn: (spelled, {n for called, names in calls if called in spelled for n in names})
            for fn, spelled in spellings.items()}


def _is_from(node: ast.AST, names: set[str], fns: set[str]) -> bool:
    """Is `node` a name bound to a call of one of `fns`, or such a call itself?"""
    return (isinstance(node, ast.Name) and node.id in names) or _call_name(node) in fns


def check_file(path: Path, rules: Rules, rel: str | None = None) -> list[Violation]:
    """Every layering violation in one file outside vm/."""
    rel = rel or str(path)
    tree = _parse(path)
    out: list[Violation] = []

    def bad(node, what):
        out.append(Violation(rel, node.lineno, what))

    bound = _bindings(tree, ("current_process", "current_node"))
    record_fns, records = bound["current_process"]
    front_fns, fronts = bound["current_node"]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                if _private_module(a.name):
                    bad(node, f"imports the private module {a.name}")
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            if _private_module(node.module):
                bad(node, f"imports from the private module {node.module}")
            elif (node.module or "").split(".")[0] == "vm":
                for a in node.names:
                    if _is_private(a.name):
                        bad(node, f"imports the private name {a.name} from {node.module}")
                    elif node.module == "vm.testing" and a.name == "runtime":
                        bad(node, "imports vm.testing.runtime (white-box tests of vm/ only)")
        elif isinstance(node, ast.Call) and _call_name(node) in ("import_module", "__import__"):
            for arg in node.args[:1]:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str) \
                        and _private_module(arg.value):
                    bad(node, f"imports the private module {arg.value}")
        elif isinstance(node, ast.Attribute):
            value = node.value
            if node.attr == "runtime" and isinstance(value, (ast.Name, ast.Attribute)) and (
                    (value.id if isinstance(value, ast.Name) else value.attr) == "testing"):
                bad(node, "uses vm.testing.runtime (white-box tests of vm/ only)")
            if _is_private(node.attr):
                if isinstance(value, ast.Name) and value.id == "vm":
                    bad(node, f"uses vm.{node.attr}: private to the runtime")
                elif node.attr in rules.private and not (
                        isinstance(value, ast.Name) and value.id in ("self", "cls")):
                    bad(node, f"uses .{node.attr}: private state of the runtime")
            if node.attr == "node" and _is_from(value, records, record_fns):
                bad(node, "reaches the runtime through a process record's .node "
                          "(use vm.lowlevel.current_node() or a vm.lowlevel function)")
            elif isinstance(value, ast.Attribute) and value.attr == "node" \
                    and node.attr in rules.runtime \
                    and not _is_from(value.value, records, record_fns):
                bad(node, f"uses .node.{node.attr}: the runtime's own state, "
                          "not part of vm.Node (add a vm.lowlevel function)")
            elif _is_from(value, fronts, front_fns) and node.attr not in rules.front:
                bad(node, f"uses .{node.attr} of a vm.Node, which has no such public "
                          "attribute (add a vm.lowlevel function)")
    return out


def layering_violations(root: Path = ROOT) -> list[Violation]:
    files = _py_files(root, CHECKED)
    rules = Rules.from_tree(root, files)
    out = []
    for path in files:
        rel = path.relative_to(root).as_posix()
        if not rel.startswith(EXEMPT):
            out += check_file(path, rules, rel)
    return out


# ----------------------------------------------------------------------
# stdlib's import graph

# Imports deferred into a function on purpose, which would close a cycle if
# they ran at load time: (importer, imported) -> why. A new deferred import
# that closes a cycle fails the test until it is listed here (or removed).
DEFERRED_BACK_EDGES = {
    ("stdlib.logger", "stdlib.gen_event"):
        "the logger is a gen_event manager, but gen_event's reports go through the logger",
    ("stdlib.logger", "stdlib.gen"):
        "the logger's calls to its manager use gen, which reports through the logger",
    ("stdlib.runner", "stdlib.observer.remote"):
        "`beamlet run --shell` starts the observer only when asked",
    ("stdlib.observer.shell", "stdlib.runner"):
        "the shell runs a program file (runner) only when given one",
    ("stdlib.observer.shell", "stdlib.observer.repl"):
        "the REPL is loaded when the shell goes interactive",
    ("stdlib.agents.model", "stdlib.agents.scripted"):
        "model specs name their provider; a provider module builds on model's base",
    ("stdlib.agents.model", "stdlib.agents.openai"):
        "model specs name their provider; a provider module builds on model's base",
    ("stdlib.agents.loop", "stdlib.agents.resume"):
        "resuming a journal replays the loop, which starts resumes only on demand",
    ("stdlib.agents.gate", "stdlib.agents.loop"):
        "the loop drives the approval gate; the gate calls back into the loop's steps",
}


def _module_names(root: Path, package: str) -> dict[str, Path]:
    mods = {}
    for path in _py_files(root, [package]):
        dotted = path.relative_to(root).with_suffix("").as_posix().replace("/", ".")
        mods[dotted.removesuffix(".__init__")] = path
    return mods


def _imported(mods, current: str, is_package: bool, node) -> list[str]:
    def known(name):
        while name and name not in mods:
            name = name.rpartition(".")[0]
        return name

    if isinstance(node, ast.Import):
        return [m for m in (known(a.name) for a in node.names) if m]
    base = node.module or ""
    if node.level:
        pkg = current if is_package else current.rpartition(".")[0]
        for _ in range(node.level - 1):
            pkg = pkg.rpartition(".")[0]
        base = f"{pkg}.{base}" if base else pkg
    out = []
    for a in node.names:
        sub = f"{base}.{a.name}"
        m = sub if sub in mods else known(base)
        if m:
            out.append(m)
    return out


def import_graph(root: Path = ROOT, package: str = "stdlib"):
    """({module: set of modules it imports when loaded}, {module: set deferred})."""
    mods = _module_names(root, package)
    eager: dict[str, set[str]] = {m: set() for m in mods}
    deferred: dict[str, set[str]] = {m: set() for m in mods}

    def visit(m, is_package, node, inside_function):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            inside_function = True
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            table = deferred if inside_function else eager
            table[m] |= {t for t in _imported(mods, m, is_package, node) if t != m}
        for child in ast.iter_child_nodes(node):
            visit(m, is_package, child, inside_function)

    for m, path in mods.items():
        visit(m, path.name == "__init__.py", _parse(path), False)
    return eager, deferred


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of `graph` as [a, b, ..., a], or None."""
    state: dict[str, int] = {}  # 1: on the path, 2: done
    path: list[str] = []

    def walk(v):
        state[v] = 1
        path.append(v)
        for w in sorted(graph.get(v, ())):
            if state.get(w) == 1:
                return path[path.index(w):] + [w]
            if w not in state:
                found = walk(w)
                if found:
                    return found
        path.pop()
        state[v] = 2
        return None

    for v in sorted(graph):
        if v not in state:
            found = walk(v)
            if found:
                return found
    return None


def import_cycles(root: Path = ROOT, package: str = "stdlib", allowed=DEFERRED_BACK_EDGES):
    """(a cycle among load-time imports or None, a cycle using deferred imports or None)."""
    eager, deferred = import_graph(root, package)
    combined = {m: eager[m] | {t for t in deferred[m] if (m, t) not in allowed}
                for m in eager}
    return find_cycle(eager), find_cycle(combined)


# ----------------------------------------------------------------------
# the tests


def test_code_outside_vm_uses_only_the_public_runtime():
    found = layering_violations()
    assert not found, "outside vm/, use vm and vm.lowlevel only:\n" + "\n".join(map(str, found))


def test_the_runtime_rules_are_not_empty():
    rules = Rules.from_tree()
    # Names the checks above rely on: the runtime's process table and its
    # slow-path flag, the front's handle on its runtime.
    assert {"procs", "special", "front"} <= rules.runtime
    assert "_rt" in rules.private
    assert not {"spawn", "send", "call", "post", "stop"} & rules.runtime


def test_stdlib_import_graph_is_acyclic():
    eager, combined = import_cycles()
    assert eager is None, "a cycle among load-time imports: " + " -> ".join(eager)
    assert combined is None, (
        "a cycle through a deferred import (break it, or list the back edge with its "
        "reason in DEFERRED_BACK_EDGES): " + " -> ".join(combined))


def test_every_listed_back_edge_exists():
    _, deferred = import_graph()
    stale = [edge for edge in DEFERRED_BACK_EDGES if edge[1] not in deferred.get(edge[0], ())]
    assert not stale, f"no longer deferred imports, drop them from the list: {stale}"


def slow_path_flag_writers(root: Path = ROOT) -> list[str]:
    """Where vm/ assigns the loop's slow-path flag `special`, as "path:function"."""
    out = []
    for path in _py_files(root, ["vm"]):
        tree = _parse(path)
        for fn in ast.walk(tree):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(fn):
                targets = (node.targets if isinstance(node, ast.Assign)
                           else [node.target] if isinstance(node, (ast.AugAssign, ast.AnnAssign))
                           else [])
                if any(isinstance(t, ast.Attribute) and t.attr == "special" for t in targets):
                    out.append(f"{path.relative_to(root).as_posix()}:{fn.name}")
    return sorted(set(out))


def test_the_slow_path_flag_has_one_owner():
    # Raised only through Core.need_slow_path (every writer calls it, threads
    # too); set once when the runtime is made; recomputed (lowered) only by
    # the loop when it picks the next process.
    assert slow_path_flag_writers() == [
        "vm/_core.py:__init__", "vm/_core.py:need_slow_path", "vm/_scheduler.py:_picked"]


# Where vm/ writes out a hot primitive of vm/_core.py instead of calling it:
# (primitive, "path:function") -> why that copy exists. A new copy fails the
# test: call the primitive, or list the copy here with its reason.
PRIMITIVE_COPIES = {
    ("deliver", "vm/_runtime.py:_deliver_from_outside"):
        "a timer's message wakes its receiver as from outside (cancel its undo, "
        "front of the queue on a real clock), which deliver does not",
    ("park", "vm/_core.py:receive"): "receive's common case parks inline (no call)",
    ("park", "vm/_call.py:call_request"): "the fused call parks inline (no call)",
    ("take", "vm/_call.py:call_request"):
        "the fused call takes its reply or DOWN and demonitors before the receive "
        "event, in the order the composed calls show to instruments",
    ("take", "vm/_core.py:remove_first"): "Mailbox's own method",
}
# The primitive itself, where each is defined.
PRIMITIVE_HOMES = {
    ("charge", "vm/_core.py:charge"), ("charge", "vm/_core.py:check_charge"),
    ("charge", "vm/_core.py:scan"),  # a skipped message costs a reduction
    ("deliver", "vm/_core.py:deliver"),
    ("take", "vm/_core.py:take"),
    ("make_ref", "vm/_core.py:__init__"), ("make_ref", "vm/_core.py:new_ref_id"),
}


def primitive_sites(root: Path = ROOT) -> set[tuple[str, str]]:
    """(primitive, "path:function") for every place vm/ writes one out: a
    reduction charge (`x.budget -= n`), a delivery (`x.q.append(...)`), a park
    (`x.state = RECEIVING` or `WAITING`), a take from a mailbox
    (`mailbox.take(...)`), a new ref id (`x.next_ref = ...`)."""
    out = set()
    for path in _py_files(root, ["vm"]):
        rel = path.relative_to(root).as_posix()
        for fn in ast.walk(_parse(path)):
            if not isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            where = f"{rel}:{fn.name}"
            for node in ast.walk(fn):
                if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Sub) \
                        and isinstance(node.target, ast.Attribute) \
                        and node.target.attr == "budget":
                    out.add(("charge", where))
                elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                    f = node.func
                    if f.attr == "append" and isinstance(f.value, ast.Attribute) \
                            and f.value.attr == "q":
                        out.add(("deliver", where))
                    elif f.attr == "take" and len(node.args) == 2:
                        out.add(("take", where))
                elif isinstance(node, ast.Assign):
                    for t in node.targets:
                        if not isinstance(t, ast.Attribute):
                            continue
                        if t.attr == "state" and isinstance(node.value, ast.Name) \
                                and node.value.id in ("RECEIVING", "WAITING"):
                            out.add(("park", where))
                        elif t.attr == "next_ref":
                            out.add(("make_ref", where))
    return out


def test_each_hot_primitive_is_written_once():
    sites = primitive_sites()
    copies = sites - PRIMITIVE_HOMES
    assert copies <= set(PRIMITIVE_COPIES), (
        "a primitive of vm/_core.py written out again (call it, or list the copy "
        f"with its reason in PRIMITIVE_COPIES): {sorted(copies - set(PRIMITIVE_COPIES))}")
    gone = set(PRIMITIVE_COPIES) - copies
    assert not gone, f"no longer copies, drop them from PRIMITIVE_COPIES: {sorted(gone)}"
    moved = PRIMITIVE_HOMES - sites
    assert not moved, f"a primitive moved, update PRIMITIVE_HOMES: {sorted(moved)}"


def test_a_planted_copy_of_a_primitive_is_seen(tmp_path):
    (tmp_path / "vm").mkdir()
    (tmp_path / "vm" / "_x.py").write_text(
        "def f(p, mb, i):\n    p.budget -= 1\n    mb.q.append(1)\n    return mb.take(p, i)\n")
    assert primitive_sites(tmp_path) == {
        ("charge", "vm/_x.py:f"), ("deliver", "vm/_x.py:f"), ("take", "vm/_x.py:f")}


# -- the checker itself, on planted violations


PLANTED = {
    "import vm._core": "private module vm._core",
    "import vm._core as c": "private module vm._core",
    "from vm._heap import copy_term": "private module vm._heap",
    "from vm import _api": "private name _api",
    "from vm.dist import _secret": "private name _secret",
    "import importlib\nimportlib.import_module('vm._runtime')": "private module vm._runtime",
    "import vm\nvm._api.spawn": "vm._api",
    "def f(node):\n    return node._rt": "._rt",
    "from vm.lowlevel import current_process\n"
    "def f():\n    p = current_process()\n    return p.node": "process record's .node",
    "from vm import lowlevel\n"
    "def f():\n    return lowlevel.current_process().node.procs": "process record's .node",
    "def f(p):\n    p.node.special = True": ".node.special",
    "def f(proc):\n    return list(proc.node.procs)": ".node.procs",
    "from vm.lowlevel import current_node\n"
    "def f():\n    node = current_node()\n    return node.procs": ".procs of a vm.Node",
    "from vm import lowlevel\nlowlevel.current_node()._rt": "._rt",
    "from vm.testing import runtime": "vm.testing.runtime",
    "from vm.lowlevel import current_process as me\nme().node": "process record's .node",
    "from vm.lowlevel import current_node as here\nn = here()\nn.procs": ".procs of a vm.Node",
    "import vm.testing\nvm.testing.runtime().procs": "vm.testing.runtime",
}


@pytest.mark.parametrize("source", PLANTED, ids=range(len(PLANTED)))
def test_the_checker_catches_a_planted_violation(tmp_path, source):
    f = tmp_path / "planted.py"
    f.write_text(source + "\n")
    found = check_file(f, Rules.from_tree(outside=[]))
    assert any(PLANTED[source] in str(v) for v in found), found


def test_the_checker_passes_public_use(tmp_path):
    f = tmp_path / "clean.py"
    f.write_text(
        "import vm\n"
        "from vm import lowlevel\n"
        "from vm.lowlevel import current_node, current_process\n"
        "class Mine:\n"
        "    def __init__(self):\n"
        "        self._rt = 1\n"
        "        self.node = vm.Node()\n"
        "    def go(self):\n"
        "        self.node.post(print)\n"
        "        self.node.stop()\n"
        "        node = current_node()\n"
        "        return self._rt, current_process().pid, current_node().name, node.spawn\n"
        "def f(pid):\n"
        "    return pid.node, lowlevel.kill(pid), vm.__name__\n"
    )
    assert check_file(f, Rules.from_tree(outside=[f])) == []


def test_a_planted_writer_of_the_flag_is_seen(tmp_path):
    (tmp_path / "vm").mkdir()
    (tmp_path / "vm" / "_x.py").write_text("def f(node):\n    node.special = True\n")
    assert slow_path_flag_writers(tmp_path) == ["vm/_x.py:f"]


def test_the_cycle_finder_sees_a_planted_cycle(tmp_path):
    pkg = tmp_path / "stdlib"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from . import b\n")
    (pkg / "b.py").write_text("def later():\n    from stdlib import c\n")
    (pkg / "c.py").write_text("import stdlib.a\n")
    eager, combined = import_cycles(tmp_path, allowed={})
    assert eager is None
    assert combined == ["stdlib.a", "stdlib.b", "stdlib.c", "stdlib.a"]
    assert import_cycles(tmp_path, allowed={("stdlib.b", "stdlib.c"): "why"}) == (None, None)
    (pkg / "c.py").write_text("from .a import thing\n")
    (pkg / "b.py").write_text("from . import c\n")
    assert import_cycles(tmp_path, allowed={})[0] == [
        "stdlib.a", "stdlib.b", "stdlib.c", "stdlib.a"]
