"""The layering checks behind tests/test_layering.py, reading the source with
`ast` (nothing is imported but `vm`, for `vm.Node`'s public names).

- `layering_violations()`: code outside vm/ that goes past the public API
  and `vm.lowlevel` (`check_file` does one file, with `Rules` read from vm/);
- `import_graph()`, `import_cycles(allowed)`: stdlib's imports, eager (run
  when a module loads) and deferred (inside functions), and a cycle in them;
- `slow_path_flag_writers()`, `primitive_sites()`: where vm/ assigns the
  loop's slow-path flag, and where it writes out a hot primitive of
  vm/_core.py.

What each rule is and why is in tests/test_layering.py, which holds the
lists of allowed exceptions.
"""

from __future__ import annotations

import ast
import functools
import os
from dataclasses import dataclass
from pathlib import Path

import vm

ROOT = Path(__file__).resolve().parent.parent
CHECKED = ("stdlib", "benchmarks", "examples", "tests")
EXEMPT = ("tests/vm/",)  # white-box tests of vm's private modules
# The runtime's classes: what a `Process.node` is. Both must exist (Rules
# raises LookupError otherwise), so a rename cannot quietly empty the list.
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


def import_cycles(allowed, root: Path = ROOT, package: str = "stdlib"):
    """(a cycle among load-time imports or None, a cycle using deferred imports or None)."""
    eager, deferred = import_graph(root, package)
    combined = {m: eager[m] | {t for t in deferred[m] if (m, t) not in allowed}
                for m in eager}
    return find_cycle(eager), find_cycle(combined)


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
