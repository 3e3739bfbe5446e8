"""supervisor: strategies with start/stop order, restart types, the intensity rule, the
shutdown protocol, the child API, auto_shutdown, reports, and the Elixir-style start.

Orders and return values were checked against OTP 25 (`erl`) with twin scenarios.
"""

import logging
from pathlib import Path

import pytest

import vm
from stdlib import gen_server
from stdlib import supervisor as sup
from tests.stdlib.callbacks.sups import Flaky, Tree, Worker, failing_start, spec
from vm.testing import drain, run

ANY = vm.ANY


def events(wait=0.1):
    """Start/stop events reported by workers (EXITs and DOWNs left out)."""
    return [m for m in drain(timeout=wait) if m[0] in ("start", "stop")]


def pid_of(s, cid):
    for c in sup.which_children(s):
        if c[0] == cid:
            return c[1]
    raise KeyError(cid)


def start_tree(flags, specs):
    ok, s = sup.start_link(Tree, ("ok", (flags, specs)))
    assert ok == "ok", s
    return s


def kill(pid, reason="kill"):
    vm.exit(pid, reason)


# ----------------------------------------------------------------------
# startup and strategies


def test_children_start_in_order_and_stop_in_reverse():
    def main():
        vm.process_flag("trap_exit", True)
        me = vm.self()
        s = start_tree({}, [spec(c, me) for c in "abc"])
        started = events()
        vm.exit(s, "shutdown")
        vm.receive(("EXIT", s, ANY))
        return started, events()

    started, stopped = run(main)
    assert started == [("start", "a"), ("start", "b"), ("start", "c")]
    assert stopped == [("stop", "c", "shutdown"), ("stop", "b", "shutdown"),
                       ("stop", "a", "shutdown")]


@pytest.mark.parametrize("strategy, expected", [
    ("one_for_one", [("start", "b")]),
    ("one_for_all", [("stop", "c", "shutdown"), ("stop", "a", "shutdown"),
                     ("start", "a"), ("start", "b"), ("start", "c")]),
    ("rest_for_one", [("stop", "c", "shutdown"), ("start", "b"), ("start", "c")]),
])
def test_strategies_restart_the_right_children_in_the_right_order(strategy, expected):
    def main():
        me = vm.self()
        s = start_tree({"strategy": strategy}, [spec(c, me) for c in "abc"])
        events()
        kill(pid_of(s, "b"))
        return events(), [c[0] for c in sup.which_children(s)]

    got, ids = run(main)
    assert got == expected
    assert ids == ["c", "b", "a"]


def test_one_for_all_restarts_children_terminated_by_hand_and_drops_temporary():
    def main():
        me = vm.self()
        s = start_tree({"strategy": "one_for_all"},
                       [spec("a", me), spec("t", me, restart="temporary"), spec("c", me)])
        sup.terminate_child(s, "c")
        events()
        kill(pid_of(s, "a"))
        return events(), [c[0] for c in sup.which_children(s)]

    got, ids = run(main)
    # OTP restarts every non-temporary child, even one stopped by terminate_child
    assert got == [("stop", "t", "shutdown"), ("start", "a"), ("start", "c")]
    assert ids == ["c", "a"]


def test_simple_one_for_one_restarts_with_the_same_extra_args():
    def main():
        me = vm.self()
        s = start_tree({"strategy": "simple_one_for_one"},
                       [{"id": "w", "start": (lambda cid, report: Worker.start_link(
                           (cid, report, {})), ())}])
        r1 = sup.start_child(s, ["x", me])
        r2 = sup.start_child(s, ["y", me])
        events()
        kill(r1[1])
        got = events()
        which = sup.which_children(s)
        return r1[0], r2[0], got, len(which), {w[0] for w in which}, sup.count_children(s)

    ok1, ok2, got, n, ids, counts = run(main)
    assert (ok1, ok2, got, n, ids) == ("ok", "ok", [("start", "x")], 2, {None})
    assert counts == {"specs": 1, "active": 2, "supervisors": 0, "workers": 2}


def test_simple_one_for_one_needs_exactly_one_spec():
    def main():
        vm.process_flag("trap_exit", True)
        me = vm.self()
        two = sup.start_link(Tree, ("ok", ({"strategy": "simple_one_for_one"},
                                           [spec("a", me), spec("b", me)])))
        none = sup.start_link(Tree, ("ok", ({"strategy": "simple_one_for_one"}, [])))
        return two[1][0], none

    assert run(main) == ("bad_start_spec", ("error", ("bad_start_spec", [])))


def test_simple_one_for_one_api_restrictions_and_parallel_shutdown():
    def main():
        vm.process_flag("trap_exit", True)
        me = vm.self()
        s = start_tree({"strategy": "simple_one_for_one"},
                       [{"id": "w", "start": (lambda cid, report: Worker.start_link(
                           (cid, report, {})), ()), "restart": "temporary"}])
        pids = [sup.start_child(s, [c, me])[1] for c in "xyz"]
        events()
        api = (sup.terminate_child(s, "w"), sup.restart_child(s, "w"), sup.delete_child(s, "w"),
               sup.get_childspec(s, pids[0])[0], sup.terminate_child(s, pids[0]),
               sup.terminate_child(s, pids[0]))
        kill(pids[1])  # temporary: not restarted
        vm.sleep(0.1)
        left = len(sup.which_children(s))
        vm.exit(s, "shutdown")
        vm.receive(("EXIT", s, ANY))
        return api, left, events()

    api, left, stopped = run(main)
    assert api == (("error", "simple_one_for_one"), ("error", "simple_one_for_one"),
                   ("error", "simple_one_for_one"), "ok", "ok", ("error", "not_found"))
    assert left == 1
    assert [e[:2] for e in stopped] == [("stop", "x"), ("stop", "z")]


# ----------------------------------------------------------------------
# restart types


@pytest.mark.parametrize("restart, reason, restarted, kept", [
    ("permanent", "normal", True, True),
    ("permanent", "boom", True, True),
    ("transient", "normal", False, True),
    ("transient", "shutdown", False, True),
    ("transient", ("shutdown", "x"), False, True),
    ("transient", "boom", True, True),
    ("temporary", "boom", False, False),
    ("temporary", "normal", False, False),
])
def test_restart_types(restart, reason, restarted, kept):
    def main():
        me = vm.self()
        s = start_tree({"intensity": 5}, [spec("a", me, restart=restart)])
        events()
        gen_server.cast(pid_of(s, "a"), ("stop", reason))
        got = events()
        which = sup.which_children(s)
        return got, which

    got, which = run(main)
    assert got[0] == ("stop", "a", reason)
    assert (("start", "a") in got) == restarted
    assert (len(which) == 1) == kept
    if kept and not restarted:
        assert which[0][1] is None


# ----------------------------------------------------------------------
# the intensity rule


def test_default_intensity_gives_up_at_the_second_crash_within_period(caplog):
    caplog.set_level(logging.ERROR, logger="beamlet.otp")

    def main():
        vm.process_flag("trap_exit", True)
        me = vm.self()
        s = start_tree({}, [spec("a", me), spec("b", me)])
        events()
        kill(pid_of(s, "a"))
        vm.sleep(1.0)
        kill(pid_of(s, "a"))
        exit_msg = vm.receive(("EXIT", s, ANY))
        return exit_msg[2], events()

    reason, got = run(main)
    assert reason == "shutdown"
    assert got == [("start", "a"), ("stop", "b", "shutdown")]
    contexts = [r.report["errorContext"] for r in caplog.records
                if getattr(r, "report", {}).get("label") == "supervisor_report"]
    assert contexts == ["child_terminated", "child_terminated", "shutdown"]
    shutdown = [r.report for r in caplog.records
                if getattr(r, "report", {}).get("errorContext") == "shutdown"][0]
    assert shutdown["reason"] == "reached_max_restart_intensity"


def test_intensity_zero_gives_up_at_the_first_crash():
    def main():
        vm.process_flag("trap_exit", True)
        s = start_tree({"intensity": 0}, [spec("a", vm.self())])
        kill(pid_of(s, "a"))
        return vm.receive(("EXIT", s, ANY))[2]

    assert run(main) == "shutdown"


def test_crashes_further_apart_than_period_are_forgotten():
    def main():
        vm.process_flag("trap_exit", True)
        s = start_tree({"intensity": 2, "period": 5}, [spec("a", vm.self())])
        for _ in range(10):
            kill(pid_of(s, "a"))
            vm.sleep(3.0)  # two restarts in any 5 s window: within the rule
        alive = vm.is_process_alive(s)
        kill(pid_of(s, "a"))
        vm.sleep(0.1)
        kill(pid_of(s, "a"))
        return alive, vm.receive(("EXIT", s, ANY), timeout=1.0)[2]

    assert run(main) == (True, "shutdown")


def test_nested_supervisor_giving_up_is_restarted_by_its_parent():
    def main():
        vm.process_flag("trap_exit", True)
        me = vm.self()
        inner = {"id": "inner", "type": "supervisor",
                 "start": (sup.start_link, (Tree, ("ok", ({"intensity": 0}, [spec("w", me)]))))}
        outer = start_tree({"intensity": 1}, [inner])
        events()
        inner_pid = pid_of(outer, "inner")
        kill(pid_of(inner_pid, "w"))
        got = events()
        new_inner = pid_of(outer, "inner")
        return got, new_inner != inner_pid, vm.is_process_alive(outer)

    got, replaced, alive = run(main)
    assert got == [("start", "w")] and replaced and alive


def test_transient_supervisor_child_that_gives_up_is_not_restarted():
    def main():
        me = vm.self()
        inner = {"id": "inner", "type": "supervisor", "restart": "transient",
                 "start": (sup.start_link, (Tree, ("ok", ({"intensity": 0}, [spec("w", me)]))))}
        outer = start_tree({}, [inner])
        events()
        kill(pid_of(pid_of(outer, "inner"), "w"))
        vm.sleep(0.1)
        return events(), sup.which_children(outer)

    got, which = run(main)
    assert got == [] and which == [("inner", None, "supervisor", ["stdlib.supervisor"])]


def test_failed_restart_is_retried_counts_and_shows_restarting():
    def main():
        vm.process_flag("trap_exit", True)
        me = vm.self()
        Flaky.failures_left = 0
        s = start_tree({"intensity": 5}, [{"id": "f", "start": (Flaky.start, ("f", me))}])
        events()
        Flaky.failures_left = 2
        vm.process_flag("priority", "high")
        kill(pid_of(s, "f"))
        vm.process_flag("priority", "normal")
        vm.sleep(0.1)
        after = sup.which_children(s)
        Flaky.failures_left = 10
        kill(after[0][1])
        return after[0][0], vm.receive(("EXIT", s, ANY), timeout=1.0)[2]

    assert run(main) == ("f", "shutdown")


def test_restarting_child_is_visible_between_tries(caplog):
    caplog.set_level(logging.CRITICAL, logger="beamlet.otp")  # thousands of start_errors

    def main():
        me = vm.self()
        Flaky.failures_left = 0
        s = start_tree({"intensity": 10**9}, [{"id": "f", "start": (Flaky.start, ("f", me))}])
        events()
        Flaky.failures_left = 1_000_000
        kill(pid_of(s, "f"))
        # the supervisor retries through its mailbox; a call gets in between tries
        state = sup.which_children(s)[0][1]
        errs = (sup.restart_child(s, "f"), sup.delete_child(s, "f"))
        Flaky.failures_left = 0
        vm.sleep(0.1)
        return state, errs, isinstance(sup.which_children(s)[0][1], vm.Pid)

    state, errs, back = run(main)
    assert state == "restarting"
    assert errs == (("error", "restarting"), ("error", "restarting"))
    assert back


# ----------------------------------------------------------------------
# startup failures and init results


def test_start_failure_stops_started_children_and_reports():
    def main():
        vm.process_flag("trap_exit", True)
        me = vm.self()
        r = sup.start_link(Tree, ("ok", ({}, [spec("a", me),
                                                {"id": "b", "start": (failing_start, ("error",))},
                                                spec("c", me)])))
        return r, events(), drain()

    r, got, rest = run(main)
    assert r == ("error", ("shutdown", ("failed_to_start_child", "b", "nope")))
    assert got == [("start", "a"), ("stop", "a", "shutdown")]
    assert rest == []


@pytest.mark.parametrize("mode, reason", [
    ("error", "nope"),
    ("junk", "junk"),
])
def test_child_start_results(mode, reason):
    def main():
        vm.process_flag("trap_exit", True)
        return sup.start_link(Tree, ("ok", ({}, [{"id": "x", "start": (failing_start, (mode,))}])))

    assert run(main) == ("error", ("shutdown", ("failed_to_start_child", "x", reason)))


def test_child_start_that_raises():
    def main():
        vm.process_flag("trap_exit", True)
        spec = {"id": "x", "start": (failing_start, ("raise",))}
        return sup.start_link(Tree, ("ok", ({}, [spec])))

    tag, (shut, (failed, cid, (exit_tag, crash))) = run(main)
    assert (tag, shut, failed, cid, exit_tag) == ("error", "shutdown", "failed_to_start_child",
                                                   "x", "EXIT")
    assert crash.exc_type == "ValueError"


@pytest.mark.parametrize("init, expected", [
    ("ignore", "ignore"),
    ("junk", ("error", ("bad_return", (Tree, "init", "junk")))),
    (("ok", ({"strategy": "bogus"}, [])),
     ("error", ("supervisor_data", ("invalid_strategy", "bogus")))),
    (("ok", ({"intensity": -1}, [])), ("error", ("supervisor_data", ("invalid_intensity", -1)))),
    (("ok", ({"period": 0}, [])), ("error", ("supervisor_data", ("invalid_period", 0)))),
    (("ok", ({"auto_shutdown": "x"}, [])),
     ("error", ("supervisor_data", ("invalid_auto_shutdown", "x")))),
    (("ok", ({"intesity": 3}, [])), ("error", ("supervisor_data", ("unknown_key", "intesity")))),
    (("ok", ({}, [{"id": "a"}])), ("error", ("start_spec", "missing_start"))),
    (("ok", ({}, [{"id": "a", "start": (print, ()), "significant": True, "restart": "transient"}])),
     ("error", ("start_spec", ("bad_combination", [("auto_shutdown", "never"),
                                                   ("significant", True)])))),
    (("ok", (("one_for_all", 2, 3), [])), "ok"),
])
def test_init_results_and_flag_errors(init, expected):
    def main():
        vm.process_flag("trap_exit", True)
        r = sup.start_link(Tree, init)
        return r if r == "ignore" or r[0] == "error" else "ok"

    assert run(main) == expected


@pytest.mark.parametrize("specs, expected", [
    ([{"start": (print, ())}], ("error", "missing_id")),
    ([{"id": "a"}], ("error", "missing_start")),
    ([{"id": "a", "start": (print, ())}] * 2, ("error", ("duplicate_child_name", "a"))),
    ([{"id": "a", "start": (print, ()), "restart": "sometimes"}],
     ("error", ("invalid_restart_type", "sometimes"))),
    ([{"id": "a", "start": (print, ()), "shutdown": -1}], ("error", ("invalid_shutdown", -1))),
    ([{"id": "a", "start": (print, ()), "type": "x"}], ("error", ("invalid_child_type", "x"))),
    ([{"id": "a", "start": (print, ()), "modules": "x"}], ("error", ("invalid_modules", "x"))),
    ([{"id": "a", "start": "x"}], ("error", ("invalid_mfa", "x"))),
    ([{"id": "a", "start": (print, ()), "significant": True}],
     ("error", ("bad_combination", [("restart", "permanent"), ("significant", True)]))),
    ([{"id": "a", "start": (print, ()), "significant": "x"}],
     ("error", ("invalid_significant", "x"))),
    (["x"], ("error", ("invalid_child_spec", "x"))),
    ("x", ("error", ("badarg", "x"))),
    ([{"id": "a", "start": (print, ()), "shutdown": 0},
      ("b", (print, ()), "transient", "brutal_kill", "worker", "dynamic")], "ok"),
])
def test_check_childspecs(specs, expected):
    assert run(lambda: sup.check_childspecs(specs)) == expected


# ----------------------------------------------------------------------
# the child API


def test_child_api_return_values():
    def main():
        me = vm.self()
        s = start_tree({}, [spec("a", me), spec("b", me),
                            {"id": "c", "start": (failing_start, ("ignore",))},
                            spec("d", me, restart="temporary", type="supervisor")])
        a = pid_of(s, "a")
        out = {
            "which": sup.which_children(s),
            "count": sup.count_children(s),
            "spec_d": sup.get_childspec(s, "d")[1],
            "spec_by_pid": sup.get_childspec(s, a),
            "spec_x": sup.get_childspec(s, "x"),
            "dup_running": sup.start_child(s, spec("a", me)),
            "dup_ignored": sup.start_child(s, {"id": "c", "start": (failing_start, ("ignore",))}),
            "bad": sup.start_child(s, {"id": "e"}),
            "err": sup.start_child(s, {"id": "e", "start": (failing_start, ("error",))}),
            "ignore": sup.start_child(s, {"id": "f", "start": (failing_start, ("ignore",))}),
            "ignore_temp": sup.start_child(s, {"id": "g", "restart": "temporary",
                                               "start": (failing_start, ("ignore",))}),
            "delete_running": sup.delete_child(s, "a"),
            "terminate_a": sup.terminate_child(s, "a"),
            "terminate_a_again": sup.terminate_child(s, "a"),
            "terminate_x": sup.terminate_child(s, "x"),
            "restart_a": sup.restart_child(s, "a")[0],
            "restart_a_again": sup.restart_child(s, "a"),
            "restart_x": sup.restart_child(s, "x"),
            "terminate_d": sup.terminate_child(s, "d"),
            "delete_c": sup.delete_child(s, "c"),
            "restart_f": sup.restart_child(s, "f"),
            "terminate_b_by_pid": sup.terminate_child(s, pid_of(s, "b")),
            "ids": [c[0] for c in sup.which_children(s)],
            "count2": sup.count_children(s),
        }
        return a, out

    a, out = run(main)
    which = out["which"]
    assert [w[0] for w in which] == ["d", "c", "b", "a"]
    assert which[1][1] is None and which[0][2] == "supervisor" and which[3][1] == a
    assert out["count"] == {"specs": 4, "active": 3, "supervisors": 1, "workers": 3}
    assert out["spec_d"]["restart"] == "temporary" and out["spec_d"]["shutdown"] is None
    # a pid is an id like any other outside simple_one_for_one (OTP): no child has it
    assert out["spec_by_pid"] == ("error", "not_found") and out["spec_x"] == ("error", "not_found")
    assert out["dup_running"] == ("error", ("already_started", a))
    assert out["dup_ignored"] == ("error", "already_present")
    assert out["bad"] == ("error", "missing_start")
    assert out["err"][0] == "error" and out["err"][1][0] == "nope"
    assert out["err"][1][1]["id"] == "e"
    assert out["ignore"] == out["ignore_temp"] == ("ok", None)
    assert out["delete_running"] == ("error", "running")
    assert out["terminate_a"] == out["terminate_a_again"] == "ok"
    assert out["terminate_x"] == ("error", "not_found")
    assert out["restart_a"] == "ok" and out["restart_a_again"] == ("error", "running")
    assert out["restart_x"] == ("error", "not_found")
    assert out["terminate_d"] == "ok" and out["delete_c"] == "ok"
    assert out["restart_f"] == ("ok", None)
    assert out["terminate_b_by_pid"] == ("error", "not_found")  # and b keeps running
    assert out["ids"] == ["f", "b", "a"]
    assert out["count2"] == {"specs": 3, "active": 2, "supervisors": 0, "workers": 3}


# ----------------------------------------------------------------------
# shutdown protocol


def test_shutdown_brutal_kill_skips_terminate():
    def main():
        vm.process_flag("trap_exit", True)
        me = vm.self()
        s = start_tree({}, [spec("a", me, shutdown="brutal_kill"), spec("b", me)])
        events()
        vm.exit(s, "shutdown")
        vm.receive(("EXIT", s, ANY))
        return events()

    assert run(main) == [("stop", "b", "shutdown")]


def test_shutdown_timeout_kills_a_slow_child_and_reports(caplog):
    caplog.set_level(logging.ERROR, logger="beamlet.otp")

    def main():
        me = vm.self()
        s = start_tree({}, [spec("slow", me, shutdown=1.0, opts={"slow_stop": 5.0})])
        events()
        t0 = vm.monotonic()
        r = sup.terminate_child(s, "slow")
        return r, vm.monotonic() - t0, events()

    r, took, got = run(main)
    assert r == "ok" and took == pytest.approx(1.0, abs=0.05) and got == []
    rep = [x.report for x in caplog.records if getattr(x, "report", {}).get("errorContext")
           == "shutdown_error"]
    assert len(rep) == 1 and rep[0]["reason"] == "killed" and rep[0]["offender"]["id"] == "slow"


def test_shutdown_infinity_waits_and_non_trapping_child_skips_terminate():
    def main():
        me = vm.self()
        s = start_tree({}, [spec("inf", me, shutdown=None, opts={"slow_stop": 100.0}),
                            spec("plain", me, opts={"trap": False})])
        events()
        t0 = vm.monotonic()
        r1 = sup.terminate_child(s, "inf")
        took = vm.monotonic() - t0
        r2 = sup.terminate_child(s, "plain")
        return r1, took, r2, events()

    r1, took, r2, got = run(main)
    assert (r1, r2) == ("ok", "ok") and took == pytest.approx(100.0, abs=0.1)
    assert got == [("stop", "inf", "shutdown")]


def test_child_that_unlinked_cannot_hang_the_supervisor():
    class Unlinker(gen_server.GenServer):
        def init(self, parent):
            vm.unlink(parent)
            return ("ok", None)

    def start():
        return gen_server.start_link(Unlinker, vm.self())

    def main():
        s = start_tree({}, [{"id": "u", "start": (start, ())}])
        return sup.terminate_child(s, "u"), sup.which_children(s)[0][1]

    assert run(main) == ("ok", None)


# ----------------------------------------------------------------------
# auto_shutdown


def test_any_significant_shuts_down_when_one_exits():
    def main():
        vm.process_flag("trap_exit", True)
        me = vm.self()
        s = start_tree({"auto_shutdown": "any_significant"},
                       [spec("a", me, restart="transient", significant=True), spec("b", me)])
        events()
        gen_server.cast(pid_of(s, "a"), ("stop", "normal"))
        return vm.receive(("EXIT", s, ANY))[2], events()

    assert run(main) == ("shutdown", [("stop", "a", "normal"), ("stop", "b", "shutdown")])


def test_all_significant_waits_for_the_last_and_ignores_terminate_child():
    def main():
        vm.process_flag("trap_exit", True)
        me = vm.self()
        s = start_tree({"auto_shutdown": "all_significant"},
                       [spec("a", me, restart="temporary", significant=True),
                        spec("b", me, restart="temporary", significant=True),
                        spec("c", me, restart="temporary", significant=True)])
        sup.terminate_child(s, "c")  # by the supervisor itself: no auto_shutdown
        gen_server.cast(pid_of(s, "a"), ("stop", "normal"))
        vm.sleep(0.1)
        alive = vm.is_process_alive(s)
        gen_server.cast(pid_of(s, "b"), ("stop", "boom"))
        return alive, vm.receive(("EXIT", s, ANY))[2]

    assert run(main) == (True, "shutdown")


def test_auto_shutdown_is_refused_for_simple_one_for_one():
    def main():
        vm.process_flag("trap_exit", True)
        return sup.start_link(Tree, ("ok", ({"strategy": "simple_one_for_one",
                                             "auto_shutdown": "any_significant"}, [])))

    r = run(main)
    assert r[1][0] == "supervisor_data" and r[1][1][0] == "bad_combination"


# ----------------------------------------------------------------------
# reports, messages, Elixir style


def test_progress_reports_at_info_and_none_for_quiet_temporary_exits(caplog):
    caplog.set_level(logging.INFO, logger="beamlet.otp")

    def main():
        me = vm.self()
        s = start_tree({}, [spec("a", me), spec("t", me, restart="temporary")])
        gen_server.cast(pid_of(s, "t"), ("stop", "normal"))
        vm.sleep(0.1)
        return s

    run(main)
    reports = [r.report for r in caplog.records if hasattr(r, "report")]
    progress = [r for r in reports if r["label"] == "progress"]
    assert [p["started"]["id"] for p in progress] == ["a", "t"]
    assert all(r["label"] != "supervisor_report" for r in reports)
    assert "PROGRESS REPORT" in caplog.text


def test_unexpected_messages_are_logged_and_unknown_exits_ignored(caplog):
    caplog.set_level(logging.ERROR, logger="beamlet.otp")

    def main():
        s = start_tree({}, [])
        vm.send(s, "junk")
        vm.send(s, ("EXIT", vm.spawn(lambda: None), "boom"))
        vm.sleep(0.1)
        return vm.is_process_alive(s)

    assert run(main)
    assert "unexpected message: 'junk'" in caplog.text


def test_elixir_style_list_of_children():
    def main():
        vm.process_flag("trap_exit", True)
        me = vm.self()
        ok, s = sup.start_link_children([(Worker, ("w1", me, {})), spec("w2", me)],
                                        strategy="one_for_all", name="ex")
        started = events()
        for _ in range(3):  # Elixir's default: 3 restarts in 5 s are fine ...
            kill(pid_of("ex", Worker))
            events()
        alive = vm.is_process_alive(s)
        kill(pid_of("ex", Worker))  # ... the 4th is not
        return started, alive, vm.receive(("EXIT", s, ANY))[2], sup.which_children

    started, alive, reason, _ = run(main)
    assert started == [("start", "w1"), ("start", "w2")] and alive and reason == "shutdown"


def test_elixir_style_refuses_what_is_not_a_child():
    def main():
        with pytest.raises(vm.BadArg, match="child_spec"):
            sup.start_link_children([42])
        with pytest.raises(vm.BadArg, match="not a Supervisor subclass"):
            sup.start_link(Worker)
        return sup.child_spec((Worker, 1), id="w", restart="transient")

    spec_ = run(main)
    assert spec_["id"] == "w" and spec_["restart"] == "transient"


def test_child_spec_refuses_a_tuple_that_is_not_otps_6_tuple():
    class Short:
        @classmethod
        def child_spec(cls, arg):
            return ("s", (Worker.start_link, ("s", None, {})), "permanent")

    full = ("f", (Worker.start_link, ("f", None, {})), "temporary", 100, "worker", [Worker])
    with pytest.raises(vm.BadArg, match="invalid_child_spec"):
        sup.child_spec((Short, None))
    assert sup.child_spec(full)["shutdown"] == 100
    assert sup.check_childspecs([full[:3]])[1][0] == "invalid_child_spec"


def test_supervisor_state_is_a_term_for_sys():
    from stdlib import otp_sys

    def main():
        s = start_tree({"strategy": "rest_for_one"}, [spec("a", vm.self())])
        st = otp_sys.get_state(s)
        return st["strategy"], st["ids"], otp_sys.get_status(s)[2]

    assert run(main) == ("rest_for_one", ["a"], ("module", "gen_server"))


# ----------------------------------------------------------------------
# the documentation and the example stay runnable


def _load(path):
    import importlib.util
    import os

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    spec_ = importlib.util.spec_from_file_location("_doc_example", os.path.join(root, path))
    module = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(module)
    return module, root


@pytest.mark.parametrize("doc", ["docs/behaviours.md", "README.md"])
def test_twenty_line_tree_in_the_docs_runs(doc, capsys, caplog, tmp_path):
    caplog.set_level(logging.CRITICAL, logger="beamlet.otp")
    import os

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    text = Path(root, doc).read_text(encoding="utf-8")
    section = text.split("## A supervision tree in twenty lines", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    assert len([line for line in code.splitlines() if line.strip()]) <= 20
    (tmp_path / "tree.py").write_text(code)
    module, _ = _load(str(tmp_path / "tree.py"))
    run(module.main)
    assert capsys.readouterr().out.splitlines() == [
        "1 2", "the call failed with RuntimeError", "restarted, counting from scratch: 1"]


def test_supervision_tree_example_runs(capsys):
    module, _ = _load("examples/supervision_tree.py")
    run(module.main)
    out = capsys.readouterr().out
    assert out.count("flaky:   started") >= 2 and out.strip().endswith("stopped")


def test_shorthand_children_in_init_are_expanded():
    class W(gen_server.GenServer):
        def init(self, arg):
            return ("ok", arg)

    class Sup(sup.Supervisor):
        def init(self, arg):
            return ("ok", ({"strategy": "one_for_one"},
                           [(W, 1), sup.child_spec((W, 2), id="w2")]))

    def main():
        ok, pid = sup.start_link(Sup, None)
        return sorted(str(c[0]) for c in sup.which_children(pid))

    children = run(main)
    assert len(children) == 2 and "w2" in children


def test_state_shows_as_terms_and_replace_state_rebuilds_it():
    from stdlib import dynamic_supervisor as ds
    from stdlib import otp_sys
    from vm.lowlevel import is_term

    def main():
        vm.process_flag("trap_exit", True)
        me = vm.self()
        s = start_tree({"strategy": "one_for_one"}, [spec("a", me)])
        simple = start_tree({"strategy": "simple_one_for_one"}, [spec("w", me)])
        sup.start_child(simple, [])
        ok, dyn = ds.start_link()
        ds.start_child(dyn, spec("d", me))
        shown = [otp_sys.get_state(x) for x in (s, simple, dyn)]
        new = otp_sys.replace_state(s, lambda t: {**t, "intensity": 0})
        a = pid_of(s, "a")
        kill(a)  # intensity 0: the supervisor gives up at the first crash
        down = vm.receive(("EXIT", s, ANY), timeout=1.0)
        dyn_after = otp_sys.replace_state(dyn, lambda t: t)
        return (shown, new["intensity"], down, ds.count_children(dyn),
                len(dyn_after["children"]), [is_term(x) for x in shown])

    vm_result = run(main)
    (plain, simple, dyn), intensity, down, dyn_counts, dyn_kids, terms = vm_result
    assert terms == [True, True, True]
    assert plain["strategy"] == "one_for_one" and plain["ids"] == ["a"]
    assert plain["children"]["a"]["restart"] == "permanent" and plain["dynamic"] is None
    assert simple["ids"] == ["w"] and len(simple["dynamic"]) == 1
    assert dyn["max_children"] is None and len(dyn["children"]) == 1
    assert list(dyn["children"].values())[0]["restart"] == "permanent"
    assert intensity == 0 and down[2] == "shutdown"
    assert dyn_counts["active"] == 1 and dyn_kids == 1


def test_replace_state_refuses_a_state_that_is_not_a_supervisors():
    from stdlib import otp_sys

    def main():
        s = start_tree({"strategy": "one_for_one"}, [])
        try:
            otp_sys.replace_state(s, lambda t: "nonsense")
        except vm.Exit as e:
            return e.reason[0][0], sup.which_children(s)

    assert run(main) == ("callback_failed", [])
