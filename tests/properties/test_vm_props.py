"""Properties of the runtime, with hypothesis driving seeds and workloads."""

from hypothesis import given, settings
from hypothesis import strategies as st

import vm
from tests.properties.strategies import seeds, terms
from vm.testing import InvariantChecker, run

ANY = vm.ANY
FAST = settings(max_examples=40, deadline=None)


def run_checked(main, **opts):
    """Run on a virtual-clock node and check the runtime's invariants after every slice."""
    checker = InvariantChecker()
    result = run(main, instruments=[checker], **opts)
    assert not checker.violations, f"invariants broken: {checker.violations[:3]}"
    return result


def _mutables(x, out):
    if isinstance(x, (list, dict)):
        out.append(x)
    if isinstance(x, (list, tuple)):
        for e in x:
            _mutables(e, out)
    elif isinstance(x, dict):
        for k, v in x.items():
            _mutables(k, out)
            _mutables(v, out)
    return out


@FAST
@given(term=terms)
def test_any_term_round_trips_unchanged_and_unshared(term):
    def main():
        me = vm.self()
        vm.send(me, term)
        return vm.receive()

    got = run_checked(main)
    assert got == term
    assert type(got) is type(term)
    mine = {id(m) for m in _mutables(term, [])}
    assert not any(id(m) in mine for m in _mutables(got, []))


@FAST
@given(seed=seeds, senders=st.integers(1, 4), count=st.integers(1, 30),
       yields=st.lists(st.booleans(), min_size=1, max_size=10))
def test_messages_between_a_pair_are_never_lost_nor_reordered(seed, senders, count, yields):
    def sender(dest, tag):
        for i in range(count):
            vm.send(dest, (tag, i))
            if yields[i % len(yields)]:
                vm.sleep(0)

    def main():
        me = vm.self()
        for tag in range(senders):
            vm.spawn(sender, me, tag)
        got = [vm.receive() for _ in range(senders * count)]
        return got, vm.receive(timeout=0)

    got, extra = run_checked(main, seed=seed)
    assert extra is vm.TIMEOUT
    for tag in range(senders):
        assert [i for (t, i) in got if t == tag] == list(range(count))


@FAST
@given(seed=seeds, n=st.integers(2, 8), pairs=st.lists(st.tuples(st.integers(0, 7),
                                                                  st.integers(0, 7)), max_size=20),
       kills=st.lists(st.integers(0, 7), max_size=4))
def test_links_are_symmetric(seed, n, pairs, kills):
    def member(parent):
        vm.process_flag("trap_exit", True)
        while True:
            match vm.receive():
                case ("link", pid):
                    vm.link(pid)
                    vm.send(parent, "linked")
                case ("EXIT", _, _):
                    pass

    def main():
        me = vm.self()
        pids = [vm.spawn(member, me) for _ in range(n)]
        for a, b in pairs:
            a, b = a % n, b % n
            vm.send(pids[a], ("link", pids[b]))
            vm.receive("linked")
        for k in kills:
            vm.exit(pids[k % n], "kill")
        vm.sleep(0.01)
        alive = [p for p in pids if vm.is_process_alive(p)]
        links = {p: set(vm.process_info(p, "links")) for p in alive}
        return alive, links

    alive, links = run_checked(main, seed=seed)
    for p in alive:
        for q in links[p]:
            assert q in links, f"{p} links to dead {q}"
            assert p in links[q], f"{p} -> {q} is not symmetric"


@FAST
@given(seed=seeds, monitors=st.lists(st.integers(0, 5), min_size=1, max_size=15),
       reasons=st.lists(st.sampled_from(["normal", "kill", "boom", ("shutdown", 1)]),
                        min_size=6, max_size=6))
def test_each_monitor_fires_exactly_once(seed, monitors, reasons):
    def target(reason):
        vm.receive()
        vm.exit(reason)

    def main():
        pids = [vm.spawn(target, reasons[i]) for i in range(6)]
        refs = {vm.monitor(pids[i]): i for i in monitors}
        for p in pids:
            vm.send(p, "go")
        downs = [vm.receive(("DOWN", ANY, ANY, ANY, ANY)) for _ in refs]
        vm.sleep(0.01)
        return refs, downs, vm.receive(timeout=0)

    refs, downs, extra = run_checked(main, seed=seed)
    assert extra is vm.TIMEOUT
    assert sorted(d[1].id for d in downs) == sorted(r.id for r in refs)
    for d in downs:
        expected = reasons[refs[d[1]]]
        assert d[4] == expected
