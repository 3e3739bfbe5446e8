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


#: The scheduling columns a process table's rows carry while accounting is on
#: (scheduling.py): (key in the row's "scheduling" data, title).
SCHED_COLUMNS = (("runtime", "Runtime"), ("share", "Share"), ("queue_delay_mean", "QDelay"),
                 ("queue_delay_max", "QMax"), ("response_time_max", "RespMax"))


def sched_cell(key, figures) -> str:
    """One scheduling figure as a table cell (text and HTML tables alike)."""
    v = figures.get(key)
    if v is None:
        return "-"
    if key == "share":
        return f"{v:.1%}"
    if key != "runtime" and not figures.get("queue_waits"):
        return "-"  # no wait measured yet
    if key == "response_time_max" and not v and not figures.get("wakeups"):
        return "-"  # never woken (a hog is only preempted): no response time
    return fmt.duration(v)


def escape(text) -> str:
    return (str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;"))


def html_table(kind, rows, caption="") -> str:
    """A table view's rows as an HTML table (the notebook form)."""
    cols = TABLE_COLUMNS[kind]
    sched = kind == "processes" and bool(rows) and isinstance(rows[0].get("scheduling"), dict)
    titles = [title for _key, title in cols[:-1]]
    titles += [title for _key, title in SCHED_COLUMNS] if sched else []
    titles.append(cols[-1][1])
    head = "".join(f"<th>{escape(title)}</th>" for title in titles)
    body = []
    for r in rows:
        cells = []
        for key, _title in cols:
            if sched and key == cols[-1][0]:  # before the last column, as the text table
                cells += [f"<td>{escape(sched_cell(k, r['scheduling']))}</td>"
                          for k, _t in SCHED_COLUMNS]
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



__all__ = ["SCHED_COLUMNS", "TABLE_COLUMNS", "escape", "html_table", "sched_cell"]
