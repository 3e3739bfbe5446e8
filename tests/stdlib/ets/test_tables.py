"""ETS: the four table types, reading and writing, copies, errors (OTP's badarg cases)."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import vm
from stdlib import ets
from vm.testing import run

END = ets.END_OF_TABLE


def in_vm(fn):
    return run(fn)


def badarg(fn, *args, **kw):
    """The message of the vm.BadArg that fn raises (fails the test if none)."""
    with pytest.raises(vm.BadArg) as e:
        fn(*args, **kw)
    return str(e.value)


# ----------------------------------------------------------------------
# types


def test_set_keys_are_compared_exactly():
    def main():
        t = ets.new("t")
        ets.insert(t, [(1, "int"), (1.0, "float"), (True, "atom true")])
        ets.insert(t, (1, "int again"))
        return sorted(map(repr, ets.tab2list(t))), ets.lookup(t, 1), ets.info(t, "size")

    objs, hit, size = in_vm(main)
    assert hit == [(1, "int again")] and size == 3
    assert objs == sorted(map(repr, [(1, "int again"), (1.0, "float"), (True, "atom true")]))


def test_ordered_set_keys_compare_with_equal_and_the_newest_object_wins():
    def main():
        t = ets.new("t", type="ordered_set")
        ets.insert(t, [(1, "a"), (1.0, "b")])
        return ets.tab2list(t), ets.lookup(t, 1), ets.member(t, 1.0)

    assert in_vm(main) == ([(1.0, "b")], [(1.0, "b")], True)


def test_bag_keeps_one_of_equal_objects_in_insertion_order():
    def main():
        t = ets.new("t", type="bag")
        for v in (1, 2, 1, 3):
            ets.insert(t, ("k", v))
        one_by_one = ets.lookup(t, "k")
        t2 = ets.new("t2", type="bag")
        ets.insert(t2, [("k", 1), ("k", 2), ("k", 1), ("k", 3)])  # OTP takes a list from its end
        return one_by_one, ets.lookup(t2, "k"), ets.info(t, "size")

    assert in_vm(main) == ([("k", 1), ("k", 2), ("k", 3)], [("k", 3), ("k", 1), ("k", 2)], 3)


def test_duplicate_bag_keeps_duplicates_and_delete_object_removes_them_all():
    def main():
        t = ets.new("t", ["duplicate_bag"])
        ets.insert(t, [("k", 1), ("k", 2), ("k", 1)])
        before = ets.lookup(t, "k")
        ets.delete_object(t, ("k", 1))
        return before, ets.lookup(t, "k"), ets.info(t, "size")

    assert in_vm(main) == ([("k", 1), ("k", 2), ("k", 1)], [("k", 2)], 1)


def test_keypos_picks_the_key_element():
    def main():
        t = ets.new("t", keypos=1)
        ets.insert(t, [("alice", 1), ("bob", 2)])
        return ets.lookup(t, 2), ets.lookup_element(t, 1, 0), ets.info(t, "keypos")

    assert in_vm(main) == ([("bob", 2)], "alice", 1)


# ----------------------------------------------------------------------
# writing and reading


def test_insert_new_is_all_or_nothing():
    def main():
        t = ets.new("t")
        ets.insert(t, ("a", 1))
        refused = ets.insert_new(t, [("b", 1), ("a", 2)])
        accepted = ets.insert_new(t, [("b", 1), ("c", 1)])
        return refused, accepted, sorted(ets.tab2list(t))

    assert in_vm(main) == (False, True, [("a", 1), ("b", 1), ("c", 1)])


def test_a_bad_object_in_a_list_inserts_nothing():
    def main():
        t = ets.new("t")
        msg = badarg(ets.insert, t, [("a", 1), "not a tuple"])
        empty = badarg(ets.insert, t, ())
        return msg, empty, ets.tab2list(t)

    msg, empty, rows = in_vm(main)
    assert "objects must be tuples" in msg and "'not a tuple'" in msg
    assert "objects must be tuples" in empty and rows == []


def test_take_delete_and_delete_all_objects():
    def main():
        t = ets.new("t", type="bag")
        ets.insert(t, [("a", 1), ("a", 2), ("b", 1)])
        taken = ets.take(t, "a")
        gone = ets.lookup(t, "a")
        ets.delete(t, "b")
        ets.insert(t, ("c", 1))
        ets.delete_all_objects(t)
        return taken, gone, ets.info(t, "size"), ets.take(t, "zz")

    assert in_vm(main) == ([("a", 2), ("a", 1)], [], 0, [])


def test_lookup_element():
    def main():
        s = ets.new("s")
        b = ets.new("b", type="bag")
        ets.insert(s, ("k", 1, 2))
        ets.insert(b, [("k", 1), ("k", 2)])
        return (ets.lookup_element(s, "k", 2), ets.lookup_element(b, "k", 1),
                ets.lookup_element(s, "zz", 1, default="none"),
                badarg(ets.lookup_element, s, "zz", 1), badarg(ets.lookup_element, s, "k", 3))

    two, bag, default, missing, outside = in_vm(main)
    assert (two, sorted(bag), default) == (2, [1, 2], "none")
    assert "no object with key 'zz'" in missing and "position 3 is outside" in outside


def test_objects_are_copied_in_and_out():
    def main():
        t = ets.new("t", access="public")
        items = ["x"]
        ets.insert(t, ("k", items, {"n": [1]}))
        items.append("changed after insert")
        got = ets.lookup(t, "k")[0]
        got[1].append("changed after lookup")
        got[2]["n"].append(2)
        other = {}

        def reader():
            other["seen"] = ets.lookup(t, "k")[0]
            other["seen"][1].append("changed by another process")

        vm.spawn(reader)
        vm.sleep(0.01)
        return ets.lookup(t, "k")[0], ets.select(t, [(("_", "$1", "_"), [], ["$1"])])

    obj, selected = in_vm(main)
    assert obj == ("k", ["x"], {"n": [1]}) and selected == [["x"]]


def test_immutable_objects_are_shared_not_copied():
    def main():
        t = ets.new("t")
        obj = ("k", 1, "text", vm.self())
        ets.insert(t, obj)
        return ets.lookup(t, "k")[0] is obj

    assert in_vm(main) is True


def test_update_counter_forms():
    def main():
        t = ets.new("t", type="ordered_set")
        ets.insert(t, ("c", 5, 0))
        return (ets.update_counter(t, "c", 1),
                ets.update_counter(t, "c", (2, 10)),
                ets.update_counter(t, "c", [(1, 1), (1, 10)]),
                ets.update_counter(t, "c", (1, -100, 0, 7)),
                ets.update_counter(t, "c", (2, 100, 50, -1)),
                ets.update_counter(t, "new", 5, default=("ignored", 10)),
                ets.lookup(t, "c"), ets.lookup(t, "new"))

    assert in_vm(main) == (6, 10, [7, 17], 7, -1, 15, [("c", 7, -1)], [("new", 15)])


def test_update_counter_errors_change_nothing():
    def main():
        t = ets.new("t")
        ets.insert(t, ("c", 5, "x"))
        b = ets.new("b", type="bag")
        msgs = [
            badarg(ets.update_counter, t, "c", (2, 1)),  # not an integer
            badarg(ets.update_counter, t, "c", (0, 1)),  # the key
            badarg(ets.update_counter, t, "c", [(1, 1), (9, 1)]),  # outside: nothing applied
            badarg(ets.update_counter, t, "nope", 1),
            badarg(ets.update_counter, t, "nope", (2, 1), default=("nope", 0)),
            badarg(ets.update_counter, b, "k", 1),
        ]
        return msgs, ets.lookup(t, "c")

    msgs, obj = in_vm(main)
    assert obj == [("c", 5, "x")]
    assert "must be ints" in msgs[0] and "is the key" in msgs[1]
    assert "position 9 is outside" in msgs[2] and "pass default=" in msgs[3]
    assert "outside" in msgs[4] and "set and ordered_set" in msgs[5]


def test_update_element():
    def main():
        t = ets.new("t")
        ets.insert(t, ("k", 1, 2))
        return (ets.update_element(t, "k", (2, "two")), ets.update_element(t, "k", [(1, [1])]),
                ets.update_element(t, "missing", (1, 0)), ets.lookup(t, "k"),
                badarg(ets.update_element, t, "k", (0, "new key")),
                badarg(ets.update_element, t, "k", (5, 0)))

    yes, yes2, no, obj, key_msg, out_msg = in_vm(main)
    assert (yes, yes2, no, obj) == (True, True, False, [("k", [1], "two")])
    assert "is the key" in key_msg and "outside" in out_msg


# ----------------------------------------------------------------------
# traversal


def test_ordered_traversal_and_stepping_from_absent_keys():
    def main():
        t = ets.new("t", type="ordered_set")
        ets.insert(t, [(k,) for k in (5, "b", 1, (1,), 2.5, "a")])
        keys, k = [], ets.first(t)
        while k != END:
            keys.append(k)
            k = ets.next(t, k)
        back, k = [], ets.last(t)
        while k != END:
            back.append(k)
            k = ets.prev(t, k)
        return keys, back, ets.next(t, 3), ets.prev(t, 3), ets.prev(t, 0), ets.first(ets.new("e"))

    keys, back, after3, before3, before0, empty = in_vm(main)
    assert keys == [1, 2.5, 5, "a", "b", (1,)]
    assert back == keys[::-1]
    assert (after3, before3, before0, empty) == (5, 2.5, END, END)


def test_hash_traversal_visits_every_key_once_while_keys_are_deleted():
    def main():
        t = ets.new("t", access="public")
        ets.insert(t, [(k, k) for k in range(200)])
        seen, k = [], ets.first(t)
        while k != END:
            seen.append(k)
            nxt = ets.next(t, k)
            if k % 3 == 0:
                ets.delete(t, k)  # deleting what was just visited is safe
            k = nxt
        msg = badarg(ets.next, t, "absent")
        return seen, ets.info(t, "size"), msg, ets.last(t) == ets.first(t)

    seen, size, msg, last_is_first = in_vm(main)
    assert sorted(seen) == list(range(200)) and size == 200 - 67
    assert "not in the set table" in msg and last_is_first


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.booleans(), st.integers(0, 40)), max_size=120))
def test_hash_traversal_matches_the_table_after_any_inserts_and_deletes(steps):
    def main():
        t = ets.new("t")
        ets.first(t)  # take the traversal snapshot early, so later changes must update it
        for ins, k in steps:
            if ins:
                ets.insert(t, (k,))
            else:
                ets.delete(t, k)
            if k % 7 == 0:
                ets.first(t)
        seen, k = [], ets.first(t)
        while k != END:
            seen.append(k)
            k = ets.next(t, k)
        return seen, [o[0] for o in ets.tab2list(t)]

    seen, listed = in_vm(main)
    assert seen == listed and len(set(seen)) == len(seen)


def test_foldl_and_foldr():
    def main():
        t = ets.new("t", type="ordered_set")
        ets.insert(t, [(1,), (2,), (3,)])
        return (ets.foldl(lambda o, acc: acc + [o[0]], [], t),
                ets.foldr(lambda o, acc: acc + [o[0]], [], t))

    assert in_vm(main) == ([1, 2, 3], [3, 2, 1])


# ----------------------------------------------------------------------
# names, info, errors


def test_named_tables_info_rename_whereis_all():
    def main():
        t = ets.new("users", named_table=True, access="public", read_concurrency=True)
        dup = badarg(ets.new, "users", named_table=True)
        unnamed = ets.new("users")  # the same name is fine without named_table
        tid = ets.whereis("users")
        info = ets.info("users")
        renamed = ets.rename("users", "people")
        return (t, dup, type(unnamed).__name__, tid == info["id"], info, renamed,
                ets.info("users"), ets.info("people", "name"), ets.whereis("users"),
                set(ets.all()) >= {"people", unnamed}, ets.rename(unnamed, "x") == unnamed)

    t, dup, unnamed, same, info, renamed, old, new, gone, listed, same_id = in_vm(main)
    assert t == "users" and "already exists" in dup and unnamed == "Ref" and same
    assert list(info) == ["id", "decentralized_counters", "read_concurrency",
                          "write_concurrency", "compressed", "memory", "owner", "heir",
                          "name", "size", "node", "named_table", "type", "keypos",
                          "protection"]
    assert info["read_concurrency"] is True and info["heir"] == "none"
    assert info["type"] == "set" and info["protection"] == "public" and info["named_table"]
    assert (renamed, old, new, gone, listed, same_id) == ("people", None, "people", None,
                                                         True, True)


def test_deleted_table_raises_and_info_says_none():
    def main():
        t = ets.new("t")
        ets.delete(t)
        return badarg(ets.lookup, t, 1), ets.info(t), ets.info(t, "size"), \
            badarg(ets.delete, t), badarg(ets.insert, "nosuch", (1,))

    gone, info, size, again, unnamed = in_vm(main)
    assert "does not exist" in gone and info is None and size is None and "does not exist" in again
    assert "no table is named 'nosuch'" in unnamed


@pytest.mark.parametrize("options, kw, fragment", [
    (["bogus"], {}, "unknown option 'bogus'"),
    ([("keypos", -1)], {}, "keypos must be an int >= 0"),
    ([], {"type": "hash"}, "type must be one of"),
    ([], {"access": "open"}, "access must be one of"),
    ([], {"heir": "me"}, "heir must be (pid, data)"),
    ([], {"write_concurrency": "sometimes"}, "write_concurrency must be"),
    ("set", {}, "options must be a list"),
])
def test_bad_options(options, kw, fragment):
    assert fragment in in_vm(lambda: badarg(ets.new, "t", options, **kw))


def test_last_type_in_the_option_list_wins_and_options_mix():
    def main():
        t = ets.new("t", ["set", "bag", ("keypos", 1)], access="public")
        return ets.info(t, "type"), ets.info(t, "keypos"), ets.info(t, "protection")

    assert in_vm(main) == ("bag", 1, "public")


def test_info_with_unknown_item_and_the_no_op_options():
    def main():
        t = ets.new("t", ["compressed", ("write_concurrency", "auto"),
                          ("decentralized_counters", True)])
        return badarg(ets.info, t, "bogus"), ets.info(t, "write_concurrency"), \
            ets.info(t, "compressed"), ets.info(t, "decentralized_counters")

    msg, wc, compressed, dc = in_vm(main)
    assert "unknown item 'bogus'" in msg and (wc, compressed, dc) == ("auto", True, True)


def test_keypos_beyond_the_object():
    def main():
        t = ets.new("t", keypos=1)
        return badarg(ets.insert, t, ("only one",))

    assert "at least 2 element(s)" in in_vm(main)


def test_outside_a_process():
    with pytest.raises(vm.NotInProcess):
        ets.new("t")


def test_each_node_has_its_own_tables():
    def main():
        ets.new("shared_name", named_table=True)
        return ets.all()

    assert run(main) == ["shared_name"]
    assert run(main) == ["shared_name"]  # a fresh node: no clash with the first


def test_memory_grows_with_the_objects():
    def main():
        t = ets.new("t")
        small = ets.info(t, "memory")
        ets.insert(t, [(k, "x" * 100) for k in range(1000)])
        return small, ets.info(t, "memory")

    small, big = in_vm(main)
    assert big > small + 1000 * 100 // 8


def test_nan_and_tuple_subclasses():
    import collections

    point = collections.namedtuple("point", "x y")

    def main():
        o = ets.new("o", type="ordered_set")
        s = ets.new("s")
        ets.insert(s, (float("nan"), 1))  # a set compares exactly: the object is kept
        return badarg(ets.insert, o, (float("nan"), 1)), badarg(ets.insert, s, point(1, 2)), \
            ets.info(s, "size")

    nan, sub, size = in_vm(main)
    assert "NaN is not a term" in nan and "convert it with tuple(obj)" in sub and size == 1


def test_update_counter_default_holding_a_list_is_copied_out():
    def main():
        t = ets.new("t", access="public")
        ets.update_counter(t, "k", 1, default=("k", 0, ["log"]))
        got = ets.lookup(t, "k")[0]
        got[2].append("changed by a reader")
        return ets.lookup(t, "k")

    assert in_vm(main) == [("k", 1, ["log"])]
