"""gen_server: start results, calls and their failures, actions, terminate rules, reports.

Expected values follow OTP (checked against erl 25 where OTP 25 and the
reference's OTP 26 agree; start failures follow OTP 26, see docs/deviations.md).
"""

import logging

import pytest

import vm
from stdlib import gen_server, otp_sys, proc_lib
from tests.stdlib.callbacks.servers import NoInfo, Redacting, Returns, Server
from vm.testing import catch, drain, run

ANY = vm.ANY


def down_reason(pid):
    ref = vm.monitor(pid)
    return vm.receive(("DOWN", ref, ANY, ANY, ANY))[4]


# ----------------------------------------------------------------------
# start


@pytest.mark.parametrize("init, expected, exit_reason", [
    (("ok", "s"), "ok", None),
    (("ok", "s", 1.0), "ok", None),
    (("ok", "s", "hibernate"), "ok", None),
    (("ok", "s", ("continue", "c")), "ok", None),
    (("stop", "why"), ("error", "why"), "why"),
    ("ignore", "ignore", "normal"),
    (("error", "nope"), ("error", "nope"), "normal"),
    ("junk", ("error", ("bad_return_value", "junk")), ("bad_return_value", "junk")),
    (("ok", "s", "bad-action"), ("error", ("bad_return_value", ("ok", "s", "bad-action"))),
     ("bad_return_value", ("ok", "s", "bad-action"))),
])
def test_init_results_map_to_start_results(init, expected, exit_reason):
    def main():
        vm.process_flag("trap_exit", True)
        r = gen_server.start_link(Returns, {"init": init, "report": vm.self()})
        _, pid = vm.receive(("init", ANY))
        if expected == "ok":
            assert r == ("ok", pid)
            return "ok", vm.is_process_alive(pid)
        # OTP 26: the process is dead and its EXIT consumed when start returns
        return r, vm.is_process_alive(pid), drain()

    out = run(main)
    if expected == "ok":
        assert out == ("ok", True)
    else:
        assert out == (expected, False, [])


def test_init_raising_returns_error_with_the_crash_and_logs_a_crash_report(caplog):
    caplog.set_level(logging.ERROR, logger="beamlet.otp")

    def main():
        vm.process_flag("trap_exit", True)
        return gen_server.start_link(Returns, {"raise": "bad init"}), drain()

    (tag, reason), rest = run(main)
    assert tag == "error" and reason.exc_type == "ValueError" and reason.message == "bad init"
    assert rest == []
    crash = [r.report for r in caplog.records if getattr(r, "report", {}).get("label")
             == "crash_report"]
    assert len(crash) == 1 and crash[0]["error_info"][0] == "error"


def test_init_exit_gives_error_with_the_reason():
    def main():
        return gen_server.start(Returns, {"exit": "gone"})

    assert run(main) == ("error", "gone")


def test_start_link_with_stop_kills_a_caller_that_does_not_trap():
    # OTP: the start_link caller is linked; an abnormal init exit reaches it.
    def main():
        def starter():
            gen_server.start_link(Returns, {"init": ("stop", "boom")})
            return "survived"

        pid, ref = vm.spawn_monitor(starter)
        return vm.receive(("DOWN", ref, ANY, ANY, ANY))[4]

    assert run(main) == "boom"


def test_named_start_already_started_and_name_free_after_failure():
    def main():
        ok, pid = gen_server.start(Server, {}, name="srv")
        again = gen_server.start(Server, {}, name="srv")
        gen_server.start(Returns, {"init": ("stop", "x")}, name="other")
        return pid, again, vm.whereis("srv") == pid, vm.whereis("other")

    pid, again, registered, other = run(main)
    assert again == ("error", ("already_started", pid)) and registered and other is None


def test_start_timeout_kills_a_slow_init():
    def main():
        r = gen_server.start(Returns, {"sleep": 10.0}, timeout=0.5)
        return r, len(vm.processes())

    assert run(main) == (("error", "timeout"), 1)


def test_start_monitor_returns_pid_and_monitor():
    def main():
        ok, (pid, ref) = gen_server.start_monitor(Server, {})
        gen_server.stop(pid, "shutdown")
        down = vm.receive(("DOWN", ref, ANY, ANY, ANY))
        failed = gen_server.start_monitor(Returns, {"init": ("stop", "no")})
        return down[3] == pid, down[4], failed, drain()

    assert run(main) == (True, "shutdown", ("error", "no"), [])


def test_start_refuses_bad_arguments_with_a_fix():
    def main():
        with pytest.raises(vm.BadArg, match="callback class, not an instance"):
            gen_server.start(Server(), {})
        with pytest.raises(vm.BadArg, match="not a GenServer subclass"):
            gen_server.start(dict, {})
        with pytest.raises(vm.BadArg, match="debug option"):
            gen_server.start(Server, {}, debug=["bogus"])
        with pytest.raises(vm.BadArg, match="hibernate_after"):
            gen_server.start(Server, {}, hibernate_after=-1)
        with pytest.raises(vm.BadArg, match="spawn_opts"):
            gen_server.start(Server, {}, spawn_opts={"monitor": True})
        return True

    assert run(main)


def test_initial_call_and_ancestors_are_recorded():
    def main():
        vm.register("top", vm.self())
        ok, pid = gen_server.start_link(Server, {})
        d = dict(vm.process_info(pid, "dictionary"))
        return d["$initial_call"], d["$ancestors"]

    initial, ancestors = run(main)
    assert initial == ("tests.stdlib.callbacks.servers", "Server.init", 1)
    assert ancestors == ["top"]


# ----------------------------------------------------------------------
# call, cast, reply


def test_call_cast_and_raw_wire_format():
    def main():
        ok, pid = gen_server.start(Server, {})
        r1 = gen_server.call(pid, ("set", "a", 1))
        assert gen_server.cast(pid, ("set", "b", 2)) == "ok"
        vm.send(pid, ("$gen_cast", ("set", "c", 3)))  # a raw cast is a cast
        return r1, gen_server.call(pid, "get")

    assert run(main) == ("ok", {"a": 1, "b": 2, "c": 3})


def test_reply_later_from_another_callback():
    def main():
        ok, pid = gen_server.start(Server, {})
        return gen_server.call(pid, ("later", 0.5))

    assert run(main) == "later"


def test_call_failure_reasons_are_otp_shaped():
    def main():
        ok, pid = gen_server.start(Server, {})
        vm.register("me", vm.self())
        out = [
            catch(gen_server.call, pid, ("sleep", 10.0)),
            catch(gen_server.call, pid, ("sleep", 10.0), 1.0),
            catch(gen_server.call, "nobody", "x"),
            catch(gen_server.call, "nobody", "x", 0.1),
            catch(gen_server.call, "me", "x"),
        ]
        dead = gen_server.start(Server, {})[1]
        gen_server.stop(dead)
        out.append(catch(gen_server.call, dead, "x"))
        return pid, dead, out

    pid, dead, out = run(main)
    assert out == [
        ("EXIT", ("timeout", ("gen_server", "call", (pid, ("sleep", 10.0))))),
        ("EXIT", ("timeout", ("gen_server", "call", (pid, ("sleep", 10.0), 1.0)))),
        ("EXIT", ("noproc", ("gen_server", "call", ("nobody", "x")))),
        ("EXIT", ("noproc", ("gen_server", "call", ("nobody", "x", 0.1)))),
        ("EXIT", ("calling_self", ("gen_server", "call", ("me", "x")))),
        ("EXIT", ("noproc", ("gen_server", "call", (dead, "x")))),
    ]


def test_late_reply_after_timeout_is_dropped():
    def main():
        ok, pid = gen_server.start(Server, {})
        r = catch(gen_server.call, pid, ("sleep", 2.0), 1.0)
        vm.sleep(3.0)
        return r[1][0], drain()

    assert run(main) == ("timeout", [])


def test_server_crash_mid_call_exits_caller_with_the_crash():
    def main():
        ok, pid = gen_server.start(Server, {})
        r = catch(gen_server.call, pid, ("do", "raise"))
        return r

    tag, (reason, where) = run(main)
    assert tag == "EXIT" and reason.exc_type == "RuntimeError"
    assert where[:2] == ("gen_server", "call")


def test_call_with_unsupported_request_crashes_a_server_without_handle_call():
    def main():
        ok, pid = gen_server.start(NoInfo, None)
        r = catch(gen_server.call, pid, "x")
        return r[1][0].exc_type

    assert run(main) == "NotImplementedError"


def test_cast_to_nothing_is_ok():
    def main():
        return (gen_server.cast("nobody", 1), gen_server.cast(("nobody", "nonode@nohost"), 1),
                gen_server.cast(vm.spawn(lambda: None), 1))

    assert run(main) == ("ok", "ok", "ok")


def test_default_handle_info_logs_and_drops(caplog):
    caplog.set_level(logging.WARNING, logger="beamlet.otp")

    def main():
        ok, pid = gen_server.start(NoInfo, None)
        vm.send(pid, "stray")
        vm.sleep(0.1)
        return vm.is_process_alive(pid)

    assert run(main)
    assert "Undefined handle_info" in caplog.text and "stray" in caplog.text


def test_multi_call_and_abcast_on_the_local_node():
    def main():
        gen_server.start(Server, {"report": vm.self()}, name="mc")
        vm.receive(("init", ANY))
        r1 = gen_server.multi_call("mc", "hello")
        r2 = gen_server.multi_call("nobody", "hello")
        r3 = gen_server.multi_call("mc", "hello", nodes=["nonode@nohost", "other@host"])
        r4 = gen_server.abcast("mc", "hi")
        return r1, r2, r3, r4, vm.receive(("cast", ANY))

    assert run(main) == (
        ([("nonode@nohost", "hello")], []),
        ([], ["nonode@nohost"]),
        ([("nonode@nohost", "hello")], ["other@host"]),
        "abcast",
        ("cast", "hi"),
    )


# ----------------------------------------------------------------------
# actions


def test_timeout_action_fires_when_idle_and_is_restarted_by_messages():
    def main():
        ok, pid = gen_server.start(Server, {"report": vm.self()})
        gen_server.call(pid, ("do", ("reply", "ok", "$S", 1.0)))
        t0 = vm.monotonic()
        vm.sleep(0.5)
        gen_server.cast(pid, "poke")  # restarts nothing: the cast returns no timeout
        msgs = [vm.receive(("cast", ANY))]
        gen_server.call(pid, ("do", ("reply", "ok", "$S", 1.0)))
        vm.sleep(0.5)
        vm.send(pid, "early")  # a message before the timeout cancels it
        msgs.append(vm.receive(("info", ANY)))
        msgs.append(vm.receive(("info", ANY), timeout=2.0))
        gen_server.call(pid, ("do", ("reply", "ok", "$S", 1.0)))
        msgs.append(vm.receive(("info", ANY)))
        return msgs, vm.monotonic() - t0

    msgs, elapsed = run(main)
    assert msgs == [("cast", "poke"), ("info", "early"), vm.TIMEOUT, ("info", "timeout")]


def test_zero_timeout_fires_only_when_mailbox_empty():
    def main():
        ok, pid = gen_server.start(Server, {"report": vm.self()})
        gen_server.call(pid, ("do", ("reply", "ok", "$S", 0)))
        return vm.receive(("info", ANY))

    assert run(main) == ("info", "timeout")


def test_continue_runs_before_queued_messages():
    def main():
        srv = gen_server.start(Server, {"report": vm.self()})[1]
        vm.receive(("init", ANY))
        vm.process_flag("priority", "high")  # queue both before the server runs
        gen_server.cast(srv, ("do", ("noreply", "$S", ("continue", "c1"))))
        vm.send(srv, "queued")
        vm.process_flag("priority", "normal")
        vm.sleep(0.1)
        return drain()

    assert run(main) == [("continue", "c1"), ("info", "queued")]


def test_init_continue_runs_before_first_message():
    def main():
        vm.process_flag("priority", "high")
        ok, pid = gen_server.start(Returns, {"init": ("ok", {"report": vm.self()},
                                                       ("continue", "first"))})
        vm.send(pid, "msg")
        vm.process_flag("priority", "normal")
        vm.sleep(0.1)
        return drain()

    assert run(main) == [("continue", "first"), ("info", "msg")]


def test_timeout_is_restarted_by_system_messages():
    def main():
        ok, pid = gen_server.start(Server, {"report": vm.self()})
        vm.receive(("init", ANY))
        t0 = vm.monotonic()
        gen_server.call(pid, ("do", ("reply", "ok", "$S", 1.0)))
        vm.sleep(0.7)
        otp_sys.get_state(pid)
        vm.receive(("info", "timeout"))
        return vm.monotonic() - t0

    assert run(main) == pytest.approx(1.7, abs=0.01)  # not 1.0: the get_state restarted it


def test_hibernate_action_and_wake_up():
    def main():
        ok, pid = gen_server.start(Server, {})
        gen_server.call(pid, ("do", ("reply", "ok", "$S", "hibernate")))
        vm.sleep(0.1)
        return gen_server.call(pid, ("set", "k", 1)), gen_server.call(pid, "get")

    assert run(main) == ("ok", {"k": 1})


def test_hibernate_after_keeps_state():
    def main():
        ok, pid = gen_server.start(Server, {"n": 1}, hibernate_after=0.5)
        vm.sleep(2.0)
        return gen_server.call(pid, "get"), otp_sys.get_state(pid)

    assert run(main) == ({"n": 1}, {"n": 1})


# ----------------------------------------------------------------------
# terminate and stop


@pytest.mark.parametrize("result, reason", [
    (("stop", "normal", "$S"), "normal"),
    (("stop", ("shutdown", 1), "$S"), ("shutdown", 1)),
    (("stop", "bad", "$S"), "bad"),
    (("exit", "thrown"), "thrown"),
    ("junk", ("bad_return_value", "junk")),
])
def test_terminate_runs_for_stop_returns_crashes_and_bad_returns(result, reason):
    def main():
        ok, pid = gen_server.start(Server, {"report": vm.self()})
        vm.receive(("init", ANY))
        ref = vm.monitor(pid)
        gen_server.cast(pid, ("do", result))
        t = vm.receive(("terminate", ANY))
        return t[1], vm.receive(("DOWN", ref, ANY, ANY, ANY))[4]

    assert run(main) == (reason, reason)


def test_exit_reason_equals_terminate_reason():
    def main():
        ok, pid = gen_server.start(Server, {"report": vm.self()})
        ref = vm.monitor(pid)
        gen_server.cast(pid, ("do", ("stop", "bye", "$S")))
        return vm.receive(("terminate", ANY))[1], vm.receive(("DOWN", ref, ANY, ANY, ANY))[4]

    assert run(main) == ("bye", "bye")


def test_stop_reply_form_replies_after_terminate():
    def main():
        ok, pid = gen_server.start(Server, {"report": vm.self()})
        vm.receive(("init", ANY))
        r = gen_server.call(pid, ("do", ("stop", "normal", "bye", "$S")))
        return r, drain(timeout=0.1)

    r, msgs = run(main)
    assert r == "bye" and msgs == [("terminate", "normal")]


def test_stop_without_reply_exits_caller_with_the_reason():
    def main():
        ok, pid = gen_server.start(Server, {})
        return catch(gen_server.call, pid, ("do", ("stop", "done", "$S")))

    reason = run(main)
    assert reason[1][0] == "done"


def test_parent_exit_runs_terminate_only_when_trapping():
    def main():
        results = []
        main_pid = vm.self()
        for trap in (True, False):
            def parent(trap=trap):
                gen_server.start_link(Server, {"trap": trap, "report": main_pid})
                vm.receive()

            p = vm.spawn(parent)
            _, srv = vm.receive(("init", ANY))
            ref = vm.monitor(srv)
            vm.exit(p, "shutdown")
            down = vm.receive(("DOWN", ref, ANY, ANY, ANY))[4]
            results.append((down, drain(timeout=0.1)))
        return results

    assert run(main) == [("shutdown", [("terminate", "shutdown")]), ("shutdown", [])]


def test_trapping_server_gets_parent_normal_exit_as_terminate():
    def main():
        me = vm.self()

        def parent():
            gen_server.start_link(Server, {"trap": True, "report": me})

        vm.spawn(parent)
        _, srv = vm.receive(("init", ANY))
        return vm.receive(("terminate", ANY)), down_reason(srv)

    assert run(main) == (("terminate", "normal"), "noproc")


def test_stop_api():
    def main():
        ok, pid = gen_server.start(Server, {"report": vm.self()})
        vm.receive(("init", ANY))
        r = gen_server.stop(pid, ("shutdown", "x"))
        return (r, vm.receive(("terminate", ANY)), catch(gen_server.stop, pid),
                catch(gen_server.stop, "nobody"))

    assert run(main) == ("ok", ("terminate", ("shutdown", "x")), ("EXIT", "noproc"),
                            ("EXIT", "noproc"))


def test_stop_timeout():
    def main():
        ok, slow = gen_server.start(Slow, None)
        r1 = catch(gen_server.stop, slow, "normal", 0.5)
        return r1

    class Slow(gen_server.GenServer):
        def init(self, arg):
            return ("ok", arg)

        def terminate(self, reason, state):
            vm.sleep(5.0)

    assert run(main) == ("EXIT", "timeout")


def test_terminate_that_raises_becomes_the_exit_reason():
    def main():
        ok, pid = gen_server.start(Server, {"terminate_raises": True})
        ref = vm.monitor(pid)
        gen_server.cast(pid, ("do", ("stop", "normal", "$S")))
        return vm.receive(("DOWN", ref, ANY, ANY, ANY))[4]

    reason = run(main)
    assert reason.exc_type == "KeyError"


# ----------------------------------------------------------------------
# reports


def _reports(caplog, label):
    return [r.report for r in caplog.records if getattr(r, "report", {}).get("label") == label]


def test_crash_report_has_last_message_formatted_state_reason_and_client(caplog):
    caplog.set_level(logging.ERROR, logger="beamlet.otp")

    def main():
        ok, pid = gen_server.start(Redacting, {"secret": "hunter2", "x": 1}, name="vault")
        catch(gen_server.call, "vault", ("do", "raise"))
        return vm.self()

    me = run(main)
    rep = _reports(caplog, "gen_server_terminate")
    assert len(rep) == 1
    rep = rep[0]
    assert rep["name"] == "vault"
    assert rep["last_message"][0] == "$gen_call" and rep["last_message"][2] == ("do", "raise")
    assert rep["state"] == {"secret": "***", "x": 1}
    assert rep["reason"].exc_type == "RuntimeError"
    assert rep["client"][0] == me
    assert "hunter2" not in caplog.text
    assert "Generic server 'vault' terminating" in caplog.text
    assert len(_reports(caplog, "crash_report")) == 1


@pytest.mark.parametrize("reason", ["normal", "shutdown", ("shutdown", "x")])
def test_quiet_reasons_produce_no_report(caplog, reason):
    caplog.set_level(logging.DEBUG, logger="beamlet.otp")

    def main():
        ok, pid = gen_server.start(Server, {})
        gen_server.stop(pid, reason)

    run(main)
    assert _reports(caplog, "gen_server_terminate") == []
    assert _reports(caplog, "crash_report") == []


# ----------------------------------------------------------------------
# enter_loop, via names


def test_enter_loop_turns_a_proc_lib_process_into_a_server():
    def body():
        vm.register("entered", vm.self())
        proc_lib.init_ack(("ok", vm.self()))
        gen_server.enter_loop(Server, {"entered": True}, name="entered")

    def main():
        ok, pid = proc_lib.start(body)
        return gen_server.call("entered", "get")

    assert run(main) == {"entered": True}


def test_enter_loop_refuses_plain_processes_and_unregistered_names():
    def main():
        pid, ref = vm.spawn_monitor(lambda: gen_server.enter_loop(Server, {}))
        r1 = vm.receive(("DOWN", ref, ANY, ANY, ANY))[4]

        def named():
            proc_lib.init_ack("ok")
            gen_server.enter_loop(Server, {}, name="nope")

        r = proc_lib.start_monitor(named)
        r2 = vm.receive(("DOWN", r[1], ANY, ANY, ANY))[4]
        return r1, r2

    assert run(main) == ("process_was_not_started_by_proc_lib", "process_not_registered")


class Registry:
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


def test_via_names_and_cleanup_on_init_failure():
    Registry.names.clear()

    def main():
        ok, pid = gen_server.start(Server, {"v": 1}, name=("via", Registry, "a"))
        gen_server.cast(("via", Registry, "a"), ("set", "w", 2))
        state = gen_server.call(("via", Registry, "a"), "get")
        failed = gen_server.start(Returns, {"init": ("stop", "x")}, name=("via", Registry, "b"))
        return state, failed, sorted(Registry.names)

    assert run(main) == ({"v": 1, "w": 2}, ("error", "x"), ["a"])


def test_class_conveniences_and_child_spec():
    def main():
        ok, pid = Server.start_link({"k": 1}, name="conv")
        spec = Server.child_spec({"k": 2})
        return gen_server.call("conv", "get"), spec["id"] is Server, spec["start"][1]

    assert run(main) == ({"k": 1}, True, ({"k": 2},))


def test_kv_store_example_runs(capsys):
    import importlib.util
    import os

    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    spec = importlib.util.spec_from_file_location("_kv_example",
                                                  os.path.join(root, "examples", "kv_store.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    run(module.main)
    out = capsys.readouterr().out
    assert "get colour: green" in out and "kv: stopping (normal) with 1 keys" in out
