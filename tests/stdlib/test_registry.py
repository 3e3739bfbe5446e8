"""Registry (Elixir's), tested from its documentation.

Elixir is not installed on the machines that build beamlet, so these tests
cannot be recorded from the real thing as the OTP conformance scenarios
are. Instead they translate the examples of Elixir's Registry
documentation (the doctests of lib/elixir/lib/registry.ex, Elixir 1.15+)
one by one, in the order the documentation gives them, and add what the
documentation states in prose (entries go when their process dies; a
unique key held by a dead process may be taken; via names are for unique
registries; listeners get register/unregister messages).
"""

import pytest

import vm
from stdlib import gen_server, gen_statem, supervisor
from stdlib.registry import Registry
from vm.testing import run

ANY = vm.ANY


def in_task(fn, *args):
    """Elixir's Task.async(fn) |> Task.await()."""
    from stdlib import task
    return task.await_(task.async_(fn, *args))


# ----------------------------------------------------------------------
# the documentation's examples


def test_lookup_unique_and_duplicate():
    def main():
        Registry.start_link(keys="unique", name="UniqueLookupTest")
        a = Registry.lookup("UniqueLookupTest", "hello")
        ok, _ = Registry.register("UniqueLookupTest", "hello", "world")
        b = Registry.lookup("UniqueLookupTest", "hello")
        c = in_task(Registry.lookup, "UniqueLookupTest", "hello")
        Registry.start_link(keys="duplicate", name="DuplicateLookupTest")
        d = Registry.lookup("DuplicateLookupTest", "hello")
        Registry.register("DuplicateLookupTest", "hello", "world")
        e = Registry.lookup("DuplicateLookupTest", "hello")
        Registry.register("DuplicateLookupTest", "hello", "another")
        f = sorted(Registry.lookup("DuplicateLookupTest", "hello"))
        return ok, a, b, c, d, e, f, vm.self()

    ok, a, b, c, d, e, f, me = run(main)
    assert ok == "ok" and a == [] and b == c == [(me, "world")]
    assert d == [] and e == [(me, "world")] and f == [(me, "another"), (me, "world")]


def test_update_value():
    def main():
        Registry.start_link(keys="unique", name="UpdateTest")
        Registry.register("UpdateTest", "hello", 1)
        before = Registry.lookup("UpdateTest", "hello")
        updated = Registry.update_value("UpdateTest", "hello", lambda v: v + 1)
        other = in_task(Registry.update_value, "UpdateTest", "hello", lambda v: v + 1)
        return before, updated, Registry.lookup("UpdateTest", "hello"), other, vm.self()

    before, updated, after, other, me = run(main)
    assert before == [(me, 1)] and updated == (2, 1) and after == [(me, 2)]
    assert other == "error"  # only the registered process may update


def test_match_and_count_match():
    def main():
        Registry.start_link(keys="duplicate", name="MatchTest")
        Registry.register("MatchTest", "hello", (1, "atom", 1))
        Registry.register("MatchTest", "hello", (2, "atom", 2))
        m = "MatchTest"
        return (Registry.match(m, "hello", (1, "_", "_")),
                Registry.match(m, "hello", (2, "_", "_")),
                sorted(Registry.match(m, "hello", ("_", "atom", "_"))),
                sorted(Registry.match(m, "hello", ("$1", "_", "$1"))),
                Registry.match(m, "hello", ("_", "_", "$1"), [(">", "$1", 1)]),
                sorted(Registry.match(m, "hello", ("_", "$1", "_"), [("is_atom", "$1")])),
                Registry.count_match(m, "hello", (1, "_", "_")),
                Registry.count_match(m, "hello", ("_", "atom", "_")),
                Registry.count_match(m, "hello", ("$1", "_", "$1")),
                Registry.count_match(m, "hello", ("_", "_", "$1"), [(">", "$1", 1)]),
                vm.self())

    *res, me = run(main)
    one, two = (me, (1, "atom", 1)), (me, (2, "atom", 2))
    assert res == [[one], [two], [one, two], [one, two], [two], [one, two], 1, 2, 2, 1]


def test_keys_unique_and_duplicate():
    def main():
        Registry.start_link(keys="unique", name="UniqueKeysTest")
        a = Registry.keys("UniqueKeysTest", vm.self())
        Registry.register("UniqueKeysTest", "hello", "world")
        taken = Registry.register("UniqueKeysTest", "hello", "later")
        b = Registry.keys("UniqueKeysTest", vm.self())
        Registry.start_link(keys="duplicate", name="DuplicateKeysTest")
        Registry.register("DuplicateKeysTest", "hello", "world")
        Registry.register("DuplicateKeysTest", "hello", "world")
        return a, taken, b, Registry.keys("DuplicateKeysTest", vm.self()), vm.self()

    a, taken, b, dup, me = run(main)
    assert a == [] and taken == ("error", ("already_registered", me)) and b == ["hello"]
    assert dup == ["hello", "hello"]


def test_values():
    def main():
        Registry.start_link(keys="unique", name="UniqueValuesTest")
        a = Registry.values("UniqueValuesTest", "hello", vm.self())
        Registry.register("UniqueValuesTest", "hello", "world")
        b = Registry.values("UniqueValuesTest", "hello", vm.self())
        c = in_task(lambda: Registry.values("UniqueValuesTest", "hello", vm.self()))
        parent = vm.self()
        d = in_task(lambda: Registry.values("UniqueValuesTest", "hello", parent))
        Registry.start_link(keys="duplicate", name="DuplicateValuesTest")
        Registry.register("DuplicateValuesTest", "hello", "world")
        Registry.register("DuplicateValuesTest", "hello", "another")
        e = sorted(Registry.values("DuplicateValuesTest", "hello", vm.self()))
        return a, b, c, d, e

    assert run(main) == ([], ["world"], [], ["world"], ["another", "world"])


def test_unregister():
    def main():
        Registry.start_link(keys="unique", name="UniqueUnregisterTest")
        Registry.register("UniqueUnregisterTest", "hello", "world")
        a = Registry.keys("UniqueUnregisterTest", vm.self())
        ok = Registry.unregister("UniqueUnregisterTest", "hello")
        b = Registry.keys("UniqueUnregisterTest", vm.self())
        Registry.start_link(keys="duplicate", name="DuplicateUnregisterTest")
        Registry.register("DuplicateUnregisterTest", "hello", "world")
        Registry.register("DuplicateUnregisterTest", "hello", "world")
        c = Registry.keys("DuplicateUnregisterTest", vm.self())
        Registry.unregister("DuplicateUnregisterTest", "hello")
        links = vm.process_info(vm.self(), "links")
        return a, ok, b, c, Registry.keys("DuplicateUnregisterTest", vm.self()), links

    a, ok, b, c, d, links = run(main)
    assert (a, ok, b, c, d) == (["hello"], "ok", [], ["hello", "hello"], [])
    assert len(links) == 2  # the two registries' supervisors; the partitions are unlinked


def test_unregister_match():
    def main():
        r = "UniqueUnregisterMatchTest"
        Registry.start_link(keys="unique", name=r)
        Registry.register(r, "hello", "world")
        a = Registry.keys(r, vm.self())
        Registry.unregister_match(r, "hello", "foo")
        b = Registry.keys(r, vm.self())
        Registry.unregister_match(r, "hello", "world")
        c = Registry.keys(r, vm.self())
        d = "DuplicateUnregisterMatchTest"
        Registry.start_link(keys="duplicate", name=d)
        for v in ("world_a", "world_b", "world_c"):
            Registry.register(d, "hello", v)
        e = Registry.keys(d, vm.self())
        Registry.unregister_match(d, "hello", "world_a")
        return a, b, c, e, Registry.keys(d, vm.self()), Registry.lookup(d, "hello"), vm.self()

    a, b, c, e, f, looked, me = run(main)
    assert (a, b, c) == (["hello"], ["hello"], [])
    assert e == ["hello"] * 3 and f == ["hello"] * 2
    assert looked == [(me, "world_b"), (me, "world_c")]


def test_meta():
    def main():
        Registry.start_link(keys="unique", name="MetaTest", meta=[("custom_key", "custom_value")])
        a = Registry.meta("MetaTest", "custom_key")
        b = Registry.meta("MetaTest", "unknown_key")
        Registry.start_link(keys="unique", name="PutMetaTest")
        c = Registry.put_meta("PutMetaTest", "custom_key", "custom_value")
        d = Registry.meta("PutMetaTest", "custom_key")
        Registry.put_meta("PutMetaTest", ("tuple", "key"), "tuple_value")
        e = Registry.meta("PutMetaTest", ("tuple", "key"))
        Registry.delete_meta("PutMetaTest", "custom_key")
        return a, b, c, d, e, Registry.meta("PutMetaTest", "custom_key")

    assert run(main) == (("ok", "custom_value"), "error", "ok", ("ok", "custom_value"),
                            ("ok", "tuple_value"), "error")


def test_count():
    def main():
        Registry.start_link(keys="unique", name="UniqueCountTest")
        a = Registry.count("UniqueCountTest")
        Registry.register("UniqueCountTest", "hello", "world")
        Registry.register("UniqueCountTest", "world", "world")
        b = Registry.count("UniqueCountTest")
        Registry.start_link(keys="duplicate", name="DuplicateCountTest")
        Registry.register("DuplicateCountTest", "hello", "world")
        Registry.register("DuplicateCountTest", "hello", "world")
        return a, b, Registry.count("DuplicateCountTest")

    assert run(main) == (0, 2, 2)


def test_select_and_count_select():
    def main():
        Registry.start_link(keys="unique", name="SelectAllTest")
        Registry.register("SelectAllTest", "hello", "value")
        Registry.register("SelectAllTest", "world", "value")
        everything = sorted(Registry.select(
            "SelectAllTest", [(("$1", "$2", "$3"), [], [(("$1", "$2", "$3"),)])]))
        just_keys = sorted(Registry.select("SelectAllTest", [(("$1", "_", "_"), [], ["$1"])]))
        counted = Registry.count_select("SelectAllTest", [(("_", "_", "value"), [], [True])])
        with pytest.raises(vm.BadArg, match="invalid match specification"):
            Registry.select("SelectAllTest", [(("$1", "$2"), [], ["$1"])])
        return everything, just_keys, counted, vm.self()

    everything, just_keys, counted, me = run(main)
    assert everything == [("hello", me, "value"), ("world", me, "value")]
    assert just_keys == ["hello", "world"] and counted == 2


def test_dispatch_as_pubsub_with_partitions():
    def main():
        Registry.start_link(keys="duplicate", name="PubSubTest", partitions=4)
        me = vm.self()
        subscribers = []
        for _ in range(6):
            def sub():
                Registry.register("PubSubTest", "hello", [])
                vm.send(me, "subscribed")
                vm.send(me, ("got", vm.self(), vm.receive(("broadcast", ANY))))

            subscribers.append(vm.spawn(sub))
            vm.receive("subscribed")
        calls = []

        def broadcast(entries):
            calls.append(len(entries))
            for pid, _ in entries:
                vm.send(pid, ("broadcast", "world"))

        ok = Registry.dispatch("PubSubTest", "hello", broadcast)
        got = sorted(vm.receive(("got", ANY, ANY))[1].id for _ in subscribers)
        nobody = Registry.dispatch("PubSubTest", "nobody", broadcast)
        return ok, nobody, sum(calls), len(calls) <= 4, got == sorted(p.id for p in subscribers)

    assert run(main) == ("ok", "ok", 6, True, True)


def test_dispatch_parallel_and_with_arguments():
    def main():
        Registry.start_link(keys="duplicate", name="Par", partitions=3)
        Registry.register("Par", "k", 1)
        seen = []
        Registry.dispatch("Par", "k", (lambda entries, tag: seen.append((tag, entries)), ["t"]))
        me = vm.self()
        Registry.dispatch("Par", "k", lambda entries: vm.send(me, ("par", entries)),
                          parallel=True)
        return seen, vm.receive(("par", ANY))[1], me

    seen, par, me = run(main)
    assert seen == [("t", [(me, 1)])] and par == [(me, 1)]


# ----------------------------------------------------------------------
# what the documentation states in prose


def test_entries_go_when_the_process_dies():
    def main():
        Registry.start_link(keys="unique", name="R")
        Registry.start_link(keys="duplicate", name="D", partitions=2)

        def worker():
            Registry.register("R", "job", 1)
            Registry.register("D", "topic", 1)
            Registry.register("D", "topic", 2)
            vm.receive("stop")

        pid, ref = vm.spawn_monitor(worker)
        vm.sleep(0.01)
        before = Registry.lookup("R", "job"), len(Registry.lookup("D", "topic"))
        vm.send(pid, "stop")
        vm.receive(("DOWN", ref, ANY, ANY, ANY))
        Registry.sync("R")
        Registry.sync("D")
        return pid, before, Registry.lookup("R", "job"), Registry.lookup("D", "topic"), \
            Registry.count("R"), Registry.keys("D", pid)

    pid, before, r, d, n, keys = run(main)
    assert before == ([(pid, 1)], 2) and (r, d, n, keys) == ([], [], 0, [])


def test_a_unique_key_of_a_dead_process_can_be_taken_before_the_cleanup():
    def main():
        Registry.start_link(keys="unique", name="R")
        pid, ref = vm.spawn_monitor(lambda: Registry.register("R", "k", "old"))
        vm.receive(("DOWN", ref, ANY, ANY, ANY))
        stale = Registry.lookup("R", "k")  # the partition may not have run yet
        via_dead = Registry.whereis_name(("R", "k"))
        return pid, stale, via_dead, Registry.register("R", "k", "new")[0], \
            Registry.lookup("R", "k"), vm.self()

    pid, stale, via_dead, ok, now, me = run(main)
    assert stale in ([(pid, "old")], []) and via_dead is None
    assert ok == "ok" and now == [(me, "new")]


def test_listeners_hear_of_registrations():
    def main():
        vm.register("listener", vm.self())
        Registry.start_link(keys="unique", name="L", listeners=["listener"])
        Registry.register("L", "k", "v")
        Registry.unregister("L", "k")
        return vm.flush(), vm.self()

    msgs, me = run(main)
    assert msgs == [("register", "L", "k", me, "v"), ("unregister", "L", "k", me)]


def test_keys_that_look_like_patterns_are_matched_exactly():
    def main():
        Registry.start_link(keys="duplicate", name="W")
        Registry.register("W", "_", 1)
        Registry.register("W", ("$1", 1), 2)
        Registry.register("W", "other", 3)
        r = (Registry.lookup("W", "_"), Registry.match("W", ("$1", 1), "_"),
             Registry.count_match("W", "_", "_"))
        Registry.unregister("W", "_")
        return r + (Registry.count("W"),), vm.self()

    (underscore, dollar, n, left), me = run(main)
    assert underscore == [(me, 1)] and dollar == [(me, 2)] and n == 1 and left == 2


def test_ordered_duplicate_registry_by_key():
    def main():
        Registry.start_link(keys=("duplicate", "key"), name="K", partitions=2)
        Registry.register("K", "topic", 1)
        Registry.register("K", "topic", 2)
        Registry.register("K", "other", 3)
        return (sorted(Registry.lookup("K", "topic")), Registry.count("K"),
                Registry.keys("K", vm.self()), Registry.unregister("K", "topic"),
                Registry.lookup("K", "topic"), vm.self())

    looked, n, keys, ok, after, me = run(main)
    assert looked == [(me, 1), (me, 2)] and n == 3 and sorted(keys) == ["other", "topic",
                                                                        "topic"]
    assert ok == "ok" and after == []


def test_bad_options_and_unknown_registries():
    def main():
        msgs = []
        for kw in ({"name": "x"}, {"keys": "unique"}, {"keys": "many", "name": "x"},
                   {"keys": "unique", "name": "x", "partitions": 0},
                   {"keys": "unique", "name": "x", "listeners": [1]},
                   {"keys": "unique", "name": "x", "meta": [("k",)]}):
            with pytest.raises(vm.BadArg) as e:
                Registry.start_link(**kw)
            msgs.append(str(e.value))
        with pytest.raises(vm.BadArg) as e:
            Registry.lookup("nosuch", "k")
        msgs.append(str(e.value))
        Registry.start_link(keys="duplicate", name="Dup")
        with pytest.raises(vm.BadArg) as e:
            Registry.update_value("Dup", "k", lambda v: v)
        msgs.append(str(e.value))
        return msgs

    msgs = run(main)
    assert "expected keys= to be given" in msgs[0] and "expected name=" in msgs[1]
    assert "got: 'many'" in msgs[2] and "positive integer" in msgs[3]
    assert "named processes" in msgs[4] and "expected meta=" in msgs[5]
    assert "unknown registry: 'nosuch'" in msgs[6] and "not supported" in msgs[7]


# ----------------------------------------------------------------------
# via names: gen_server, gen_statem, supervisor child specs


class Counter(gen_server.GenServer):
    def init(self, n):
        return ("ok", n)

    def handle_call(self, request, from_, n):
        return ("reply", n, n)

    def handle_cast(self, msg, n):
        return ("noreply", n + msg)


class Light(gen_statem.GenStatem):
    def callback_mode(self):
        return "handle_event_function"

    def init(self, arg):
        return ("ok", "off", None)

    def handle_event(self, kind, content, state, data):
        if kind[0] == "call" if type(kind) is tuple else False:
            return ("next_state", "on" if state == "off" else "off", data,
                    [("reply", kind[1], state)])
        return "keep_state_and_data"


def test_via_names_for_gen_server_and_gen_statem():
    def main():
        Registry.start_link(keys="unique", name="Names")
        name = ("via", Registry, ("Names", "counter"))
        ok, pid = gen_server.start_link(Counter, 1, name=name)
        again = gen_server.start_link(Counter, 1, name=name)
        gen_server.cast(name, 41)
        value = gen_server.call(name, "get")
        sm_name = ("via", Registry, ("Names", "light", "a value"))
        gen_statem.start_link(Light, None, name=sm_name)
        before = gen_statem.call(sm_name, "toggle")
        after = gen_statem.call(sm_name, "toggle")
        looked = Registry.lookup("Names", "light")[0][1]
        gen_server.stop(name)
        Registry.sync("Names")
        dup = ("via", Registry, ("Dups", "x"))
        Registry.start_link(keys="duplicate", name="Dups")
        with pytest.raises(vm.BadArg, match="not supported"):
            gen_server.call(dup, "get")
        return pid, again, value, before, after, looked, Registry.lookup("Names", "counter")

    pid, again, value, before, after, looked, gone = run(main)
    assert again == ("error", ("already_started", pid)) and value == 42
    assert (before, after, looked, gone) == ("off", "on", "a value", [])


def test_via_names_in_supervisor_child_specs_survive_restarts():
    def main():
        Registry.start_link(keys="unique", name="Sup")
        name = ("via", Registry, ("Sup", "worker"))
        spec = {"id": "worker", "start": (_start_named, (name,))}
        ok, sup = supervisor.start_link_children([spec], strategy="one_for_one")
        first = Registry.whereis_name(("Sup", "worker"))
        vm.exit(first, "kill")
        for _ in range(100):  # the supervisor restarts it; the new one registers itself
            second = Registry.whereis_name(("Sup", "worker"))
            if second is not None and second != first:
                break
            vm.sleep(0.01)
        return first != second, gen_server.call(name, "get"), Registry.count("Sup") >= 1

    assert run(main) == (True, 7, True)


def _start_named(name):
    return gen_server.start_link(Counter, 7, name=name)


def test_via_send_and_unregister_name():
    def main():
        Registry.start_link(keys="unique", name="S")
        Registry.register_name(("S", "me"), vm.self())
        Registry.send(("S", "me"), "hi")
        got = vm.receive("hi")
        Registry.unregister_name(("S", "me"))
        with pytest.raises(vm.BadArg, match="nothing is registered"):
            Registry.send(("S", "me"), "hi")
        with pytest.raises(vm.BadArg, match="can only register itself"):
            Registry.register_name(("S", "x"), vm.spawn(lambda: None))
        return got, Registry.whereis_name(("S", "me"))

    assert run(main) == ("hi", None)


def test_registry_is_a_namespace():
    with pytest.raises(TypeError, match="namespace"):
        Registry()


def test_a_value_that_is_not_a_term_changes_nothing():
    import threading

    def main():
        Registry.start_link(keys="unique", name="T")
        with pytest.raises(vm.Unsendable):
            Registry.register("T", "k", threading.Lock())
        return Registry.keys("T", vm.self()), len(vm.process_info(vm.self(), "links"))

    assert run(main) == ([], 1)  # linked to the registry's supervisor only
