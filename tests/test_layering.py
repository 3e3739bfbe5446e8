"""The layering of the house, checked on the source (no import of the code).

Code outside `vm/` (stdlib, benchmarks, examples, tests) uses the runtime
only through the public `vm` API and the documented functions of
`vm.lowlevel`. These tests parse every such file with `ast` (the checker
is tests/layering.py) and fail on:

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
each with the reason it is deferred. Inside vm/, they check that the
loop's slow-path flag has its one owner (`Core.need_slow_path`) and that
each hot primitive of vm/_core.py is written once (the copies kept on
purpose are listed in `PRIMITIVE_COPIES` with their reasons).

`tests/vm/` is exempt from 1-4: it is the runtime's own white-box suite,
mirroring the private modules it tests.
"""

from __future__ import annotations

import pytest

from .layering import (
    Rules,
    check_file,
    import_cycles,
    import_graph,
    layering_violations,
    primitive_sites,
    slow_path_flag_writers,
)

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


# Where vm/ writes out a hot primitive of vm/_core.py instead of calling it:
# (primitive, "path:function") -> why that copy exists. A new copy fails the
# test: call the primitive, or list the copy here with its reason.
PRIMITIVE_COPIES = {
    ("deliver", "vm/_runtime.py:_deliver_from_outside"):
        "a timer's message wakes its receiver as from outside (cancel its undo, "
        "front of the queue on a real clock), which deliver does not",
    ("park", "vm/_core.py:receive_any"): "receive's common case parks inline (no call)",
    ("park", "vm/_core.py:call_request"): "the fused call parks inline (no call)",
    ("take", "vm/_core.py:call_request"):
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
    eager, combined = import_cycles(DEFERRED_BACK_EDGES)
    assert eager is None, "a cycle among load-time imports: " + " -> ".join(eager)
    assert combined is None, (
        "a cycle through a deferred import (break it, or list the back edge with its "
        "reason in DEFERRED_BACK_EDGES): " + " -> ".join(combined))


def test_every_listed_back_edge_exists():
    _, deferred = import_graph()
    stale = [edge for edge in DEFERRED_BACK_EDGES if edge[1] not in deferred.get(edge[0], ())]
    assert not stale, f"no longer deferred imports, drop them from the list: {stale}"


def test_the_slow_path_flag_has_one_owner():
    # Raised only through Core.need_slow_path (every writer calls it, threads
    # too); set once when the runtime is made; recomputed (lowered) only by
    # the loop when it picks the next process.
    assert slow_path_flag_writers() == [
        "vm/_core.py:__init__", "vm/_core.py:need_slow_path", "vm/_scheduler.py:_picked"]


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
    eager, combined = import_cycles({}, tmp_path)
    assert eager is None
    assert combined == ["stdlib.a", "stdlib.b", "stdlib.c", "stdlib.a"]
    assert import_cycles({("stdlib.b", "stdlib.c"): "why"}, tmp_path) == (None, None)
    (pkg / "c.py").write_text("from .a import thing\n")
    (pkg / "b.py").write_text("from . import c\n")
    assert import_cycles({}, tmp_path)[0] == [
        "stdlib.a", "stdlib.b", "stdlib.c", "stdlib.a"]
