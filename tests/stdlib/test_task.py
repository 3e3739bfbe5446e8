"""task: Elixir's Task semantics (async/await, yield, shutdown, await_many, async_stream)."""

import logging

import pytest

import vm
from stdlib import supervisor, task
from vm.testing import catch, run

ANY = vm.ANY


def down_reason(fn, *args):
    """Run fn in a fresh monitored process; its exit reason."""
    pid, ref = vm.spawn_monitor(fn, *args)
    return vm.receive(("DOWN", ref, ANY, ANY, ANY))[4]


def crash(msg="boom"):
    raise RuntimeError(msg)


# ----------------------------------------------------------------------
# async / await


def test_async_await_returns_the_result_and_leaves_nothing_behind():
    def main():
        t = task.async_(lambda a, b: a + b, 1, 2)
        linked = t["pid"] in vm.process_info(vm.self(), "links")
        r = task.await_(t)
        return r, linked, t["owner"] == vm.self(), t["__struct__"], vm.flush()

    assert run(main) == (3, True, True, "Task", [])


def test_task_records_callers_and_ancestors():
    def where():
        return vm.get("$callers"), vm.get("$ancestors"), vm.get("$initial_call")

    def middle(top):
        vm.put("$callers", [top])
        return task.await_(task.async_(where))

    def main():
        me = vm.self()
        t = task.async_(middle, me)
        callers, ancestors, initial = task.await_(t)
        return callers[1] == me and len(callers) == 2, ancestors[-1] == me, initial[1]

    assert run(main) == (True, True, "test_task_records_callers_and_ancestors.<locals>.where")


def test_await_timeout_exits_the_owner_and_the_linked_task_dies():
    def owner(parent):
        t = task.async_(vm.sleep, 10)
        vm.send(parent, t["pid"])
        task.await_(t, 0.5)

    def main():
        pid, ref = vm.spawn_monitor(owner, vm.self())
        tpid = vm.receive(vm.Pid)
        reason = vm.receive(("DOWN", ref, ANY, ANY, ANY))[4]
        return reason, vm.is_process_alive(tpid)

    reason, alive = run(main)
    assert reason[0] == "timeout" and reason[1][:2] == ("Task", "await")
    assert reason[1][2][1] == 0.5 and reason[1][2][0]["__struct__"] == "Task"
    assert alive is False


def test_late_reply_after_a_caught_timeout_is_dropped():
    def main():
        t = task.async_(lambda: (vm.sleep(1), "late")[1])
        r = catch(task.await_, t, 0.1)
        vm.sleep(2)
        return r[1][0], vm.flush()

    assert run(main) == ("timeout", [])


def test_only_the_owner_may_await():
    def main():
        t = task.async_(vm.sleep, 0.1)
        me = vm.self()

        def other():
            try:
                task.await_(t)
            except vm.BadArg as e:
                vm.send(me, str(e))

        vm.spawn(other)
        msg = vm.receive(str)
        return "must be queried from the owner" in msg, task.await_(t)

    assert run(main) == (True, None)


def test_task_crash_kills_a_non_trapping_owner_with_the_tasks_reason():
    def owner():
        t = task.async_(crash)
        task.await_(t)

    def main():
        return down_reason(owner)

    reason = run(main)
    assert isinstance(reason, vm.Crash) and reason.message == "boom"


def test_task_crash_with_a_trapping_owner_exits_await_with_the_reason():
    def main():
        vm.process_flag("trap_exit", True)
        t = task.async_(vm.exit, "oops")
        r = catch(task.await_, t)
        return r[0], r[1][0], r[1][1][:2], vm.receive(("EXIT", t["pid"], ANY), timeout=0)[2]

    assert run(main) == ("EXIT", "oops", ("Task", "await"), "oops")


def test_bad_arguments_are_named():
    def main():
        errs = []
        for call in (lambda: task.async_(42), lambda: task.await_("nope"),
                     lambda: task.await_(task.completed(1), -1),
                     lambda: task.shutdown(task.completed(1)),
                     lambda: task.async_stream([1], abs, max_concurrency=0),
                     lambda: task.async_stream([1], abs, on_timeout="ignore"),
                     lambda: task.async_stream(5, abs)):
            with pytest.raises(vm.BadArg) as e:
                call()
            errs.append(str(e.value))
        return errs

    errs = run(main)
    assert "needs a function" in errs[0]
    assert "task made by task.async_" in errs[1]
    assert "timeout must be seconds" in errs[2]
    assert "does not have an associated task process" in errs[3]
    assert "max_concurrency must be an int >= 1" in errs[4]
    assert "on_timeout must be 'exit' or 'kill_task'" in errs[5]
    assert "must be iterable" in errs[6]


def test_completed_task():
    def main():
        t = task.completed(42)
        return task.await_(t), t["pid"]

    assert run(main) == (42, None)


def test_crash_report_names_the_tasks_function(caplog):
    def main():
        vm.process_flag("trap_exit", True)
        t = task.async_(crash)
        return catch(task.await_, t)[1][0].exc_type

    with caplog.at_level(logging.ERROR, logger="beamlet.otp"):
        assert run(main) == "RuntimeError"
    [rep] = [r.report for r in caplog.records if getattr(r, "report", None)]
    assert rep["label"] == "crash_report" and rep["initial_call"][1] == "crash"
    assert "$callers" not in rep["dictionary"]


# ----------------------------------------------------------------------
# yield, shutdown, ignore


def test_yield_none_then_ok_and_exit():
    def main():
        vm.process_flag("trap_exit", True)
        t = task.async_(lambda: (vm.sleep(1), "done")[1])
        first = task.yield_(t, 0.5)
        second = task.yield_(t, 1)
        bad = task.async_(vm.exit, "oops")
        return first, second, task.yield_(bad)

    assert run(main) == (None, ("ok", "done"), ("exit", "oops"))


def test_shutdown_a_running_task():
    def main():
        t = task.async_(vm.sleep, 10)
        r = task.shutdown(t)
        return r, vm.is_process_alive(t["pid"]), vm.flush()

    assert run(main) == (None, False, [])


def test_shutdown_returns_a_reply_that_arrived_meanwhile():
    def main():
        t = task.async_(lambda: "done")
        vm.sleep(0.1)
        return task.shutdown(t), task.shutdown(task.async_(vm.sleep, 1), "brutal_kill")

    assert run(main) == (("ok", "done"), None)


def test_shutdown_reports_a_task_that_died_otherwise():
    def main():
        vm.process_flag("trap_exit", True)
        t = task.async_(vm.exit, "oops")
        vm.sleep(0.1)
        return task.shutdown(t)

    assert run(main) == ("exit", "oops")


def test_shutdown_kills_a_task_that_ignores_shutdown_after_the_timeout():
    def stubborn():
        vm.process_flag("trap_exit", True)
        vm.sleep(100)

    def main():
        t = task.async_(stubborn)
        vm.sleep(0.01)
        t0 = vm.monotonic()
        r = task.shutdown(t, 2)
        return r, round(vm.monotonic() - t0, 3)

    assert run(main) == (("exit", "killed"), 2)


def test_ignore_unlinks_and_drops_the_reply():
    def main():
        t = task.async_(lambda: (vm.sleep(1), "x")[1])
        r = task.ignore(t)
        linked = t["pid"] in vm.process_info(vm.self(), "links")
        vm.sleep(2)
        return r, linked, vm.flush()

    assert run(main) == (None, False, [])


# ----------------------------------------------------------------------
# await_many, yield_many


def test_await_many_in_order():
    def main():
        ts = [task.async_(lambda i=i: (vm.sleep(1.0 - i / 10), i)[1]) for i in range(5)]
        return task.await_many(ts), vm.flush()

    assert run(main) == ([0, 1, 2, 3, 4], [])


def test_await_many_exits_on_a_crash_or_timeout():
    def main():
        vm.process_flag("trap_exit", True)
        ts = [task.async_(vm.sleep, 1), task.async_(vm.exit, "oops")]
        crashed = catch(task.await_many, ts)
        slow = [task.async_(vm.sleep, 10)]
        timed = catch(task.await_many, slow, 0.5)
        return crashed[1][0], crashed[1][1][:2], timed[1][0]

    assert run(main) == ("oops", ("Task", "await_many"), "timeout")


def test_yield_many():
    def main():
        vm.process_flag("trap_exit", True)
        ts = [task.async_(lambda: 1), task.async_(vm.exit, "oops"), task.async_(vm.sleep, 10)]
        return [r for _t, r in task.yield_many(ts, 1)]

    assert run(main) == [("ok", 1), ("exit", "oops"), None]


# ----------------------------------------------------------------------
# start, start_link, child_spec


def test_start_and_start_link_fire_and_forget():
    def main():
        me = vm.self()
        ok, pid = task.start(vm.send, me, "hi")
        ok2, pid2 = task.start_link(vm.send, me, "linked")
        return (ok, ok2, vm.receive("hi"), vm.receive("linked"),
                pid2 in (vm.process_info(vm.self(), "links") or [pid2]))

    assert run(main) == ("ok", "ok", "hi", "linked", True)


def test_child_spec_runs_a_task_under_a_supervisor():
    def work(me):
        vm.send(me, ("ran", vm.get("$ancestors")[0]))

    def main():
        me = vm.self()
        ok, sup = supervisor.start_link_children([task.child_spec(lambda: work(me))])
        msg = vm.receive(("ran", ANY))
        return msg[1] == sup, task.child_spec(abs)["restart"]

    assert run(main) == (True, "temporary")


# ----------------------------------------------------------------------
# async_stream


def test_async_stream_ordered_results():
    def main():
        items = [0.3, 0.1, 0.2]
        return list(task.async_stream(items, lambda s: (vm.sleep(s), s)[1]))

    assert run(main) == [("ok", 0.3), ("ok", 0.1), ("ok", 0.2)]


def test_async_stream_unordered_results_come_as_they_finish():
    def main():
        items = [0.3, 0.1, 0.2]
        return list(task.async_stream(items, lambda s: (vm.sleep(s), s)[1], ordered=False))

    assert run(main) == [("ok", 0.1), ("ok", 0.2), ("ok", 0.3)]


class Gauge:
    """A process counting how many tasks run at once."""

    @staticmethod
    def loop():
        now = peak = 0
        while True:
            match vm.receive():
                case "in":
                    now += 1
                    peak = max(peak, now)
                case "out":
                    now -= 1
                case ("peak", who):
                    vm.send(who, ("peak", peak))


def test_async_stream_bounds_concurrency_and_is_lazy():
    def work(gauge, i):
        vm.send(gauge, "in")
        vm.sleep(0.1)
        vm.send(gauge, "out")
        return i

    def main():
        gauge = vm.spawn(Gauge.loop)
        started = []

        def items():
            for i in range(12):
                started.append(i)
                yield i

        stream = task.async_stream(items(), lambda i: work(gauge, i), max_concurrency=3)
        before = (list(started), len(vm.processes()))
        results = [v for _ok, v in stream]
        vm.send(gauge, ("peak", vm.self()))
        peak = vm.receive(("peak", ANY))[1]
        default = list(task.async_stream(range(25), lambda i: work(gauge, i)))
        vm.send(gauge, ("peak", vm.self()))
        return before, results, peak, vm.receive(("peak", ANY))[1], len(default)

    before, results, peak, default_peak, n = run(main)
    assert before == ([], 2)  # nothing started before the stream is read
    assert results == list(range(12)) and peak == 3
    assert default_peak == task.DEFAULT_MAX_CONCURRENCY == 10 and n == 25


def test_async_stream_timeout_exits_the_caller_and_kills_the_tasks():
    def consumer(parent):
        for r in task.async_stream([0.1, 5, 0.2], lambda s: (vm.sleep(s), s)[1], timeout=1):
            vm.send(parent, r)

    def main():
        pid, ref = vm.spawn_monitor(consumer, vm.self())
        reason = vm.receive(("DOWN", ref, ANY, ANY, ANY))[4]
        got = vm.flush()
        return reason, got, len(vm.processes())

    assert run(main) == (("timeout", ("Task.Supervised", "stream", (1,))),
                            [("ok", 0.1)], 1)


def test_async_stream_kill_task_and_zip_input():
    def main():
        items = [0.1, 5, 0.2]
        def fn(s):
            vm.sleep(s)
            return s
        killed = list(task.async_stream(items, fn, timeout=1, on_timeout="kill_task"))
        zipped = list(task.async_stream(items, fn, timeout=1, on_timeout="kill_task",
                                        zip_input_on_exit=True))
        return killed, zipped, vm.flush(), len(vm.processes())

    killed, zipped, left, nprocs = run(main)
    assert killed == [("ok", 0.1), ("exit", "timeout"), ("ok", 0.2)]
    assert zipped == [("ok", 0.1), ("exit", (5, "timeout")), ("ok", 0.2)]
    assert left == [] and nprocs == 1


def test_async_stream_crash_kills_a_non_trapping_caller():
    def consumer():
        list(task.async_stream([1, 0, 2], lambda x: 1 / x))

    def main():
        return down_reason(consumer)

    reason = run(main)
    assert reason.exc_type == "ZeroDivisionError"


def test_async_stream_crash_reads_exit_for_a_trapping_caller():
    def main():
        vm.process_flag("trap_exit", True)
        out = list(task.async_stream([1, 0, 2], lambda x: 1 // x))
        return [r[0] for r in out], out[1][1].exc_type, vm.flush()

    assert run(main) == (["ok", "exit", "ok"], "ZeroDivisionError", [])


def test_async_stream_stopped_early_kills_the_running_tasks():
    def main():
        stream = task.async_stream(range(100), lambda i: (vm.sleep(i / 10), i)[1],
                                   max_concurrency=5)
        first = []
        for r in stream:
            first.append(r)
            if len(first) == 2:
                break
        stream.close()
        return first, len(vm.processes()), vm.flush()

    assert run(main) == ([("ok", 0), ("ok", 1)], 1, [])


def test_async_stream_infinite_timeout():
    def main():
        return list(task.async_stream([100], lambda s: (vm.sleep(s), "slow")[1], timeout=None))

    assert run(main) == [("ok", "slow")]
