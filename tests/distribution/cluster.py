"""A beamlet node with distribution started, run on a background thread for a test."""

from __future__ import annotations

import contextlib
import queue
import time

import vm
from vm import dist


def _collect(name, q):
    vm.register(name, vm.self())
    q.put(("registered", name))
    while True:
        q.put(vm.receive())


class PyNode:
    def __init__(self, name: str, cookie, epmd_port: int, **opts):
        self.node = vm.Node().start()
        try:
            self.name = self.node.call(
                lambda: dist.start(name, cookie=cookie, epmd_port=epmd_port, **opts), timeout=30)
        except BaseException:
            self.node.stop()
            raise

    def call(self, fn, *args, timeout: float = 20.0):
        return self.node.call(fn, *args, timeout=timeout)

    def whereis(self, name: str):
        """The pid registered as `name`, as other nodes see it (with this node's name)."""
        from vm.dist.codec import decode

        return self.call(lambda: decode(dist.current().make_encoder().encode(vm.whereis(name))))

    def spawn_registered(self, name: str, body):
        """Spawn `body()` registered as `name`; return its pid as other nodes see it."""

        def proc():
            vm.register(name, vm.self())
            body()

        self.node.spawn(proc)
        assert wait_for(lambda: self.call(lambda: vm.whereis(name)) is not None)
        return self.whereis(name)

    def inbox(self, name: str) -> queue.Queue:
        """A process registered as `name` that puts every message it gets in the returned queue."""
        q: queue.Queue = queue.Queue()
        self.node.spawn(lambda: _collect(name, q))
        assert q.get(timeout=10) == ("registered", name)
        return q

    def close(self):
        with contextlib.suppress(Exception):  # the node may be gone already
            self.node.call(dist.stop, timeout=10)
        self.node.stop(timeout=10)


def get(q, timeout: float = 10.0):
    return q.get(timeout=timeout)


def wait_for(pred, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True
