"""vm.testing.check_invariants catches a runtime whose bookkeeping disagrees with itself."""

import pytest

import vm
import vm.lowlevel
import vm.testing
from vm.testing import InvariantChecker, check_invariants, run


def test_a_healthy_node_holds_every_invariant_after_every_slice():
    checker = InvariantChecker()

    def worker(n):
        vm.process_flag("trap_exit", True)
        for _ in range(n):
            vm.receive(timeout=0.01)

    def main():
        vm.process_flag("trap_exit", True)
        pids = [vm.spawn_link(worker, 3) for _ in range(5)]
        for p in pids:
            vm.monitor(p)
            vm.send(p, "hello")
        vm.send_after(0.05, vm.self(), "tick")
        vm.exit(pids[0], "kill")
        vm.receive("tick")
        check_invariants(vm.lowlevel.current_node())
        return len(pids)

    assert run(main, instruments=[checker]) == 5
    assert checker.slices > 10 and checker.violations == []


@pytest.mark.parametrize("corrupt, words", [
    ("one_sided_link", "does not link back"),
    ("stray_monitor", "does not list it"),
    ("low_counter", "n_low"),
    ("queued_twice", "queued 2 times"),
])
def test_broken_bookkeeping_is_named(corrupt, words):
    def main():
        node = vm.testing.runtime()
        other = vm.spawn(vm.receive)
        p = node.procs[other.id]
        me = vm.lowlevel.current_process()
        if corrupt == "one_sided_link":
            me.links = {other}
        elif corrupt == "stray_monitor":
            ref = vm.make_ref()
            me.monitors = {ref.id: (other, other, ref)}
        elif corrupt == "low_counter":
            node.n_low += 1
        else:
            node.rq.append(p)  # already queued: it has not run yet
        try:
            check_invariants(node)
        except AssertionError as e:
            return str(e)
        finally:  # leave the node sane enough to stop
            me.links = me.monitors = None
            if corrupt == "low_counter":
                node.n_low -= 1
            elif corrupt == "queued_twice":
                node.rq.remove(p)
        return "no violation found"

    assert words in run(main)
