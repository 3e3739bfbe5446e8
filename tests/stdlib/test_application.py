"""application: dependencies, start results, stop and its callbacks, leftover processes,
environments, start types and the node stopping for a permanent application."""

import logging

import pytest

import vm
from stdlib import application as app
from stdlib import gen_server
from tests.stdlib.callbacks.apps import Failing, Library, Reporting
from vm.testing import drain, run

ANY = vm.ANY


def make(name, deps=(), env=None):
    """A Reporting application named `name` that reports to the calling process."""
    return type(name.capitalize(), (Reporting,), {"name": name, "applications": list(deps),
                                                  "env": env or {}, "start_args": vm.self()})


def test_dependencies_must_run_first_and_ensure_all_started_starts_them():
    def main():
        db, shop = make("db"), make("shop", ["db"])
        app.load(db)
        r1 = app.start(shop)
        r2 = app.ensure_all_started(shop)
        r3 = app.ensure_all_started(shop)
        r4 = app.start(shop)
        return r1, r2, r3, r4, app.which_applications(), drain(timeout=0.1)

    r1, r2, r3, r4, which, msgs = run(main)
    assert r1 == ("error", ("not_started", "db"))
    assert r2 == ("ok", ["db", "shop"]) and r3 == ("ok", [])
    assert r4 == ("error", ("already_started", "shop"))
    assert [w[0] for w in which] == ["shop", "db"]
    assert msgs == [("start", "db", "normal"), ("start", "shop", "normal")]


def test_start_failures_have_otp_shapes():
    def main():
        out = []
        for mode in ("error", "raise", "junk"):
            cls = type("F", (Failing,), {"start_args": mode})
            out.append(app.start(cls))
            app.unload("failing")
        return out, app.start("nosuch"), app.which_applications()

    (err, crash, junk), unknown, which = run(main)
    assert err[0] == "error" and err[1][0] == "nope"
    assert err[1][1][1:] == ("start", ("normal", "error"))
    assert crash[1][0] == "bad_return" and crash[1][1][1][0] == "EXIT"
    assert crash[1][1][1][1].exc_type == "RuntimeError"
    assert junk[1][0] == "bad_return" and junk[1][1][1] == "junk"
    assert junk[1][1][0][1:] == ("start", ("normal", "junk"))
    assert unknown == ("error", ("not_loaded", "nosuch")) and which == []


def test_stop_runs_prep_stop_then_the_tree_then_stop_and_kills_leftovers():
    def main():
        shop = make("shop")
        app.start(shop)
        drain(timeout=0.1)
        n_running = len(vm.processes())
        members = [p for p in vm.processes() if app.get_application(p) == ("ok", "shop")]
        r = app.stop("shop")
        return (n_running, len(members), r, drain(timeout=0.1), len(vm.processes()),
                app.stop("shop"), vm.whereis("shop_sup"))

    n_running, n_members, r, msgs, n_after, again, where = run(main)
    # main, controller, master, supervisor, worker, leftover
    assert (n_running, n_members) == (6, 4)
    assert r == "ok" and msgs == [("prep_stop", "shop", "st"), ("stop", "shop", "st+")]
    assert n_after == 2 and where is None
    assert again == ("error", ("not_started", "shop"))


def test_environment():
    def main():
        shop = make("shop", env={"port": 80})
        app.load(shop)
        a = app.get_env("shop", "port")
        b = app.get_env("shop", "missing", "dflt")
        app.set_env(shop, "port", 81)
        env = app.get_all_env("shop")
        env["port"] = 0  # a copy: the table is not changed
        return a, b, app.get_env("shop", "port"), app.get_env("nosuch", "x")

    assert run(main) == (80, "dflt", 81, None)


def test_library_application_and_load_errors():
    def main():
        r1 = app.start(Library)
        r2 = app.load(Library)
        r3 = app.unload("lib")
        r4 = app.stop("lib")
        r5 = app.unload("lib")
        r6 = app.unload("lib")
        with pytest.raises(vm.BadArg, match="start type"):
            app.start(Library, "forever")
        with pytest.raises(vm.BadArg, match="Application subclass"):
            app.load(42)
        return r1, r2, r3, r4, r5, r6

    assert run(main) == ("ok", ("error", ("already_loaded", "lib")),
                            ("error", ("running", "lib")), "ok", "ok",
                            ("error", ("not_loaded", "lib")))


def test_temporary_application_exit_is_only_reported(caplog):
    caplog.set_level(logging.INFO, logger="beamlet.otp")

    def main():
        shop = make("shop")
        app.start(shop, "temporary")
        drain(timeout=0.1)
        vm.exit(vm.whereis("shop_sup"), "kill")
        vm.sleep(0.1)
        return app.which_applications(), drain(timeout=0.1)

    which, msgs = run(main)
    assert which == []
    assert msgs == [("prep_stop", "shop", "st"), ("stop", "shop", "st+")]
    exits = [r.report for r in caplog.records
             if getattr(r, "report", {}).get("label") == "application_exit"]
    assert exits == [{"label": "application_exit", "application": "shop", "exited": "killed",
                      "type": "temporary"}]


def test_transient_application_normal_exit_keeps_the_node():
    def main():
        shop = make("shop")
        app.start(shop, "transient")
        gen_server.stop("shop_sup", "normal")
        vm.sleep(0.1)
        return app.which_applications()

    assert run(main) == []


@pytest.mark.parametrize("start_type", ["permanent", "transient"])
def test_permanent_or_transient_abnormal_exit_stops_the_node(start_type):
    log = []

    def main():
        other = make("other")
        shop = make("shop")
        app.start(other)
        app.start(shop, start_type)
        vm.exit(vm.whereis("shop_sup"), "kill")
        vm.sleep(10.0)
        log.append("not reached")

    with pytest.raises(vm.ProcessExit) as e:
        run(main)
    assert e.value.reason == ("application_terminated", "shop", "killed")
    assert log == []


def test_ensure_all_started_failure_stops_what_it_started():
    def main():
        db = make("db")
        bad = type("F", (Failing,), {"start_args": "error", "applications": [db]})
        r = app.ensure_all_started(bad)
        return r, app.which_applications()

    r, which = run(main)
    assert r[0] == "error" and r[1][0] == "failing" and which == []


def test_get_supervisor():
    def main():
        db = make("db")
        before = app.get_supervisor("db")
        app.start(db)
        got = app.get_supervisor("db")
        is_sup = got[0] == "ok" and vm.process_info(got[1], "status") is not None
        app.stop("db")
        return before, is_sup, app.get_supervisor("db")

    assert run(main) == ("undefined", True, "undefined")
