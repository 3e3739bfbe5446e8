"""gen_event beyond the conformance scenarios: starting, names, bad input,
hibernation, otp_sys, reports, handlers that are not Handler subclasses."""

import logging

import pytest

import vm
from stdlib import gen_event as ge
from stdlib import otp_sys
from vm.testing import run

ANY = vm.ANY


class Recorder(ge.Handler):
    """Sends every callback to the pid in its state; replies to calls with its state."""

    def init(self, args):
        if args == "hibernate":
            return ("ok", vm.self(), "hibernate")
        return ("ok", args)

    def handle_event(self, event, state):
        if event == "sleep":
            return ("ok", state, "hibernate")
        vm.send(state, ("event", event))
        return ("ok", state)

    def handle_call(self, request, state):
        if request == "crash":
            raise ValueError("bad call")
        return ("ok", ("state", state), state)

    def terminate(self, arg, state):
        vm.send(state, ("terminate", arg))

    def code_change(self, old_vsn, state, extra):
        return ("ok", (state, extra))


class Bare:
    """Not a Handler subclass: no handle_info, no terminate, no handle_call."""

    def init(self, args):
        return ("ok", args)

    def handle_event(self, event, state):
        vm.send(state, ("bare", event))
        return ("ok", state)


def test_start_forms_and_names():
    def main():
        ok, m = ge.start(name="events")
        again = ge.start(name="events")
        mon = ge.start_monitor()
        ok2, linked = ge.start_link()
        ge.add_handler("events", Recorder, vm.self())
        ge.notify("events", "by name")
        ge.sync_notify(("events", vm.node_name()), "by (name, node)")
        got = [vm.receive(("event", ANY))[1] for _ in range(2)]
        return (again == ("error", ("already_started", m)), mon[0], type(mon[1]),
                linked in vm.process_info(vm.self(), "links"), got, ge.stop("events"))

    assert run(main) == (True, "ok", tuple, True, ["by name", "by (name, node)"], "ok")


def test_bad_input_is_refused_in_the_caller():
    def main():
        ok, m = ge.start()
        for fn, args, words in [
            (ge.add_handler, (m, "not a class", None), "class or \\(class, id\\)"),
            (ge.add_handler, (m, (Recorder, [1]), None), "hashable"),
            (ge.swap_handler, (m, Recorder, (Recorder, 1)), "pairs"),
            (ge.call, (m, 42, "x"), "class"),
        ]:
            with pytest.raises(vm.BadArg, match=words):
                fn(*args)
        with pytest.raises(vm.BadArg, match="hibernate_after"):
            ge.start(hibernate_after=-1)
        return ge.which_handlers(m)

    assert run(main) == []


def test_handler_id_none_is_the_class():
    def main():
        ok, m = ge.start()
        ge.add_handler(m, (Recorder, None), vm.self())
        return ge.which_handlers(m), ge.call(m, Recorder, "who")[0]

    assert run(main) == ([Recorder], "state")


def test_a_class_without_the_optional_callbacks():
    def main():
        ok, m = ge.start()
        ge.add_handler(m, Bare, vm.self())
        vm.send(m, "stray")  # no handle_info: a warning, the handler stays
        ge.notify(m, "e")
        got = vm.receive(("bare", ANY))
        call = ge.call(m, Bare, "q")  # no handle_call: a crash, the handler goes
        return got, call[0], call[1][0], call[1][1].exc_type, ge.which_handlers(m), \
            ge.delete_handler(m, Bare, None)

    got, kind, tag, exc, left, deleted = run(main)
    assert got == ("bare", "e") and (kind, tag, exc) == ("error", "EXIT", "AttributeError")
    assert left == [] and deleted == ("error", "module_not_found")


def test_hibernating_handlers_keep_working():
    def main():
        ok, m = ge.start(hibernate_after=0.5)
        ge.add_handler(m, Recorder, "hibernate")
        ge.add_handler(m, (Recorder, 2), vm.self())
        ge.notify(m, "sleep")
        vm.sleep(1.0)
        status = vm.process_info(m, "status")
        ge.notify(m, "awake")
        return status, vm.receive(("event", ANY)), ge.which_handlers(m)

    status, event, which = run(main)
    assert status == "waiting" and event == ("event", "awake")
    assert which == [(Recorder, 2), Recorder]


def test_otp_sys_state_status_replace_and_code_change():
    def main():
        ok, m = ge.start(name="sysmgr")
        me = vm.self()
        ge.add_handler(m, Recorder, me)
        ge.add_handler(m, (Recorder, "x"), me)
        state = otp_sys.get_state(m)
        status = otp_sys.get_status(m)
        replaced = otp_sys.replace_state(
            m, lambda t: (t[0], t[1], "replaced") if t[1] == "x" else 1 / 0)
        otp_sys.suspend(m)
        otp_sys.change_code(m, Recorder, "v1", "extra")
        otp_sys.resume(m)
        return state, status[2], replaced, otp_sys.get_state(m)

    state, module, replaced, after = run(main)
    assert [(c, i) for c, i, _ in state] == [(Recorder, "x"), (Recorder, False)]
    assert module == ("module", "gen_event")
    assert replaced[0][2] == "replaced" and replaced[1][2] == state[1][2]  # 1/0: unchanged
    assert after[0][2] == ("replaced", "extra")


def test_crash_report_and_terminate_argument(caplog):
    caplog.set_level(logging.ERROR, logger="beamlet.otp")

    def main():
        ok, m = ge.start(name="reporting")
        ge.add_handler(m, Recorder, vm.self())
        r = ge.call(m, Recorder, "crash")
        return r, vm.receive(("terminate", ANY))[1]

    r, term = run(main)
    assert r[0] == "error" and r[1][0] == "EXIT" and r[1][1].exc_type == "ValueError"
    assert term == ("error", r[1])
    reports = [rec.report for rec in caplog.records if hasattr(rec, "report")]
    assert [x["label"] for x in reports] == ["gen_event_terminate"]
    assert reports[0]["handler"] is Recorder and reports[0]["name"] == "reporting"
    assert "gen_event handler" in caplog.text and "crashed" in caplog.text


def test_killing_the_manager_reaches_supervising_callers_through_the_link():
    def main():
        vm.process_flag("trap_exit", True)
        ok, m = ge.start()
        ge.add_sup_handler(m, Recorder, vm.self())
        vm.exit(m, "kill")
        return vm.receive(("EXIT", m, ANY))[2]

    assert run(main) == "killed"


def test_trace_prints_events(capsys):
    def main():
        ok, m = ge.start(name="traced", debug=["trace"])
        ge.add_handler(m, Recorder, vm.self())
        ge.notify(m, "hello")
        ge.call(m, Recorder, "q")
        ge.stop(m)

    run(main)
    out = capsys.readouterr().out
    assert "traced got event 'hello'" in out and "got call 'q'" in out


def test_stop_with_a_reason_and_a_timeout():
    def main():
        ok, m = ge.start()
        ge.add_handler(m, Recorder, vm.self())
        r = vm.monitor(m)
        ge.stop(m, "shutdown", 1.0)
        return vm.receive(("terminate", ANY))[1], vm.receive(("DOWN", r, ANY, ANY, ANY))[4]

    assert run(main) == ("stop", "shutdown")


@pytest.mark.parametrize("heading, expected", [
    ("## An event manager in a few lines",
     ["event: door opened", "event: door closed", "count: 2",
      "handlers: ['Printer', 'Counter']"]),
    ("### Supervised handlers and gen_event_EXIT",
     ["gen_event_EXIT Fragile EXIT ValueError", "True"]),
    ("## logger: where reports go", ["error", "['KeyError']"]),
])
def test_the_examples_in_docs_gen_event_run(heading, expected, capsys, caplog):
    from tests.stdlib.test_gen_requests import doc_example

    caplog.set_level(logging.CRITICAL, logger="beamlet.otp")
    run(doc_example("docs/gen_event.md", heading).main)
    assert capsys.readouterr().out.splitlines() == expected
