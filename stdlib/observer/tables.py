"""The observer's view of ETS tables (ets:i/0, observer's Table Viewer).

What this module owns: a snapshot of a node's tables (`table_rows`, taken
on the node's thread like every observer read), the tables one process
owns (`owned_by`, for the process detail view), and the table view
(`tables_view`): name, id, owner, type, protection, size, memory.

It reads the node's table registry without going through `stdlib.ets`'s
access checks: the observer shows every table, private ones included, as
observer's Table Viewer can (it lists them; it never reads their objects
here). A node that never made a table has no registry, and shows none.

What it refuses: reading or changing objects (use `ets` in the shell).
"""

from __future__ import annotations

from dataclasses import dataclass

from stdlib.ets.table import peek_registry

from . import fmt
from .views import View, table


@dataclass(frozen=True)
class TableRow:
    id: object  # the name of a named table, else its tid
    name: str
    tid: object
    owner: object
    type: str
    protection: str
    size: int
    memory: int  # bytes (an estimate, from ets.info's words)
    heir: object


def table_rows(node) -> list:
    """Every table of `node`, oldest first. Call on the node's thread."""
    reg = peek_registry(node)
    if reg is None:
        return []
    return [TableRow(t.id, str(t.name), t.tid, t.owner, str(t.kind), str(t.protection),
                     t.store.size, t.memory() * 8, t.heir)
            for t in list(reg.tables.values())]


def owned_by(node, pid) -> list:
    """The ids of the tables `pid` owns (for `i(pid)`)."""
    return [r.id for r in table_rows(node) if r.owner == pid]


def tables_view(rows) -> View:
    headers = ["Table", "Id", "Owner", "Type", "Access", "Size", "Memory"]
    body = [[r.name, repr(r.tid), repr(r.owner),
             r.type, r.protection, f"{r.size:,}", fmt.size(r.memory)] for r in rows]
    lines = table(headers, body, right=(5, 6), limits={0: 24})
    if not rows:
        lines.append("(no tables)")
    data = {"kind": "tables", "tables": [
        {"name": r.name, "id": repr(r.tid), "named": r.id == r.name, "owner": repr(r.owner),
         "type": r.type, "protection": r.protection, "size": r.size, "memory": r.memory,
         "heir": None if r.heir is None else repr(r.heir)} for r in rows]}
    return View("tables", data, "\n".join(lines))
