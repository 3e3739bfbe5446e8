"""vm.lowlevel.set_priority and process_keys: what `beamlet fairness` uses to
prioritise and group processes of a workload it did not write."""

import pytest

import vm
import vm.lowlevel as lowlevel
import vm.testing


def test_set_priority_of_another_process():
    def main():
        worker = vm.spawn(lambda: vm.receive("go"))
        vm.sleep(0.001)
        old = lowlevel.set_priority(worker, "high")
        now = vm.process_info(worker, "priority")
        back = lowlevel.set_priority(worker, "low")
        with pytest.raises(vm.BadArg, match="priority must be one of"):
            lowlevel.set_priority(worker, "urgent")
        vm.send(worker, "go")
        vm.sleep(0.001)
        return old, now, back, lowlevel.set_priority(worker, "high")

    checker = vm.testing.InvariantChecker()
    assert vm.testing.run(main, instruments=[checker]) == ("normal", "high", "high", None)
    assert checker.violations == []


def test_a_queued_process_keeps_its_place_and_runs_at_the_new_level_after():
    order = []

    def hog(tag):
        for _ in range(3):
            order.append(tag)
            vm.sched_yield()

    def main():
        vm.spawn(hog, "a")
        b = vm.spawn(hog, "b")
        lowlevel.set_priority(b, "high")  # b is queued behind a: it keeps its place
        vm.sleep(0.01)

    vm.testing.run(main)
    assert order == ["a", "b", "b", "b", "a", "a"]


def test_process_keys_also_while_exiting():
    seen = []

    def main():
        def worker():
            vm.register("w", vm.self())
            vm.process_flag("label", ("job", 7))
            vm.process_flag("priority", "low")
            vm.receive("stop")

        lowlevel.add_exit_hook(lambda pid, reason: seen.append(lowlevel.process_keys(pid)))
        pid = vm.spawn(worker)
        vm.sleep(0.001)
        live = lowlevel.process_keys(pid)
        vm.send(pid, "stop")
        vm.sleep(0.001)
        return live, lowlevel.process_keys(pid), lowlevel.registered_name(pid)

    live, dead, name = vm.testing.run(main)
    keys = {"name": "w", "label": ("job", 7), "priority": "low"}
    assert live == keys and dead is None and name is None
    assert keys in seen
