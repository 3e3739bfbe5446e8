"""The local name registry (reference §1.7).

What this module owns: `register`, `unregister`, `whereis`, `registered`,
and resolving a send destination (a pid, a name, or a `(name, node)` pair)
to a process. Names are stored as `Atom`s; a plain `str` works too, since
they compare equal.

Every OTP error case of `register` is a `BadArg` whose message names the
case: the name is not a string, the name is "undefined", the pid is not a
live local process, the name is taken, the process already has a name.
A dead process's name is released by `_signals.process_died` before its
links and monitors fire.

What it refuses: global or `via` registries; those are behaviours built on
top (stdlib's `gen` layer takes a `via` module).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .errors import BadArg, show
from .terms import Atom, Pid, Ref

if TYPE_CHECKING:
    from ._core import Process
    from ._runtime import Runtime


def check_name(name: object, what: str = "register") -> Atom:
    if not isinstance(name, str):
        raise BadArg(
            f"{what}: a name must be a str or vm.Atom, not {type(name).__name__} ({show(name)})"
        )
    return Atom(name) if type(name) is not Atom else name


def register(node: Runtime, name: object, pid: Pid) -> bool:
    name = check_name(name)
    if name == "undefined":
        raise BadArg("register: 'undefined' cannot be a registered name (OTP reserves it)")
    if type(pid) is not Pid:
        raise BadArg(f"register: expected a Pid, not {type(pid).__name__} ({show(pid)})")
    p = node.lookup(pid) if pid.node == node.name else None
    if p is None:
        raise BadArg(f"register: {show(pid)} is not a live process on this node")
    holder = node.names.get(name)
    if holder is not None:
        raise BadArg(f"register: the name {show(name)} is already registered to {holder.pid!r}")
    if p.name is not None:
        raise BadArg(
            f"register: {show(pid)} is already registered as {show(p.name)}; unregister it first"
        )
    node.names[name] = p
    p.name = name
    return True


def unregister(node: Runtime, name: object) -> bool:
    name = check_name(name, "unregister")
    p = node.names.pop(name, None)
    if p is None:
        raise BadArg(f"unregister: no process is registered as {show(name)}")
    p.name = None
    return True


def whereis(node: Runtime, name: object) -> Pid | None:
    name = check_name(name, "whereis")
    p = node.names.get(name)
    return p.pid if p is not None else None


def registered(node: Runtime) -> list[str]:
    return list(node.names)


def resolve(node: Runtime, dest: object) -> Process | None:
    """The live Process `dest` names, None if it names nothing alive (a dead pid,
    a name on another node), or BadArg for an unregistered local name."""
    if type(dest) is Pid:
        if dest.node != node.name:
            return None  # no distribution yet: remote sends are dropped, as to an unreachable node
        return node.lookup(dest)
    if isinstance(dest, str):
        p = node.names.get(dest)
        if p is None:
            raise BadArg(
                f"send: no process is registered as {show(dest)} "
                "(sending to an unregistered name is an error in OTP; check vm.whereis first)"
            )
        return p
    if type(dest) is Ref:
        # An alias: delivered while active, dropped silently afterwards (OTP 24).
        from ._signals import resolve_alias

        return resolve_alias(node, dest)
    if (
        type(dest) is tuple
        and len(dest) == 2
        and isinstance(dest[0], str)
        and isinstance(dest[1], str)
    ):
        # {Name, Node} ! Msg never fails, even for an unregistered local name.
        return node.names.get(dest[0]) if dest[1] == node.name else None
    raise BadArg(
        f"send: destination must be a Pid, a registered name, a (name, node) tuple or an "
        f"alias Ref, "
        f"not {type(dest).__name__} ({show(dest)})"
    )
