"""beamlet in a Jupyter notebook: a node beside the kernel, cells as the shell.

What this module owns: the notebook front end of the shell (needs the
`notebook` extra: `pip install 'beamlet[notebook]'`).

    %load_ext stdlib.observer.notebook      # the first cell

starts a node on a background thread and makes every following cell run
in the shell process, exactly as a line typed at `beamlet shell`: the
cell's last expression is its value, `vm.self()` is the shell process,
`vm.receive()`, `flush()`, `i()`, `tree()`, `trace()` and the rest work,
and a cell that raises ends the shell process (its links fire) and the
next cell runs in a fresh one, with the bindings kept. The notebook's
variables and the shell's are one namespace. A cell that starts with `%`
or `!` is left to IPython. `%beamlet off` / `%beamlet on` switches the
cells back to plain Python and again to the shell process; `%beamlet
stop` stops the node.

Without the magic, `nb = start()` does the same from a plain call, and
`nb.run(source)` evaluates one piece of code in the shell process
(`nb.spawn`, `nb.send`, `nb.call` reach the node from the kernel's thread,
as `vm.Node`'s do).

Rich output: views carry `_repr_html_` / `_repr_markdown_` (views.py), so
a process table is an HTML table, and supervision trees and sequence
diagrams render as Mermaid diagrams (JupyterLab 4.1 and later draw
```mermaid blocks; older front ends show the text form). Pids print as
`<0.42.0>` with their registered name or initial call as a tooltip.
`top()` prints one frame (a notebook has no live terminal).

What it refuses: the terminal REPL (repl.py) and evaluating (shell.py).
"""

from __future__ import annotations

import html
import re
import sys

import vm

from .crashlog import install_short_reports
from .shell import ReplAction, Shell

_state: dict = {"nb": None}


class Notebook:
    """A node on a background thread, with a shell process for the cells."""

    def __init__(self, namespace=None, **node_options):
        self.node = vm.Node(**node_options).start()
        self.shell = Shell(node=self.node, namespace=namespace)
        self.shell.own_node = True  # close() stops the node
        self.enabled = True
        self._reports = install_short_reports(sys.stderr)

    @property
    def ns(self):
        return self.shell.ns

    def run(self, source: str):
        """Evaluate `source` in the shell process; print what the shell would
        print for a failure, and return the value (or None)."""
        kind, a, b, pid = self.shell.evaluate(source)
        if kind == "ok":
            if isinstance(a, ReplAction):
                kw = dict(a.kwargs, frames=a.kwargs.get("frames") or 1)
                a.fn(self.node, out=sys.stdout, **kw)
                return None
            return a
        self.shell._print_outcome(kind, a, b, pid, sys.stdout)
        return None

    def spawn(self, fn, *args, **kwargs):
        return self.node.spawn(fn, *args, **kwargs)

    def send(self, dest, msg):
        return self.node.send(dest, msg)

    def call(self, fn, *args, timeout=None, **kwargs):
        return self.node.call(fn, *args, timeout=timeout, **kwargs)

    def stop(self):
        self.shell.close()


def start(namespace=None, **node_options) -> Notebook:
    """Start a node for this notebook (once; later calls return the same one)."""
    nb = _state["nb"]
    if nb is None or nb.shell.closing:
        nb = _state["nb"] = Notebook(namespace, **node_options)
    return nb


# ----------------------------------------------------------------------
# IPython


def _cell_runs_in_shell(lines):
    """IPython input transformer: a cell becomes a call that evaluates it in
    the shell process (cells starting with % or ! stay IPython's)."""
    nb = _state["nb"]
    source = "".join(lines)
    first = source.lstrip()
    if nb is None or not nb.enabled or not first or first[0] in "%!?" or \
            first.startswith("get_ipython()"):
        return lines
    return [f"__beamlet_cell__({source!r})\n"]


def _pid_html(pid):
    title = ""
    nb = _state["nb"]
    if nb is not None:
        try:
            from vm import lowlevel

            from .source import on_node

            name = on_node(lambda n: lowlevel.registered_name(pid, node=n), nb.node, timeout=1)
            title = f" title=\"{html.escape(str(name))}\"" if name else ""
        except Exception:  # noqa: BLE001 - a tooltip is not worth an error
            title = ""
    return f"<code{title}>{html.escape(repr(pid))}</code>"


def load_ipython_extension(ip):
    """`%load_ext stdlib.observer.notebook`: start the node, run cells in the shell process."""
    nb = start(namespace=ip.user_ns)
    ip.user_ns["__beamlet_cell__"] = nb.run
    ip.user_ns["nb"] = nb
    if _cell_runs_in_shell not in ip.input_transformers_cleanup:
        ip.input_transformers_cleanup.append(_cell_runs_in_shell)
    ip.display_formatter.formatters["text/html"].for_type(vm.Pid, _pid_html)

    def beamlet(line):
        """%beamlet on|off|stop: cells in the shell process, in plain Python, or stop."""
        word = line.strip()
        if word == "off":
            nb.enabled = False
        elif word == "on":
            nb.enabled = True
        elif word == "stop":
            nb.stop()
            nb.enabled = False
        else:
            print("%beamlet on | off | stop")

    ip.register_magic_function(beamlet, "line", "beamlet")
    print(f"beamlet: node {nb.node.name} running; every cell now runs in the shell process "
          f"(help() lists the commands, %beamlet off for plain Python)")


def unload_ipython_extension(ip):
    nb = _state["nb"]
    if _cell_runs_in_shell in ip.input_transformers_cleanup:
        ip.input_transformers_cleanup.remove(_cell_runs_in_shell)
    if nb is not None:
        nb.stop()
        _state["nb"] = None


# ----------------------------------------------------------------------
# the tutorial's lessons as notebooks


_PROMPT = re.compile(r"^(\d+)> (.*)$")
_MORE = re.compile(r"^\.+(?: (.*))?$")
FAILS_TAG = "fails"  # a cell whose lesson shows it failing (** exception / ** refused)


def _cell(kind, source, tags=()):
    cell = {"cell_type": kind, "metadata": {"tags": list(tags)} if tags else {},
            "source": source}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def _transcript_cells(block):
    """Code cells from a shell transcript: each prompt's input is a cell; the
    lesson's shown output decides whether the cell is expected to fail."""
    cells = []
    source, shown = None, []

    def flush():
        if source is not None:
            fails = any(x.startswith(("** exception", "** refused")) for x in shown)
            cells.append(_cell("code", source.rstrip("\n"), [FAILS_TAG] if fails else ()))

    for line in block.splitlines():
        m = _PROMPT.match(line)
        if m:
            flush()
            source, shown = m.group(2) + "\n", []
            continue
        c = _MORE.match(line)
        if c and source is not None and not shown:
            source += (c.group(1) or "") + "\n"
        elif source is not None:
            shown.append(line)
    flush()
    return cells


def lesson_notebook(markdown: str) -> dict:
    """A tutorial lesson (Markdown with shell transcripts) as a notebook: its
    prose as Markdown cells, each prompt's input as a code cell that runs in
    the shell process, after a first cell that loads the extension."""
    cells = [_cell("code", "%load_ext stdlib.observer.notebook")]
    prose = []
    parts = re.split(r"^```\n(.*?)^```\n?", markdown, flags=re.M | re.S)
    for k, part in enumerate(parts):
        if k % 2 == 0:
            prose.append(part)
            continue
        first = part.splitlines()[0] if part.strip() else ""
        if not _PROMPT.match(first):
            prose.append(f"```\n{part}```\n")
            continue
        text = "".join(prose).strip()
        if text:
            cells.append(_cell("markdown", text))
        prose = []
        cells += _transcript_cells(part)
    text = "".join(prose).strip()
    if text:
        cells.append(_cell("markdown", text))
    for k, cell in enumerate(cells):
        cell["id"] = f"cell-{k}"  # stable ids: rebuilding changes nothing
    return {"cells": cells, "metadata": {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}


def build_lessons(tutorial_dir: str) -> list:
    """Write `notebooks/NN-name.ipynb` for each lesson `NN-name.md`; returns the paths."""
    import glob
    import json
    import os

    out_dir = os.path.join(tutorial_dir, "notebooks")
    os.makedirs(out_dir, exist_ok=True)
    written = []
    for md in sorted(glob.glob(os.path.join(tutorial_dir, "0*.md"))):
        with open(md, encoding="utf-8") as f:
            nb = lesson_notebook(f.read())
        path = os.path.join(out_dir, os.path.basename(md)[:-3] + ".ipynb")
        with open(path, "w", encoding="utf-8") as f:
            json.dump(nb, f, indent=1, ensure_ascii=False)
            f.write("\n")
        written.append(path)
    return written


__all__ = ["FAILS_TAG", "Notebook", "build_lessons", "lesson_notebook",
           "load_ipython_extension", "start", "unload_ipython_extension"]


if __name__ == "__main__":  # python -m stdlib.observer.notebook docs/tutorial
    for written_path in build_lessons(sys.argv[1] if len(sys.argv) > 1 else "docs/tutorial"):
        print(written_path)
