"""Supervisors under random kill storms (hypothesis drives the storm and the seed).

The property: after every kill, a supervisor either has restored all its
permanent children (each alive, the killed one replaced) or it has given up,
and it gives up exactly at the kill where OTP's intensity rule says so: keep
the restart times no older than `now - period`, add `now`, give up when more
than `intensity` remain.

Periods are whole seconds plus 0.05 and delays multiples of 0.1 s, so no
restart ever sits on a window boundary, where the virtual clock's creep
(1 µs per reduction) would decide the outcome.
"""

import logging

from hypothesis import given, settings
from hypothesis import strategies as st

import vm
from stdlib import gen_server
from stdlib import supervisor as sup
from vm.testing import InvariantChecker

from .strategies import seeds

ANY = vm.ANY


class Idle(gen_server.GenServer):
    def init(self, arg):
        return ("ok", arg)


def child(i):
    return {"id": i, "start": (gen_server.start_link, (Idle, i))}


def model(times, intensity, period):
    """The kill index at which the rule gives up, or None."""
    restarts = []
    for k, t in enumerate(times):
        restarts = [r for r in restarts if r >= t - period] + [t]
        if len(restarts) > intensity:
            return k
    return None


def storm_run(strategy, n, intensity, period, storm):
    vm.process_flag("trap_exit", True)
    ok, s = sup.start_link_children([child(i) for i in range(n)], strategy=strategy,
                                    intensity=intensity, period=period)
    assert ok == "ok"
    times = []
    last = {}
    for k, (index, delay) in enumerate(storm):
        if delay:
            vm.sleep(delay)
        last = {c[0]: c[1] for c in sup.which_children(s)}
        victim = last[index % n]
        times.append(vm.monotonic())
        vm.exit(victim, "kill")
        try:
            now = {c[0]: c[1] for c in sup.which_children(s)}
        except vm.Exit:
            reason = vm.receive(("EXIT", s, ANY))[2]
            assert reason == "shutdown"
            # giving up terminated every child
            assert not any(vm.is_process_alive(p) for p in last.values())
            return k, times
        assert len(now) == n
        assert all(isinstance(p, vm.Pid) and vm.is_process_alive(p) for p in now.values())
        assert now[index % n] != victim
    return None, times


@settings(max_examples=60, deadline=None)
@given(
    strategy=st.sampled_from(["one_for_one", "one_for_all", "rest_for_one"]),
    n=st.integers(min_value=1, max_value=4),
    intensity=st.integers(min_value=0, max_value=4),
    period=st.sampled_from([1.05, 2.05, 5.05]),
    storm=st.lists(st.tuples(st.integers(min_value=0, max_value=3),
                             st.sampled_from([0, 0, 0.1, 0.3, 0.5, 1.0, 2.0, 6.0])),
                   max_size=15),
    seed=seeds,
)
def test_kill_storm_restores_or_gives_up_exactly_by_the_rule(strategy, n, intensity, period,
                                                             storm, seed):
    logging.getLogger("beamlet.otp").setLevel(logging.CRITICAL)  # thousands of reports
    try:
        checker = InvariantChecker()
        gave_up_at, times = vm.run(storm_run, strategy, n, intensity, period, storm,
                                   clock="virtual", seed=seed, instruments=[checker])
    finally:
        logging.getLogger("beamlet.otp").setLevel(logging.NOTSET)
    assert gave_up_at == model(times, intensity, period)
    assert not checker.violations, f"invariants broken: {checker.violations[:3]}"
