"""dynamic_supervisor: Elixir's DynamicSupervisor semantics."""

import logging

import pytest

import vm
from stdlib import dynamic_supervisor as ds
from stdlib import gen_server
from stdlib import supervisor as sup
from tests.stdlib.callbacks.sups import Worker, failing_start, spec
from vm.testing import drain, run

ANY = vm.ANY


def events():
    return [m for m in drain(timeout=0.1) if m[0] in ("start", "stop")]


def test_start_child_which_and_count():
    def main():
        me = vm.self()
        ok, s = ds.start_link(name="pool")
        r1 = ds.start_child("pool", spec("a", me))
        r2 = ds.start_child("pool", (Worker, ("b", me, {})))
        r3 = ds.start_child("pool", {"start": (failing_start, ("ignore",))})
        r4 = ds.start_child("pool", {"start": (failing_start, ("error",))})
        which = ds.which_children("pool")
        return (r1[0], r2[0], r3, r4, sorted(w[0] is None for w in which),
                ds.count_children("pool"), events())

    r1, r2, r3, r4, ids, counts, got = run(main)
    assert (r1, r2, r3, r4) == ("ok", "ok", "ignore", ("error", "nope"))
    assert ids == [True, True]
    assert counts == {"specs": 2, "active": 2, "supervisors": 0, "workers": 2}
    assert got == [("start", "a"), ("start", "b")]


def test_max_children_and_extra_arguments():
    def main():
        me = vm.self()
        ok, s = ds.start_link(max_children=2, extra_arguments=["x"])

        def start(extra, cid):
            return Worker.start_link((f"{extra}-{cid}", me, {}))

        rs = [ds.start_child(s, {"start": (start, (c,))}) for c in "abc"]
        return [r[0] for r in rs[:2]], rs[2], events()

    oks, third, got = run(main)
    assert oks == ["ok", "ok"] and third == ("error", "max_children")
    assert got == [("start", "x-a"), ("start", "x-b")]


def test_restart_types_and_terminate_child():
    def main():
        me = vm.self()
        ok, s = ds.start_link(max_restarts=10)
        p = ds.start_child(s, spec("p", me))[1]
        t = ds.start_child(s, spec("t", me, restart="temporary"))[1]
        tr = ds.start_child(s, spec("tr", me, restart="transient"))[1]
        events()
        vm.exit(p, "kill")
        vm.exit(t, "kill")
        gen_server.cast(tr, ("stop", "normal"))
        got = events()
        n = ds.count_children(s)["specs"]
        some = ds.which_children(s)[0][1]
        return got, n, ds.terminate_child(s, some), ds.terminate_child(s, some), \
            ds.count_children(s)["specs"]

    got, n, r1, r2, n2 = run(main)
    assert sorted(got) == [("start", "p"), ("stop", "tr", "normal")]
    assert (n, r1, r2, n2) == (1, "ok", ("error", "not_found"), 0)


def test_intensity_three_in_five_seconds():
    def main():
        vm.process_flag("trap_exit", True)
        me = vm.self()
        ok, s = ds.start_link()
        ds.start_child(s, spec("a", me))
        for _ in range(3):
            vm.exit(ds.which_children(s)[0][1], "kill")
            vm.sleep(0.1)
        alive = vm.is_process_alive(s)
        vm.exit(ds.which_children(s)[0][1], "kill")
        return alive, vm.receive(("EXIT", s, ANY))[2]

    assert run(main) == (True, "shutdown")


def test_shutdown_stops_all_children_at_once():
    def main():
        vm.process_flag("trap_exit", True)
        me = vm.self()
        ok, s = ds.start_link()
        for c in "abc":
            ds.start_child(s, spec(c, me, shutdown=2.0, opts={"slow_stop": 1.0}))
        events()
        t0 = vm.monotonic()
        ds.stop(s, "shutdown")
        return vm.monotonic() - t0, sorted(e[1] for e in events())

    took, stopped = run(main)
    assert took == pytest.approx(1.0, abs=0.1)  # in parallel: not 3 s
    assert stopped == ["a", "b", "c"]


class Pool(ds.DynamicSupervisor):
    def init(self, arg):
        return ds.init(max_children=arg)


def test_module_based_and_as_a_child_of_a_supervisor():
    def main():
        ok, top = sup.start_link_children([(Pool, 1), ds.child_spec(name="named_pool",
                                                                     max_children=5)])
        pool = [c[1] for c in sup.which_children(top) if c[0] is Pool][0]
        r = ds.start_child(pool, spec("a", vm.self()))
        r2 = ds.start_child(pool, spec("b", vm.self()))
        return r[0], r2, vm.whereis("named_pool") is not None

    assert run(main) == ("ok", ("error", "max_children"), True)


def test_bad_options_are_refused():
    def main():
        for kw, match in (({"strategy": "one_for_all"}, "only strategy"),
                          ({"max_children": -1}, "max_children"),
                          ({"max_restarts": "3"}, "max_restarts"),
                          ({"bogus": 1}, "unknown options")):
            with pytest.raises(vm.BadArg, match=match):
                ds.start_link(**kw)
        with pytest.raises(vm.BadArg, match="options come from its init"):
            ds.start_link(Pool, 1, max_children=3)
        ok, s = ds.start_link()
        return ds.start_child(s, {"start": "x"})

    assert run(main) == ("error", ("invalid_mfa", "x"))


def test_failed_restart_is_retried(caplog):
    caplog.set_level(logging.CRITICAL, logger="beamlet.otp")

    class Once:
        calls = 0

    def start(me):
        Once.calls += 1
        if Once.calls == 2:
            return ("error", "transient failure")
        return Worker.start_link(("r", me, {}))

    def main():
        me = vm.self()
        ok, s = ds.start_link()
        ds.start_child(s, {"start": (start, (me,))})
        events()
        vm.exit(ds.which_children(s)[0][1], "kill")
        return events(), Once.calls, ds.count_children(s)["active"]

    assert run(main) == ([("start", "r")], 3, 1)
