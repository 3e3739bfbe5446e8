"""Supervision trees: walking a supervisor's children into a plain dict.

What this module owns: `snapshot_tree(root)`, run inside a process (it
makes calls). It asks the supervisor for `which_children` (OTP's
`{Id, Child, Type, Modules}` rows), descends into every child whose type
is `supervisor`, and adds for every live process its registered name and
links, read with `vm.process_info` at the end. Children are listed in start order
(oldest first). The result is the dict `views.tree_view` draws:

    {"pid": Pid | "restarting" | "undefined" | "dead", "id": child id,
     "name": str | None, "type": "supervisor" | "worker",
     "strategy": str (supervisors), "restart": str, "links": [Pid, ...],
     "children": [...], "error": why the children could not be read (optional)}

Only supervisors are asked anything, and only `which_children`, which every
supervisor answers without changing state, so drawing a tree never
disturbs a worker (observer's Applications tab does the same).

`root` is a supervisor's pid or name, or `("app", name)` for an
application's top supervisor. A root that runs no behaviour loop is
refused before anything is sent to it; a behaviour is asked for its state
through sys (read-only) to tell a supervisor from other servers and to
show its strategy and each child's restart type.

What it refuses: drawing (views.py).
"""

from __future__ import annotations

import vm

from .source import on_node
from .targets import is_behaviour, pid

CALL_TIMEOUT = 5.0
MAX_DEPTH = 32


def _why(reason):
    if type(reason) is tuple and reason:
        return str(reason[0])
    return str(reason)


def _sup_state(pid):
    """The supervisor's state (a dict of terms) through sys, or None if `pid` is
    no supervisor (or does not answer in time)."""
    from stdlib import otp_sys

    try:
        st = otp_sys.get_state(pid, CALL_TIMEOUT)
    except vm.Exit:
        return None
    if isinstance(st, dict) and "children" in st and ("strategy" in st or "max_children" in st):
        return st
    return None


def _which_children(sup):
    from stdlib import gen_server

    try:
        return gen_server.call(sup, "which_children", CALL_TIMEOUT), None
    except vm.Exit as e:
        return [], _why(e.reason)


def _check_root(pid):
    """Refuse, without sending anything, a root that runs no behaviour loop."""
    from vm.lowlevel import snapshot

    d = on_node(lambda node: snapshot.process_detail(node, pid, messages=0))
    if d is None:
        raise vm.BadArg(f"tree: {pid!r} is not alive")
    if not is_behaviour(d):
        raise vm.BadArg(f"tree: {pid!r} is not a supervisor (it runs no behaviour loop)")


def _app_root(name):
    """The top supervisor of a running application."""
    from stdlib import application, otp_sys

    get = getattr(application, "get_supervisor", None)
    if get is not None:
        r = get(name)
        if type(r) is tuple and len(r) == 2 and r[0] == "ok":
            return r[1]
        raise vm.BadArg(f"application {name!r} is not running")
    # No get_supervisor: the application master is linked to its top supervisor.
    controller = vm.whereis("application_controller")
    running = {}
    if controller is not None:
        try:
            running = (otp_sys.get_state(controller, CALL_TIMEOUT) or {}).get("running", {})
        except vm.Exit:
            running = {}
    entry = running.get(name)
    if not entry:
        raise vm.BadArg(f"application {name!r} is not running")
    master = entry[1]
    links = vm.process_info(master, "links") or []
    for linked in links:
        if linked != controller and isinstance(linked, vm.Pid) and _sup_state(linked) is not None:
            return linked
    raise vm.BadArg(f"application {name!r} has no running top supervisor")


def _resolve(root):
    if type(root) is tuple and len(root) == 2 and root[0] in ("app", "application"):
        return _app_root(str(root[1])), str(root[1])
    if isinstance(root, vm.Pid):
        return root, None
    if isinstance(root, str):
        if root.startswith("<"):
            return pid(root), None
        found = vm.whereis(root)
        if found is None:
            raise vm.BadArg(f"no process is registered as {root!r}")
        return found, None
    raise vm.BadArg(f"tree: expected a supervisor pid or name, or ('app', name), not {root!r}")


def _child_specs(st):
    """child id (or pid, for dynamic children) -> spec dict, from a supervisor state."""
    kids = st.get("children") or {}
    return kids if isinstance(kids, dict) else {}


def snapshot_tree(root) -> dict:
    """The tree under `root`, as described in the module docstring."""
    sup, app = _resolve(root)
    _check_root(sup)
    root_state = _sup_state(sup)
    if root_state is None:
        raise vm.BadArg(f"tree: {sup!r} is not a supervisor")
    seen = set()

    def walk(pid, cid, kind, depth, restart=None, st=None):
        n = {"pid": pid, "id": cid, "type": kind, "children": []}
        if restart is not None:
            n["restart"] = str(restart)
        if not isinstance(pid, vm.Pid):
            return n
        if kind == "supervisor" and pid not in seen and depth < MAX_DEPTH:
            seen.add(pid)
            st = st if st is not None else _sup_state(pid)
            if st is not None:
                n["strategy"] = str(st.get("strategy") or "dynamic")
            specs = _child_specs(st or {})
            rows, err = _which_children(pid)
            if err:
                n["error"] = err
            simple = (st or {}).get("strategy") == "simple_one_for_one"
            for row in reversed(rows):  # which_children is newest first; draw in start order
                try:
                    c_id, child, c_type = row[0], row[1], row[2]
                except (TypeError, IndexError):
                    continue
                spec = specs.get(child if c_id is None and not simple else c_id) or (
                    specs.get(st["ids"][0]) if simple and st.get("ids") else None)
                c_restart = spec.get("restart") if isinstance(spec, dict) else None
                n["children"].append(walk(child if child is not None else "undefined", c_id,
                                          str(c_type), depth + 1, c_restart))
        return n

    tree = walk(sup, app, "supervisor", 0, st=root_state)
    pids = []

    def collect(n):
        if isinstance(n["pid"], vm.Pid):
            pids.append(n["pid"])
        for c in n["children"]:
            collect(c)

    collect(tree)

    info = {}
    for p in pids:
        f = vm.process_info(p, ["registered_name", "links"])
        if f is not None:
            name = f["registered_name"]
            info[p] = (str(name) if name else None, sorted(f["links"]))

    def fill(n):
        f = info.get(n["pid"])
        if f is not None:
            n["name"], n["links"] = f
        elif isinstance(n["pid"], vm.Pid):
            n["pid"] = "dead"
        for c in n["children"]:
            fill(c)

    fill(tree)
    return tree
