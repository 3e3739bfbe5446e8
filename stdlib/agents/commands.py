"""Command tools: a tool that runs an external program as a port.

What this module owns: tools whose work is a command line, for programs that
must stop when the call stops (a search over a large tree, a compiler, a
script that may hang):

    grep_notes = command_tool(
        "grep_notes", ["grep", "-r", "-i", "-m", "20", "--", "{pattern}", "notes/"],
        description="Search the notes with grep.", timeout=10)

The call's process opens the command as a port (`vm.port`): the port is
linked to it, so when the call ends, times out, is cancelled, or its agent
is killed, the command is killed with everything it started (its process
group). Nothing runs on a thread.

- **No shell.** `argv` is a list run as is. `{name}` in an element is
  replaced by the argument `name` (so `"--query={q}"` works); nothing in an
  argument is interpreted, but a program may read an argument that starts
  with `-` as an option: put `--` before positional ones, as above.
- **Parameters** are the placeholders, all required strings, unless
  `parameters` (a JSON Schema with type "object") says otherwise; every
  placeholder must be a parameter.
- **The result** is what the command wrote (stdout and stderr merged),
  decoded as UTF-8; an exit status other than 0 is a tool error whose text
  ends with the tail of the output, so the model sees why.

What it refuses: interactive programs (nothing is written to stdin) and
shells (pass `["sh", "-c", ...]` yourself if you must, knowing what it does).
"""

from __future__ import annotations

import string

import vm

from .options import seconds

__all__ = ["CommandFailed", "command_tool", "run_command"]

MAX_OUTPUT = 1 << 20  # bytes kept from a command's output


class CommandFailed(Exception):
    """A command tool's program exited with a status other than 0."""


def command_tool(name, argv, *, description="", parameters=None, timeout=30.0,
                 policy="error", cwd=None, env=None, approval=None, on_interrupted=None) -> dict:
    """A tool spec for the command line `argv` (see the module docstring)."""
    from .tools import POLICIES, check_tool_name

    check_tool_name(name)
    if not isinstance(argv, (list, tuple)) or not argv or \
            not all(isinstance(a, str) for a in argv):
        raise vm.BadArg(f"command tool {name!r}: argv must be a non-empty list of str")
    holes = []
    for part in argv:
        for _text, field, _spec, _conv in string.Formatter().parse(part):
            if field is not None:
                if not field.isidentifier():
                    raise vm.BadArg(f"command tool {name!r}: placeholder {{{field}}} must be a "
                                    "parameter name")
                holes.append(field)
    if parameters is None:
        parameters = {"type": "object", "additionalProperties": False,
                      "properties": {h: {"type": "string"} for h in dict.fromkeys(holes)},
                      "required": list(dict.fromkeys(holes))}
    elif type(parameters) is not dict or parameters.get("type") != "object":
        raise vm.BadArg(f"command tool {name!r}: parameters must be a JSON Schema with type "
                        "'object'")
    missing = [h for h in holes if h not in (parameters.get("properties") or {})]
    if missing:
        raise vm.BadArg(f"command tool {name!r}: placeholders {missing} are not parameters")
    if policy not in POLICIES:
        raise vm.BadArg(f"command tool {name!r}: policy must be one of {POLICIES}")
    if env is not None and (type(env) is not dict or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in env.items())):
        raise vm.BadArg(f"command tool {name!r}: env must map str to str")
    if approval is not None and not isinstance(approval, bool) and not callable(approval):
        raise vm.BadArg(f"command tool {name!r}: approval must be True, False or a function")
    if on_interrupted not in (None, "report", "retry"):
        raise vm.BadArg(f"command tool {name!r}: on_interrupted must be 'report' or 'retry'")
    return {"name": name, "description": description or f"Run {argv[0]}.",
            "parameters": parameters, "fn": run_command,
            "command": {"argv": list(argv), "cwd": cwd, "env": env},
            "timeout": seconds(f"tool {name!r} timeout", timeout), "policy": policy,
            "blocking": "port", "approval": approval, "on_interrupted": on_interrupted}


def run_command(command, args) -> str:
    """Run the command with `args` filled in, as a port of the calling process."""
    argv = [part.format_map({k: str(v) for k, v in args.items()}) for part in command["argv"]]
    port = vm.port(argv, mode="stream", cwd=command["cwd"], env=command["env"],
                   stderr="stdout")
    out, size = [], 0
    while True:
        _, event = vm.receive((port, vm.ANY))
        if type(event) is tuple and event[0] == "data":
            if size < MAX_OUTPUT:
                out.append(event[1])
                size += len(event[1])
        elif type(event) is tuple and event[0] == "exit_status":
            status = event[1]
            break
        elif event == "closed":
            status = None
            break
    text = b"".join(out)[:MAX_OUTPUT].decode("utf-8", "replace")
    if status != 0:
        raise CommandFailed(f"{argv[0]} exited with status {status}: {text[-2000:]}")
    return text
