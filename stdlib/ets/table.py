"""Tables, their owners and the node's table registry.

What this module owns: the `Table` record (identity, type, access, owner,
heir, store), each node's registry of tables (by id and by name, by owner,
by heir), the checks every ETS call makes before touching a table (does it
exist, may the caller read or write it), and what happens to a table when
a process dies.

Ownership follows process death through an exit hook
(`vm.lowlevel.add_exit_hook`), which the runtime runs at the moment a
process dies, before its registered name is released and before any EXIT
or DOWN it causes is delivered. The rule, as in OTP:

- when the owner dies, each table it owns goes to its heir if the table
  has one and the heir is alive: the heir becomes the owner and receives
  `("ETS-TRANSFER", tab, dead_owner, heir_data)` ahead of the dead owner's
  EXIT and DOWN messages; otherwise the table is deleted;
- so by the time anybody receives the owner's DOWN or EXIT, or runs at all
  after the death, the table is gone or belongs to the heir;
- an heir that dies first is remembered as dead (`info` still shows it, as
  OTP does) and the table is then deleted with its owner.

No process is polled and no table-keeper process exists: the hook is called
once per death on the node and costs two dict lookups for a process that
owns no table and is no heir.

The registry is per node (tables are local, like processes) and is made on
the first ETS call of a node.

What it refuses: the operations themselves (ets/__init__.py) and the
storage (store.py).
"""

from __future__ import annotations

import sys
import weakref

import vm
from vm import Atom, BadArg, Pid, Ref
from vm.lowlevel import EXITING, add_exit_hook, current_process, node_of, term_size

from .store import make_store

ETS_TRANSFER = Atom("ETS-TRANSFER")
NONE = Atom("none")
TYPES = ("set", "ordered_set", "bag", "duplicate_bag")
ACCESS = ("public", "protected", "private")
PUBLIC, PROTECTED, PRIVATE = range(3)  # Table.level: what a process other than the owner may do
_MEMORY_SAMPLE = 64
_WORD = 8


class Table:
    """One table. `tid` is its Ref; `id` what ets.new returned (name or tid)."""

    __slots__ = ("tid", "name", "named", "protection", "level", "owner", "heir", "heir_data",
                 "heir_alive", "keypos", "store", "read_concurrency", "write_concurrency",
                 "decentralized_counters", "compressed", "mutable", "node_name", "deleted")

    def __init__(self, tid, name, named, kind, protection, owner, keypos, node_name):
        self.tid = tid
        self.name = name
        self.named = named
        self.protection = protection
        self.level = ACCESS.index(protection)
        self.owner = owner
        self.heir = None
        self.heir_data = None
        self.heir_alive = False
        self.keypos = keypos
        self.store = make_store(kind, keypos)
        self.read_concurrency = False
        self.write_concurrency = False
        self.decentralized_counters = False
        self.compressed = False
        self.mutable = False  # has an object holding lists or dicts been stored?
        self.node_name = node_name
        self.deleted = False

    @property
    def id(self):
        return self.name if self.named else self.tid

    @property
    def kind(self):
        return self.store.kind

    def memory(self) -> int:
        """Words, estimated from a sample of objects (OTP reports words too)."""
        store = self.store
        n = store.size
        base = sys.getsizeof(self) // _WORD + 32
        if not n:
            return base
        total = seen = 0
        for obj in store.objects():
            total += term_size(obj)
            seen += 1
            if seen >= _MEMORY_SAMPLE:
                break
        # each object also costs its slot in the dict or tree (about 4 words)
        return base + (total * n // seen) // _WORD + 4 * n

    def __repr__(self):
        return f"<ets table {self.id!r} {self.kind} owned by {self.owner!r}>"


class Registry:
    """The tables of one node."""

    __slots__ = ("ids", "tables", "by_owner", "by_heir", "__weakref__")

    def __init__(self):
        self.ids: dict = {}  # tid -> Table, and name -> Table for named tables
        self.tables: dict = {}  # tid -> Table, in creation order (ets.all)
        self.by_owner: dict = {}  # pid -> {tid: Table}
        self.by_heir: dict = {}  # pid -> {tid: Table}

    # ------------------------------------------------------------ bookkeeping

    def add(self, t: Table):
        self.ids[t.tid] = t
        if t.named:
            self.ids[t.name] = t
        self.tables[t.tid] = t
        self.by_owner.setdefault(t.owner, {})[t.tid] = t

    def drop(self, t: Table):
        t.deleted = True
        self.ids.pop(t.tid, None)
        if t.named and self.ids.get(t.name) is t:
            del self.ids[t.name]
        self.tables.pop(t.tid, None)
        self._unindex(self.by_owner, t.owner, t)
        if t.heir is not None:
            self._unindex(self.by_heir, t.heir, t)
        t.store.clear()

    @staticmethod
    def _unindex(index, pid, t):
        owned = index.get(pid)
        if owned is not None:
            owned.pop(t.tid, None)
            if not owned:
                del index[pid]

    def set_owner(self, t: Table, pid):
        self._unindex(self.by_owner, t.owner, t)
        t.owner = pid
        self.by_owner.setdefault(pid, {})[t.tid] = t

    def set_heir(self, t: Table, heir, data, alive):
        if t.heir is not None:
            self._unindex(self.by_heir, t.heir, t)
        t.heir, t.heir_data, t.heir_alive = heir, data, alive
        if heir is not None:
            self.by_heir.setdefault(heir, {})[t.tid] = t

    def rename(self, t: Table, name):
        if t.named:
            if name in self.ids and self.ids[name] is not t:
                raise BadArg(f"ets.rename: a table named {name!r} already exists")
            if self.ids.get(t.name) is t:
                del self.ids[t.name]
            self.ids[name] = t
        t.name = name

    # ------------------------------------------------------------ death

    def process_died(self, pid, reason):
        """The exit hook: hand the dead owner's tables to their heirs, or delete them."""
        heir_of = self.by_heir.pop(pid, None)
        if heir_of:
            for t in heir_of.values():
                t.heir_alive = False  # keep the pid: info still shows it, as in OTP
        owned = self.by_owner.pop(pid, None)
        if not owned:
            return None
        sends = []
        for t in list(owned.values()):
            heir = t.heir
            if heir is not None and t.heir_alive and heir != pid:
                t.owner = heir
                self.by_owner.setdefault(heir, {})[t.tid] = t
                sends.append((heir, (ETS_TRANSFER, t.id, pid, t.heir_data)))
            else:
                self.drop(t)
        return sends


_registries: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
_last = (None, None)  # (node, registry) of the last lookup: one `is` test on the hot path


def registry_of(node) -> Registry:
    """The node's registry, made (and its exit hook installed) on first use.

    Must be called inside a process of that node the first time."""
    global _last
    last = _last
    if last[0] is node:
        return last[1]
    reg = _registries.get(node)
    if reg is None:
        reg = Registry()
        _registries[node] = reg
        add_exit_hook(reg.process_died)
    _last = (node, reg)
    return reg


def peek_registry(node):
    """The node's registry if it has one (observer reads; never installs anything)."""
    return _registries.get(node)


# ----------------------------------------------------------------------
# finding a table and checking access


def caller():
    """`(pid, registry)` of the calling process."""
    p = current_process()
    return p.pid, registry_of(node_of(p))


def living_owner(what):
    """`(pid, registry)` of the caller, which is about to own a table: a dead
    process running its `finally` blocks may not (its tables went with it)."""
    p = current_process()
    if p.state is EXITING:
        raise BadArg(f"ets.{what}: {p.pid!r} has exited (it is running its finally blocks); "
                     "a dead process cannot own a table")
    return p.pid, registry_of(node_of(p))


def find(tab, what):
    """`(table, caller_pid)` for `tab` (a name or a tid), or BadArg."""
    p = current_process()
    return _table(p, tab, what), p.pid


def _table(p, tab, what):
    last = _last
    node = node_of(p)
    reg = last[1] if last[0] is node else registry_of(node)
    try:
        t = reg.ids.get(tab)
    except TypeError:
        t = None
    if t is None:
        raise BadArg(f"ets.{what}: {_describe_missing(tab)}")
    return t


def _describe_missing(tab):
    if isinstance(tab, str):
        return (f"no table is named {tab!r} (was it created with named_table=True, and is "
                "its owner alive?)")
    if type(tab) is Ref:
        return f"the table {tab!r} does not exist (it was deleted, or its owner died)"
    return f"a table is named by the name or the id ets.new returned, not {tab!r}"


# The two checks below run on every read and write: they look the table up
# themselves and compare the caller with the owner by identity first (the
# owner's Pid object is usually the very one the caller holds).

def readable(tab, what):
    p = current_process()
    t = _table(p, tab, what)
    if t.level == PRIVATE and p.pid is not t.owner and p.pid != t.owner:
        raise BadArg(f"ets.{what}: the table {t.id!r} is private to its owner {t.owner!r}; "
                     "create it with access='protected' or 'public' to let others read it")
    return t


def writable(tab, what):
    p = current_process()
    t = _table(p, tab, what)
    if t.level != PUBLIC and p.pid is not t.owner and p.pid != t.owner:
        raise BadArg(f"ets.{what}: the table {t.id!r} is {t.protection}; only its owner "
                     f"{t.owner!r} may change it (create it with access='public' to share "
                     "writes)")
    return t


def owned(tab, what):
    t, pid = find(tab, what)
    if pid != t.owner:
        raise BadArg(f"ets.{what}: only the owner {t.owner!r} of the table {t.id!r} may do "
                     f"this, not {pid!r}")
    return t, pid


def check_pid_alive(pid, what, role):
    if type(pid) is not Pid:
        raise BadArg(f"ets.{what}: the {role} must be a Pid, not {pid!r}")
    if pid.node != vm.node_name() or not vm.is_process_alive(pid):
        raise BadArg(f"ets.{what}: the {role} {pid!r} is not a live local process")
