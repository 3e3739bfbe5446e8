"""task_supervisor: Elixir's Task.Supervisor over dynamic_supervisor."""

import pytest

import vm
from stdlib import dynamic_supervisor, otp_sys, supervisor, task
from stdlib import task_supervisor as ts
from vm.testing import catch, run

ANY = vm.ANY


def where():
    return vm.get("$ancestors")[0], vm.get("$callers")


def test_start_child_children_and_terminate_child():
    def main():
        ok, sup = ts.start_link(name="tasks")
        me = vm.self()
        ok1, pid = ts.start_child("tasks", lambda: (vm.send(me, where()), vm.sleep(100)))
        anc, callers = vm.receive(tuple)
        kids = ts.children("tasks")
        r = ts.terminate_child("tasks", pid)
        # the ancestor is the supervisor, by its registered name (as proc_lib records it)
        return (ok, ok1, anc == "tasks", callers == [me], kids == [pid], r,
                ts.children("tasks"), ts.terminate_child("tasks", pid))

    assert run(main) == ("ok", "ok", True, True, True, "ok", [], ("error", "not_found"))


def test_children_are_temporary_with_a_5s_shutdown():
    def main():
        ok, sup = ts.start_link()
        ts.start_child(sup, vm.sleep, 100)
        spec = list(otp_sys.get_state(sup)["children"].values())[0]
        return dynamic_supervisor.count_children(sup)["workers"], spec["restart"], spec["shutdown"]

    assert run(main) == (1, "temporary", 5.0)


def test_async_and_await_under_the_supervisor():
    def main():
        ok, sup = ts.start_link()
        me = vm.self()
        t = ts.async_(sup, where)
        linked = t["pid"] in vm.process_info(me, "links")
        supervised = ts.children(sup) == [t["pid"]]
        anc, callers = task.await_(t)
        return linked, supervised, anc == sup, callers == [me], vm.flush()

    assert run(main) == (True, True, True, True, [])


def test_async_nolink_crash_does_not_take_the_caller_down():
    def main():
        ok, sup = ts.start_link()
        t = ts.async_nolink(sup, vm.exit, "oops")
        linked = t["pid"] in vm.process_info(vm.self(), "links")
        t2 = ts.async_nolink(sup, vm.exit, "again")
        return linked, task.yield_(t), catch(task.await_, t2)[1][0], vm.is_process_alive(sup)

    assert run(main) == (False, ("exit", "oops"), "again", True)


def test_max_children():
    def main():
        ok, sup = ts.start_link(max_children=1)
        ts.start_child(sup, vm.sleep, 100)
        r = ts.start_child(sup, vm.sleep, 100)
        with pytest.raises(RuntimeError, match="maximum number of tasks"):
            ts.async_nolink(sup, vm.sleep, 1)
        return r

    assert run(main) == ("error", "max_children")


def test_async_stream_under_a_supervisor_and_nolink_crashes():
    def main():
        ok, sup = ts.start_link()
        good = list(ts.async_stream(sup, [1, 2, 3], lambda x: x * 10, max_concurrency=2))
        mixed = list(ts.async_stream_nolink(sup, [1, 0, 2], lambda x: 10 // x,
                                            zip_input_on_exit=True))
        return good, [r[0] for r in mixed], mixed[1][1][0], ts.children(sup), vm.flush()

    good, kinds, item, kids, left = run(main)
    assert good == [("ok", 10), ("ok", 20), ("ok", 30)]
    assert kinds == ["ok", "exit", "ok"] and item == 0
    assert kids == [] and left == []


def test_async_stream_over_max_children_raises():
    def main():
        ok, sup = ts.start_link(max_children=2)
        with pytest.raises(RuntimeError, match="max_concurrency"):
            list(ts.async_stream(sup, range(5), vm.sleep, max_concurrency=3))
        return ts.children(sup)

    assert run(main) == []


def test_stopping_the_supervisor_shuts_its_tasks_down():
    def main():
        vm.process_flag("trap_exit", True)
        ok, sup = ts.start_link()
        t = ts.async_nolink(sup, vm.sleep, 100)
        dynamic_supervisor.stop(sup, "shutdown")
        return task.yield_(t, 0)

    assert run(main) == ("exit", "shutdown")


def test_task_gives_up_when_its_owner_dies_before_the_handshake():
    def owner(sup, main):
        r = ts._start(sup, vm.sleep, (1,), "monitor", "temporary", 5.0, "test")
        vm.send(main, r[1])
        vm.receive("go")  # let main monitor the task first
        vm.exit("gone")

    def main():
        ok, sup = ts.start_link()
        o = vm.spawn(owner, sup, vm.self())
        pid = vm.receive(vm.Pid)
        ref = vm.monitor(pid)
        vm.send(o, "go")
        return vm.receive(("DOWN", ref, ANY, ANY, ANY))[4]

    # "noproc" when the task only got to monitor its owner after the owner was gone
    assert run(main) in (("shutdown", "gone"), ("shutdown", "noproc"))


def test_child_spec_puts_a_task_supervisor_in_a_tree():
    def main():
        ok, top = supervisor.start_link_children([ts.child_spec(name="jobs")])
        t = ts.async_("jobs", lambda: "done")
        return task.await_(t), supervisor.which_children(top)[0][0]

    assert run(main) == ("done", "jobs")


def test_bad_arguments():
    def main():
        ok, sup = ts.start_link()
        errs = []
        for call in (lambda: ts.start_child(sup, "not callable"),
                     lambda: ts.start_child(sup, abs, restart="sometimes"),
                     lambda: ts.async_(sup, abs, shutdown=-1),
                     lambda: ts.async_stream(sup, [1], abs, ordered="yes")):
            with pytest.raises(vm.BadArg) as e:
                call()
            errs.append(str(e.value))
        return errs

    errs = run(main)
    assert "needs a function" in errs[0] and "restart must be" in errs[1]
    assert "shutdown must be" in errs[2] and "ordered must be" in errs[3]
