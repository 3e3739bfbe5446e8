"""gen_statem: start results, transitions, timeouts, postponing, termination.

The transition tests replay scenarios recorded on real OTP 25 with an
Erlang twin of `statem_callbacks/scripted.py`; each expected trace below is
the event sequence OTP produced (pids and refs elided).
"""

import logging

import pytest

import vm
from stdlib import gen_statem as gs
from stdlib import otp_sys
from tests.stdlib.statem_callbacks.door import CodeLock
from tests.stdlib.statem_callbacks.scripted import Scripted, keep
from vm.testing import catch, drain, run

ANY = vm.ANY
OK = ("ok", "s0", "d")


def collect(wait=0.3):
    """The trace: every message until none came for `wait` s, EXITs without their pid."""
    return [("EXIT", m[2]) if type(m) is tuple and m[0] == "EXIT" else m
            for m in drain(timeout=wait)]


def q(init_result, fn=keep, then=None, mode=None):
    """Start a Scripted machine, run `then(pid)`, and return (start, then-result, trace)."""
    def main():
        vm.process_flag("trap_exit", True)
        r = gs.start_link(Scripted, (vm.self(), fn, init_result, mode))
        res = then(r[1]) if (then is not None and type(r) is tuple and r[0] == "ok") else None
        vm.sleep(0.2)
        return r, res, collect()
    return run(main)


def trace(init_result, fn=keep, then=None, mode=None):
    return q(init_result, fn, then, mode)[2]


def casts(*msgs):
    """A `then` that sends the casts back to back, so they queue before any is handled."""
    def then(pid):
        for m in msgs:
            gs.cast(pid, m)
    return then


def bad(tag, x):
    return ("EXIT", (tag, x))


# ----------------------------------------------------------------------
# start results


def test_init_results_map_to_start_results():
    # As OTP 26 (proc_lib.init_fail): the process is dead and its EXIT consumed on return.
    assert q("ignore")[0::2] == ("ignore", [])
    assert q(("stop", "why"))[0::2] == (("error", "why"), [])
    assert q("garbage")[0::2] == (("error", ("bad_return_from_init", "garbage")), [])
    assert q(("error", "nope"))[0::2] == (("error", "nope"), [])


def test_init_failure_exit_reasons_reach_a_linked_starter():
    def main():
        out = []
        for init in ("ignore", ("stop", "why"), "garbage", ("error", "nope")):
            pid, ref = vm.spawn_monitor(gs.start_link, Scripted, (vm.self(), keep, init, None))
            out.append(vm.receive(("DOWN", ref, ANY, ANY, ANY))[4])
        return out

    # a starter that does not trap exits dies with a non-normal init exit, as in OTP
    assert run(main) == ["normal", "why", ("bad_return_from_init", "garbage"), "normal"]


def test_start_returns_after_init_and_exit_is_consumed():
    def main():
        vm.process_flag("trap_exit", True)
        r = gs.start_link(Scripted, (vm.self(), keep, ("stop", "x"), None))
        return r, vm.flush()

    assert run(main) == (("error", "x"), [])


class Crashy(gs.GenStatem):
    def callback_mode(self):
        return "handle_event_function"

    def init(self, how):
        if how == "raise":
            raise ValueError("bad init")
        if how == "slow":
            vm.sleep(10)
        return ("ok", "s", None)


def test_init_crash_gives_error_with_crash_and_logs_report(caplog):
    def main():
        vm.process_flag("trap_exit", True)
        r = gs.start_link(Crashy, "raise")
        return r, vm.flush()

    with caplog.at_level(logging.ERROR, logger="beamlet.otp"):
        (tag, reason), msgs = run(main)
    assert tag == "error" and isinstance(reason, vm.Crash) and reason.exc_type == "ValueError"
    assert msgs == []
    labels = [r.report["label"] for r in caplog.records if hasattr(r, "report")]
    assert labels == ["gen_statem_terminate", "crash_report"]


def test_init_timeout_kills_the_process():
    def main():
        return gs.start(Crashy, "slow", timeout=1.0), len(vm.processes())

    assert run(main) == (("error", "timeout"), 1)


def test_names_and_already_started():
    def main():
        ok, pid = gs.start(CodeLock, "123", name="door")
        again = gs.start(CodeLock, "123", name="door")
        length = gs.call("door", "code_length")
        return pid == vm.whereis("door"), again == ("error", ("already_started", pid)), length

    assert run(main) == (True, True, 3)


def test_name_is_released_when_init_fails():
    def main():
        r = gs.start(Scripted, (vm.self(), keep, ("stop", "x"), None), name="m")
        return r, vm.whereis("m")

    assert run(main) == (("error", "x"), None)


def test_start_monitor():
    def main():
        ok, (pid, ref) = gs.start_monitor(CodeLock, "1")
        gs.stop(pid, "shutdown")
        down = vm.receive(("DOWN", ref, ANY, ANY, ANY))
        failed = gs.start_monitor(Scripted, (vm.self(), keep, ("stop", "no"), None))
        return ok, down[4], failed, vm.flush()

    assert run(main) == ("ok", "shutdown", ("error", "no"), [])


def test_bad_module_argument_is_refused():
    def main():
        with pytest.raises(vm.BadArg, match="callback class"):
            gs.start(CodeLock(), "123")
        with pytest.raises(vm.BadArg, match="no callback_mode"):
            gs.start(int)
        with pytest.raises(vm.BadArg, match="hibernate_after"):
            gs.start(CodeLock, "1", hibernate_after=-1)
        return True

    assert run(main)


def test_bad_callback_mode_stops_after_start():
    # OTP 25: start returns {ok, Pid}; the machine then stops, terminate sees s0
    start, _, msgs = q(OK, mode="bogus")
    assert start[0] == "ok"
    assert msgs == [("terminate", ("bad_return_from_callback_mode", "bogus"), "s0"),
                    bad("bad_return_from_callback_mode", "bogus")]


# ----------------------------------------------------------------------
# a state_functions machine


def test_code_lock_opens_and_relocks_by_state_timeout():
    def main():
        ok, pid = gs.start_link(CodeLock, ("123", 10.0))
        for b in "9123":
            gs.cast(pid, ("button", b))
        gs.cast(pid, ("button", "7"))  # while open: postponed until locked again
        states = [otp_sys.get_state(pid)]
        vm.sleep(9)
        states.append(otp_sys.get_state(pid)[0])
        vm.sleep(2)
        states.append(otp_sys.get_state(pid))
        vm.sleep(31)  # the button timeout clears the digits
        states.append(otp_sys.get_state(pid)[1]["buttons"])
        return states

    opened, still, relocked, cleared = run(main)
    assert opened[0] == "open" and opened[1]["buttons"] == []
    assert still == "open"
    assert relocked[0] == "locked" and relocked[1]["buttons"] == ["7"]
    assert cleared == []


def test_state_functions_missing_state_crashes_with_a_clear_error():
    class M(gs.GenStatem):
        def callback_mode(self):
            return "state_functions"

        def init(self, arg):
            return ("ok", "nowhere", None)

    def main():
        vm.process_flag("trap_exit", True)
        ok, pid = gs.start_link(M)
        gs.cast(pid, "x")
        return vm.receive(("EXIT", pid, ANY))[2]

    reason = run(main)
    assert reason.exc_type == "AttributeError" and "def nowhere(self" in reason.message


def _exit_reason_in_state(state):
    """Start a state_functions machine in `state`, send it an event, return why it died."""

    class M(gs.GenStatem):
        def callback_mode(self):
            return "state_functions"

        def init(self, arg):
            return ("ok", state, None)

    def main():
        vm.process_flag("trap_exit", True)
        ok, pid = gs.start_link(M)
        gs.cast(pid, "x")
        return vm.receive(("EXIT", pid, ANY))[2]

    return run(main)


def test_state_functions_refuses_callback_names_as_states():
    reason = _exit_reason_in_state("terminate")
    assert reason.exc_type == "TypeError" and "handle_event_function" in reason.message


# ----------------------------------------------------------------------
# transitions, as recorded on OTP 25


def test_zero_event_timeout_fires_before_a_queued_message():
    def f(t, c, s, d):
        if t == "cast" and c == "go":
            return ("next_state", "s1", d, [("timeout", 0, "zero")])
        return "keep_state_and_data"

    assert trace(OK, f, casts("go", "other")) == [
        ("ev", "enter", "s0", "s0"), ("ev", "cast", "go", "s0"), ("ev", "enter", "s0", "s1"),
        ("ev", "timeout", "zero", "s1"), ("ev", "cast", "other", "s1")]


def test_event_timeout_cancel_and_update_of_inactive_timer():
    def f(t, c, s, d):
        if c == "go":
            return ("keep_state_and_data", [("timeout", 0.1, "x"), ("timeout", "cancel")])
        if c == "upd":
            return ("keep_state_and_data", [("timeout", "update", "upd_content")])
        return "keep_state_and_data"

    def then(pid):
        gs.cast(pid, "go")
        vm.sleep(0.15)
        gs.cast(pid, "upd")

    assert trace(OK, f, then) == [
        ("ev", "enter", "s0", "s0"), ("ev", "cast", "go", "s0"), ("ev", "cast", "upd", "s0"),
        ("ev", "timeout", "upd_content", "s0")]


def test_update_of_inactive_state_timeout_fires_at_once():
    def f(t, c, s, d):
        if c == "upd":
            return ("keep_state_and_data", [("state_timeout", "update", "c1")])
        return "keep_state_and_data"

    assert trace(OK, f, casts("upd", "after1")) == [
        ("ev", "enter", "s0", "s0"), ("ev", "cast", "upd", "s0"),
        ("ev", "state_timeout", "c1", "s0"), ("ev", "cast", "after1", "s0")]


def test_repeat_state_in_enter_call_repeats_it():
    def f(t, c, s, d):
        if t == "enter" and d < 2:
            return ("repeat_state", d + 1)
        return "keep_state_and_data"

    assert trace(("ok", "s0", 0), f) == [("ev", "enter", "s0", "s0")] * 3


def test_repeat_in_enter_after_a_change_keeps_the_old_state():
    def f(t, c, s, d):
        if t == "enter" and s == "s1" and d == 0:
            return ("repeat_state", 1)
        if c == "go":
            return ("next_state", "s1", 0)
        return "keep_state_and_data"

    assert trace(("ok", "s0", 0), f, casts("go")) == [
        ("ev", "enter", "s0", "s0"), ("ev", "cast", "go", "s0"),
        ("ev", "enter", "s0", "s1"), ("ev", "enter", "s0", "s1")]


@pytest.mark.parametrize("enter_result, reason", [
    (("next_state", "s9", 0),
     ("bad_state_enter_return_from_state_function", ("next_state", "s9", 0))),
    ("garbage", ("bad_return_from_state_function", "garbage")),
    (("keep_state_and_data", ["postpone"]),
     ("bad_state_enter_action_from_state_function", "postpone")),
    (("keep_state_and_data", [("next_event", "internal", "x")]),
     ("bad_state_enter_action_from_state_function", ("next_event", "internal", "x"))),
    (("keep_state_and_data", [("change_callback_module", Scripted)]),
     ("bad_state_enter_action_from_state_function", ("change_callback_module", Scripted))),
])
def test_bad_enter_results(enter_result, reason):
    def f(t, c, s, d):
        return enter_result if t == "enter" else "keep_state_and_data"
    assert trace(("ok", "s0", 0), f) == [
        ("ev", "enter", "s0", "s0"), ("terminate", reason, "s0"), ("EXIT", reason)]


def test_postpone_false_is_allowed_in_enter():
    def f(t, c, s, d):
        return ("keep_state_and_data", [("postpone", False)])
    assert trace(("ok", "s0", 0), f) == [("ev", "enter", "s0", "s0")]


def test_transition_order_next_events_postponed_zero_timeouts_then_mailbox():
    def f(t, c, s, d):
        if c == "p1" and s == "s0":
            return ("keep_state_and_data", ["postpone"])
        if c == "go" and s == "s0":
            return ("next_state", "s1", d, [
                ("state_timeout", 0, "st0"), (("timeout", "g"), 0, "g0"),
                ("next_event", "internal", "n1"), ("next_event", "internal", "n2"),
                ("timeout", 0, "ev0")])
        return "keep_state_and_data"

    assert trace(OK, f, casts("p1", "go", "later")) == [
        ("ev", "enter", "s0", "s0"), ("ev", "cast", "p1", "s0"), ("ev", "cast", "go", "s0"),
        ("ev", "enter", "s0", "s1"), ("ev", "internal", "n1", "s1"),
        ("ev", "internal", "n2", "s1"), ("ev", "cast", "p1", "s1"),
        ("ev", "state_timeout", "st0", "s1"), ("ev", ("timeout", "g"), "g0", "s1"),
        ("ev", "cast", "later", "s1")]


def test_init_actions_enter_first_postpone_ignored():
    init = ("ok", "s0", "d", ["postpone", ("next_event", "internal", "boot"),
                              ("state_timeout", 0, "st")])
    assert trace(init) == [("ev", "enter", "s0", "s0"), ("ev", "internal", "boot", "s0"),
                           ("ev", "state_timeout", "st", "s0")]


def test_init_zero_event_timeout_and_last_generic_timeout_wins():
    init = ("ok", "s0", 0, [("timeout", 0, "z"), (("timeout", "a"), 0.01, "a1"),
                            (("timeout", "a"), 0.02, "a2")])
    assert trace(init) == [("ev", "enter", "s0", "s0"), ("ev", "timeout", "z", "s0"),
                           ("ev", ("timeout", "a"), "a2", "s0")]


@pytest.mark.parametrize("result, reason", [
    (("keep_state_and_data", [("state_timeout", -1, "x")]),
     ("bad_action_from_state_function", ("state_timeout", -1, "x"))),
    (("foo",), ("bad_return_from_state_function", ("foo",))),
    (("keep_state_and_data", [("next_event", "bogus", 1)]),
     ("bad_action_from_state_function", ("next_event", "bogus", 1))),
    (("keep_state_and_data", [("reply", "garbage", "x")]),
     ("bad_action_from_state_function", ("reply", "garbage", "x"))),
    (("keep_state_and_data", [("next_event", ("call", "garbage"), "x")]),
     ("bad_action_from_state_function", ("next_event", ("call", "garbage"), "x"))),
    (("keep_state_and_data", "pop_callback_module"),
     ("bad_action_from_state_function", "pop_callback_module")),
    (("keep_state_and_data", [(("timeout", ["unhashable"]), 1, "x")]),
     ("bad_action_from_state_function", (("timeout", ["unhashable"]), 1, "x"))),
    (("keep_state_and_data", [("timeout", 1, "x", [("abs", "yes")])]),
     ("bad_action_from_state_function", ("timeout", 1, "x", [("abs", "yes")]))),
    (["next_state", "s1", "d"], ("bad_return_from_state_function", ["next_state", "s1", "d"])),
])
def test_bad_results_and_actions_stop_with_named_reasons(result, reason):
    def f(t, c, s, d):
        return result if c == "x" else "keep_state_and_data"
    assert trace(OK, f, casts("x")) == [
        ("ev", "enter", "s0", "s0"), ("ev", "cast", "x", "s0"), ("terminate", reason, "s0"),
        ("EXIT", reason)]


def test_non_term_bad_return_is_reported_by_repr():
    class Thing:
        def __repr__(self):
            return "<thing>"

    def f(t, c, s, d):
        return Thing() if c == "x" else "keep_state_and_data"
    assert trace(OK, f, casts("x"))[-1] == bad("bad_return_from_state_function", "<thing>")


def test_stop_and_reply_with_a_bad_reply_exits_the_caller_with_the_reason():
    def f(t, c, s, d):
        if c == "x":
            return ("stop_and_reply", "r", ["bogus"])
        return "keep_state_and_data"

    reason = ("bad_reply_action_from_state_function", "bogus")
    start, res, msgs = q(OK, f, lambda p: catch(gs.call, p, "x", 0.1))
    assert res == ("EXIT", (reason, ("gen_statem", "call", (start[1], "x", 0.1))))
    assert msgs[-2:] == [("terminate", reason, "s0"), ("EXIT", reason)]


def test_event_timeout_is_not_started_when_events_are_queued():
    def f(t, c, s, d):
        if c == "x":
            return ("keep_state_and_data", [("timeout", 0.05, "t"),
                                            ("next_event", "internal", "i")])
        return "keep_state_and_data"

    assert trace(OK, f, casts("x")) == [("ev", "enter", "s0", "s0"), ("ev", "cast", "x", "s0"),
                                        ("ev", "internal", "i", "s0")]


def test_timeout_update_with_queued_events_is_dropped():
    def f(t, c, s, d):
        if c == "go":
            return ("keep_state_and_data", [("timeout", "update", "u"),
                                            ("next_event", "internal", "n")])
        return "keep_state_and_data"

    assert trace(OK, f, casts("go")) == [("ev", "enter", "s0", "s0"), ("ev", "cast", "go", "s0"),
                                         ("ev", "internal", "n", "s0")]


def test_call_errors():
    def then(pid):
        return [catch(gs.call, pid, "x", 0.01), catch(gs.call, "nonexistent_name", "x")]

    start, res, _ = q(OK, keep, then)
    assert res == [("EXIT", ("timeout", ("gen_statem", "call", (start[1], "x", 0.01)))),
                   ("EXIT", ("noproc", ("gen_statem", "call", ("nonexistent_name", "x", None))))]


def test_call_default_timeout_is_infinity_and_late_replies_are_dropped():
    def f(t, c, s, d):
        if type(t) is tuple and c == "slow":
            return ("keep_state_and_data", [(("timeout", "r"), 100, t[1])])
        if t == ("timeout", "r"):
            return ("keep_state_and_data", [("reply", c, "late")])
        return "keep_state_and_data"

    def then(pid):
        first = gs.call(pid, "slow")  # 100 s (virtual): no default timeout
        second = catch(gs.call, pid, "slow", 1)
        vm.sleep(200)
        late = [m for m in vm.flush() if type(m) is tuple and type(m[0]) is vm.Ref]
        return first, second[1][0], late

    assert q(OK, f, then)[1] == ("late", "timeout", [])


def test_stop_and_reply_normal_replies_then_terminates():
    def f(t, c, s, d):
        if type(t) is tuple and t[0] == "call":
            return ("stop_and_reply", "normal", [("reply", t[1], "bye")], "d2")
        return "keep_state_and_data"

    start, res, msgs = q(OK, f, lambda p: gs.call(p, "x"))
    assert res == "bye"
    assert msgs == [("ev", "enter", "s0", "s0"), ("ev", ("call", "from"), "x", "s0"),
                    ("terminate", "normal", "s0"), ("EXIT", "normal")]


def test_stop_atom_and_stop_with_new_data():
    def f(t, c, s, d):
        return "stop" if c == "x" else "keep_state_and_data"
    assert trace(OK, f, casts("x"))[-2:] == [("terminate", "normal", "s0"), ("EXIT", "normal")]

    class Seen(Scripted):
        def terminate(self, reason, state, data):
            vm.send(self.test, ("terminate", reason, state, data))

    def main():
        vm.process_flag("trap_exit", True)

        def g(t, c, s, d):
            if c == "go":
                return ("stop", ("shutdown", "x"), "newdata")
            return "keep_state_and_data"

        ok, pid = gs.start_link(Seen, (vm.self(), g, OK, None))
        gs.cast(pid, "go")
        return vm.receive(("terminate", ANY, ANY, ANY)), vm.receive(("EXIT", pid, ANY))[2]

    assert run(main) == (("terminate", ("shutdown", "x"), "s0", "newdata"), ("shutdown", "x"))


def test_crash_calls_terminate_with_the_crash():
    def f(t, c, s, d):
        if c == "x":
            raise RuntimeError("boom")
        return "keep_state_and_data"

    msgs = trace(OK, f, casts("x"))
    (_, reason, state), (_, exit_reason) = msgs[-2:]
    assert state == "s0" and reason == exit_reason
    assert reason.exc_type == "RuntimeError" and reason.message == "boom"


def test_state_timeout_belongs_to_the_new_state_generic_survives():
    def f(t, c, s, d):
        if c == "go" and s == "s0":
            return ("next_state", "s1", d, [("state_timeout", 0.05, "st1"),
                                            (("timeout", "g"), 0.08, "gen")])
        if c == "go" and s == "s1":
            return ("next_state", "s2", d)
        return "keep_state_and_data"

    def then(pid):
        gs.cast(pid, "go")
        vm.sleep(0.02)
        gs.cast(pid, "go")

    assert trace(OK, f, then) == [
        ("ev", "enter", "s0", "s0"), ("ev", "cast", "go", "s0"), ("ev", "enter", "s0", "s1"),
        ("ev", "cast", "go", "s1"), ("ev", "enter", "s1", "s2"),
        ("ev", ("timeout", "g"), "gen", "s2")]


def test_postponed_events_retry_only_on_a_state_change():
    def f(t, c, s, d):
        if c == "p" and s == "s0":
            return ("keep_state_and_data", ["postpone"])
        return {"k": ("keep_state", "d2"), "r": ("repeat_state", "d3"),
                "n": ("next_state", "s0", "d4"), "c": ("next_state", "s1", "d5")}.get(
                    c, "keep_state_and_data") if t == "cast" else "keep_state_and_data"

    assert trace(OK, f, casts("p", "k", "r", "n", "c")) == [
        ("ev", "enter", "s0", "s0"), ("ev", "cast", "p", "s0"), ("ev", "cast", "k", "s0"),
        ("ev", "cast", "r", "s0"), ("ev", "enter", "s0", "s0"), ("ev", "cast", "n", "s0"),
        ("ev", "cast", "c", "s0"), ("ev", "enter", "s0", "s1"), ("ev", "cast", "p", "s1")]


def test_state_change_is_exact_comparison():
    # Erlang's =/=: 1 and 1.0 are different states, so the postponed event is retried
    def f(t, c, s, d):
        if c == "p" and s == 1 and type(s) is int:
            return ("keep_state_and_data", ["postpone"])
        if c == "go":
            return ("next_state", 1.0, d)
        return "keep_state_and_data"

    msgs = trace(("ok", 1, "d"), f, casts("p", "go"), mode="handle_event_function")
    assert msgs == [("ev", "cast", "p", 1), ("ev", "cast", "go", 1), ("ev", "cast", "p", 1.0)]
    assert type(msgs[-1][3]) is float


def test_event_timeout_cancelled_by_a_state_timeout_event():
    def f(t, c, s, d):
        if c == "go":
            return ("keep_state_and_data", [("timeout", 0.05, "et"), ("state_timeout", 0.02, "st")])
        return "keep_state_and_data"

    assert trace(OK, f, casts("go")) == [("ev", "enter", "s0", "s0"), ("ev", "cast", "go", "s0"),
                                         ("ev", "state_timeout", "st", "s0")]


def test_update_keeps_time_infinity_and_cancel_stop_timers():
    def f(t, c, s, d):
        if c == "go":
            return ("keep_state_and_data", [("state_timeout", 0.05, "st"),
                                            (("timeout", "a"), 0.06, "a"),
                                            (("timeout", "b"), 0.01, "b")])
        if c == "upd":
            return ("keep_state_and_data", [("state_timeout", "update", "st2"),
                                            (("timeout", "a"), None, "x"),
                                            (("timeout", "b"), "cancel")])
        return "keep_state_and_data"

    def then(pid):
        gs.cast(pid, "go")
        vm.sleep(0.005)
        gs.cast(pid, "upd")

    assert trace(OK, f, then) == [
        ("ev", "enter", "s0", "s0"), ("ev", "cast", "go", "s0"), ("ev", "cast", "upd", "s0"),
        ("ev", "state_timeout", "st2", "s0")]


def test_enter_may_keep_the_state_reply_and_stop():
    def f(t, c, s, d):
        if t == "enter" and s == "s0":
            return ("next_state", "s0", d + 1, [("reply", (vm.self(), vm.make_ref()), "x")])
        if t == "enter" and s == "s1":
            return ("stop_and_reply", "bye", [])
        if c == "go":
            return ("next_state", "s1", d)
        return "keep_state_and_data"

    msgs = trace(("ok", "s0", 0), f, casts("go"))
    # (the reply to a made-up from_ goes to an inactive alias and is dropped)
    assert msgs == [("ev", "enter", "s0", "s0"), ("ev", "cast", "go", "s0"),
                    ("ev", "enter", "s0", "s1"),
                        ("terminate", "bye", "s1"), ("EXIT", "bye")]


def test_repeat_state_with_reply_reruns_enter():
    def f(t, c, s, d):
        if type(t) is tuple:
            return ("repeat_state", d + 1, [("reply", t[1], "ok")])
        if t == "enter":
            vm.send(vm.whereis("test"), ("enter_data", c, s, d))
        return "keep_state_and_data"

    def then(pid):
        return gs.call(pid, "go")

    def main():
        vm.register("test", vm.self())
        ok, pid = gs.start_link(Scripted, (vm.self(), f, ("ok", "s0", 0), None))
        r = then(pid)
        return r, collect()

    r, msgs = run(main)
    assert r == "ok"
    assert msgs == [("ev", "enter", "s0", "s0"), ("enter_data", "s0", "s0", 0),
                    ("ev", ("call", "from"), "go", "s0"), ("ev", "enter", "s0", "s0"),
                    ("enter_data", "s0", "s0", 1)]


def test_parent_exit_runs_terminate_when_trapping_other_exits_are_info():
    def f(t, c, s, d):
        if t == "enter":
            vm.process_flag("trap_exit", True)
        return "keep_state_and_data"

    def parent_kills(pid):
        vm.exit(pid, "because")

    assert trace(("ok", "s0", 0), f, parent_kills) == [
        ("ev", "enter", "s0", "s0"), ("terminate", "because", "s0"), ("EXIT", "because")]

    def other_kills(pid):
        vm.spawn(vm.exit, pid, "because")

    msgs = trace(("ok", "s0", 0), f, other_kills)
    assert msgs[1][:2] == ("ev", "info") and msgs[1][2][0] == "EXIT"
    assert msgs[1][2][2] == "because" and len(msgs) == 2


def test_zero_timeouts_fire_in_action_order_and_any_event_cancels_the_event_timeout():
    def f(t, c, s, d):
        if c == "go":
            return ("keep_state_and_data", [("state_timeout", 0, "z"), ("timeout", 0, "e")])
        if c == "go2":
            return ("keep_state_and_data", [("timeout", 0, "e"), ("state_timeout", 0, "z")])
        return "keep_state_and_data"

    def then(pid):
        gs.cast(pid, "go")
        vm.sleep(0.01)
        gs.cast(pid, "go2")

    assert trace(("ok", "s0", 0), f, then) == [
        ("ev", "enter", "s0", "s0"), ("ev", "cast", "go", "s0"),
        ("ev", "state_timeout", "z", "s0"), ("ev", "cast", "go2", "s0"),
        ("ev", "timeout", "e", "s0"), ("ev", "state_timeout", "z", "s0")]


def test_next_event_call_replied_later_with_a_reply_list():
    def f(t, c, s, d):
        if type(t) is tuple and t[0] == "call" and c == "go":
            return ("keep_state_and_data", [("next_event", "internal", ("later", t[1]))])
        if t == "internal":
            gs.reply([("reply", c[1], "from_internal")])
        return "keep_state_and_data"

    assert q(("ok", "s0", 0), f, lambda p: gs.call(p, "go"))[1] == "from_internal"


def test_absolute_timeout():
    def f(t, c, s, d):
        if c == "go":
            return ("keep_state_and_data",
                    [("state_timeout", vm.monotonic() + 0.03, "abs", [("abs", True)])])
        return "keep_state_and_data"

    assert trace(("ok", "s0", 0), f, casts("go"))[-1] == ("ev", "state_timeout", "abs", "s0")


def test_a_bare_number_is_an_event_timeout_with_the_time_as_content():
    def f(t, c, s, d):
        return ("keep_state_and_data", 0.03) if c == "go" else "keep_state_and_data"
    assert trace(("ok", "s0", 0), f, casts("go"))[-1] == ("ev", "timeout", 0.03, "s0")


def test_postponed_and_next_event_order_after_a_state_change():
    def f(t, c, s, d):
        if c == "a" and s == "s0":
            return ("keep_state_and_data", ["postpone"])
        if c == "b" and s == "s0":
            return ("next_state", "s1", 0, ["postpone", ("next_event", "internal", "ne"),
                                            ("timeout", 0.01, "et")])
        return "keep_state_and_data"

    assert trace(("ok", "s0", 0), f, casts("a", "b", "c")) == [
        ("ev", "enter", "s0", "s0"), ("ev", "cast", "a", "s0"), ("ev", "cast", "b", "s0"),
        ("ev", "enter", "s0", "s1"), ("ev", "internal", "ne", "s1"),
        ("ev", "cast", "a", "s1"), ("ev", "cast", "b", "s1"), ("ev", "cast", "c", "s1")]


def test_state_timeout_update_in_a_state_change_sees_it_cancelled():
    def f(t, c, s, d):
        if c == "go":
            return ("keep_state_and_data", [("state_timeout", 0.05, "old")])
        if c == "go2":
            return ("next_state", "s1", 0, [("state_timeout", "update", "new")])
        return "keep_state_and_data"

    assert trace(("ok", "s0", 0), f, casts("go", "go2")) == [
        ("ev", "enter", "s0", "s0"), ("ev", "cast", "go", "s0"), ("ev", "cast", "go2", "s0"),
        ("ev", "enter", "s0", "s1"), ("ev", "state_timeout", "new", "s1")]


def test_enter_actions_join_the_event_actions_later_wins():
    def f(t, c, s, d):
        if t == "enter" and s == "s1":
            return ("keep_state_and_data", [("state_timeout", 0.01, "from_enter"),
                                            (("timeout", "g"), 0.005, "g_enter")])
        if c == "go":
            return ("next_state", "s1", 0, [("state_timeout", 0.001, "from_event"),
                                            (("timeout", "g"), 1, "g_event")])
        return "keep_state_and_data"

    assert trace(("ok", "s0", 0), f, casts("go")) == [
        ("ev", "enter", "s0", "s0"), ("ev", "cast", "go", "s0"), ("ev", "enter", "s0", "s1"),
        ("ev", ("timeout", "g"), "g_enter", "s1"), ("ev", "state_timeout", "from_enter", "s1")]


def test_event_timeout_starts_after_a_postpone_with_an_empty_queue():
    def f(t, c, s, d):
        if c == "go":
            return ("keep_state_and_data", ["postpone", ("timeout", 0.01, "et")])
        return "keep_state_and_data"
    assert trace(("ok", "s0", 0), f, casts("go"))[-1] == ("ev", "timeout", "et", "s0")


def test_without_state_enter_no_enter_calls_and_repeat_does_not_retry():
    def f(t, c, s, d):
        if c == "go":
            return "repeat_state_and_data"
        if c == "p":
            return ("keep_state_and_data", "postpone")
        return "keep_state_and_data"

    assert trace(("ok", "s0", 0), f, casts("p", "go"), mode="handle_event_function") == [
        ("ev", "cast", "p", "s0"), ("ev", "cast", "go", "s0")]


# ----------------------------------------------------------------------
# hibernation, module switching, enter_loop


def test_hibernate_and_wake_up():
    def f(t, c, s, d):
        if c == "sleep":
            return ("keep_state", d + 1, ["hibernate"])
        if type(t) is tuple:
            return ("keep_state_and_data", [("reply", t[1], d)])
        return "keep_state_and_data"

    def then(pid):
        gs.cast(pid, "sleep")
        vm.sleep(0.01)
        status = vm.process_info(pid, "status")
        return status, gs.call(pid, "get"), gs.call(pid, "get")

    assert q(("ok", "s0", 0), f, then)[1] == ("waiting", 1, 1)


def test_hibernate_after_idle_time():
    def f(t, c, s, d):
        if type(t) is tuple:
            return ("keep_state", d + 1, [("reply", t[1], d)])
        return "keep_state_and_data"

    def main():
        ok, pid = gs.start_link(Scripted, (vm.self(), f, ("ok", "s0", 0), None),
                                hibernate_after=1.0)
        a = gs.call(pid, "x")
        vm.sleep(5)
        return a, gs.call(pid, "x"), gs.call(pid, "x")

    assert run(main) == (0, 1, 2)


class Second(gs.GenStatem):
    def callback_mode(self):
        return "state_functions"

    def s0(self, t, c, d):
        if type(t) is tuple:
            return ("keep_state_and_data", [("reply", t[1], ("second", c)), "pop_callback_module"])
        return "keep_state_and_data"


def test_push_and_pop_callback_module():
    def f(t, c, s, d):
        if type(t) is tuple and c == "switch":
            return ("keep_state_and_data", [("reply", t[1], "first"),
                                            ("push_callback_module", Second)])
        if type(t) is tuple:
            return ("keep_state_and_data", [("reply", t[1], ("first", c))])
        return "keep_state_and_data"

    def then(pid):
        return [gs.call(pid, "switch"), gs.call(pid, "a"), gs.call(pid, "b")]

    assert q(("ok", "s0", 0), f, then)[1] == ["first", ("second", "a"), ("first", "b")]


def test_enter_loop_turns_a_proc_lib_process_into_a_machine():
    from stdlib import proc_lib

    def body():
        vm.register("el", vm.self())
        proc_lib.init_ack("ready")
        gs.enter_loop(CodeLock(), "locked", {"code": "42", "length": 2, "buttons": [],
                                                 "open_time": 1.0}, name="el")

    def unregistered():
        proc_lib.init_ack("ready")
        gs.enter_loop(CodeLock, "locked", {}, name="nobody")

    def main():
        vm.process_flag("trap_exit", True)
        r = proc_lib.start_link(body)
        length = gs.call("el", "code_length")
        proc_lib.start_link(unregistered)
        return r, length, vm.receive(("EXIT", ANY, ANY))[2]

    assert run(main) == ("ready", 2, "process_not_registered")


# ----------------------------------------------------------------------
# reports, format_status, terminate


class Secretive(gs.GenStatem):
    def callback_mode(self):
        return "handle_event_function"

    def init(self, how):
        self.how = how
        return ("ok", "s", {"secret": 1, "public": 2})

    def handle_event(self, t, c, s, d):
        if c == "crash":
            raise KeyError("boom")
        if c == "stop":
            return ("stop", c)
        return ("keep_state_and_data", "postpone")

    def format_status(self, status):
        if self.how == "fs_crash":
            raise RuntimeError("no")
        data = dict(status["data"])
        data.pop("secret")
        return dict(status, data=data)

    def terminate(self, reason, state, data):
        if self.how == "term_crash":
            raise ValueError("in terminate")


def _crash(how, msg):
    def main():
        vm.process_flag("trap_exit", True)
        ok, pid = gs.start_link(Secretive, how, name="sec")
        gs.cast(pid, "early")
        gs.cast(pid, msg)
        return vm.receive(("EXIT", pid, ANY))[2]
    return run(main)


def _reports(caplog, label):
    return [r.report for r in caplog.records
            if hasattr(r, "report") and r.report["label"] == label]


def test_crash_report_uses_format_status_and_names_the_last_event(caplog):
    with caplog.at_level(logging.ERROR, logger="beamlet.otp"):
        reason = _crash("ok", "crash")
    [rep] = _reports(caplog, "gen_statem_terminate")
    assert rep["name"] == "sec" and rep["reason"] == reason
    assert rep["state"] == ("s", {"public": 2})
    assert rep["last_message"] == ("cast", "crash")
    assert rep["postponed"] == [("cast", "early")]
    assert rep["callback_mode"] == "handle_event_function"
    assert "State machine 'sec' terminating" in caplog.text
    assert len(_reports(caplog, "crash_report")) == 1


def test_format_status_crash_hides_the_data(caplog):
    with caplog.at_level(logging.ERROR, logger="beamlet.otp"):
        _crash("fs_crash", "crash")
    [rep] = _reports(caplog, "gen_statem_terminate")
    assert rep["state"] == ("s", "Secretive.format_status crashed")


def test_terminate_crash_replaces_the_reason(caplog):
    with caplog.at_level(logging.ERROR, logger="beamlet.otp"):
        reason = _crash("term_crash", "stop")
    assert reason.exc_type == "ValueError"
    assert _reports(caplog, "gen_statem_terminate")[0]["reason"] == reason


def test_quiet_reasons_are_not_reported(caplog):
    def main():
        for reason in ("normal", "shutdown", ("shutdown", "x")):
            ok, pid = gs.start(CodeLock, "1")
            gs.stop(pid, reason)
        return True

    with caplog.at_level(logging.DEBUG, logger="beamlet.otp"):
        assert run(main)
    assert _reports(caplog, "gen_statem_terminate") == []
    assert _reports(caplog, "crash_report") == []


def test_client_of_a_crashing_call_is_reported(caplog):
    def main():
        ok, pid = gs.start(Secretive, "ok")
        return catch(gs.call, pid, "crash")

    with caplog.at_level(logging.ERROR, logger="beamlet.otp"):
        r = run(main)
    assert r[1][0].exc_type == "KeyError"
    [rep] = _reports(caplog, "gen_statem_terminate")
    assert rep["client"][0] is not None and rep["last_message"][1] == "crash"


def test_stop_errors_and_cast_to_nobody():
    def main():
        ok, pid = gs.start(CodeLock, "1")
        r = [gs.cast("nobody", "x"), gs.stop(pid), catch(gs.stop, pid)]
        return r

    # OTP: gen_statem:stop of a dead machine exits with the bare atom noproc
    assert run(main) == ["ok", "ok", ("EXIT", "noproc")]


# ----------------------------------------------------------------------
# otp_sys


def test_sys_get_state_replace_state_and_status():
    def main():
        ok, pid = gs.start_link(CodeLock, "12", name="door")
        gs.cast(pid, ("button", "1"))
        state = otp_sys.get_state("door")
        new = otp_sys.replace_state("door", lambda sd: ("open", sd[1]))
        bad = catch(otp_sys.replace_state, "door", lambda sd: "not a pair")
        status = otp_sys.get_status("door")
        return state, new[0], bad, status

    state, new, bad, status = run(main)
    assert state == ("locked", {"code": "12", "length": 2, "buttons": ["1"], "open_time": 10.0})
    assert new == "open"
    assert bad[1][0][0] == "callback_failed"
    assert bad[1][0][1] == ("gen_statem", "system_replace_state")
    tag, pid, module, (pdict, sys_state, parent, dbg, misc) = status
    assert (tag, module, sys_state, dbg) == ("status", ("module", "gen_statem"), "running", [])
    assert misc[0] == ("header", "Status for state machine door")
    data = dict(misc[1][1])
    assert data["Modules"] == ["CodeLock"] and data["Postponed"] == []
    assert data["Time-outs"] == (1, [("state_timeout", "button")])
    assert misc[2] == ("data", [("State", ("open", state[1]))])


def test_sys_suspend_queues_events_and_resume_replays_otp_order():
    # the OTP 25 recording used sys:suspend to queue the casts; same trace
    def f(t, c, s, d):
        if c == "go":
            return ("next_state", "s1", d, [("timeout", 0, "zero")])
        return "keep_state_and_data"

    def then(pid):
        otp_sys.suspend(pid)
        gs.cast(pid, "go")
        gs.cast(pid, "other")
        vm.sleep(0.01)
        otp_sys.resume(pid)

    assert trace(OK, f, then) == [
        ("ev", "enter", "s0", "s0"), ("ev", "cast", "go", "s0"), ("ev", "enter", "s0", "s1"),
        ("ev", "timeout", "zero", "s1"), ("ev", "cast", "other", "s1")]


def test_sys_terminate_runs_terminate():
    def then(pid):
        return otp_sys.terminate(pid, ("shutdown", "sys"))

    start, res, msgs = q(OK, keep, then)
    assert res == "ok"
    assert msgs[-2:] == [("terminate", ("shutdown", "sys"), "s0"), ("EXIT", ("shutdown", "sys"))]


def test_sys_trace_and_log_read_like_otp(capsys):
    def f(t, c, s, d):
        if t == "enter":
            return ("keep_state_and_data", [("state_timeout", 0, "z")])
        if type(t) is tuple and c == "go" and s == "s0":
            return ("next_state", "s1", d, [("reply", t[1], "ok"), "postpone",
                                            (("timeout", "g"), 100, "gg")])
        return "keep_state_and_data"

    def main():
        ok, pid = gs.start(Scripted, (vm.self(), f, OK, None), name="m",
                           debug=["trace", "log"])
        gs.call(pid, "go")
        vm.sleep(0.05)
        log = otp_sys.log(pid, "get")
        gs.stop(pid)
        return log

    tag, events = run(main)
    assert tag == "ok"
    # the log keeps the last 10 events, as OTP's default
    assert [e[0] for e in events] == ["in", "consume", "in", "out", "postpone", "start_timer",
                                      "start_timer", "consume", "in", "consume"]
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "*DBG* m enter Scripted in state 's0'"
    assert out[1] == "*DBG* m consume internal 'init_state' in state 's0'"
    assert out[3] == "*DBG* m receive state_timeout 'z' in state 's0'"
    assert out[5].startswith("*DBG* m receive call 'go' from <0.")
    assert out[7].startswith("*DBG* m postpone call 'go' from <") and out[7].endswith(
        "in state 's0' => 's1'")
    assert out[-1] == "*DBG* m terminate 'normal' in state 's1'"


def test_sys_statistics_count_events():
    def main():
        ok, pid = gs.start(CodeLock, "1", debug=["statistics"])
        for _ in range(3):
            gs.call(pid, "code_length")
        return otp_sys.statistics(pid, "get")

    ok, stats = run(main)
    assert (stats["messages_in"], stats["messages_out"]) == (3, 3)


class Versioned(CodeLock):
    def code_change(self, old_vsn, state, data, extra):
        return ("ok", "locked", dict(data, vsn=(old_vsn, extra)))


def test_sys_change_code_while_suspended():
    def main():
        ok, pid = gs.start(Versioned, "1")
        otp_sys.suspend(pid)
        r = otp_sys.change_code(pid, Versioned, 1, "x")
        otp_sys.resume(pid)
        return r, otp_sys.get_state(pid)[1]["vsn"]

    assert run(main) == ("ok", (1, "x"))


def test_classmethod_conveniences_and_child_spec():
    def main():
        ok, pid = CodeLock.start_link("123", name="door")
        return gs.call("door", "code_length"), CodeLock.child_spec("9")

    length, spec = run(main)
    assert length == 3
    assert spec["id"] is CodeLock and spec["start"][1] == ("9",)


def test_a_state_named_like_a_convenience_needs_its_own_function():
    reason = _exit_reason_in_state("start")
    assert reason.exc_type == "AttributeError" and "def start(self" in reason.message


def test_a_machine_under_a_supervisor_is_restarted():
    from stdlib import supervisor

    def main():
        ok, sup = supervisor.start_link_children([(CodeLock, "12")])
        [(cid, pid, kind, _mods)] = supervisor.which_children(sup)
        vm.exit(pid, "kill")
        vm.sleep(0.01)
        [(_, pid2, _, _)] = supervisor.which_children(sup)
        return cid is CodeLock, kind, pid2 != pid, gs.call(pid2, "code_length")

    assert run(main) == (True, "worker", True, 2)


def test_reply_forms():
    def f(t, c, s, d):
        if type(t) is tuple:
            if c == "single":
                gs.reply(("reply", t[1], "one"))
            elif c == "none":
                gs.reply(t[1], None)
            else:
                gs.reply([("reply", t[1], "listed")])
        return "keep_state_and_data"

    def then(pid):
        with pytest.raises(vm.BadArg, match="reply"):
            gs.reply((vm.self(), vm.make_ref()))
        return [gs.call(pid, "single"), gs.call(pid, "none"), gs.call(pid, "list")]

    assert q(OK, f, then)[1] == ["one", None, "listed"]
