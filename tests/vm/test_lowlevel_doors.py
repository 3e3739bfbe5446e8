"""vm.lowlevel's doors into a node, for tools that run beside its processes
(the shell, the observer, notebooks): each one, from inside a process, from
between slices, and from another thread where it says so."""

import threading
import time

import pytest

import vm
from vm import lowlevel
from vm.testing import run


def test_doors_inside_a_process():
    def main():
        me = vm.self()
        vm.register("main", me)
        node = lowlevel.current_node()
        assert lowlevel.on_node_thread(node)
        assert lowlevel.whereis("main") == me and lowlevel.whereis("nobody") is None
        assert lowlevel.registered_name(me) == "main"
        assert lowlevel.is_alive(me)
        assert lowlevel.parse_pid(repr(me), node) == me
        assert lowlevel.node_now() == pytest.approx(vm.monotonic(), abs=0.1)
        victim = vm.spawn(lambda: vm.receive())
        ref = vm.monitor(victim)
        assert lowlevel.kill(victim, "because")
        assert vm.receive(("DOWN", ref, vm.ANY, vm.ANY, vm.ANY))[4] == "because"
        assert not lowlevel.kill(victim) and not lowlevel.is_alive(victim)
        orphan = lowlevel.spawn_system(lambda: vm.receive())
        assert vm.process_info(orphan, "parent") is None
        assert vm.process_info(me, "links") == []
        with pytest.raises(vm.BadArg):
            lowlevel.is_alive("<0.1.0>")
        return True

    assert vm.run(main)


def test_park_and_wake():
    log = []

    def sleeper():
        vm.send(vm.self(), "queued while parked")
        lowlevel.park()
        log.append(("woke", vm.process_info(vm.self(), "message_queue_len")))

    def main():
        p = vm.spawn(sleeper)
        vm.sleep(0.01)
        assert vm.process_info(p, "status") == "waiting"
        assert lowlevel.wake(p)
        assert not lowlevel.wake(p)  # runnable now: not parked
        vm.sleep(0.01)
        return log

    assert vm.run(main, clock="virtual") == [("woke", 1)]


def test_instruments_from_another_thread():
    seen = []

    class Exits(vm.Instrument):
        def exit(self, pid, reason):
            seen.append(reason)

    with vm.Node() as node:
        inst = Exits()
        lowlevel.add_instrument(inst, node=node)
        assert not lowlevel.on_node_thread(node)
        node.spawn(lambda: vm.exit("bye"))
        deadline = time.time() + 5
        while "bye" not in seen and time.time() < deadline:
            time.sleep(0.01)
        assert lowlevel.remove_instrument(inst, node=node)
        assert not lowlevel.remove_instrument(inst, node=node)
    assert "bye" in seen


def test_interrupt_lands_when_a_c_call_returns():
    class Stop(Exception):
        pass

    started = threading.Event()
    result = {}

    def blocker():
        started.set()
        try:
            time.sleep(0.6)  # a C call: no reduction check can preempt it
            result["finished"] = True
        except Stop:
            result["stopped"] = True

    with vm.Node() as node:
        pid = node.spawn(blocker)
        started.wait(5)
        time.sleep(0.1)
        assert lowlevel.interrupt(pid, Stop, node=node)
        deadline = time.time() + 5
        while not result and time.time() < deadline:
            time.sleep(0.01)
        other = node.spawn(lambda: vm.receive())
        assert not lowlevel.interrupt(other, Stop, node=node)  # not running now
    assert result == {"stopped": True}


def test_compile_checked_preempts_top_level_loops():
    code = lowlevel.compile_checked("n = 0\nwhile n < 100_000:\n    n += 1\n", "<typed>")
    ns = {}
    ticks = []

    def other():
        for _ in range(3):
            ticks.append(len(ticks))
            vm.sleep(0)

    def main():
        vm.spawn(other)
        exec(code, ns)
        return ns["n"]

    assert vm.run(main, seed=1) == 100_000
    assert ticks == [0, 1, 2]  # the other process ran while the loop did


def test_measure_memory_bypasses_the_cache_and_counts_what_is_cached():
    def main():
        box = vm.spawn(lambda: vm.receive("never"))
        idle = vm.spawn(lambda: vm.receive("never"))
        for i in range(200):
            vm.send(box, ("msg", i, bytes(100)))
        vm.sleep(0)
        assert lowlevel.node_of(lowlevel.current_process()) is lowlevel.current_node()
        est, visits = lowlevel.measure_memory(box)
        exact, exact_visits = lowlevel.measure_memory(box, exact=True)
        before = lowlevel.memory_estimates_cached()
        small = vm.process_info(idle, "memory")  # the cached path fills the cache
        after = lowlevel.memory_estimates_cached()
        vm.exit(box, "kill")
        vm.sleep(0)
        with pytest.raises(vm.BadArg, match="not a live process"):
            lowlevel.measure_memory(box)
        return est, visits, exact, exact_visits, small, before, after

    est, visits, exact, exact_visits, small, before, after = run(main)
    assert est > 200 * 100 and exact > 200 * 100 and 0.8 < est / exact < 1.25
    assert visits > 0 and exact_visits >= visits
    assert 0 < small < est
    assert after == before + 1
