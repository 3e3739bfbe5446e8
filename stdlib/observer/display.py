"""Views as a notebook shows them: HTML tables (the rich form of views.py).

What this module owns: turning a table view's JSON rows into an HTML table
(`html_table`), with the columns `TABLE_COLUMNS` names per view kind. Trees
and sequence diagrams need no HTML: their rich form is Mermaid
(`View._repr_markdown_`).

What it refuses: deciding what a view holds (views.py).
"""

from __future__ import annotations

from . import fmt

#: The columns an HTML table shows for each table view: (data key, title).
TABLE_COLUMNS = {
    "processes": (("pid", "Pid"), ("name", "Name"), ("initial_call", "Initial call"),
                  ("reductions", "Reds"), ("reductions_delta", "+Reds"),
                  ("message_queue_len", "MsgQ"), ("memory", "Memory"), ("status", "Status"),
                  ("current_function", "Current function")),
    "i": (("pid", "Pid"), ("name", "Name"), ("initial_call", "Initial call"),
          ("memory", "Memory"), ("reductions", "Reds"), ("message_queue_len", "Msgs"),
          ("current_function", "Current function")),
    "regs": (("name", "Name"), ("pid", "Pid"), ("initial_call", "Initial call"),
             ("current_function", "Current function"), ("reductions", "Reds"),
             ("message_queue_len", "Msgs")),
}


def escape(text) -> str:
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def html_table(kind, rows, caption="") -> str:
    """A table view's rows as an HTML table (the notebook form)."""
    cols = TABLE_COLUMNS[kind]
    head = "".join(f"<th>{escape(title)}</th>" for _key, title in cols)
    body = []
    for r in rows:
        cells = []
        for key, _title in cols:
            v = r.get(key)
            if key == "memory" and v is not None:
                v = fmt.size(v)
            elif key == "name" and v is None:
                v = r.get("label") or ""
            cells.append(f"<td>{escape('' if v is None else v)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{escape(caption)}</caption>" if caption else ""
    return (f"<table class=\"beamlet-{kind}\">{cap}<thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")



__all__ = ["TABLE_COLUMNS", "escape", "html_table"]
