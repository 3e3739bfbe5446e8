"""A process's memory: one estimate, what it counts, and what it costs.

The cost tests count `sys.getsizeof` calls (every way of measuring a Python
object goes through it) instead of timing anything.
"""

import sys

import pytest

import vm
from stdlib import gen_server
from vm.lowlevel import current_node, snapshot, term_size
from vm.testing import run

MB = 1 << 20


def idle():
    vm.receive()


def holder(n):
    data = list(range(n))  # noqa: F841 - held on purpose
    vm.receive()


class Store(gen_server.GenServer):
    def init(self, n):
        return ("ok", [str(i) for i in range(n)])

    def handle_call(self, request, from_, state):
        return ("reply", len(state), state)

    def handle_cast(self, n, state):
        return ("noreply", state + [str(i) for i in range(n)])


@pytest.fixture
def count_sizeof(monkeypatch):
    calls = [0]
    real = sys.getsizeof

    def counting(*args):
        calls[0] += 1
        return real(*args)

    monkeypatch.setattr(sys, "getsizeof", counting)
    return calls


def test_a_process_holding_a_big_list_ranks_first_by_memory():
    def main():
        small = [vm.spawn(idle) for _ in range(20)]
        big = vm.spawn(holder, 1_000_000)
        vm.sleep(0)
        table = snapshot.process_table(current_node(), sort="memory", n=3)
        return big, small, table.rows, vm.process_info(big, "memory")

    big, small, rows, mem = run(main)
    assert rows[0].pid == big
    assert rows[0].memory == mem  # the table and process_info agree
    assert mem > 30 * MB  # a 1M-element list of ints is ~36 MB in CPython
    assert all(r.memory < 64 * 1024 for r in rows[1:])


def test_a_gen_servers_state_counts():
    def main():
        _, a = gen_server.start(Store, 10)
        _, b = gen_server.start(Store, 100_000)
        rows = snapshot.process_table(current_node(), sort="memory", n=2).rows
        return vm.process_info(a, "memory"), vm.process_info(b, "memory"), b, rows

    a, b, b_pid, rows = run(main)
    assert b - a > 100_000 * 50  # 100,000 short strings and the list holding them
    assert rows[0].pid == b_pid and rows[0].memory == b


def test_every_view_of_memory_gives_the_same_figure():
    def main():
        _, srv = gen_server.start(Store, 5000)
        pids = [srv, vm.spawn(holder, 10_000), vm.spawn(lambda: vm.receive("never"))]
        vm.send(pids[2], "queued")
        vm.sleep(0)
        node = current_node()
        info = [vm.process_info(p, "memory") for p in pids]
        words = [vm.process_info(p, "total_heap_size") for p in pids]
        rows = {r.pid: r.memory for r in snapshot.process_table(node, sort="pid", n=None).rows}
        detail = [snapshot.process_detail(node, p).memory for p in pids]
        total = snapshot.system(node).memory_processes
        return info, words, [rows[p] for p in pids], detail, total, sum(rows.values())

    info, words, rows, detail, total, row_sum = run(main)
    assert info == rows == detail
    assert words == [m // 8 for m in info]
    assert abs(total - row_sum) < 16 * 1024  # only the caller's own locals changed between


def test_memory_follows_the_state_as_it_changes():
    def main():
        _, srv = gen_server.start(Store, 10)
        before = vm.process_info(srv, "memory")
        gen_server.cast(srv, 50_000)
        gen_server.call(srv, "sync")
        return before, vm.process_info(srv, "memory")

    before, after = run(main)
    assert after - before > 50_000 * 50


def test_memory_counts_what_objects_closures_and_methods_reach():
    class Box:
        def __init__(self, items):
            self.items = items

    def holds_object():
        box = Box(list(range(100_000)))  # noqa: F841
        vm.receive()

    def make_closure():
        items = list(range(100_000))
        return lambda: items

    def holds_closure():
        f = make_closure()  # noqa: F841
        vm.receive()

    def holds_method():
        append = list(range(100_000)).append  # noqa: F841
        vm.receive()

    def main():
        base = vm.spawn(idle)
        pids = [vm.spawn(f) for f in (holds_object, holds_closure, holds_method)]
        vm.sleep(0)
        floor = vm.process_info(base, "memory")
        return [vm.process_info(p, "memory") - floor for p in pids]

    for extra in run(main):
        assert extra > 100_000 * 8


def test_measuring_a_huge_mailbox_reads_a_sample(count_sizeof):
    n = 100_000

    def main():
        pid = vm.spawn(lambda: vm.receive("never"))
        for i in range(n):
            vm.send(pid, ("msg", i + 1000, bytes(100 + i % 7)))
        count_sizeof[0] = 0
        mem = vm.process_info(pid, "memory")
        return mem, count_sizeof[0]

    mem, calls = run(main)
    assert calls < 5_000  # not one per message
    real = sys.getsizeof
    one = real(("msg", 1, 2)) + real(10_000) + real(bytes(103))  # per message, exactly
    assert 0.8 * n * one < mem < 1.25 * n * one + 2 * MB


def test_max_heap_size_checks_stay_cheap(count_sizeof):
    def worker(parent):
        vm.process_flag("max_heap_size", 100_000_000)
        data = [str(i) for i in range(50_000)]  # noqa: F841
        count_sizeof[0] = 0
        for _ in range(40):
            vm.sleep(0)  # each ends a slice, and a slice end checks max_heap_size
        vm.send(parent, count_sizeof[0])

    def main():
        vm.spawn(worker, vm.self())
        return vm.receive()

    assert run(main) < 40 * 1000  # a whole walk per slice would be 40 * 50,000


def test_max_heap_size_still_kills_a_growing_process():
    def grower():
        vm.process_flag("max_heap_size", 2_000_000)  # 16 MB
        data = []
        while True:
            data.append([str(i) for i in range(10_000)])
            vm.sleep(0)

    def main():
        pid, ref = vm.spawn_monitor(grower)
        return vm.receive(("DOWN", ref, vm.ANY, vm.ANY, vm.ANY))[4]

    assert run(main) == "killed"


def test_messages_of_a_long_queue_are_copied_over_several_slices():
    def spinner():
        n = 0
        while True:
            n += 1

    def main():
        pid = vm.spawn(lambda: vm.receive("never"))
        for i in range(50_000):
            vm.send(pid, ("msg", i))
        spin = vm.spawn(spinner)
        vm.sleep(0)
        before = vm.process_info(spin, "reductions")
        msgs = vm.process_info(pid, "messages")
        after = vm.process_info(spin, "reductions")
        vm.exit(spin, "kill")
        return len(msgs), msgs[:2], msgs[-1], after - before

    n, first, last, spun = run(main)
    assert (n, first, last) == (50_000, [("msg", 0), ("msg", 1)], ("msg", 49_999))
    assert spun > 0  # the spinner ran while the messages were copied


def test_messages_are_those_queued_when_asked():
    def main():
        pid = vm.spawn(lambda: vm.receive("never"))
        for i in range(20_000):
            vm.send(pid, i)

        def late():
            vm.send(pid, "late")

        vm.spawn(late)
        return vm.process_info(pid, "messages")

    msgs = run(main)
    assert msgs == list(range(20_000))


class _Box:
    def __init__(self, items):
        self.items = items


def _tree(depth):
    return {"left": _tree(depth - 1), "right": _tree(depth - 1), "v": depth * 1000} if depth \
        else ("leaf", depth + 1000)


@pytest.mark.parametrize("make, low, high", [
    (lambda: list(range(300_000)), 0.98, 1.02),
    (lambda: {f"k{i}": {f"f{j}": j * 1000 + i for j in range(50)} for i in range(1000)},
     0.85, 1.15),
    (lambda: _tree(14), 0.7, 1.3),
    (lambda: _Box([str(i) for i in range(200_000)]), 0.95, 1.05),
    (lambda: [("msg", i + 1000, str(i)) for i in range(200_000)], 0.9, 1.1),
], ids=["flat list", "dict of dicts", "deep tree", "object holding a list", "list of tuples"])
def test_term_size_estimate_is_close_to_the_exact_walk(make, low, high, count_sizeof):
    x = make()
    exact = term_size(x, exact=True)
    count_sizeof[0] = 0
    est = term_size(x)
    assert count_sizeof[0] < 12_000
    assert low * exact <= est <= high * exact


def test_messages_sent_with_a_trace_token_are_shown_and_counted():
    from vm.lowlevel import set_trace_token

    def main():
        pid = vm.spawn(lambda: vm.receive("never"))
        set_trace_token(("trace", 1))
        for i in range(40):  # more than a sample: the mailbox is sampled too
            vm.send(pid, ("msg", i, "x" * 10_000))
        set_trace_token(None)
        return vm.process_info(pid, "messages"), vm.process_info(pid, "memory")

    msgs, mem = run(main)
    assert msgs == [("msg", i, "x" * 10_000) for i in range(40)]
    assert mem > 40 * 10_000
