"""Terms: the values processes exchange.

What this module owns: the value types beamlet adds to Python's own —
`Atom`, `Pid`, `Ref`, `Crash` — and the two receive sentinels `ANY` and
`TIMEOUT`. All of them are immutable and hashable, so the heap (`_heap.py`)
may share them between processes instead of copying them. Immutable is
enforced: assigning or deleting an attribute of a `Pid` or a `Ref` raises
`AttributeError` (a receiver that could set `pid.id` would redirect every
other holder's messages and exits), and a `Crash` accepts only strings.
A new one is filled in as a plain slotted object and then given its class
(same layout), so making one stays cheap; going around the refusal on
purpose (`object.__setattr__`) is as much outside the rules as `ctypes`.

Each maps losslessly onto Erlang's External Term Format: an `Atom` is an
atom; a `Pid` carries node name, id, serial and creation (NEW_PID_EXT); a
`Ref` carries node name, creation and its id words (NEWER_REFERENCE_EXT); a
`Crash` is the tuple `{crash, Type, Message, Traceback}`.

What it refuses: any notion of a running node. Pids and refs are plain
values; which node they live on is the scheduler's business.
"""

from __future__ import annotations

import traceback as _traceback

from .errors import BadArg

__all__ = ["Atom", "Pid", "Ref", "Crash", "ImproperList", "ANY", "TIMEOUT", "LOCAL_NODE",
           "node_index"]

LOCAL_NODE = "nonode@nohost"

# How pids and refs print their node, as Erlang does: 0 for a local one, and
# for each other node a number of its own (in the order this OS process first
# printed one of its pids), so <0.42.0> and <1.42.0> are told apart.
_node_index: dict = {LOCAL_NODE: 0}


def node_index(node: str, local: bool = False) -> int:
    """The number a pid of `node` prints first; `local=True` declares a local node name."""
    if local:
        _node_index[node] = 0
        return 0
    n = _node_index.get(node)
    if n is None:
        n = _node_index[node] = len([v for v in _node_index.values() if v]) + 1
    return n


class Atom(str):
    """An Erlang atom. A `str` subclass, so `Atom("ok") == "ok"`.

    It prints like a string, so `("EXIT", pid, "normal")` reads the same
    whether the VM or the user built it.
    """

    __slots__ = ()


def _refuse_change(self, name, value=None):
    raise AttributeError(
        f"{type(self).__name__} is immutable: it is shared by every process that holds "
        f"it; make a new one instead of changing {name!r}"
    )


_new = object.__new__


class _PidFields:
    """A pid's storage, writable: a new Pid is filled in as one of these, then
    becomes a Pid (same layout), whose `__setattr__` refuses. Plain attribute
    stores are several times cheaper than going around the refusal."""

    __slots__ = ("node", "id", "serial", "creation", "_hash")
    node: str  # the node's name
    id: int
    serial: int
    creation: int  # which incarnation of the node made it
    _hash: int


class Pid(_PidFields):
    """A process identifier, printed as Erlang prints it: `<0.42.0>`."""

    __slots__ = ()

    def __new__(cls, node: str, id: int, serial: int = 0, creation: int = 1):
        self = new_pid(node, id, serial, creation)
        if cls is not Pid:
            self.__class__ = cls
        return self

    __setattr__ = _refuse_change
    __delattr__ = _refuse_change

    def __eq__(self, other):
        return (
            type(other) is Pid
            and other.id == self.id
            and other.creation == self.creation
            and other.serial == self.serial
            and other.node == self.node
        )

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return self._hash

    def __lt__(self, other):
        if type(other) is not Pid:
            return NotImplemented
        return (self.node, self.id, self.serial) < (other.node, other.id, other.serial)

    def __repr__(self):
        return f"<{node_index(self.node)}.{self.id}.{self.serial}>"

    __str__ = __repr__

    def __reduce__(self):
        return (Pid, (self.node, self.id, self.serial, self.creation))

    @classmethod
    def parse(cls, text: str, node: str = LOCAL_NODE, creation: int = 1) -> Pid:
        """`Pid.parse("<0.42.0>")`: the pid with that printed form on `node`."""
        body = text.strip()
        if not (body.startswith("<") and body.endswith(">")):
            raise ValueError(f"not a pid: {text!r}; expected the form '<0.42.0>'")
        parts = body[1:-1].split(".")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            raise ValueError(f"not a pid: {text!r}; expected the form '<0.42.0>'")
        return cls(node, int(parts[1]), int(parts[2]), creation)


class _RefFields:
    """A ref's storage (see `_PidFields`)."""

    __slots__ = ("node", "id", "creation", "_hash")
    node: str
    id: int
    creation: int
    _hash: int


def new_pid(node: str, id: int, serial: int, creation: int) -> Pid:
    """`Pid(node, id, serial, creation)` without the class call: what the
    scheduler uses, a spawn makes one."""
    self = _new(_PidFields)
    self.node = node
    self.id = id
    self.serial = serial
    self.creation = creation
    # The node name is left out of the hash; equal hashes across nodes only
    # cost an __eq__.
    self._hash = id ^ (serial << 32) ^ (creation << 40)
    self.__class__ = Pid
    return self  # type: ignore[return-value]  # a Pid now (no cast: spawn's path)


class Ref(_RefFields):
    """A unique reference, printed as `#Ref<0.0.0.42>`."""

    __slots__ = ()

    def __new__(cls, node: str, id: int, creation: int = 1):
        self = new_ref(node, id, creation)
        if cls is not Ref:
            self.__class__ = cls
        return self

    __setattr__ = _refuse_change
    __delattr__ = _refuse_change

    def __eq__(self, other):
        return (
            type(other) is Ref
            and other.id == self.id
            and other.creation == self.creation
            and other.node == self.node
        )

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return self._hash

    def __repr__(self):
        n = self.id
        return (f"#Ref<{node_index(self.node)}.{(n >> 64) & 0xFFFFFFFF}."
                f"{(n >> 32) & 0xFFFFFFFF}.{n & 0xFFFFFFFF}>")

    __str__ = __repr__

    def __reduce__(self):
        return (Ref, (self.node, self.id, self.creation))


def new_ref(node: str, id: int, creation: int) -> Ref:
    """`Ref(node, id, creation)` without the class call: a call makes one."""
    self = _new(_RefFields)
    self.node = node
    self.id = id
    self.creation = creation
    self._hash = id ^ (creation << 40) ^ 0x5EF
    self.__class__ = Ref
    return self  # type: ignore[return-value]  # a Ref now (no cast: the hot path)


class Crash(tuple):
    """The exit reason of a process whose function raised an exception.

    A tuple `(exc_type, message, traceback)` so it is an ordinary, immutable
    term that travels in EXIT and DOWN messages; the attributes name the
    fields. `Crash.from_exception(e)` builds one. Every field must be a
    string (a crash is shared between processes, never copied, so it may
    hold nothing mutable); a `str` subclass other than `Atom` is stored as a
    plain `str`.
    """

    __slots__ = ()

    def __new__(cls, exc_type: str, message: str, traceback: str = ""):
        fields: tuple[str, ...] = (exc_type, message, traceback)
        for name, v in zip(("exc_type", "message", "traceback"), fields, strict=True):
            if type(v) is not str and type(v) is not Atom:
                if not isinstance(v, str):
                    raise BadArg(
                        f"Crash {name} must be a str, not {type(v).__name__}: {v!r:.80}; "
                        "a crash travels between processes and may hold only strings "
                        "(Crash.from_exception(e) builds one from an exception)"
                    )
                fields = tuple(x if type(x) is str or type(x) is Atom else str.__str__(x)
                               for x in fields)
        return tuple.__new__(cls, fields)

    @property
    def exc_type(self) -> str:
        return self[0]

    @property
    def message(self) -> str:
        return self[1]

    @property
    def traceback(self) -> str:
        return self[2]

    @classmethod
    def from_exception(cls, exc: BaseException) -> Crash:
        t = type(exc)
        name = t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"
        tb = "".join(_traceback.format_exception(t, exc, exc.__traceback__))
        return cls(name, str(exc), tb)

    def __repr__(self):
        return f"Crash({self[0]!r}, {self[1]!r})"

    def __reduce__(self):
        return (Crash, tuple(self))


class ImproperList(tuple):
    """An Erlang list whose tail is not `[]`: `ImproperList([a, b], tail)` is `[a, b | tail]`.

    Python has no such list; it arrives from other nodes, above all as OTP
    24's call tag `[alias | Ref]` (`ImproperList.alias_tag(ref)`), which a
    reply must give back unchanged. Immutable (`items` is a tuple); copied
    between processes like a tuple.
    """

    __slots__ = ()

    def __new__(cls, items, tail):
        items = tuple(items)
        if not items:
            raise ValueError("an improper list needs at least one element before its tail")
        if type(tail) is list:
            raise ValueError("a list tail makes a proper list; concatenate instead")
        return tuple.__new__(cls, (items, tail))

    @property
    def items(self) -> tuple:
        return self[0]

    @property
    def tail(self):
        return self[1]

    @classmethod
    def alias_tag(cls, ref: Ref) -> ImproperList:
        return cls((Atom("alias"),), ref)

    def is_alias_tag(self) -> bool:
        return self[0] == ("alias",) and type(self[1]) is Ref

    def __repr__(self):
        return f"ImproperList({list(self[0])!r}, {self[1]!r})"

    def __reduce__(self):
        return (ImproperList, (self[0], self[1]))


class _Sentinel:
    __slots__ = ("_name",)

    def __init__(self, name):
        self._name = name

    def __repr__(self):
        return f"vm.{self._name}"

    def __reduce__(self):
        return self._name


#: A receive pattern that matches any value.
ANY = _Sentinel("ANY")
#: What `receive(..., timeout=T)` returns when nothing matched in time.
TIMEOUT = _Sentinel("TIMEOUT")
