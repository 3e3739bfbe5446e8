"""The registry of shell commands: what `help()` lists and the shell binds.

What this module owns: one table of commands, each with its help line and
its section, so the shell's namespace, `help()`, the completion list and
docs/observer.md's table are the same list. A module adds commands with the
decorator, and names itself in `PROVIDERS` so the shell imports it:

    from stdlib.observer.commands import command

    @command("tables() the ETS tables: name, owner, size, memory", section="Tables")
    def tables(*, json=False, node=None):
        ...

Two kinds of command:

- plain functions (`i`, `procs`, `trace`, ...), usable from any process or,
  after `use_node(node)`, from another thread, and exported by
  `stdlib.observer`;
- session commands (`v`, `b`, `f`, `h`, `l`, `c`, `q`, `top`, `help`),
  registered with `session=True`: their function takes the shell session
  first, and the shell binds it (they need its history and bindings).

What it refuses: implementing commands (helpers.py, session.py and the
modules in PROVIDERS do).
"""

from __future__ import annotations

import contextlib
import importlib
from dataclasses import dataclass

#: Sections in the order help() shows them; a new section goes at the end.
SECTIONS = ["Processes", "Supervision and behaviours", "Tracing", "The shell"]

#: Modules whose import registers commands; the shell imports each one.
PROVIDERS = ["stdlib.observer.helpers", "stdlib.observer.session", "stdlib.observer.scheduling",
             "stdlib.agents.observe"]


@dataclass(frozen=True)
class Command:
    name: str
    usage: str  # the help line: how to call it, and what it does
    fn: object
    section: str
    session: bool = False  # fn(shell, *args): bound by the shell


_commands: dict = {}


def register(name: str, fn, usage: str, *, section: str = "Processes",
             session: bool = False) -> Command:
    """Add (or replace) a command; returns it."""
    if not name.isidentifier():
        raise ValueError(f"a command name must be an identifier, not {name!r}")
    if section not in SECTIONS:
        SECTIONS.append(section)
    cmd = Command(name, usage, fn, section, session)
    _commands[name] = cmd
    return cmd


def command(usage: str, *, section: str = "Processes", name: str | None = None,
            session: bool = False):
    """Decorator form of `register`; the command's name is the function's unless given."""
    def deco(fn):
        register(name or fn.__name__.lstrip("_"), fn, usage, section=section, session=session)
        return fn

    return deco


def load_providers() -> None:
    """Import every module in PROVIDERS (one that is missing is skipped)."""
    for mod in PROVIDERS:
        with contextlib.suppress(ImportError):
            importlib.import_module(mod)


def commands() -> list:
    """Every command, by section, in registration order within a section."""
    load_providers()
    order = {s: k for k, s in enumerate(SECTIONS)}
    return sorted(_commands.values(), key=lambda c: order.get(c.section, len(order)))


def lookup(name: str):
    load_providers()
    return _commands.get(name)


def help_text() -> str:
    """What help() prints: every command's help line, by section."""
    lines = ["Shell commands (views take json=True; pids print as <0.42.0>):"]
    section = None
    for c in commands():
        if c.section != section:
            section = c.section
            lines.append(f"{section}:")
        lines.append(f"  {c.usage}")
    lines.append("The vm module is imported as vm: vm.spawn, vm.send, vm.receive, vm.self, "
                 "vm.link, vm.monitor, ...")
    lines.append("Ctrl-C interrupts the running expression; Ctrl-C twice quickly opens the "
                 "break menu.")
    lines.append("Tutorial: docs/tutorial/README.md. Leave with q() or Ctrl-D.")
    return "\n".join(lines)


__all__ = ["Command", "PROVIDERS", "SECTIONS", "command", "commands", "help_text", "lookup",
           "register"]
