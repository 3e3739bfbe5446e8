"""Registry: Elixir's local key-value process registry, on ETS.

    from stdlib.registry import Registry

    Registry.start_link(keys="unique", name="agents")
    Registry.register("agents", "planner", {"model": "small"})   # registers the caller
    Registry.lookup("agents", "planner")          # [(<0.5.0>, {'model': 'small'})]
    gen_server.start_link(Agent, arg, name=("via", Registry, ("agents", "writer")))
    gen_server.call(("via", Registry, ("agents", "writer")), "status")

What this module owns: Elixir's `Registry` (1.15 and later), as the
functions of this module and as static methods of the class `Registry`
(so `("via", Registry, (registry, key))` names a process wherever a server
name is accepted: gen_server, gen_statem, supervisor child specs). The via
protocol is OTP's: `register_name`, `unregister_name`, `whereis_name`,
`send`; a `(registry, key, value)` name registers with that value. Only
unique registries can name processes.

How it is built (as Elixir builds it): `start_link` starts a supervisor
registered under the registry's name, which owns a public ETS table of the
same name (the registry's settings and its `meta`), and one partition per
`partitions=`, a gen_server trapping exits that owns two public tables:
keys (`(key, (pid, value))`; a duplicate_bag for duplicate keys, an
ordered_set of `((key, pid, counter), value)` for `("duplicate", "key")`)
and pids (`(pid, key, key_table, counter)`). `register` writes the tables
from the caller's own process, after linking the caller to the partition
that owns its pid entries; when a registered process exits, that partition
gets its EXIT and removes its entries. So lookups are reads of ETS, with no
message, and, as Elixir documents, an entry may outlive its process for the
moment it takes the partition to run: `lookup` may return a dead pid,
while `whereis_name` checks and a unique `register` replaces an entry whose
process is dead.

Keys are compared exactly (`=:=`: `1` and `1.0` are two keys). A key
holding "_" or "$..." strings is matched by a guard instead of a head, as
Elixir does, so any term is a valid key.

Python spellings of Elixir's: options are keyword arguments
(`keys="unique" | "duplicate" | ("duplicate", "key") | ("duplicate",
"pid")`, `name=`, `partitions=`, `listeners=[names]`, `meta=[(key,
value)]` or a dict); `:ok`/`:error` are "ok"/"error"; `{:ok, v}` is
`("ok", v)`; a dispatcher is a callable `fn(entries)` or `(fn, args)`
called as `fn(entries, *args)` (Elixir's `{module, function, args}`); an
ArgumentError is `vm.BadArg`. Listeners receive `("register", registry,
key, pid, value)` and `("unregister", registry, key, pid)`.

What it refuses: `Registry.lock/3` (Elixir 1.18) and `compressed` (ETS
here stores Python objects; the option is accepted and ignored).
"""

from __future__ import annotations

import contextlib
import itertools
import zlib

import vm
from vm import Atom, BadArg
from vm.lowlevel import copy_term

from . import ets, gen_server, supervisor, task
from .ets.keys import order
from .ets.match_spec import is_literal

__all__ = ["Registry", "child_spec", "count", "count_match", "count_select", "delete_meta",
           "dispatch", "keys", "lookup", "match", "meta", "put_meta", "register", "select",
           "start_link", "unregister", "unregister_match", "update_value", "values"]

OK = Atom("ok")
ERROR = Atom("error")
UNIQUE = Atom("unique")
DUP_PID = (Atom("duplicate"), Atom("pid"))
DUP_KEY = (Atom("duplicate"), Atom("key"))
_ALL_INFO = -1  # the settings entry; meta keys are atoms or tuples, never ints
_counter = itertools.count(1)


# ----------------------------------------------------------------------
# starting


def start_link(*, keys=None, name=None, partitions=1, listeners=(), meta=(), compressed=False):
    """Start a registry (a supervisor registered as `name`); `("ok", pid)`."""
    kind = _kind(keys)
    if not isinstance(name, str):
        raise BadArg("expected name= to be given as a str or vm.Atom" if name is None else
                     f"expected name= to be a str or vm.Atom, got: {name!r}")
    if type(partitions) is not int or partitions < 1:
        raise BadArg(f"expected partitions= to be a positive integer, got: {partitions!r}")
    if type(listeners) not in (list, tuple) or not all(isinstance(x, str) for x in listeners):
        raise BadArg(f"expected listeners= to be a list of named processes, got: {listeners!r}")
    meta = list(meta.items()) if type(meta) is dict else meta
    if type(meta) not in (list, tuple) or not all(
            type(m) is tuple and len(m) == 2 and _meta_key_ok(m[0]) for m in meta):
        raise BadArg(f"expected meta= to be a list of (key, value) pairs or a dict with str or "
                     f"tuple keys, got: {meta!r}")
    if type(compressed) is not bool:
        raise BadArg(f"expected compressed= to be a boolean, got: {compressed!r}")
    name = Atom(name)
    arg = (kind, name, partitions, [Atom(x) for x in listeners], list(meta))
    return supervisor.start_link(_Supervisor, arg, name=name)


def child_spec(**options) -> dict:
    """The child spec that starts a registry under a supervisor (id: its name)."""
    return {"id": options.get("name", "Registry"), "start": (_start_with, (options,)),
            "type": "supervisor"}


def _start_with(options):
    return start_link(**options)


def _kind(keys):
    if keys == "unique":
        return UNIQUE
    if keys == "duplicate":
        return DUP_PID
    if type(keys) is tuple and len(keys) == 2 and keys[0] == "duplicate" and \
            keys[1] in ("key", "pid"):
        return (Atom("duplicate"), Atom(keys[1]))
    raise BadArg("expected keys= to be given and be one of 'unique', 'duplicate', "
                 f"('duplicate', 'key'), or ('duplicate', 'pid'), got: {keys!r}")


def _meta_key_ok(key):
    return isinstance(key, str) or type(key) is tuple


class _Supervisor(supervisor.Supervisor):
    def init(self, arg):
        kind, name, partitions, listeners, meta = arg
        ets.new(name, ["set", "public", "named_table", ("read_concurrency", True)])
        ets.insert(name, [(_ALL_INFO, (kind, partitions, listeners))] + meta)
        children = [{"id": ("partition", i), "start": (_start_partition, (name, i, kind))}
                    for i in range(partitions)]
        strategy = "one_for_all" if kind == UNIQUE else "one_for_one"
        return ("ok", ({"strategy": strategy}, children))


def _start_partition(registry, i, kind):
    return gen_server.start_link(_Partition, (registry, i, kind))


class _Partition(gen_server.GenServer):
    """Owns one key table and one pid table; removes a process's entries when it exits."""

    def init(self, arg):
        registry, i, kind = arg
        vm.process_flag("trap_exit", True)
        key_type = {UNIQUE: "set", DUP_KEY: "ordered_set"}.get(kind, "duplicate_bag")
        key_table = ets.new("registry_keys", [key_type, "public", ("read_concurrency", True),
                                              ("write_concurrency", True)])
        pid_table = ets.new("registry_pids", ["duplicate_bag", "public",
                                              ("read_concurrency", True),
                                              ("write_concurrency", True)])
        ets.insert(registry, (i, key_table, (vm.self(), pid_table)))
        return ("ok", (pid_table, kind == DUP_KEY))

    def handle_call(self, request, from_, state):
        return ("reply", OK, state)  # "sync": every EXIT queued before it is handled

    def handle_info(self, msg, state):
        if type(msg) is tuple and len(msg) == 3 and msg[0] == "EXIT":
            pid_table, ordered = state
            for _, key, key_table, _counter in ets.take(pid_table, msg[1]):
                with contextlib.suppress(BadArg):  # the key table went with a restarted partition
                    _delete_entries(key_table, key, msg[1], ordered)
        return ("noreply", state)


# ----------------------------------------------------------------------
# the tables


def _info(registry):
    """`(kind, partitions, listeners)`, or BadArg for an unknown registry."""
    try:
        return ets.lookup_element(registry, _ALL_INFO, 1)
    except BadArg:
        raise BadArg(f"unknown registry: {registry!r}. Either the registry name is invalid or "
                     "the registry is not running") from None


def _partition_of(term, partitions):
    if partitions == 1:
        return 0
    if type(term) is vm.Pid:
        return term.id % partitions
    return zlib.crc32(repr(order(term)).encode()) % partitions  # stable for equal keys


def _key_table(registry, i):
    return ets.lookup_element(registry, i, 1)


def _pid_table(registry, i):
    return ets.lookup_element(registry, i, 2)  # (partition pid, pid table)


def _partitions_for(kind, key, pid, partitions):
    """(key partition, pid partition), as Elixir picks them."""
    if kind == UNIQUE:
        return _partition_of(key, partitions), _partition_of(pid, partitions)
    p = _partition_of(key if kind == DUP_KEY else pid, partitions)
    return p, p


def _key_head(kind, key, pid_pattern, value_pattern):
    """A head over key-table entries, plus the guards a non-literal key needs."""
    if kind == DUP_KEY:
        if is_literal(key):
            return ((key, pid_pattern, "_"), value_pattern), []
        return (("_", pid_pattern, "_"), value_pattern), \
            [("=:=", ("element", 1, ("element", 1, "$_")), ("const", key))]
    if is_literal(key):
        return (key, (pid_pattern, value_pattern)), []
    return ("_", (pid_pattern, value_pattern)), [("=:=", ("element", 1, "$_"), ("const", key))]


def _pair_body(kind):
    if kind == DUP_KEY:
        return [((("element", 2, ("element", 1, "$_")), ("element", 2, "$_")),)]
    return [("element", 2, "$_")]


def _delete_entries(key_table, key, pid, ordered):
    kind = DUP_KEY if ordered else UNIQUE
    head, guards = _key_head(kind, key, pid, "_")  # a pid is a literal in a head
    ets.select_delete(key_table, [(head, guards, [True])])


def _key_tables(registry, kind, partitions, key):
    """The key tables where `key` may be (one, or all for duplicate-by-pid)."""
    if kind == DUP_PID:
        return [_key_table(registry, i) for i in range(partitions)]
    return [_key_table(registry, _partition_of(key, partitions))]


# ----------------------------------------------------------------------
# registering


def register(registry, key, value):
    """Register the caller under `key` with `value`: `("ok", owner)` where
    owner is the partition process now linked to the caller, or
    `("error", ("already_registered", pid))` for a taken unique key."""
    me = vm.self()
    kind, partitions, listeners = _info(registry)
    copy_term((key, value))  # a non-term raises vm.Unsendable here, before anything changed
    key_part, pid_part = _partitions_for(kind, key, me, partitions)
    key_table = _key_table(registry, key_part)
    owner, pid_table = _pid_table(registry, pid_part)
    vm.link(owner)  # first, so that a crash right after still gets cleaned up
    counter = next(_counter)
    pid_entry = (me, key, key_table, counter)
    ets.insert(pid_table, pid_entry)
    entry = ((key, me, counter), value) if kind == DUP_KEY else (key, (me, value))
    holder = _insert_key(kind, key_table, key, entry)
    if holder is None:
        for listener in listeners:
            vm.send(listener, (Atom("register"), registry, key, me, value))
        return ("ok", owner)
    ets.delete_object(pid_table, pid_entry)
    if holder != me:
        _unlink_if_unregistered(owner, pid_table, me)
    return ("error", ("already_registered", holder))


def _insert_key(kind, key_table, key, entry):
    """None when inserted; else the live pid holding the unique key."""
    if kind != UNIQUE:
        ets.insert(key_table, entry)
        return None
    while not ets.insert_new(key_table, entry):
        current = ets.lookup(key_table, key)
        if not current:
            continue
        pid = current[0][1][0]
        if vm.is_process_alive(pid):
            return pid
        ets.delete_object(key_table, current[0])  # its process died; the partition lags
    return None


def unregister(registry, key):
    """Remove every entry of the caller under `key`; returns "ok"."""
    me = vm.self()
    kind, partitions, listeners = _info(registry)
    key_part, pid_part = _partitions_for(kind, key, me, partitions)
    key_table = _key_table(registry, key_part)
    owner, pid_table = _pid_table(registry, pid_part)
    _delete_entries(key_table, key, me, kind == DUP_KEY)
    _delete_pid_entries(pid_table, me, key, key_table)
    _unlink_if_unregistered(owner, pid_table, me)
    for listener in listeners:
        vm.send(listener, (Atom("unregister"), registry, key, me))
    return OK


def unregister_match(registry, key, pattern, guards=()):
    """Remove the caller's entries under `key` whose value matches `pattern`
    (and `guards`); returns "ok"."""
    me = vm.self()
    kind, partitions, listeners = _info(registry)
    key_part, pid_part = _partitions_for(kind, key, me, partitions)
    key_table = _key_table(registry, key_part)
    owner, pid_table = _pid_table(registry, pid_part)
    head, key_guards = _key_head(kind, key, me, "_")
    total = ets.select_count(key_table, [(head, key_guards, [True])])
    head, key_guards = _key_head(kind, key, me, pattern)
    deleted = ets.select_delete(key_table, [(head, key_guards + list(guards), [True])])
    if deleted == 0:
        return OK
    if deleted == total:
        _delete_pid_entries(pid_table, me, key, key_table)
        _unlink_if_unregistered(owner, pid_table, me)
        for listener in listeners:
            vm.send(listener, (Atom("unregister"), registry, key, me))
        return OK
    mine = ets.select(pid_table, [((me, "_", "_", "_"), [], ["$_"])])
    for entry in [e for e in mine if e[1] == key and e[2] == key_table][:deleted]:
        ets.delete_object(pid_table, entry)
    return OK


def _delete_pid_entries(pid_table, pid, key, key_table):
    head = (pid, key if is_literal(key) else "_", key_table, "_")
    guards = [] if is_literal(key) else [("=:=", ("element", 2, "$_"), ("const", key))]
    ets.select_delete(pid_table, [(head, guards, [True])])


def _unlink_if_unregistered(owner, pid_table, pid):
    if not ets.member(pid_table, pid):
        vm.unlink(owner)


# ----------------------------------------------------------------------
# reading


def lookup(registry, key) -> list:
    """The `(pid, value)` pairs under `key` (a dead pid may still show, see above)."""
    kind, partitions, _ = _info(registry)
    if kind == DUP_KEY:
        return match(registry, key, "_")
    out = []
    for table in _key_tables(registry, kind, partitions, key):
        found = ets.lookup_element(table, key, 1, default=None)
        if found is not None:
            out.extend(found if type(found) is list else [found])
    return out


def match(registry, key, pattern, guards=()) -> list:
    """The `(pid, value)` pairs under `key` whose value matches `pattern`:
    "_" ignores a part, "$1"... bind (a repeated one must match the same
    term), `guards` are match-specification guards over the "$N" variables."""
    kind, partitions, _ = _info(registry)
    head, key_guards = _key_head(kind, key, "_", pattern)
    spec = [(head, key_guards + list(guards), _pair_body(kind))]
    return [pair for table in _key_tables(registry, kind, partitions, key)
            for pair in ets.select(table, spec)]


def count_match(registry, key, pattern, guards=()) -> int:
    """How many entries `match` would return."""
    kind, partitions, _ = _info(registry)
    head, key_guards = _key_head(kind, key, "_", pattern)
    spec = [(head, key_guards + list(guards), [True])]
    return sum(ets.select_count(t, spec) for t in _key_tables(registry, kind, partitions, key))


def keys(registry, pid) -> list:
    """The keys `pid` is registered under (repeated in a duplicate registry
    when registered repeatedly); empty for a dead process."""
    kind, partitions, _ = _info(registry)
    if kind == DUP_KEY:
        tables = [_pid_table(registry, i)[1] for i in range(partitions)]
    else:
        tables = [_pid_table(registry, _partition_of(pid, partitions))[1]]
    found = [k for t in tables for k in ets.select(t, [((pid, "$1", "_", "_"), [], ["$1"])])]
    if kind == UNIQUE:
        unique = []
        for k in found:
            if k not in unique:
                unique.append(k)
        return unique
    return found


def values(registry, key, pid) -> list:
    """The values `pid` registered under `key`."""
    return [value for p, value in lookup(registry, key) if p == pid]


def count(registry) -> int:
    """The number of entries in the registry."""
    _, partitions, _ = _info(registry)
    return sum(ets.info(_key_table(registry, i), "size") or 0 for i in range(partitions))


def select(registry, spec) -> list:
    """A full match specification over `(key, pid, value)` heads."""
    kind, partitions, _ = _info(registry)
    spec = _registry_spec(spec, kind, "select")
    return [r for i in range(partitions) for r in ets.select(_key_table(registry, i), spec)]


def count_select(registry, spec) -> int:
    """How many entries the specification's result is True for."""
    kind, partitions, _ = _info(registry)
    spec = _registry_spec(spec, kind, "count_select")
    return sum(ets.select_count(_key_table(registry, i), spec) for i in range(partitions))


def _registry_spec(spec, kind, what):
    out = []
    for clause in spec if type(spec) is list else [None]:
        if type(clause) is not tuple or len(clause) != 3 or type(clause[0]) is not tuple or \
                len(clause[0]) != 3:
            raise BadArg(f"invalid match specification in Registry.{what}: {spec!r}; each "
                         "clause is ((key, pid, value), guards, body)")
        (k, p, v), guards, body = clause
        head = ((k, p, "_"), v) if kind == DUP_KEY else (k, (p, v))
        out.append((head, guards, body))
    return out


def dispatch(registry, key, dispatcher, parallel=False):
    """Call `dispatcher(entries)` with the `(pid, value)` pairs under `key`,
    once per partition that has any (never with an empty list). With
    `parallel=True` a partitioned duplicate registry dispatches from one
    task per partition. A dispatcher may also be `(fn, args)`:
    `fn(entries, *args)`. Returns "ok"."""
    kind, partitions, _ = _info(registry)
    if callable(dispatcher):
        fn, args = dispatcher, ()
    elif type(dispatcher) is tuple and len(dispatcher) == 2 and callable(dispatcher[0]):
        fn, args = dispatcher[0], tuple(dispatcher[1])
    else:
        raise BadArg(f"Registry.dispatch: a dispatcher is fn or (fn, args), not {dispatcher!r}")

    def run(entries):
        if entries:
            fn(entries, *args)

    if kind != DUP_PID or partitions == 1:
        run(lookup(registry, key))
    elif parallel:
        tasks = [task.async_(_dispatch_one, registry, i, key, fn, args)
                 for i in range(partitions)]
        task.await_many(tasks, None)
    else:
        for i in range(partitions):
            _dispatch_one(registry, i, key, fn, args)
    return OK


def _dispatch_one(registry, i, key, fn, args):
    found = ets.lookup_element(_key_table(registry, i), key, 1, default=[])
    if found:
        fn(found, *args)


def update_value(registry, key, fn):
    """In a unique registry, replace the caller's value under `key` with
    `fn(old)`: `(new, old)`, or "error" if the caller holds no such key."""
    kind, partitions, _ = _info(registry)
    if kind != UNIQUE:
        raise BadArg(f"Registry.update_value/3 is not supported for {kind!r} registries")
    table = _key_table(registry, _partition_of(key, partitions))
    found = ets.lookup_element(table, key, 1, default=None)
    if found is None or found[0] != vm.self():
        return ERROR
    new = fn(found[1])
    ets.insert(table, (key, (found[0], new)))
    return (new, found[1])


def meta(registry, key):
    """`("ok", value)` for a meta key, or "error"."""
    _check_meta_key(key, "meta")
    try:
        found = ets.lookup(registry, key)
    except BadArg:
        raise BadArg(f"unknown registry: {registry!r}. Either the registry name is invalid or "
                     "the registry is not running") from None
    return ("ok", found[0][1]) if found else ERROR


def put_meta(registry, key, value):
    """Store a meta key (a str or tuple); returns "ok"."""
    _check_meta_key(key, "put_meta")
    _info(registry)
    ets.insert(registry, (key, value))
    return OK


def delete_meta(registry, key):
    """Remove a meta key; returns "ok"."""
    _check_meta_key(key, "delete_meta")
    _info(registry)
    ets.delete(registry, key)
    return OK


def _check_meta_key(key, what):
    if not _meta_key_ok(key):
        raise BadArg(f"Registry.{what}: meta keys are str (atoms) or tuples, not {key!r}")


def sync(registry):
    """Wait until every partition has handled the exits queued to it (so the
    entries of processes that died before this call are gone). Not in
    Elixir's API; Elixir's tests reach the same through the partitions."""
    _, partitions, _ = _info(registry)
    for i in range(partitions):
        gen_server.call(_pid_table(registry, i)[0], "sync", None)
    return OK


# ----------------------------------------------------------------------
# the via protocol


def _via(name):
    if type(name) is tuple and len(name) in (2, 3):
        return name[0], name[1], (name[2] if len(name) == 3 else None)
    raise BadArg(f"a Registry via name is (registry, key) or (registry, key, value), "
                 f"not {name!r}")


def register_name(name, pid):
    registry, key, value = _via(name)
    if pid != vm.self():
        raise BadArg("Registry.register_name: a process can only register itself")
    return Atom("yes") if register(registry, key, value)[0] == "ok" else Atom("no")


def unregister_name(name):
    registry, key, _ = _via(name)
    return unregister(registry, key)


def whereis_name(name):
    registry, key, _ = _via(name)
    kind, partitions, _ = _info(registry)
    if kind != UNIQUE:
        raise BadArg(f"via is not supported for {kind!r} registries")
    found = ets.lookup_element(_key_table(registry, _partition_of(key, partitions)), key, 1,
                               default=None)
    if found is not None and vm.is_process_alive(found[0]):
        return found[0]
    return None


def send(name, msg):
    registry, key, _ = _via(name)
    found = lookup(registry, key)
    if not found:
        raise BadArg(f"Registry.send: nothing is registered as {key!r} in {registry!r}")
    vm.send(found[0][0], msg)
    return msg


class Registry:
    """Elixir's `Registry` module as a class: `Registry.lookup(reg, key)`, and
    the via registry in `("via", Registry, (registry, key))`. Every
    function of `stdlib.registry` is here as a static method."""

    start_link = staticmethod(start_link)
    child_spec = staticmethod(child_spec)
    register = staticmethod(register)
    unregister = staticmethod(unregister)
    unregister_match = staticmethod(unregister_match)
    lookup = staticmethod(lookup)
    match = staticmethod(match)
    count = staticmethod(count)
    count_match = staticmethod(count_match)
    count_select = staticmethod(count_select)
    select = staticmethod(select)
    keys = staticmethod(keys)
    values = staticmethod(values)
    dispatch = staticmethod(dispatch)
    update_value = staticmethod(update_value)
    meta = staticmethod(meta)
    put_meta = staticmethod(put_meta)
    delete_meta = staticmethod(delete_meta)
    sync = staticmethod(sync)
    register_name = staticmethod(register_name)
    unregister_name = staticmethod(unregister_name)
    whereis_name = staticmethod(whereis_name)
    send = staticmethod(send)

    def __init__(self):
        raise TypeError("Registry is a namespace: call Registry.start_link(...), "
                        "Registry.register(...), ...")
