"""proc_lib's synchronous start and crash reports; gen's call, reply, names."""

import logging

import pytest

import vm
from stdlib import gen, proc_lib
from vm.testing import run

ANY = vm.ANY


def echo_server(name):
    """A minimal gen-style loop: answers calls with the request, stops on system terminate."""
    proc_lib.init_ack(("ok", vm.self()))
    while True:
        match vm.receive():
            case ("$gen_call", from_, "slow"):
                vm.sleep(1.0)
                gen.reply(from_, "slow-done")
            case ("$gen_call", from_, ("die", reason)):
                vm.exit(reason)
            case ("$gen_call", from_, request):
                gen.reply(from_, request)
            case ("system", _from, ("terminate", reason)):
                vm.exit(reason)


def test_start_link_returns_init_ack_and_records_ancestry():
    def main():
        vm.register("top", vm.self())
        ok, pid = proc_lib.start_link(echo_server, None)
        d = dict(vm.process_info(pid, "dictionary"))
        linked = vm.process_info(pid, "links") == [vm.self()]
        return ok, d["$ancestors"], d["$initial_call"][1], linked

    ok, ancestors, initial, linked = run(main)
    assert (ok, ancestors, linked) == ("ok", ["top"], True)
    assert initial.endswith("echo_server")


def test_start_returns_error_when_child_dies_and_no_stray_exit():
    def main():
        vm.process_flag("trap_exit", True)
        r = proc_lib.start_link(lambda: vm.exit("bad_init"))
        return r, vm.flush()

    assert run(main) == (("error", "bad_init"), [])


def test_start_timeout_kills_the_child():
    def main():
        r = proc_lib.start(lambda: vm.sleep(10), timeout=0.1)
        return r, len(vm.processes())

    assert run(main) == (("error", "timeout"), 1)


def test_init_fail_returns_value_after_death():
    def child():
        proc_lib.init_fail(("error", "nope"), "normal")

    def main():
        vm.process_flag("trap_exit", True)
        r = proc_lib.start_link(child)
        return r, vm.flush()

    assert run(main) == (("error", "nope"), [])


def test_start_rejects_monitor_in_spawn_opts():
    def main():
        with pytest.raises(vm.BadArg, match="spawn_opts"):
            proc_lib.start(echo_server, None, spawn_opts={"monitor": True})
        return True

    assert run(main)


def test_crash_report_logged_for_errors_not_for_shutdown(caplog):
    caplog.set_level(logging.ERROR, logger="beamlet.otp")

    def main():
        p1, r1 = vm.spawn_monitor(lambda: proc_lib.spawn(lambda: 1 / 0) and vm.sleep(0.1))
        vm.receive(("DOWN", r1, ANY, ANY, ANY))
        proc_lib.spawn(lambda: vm.exit("shutdown"))
        vm.sleep(0.1)
        return True

    run(main)
    reports = [r.report for r in caplog.records if hasattr(r, "report")]
    assert len(reports) == 1
    rep = reports[0]
    assert rep["label"] == "crash_report"
    kind, reason, stack = rep["error_info"]
    assert kind == "error" and reason.exc_type == "ZeroDivisionError" and "1 / 0" in stack
    assert "CRASH REPORT" in caplog.text


def test_call_reply_and_failure_modes():
    def main():
        ok, pid = proc_lib.start(echo_server, None)
        results = [gen.call(pid, "$gen_call", "hi", 5.0, ("gen_server", "call", (pid, "hi")))]
        for req, timeout in (("slow", 0.1), (("die", "boom"), 5.0)):
            try:
                gen.call(pid, "$gen_call", req, timeout, ("gen_server", "call", (pid, req)))
            except vm.Exit as e:
                results.append(e.reason[0])
        try:
            gen.call("ghost", "$gen_call", 1, 5.0, ("m", "f", ()))
        except vm.Exit as e:
            results.append(e.reason)
        vm.register("me", vm.self())
        try:
            gen.call("me", "$gen_call", 1, 5.0, ("m", "f", ()))
        except vm.Exit as e:
            results.append(e.reason[0])
        vm.sleep(2.0)
        results.append(vm.flush())  # the late "slow-done" reply was dropped
        return results

    assert run(main) == ["hi", "timeout", "boom", ("noproc", ("m", "f", ())), "calling_self", []]


def test_named_start_and_already_started():
    def main():
        r1 = gen.start(lambda name: echo_server(name), False, "echo", ())
        r2 = gen.start(lambda name: echo_server(name), False, "echo", ())
        return r1, r2, vm.whereis("echo")

    (ok, pid), r2, where = run(main)
    assert ok == "ok" and where == pid and r2 == ("error", ("already_started", pid))


class DictRegistry:
    """A toy via registry: a module-level dict."""

    names: dict = {}

    @classmethod
    def register_name(cls, name, pid):
        if name in cls.names:
            return "no"
        cls.names[name] = pid
        return "yes"

    @classmethod
    def unregister_name(cls, name):
        cls.names.pop(name, None)

    @classmethod
    def whereis_name(cls, name):
        return cls.names.get(name)

    @classmethod
    def send(cls, name, msg):
        vm.send(cls.names[name], msg)


def test_via_names():
    DictRegistry.names.clear()

    def main():
        name = ("via", DictRegistry, "svc")
        ok, pid = gen.start(lambda n: echo_server(n), False, name, ())
        reply = gen.call(name, "$gen_call", "via!", 1.0, ("m", "f", ()))
        return reply, gen.whereis(name) == pid

    assert run(main) == ("via!", True)


def test_stop_waits_for_exit():
    def main():
        ok, pid = proc_lib.start(echo_server, None)
        r = gen.stop(pid, "normal", None)
        return r, vm.is_process_alive(pid)

    assert run(main) == ("ok", False)


def test_bad_names_are_refused():
    def main():
        with pytest.raises(vm.BadArg, match="global"):
            gen.check_name(("global", "x"))
        with pytest.raises(vm.BadArg, match="via registry"):
            gen.check_name(("via", object(), "x"))
        with pytest.raises(vm.BadArg, match="server name"):
            gen.check_name(42)
        return True

    assert run(main)
