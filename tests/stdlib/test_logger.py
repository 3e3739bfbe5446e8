"""logger: handlers for beamlet's reports, beside (or instead of) Python logging."""

import logging

import pytest

import vm
from stdlib import gen_event, gen_server, logger, supervisor
from vm.testing import run

ANY = vm.ANY


class Crasher(gen_server.GenServer):
    def init(self, _arg):
        return ("ok", None)

    def handle_cast(self, msg, state):
        raise RuntimeError("crash on purpose")


def crash_one_server():
    """Start a server, make it crash, wait until it is dead."""
    ok, pid = gen_server.start(Crasher)
    ref = vm.monitor(pid)
    gen_server.cast(pid, "boom")
    vm.receive(("DOWN", ref, ANY, ANY, ANY))


def test_the_default_handler_is_python_logging(caplog):
    caplog.set_level(logging.ERROR, logger="beamlet.otp")

    def main():
        ids = logger.get_handler_ids()
        crash_one_server()
        return ids

    assert run(main) == ["default"]
    labels = [r.report["label"] for r in caplog.records if hasattr(r, "report")]
    assert labels == ["gen_server_terminate", "crash_report"]


def test_a_handler_gets_every_report_as_an_event(caplog):
    caplog.set_level(logging.CRITICAL, logger="beamlet.otp")
    seen = []

    def handler(event, config):
        seen.append((event["level"], event["report"]["label"], event["meta"]["pid"],
                     config["level"], config.get("tag")))

    def main():
        assert logger.add_handler("mine", handler, {"tag": "t"}) == "ok"
        crash_one_server()
        return logger.get_handler_config("mine")[1]["tag"]

    assert run(main) == "t"
    assert [(lvl, label, tag) for lvl, label, _pid, _l, tag in seen] == [
        ("error", "gen_server_terminate", "t"), ("error", "crash_report", "t")]
    assert all(isinstance(pid, vm.Pid) for _, _, pid, _, _ in seen)
    assert not [r for r in caplog.records if hasattr(r, "report")]  # filtered by Python's level


def test_levels_filter_per_handler_and_primary():
    seen = []

    class Keep:
        @staticmethod
        def log(event, config):
            seen.append((config["name"], event["level"], event.get("message")))

    def main():
        logger.add_handler("all", Keep, {"name": "all"})
        logger.add_handler("errors", Keep, {"name": "errors", "level": "error"})
        logger.log(logging.INFO, "an info")
        logger.log("error", "an error")
        logger.set_handler_config("all", "level", "none")
        logger.log("warning", "a warning")
        logger.set_primary_config("level", "none")
        allowed = logger.allows("emergency")
        logger.log("emergency", "nobody hears this")
        return allowed, logger.get_primary_config()

    assert run(main) == (False, {"level": "none"})
    assert seen == [("all", "info", "an info"), ("all", "error", "an error"),
                    ("errors", "error", "an error")]


def test_removing_the_default_handler_silences_python_logging(caplog):
    caplog.set_level(logging.DEBUG, logger="beamlet.otp")

    def main():
        assert logger.remove_handler("default") == "ok"
        allowed = logger.allows(logging.ERROR)
        crash_one_server()
        return allowed, logger.remove_handler("default")

    assert run(main) == (False, ("error", ("not_found", "default")))
    assert not caplog.records


def test_a_crashing_handler_is_removed_and_the_logging_process_lives(caplog):
    caplog.set_level(logging.WARNING, logger="beamlet.otp")

    def broken(event, config):
        raise KeyError("oops")

    def main():
        logger.add_handler("broken", broken)
        crash_one_server()
        return logger.get_handler_ids()

    assert run(main) == ["default"]
    assert "handler 'broken' crashed and was removed" in caplog.text


def test_handler_configuration_errors():
    class Refuses:
        @staticmethod
        def adding_handler(config):
            return ("error", "no thanks")

        @staticmethod
        def log(event, config):
            pass

    def main():
        out = [logger.add_handler("default", lambda e, c: None),
               logger.add_handler("r", Refuses),
               logger.get_handler_config("nope"),
               logger.set_handler_config("nope", "level", "all")]
        with pytest.raises(vm.BadArg, match="level"):
            logger.add_handler("x", lambda e, c: None, {"level": "loud"})
        with pytest.raises(vm.BadArg, match="not a handler"):
            logger.add_handler("x", 42)
        with pytest.raises(vm.BadArg, match="level"):
            logger.log("loud", "x")
        return out

    assert run(main) == [("error", ("already_exist", "default")), ("error", "no thanks"),
                            ("error", ("not_found", "nope")), ("error", ("not_found", "nope"))]


def test_each_node_has_its_own_handlers():
    def first():
        logger.add_handler("only_here", lambda e, c: None)
        return logger.get_handler_ids()

    assert run(first) == ["default", "only_here"]
    assert run(logger.get_handler_ids) == ["default"]


class Collect(gen_event.Handler):
    """A report handler written for gen_event (OTP's error_logger style)."""

    def init(self, main):
        return ("ok", main)

    def handle_event(self, event, main):
        report = event.get("report") or {}
        vm.send(main, ("seen", event["level"], report.get("label"),
                       report.get("supervisor") is not None))
        return ("ok", main)


def test_report_handlers_on_a_gen_event_manager(caplog):
    caplog.set_level(logging.CRITICAL, logger="beamlet.otp")

    def main():
        vm.process_flag("trap_exit", True)
        me = vm.self()
        added = logger.add_report_handler(Collect, me)
        child = {"id": "c", "start": (gen_server.start_link, (Crasher,))}
        ok, sup = supervisor.start_link_children([child])
        [(_, pid, _, _)] = supervisor.which_children(sup)
        gen_server.cast(pid, "boom")
        seen = [vm.receive(("seen", ANY, ANY, ANY), timeout=1.0) for _ in range(4)]
        deleted = logger.delete_report_handler(Collect)
        return added, seen, deleted, gen_event.which_handlers(logger.EVENT_MANAGER)

    added, seen, deleted, left = run(main)
    assert added == "ok" and deleted is None and left == []
    labels = [s[2] for s in seen]
    assert labels[:3] == ["progress", "gen_server_terminate", "crash_report"]
    assert seen[3] == ("seen", "error", "supervisor_report", True)
