"""task_supervisor: Elixir's Task.Supervisor: tasks started under a supervisor.

What this module owns: starting task processes as children of a
DynamicSupervisor (dynamic_supervisor.py), so that they show up in the
supervision tree, are shut down with it, and can be capped with
`max_children`. The task protocol itself (handshake, reply to a monitor
alias, await/yield/shutdown, the stream engine) is task.py's.

    call                                  the task is ...
    ------------------------------------------------------------------------
    start_link(name=..., max_children=...)   (a DynamicSupervisor: ("ok", pid))
    start_child(sup, fn, *args)           a supervised fire-and-forget task;
                                          ("ok", pid) | ("error", "max_children")
    async_(sup, fn, *args)                linked to the caller, awaited with
                                          task.await_ / yield_ / shutdown
    async_nolink(sup, fn, *args)          not linked: a crash reaches the caller
                                          only as ("exit", reason) / an await exit
    async_stream(sup, items, fn, ...)     task.async_stream's engine, linked tasks
    async_stream_nolink(sup, items, fn)   the same, not linked (crashes read
                                          ("exit", reason))
    children(sup), terminate_child(sup, pid)

Every task is a `temporary` child with a 5 s shutdown by default (Elixir's
defaults); `start_child` also accepts `restart="transient"` or
`"permanent"`. The supervisor is the task's ancestor, the caller its caller
(`"$callers"`). A supervised task waits at most 5 s for its owner's
handshake and gives up if the owner dies first, as Elixir's do.

When `max_children` tasks are running, `async_`/`async_nolink` and the
streams raise `RuntimeError` (Elixir raises too); `start_child` returns
`("error", "max_children")`.

What it refuses: restart strategies (a DynamicSupervisor is one_for_one),
and tasks with a name.
"""

from __future__ import annotations

import vm

from . import dynamic_supervisor, proc_lib, task

__all__ = [
    "async_",
    "async_nolink",
    "async_stream",
    "async_stream_nolink",
    "child_spec",
    "children",
    "start_child",
    "start_link",
    "terminate_child",
]

DEFAULT_SHUTDOWN = 5.0
_MAX_CHILDREN = (
    "reached the maximum number of tasks for this task supervisor. The maximum number of "
    "tasks that are allowed to run at the same time under this supervisor can be configured "
    "with the max_children option passed to task_supervisor.start_link; when using "
    "async_stream or async_stream_nolink, keep max_concurrency at or below max_children"
)


def start_link(*, name=None, max_children=None, max_restarts=3, max_seconds=5, timeout=None):
    """Start a task supervisor linked to the caller; ("ok", pid)."""
    return dynamic_supervisor.start_link(name=name, max_children=max_children,
                                         max_restarts=max_restarts, max_seconds=max_seconds,
                                         timeout=timeout)


def child_spec(**options) -> dict:
    """A spec to run a task supervisor under another supervisor (options as start_link)."""
    spec = dynamic_supervisor.child_spec(**options)
    spec["id"] = options.get("name") or vm.Atom("task_supervisor")
    return spec


def _start_task(owner, callers, fn, args, handshake):
    """The child start function: runs in the supervisor, links the task to it."""
    return ("ok", proc_lib.spawn_link(task.task_main, owner, callers, fn, args, handshake))


def _check_shutdown(shutdown, what):
    if shutdown == "brutal_kill" or shutdown is None:
        return
    if isinstance(shutdown, bool) or not isinstance(shutdown, (int, float)) or shutdown < 0:
        raise vm.BadArg(f"task_supervisor.{what}: shutdown must be seconds >= 0, None "
                        f"(infinity) or 'brutal_kill', not {shutdown!r}")


def _start(sup, fn, args, handshake, restart, shutdown, what):
    if not callable(fn):
        raise vm.BadArg(f"task_supervisor.{what} needs a function to run, not {fn!r}")
    _check_shutdown(shutdown, what)
    spec = {"id": None, "start": (_start_task, (vm.self(), task.callers(), fn, tuple(args),
                                                handshake)),
            "restart": restart, "shutdown": shutdown, "type": "worker",
            "modules": [getattr(fn, "__module__", None) or "?"]}
    return dynamic_supervisor.start_child(sup, spec)


def start_child(sup, fn, *args, restart="temporary", shutdown=DEFAULT_SHUTDOWN):
    """Start `fn(*args)` as a supervised task, for its side effects; ("ok", pid)."""
    if restart not in ("temporary", "transient", "permanent"):
        raise vm.BadArg(f"task_supervisor.start_child: restart must be 'temporary', "
                        f"'transient' or 'permanent', not {restart!r}")
    return _start(sup, fn, args, None, restart, shutdown, "start_child")


def _async(sup, fn, args, link, shutdown, what):
    r = _start(sup, fn, args, "monitor", "temporary", shutdown, what)
    if type(r) is tuple and r[0] == "ok":
        return task.attach(r[1], fn, len(args), link)
    if r == ("error", "max_children"):
        raise RuntimeError(_MAX_CHILDREN)
    raise vm.Exit(("failed_to_start_task", r))


def async_(sup, fn, *args, shutdown=DEFAULT_SHUTDOWN):
    """Run `fn(*args)` under `sup`, linked to the caller; a task for task.await_."""
    return _async(sup, fn, args, True, shutdown, "async_")


def async_nolink(sup, fn, *args, shutdown=DEFAULT_SHUTDOWN):
    """Run `fn(*args)` under `sup`, not linked: the caller survives a crash, which
    task.yield_ reports as ("exit", reason) (or a gen_server sees as a DOWN)."""
    return _async(sup, fn, args, False, shutdown, "async_nolink")


def _stream(sup, iterable, fn, link, shutdown, what, options):
    if not callable(fn):
        raise vm.BadArg(f"task_supervisor.{what} needs a function to run, not {fn!r}")
    _check_shutdown(shutdown, what)
    opts = task.check_stream_options(what, iterable, **options)

    def spawn(fn, item):
        r = _start(sup, fn, (item,), "monitor", "temporary", shutdown, what)
        if not (type(r) is tuple and r[0] == "ok"):
            if r == ("error", "max_children"):
                raise RuntimeError(_MAX_CHILDREN)
            raise vm.Exit(("failed_to_start_task", r))
        if link:
            vm.link(r[1])
        return r[1], link

    return task.stream(iterable, fn, opts, spawn)


def async_stream(sup, iterable, fn, *, max_concurrency=task.DEFAULT_MAX_CONCURRENCY,
                 ordered=True, timeout=task.DEFAULT_TIMEOUT, on_timeout="exit",
                 zip_input_on_exit=False, shutdown=DEFAULT_SHUTDOWN):
    """task.async_stream with the tasks under `sup` (and linked to the caller)."""
    return _stream(sup, iterable, fn, True, shutdown, "async_stream",
                   dict(max_concurrency=max_concurrency, ordered=ordered, timeout=timeout,
                        on_timeout=on_timeout, zip_input_on_exit=zip_input_on_exit))


def async_stream_nolink(sup, iterable, fn, *, max_concurrency=task.DEFAULT_MAX_CONCURRENCY,
                        ordered=True, timeout=task.DEFAULT_TIMEOUT, on_timeout="exit",
                        zip_input_on_exit=False, shutdown=DEFAULT_SHUTDOWN):
    """As async_stream, not linked: a crashing task yields ("exit", reason)."""
    return _stream(sup, iterable, fn, False, shutdown, "async_stream_nolink",
                   dict(max_concurrency=max_concurrency, ordered=ordered, timeout=timeout,
                        on_timeout=on_timeout, zip_input_on_exit=zip_input_on_exit))


def children(sup):
    """The pids of the tasks running under `sup`."""
    return [pid for _id, pid, _t, _m in dynamic_supervisor.which_children(sup)
            if isinstance(pid, vm.Pid)]


def terminate_child(sup, pid):
    """Shut one task down (its shutdown setting applies); "ok" or ("error", "not_found")."""
    return dynamic_supervisor.terminate_child(sup, pid)
