"""Match specifications and the queries that run them: select, match,
match_object, select_count, select_delete, continuations, predicates."""

import pytest

import vm
from stdlib import ets
from stdlib.ets.match_spec import compile_spec
from vm.testing import run

END = ets.END_OF_TABLE
TYPES = ["set", "ordered_set", "bag", "duplicate_bag"]


def squares(kind="ordered_set"):
    t = ets.new("t", type=kind, access="public")
    ets.insert(t, [(k, k * k) for k in range(1, 11)])
    return t


def test_guards_and_results():
    def main():
        t = squares()
        return (
            ets.select(t, [(("$1", "$2"), [(">", "$2", 50)], ["$1"])]),
            ets.select(t, [(("$1", "$2"), [("andalso", (">", "$1", 2), ("<", "$1", 5))],
                            [(("$2", "$1", "sq"),)])]),
            ets.select(t, [(("$1", "_"), [("==", ("rem", "$1", 4), 0)], ["$$"])]),
            ets.select(t, [(("$1", "$2"), [("=:=", "$1", 3)], ["$_"]),
                           (("$1", "$2"), [("=:=", "$1", 4)], [("const", ("four", "$1"))])]),
            ets.select(t, [(("$1", "_"), [("is_integer", "$1"), ("<", "$1", 3)],
                            [{"k": "$1", "l": ["$1", ("*", "$1", 2)]}])]),
        )

    big, between, fours, clauses, built = run(main)
    assert big == [8, 9, 10]
    assert between == [(9, 3, "sq"), (16, 4, "sq")]
    assert fours == [[4], [8]]
    assert clauses == [(3, 9), ("four", "$1")]  # const is taken literally
    assert built == [{"k": 1, "l": [1, 2]}, {"k": 2, "l": [2, 4]}]


def test_a_guard_that_raises_is_false_and_a_body_that_raises_gives_exit():
    def main():
        t = squares()
        ets.insert(t, ("text", "not a number"))
        return (ets.select(t, [(("$1", "$2"), [(">", ("+", "$2", 1), 90)], ["$1"])]),
                ets.select(t, [(("$1", "$2"), [("<", "$1", 3)], [("div", "$2", 0)])]),
                ets.select(t, [(("$1", "_"), [("element", 1, "$1")], ["$1"])]))

    assert run(main) == ([10], ["EXIT", "EXIT"], [])


def test_head_patterns_match_exactly_and_bind_repeated_variables():
    def main():
        t = ets.new("t", type="duplicate_bag")
        ets.insert(t, [("k", 1, 1), ("k", 1, 1.0), ("k", 2, 3), ("k", [1, 2], {"a": 1}),
                       ("k", True, 1)])
        return (ets.match(t, ("k", "$1", "$1")),
                ets.match_object(t, ("_", 1, "_")),
                ets.match(t, ("_", ["$1", "_"], {"a": "$2"})),
                ets.match_object(t, ("k", True, "_")),
                ets.select_count(t, [(("_", "_", "_"), [], [True])]))

    same, ones, nested, atom_true, count = run(main)
    assert same == [[1]]  # 1 =:= 1.0 is false
    assert ones == [("k", 1, 1), ("k", 1, 1.0)]  # True is not 1
    assert nested == [[1, 1]] and atom_true == [("k", True, 1)] and count == 5


def test_match_binds_in_variable_order():
    def main():
        t = squares()
        return ets.match(t, ("$2", "$1"))[:2], ets.match(t, ("$1", 4)), ets.match(t, (5.0, "_"))

    assert run(main) == ([[1, 1], [4, 2]], [[2]], [])


def test_term_order_in_guards():
    def main():
        t = ets.new("t", type="ordered_set")
        ets.insert(t, [(1,), ("atom",), ((1, 2),), ([1],), (2.5,)])
        return (ets.select(t, [(("$1",), [("<", "$1", "b")], ["$1"])]),
                ets.select(t, [(("$1",), [("==", "$1", 1.0)], ["$1"])]),
                ets.select(t, [(("$1",), [("is_tuple", "$1"), ("==", ("element", 2, "$1"), 2)],
                                ["$1"])]),
                ets.select(t, [(("$1",), [("max", "$1", 2)], ["$1"])]))

    less, equal, second, _ = run(main)
    assert less == [1, 2.5, "atom"] and equal == [1] and second == [(1, 2)]


@pytest.mark.parametrize("kind", TYPES)
def test_continuations_visit_every_object_once(kind):
    def main():
        t = ets.new("t", type=kind)
        objs = [(k % 37 if "bag" in kind else k, k) for k in range(300)]
        ets.insert(t, objs)
        got, chunks = [], 0
        res = ets.select(t, [(("$1", "$2"), [("<", "$2", 250)], ["$_"])], 7)
        while res != END:
            chunk, cont = res
            assert 1 <= len(chunk) <= 7
            got += chunk
            chunks += 1
            res = ets.select(cont)
        expected = [o for o in ets.tab2list(t) if o[1] < 250]
        return sorted(got) == sorted(expected), len(got), chunks

    same, n, chunks = run(main)
    assert same and n == 250 and chunks == 36


def test_continuations_of_match_and_match_object():
    def main():
        t = squares()
        first, cont = ets.match(t, ("$1", "_"), 4)
        second, cont = ets.match(cont)
        objs, ocont = ets.match_object(t, ("_", "_"), 8)
        rest, ocont = ets.match_object(ocont)
        return first, second, objs[-1], rest, ets.match_object(ocont), \
            ets.select(t, [(("$1", "_"), [(">", "$1", 100)], ["$1"])], 3)

    first, second, last8, rest, end, none = run(main)
    assert first == [[1], [2], [3], [4]] and second == [[5], [6], [7], [8]]
    assert last8 == (8, 64) and rest == [(9, 81), (10, 100)] and end == END and none == END


def test_select_count_and_select_delete_on_every_type():
    def main():
        out = []
        for kind in TYPES:
            t = ets.new(kind, type=kind, access="public")
            ets.insert(t, [(k % 5, k) for k in range(20)])
            n = ets.select_count(t, [(("_", "$1"), [(">=", "$1", 10)], [True])])
            d = ets.select_delete(t, [(("$1", "_"), [("==", "$1", 2)], [True])])
            ets.match_delete(t, (3, "_"))
            out.append((kind, n, d, sorted({o[0] for o in ets.tab2list(t)})))
        return out

    res = run(main)
    for kind, n, d, keys in res[:2]:  # a set keeps the last object of each key
        assert (n, d, keys) == (5, 1, [0, 1, 4]), kind
    for kind, n, d, keys in res[2:]:
        assert (n, d, keys) == (10, 4, [0, 1, 4]), kind


def test_select_delete_counts_only_true_results():
    def main():
        t = squares()
        n = ets.select_delete(t, [(("$1", "_"), [], [("<", "$1", 4)])])  # True for 1..3
        m = ets.select_delete(t, [(("$1", "_"), [], ["$1"])])  # never True itself
        return n, m, ets.info(t, "size")

    assert run(main) == (3, 0, 7)


def test_bound_keys_are_looked_up_instead_of_scanned():
    spec = [((5, "$1"), [], ["$1"]), ((7, "_"), [], [True])]
    assert compile_spec(spec).keys(0) == [5, 7]
    assert compile_spec([(("$1", "_"), [], ["$1"])]).keys(0) is None
    assert compile_spec([("_", [], [True])]).keys(0) is None
    assert compile_spec(spec).keys(1) is None

    def main():
        t = ets.new("t")
        ets.insert(t, [(k, k) for k in range(100_000)])
        before = vm.process_info(vm.self(), "reductions")
        found = ets.select(t, spec)
        spent = vm.process_info(vm.self(), "reductions") - before
        return found, spent

    found, spent = run(main)
    assert found == [5, True] and spent < 100  # a scan would charge 10,000


def test_predicates():
    def main():
        t = squares("set")
        ets.insert(t, ("list", [1, 2]))
        seen = []

        def even_square(obj):
            seen.append(obj)
            return type(obj[1]) is int and obj[1] % 2 == 0

        def mutating(obj):
            if type(obj[1]) is list:
                obj[1].append("changed")  # a copy: the table does not see it
            return False

        return (sorted(ets.select(t, even_square)), ets.select_count(t, even_square),
                ets.select(t, mutating), ets.lookup(t, "list"),
                ets.select(t, lambda o: o[0] == 1, 1), ets.select_delete(t, even_square),
                ets.info(t, "size"))

    picked, count, none, obj, limited, deleted, size = run(main)
    assert picked == [(2, 4), (4, 16), (6, 36), (8, 64), (10, 100)] and count == 5
    assert none == [] and obj == [("list", [1, 2])]
    assert limited[0] == [(1, 1)] and deleted == 5 and size == 6


def test_match_spec_compile_and_run():
    ms = ets.match_spec_compile([(("$1", "$2"), [(">", "$2", 1)], [("+", "$1", "$2")])])
    assert ets.match_spec_run([(1, 1), (1, 2), ("x", 3)], ms) == [3, "EXIT"]
    assert compile_spec(ms) is ms


def test_compiled_once_for_equal_specifications():
    spec = [(("$1", "_"), [("<", "$1", 3)], ["$1"])]
    assert compile_spec(spec) is compile_spec([(("$1", "_"), [("<", "$1", 3)], ["$1"])])


@pytest.mark.parametrize("spec, fragment", [
    ([(("$1",), [], [("frobnicate", "$1")])], "unknown function 'frobnicate'"),
    ([(("$1",), [], ["$2"])], "'$2' is used but not bound"),
    ([(("$1",), [], [("$1", "$1")])], "to build a tuple, wrap it once more"),
    ([(("$1",), [], [])], "body of"),
    ([("_", "not a list", ["$_"])], "guards and body must be lists"),
    ([("_", [])], "(head, guards, body)"),
    ([(("$_",), [], [True])], "'$_' may appear in guards and bodies"),
    ([(("$1",), [], [("element", 1)])], "element takes 2 argument(s), not 1"),
    ("not a list", "a match specification is a list"),
])
def test_bad_specifications_raise_badarg(spec, fragment):
    def main():
        t = squares()
        with pytest.raises(vm.BadArg) as e:
            ets.select(t, spec)
        return str(e.value)

    assert fragment in run(main)


def test_bad_continuations_and_limits():
    def main():
        t = squares()
        msgs = []
        for fn, args in ((ets.select, ("junk",)), (ets.select, (t, [("_", [], [True])], 0))):
            with pytest.raises(vm.BadArg) as e:
                fn(*args)
            msgs.append(str(e.value))
        return msgs, ets.select(END)

    (cont_msg, limit_msg), end = run(main)
    assert "expected a continuation" in cont_msg and "limit must be an int >= 1" in limit_msg
    assert end == END


def test_self_node_and_arithmetic_in_bodies():
    def main():
        t = ets.new("t")
        ets.insert(t, (7, 2))
        return ets.select(t, [(("$1", "$2"), [], [[("self",), ("node",), ("div", -7, "$2"),
                                                    ("rem", -7, "$2"), ("/", "$1", "$2"),
                                                    ("round", 2.5), ("-", "$1"),
                                                    ("band", "$1", 3), ("abs", -3)]])]), vm.self()

    (row,), me = run(main)
    assert row == [me, "nonode@nohost", -3, -1, 3.5, 3, -7, 3, 3]
