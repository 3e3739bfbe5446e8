"""otp_sys: get/replace state, status, suspend/resume, terminate, trace, log, statistics,
and the system-message protocol as a plug-in for other behaviour loops."""

import pytest

import vm
from stdlib import gen_server, otp_sys, proc_lib
from tests.stdlib.callbacks.servers import Redacting, Server, Upgrade
from vm.testing import catch, run

ANY = vm.ANY


def test_get_state_and_replace_state():
    def main():
        ok, pid = gen_server.start(Server, {"n": 1})
        before = otp_sys.get_state(pid)
        new = otp_sys.replace_state(pid, lambda s: {**s, "n": s["n"] + 1})
        return before, new, gen_server.call(pid, "get")

    assert run(main) == ({"n": 1}, {"n": 2}, {"n": 2})


def test_replace_state_that_raises_leaves_state_and_exits_caller():
    def main():
        ok, pid = gen_server.start(Server, {"n": 1})
        r = catch(otp_sys.replace_state, pid, lambda s: 1 / 0)
        return r, otp_sys.get_state(pid), vm.is_process_alive(pid)

    (tag, (reason, where)), state, alive = run(main)
    assert tag == "EXIT" and reason[0] == "callback_failed"
    assert reason[1] == ("gen_server", "system_replace_state")
    assert reason[2][0] == "error" and reason[2][1].exc_type == "ZeroDivisionError"
    assert where[:2] == ("sys", "replace_state")
    assert (state, alive) == ({"n": 1}, True)


def test_failures_name_sys_and_the_arity():
    def main():
        ok, pid = gen_server.start(Server, {})
        otp_sys.suspend(pid)
        slow = catch(gen_server.call, pid, "x", 0.5)  # suspended: calls wait
        otp_sys.resume(pid)
        return (catch(otp_sys.get_state, "nobody"), catch(otp_sys.get_state, "nobody", 1.0),
                slow[1][0])

    assert run(main) == (("EXIT", ("noproc", ("sys", "get_state", ("nobody",)))),
                            ("EXIT", ("noproc", ("sys", "get_state", ("nobody", 1.0)))),
                            "timeout")


def test_get_status_shape_and_format_status():
    def main():
        vm.register("top", vm.self())
        ok, pid = gen_server.start_link(Redacting, {"secret": "s", "k": 1}, name="st")
        return pid, vm.self(), otp_sys.get_status("st")

    pid, me, status = run(main)
    tag, spid, module, items = status
    assert (tag, spid, module) == ("status", pid, ("module", "gen_server"))
    pdict, sys_state, parent, debug, misc = items
    assert dict(pdict)["$ancestors"] == ["top"]
    assert (sys_state, parent, debug) == ("running", me, [])
    assert misc == [
        ("header", "Status for generic server st"),
        ("data", [("Status", "running"), ("Parent", me), ("Logged events", [])]),
        ("data", [("State", {"secret": "***", "k": 1})]),
    ]


def test_suspend_queues_normal_messages_until_resume():
    def main():
        ok, pid = gen_server.start(Server, {"report": vm.self()})
        vm.receive(("init", ANY))
        otp_sys.suspend(pid)
        status = otp_sys.get_status(pid)[3][1]
        gen_server.cast(pid, "while-suspended")
        state = otp_sys.get_state(pid)  # system messages are still answered
        early = vm.receive(("cast", ANY), timeout=0.5)
        otp_sys.resume(pid)
        late = vm.receive(("cast", ANY), timeout=0.5)
        return status, "report" in state, early, late

    assert run(main) == ("suspended", True, vm.TIMEOUT, ("cast", "while-suspended"))


def test_terminate_runs_the_terminate_callback_and_waits():
    def main():
        ok, pid = gen_server.start(Server, {"report": vm.self()})
        vm.receive(("init", ANY))
        r = otp_sys.terminate(pid, "shutdown")
        return r, vm.is_process_alive(pid), vm.receive(("terminate", ANY), timeout=0)

    assert run(main) == ("ok", False, ("terminate", "shutdown"))


def test_terminate_while_suspended():
    def main():
        ok, pid = gen_server.start(Server, {"report": vm.self()})
        vm.receive(("init", ANY))
        otp_sys.suspend(pid)
        otp_sys.terminate(pid, "normal")
        return vm.receive(("terminate", ANY), timeout=0)

    assert run(main) == ("terminate", "normal")


def test_trace_prints_dbg_lines(capsys):
    def main():
        ok, pid = gen_server.start(Server, {}, name="tr")
        otp_sys.trace("tr", True)
        gen_server.call("tr", ("set", "a", 1))
        gen_server.cast("tr", ("set", "b", 2))
        vm.send(pid, "hello")
        vm.sleep(0.1)
        otp_sys.trace("tr", False)
        gen_server.call("tr", "quiet")
        return vm.self()

    me = run(main)
    lines = capsys.readouterr().out.splitlines()
    assert lines == [
        f"*DBG* tr got call ('set', 'a', 1) from {me}",
        f"*DBG* tr sent 'ok' to {me}, new state {{'a': 1}}",
        "*DBG* tr got cast ('set', 'b', 2)",
        "*DBG* tr new state {'a': 1, 'b': 2}",
        "*DBG* tr got 'hello'",
        "*DBG* tr new state {'a': 1, 'b': 2}",
    ]


def test_log_keeps_the_last_n_events():
    def main():
        ok, pid = gen_server.start(Server, {})
        assert otp_sys.log(pid, "get") == ("ok", [])
        otp_sys.log(pid, (True, 3))
        gen_server.cast(pid, ("set", "a", 1))
        gen_server.call(pid, "get")
        events = otp_sys.log(pid, "get")
        otp_sys.log(pid, False)
        return events, otp_sys.log(pid, "get")

    (ok, events), after = run(main)
    assert ok == "ok" and len(events) == 3
    assert events[0] == ("noreply", {"a": 1})
    assert events[1][0] == "in" and events[1][1][0] == "$gen_call"
    assert events[2][0] == "out" and events[2][1] == {"a": 1}
    assert after == ("ok", [])


def test_log_print(capsys):
    def main():
        ok, pid = gen_server.start(Server, {}, name="lp")
        otp_sys.log("lp", True)
        gen_server.cast("lp", ("set", "a", 1))
        return otp_sys.log("lp", "print")

    assert run(main) == "ok"
    out = capsys.readouterr().out
    assert "*DBG* lp got cast ('set', 'a', 1)" in out and "*DBG* lp new state {'a': 1}" in out


def test_statistics_counts_messages():
    def main():
        ok, pid = gen_server.start(Server, {})
        none = otp_sys.statistics(pid, "get")
        otp_sys.statistics(pid, True)
        gen_server.call(pid, "x")
        gen_server.cast(pid, "y")
        gen_server.call(pid, "z")
        ok, stats = otp_sys.statistics(pid, "get")
        otp_sys.statistics(pid, False)
        return none, stats, otp_sys.statistics(pid, "get")

    none, stats, off = run(main)
    assert none == off == ("ok", "no_statistics")
    assert (stats["messages_in"], stats["messages_out"]) == (3, 2)
    assert stats["reductions"] > 0 and stats["current_time"] >= stats["start_time"]


def test_debug_options_at_start_and_no_debug(capsys):
    def main():
        ok, pid = gen_server.start(Server, {}, name="d", debug=["trace", ("log", 5),
                                                                 "statistics"])
        gen_server.call("d", "x")
        status_debug = otp_sys.get_status("d")[3][3]
        otp_sys.no_debug("d")
        gen_server.call("d", "y")
        return [k for k, _ in status_debug], otp_sys.log("d", "get")

    keys, log = run(main)
    assert keys == ["trace", "log", "statistics"] and log == ("ok", [])
    assert capsys.readouterr().out.count("*DBG*") == 2


def test_change_code_only_while_suspended():
    def main():
        ok, pid = gen_server.start(Upgrade, "s")
        running = otp_sys.change_code(pid, Upgrade, "1", "x")
        otp_sys.suspend(pid)
        ok1 = otp_sys.change_code(pid, Upgrade, "1", "x")
        failed = otp_sys.change_code(pid, Upgrade, "2", "fail")
        otp_sys.resume(pid)
        return running, ok1, failed, gen_server.call(pid, "get")

    running, ok1, failed, state = run(main)
    assert running == ("error", ("unknown_system_msg", ("change_code", Upgrade, "1", "x")))
    assert ok1 == "ok" and failed == ("error", "cannot") and state == ("1", "s", "x")


def test_bad_flags_are_refused_in_the_caller():
    def main():
        for fn, flag in ((otp_sys.trace, "yes"), (otp_sys.log, 3), (otp_sys.statistics, "on")):
            with pytest.raises(vm.BadArg, match="flag must be"):
                fn("whatever", flag)
        with pytest.raises(vm.BadArg, match="function state -> new state"):
            otp_sys.replace_state("whatever", 42)
        return True

    assert run(main)


class Plain(otp_sys.SystemHooks):
    """A hand-written behaviour loop (as gen_statem plugs in): state is a counter."""

    system_module = "counter_loop"

    def __init__(self, parent):
        self.parent = parent
        self.n = 0
        self.debug = None

    def system_get_state(self):
        return self.n

    def system_replace_state(self, fn):
        self.n = fn(self.n)
        return self.n

    def system_get_status(self, sys_state, parent, debug):
        return [("data", [("Counter", self.n)])]

    def system_terminate(self, reason, parent, debug):
        vm.exit(reason)

    def loop(self):
        while True:
            msg = vm.receive()
            if msg[0] == "system":
                self.debug = otp_sys.handle_system_msg(msg[2], msg[1], self.parent, self,
                                                       self.debug)
            elif msg[0] == "inc":
                self.n += 1
                if self.debug is not None:
                    self.debug.event(otp_sys.default_format, "plain", ("in", msg))


def plain_main():
    proc_lib.init_ack(("ok", vm.self()))
    Plain(vm.process_info(vm.self(), "parent")).loop()


def test_handle_system_msg_serves_any_loop():
    def main():
        ok, pid = proc_lib.start_link(plain_main)
        vm.send(pid, ("inc",))
        otp_sys.log(pid, True)
        vm.send(pid, ("inc",))
        state = otp_sys.get_state(pid)
        otp_sys.replace_state(pid, lambda n: n * 10)
        status = otp_sys.get_status(pid)
        log = otp_sys.log(pid, "get")
        vm.process_flag("trap_exit", True)
        r = otp_sys.terminate(pid, "shutdown")
        return state, status[2], status[3][4], log, r

    assert run(main) == (2, ("module", "counter_loop"), [("data", [("Counter", 20)])],
                            ("ok", [("in", ("inc",))]), "ok")


def test_unsendable_state_is_an_error_not_a_crash():
    class Holder(gen_server.GenServer):
        def init(self, arg):
            return ("ok", object())

        def handle_call(self, r, f, s):
            return ("reply", "alive", s)

    def main():
        ok, pid = gen_server.start(Holder, None)
        r = catch(otp_sys.get_state, pid)
        return r[1][0][0], gen_server.call(pid, "ping")

    assert run(main) == ("unsendable", "alive")
