"""Terms: the values processes exchange.

What this module owns: the value types beamlet adds to Python's own —
`Atom`, `Pid`, `Ref`, `Crash` — and the two receive sentinels `ANY` and
`TIMEOUT`. All of them are immutable and hashable, so the heap (`_heap.py`)
may share them between processes instead of copying them. Immutable is
enforced: assigning or deleting an attribute of a `Pid` or a `Ref` raises
`AttributeError` (a receiver that could set `pid.id` would redirect every
other holder's messages and exits), and a `Crash` accepts only strings.
Slots are still written by `__init__`, through the slot descriptors, so
making one costs what it did; going around the refusal on purpose
(`object.__setattr__`) is as much outside the rules as `ctypes`.

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

__all__ = ["Atom", "Pid", "Ref", "Crash", "ANY", "TIMEOUT", "LOCAL_NODE"]

LOCAL_NODE = "nonode@nohost"


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


class Pid:
    """A process identifier, printed as Erlang prints it: `<0.42.0>`."""

    __slots__ = ("node", "id", "serial", "creation", "_hash")

    def __init__(self, node: str, id: int, serial: int = 0, creation: int = 1):
        _pid_node(self, node)
        _pid_id(self, id)
        _pid_serial(self, serial)
        _pid_creation(self, creation)
        # Cheap to make (a spawn makes one): the node name is left out of the
        # hash; equal hashes across nodes only cost an __eq__.
        _pid_hash(self, id ^ (serial << 32) ^ (creation << 40))

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
        # Erlang prints 0 as the first number for a local pid; remote pids
        # get a per-connection index we do not have yet, so print 1.
        first = 0 if self.node == LOCAL_NODE or self.creation > 0 else 1
        return f"<{first}.{self.id}.{self.serial}>"

    __str__ = __repr__

    def __reduce__(self):
        return (Pid, (self.node, self.id, self.serial, self.creation))

    @classmethod
    def parse(cls, text: str, node: str = LOCAL_NODE, creation: int = 1) -> "Pid":
        """`Pid.parse("<0.42.0>")`: the pid with that printed form on `node`."""
        body = text.strip()
        if not (body.startswith("<") and body.endswith(">")):
            raise ValueError(f"not a pid: {text!r}; expected the form '<0.42.0>'")
        parts = body[1:-1].split(".")
        if len(parts) != 3 or not all(p.isdigit() for p in parts):
            raise ValueError(f"not a pid: {text!r}; expected the form '<0.42.0>'")
        return cls(node, int(parts[1]), int(parts[2]), creation)


_pid_node, _pid_id, _pid_serial, _pid_creation, _pid_hash = (
    Pid.__dict__[k].__set__ for k in Pid.__slots__)


class Ref:
    """A unique reference, printed as `#Ref<0.0.0.42>`."""

    __slots__ = ("node", "id", "creation", "_hash")

    def __init__(self, node: str, id: int, creation: int = 1):
        _ref_node(self, node)
        _ref_id(self, id)
        _ref_creation(self, creation)
        _ref_hash(self, id ^ (creation << 40) ^ 0x5EF)  # cheap: a call makes one

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
        return f"#Ref<0.{(n >> 64) & 0xFFFFFFFF}.{(n >> 32) & 0xFFFFFFFF}.{n & 0xFFFFFFFF}>"

    __str__ = __repr__

    def __reduce__(self):
        return (Ref, (self.node, self.id, self.creation))


_ref_node, _ref_id, _ref_creation, _ref_hash = (Ref.__dict__[k].__set__ for k in Ref.__slots__)


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
        fields = (exc_type, message, traceback)
        for name, v in zip(("exc_type", "message", "traceback"), fields):
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
    def from_exception(cls, exc: BaseException) -> "Crash":
        t = type(exc)
        name = t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"
        tb = "".join(_traceback.format_exception(t, exc, exc.__traceback__))
        return cls(name, str(exc), tb)

    def __repr__(self):
        return f"Crash({self[0]!r}, {self[1]!r})"

    def __reduce__(self):
        return (Crash, tuple(self))


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
