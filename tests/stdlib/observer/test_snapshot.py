"""vm/_snapshot.py: the process table, one process, the registry, the counters."""

import threading

import pytest

import vm
from vm.lowlevel import current_node, snapshot
from vm.testing import run


def idle():
    vm.receive()


def busy(n):
    vm.bump_reductions(n)
    vm.receive()


def test_top_n_by_reductions_without_sorting_everything():
    def main():
        for k in range(50):
            vm.spawn(busy, k * 10)
        vm.sleep(0)
        return snapshot.process_table(current_node(), sort="reductions", n=3)

    t = run(main)
    assert t.count == 51 and t.matched == 51 and len(t.rows) == 3
    reds = [r.reductions for r in t.rows]
    assert reds == sorted(reds, reverse=True)
    assert t.rows[1].reductions > 450  # the busiest workers, not the first ones
    assert t.sample is not None and t.window is None
    assert all(r.reductions_delta is None for r in t.rows)


def test_delta_since_an_earlier_sample_ranks_what_worked_in_between():
    def main():
        for _ in range(5):
            vm.spawn(idle)
        vm.sleep(0)
        node = current_node()
        first = snapshot.process_table(node, n=0)
        late = vm.spawn(busy, 3000)  # works only after the first look
        vm.sleep(1)
        return late, snapshot.process_table(node, sort="reductions_delta", n=2,
                                            since=first.sample)

    late, t = run(main)
    assert t.rows[0].pid == late
    assert t.rows[0].reductions_delta >= 3000
    assert t.window == pytest.approx(1.0)


def test_sort_keys_and_filters():
    def main():
        a = vm.spawn(idle)
        vm.register("alpha", a)
        b = vm.spawn(lambda: vm.sleep(10))
        for m in range(4):
            vm.send(b, m)
        vm.sleep(0)
        node = current_node()
        by_q = snapshot.process_table(node, sort="message_queue_len", n=1)
        by_name = snapshot.process_table(node, sort="name", n=1)
        by_pid = snapshot.process_table(node, sort="pid", n=None)
        rev = snapshot.process_table(node, sort="pid", n=1, reverse=True)
        matched = snapshot.process_table(node, match="ALPHA", n=10)
        waiting = snapshot.process_table(node, status="waiting", n=10)
        running = snapshot.process_table(node, status="running", n=10)
        return a, b, by_q, by_name, by_pid, rev, matched, waiting, running

    a, b, by_q, by_name, by_pid, rev, matched, waiting, running = run(main)
    assert by_q.rows[0].pid == b and by_q.rows[0].message_queue_len == 4
    assert by_name.rows[0].name == "alpha"
    assert [r.pid.id for r in by_pid.rows] == sorted(r.pid.id for r in by_pid.rows)
    assert rev.rows[0].pid == b
    assert [r.pid for r in matched.rows] == [a] and matched.matched == 1 and matched.count == 3
    assert {r.pid for r in waiting.rows} == {a, b}
    assert len(running.rows) == 1 and running.rows[0].status == "running"


def test_rows_carry_the_columns_the_observer_shows():
    def named_worker():
        vm.process_flag("label", ("worker", 7))
        vm.receive()

    def main():
        p = vm.spawn(named_worker)
        vm.sleep(0)
        rows = snapshot.process_table(current_node(), sort="pid", n=None).rows
        return p, rows

    p, rows = run(main)
    row = next(r for r in rows if r.pid == p)
    assert row.label == ("worker", 7)
    assert row.initial_call[1].endswith("named_worker")
    assert row.current_function[1].endswith("named_worker")
    assert row.status == "waiting" and row.priority == "normal"
    assert 4096 < row.memory < 20000


def test_bad_arguments():
    def main():
        node = current_node()
        for kw in ({"sort": "cpu"}, {"n": -1}, {"status": "sleeping"}):
            with pytest.raises(vm.BadArg):
                snapshot.process_table(node, **kw)
        with pytest.raises(vm.BadArg):
            snapshot.process_detail(node, "<0.1.0>")
        return True

    assert run(main)


def test_detail_copies_messages_and_reads_everything():
    def main():
        p = vm.spawn(lambda: vm.sleep(10))
        vm.link(p)
        msgs = [["payload", k] for k in range(30)]
        for m in msgs:
            vm.send(p, m)
        vm.sleep(0)
        node = current_node()
        d = snapshot.process_detail(node, p)
        all_ = snapshot.process_detail(node, p, messages=None)
        none = snapshot.process_detail(node, p, messages=0)
        d.messages[0].append("mutated")  # a copy: the mailbox is untouched
        again = snapshot.process_detail(node, p, messages=1)
        return p, d, all_, none, again

    p, d, all_, none, again = run(main)
    assert d.message_queue_len == 30 and len(d.messages) == 20
    assert len(all_.messages) == 30 and none.messages == []
    assert again.messages == [["payload", 0]]
    assert d.links and d.status == "waiting" and d.state == "waiting"
    assert d.memory > 4096 and d.stacktrace and d.timers == 0


def test_detail_of_a_dead_process_is_none():
    def main():
        pid, ref = vm.spawn_monitor(lambda: None)
        vm.receive(("DOWN", ref, vm.ANY, vm.ANY, vm.ANY))
        return snapshot.process_detail(current_node(), pid)

    assert run(main) is None


def hog_then_sleep(n):
    vm.bump_reductions(n)
    vm.sleep(100)


def test_registered_and_system_and_rates():
    def main():
        vm.register("me", vm.self())
        node = current_node()
        regs = snapshot.registered(node)
        a = snapshot.system(node)
        worker = vm.spawn(hog_then_sleep, 5000)
        for k in range(10):
            vm.send(worker, k)
        vm.sleep(2)
        b = snapshot.system(node)
        return regs, a, b, snapshot.rates(a, b)

    regs, a, b, r = run(main)
    assert [x.name for x in regs] == ["me"]
    assert b.processes == 2 and b.message_queue_total == 10 and b.clock == "virtual"
    assert r["seconds"] == pytest.approx(2.0)
    assert r["reductions_per_s"] >= 2500
    assert r["messages_per_s"] == pytest.approx(5.0)  # 10 delivered in 2 s
    assert r["utilization"] is None  # virtual clock
    assert b.memory_processes > 8000


def test_call_later_runs_on_the_node_and_can_be_cancelled():
    fired = []

    def main():
        node = current_node()
        snapshot.call_later(node, 1.0, lambda: fired.append(vm.lowlevel.current_node))
        cancel = snapshot.call_later(node, 1.0, lambda: fired.append("cancelled"))
        cancel()
        snapshot.call_later(node, 0.5, lambda: 1 / 0)  # logged, never raised
        vm.sleep(2)
        return len(fired)

    import vm.lowlevel

    assert run(main) == 1


def test_snapshots_refuse_the_wrong_thread():
    with vm.Node() as node:
        with pytest.raises(vm.VMError, match="node's thread"):
            snapshot.process_table(node)
        done = threading.Event()
        out = []

        def take():
            out.append(snapshot.process_table(node, n=1))
            done.set()

        node.post(take)
        assert done.wait(5)
        assert out[0].count == 0
