"""Shell helpers, as Erlang's `c` module has them, plus the observer's views.

What this module owns: the functions the shell puts in its namespace.
Each takes a snapshot (source.py), hands it to a view (views.py) and
returns the `View`, which the shell prints as text; `json=True` returns the
JSON text instead. They work inside any process of a node (the shell's
evaluations are one) and from another thread once `use_node(node)` was
called.

    i()             every process, two lines each (the first 100; all=True for all)
    i(pid)          one process: info, messages, dictionary, stack, behaviour state
    procs(...)      the process table: top n by a column, filtered, with windows
    regs()          registered processes
    nregs()         registered names on this node and every connected node
    tables()        ETS tables: name, id, owner, type, access, size, memory
    flush()         print and drop every message in the caller's mailbox
    bt(pid)         where a process stands (its stack, innermost first)
    pid("<0.42.0>") a pid from its printed form (also pid(0, 42, 0))
    kill(pid)       exit(pid, "kill"): the untrappable kill
    exit(pid, r)    send an exit signal (exit(r) exits the caller)
    system()        counts, run queues, reductions/s, messages/s, memory
    tree(sup)       a supervision tree (Mermaid with mermaid=True)
    trace(...)      a dbg-style trace with a mandatory limit; trace_stop()
    seq(...)        the last trace (or a function's run) as a sequence diagram
    get_state(pid)  a behaviour's state through sys
    suspend/resume/replace_state   change a behaviour; need allow_destructive=True
    help()          every command; help(name) one command's help (commands.py)

Reading is always allowed. Changing is limited to the verbs whose names
say so: `kill` and `exit` act at once (they are Erlang's `exit/2`, which
any process may call); `suspend`, `resume` and `replace_state` refuse
unless called with `allow_destructive=True`.

What it refuses: the REPL itself (shell.py) and the live view (top.py).
"""

from __future__ import annotations

import weakref
from functools import partial

import vm
from vm import lowlevel
from vm.lowlevel import snapshot

from . import fmt
from . import scheduling as _sched
from . import tables as _tables
from . import tracing as _trace
from .commands import command, register
from .fmt import dumps, jsonable
from .source import in_process, on_node, pause, resolve_node
from .targets import behaviour_state, is_behaviour, pid
from .targets import target as _target
from .views import (
    NOT_ASKED,
    Text,
    View,
    bt_view,
    detail_view,
    i_view,
    processes_view,
    regs_view,
    system_view,
    tree_view,
)

#: Sections other packages add to a process's detail view: fn(pid, detail, node)
#: returning None (nothing to add) or (lines, key, data), lines under the view's
#: text and data under view.data[key]. The agents package adds an agent's section.
DETAIL_SECTIONS: list = [_sched.detail_section]  # scheduling figures, while accounting is on

_last_table: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_last_system: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_last_sched: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # SchedSample per node


KILLED = vm.Atom("killed")


class DestructiveRefused(vm.VMError):
    """A helper that changes a process was called without allow_destructive=True."""


HIDE = ("stdlib.observer",)  # our own frames, left out of the caller's current function


def _table(node, **kw):
    return snapshot.process_table(node, hide=HIDE, **kw)


def _detail(node, *, pid, messages):
    return snapshot.process_detail(node, pid, messages=messages, hide=HIDE)


def _out(view: View, json: bool):
    return Text(view.json()) if json else view


# ----------------------------------------------------------------------
# pids and names


# ----------------------------------------------------------------------
# the c module


@command("i() all processes; i(pid) one process in detail (full=True: uncut)",
         section="Processes")
def i(x=None, y=None, z=None, *, all=False, full=False, json=False, node=None):
    """i() lists processes (Erlang's c:i/0); i(pid) shows one (c:i/3, observer's
    process window). `all=True` lists every process; `full=True` prints
    messages, dictionary and state uncut."""
    if x is None:
        tbl = on_node(partial(_table, sort="pid", n=None if all else 100, sample=False), node)
        return _out(i_view(tbl), json)
    if y is not None:
        x = pid(x, y, z, node=node)
    return _out(process_view(x, full=full, node=node), json)


def process_view(x, *, full=False, state=True, node=None) -> View:
    """The detail view of one process, with its behaviour state if it has one."""
    t = _target(x, node)
    d = on_node(partial(_detail, pid=t, messages=None if full else 20), node)
    st = NOT_ASKED
    if d is not None and state and is_behaviour(d):
        st = behaviour_state(t, node=node)
    view = detail_view(d, state=st, full=full)
    if d is not None:  # the ETS tables it owns (deleted, or handed to an heir, when it dies)
        owned = on_node(partial(_tables.owned_by, pid=t), node)
        view.text += f"\n  tables    {', '.join(map(repr, owned)) if owned else '[]'}"
        view.data["tables"] = [repr(tab) for tab in owned]
        from .commands import load_providers

        load_providers()  # the packages that add sections
        for section in DETAIL_SECTIONS:
            added = section(t, d, node)
            if added is not None:
                lines, key, data = added
                view.text += "".join("\n" + line for line in lines)
                view.data[key] = data
    return view


def _self_or_none():
    try:
        return vm.self()
    except vm.NotInProcess:
        return None


@command("procs(n=20, sort=, match=, status=, window=) the process table, top n",
         section="Processes")
def procs(n=20, sort="reductions_delta", *, match=None, status=None, window=None,
          reverse=False, json=False, node=None):
    """The process table: the top `n` by `sort`, optionally filtered.

    sort: reductions_delta (default: change since the last look), reductions,
    message_queue_len, memory, pid, name, status, initial_call,
    current_function; while accounting is on (accounting(True)) also runtime,
    share, queue_delay, queue_delay_max, response_time_max, the scheduling
    columns the table then shows. `match` filters on pid, name, label or
    initial call; `status` on running/runnable/waiting. `window=S` samples
    twice, S seconds apart, and ranks by the change (recon's proc_window).
    """
    node_ = resolve_node(node)
    if window is not None:
        first, _cols, prev_sched = on_node(partial(_sched.table, n=0, hide=HIDE), node_)
        since = first.sample
        pause(window)
    else:
        prev = _last_table.get(node_)
        since = prev.sample if prev is not None else None
        prev_sched = _last_sched.get(node_)
    tbl, cols, sample = on_node(partial(_sched.table, sort=sort, n=n, since=since, match=match,
                                        status=status, reverse=reverse, hide=HIDE,
                                        prev=prev_sched), node_)
    _last_table[node_] = tbl
    if sample is not None:
        _last_sched[node_] = sample
    return _out(processes_view(tbl, columns=cols), json)


@command("regs() registered processes, with their current functions",
         section="Processes")
def regs(*, json=False, node=None):
    """Registered processes (Erlang's c:regs/0), with where each stands now."""
    node_ = resolve_node(node)
    rows = on_node(snapshot.registered, node_)
    current, here = in_process(lambda: ({r.pid: vm.process_info(r.pid, "current_function")
                                         for r in rows}, str(vm.node())), node=node_)
    return _out(regs_view(rows, here, current), json)  # a distributed node's own name


@command("nregs() registered names on this node and on every connected node",
         section="Processes")
def nregs(*, timeout=5.0, json=False, node=None):
    """Registered names on this node and on every connected node, grouped by
    node (Erlang's c:nregs/0). Every peer is asked at once, through rpc, as
    OTP asks: `erlang:registered/0`, then `erlang:whereis/1` for each name
    (beamlet's rex answers both without the allow-list; they are read-only).
    A node that does not answer within `timeout` seconds is shown as such."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0:
        raise vm.BadArg(f"nregs: timeout must be a number of seconds > 0, not {timeout!r}")
    node_ = resolve_node(node)
    groups = in_process(_ask_every_node, float(timeout), node=node_, timeout=timeout + 10)
    return _out(nregs_view(groups), json)


def _ask_every_node(timeout):
    """In a process: [(node, [(name, pid)] or why it is not known)], this node first."""
    here = [(str(n), vm.whereis(n)) for n in vm.registered()]
    groups = [(str(vm.node()), sorted((n, p) for n, p in here if p is not None))]
    peers = [str(n) for n in vm.nodes("connected")]
    me, tag = vm.self(), vm.make_ref()
    for peer in peers:
        vm.spawn(partial(_ask_node, me, tag, peer, timeout))
    answers = {}
    deadline = vm.monotonic() + timeout + 1  # each asker gives up within `timeout`
    while len(answers) < len(peers):
        msg = vm.receive((tag, vm.ANY, vm.ANY), timeout=max(0.0, deadline - vm.monotonic()))
        if msg is vm.TIMEOUT:
            break
        answers[msg[1]] = msg[2]
    no_answer = f"no answer within {fmt.seconds(timeout)}"
    return groups + [(peer, answers.get(peer, no_answer)) for peer in sorted(peers)]


def _ask_node(reply_to, tag, peer, timeout):
    """Ask one peer for its names, then for each name's pid; send the outcome to `reply_to`."""
    deadline = vm.monotonic() + timeout  # for all the calls together
    names = _rpc(peer, "registered", [], timeout)
    if type(names) is not list:
        vm.send(reply_to, (tag, peer, _badrpc_text(names, timeout)))
        return
    rows = []
    for name in sorted(str(n) for n in names):
        left = deadline - vm.monotonic()
        where = _rpc(peer, "whereis", [vm.Atom(name)], left) if left > 0 \
            else ("badrpc", "timeout")
        if isinstance(where, vm.Pid):  # a name released meanwhile is left out
            rows.append((name, where))
        elif type(where) is tuple and where and where[0] == "badrpc":
            vm.send(reply_to, (tag, peer, _badrpc_text(where, timeout)))
            return
    vm.send(reply_to, (tag, peer, rows))


def _rpc(peer, function, args, timeout):
    """`rpc:call(Peer, erlang, Function, Args)` through the peer's rex: the answer, or
    ("badrpc", reason)."""
    from vm.dist import rpc

    return rpc.call(peer, "erlang", function, args, timeout)


def _badrpc_text(outcome, timeout):
    reason = outcome[1] if type(outcome) is tuple and len(outcome) == 2 else outcome
    if reason == "timeout":
        return f"no answer within {fmt.seconds(timeout)}"
    if reason == "nodedown":
        return "not connected any more"
    return f"did not answer: {fmt.short(reason, 120)}"


def nregs_view(groups) -> View:
    """`nregs()`'s view: for each node its names and pids, or why it gave none."""
    from .views import table

    lines, data = [], {"kind": "nregs", "nodes": []}
    for name, rows in groups:
        if lines:
            lines.append("")
        lines.append(f"** Registered procs on node {name} **")
        if isinstance(rows, str):
            lines.append(f"({rows})")
            data["nodes"].append({"node": name, "error": rows})
            continue
        lines += table(["Name", "Pid"], [[n, repr(p)] for n, p in rows], limits={0: 32})
        data["nodes"].append({"node": name, "rows": [{"name": n, "pid": repr(p)}
                                                      for n, p in rows]})
    return View("nregs", data, "\n".join(lines))


@command("tables() ETS tables: name, id, owner, type, access, size, memory",
         section="Processes")
def tables(*, json=False, node=None):
    """The node's ETS tables (Erlang's ets:i/0, observer's Table Viewer): name,
    id, owner, type, access, size and memory; private tables are listed too."""
    node_ = resolve_node(node)
    return _out(_tables.tables_view(on_node(_tables.table_rows, node_)), json)


@command("flush() print and drop the messages in the shell's mailbox",
         section="Processes")
def flush():
    """Print every message in the caller's mailbox ("Shell got ...") and drop them."""
    msgs = vm.flush()
    for m in msgs:
        print(f"Shell got {m!r}", flush=True)


@command("bt(pid) where a process stands: its stack, innermost first",
         section="Processes")
def bt(x, *, json=False, node=None):
    """Where a process stands: its Python frames, innermost first (c:bt/1)."""
    t = _target(x, node)
    d = on_node(partial(_detail, pid=t, messages=0), node)
    return _out(bt_view(d), json)


@command("kill(pid) exit(pid, 'kill'): the untrappable kill",
         section="Processes")
def kill(x, *, node=None):
    """Kill a process: the untrappable exit signal `kill` (observer's kill)."""
    t = _target(x, node)
    if _self_or_none() is not None:
        return vm.exit(t, "kill")

    return on_node(lambda n: lowlevel.kill(t, KILLED, node=n), node)


@command("exit(pid, reason) send an exit signal; exit(reason) exit the shell process",
         section="Processes")
def exit(*args, node=None):
    """exit(pid, reason) sends an exit signal; exit(reason) exits the caller."""
    if len(args) == 2:
        return vm.exit(_target(args[0], node), args[1])
    if len(args) == 1:
        return vm.exit(args[0])
    raise vm.BadArg("exit(pid, reason) sends an exit signal; exit(reason) exits the caller; "
                    "q() leaves the shell")


register("pid", pid, 'pid("<0.42.0>") or pid(0, 42, 0) a pid from its printed form')


# ----------------------------------------------------------------------
# system and trees


@command("system() processes, run queues, reductions/s, messages/s, memory",
         section="Processes")
def system(*, window=1.0, json=False, node=None):
    """The node: processes, run queues, reductions and messages per second,
    utilization, memory. Rates are since the last look, or measured over
    `window` seconds the first time."""
    node_ = resolve_node(node)
    prev = _last_system.get(node_)
    if prev is None and window:
        prev = on_node(snapshot.system, node_)
        pause(window)
    info = on_node(snapshot.system, node_)
    _last_system[node_] = info
    rates = snapshot.rates(prev, info) if prev is not None else None
    view = system_view(info, rates)
    line, view.data["scheduling"] = on_node(_sched.node_summary, node_)
    lines = view.text.splitlines()
    lines.insert(len(lines) - 1 if rates else len(lines), line)  # above the rates' note
    view.text = "\n".join(lines)
    return _out(view, json)


@command("tree(sup) a supervision tree; mermaid=True for a Mermaid graph",
         section="Supervision and behaviours")
def tree(root, *, json=False, mermaid=False, direction="TD", node=None):
    """The supervision tree under a supervisor (pid or name) or an application
    (("app", name)), drawn as a tree; `mermaid=True` gives Mermaid text."""
    from .suptree import snapshot_tree

    t = in_process(snapshot_tree, root, node=node)
    v = tree_view(t, direction=direction)
    if mermaid:
        return v.mermaid()
    return _out(v, json)


# ----------------------------------------------------------------------
# behaviours through sys


@command("get_state(pid) a behaviour's state through sys",
         section="Supervision and behaviours")
def get_state(x, *, timeout=5.0, node=None):
    """A behaviour's state (otp_sys.get_state)."""
    from stdlib import otp_sys

    t = _target(x, node)
    return in_process(otp_sys.get_state, t, timeout, node=node)


def _destructive(what, allow):
    if not allow:
        raise DestructiveRefused(
            f"{what} changes a running process; call it with allow_destructive=True if you "
            "mean it"
        )


@command("suspend(pid, allow_destructive=True) suspend a behaviour",
         section="Supervision and behaviours")
def suspend(x, *, allow_destructive=False, node=None):
    """Suspend a behaviour process (it answers only system messages until resumed)."""
    from stdlib import otp_sys

    _destructive("suspend", allow_destructive)
    return in_process(otp_sys.suspend, _target(x, node), node=node)


@command("resume(pid, allow_destructive=True) resume it",
         section="Supervision and behaviours")
def resume(x, *, allow_destructive=False, node=None):
    from stdlib import otp_sys

    _destructive("resume", allow_destructive)
    return in_process(otp_sys.resume, _target(x, node), node=node)


@command("replace_state(pid, fn, allow_destructive=True) replace a state",
         section="Supervision and behaviours")
def replace_state(x, fn, *, allow_destructive=False, node=None):
    """Replace a behaviour's state with fn(state); returns the new state."""
    from stdlib import otp_sys

    _destructive("replace_state", allow_destructive)
    return in_process(otp_sys.replace_state, _target(x, node), fn, node=node)


# ----------------------------------------------------------------------
# tracing


@command("trace(pid|name|'new'|'all', events, count=N or seconds=S) dbg-style trace",
         section="Tracing")
def trace(target, events=_trace.DEFAULT_EVENTS, *, count=None, seconds=None, follow=False,
          full=False, timestamps=False, node=None):
    """dbg-style tracing with a mandatory limit (count=N events and/or seconds=S).

    target: a pid, a name, a list of them, "new" or "all". events: some of
    send, receive, spawn, exit, link, monitor, call (or "all"). One event a
    line, as dbg prints them; stops by itself; one trace at a time.
    """
    if isinstance(target, str) and target.startswith("<"):
        target = pid(target, node=node)
    return _trace.trace(target, events, count=count, seconds=seconds, follow=follow,
                        full=full, timestamps=timestamps, node=node)


@command("trace_stop() stop the running trace now",
         section="Tracing")
def trace_stop(*, node=None):
    """Stop the running trace now."""
    return _trace.stop(node)


@command("seq() the last trace as a sequence diagram; seq(fn) trace fn's run",
         section="Tracing")
def seq(fn=None, *args, mermaid=False, json=False, count=1000, node=None, **kwargs):
    """A message sequence diagram: of the last trace, or of running fn(*args)
    traced (the caller and what it spawns). mermaid=True gives Mermaid text."""
    if fn is not None:
        result, view = _trace.seq(fn, *args, count=count, node=node, **kwargs)
        if result is not None:
            print(f"result: {result!r}", flush=True)
    else:
        t = _trace.last(node)
        if t is None:
            raise vm.VMError("no trace yet: run trace(...) first, or seq(fn) to trace a function")
        view = t.view()
    if mermaid:
        return view.mermaid()
    return _out(view, json)


__all__ = [
    "bt",
    "dumps",
    "exit",
    "flush",
    "get_state",
    "i",
    "jsonable",
    "kill",
    "nregs",
    "nregs_view",
    "pid",
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
]
