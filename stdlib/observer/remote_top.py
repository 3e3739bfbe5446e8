"""`top()` in a remote shell: the live view in the client's terminal, its figures
read on the node the shell is attached to.

What this module owns, both ends of top's data source (top.NodeSource's
methods) over the remote shell's server:

- the target's end, `answer(memory, request)`: runs one read (refresh,
  stats, detail, kill, panel) in a process of the target, with top's own
  readers, and returns plain data. What a session's top keeps between two
  looks (the last sample, the scheduling sample) stays on the target, in
  `memory`; the client holds a number that names it.
- the client's end, `RemoteSource`: asks for each read with a call to
  the target's remote-shell server and rebuilds the snapshot objects
  top draws (ProcessTable, ProcessRow, ProcessDetail, SchedColumns).
- `plain(term)`, the one place where what crosses the wire is made
  encodable by the External Term Format: a process label, a message or a
  dictionary value that is no term (a Python object) travels as its repr.

What it refuses: drawing and keys (top.py, unchanged: they run in the
client as in a local shell), and acting without the client's say: a kill
comes only from top's `K`, which asks `y` and needs allow_destructive=True.
"""

from __future__ import annotations

import dataclasses

import vm
from vm.lowlevel import current_node, snapshot

from . import top as _top
from .commands import load_providers
from .scheduling import SchedColumns
from .views import NOT_ASKED, StateUnavailable

_TERMS = (str, bytes, int, float, type(None), vm.Pid, vm.Ref, vm.Crash)


def plain(x, depth=0):
    """`x` with every part the External Term Format cannot carry made its repr."""
    if isinstance(x, _TERMS):
        return x
    if depth > 50:
        return repr(x)
    if type(x) is tuple:
        return tuple(plain(v, depth + 1) for v in x)
    if type(x) is list:
        return [plain(v, depth + 1) for v in x]
    if type(x) is dict:
        return {plain(k, depth + 1): plain(v, depth + 1) for k, v in x.items()}
    return repr(x)


def _fields(obj, skip=()):
    return {f.name: plain(getattr(obj, f.name)) for f in dataclasses.fields(obj)
            if f.name not in skip}


# ----------------------------------------------------------------------
# the target's end


def new_memory() -> dict:
    """What one session's top keeps on the target between two looks."""
    return {"samples": {}, "sched": None, "next": 1}


def answer(memory, request):
    """Run one of top's reads here (in a process of the target); plain data back."""
    op, args = request[0], request[1:]
    node = current_node()
    if op == "refresh":
        sort, n, match, since = args
        state = _top.TopState(sort=sort, n=n, filter=match)
        state.sched_sample = memory["sched"]
        table, stats = _top.NodeSource(node).refresh(state, memory["samples"].get(since))
        memory["sched"] = state.sched_sample
        token = memory["next"]
        memory["next"] += 1
        # top passes back the last table's sample; keep the one before it too
        memory["samples"] = {k: v for k, v in memory["samples"].items() if k == token - 1}
        memory["samples"][token] = table.sample
        cols = state.columns
        return (_table_data(table, token), _stats_data(stats),
                (plain(cols.figs), cols.window, None if cols.on else cols.foot))
    if op == "stats":
        return _stats_data(_top.NodeSource(node).stats())
    if op == "detail":
        pid, with_state = args
        d, st = _top.NodeSource(node).detail(pid, with_state)
        return (None if d is None else _fields(d), _state_data(st))
    if op == "kill":
        return _top.NodeSource(node).kill(args[0])
    if op == "panel":
        load_providers()  # the packages that add panels, as on the client
        if args[0] not in _top.PANELS:
            return [f"{args[0]!r}: no such panel on {vm.node()}"]
        return [str(line) for line in _top.NodeSource(node).panel(_top.TopState(panel=args[0]))]
    raise vm.BadArg(f"top: no read called {op!r}")


def _table_data(table, token):
    data = _fields(table, skip=("rows", "sample"))
    data["rows"] = [_fields(r) for r in table.rows]
    data["sample"] = token
    return data


def _stats_data(stats):
    return dict(plain(stats), node=str(vm.node()))  # the name the client attached to


def _state_data(st):
    if st is NOT_ASKED:
        return ("not_asked",)
    if isinstance(st, StateUnavailable):
        return ("unavailable", st.why)
    return ("state", plain(st))


# ----------------------------------------------------------------------
# the client's end


class RemoteSource:
    """top's data source for a remote shell: `ask(read)` asks the target's
    server (remote.py) to run one read (a tuple: "refresh", ...) and returns
    the answer."""

    def __init__(self, ask, target):
        self.ask = ask
        self.target = target

    def _call(self, *request):
        try:
            return self.ask(request)
        except vm.VMError:
            raise
        except Exception as e:  # a lost connection, a timeout: the view says the node stopped
            raise vm.VMError(f"{self.target} did not answer: {e}") from None

    def refresh(self, state, since):
        table, stats, (figs, window, foot) = self._call("refresh", state.sort, state.n,
                                                        state.filter, since)
        state.columns = SchedColumns(figs, window, note=foot)
        rows = tuple(snapshot.ProcessRow(**r) for r in table.pop("rows"))
        return snapshot.ProcessTable(rows=rows, **table), stats

    def stats(self):
        return self._call("stats")

    def detail(self, pid, with_state):
        d, st = self._call("detail", pid, with_state)
        kind = st[0]
        state = NOT_ASKED if kind == "not_asked" else \
            StateUnavailable(st[1]) if kind == "unavailable" else st[1]
        return (None if d is None else snapshot.ProcessDetail(**d)), state

    def kill(self, pid):
        return self._call("kill", pid)

    def panel(self, state):
        return self._call("panel", state.panel)


__all__ = ["RemoteSource", "answer", "new_memory", "plain"]
