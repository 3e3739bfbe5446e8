"""Where the observer's data comes from: running a function on a node's thread.

What this module owns: the one rule every observer read follows, "take the
snapshot on the node's thread, between slices" (vm/_snapshot.py).

- Inside a process of the node (the shell's evaluations, a program that
  observes itself), the snapshot is taken right there: the caller is the
  running process and nothing else moves.
- From another thread (the live `top` view, a notebook, a test), the
  function is posted to the node with `Node.post` and the caller waits for
  the answer. The node serves it between two slices.

`use_node(node)` sets the node that calls from outside a process mean when
they pass no `node=` (the shell sets it to its own node).

`in_process(fn)` runs `fn` inside a process, for reads that need one: a
`sys.get_state` or a `supervisor.which_children` is a call, and calls are
made by processes.

What it refuses: deciding what to read. Views and helpers do.
"""

from __future__ import annotations

from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

import vm
from vm.lowlevel import current_node, current_process, on_node_thread

_default = {"node": None}


def use_node(node) -> None:
    """Make `node` the default for observer calls made outside a process."""
    _default["node"] = node


def default_node():
    return _default["node"]


def _current():
    try:
        return current_process()
    except vm.NotInProcess:
        return None


def resolve_node(node=None):
    p = _current()
    if node is None:
        if p is not None:
            return current_node()
        node = _default["node"]
    if node is None:
        raise vm.VMError(
            "no node to observe: call this inside a process, pass node=, or call "
            "stdlib.observer.use_node(node) first"
        )
    return node


def on_node(fn, node=None, timeout=10.0):
    """Return `fn(node)`, run on the node's thread (see the module docstring)."""
    node = resolve_node(node)
    if on_node_thread(node):
        return fn(node)
    fut: Future = Future()

    def request():
        try:
            fut.set_result(fn(node))
        except BaseException as e:  # noqa: BLE001 - handed to the waiting thread
            fut.set_exception(e)

    node.post(request)
    try:
        return fut.result(timeout)
    except FutureTimeout:
        raise TimeoutError(
            f"the node did not answer within {timeout} s; is a process holding the scheduler "
            "in a long slice?"
        ) from None


def pause(seconds) -> None:
    """Wait `seconds`: with `vm.sleep` inside a process (the node goes on, and a
    virtual clock just moves), else with `time.sleep` (another thread)."""
    if _current() is not None:
        vm.sleep(seconds)
    else:
        import time

        time.sleep(seconds)


def in_process(fn, *args, node=None, timeout=10.0):
    """Return `fn(*args)` run inside a process of the node (the caller, if it is one)."""
    p = _current()
    if p is not None and (node is None or current_node() is node):
        return fn(*args)
    node = resolve_node(node)
    return node.call(fn, *args, timeout=timeout)
