"""Running a workload once, in a fresh node, with accounting on; collecting.

What this module owns: finding the workload (a file and a function in it),
one run of it under given scheduler settings (reductions, slice time,
policy, priority assignments, seed, clock), stopping it after a time, and
gathering the raw figures the report is made of: `vm.scheduling`'s
per-process accounting and timeline, microstate accounting, the
scheduler's wall time, and what each process was (its initial call,
registered name, label, priority).

How a run goes: a fresh `vm.Node` runs a controller process at priority
`max` (so that it stops the run on time under every policy). The
controller switches accounting (with the timeline) and msacc on, spawns
the workload process (the file's body, then its entry function), and waits
for it to end or for `seconds` to pass; it then reads every figure and
returns, which stops the node and kills what is left. The controller is
left out of the report.

How priorities are assigned (`priorities={"key": "high", ...}`): a process
whose group key (by initial call, name or label) is in the mapping gets
that level through `vm.lowlevel.set_priority`: at its spawn when grouping
by initial call, at the end of its first slice that shows the key when
grouping by name or label (a per-slice hook, installed only then).

What it refuses: computing figures (`report`), printing (`text`), drawing
(`plot`), combining runs (`sweep`).
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import os

import vm
import vm.lowlevel as lowlevel
import vm.scheduling as scheduling
from stdlib.runner import Program, ProgramError, describe_exit
from stdlib.runner import UsageError as RunnerUsageError

from .report import GROUP_BY, term_text

#: The exit reason of a workload process whose file lacks the entry function.
_NO_ENTRY = vm.Atom("fairness_no_entry")
LEVELS = ("low", "normal", "high", "max")


class WorkloadError(Exception):
    """The workload cannot be run as asked (no such file, no such function, a
    syntax error); the message names the fix."""


def library_dir() -> str | None:
    """The folder of beamlet's workload library (`benchmarks/workloads`), found
    without importing the `benchmarks` package; None if it is not installed."""
    spec = importlib.util.find_spec("benchmarks")
    if spec is None or not spec.submodule_search_locations:
        return None
    return os.path.join(list(spec.submodule_search_locations)[0], "workloads")


def library_names() -> list[str]:
    """The library's workloads, by name (what `beamlet fairness NAME` accepts)."""
    folder = library_dir()
    if folder is None or not os.path.isdir(folder):
        return []
    return sorted(f[:-3] for f in os.listdir(folder)
                  if f.endswith(".py") and not f.startswith("_"))


def workload_path(file: str) -> str:
    """FILE as given, or the file of a workload in beamlet's library
    (`benchmarks/workloads/NAME.py`) when FILE is such a name."""
    if os.path.isfile(file):
        return file
    if file in library_names():
        return os.path.join(library_dir(), f"{file}.py")
    known = ", ".join(library_names())
    raise WorkloadError(f"no such file: {file} (give a Python file with a main() function, "
                        f"or the name of a library workload: {known})")


def check_entry(path: str, entry: str) -> None:
    """Fail early, with the fix, when FILE cannot be parsed or nothing in its
    module-level code binds `entry` (a def, an assignment, an import, a
    `global` declaration; inside `if`, `try` and the like too: the check only
    rules out a file that certainly lacks it, and the run checks again)."""
    try:
        with open(path, "rb") as f:
            tree = ast.parse(f.read(), path)
    except OSError as e:
        raise WorkloadError(f"cannot read {path}: {e.strerror}") from None
    except SyntaxError as e:
        raise WorkloadError(f"{path}:{e.lineno}: syntax error: {e.msg}") from None
    if entry in _bound_names(tree):
        return
    functions = sorted(n.name for n in tree.body
                       if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef))
    fix = f"define def {entry}(): ... in it"
    if functions:
        fix += f", or name one of its functions with --workload NAME ({', '.join(functions)})"
    raise WorkloadError(f"{path} has no function {entry!r}: {fix}")


def _bound_names(tree) -> set:
    """Names bound anywhere in the module's code, function bodies left out
    except for their `global` declarations."""
    names: set = set()
    todo = list(tree.body)
    while todo:
        node = todo.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
            todo.extend(n for n in ast.walk(node) if isinstance(n, ast.Global))
            continue
        if isinstance(node, ast.Global):
            names.update(node.names)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.alias):
            names.add((node.asname or node.name).split(".")[0])
        todo.extend(ast.iter_child_nodes(node))
    return names


def call_text(mfa) -> str | None:
    """An initial call `(module, name, arity)` as `module.name/arity`."""
    return "{}.{}/{}".format(*mfa) if mfa else None


class _Watch(vm.Instrument):
    """What the runner learns about the workload's processes as they live:
    spawn times and initial calls (spawn event), names, labels and
    priorities of the dead (exit hook), and the priority assignments it
    applies."""

    def __init__(self, node, group_by, priorities):
        self.node = node
        self.group_by = group_by
        self.priorities = dict(priorities or {})
        self.info: dict = {}  # pid -> {initial_call, spawned, name, label, priority}
        self.pending: set = set()  # pids whose name/label key is not known yet
        self.by_slice = bool(self.priorities) and group_by != "initial_call"

    def wants(self, event):
        return event == "spawn" or (event == "slice_end" and self.by_slice)

    def spawn(self, parent, child, initial_call):
        row = self.info[child] = {"initial_call": call_text(initial_call),
                                  "spawned": lowlevel.node_now(self.node)}
        if not self.priorities:
            return
        if self.group_by == "initial_call":
            self.assign(child, row, row["initial_call"])
        else:
            self.pending.add(child)

    def slice_end(self, pid, reductions):
        if pid not in self.pending:
            return
        keys = lowlevel.process_keys(pid, node=self.node)
        key = None if keys is None else term_text(keys[self.group_by])
        if key is not None:
            self.pending.discard(pid)
            self.assign(pid, self.info.setdefault(pid, {}), key)

    def assign(self, pid, row, key):
        level = self.priorities.get(key)
        if level is not None and lowlevel.set_priority(pid, level, node=self.node) is not None:
            row["priority"] = level

    def on_exit(self, pid, reason):
        """An exit hook: the last moment a dead process's name, label, priority exist."""
        row = self.info.get(pid)
        keys = lowlevel.process_keys(pid, node=self.node)
        if row is not None and keys is not None:
            row.update(keys)
        self.pending.discard(pid)


def _workload(program: Program, entry: str, args):
    """The workload process: FILE's body, then its entry function."""
    try:
        program.run_body()
        if program.ran_main and entry == "main":
            return None  # the body called vm.run(main) itself: main has run
        fn = program.module.__dict__.get(entry)
        if not callable(fn):
            vm.exit((_NO_ENTRY, entry))
        if not _callable_with(fn, len(args)):
            vm.exit((_NO_ENTRY, f"{entry}() needs arguments, and beamlet fairness calls it "
                                f"with none: give its parameters defaults, or name a function "
                                f"that takes none with --workload NAME"))
        return fn(*args)
    except RunnerUsageError as e:
        vm.exit((_NO_ENTRY, str(e)))


def _callable_with(fn, n: int) -> bool:
    try:
        inspect.signature(fn).bind(*range(n))
    except TypeError:
        return False
    except ValueError:  # no signature to read (a builtin): let the call say
        return True
    return True


def _controller(watch: _Watch, program: Program, entry: str, seconds: float, args):
    vm.process_flag("priority", "max")
    me = vm.self()
    lowlevel.add_exit_hook(watch.on_exit)
    scheduling.msacc(True)
    scheduling.accounting(True, timeline=True)
    start = vm.monotonic()
    pid, ref = vm.spawn_monitor(lambda: _workload(program, entry, args))
    row = watch.info.setdefault(pid, {})
    row["initial_call"] = f"{program.module.__name__}.{entry}"
    if watch.group_by == "initial_call":
        watch.assign(pid, row, row["initial_call"])  # its spawn showed the runner's lambda
    down = vm.receive(("DOWN", ref, "process", pid, vm.ANY), timeout=seconds)
    end = vm.monotonic()
    stats = scheduling.process_stats()
    timeline = scheduling.timeline()
    ms = scheduling.msacc_stats()
    wall = vm.statistics("scheduler_wall_time")
    scheduling.accounting(False)
    scheduling.msacc(False)
    for p in stats:
        if p == me:
            continue
        now = vm.process_info(p, ["registered_name", "label", "priority"])
        row = watch.info.setdefault(p, {})
        if now is not None:  # alive: read it now (a dead one was read at its exit)
            row["name"] = now.get("registered_name")
            row["label"] = now["label"]
            row["priority"] = str(now["priority"])
    if down is vm.TIMEOUT:
        ended, error = "timeout", None
    elif down[4] == "normal":
        ended, error = "returned", None
    elif isinstance(down[4], tuple) and len(down[4]) == 2 and down[4][0] == _NO_ENTRY:
        return {"usage_error": down[4][1]}
    else:
        ended, error = "failed", describe_exit(down[4]).rstrip()
    return {"stats": stats, "timeline": timeline, "info": watch.info, "start": start,
            "end": end, "msacc": ms, "wall": wall, "exclude": (me,), "ended": ended,
            "error": error}


def run_once(path: str, *, entry: str = "main", args=(), seconds: float = 5.0, seed=None,
             clock: str = "real", reductions: int = 4000, slice_time=0.00025,
             policy: str = "beam", priorities=None, group_by: str = "initial_call",
             label: str = "run") -> dict:
    """Run the workload once in a fresh node; the raw figures `report.run_report`
    takes. Raises WorkloadError when the workload cannot be run as asked."""
    if group_by not in GROUP_BY:
        raise WorkloadError(f"group_by must be one of {', '.join(GROUP_BY)}, not {group_by!r}")
    check_entry(path, entry)
    try:
        program = Program(path, name=_module_name(path))
    except (ProgramError, RunnerUsageError) as e:
        raise WorkloadError(str(e)) from None
    node = vm.Node(reductions=reductions, seed=seed, clock=clock, slice_time=slice_time,
                   policy=scheduling.make_policy(policy))
    watch = _Watch(node, group_by, priorities)
    vm.lowlevel.add_instrument(watch, node=node)

    def controller():  # a closure: process arguments are copied, and these are not terms
        return _controller(watch, program, entry, seconds, tuple(args))

    raw = node.run(controller)
    if "usage_error" in raw:
        what = raw["usage_error"]
        raise WorkloadError(what if what != entry else
                            f"{path} defines no callable {entry!r} after its body ran: "
                            f"define def {entry}(): ... in it")
    raw["settings"] = {"reductions": reductions, "slice_time": slice_time, "policy": policy,
                       "priority": dict(priorities or {})}
    raw["label"] = label
    return raw


def _module_name(path: str) -> str:
    stem = os.path.splitext(os.path.basename(path))[0]
    return stem if stem.isidentifier() else "workload"


def parse_priorities(text: str) -> dict:
    """`NAME=LEVEL,...` as a dict; ValueError naming the fix when malformed."""
    out: dict = {}
    if text.strip() in ("", "-", "none"):
        return out
    for item in text.split(","):
        key, sep, level = item.strip().partition("=")
        key, level = key.strip(), level.strip()
        if not sep or not key or not level:
            raise ValueError(f"{item.strip()!r} is not NAME=LEVEL (e.g. hog=low,server=high)")
        if level not in LEVELS:
            raise ValueError(f"{item.strip()!r}: the level must be one of {', '.join(LEVELS)}")
        out[key] = level
    return out

