"""Python twins of the ETS scenarios in erlang/scenarios_ets.erl.

Every public function is a scenario with the same name as its Erlang twin
and must log the same trace (golden/ets/<name>.trace). Literal translations,
with two rules of their own: positions count from 0 here and from 1 in
Erlang (`{keypos, 2}` is `("keypos", 1)`, `update_counter(T, K, {3, 1})`
is `update_counter(t, k, (2, 1))`, `lookup_element(T, K, 2)` is
`lookup_element(t, k, 1)`), while match specifications are the same text on
both sides (their `element/2` counts from 1 in both, as it is Erlang's
function); set and bag contents are logged sorted, as their traversal
order is unspecified on both sides.
"""
from __future__ import annotations

import vm
from stdlib import ets
from vm import ANY

from . import trace as T


def _a(fn, *args, **kwargs):
    return T.attempt(fn, *args, **kwargs)


def _other(fn):
    """Run fn in a fresh process, return what it returned."""
    me = vm.self()
    vm.spawn(lambda: vm.send(me, ("other_result", fn())))
    return vm.receive(("other_result", ANY))[1]


def _owner(role, name, opts):
    me = vm.self()

    def body():
        t = ets.new(name, opts)
        ets.insert(t, ("a", 1))
        vm.send(me, ("made", t))
        vm.receive("stop")

    p = T.name(vm.spawn(body), role)
    return p, vm.receive(("made", ANY))[1]


sorted_ = T.sorted_terms


def _walk(t, k, step):
    out = []
    while k != ets.END_OF_TABLE:
        out.append(k)
        k = step(t, k)
    return out


def ets_set_basics():
    t = ets.new("t", ["set"])
    T.log(("insert", ets.insert(t, ("a", 1))))
    ets.insert(t, [("b", 2), ("c", 3)])
    ets.insert(t, ("a", 10))
    T.log(("lookup", ets.lookup(t, "a"), ets.lookup(t, "zz")))
    T.log(("member", ets.member(t, "b"), ets.member(t, "zz")))
    T.log(("insert_new", ets.insert_new(t, ("b", 0)), ets.insert_new(t, ("d", 4))))
    T.log(("delete", ets.delete(t, "c"), ets.lookup(t, "c")))
    T.log(("all", sorted_(ets.tab2list(t))))
    T.log(("info", ets.info(t, "size"), ets.info(t, "type"), ets.info(t, "protection"),
           ets.info(t, "named_table"), ets.info(t, "heir")))


def ets_set_exact_keys():
    t = ets.new("t", ["set"])
    ets.insert(t, [(1, "int"), (1.0, "float"), (True, "atom")])
    T.log(("lookup", ets.lookup(t, 1), ets.lookup(t, 1.0), ets.lookup(t, True)))
    T.log(("size", ets.info(t, "size")))
    T.log(("match", ets.match(t, (1, "$1"))))


def ets_ordered_set_equal_keys():
    t = ets.new("t", ["ordered_set"])
    ets.insert(t, [(1, "int"), (1.0, "float")])
    T.log(("all", ets.tab2list(t)))
    T.log(("lookup", ets.lookup(t, 1), ets.member(t, 1)))
    T.log(("match_exact", ets.match(t, (1, "$1")), ets.match(t, (1.0, "$1"))))


def ets_bag():
    t = ets.new("t", ["bag"])
    for v in (1, 2, 1, 3):
        ets.insert(t, ("k", v))
    T.log(("one_by_one", ets.lookup(t, "k")))
    t2 = ets.new("t2", ["bag"])
    ets.insert(t2, [("k", 1), ("k", 2), ("k", 1), ("k", 3)])
    T.log(("from_a_list", ets.lookup(t2, "k")))
    ets.delete_object(t, ("k", 2))
    T.log(("delete_object", ets.lookup(t, "k"), ets.info(t, "size")))
    T.log(("lookup_element", ets.lookup_element(t, "k", 1)))
    T.log(("update_counter", _a(ets.update_counter, t, "k", 1)))


def ets_duplicate_bag():
    t = ets.new("t", ["duplicate_bag"])
    ets.insert(t, [("k", 1), ("k", 2), ("k", 1)])
    ets.insert(t, ("k", 1))
    T.log(("lookup", ets.lookup(t, "k"), ets.info(t, "size")))
    ets.delete_object(t, ("k", 1))
    T.log(("delete_object", ets.lookup(t, "k")))
    ets.insert(t, [("j", 1), ("j", 1)])
    T.log(("take", ets.take(t, "j"), ets.lookup(t, "j")))


def ets_ordered_traversal():
    t = ets.new("t", ["ordered_set"])
    ets.insert(t, [(k,) for k in (5, "b", 1, (1,), ["x"], 2.5, "a", (0, 0))])
    T.log(("forward", _walk(t, ets.first(t), ets.next)))
    T.log(("backward", _walk(t, ets.last(t), ets.prev)))
    T.log(("from_absent", ets.next(t, 3), ets.prev(t, 3), ets.prev(t, 0), ets.next(t, ["y"])))
    T.log(("empty", ets.first(ets.new("e", ["ordered_set"])), ets.last(ets.new("e", ["set"]))))


def ets_hash_traversal():
    t = ets.new("t", ["set"])
    ets.insert(t, [(k, k) for k in range(1, 21)])
    keys = _walk(t, ets.first(t), ets.next)
    T.log(("all_once", sorted(keys) == list(range(1, 21))))
    T.log(("last_is_first", ets.last(t) == ets.first(t)))
    T.log(("absent", _a(ets.next, t, "absent")))
    T.log(("empty", ets.first(ets.new("e", ["bag"]))))


def _access(t):
    return _other(lambda: [
        ("lookup", _a(ets.lookup, t, "a")),
        ("select", _a(ets.select, t, [("_", [], ["$_"])])),
        ("first", _a(ets.first, t)),
        ("insert", _a(ets.insert, t, ("b", 2))),
        ("update_counter", _a(ets.update_counter, t, "a", 1)),
        ("delete", _a(ets.delete, t, "b")),
        ("info", _a(ets.info, t, "size")),
        ("give_away", _a(ets.give_away, t, vm.self(), "gift")),
    ])


def _access_scenario(access, sort):
    t = ets.new("t", [access])
    ets.insert(t, ("a", 1))
    for x in _access(t):
        T.log(x)
    T.log(("owner_sees", sort(ets.tab2list(t))))
    return t


def ets_access_protected():
    _access_scenario("protected", list)


def ets_access_private():
    _access_scenario("private", list)


def ets_access_public():
    t = _access_scenario("public", sorted_)
    T.log(("delete_by_other", _other(lambda: ets.delete(t)), ets.info(t)))


def ets_owner_death_deletes():
    p, t = _owner("owner", "named", ["named_table", "public"])
    r = vm.monitor(p)
    vm.exit(p, "kill")
    reason = vm.receive(("DOWN", r, "process", p, ANY))[4]
    T.log(("down", reason, ets.info(t)))
    T.log(("name_free", ets.new("named", ["named_table"])))


def ets_heir_on_owner_death():
    vm.process_flag("trap_exit", True)
    me = vm.self()

    def body():
        t = ets.new("tab", ["named_table", ("heir", me, "hdata")])
        ets.insert(t, ("a", 1))
        vm.send(me, "made")
        vm.receive("stop")
        vm.exit("boom")

    p = T.name(vm.spawn(body), "owner")
    vm.link(p)
    vm.monitor(p)
    vm.receive("made")
    vm.send(p, "stop")
    T.settle()
    for m in T.flush():
        T.log(m)
    T.log(("owner", ets.info("tab", "owner"), "heir", ets.info("tab", "heir")))
    T.log(("contents", ets.lookup("tab", "a")))
    T.log(("now_writable", ets.insert("tab", ("b", 2))))


def ets_heir_dead_first():
    heir = T.name(vm.spawn(lambda: vm.receive()), "heir")
    p, t = _owner("owner", "t", [("heir", heir, "data")])
    hr = vm.monitor(heir)
    vm.exit(heir, "kill")
    vm.receive(("DOWN", hr, ANY, ANY, ANY))
    T.log(("heir_shown", ets.info(t, "heir")))
    r = vm.monitor(p)
    vm.send(p, "stop")
    vm.receive(("DOWN", r, ANY, ANY, ANY))
    T.log(("after_owner", ets.info(t)))
    T.log(("no_transfer", T.flush()))


def ets_give_away():
    me = vm.self()
    t = ets.new("t", [])

    def taker():
        m = vm.receive()
        vm.send(me, ("got", m, _a(ets.insert, m[1], ("mine", 1))))
        vm.receive("stop")

    tk = T.name(vm.spawn(taker), "taker")
    dead = T.name(vm.spawn(lambda: None), "dead")
    dr = vm.monitor(dead)
    vm.receive(("DOWN", dr, ANY, ANY, ANY))
    T.log(("to_self", _a(ets.give_away, t, vm.self(), "x")))
    T.log(("to_dead", _a(ets.give_away, t, dead, "x")))
    T.log(("to_name", _a(ets.give_away, t, "taker", "x")))
    T.log(("given", ets.give_away(t, tk, {"gift": 1})))
    _, m, w = vm.receive(("got", ANY, ANY))
    T.log(("taker_got", m, w))
    T.log(("owner", ets.info(t, "owner")))
    T.log(("again", _a(ets.give_away, t, vm.self(), "x")))
    T.log(("old_owner_writes", _a(ets.insert, t, ("x", 1))))
    vm.send(tk, "stop")


def ets_give_away_then_death():
    me = vm.self()
    t = ets.new("t", [("heir", me, "from_heir")])

    def b_body():
        vm.receive(("ETS-TRANSFER", ANY, ANY, ANY))
        vm.send(me, "have_it")
        vm.receive("stop")

    b = T.name(vm.spawn(b_body), "b")
    ets.give_away(t, b, "gift")
    vm.receive("have_it")
    r = vm.monitor(b)
    vm.send(b, "stop")
    vm.receive(("DOWN", r, ANY, ANY, ANY))
    for m in T.flush():
        T.log(m)
    T.log(("owner", ets.info(t, "owner")))


def ets_match_spec_guards():
    t = ets.new("t", ["ordered_set"])
    ets.insert(t, [(k, k * k) for k in range(1, 11)])
    ets.insert(t, ("text", "nan"))
    T.log(("big", ets.select(t, [(("$1", "$2"), [(">", "$2", 50), ("is_integer", "$2")],
                                  ["$1"])])))
    T.log(("between", ets.select(t, [(("$1", "$2"),
                                       [("andalso", (">", "$1", 2), ("<", "$1", 5))],
                                       [(("$2", "$1", "sq"),)])])))
    T.log(("rem4", ets.select(t, [(("$1", "_"), [("==", ("rem", "$1", 4), 0)], ["$$"])])))
    T.log(("clauses", ets.select(t, [(("$1", "_"), [("=:=", "$1", 3)], ["$_"]),
                                     (("$1", "_"), [("=:=", "$1", 4)],
                                      [("const", ("four", "$1"))])])))
    T.log(("guard_error", ets.select(t, [(("$1", "$2"), [(">", ("+", "$2", 1), 90)],
                                          ["$1"])])))
    T.log(("body_error", ets.select(t, [(("$1", "$2"), [("<", "$1", 3)],
                                         [("div", "$2", 0)])])))
    T.log(("element", ets.select(t, [("$1", [("==", ("element", 2, "$1"), 49)],
                                      [("element", 1, "$1")])])))
    T.log(("term_order", ets.select(t, [(("$1", "_"), [(">", "$1", 9)], ["$1"])])))
    T.log(("list_body", ets.select(t, [(("$1", "$2"), [("<", "$1", 3)],
                                        [["$1", ("*", "$1", 2)]])])))
    T.log(("unknown_fun", _a(ets.select, t, [(("$1", "_"), [], [("frob", "$1")])])))
    T.log(("unbound", _a(ets.select, t, [(("$1", "_"), [], ["$2"])])))


def ets_match_and_match_object():
    t = ets.new("t", ["duplicate_bag"])
    ets.insert(t, [("k", 1, 1), ("k", 1, 1.0), ("k", 2, 3), ("k", [1, 2], ("x", "y")),
                   ("k", True, 1)])
    T.log(("same_twice", ets.match(t, ("k", "$1", "$1"))))
    T.log(("ones", sorted_(ets.match_object(t, ("_", 1, "_")))))
    T.log(("nested", ets.match(t, ("_", ["$1", "_"], ("_", "$2")))))
    T.log(("atom_true", ets.match_object(t, ("k", True, "_"))))
    T.log(("order", sorted_(ets.match(t, ("_", "$2", "$1")))))
    T.log(("match_delete", ets.match_delete(t, ("k", 1, "_")), ets.info(t, "size")))


def ets_select_limit():
    t = ets.new("t", ["ordered_set"])
    ets.insert(t, [(k, k * k) for k in range(1, 11)])
    ms = [(("$1", "_"), [], ["$1"])]
    r1, c1 = ets.select(t, ms, 4)
    r2, c2 = ets.select(c1)
    r3, c3 = ets.select(c2)
    T.log(("chunks", r1, r2, r3, ets.select(c3)))
    m1, mc = ets.match(t, ("$1", "_"), 3)
    m2, _ = ets.match(mc)
    T.log(("match_chunks", m1, m2))
    o1, _ = ets.match_object(t, ("_", 100), 5)
    T.log(("match_object_chunk", o1))
    T.log(("none", ets.select(t, [(("$1", "_"), [(">", "$1", 100)], ["$1"])], 3)))


def ets_select_count_delete():
    for kind in ("set", "ordered_set", "bag", "duplicate_bag"):
        t = ets.new("t", [kind, "public"])
        ets.insert(t, [(k % 5, k) for k in range(20)])
        n = ets.select_count(t, [(("_", "$1"), [(">=", "$1", 10)], [True])])
        d = ets.select_delete(t, [(("$1", "_"), [("==", "$1", 2)], [True])])
        not_true = ets.select_delete(t, [(("$1", "_"), [], ["$1"])])
        ets.match_delete(t, (3, "_"))
        T.log((kind, n, d, not_true, sorted_(ets.tab2list(t))))


def ets_update_counter_forms():
    t = ets.new("t", ["ordered_set"])
    ets.insert(t, ("c", 5, 0))
    T.log(("incr", ets.update_counter(t, "c", 1)))
    T.log(("pos", ets.update_counter(t, "c", (2, 10))))
    T.log(("list", ets.update_counter(t, "c", [(1, 1), (1, 10)])))
    T.log(("threshold_down", ets.update_counter(t, "c", (1, -100, 0, 7))))
    T.log(("threshold_up", ets.update_counter(t, "c", (2, 100, 50, -1))))
    T.log(("default", ets.update_counter(t, "new", 5, ("ignored", 10))))
    T.log(("objects", ets.tab2list(t)))


def ets_update_counter_errors():
    t = ets.new("t", ["set"])
    ets.insert(t, ("c", 5, "x"))
    T.log(("not_integer", _a(ets.update_counter, t, "c", (2, 1))))
    T.log(("the_key", _a(ets.update_counter, t, "c", (0, 1))))
    T.log(("half_applied", _a(ets.update_counter, t, "c", [(1, 1), (8, 1)])))
    T.log(("missing", _a(ets.update_counter, t, "nope", 1)))
    T.log(("short_default", _a(ets.update_counter, t, "nope", (2, 1), ("nope", 0))))
    T.log(("not_int_incr", _a(ets.update_counter, t, "c", (1, "x"))))
    T.log(("unchanged", ets.lookup(t, "c")))


def ets_update_element_take():
    t = ets.new("t", ["set"])
    ets.insert(t, ("k", 1, 2))
    T.log(("update", ets.update_element(t, "k", (2, "two")),
           ets.update_element(t, "k", [(1, [1])])))
    T.log(("missing", ets.update_element(t, "nope", (1, 0))))
    T.log(("key", _a(ets.update_element, t, "k", (0, "new"))))
    T.log(("outside", _a(ets.update_element, t, "k", (4, 0))))
    T.log(("object", ets.lookup(t, "k")))
    T.log(("lookup_element", ets.lookup_element(t, "k", 2),
           _a(ets.lookup_element, t, "nope", 1), _a(ets.lookup_element, t, "k", 3)))
    T.log(("take", ets.take(t, "k"), ets.take(t, "k"), ets.info(t, "size")))
    b = ets.new("b", ["bag"])
    T.log(("bag_update_element", _a(ets.update_element, b, "k", (1, 0))))


def ets_errors_badarg():
    t = ets.new("t", ["set"])
    T.log(("not_a_tuple", _a(ets.insert, t, [("a", 1), "not_a_tuple"]), ets.tab2list(t)))
    T.log(("empty_tuple", _a(ets.insert, t, ())))
    T.log(("bad_option", _a(ets.new, "x", ["bogus"])))
    T.log(("bad_keypos", _a(ets.new, "x", [("keypos", -1)])))
    ets.new("taken", ["named_table"])
    T.log(("name_taken", _a(ets.new, "taken", ["named_table"])))
    T.log(("unknown_table", _a(ets.lookup, "no_such_table", "k")))
    T.log(("info_unknown_item", _a(ets.info, t, "bogus")))
    T.log(("info_no_table", ets.info("no_such_table"), ets.info("no_such_table", "size")))
    ets.delete(t)
    T.log(("deleted", _a(ets.lookup, t, "k"), _a(ets.delete, t), ets.info(t)))
    T.log(("select_bad_limit", _a(ets.select, "taken", [("_", [], [True])], 0)))


def ets_named_rename_whereis():
    t = ets.new("users", ["named_table", "public"])
    T.log(("named", t, ets.info("users", "name"), ets.info("users", "named_table")))
    T.log(("whereis", ets.whereis("users") == ets.info("users", "id"), ets.whereis("nobody")))
    T.log(("rename", ets.rename("users", "people"), ets.info("users"),
           ets.info("people", "name")))
    u = ets.new("users", [])
    T.log(("unnamed_rename", ets.rename(u, "other") == u, ets.info(u, "name")))
    T.log(("whereis_unnamed", ets.whereis("other")))


def ets_insert_new_and_delete_all():
    t = ets.new("t", ["set"])
    ets.insert(t, ("a", 1))
    T.log(("refused", ets.insert_new(t, [("b", 1), ("a", 2)]), sorted_(ets.tab2list(t))))
    T.log(("accepted", ets.insert_new(t, [("b", 1), ("c", 1)]), sorted_(ets.tab2list(t))))
    T.log(("same_key_in_list", ets.insert_new(t, [("x", 1), ("x", 2)]), ets.lookup(t, "x")))
    T.log(("delete_all", ets.delete_all_objects(t), ets.info(t, "size"), ets.tab2list(t)))


def ets_keypos():
    t = ets.new("t", [("keypos", 1), "ordered_set"])
    ets.insert(t, [("alice", 3, 0), ("bob", 1, 0), ("carol", 2, 0)])
    T.log(("by_second", ets.tab2list(t), ets.lookup(t, 1), ets.info(t, "keypos") + 1))
    T.log(("counter", ets.update_counter(t, 3, 1), ets.update_counter(t, 3, (2, 5, 3, 0))))
    T.log(("the_key", _a(ets.update_counter, t, 3, (1, 1))))
    T.log(("too_short", _a(ets.insert, t, ("only_one",))))
    T.log(("select_key", ets.select(t, [(("$1", 2, "_"), [], ["$1"])])))
    T.log(("lookup_element", ets.lookup_element(t, 3, 0)))
