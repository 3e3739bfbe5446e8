"""The observer: look inside a running node, act on it, and learn OTP there.

What this package owns, bottom-up:

    source.py    where data comes from: snapshots taken on the node's thread,
                 inside a process or posted with Node.post (vm/_snapshot.py
                 takes them)
    fmt.py       terms as short text and as JSON
    views.py     plain functions from snapshots to a `View` (text + JSON, and
                 Mermaid for trees): process table, i(), one process, system,
                 regs(), bt(), supervision tree
    display.py   views as HTML tables, for notebooks
    targets.py   naming the process a helper acts on; a behaviour's state
    suptree.py   walking a supervisor's children into the tree a view draws
    tracing.py   dbg-style tracing on the instruments, with a mandatory limit;
                 sequence diagrams (terminal and Mermaid)
    scheduling.py  the scheduling columns of procs() and top() (accounting),
                 msacc(), policy()
    top.py       the live, refreshing process table (rich), keys to sort,
                 pause, change the interval, open a process, kill (if allowed)
    commands.py  the registry of shell commands and their help lines
    helpers.py   the shell's helpers, as Erlang's `c` module has them
    session.py   the shell's own commands: v, b, f, h, l, c
    crashlog.py  reports as one line each, with the failing file and line
    shell.py     the shell session and its shell process (the evaluator)
    repl.py      `beamlet shell [FILE]` in a terminal: readers, Ctrl-C, the
                 break menu, output above the prompt
    notebook.py  the shell in Jupyter (`%load_ext stdlib.observer.notebook`)
    remote.py    `beamlet shell --remsh NODE`: the server a node offers with
                 --allow-remsh, and the client
    remote_io.py what a remote session prints (and its traces), carried to
                 the client's terminal
    remote_top.py  top's reads done on the node a remote shell is attached to

Use it from any process of a node, or from another thread after
`use_node(node)`:

    from stdlib import observer
    observer.procs(n=10)              # the top 10 by reductions since the last look
    observer.i(pid)                   # one process
    observer.tree("my_sup").mermaid() # a supervision tree as Mermaid
    observer.trace("kv", count=20)    # 20 events of the process named kv
    observer.accounting(True)         # procs() and top() show run time, queue delay
    observer.msacc()                  # where the node's thread spends its time

Safety (docs/observer.md has the details): views only read; message, state
and dictionary contents are cut unless `full=True`; suspend, resume and
replace_state need `allow_destructive=True`; top's kill key works only in a
view opened with it; a trace always has a limit and stops by itself.
"""

from __future__ import annotations

from .helpers import (
                      bt,
                      exit,
                      flush,
                      get_state,
                      i,
                      kill,
                      nregs,
                      pid,
                      process_view,
                      procs,
                      regs,
                      replace_state,
                      resume,
                      seq,
                      suspend,
                      system,
                      tables,
                      trace,
                      trace_stop,
                      tree,
)
from .scheduling import accounting, msacc, msacc_stats, policy
from .source import in_process, on_node, use_node
from .views import View

__all__ = [
    "View",
    "accounting",
    "bt",
    "exit",
    "flush",
    "get_state",
    "i",
    "in_process",
    "kill",
    "msacc",
    "msacc_stats",
    "nregs",
    "on_node",
    "pid",
    "policy",
    "process_view",
    "procs",
    "regs",
    "replace_state",
    "resume",
    "seq",
    "suspend",
    "system",
    "tables",
    "trace",
    "trace_stop",
    "tree",
    "use_node",
]
