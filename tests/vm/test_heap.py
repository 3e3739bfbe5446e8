"""Copy on send and the term set."""

import collections
import dataclasses
import datetime
import decimal
import enum
import fractions
import functools
import math
import operator
import re
import socket
import threading
import typing
import uuid
import zoneinfo

import pytest

import vm
from stdlib import gen_server
from vm._heap import copy_term
from vm.lowlevel import term_size
from vm.testing import run


def roundtrip(msg):
    def echo():
        m, sender = vm.receive()
        vm.send(sender, m)

    def main():
        pid = vm.spawn(echo)
        vm.send(pid, (msg, vm.self()))
        return vm.receive()

    return run(main)


def test_types_survive_exactly():
    msg = {
        "tuple": (1, 2),
        "list": [1, 2],
        (1, "k"): b"bytes",
        3: vm.Atom("atom"),
        None: [True, 1.5, "s"],
    }
    out = roundtrip(msg)
    assert out == msg
    assert type(out["tuple"]) is tuple and type(out["list"]) is list
    assert type(out[3]) is vm.Atom and (1, "k") in out


def test_pids_refs_crash_survive():
    def main():
        me, ref = vm.self(), vm.make_ref()
        crash = vm.Crash("E", "m", "tb")
        vm.send(me, (me, ref, crash))
        got = vm.receive()
        return got == (me, ref, crash), type(got[2]) is vm.Crash

    assert run(main) == (True, True)


def test_mutable_values_are_copied():
    shared = {"items": [1, 2]}

    def main():
        me = vm.self()
        vm.send(me, shared)
        got = vm.receive()
        got["items"].append(3)
        return got is shared, got["items"] is shared["items"]

    assert run(main) == (False, False)
    assert shared == {"items": [1, 2]}


def test_immutable_terms_are_shared():
    t = (1, "a", (2, b"x"))
    assert copy_term(t) is t
    big = b"x" * 1_000_000
    assert copy_term(big) is big


def test_spawn_args_are_copied():
    data = [1, 2]

    def child(d, parent):
        d.append(99)
        vm.send(parent, d)

    def main():
        vm.spawn(child, data, vm.self())
        return vm.receive()

    assert run(main) == [1, 2, 99]
    assert data == [1, 2]


@pytest.mark.parametrize(
    "bad, where, name",
    [
        (lambda: ("ok", threading.Lock()), "msg[1]", "lock"),
        (lambda: {"k": [1, (x for x in [])]}, "msg['k'][1]", "generator"),
        (lambda: [socket.socket()], "msg[0]", "socket"),
        (lambda: [1, [].append], "msg[1]", "bound to a list"),
        # An open file is the unsendable value under test: no `with`.
        (lambda: {"f": open(__file__)}, "msg['f']", "TextIOWrapper"),  # noqa: SIM115
    ],
)
def test_unsendable_names_type_and_place(bad, where, name):
    value = bad()

    def main():
        with pytest.raises(vm.Unsendable) as info:
            vm.send(vm.self(), value)
        return str(info.value), info.value.path

    text, path = run(main)
    assert path == where
    assert name in text
    assert vm.flush is not None


def test_unsendable_spawn_argument():
    def main():
        with pytest.raises(vm.Unsendable, match="lock"):
            vm.spawn(print, threading.Lock())
        return True

    assert run(main)


def test_cyclic_message_is_refused():
    cyc = []
    cyc.append(cyc)
    with pytest.raises(vm.Unsendable, match="refers to itself"):
        copy_term(cyc)


def module_level():
    return 1


def test_code_is_shared():
    assert copy_term((module_level, int, len, str.upper, dict.fromkeys, math)) == (
        module_level, int, len, str.upper, dict.fromkeys, math)
    assert copy_term(module_level) is module_level


def test_term_size_counts_nested_data():
    assert term_size([b"x" * 1000]) > 1000
    assert term_size({"a": list(range(100))}) > term_size({"a": []})


# ----------------------------------------------------------------------
# callables that carry data


class Account:
    def __init__(self):
        self.balance = 0

    def deposit(self, n):
        self.balance += n

    @classmethod
    def opened(cls):
        return cls()


@pytest.mark.parametrize("make, owner", [
    (lambda: [].append, "list"),
    (lambda: {}.get, "dict"),
    (lambda: threading.Lock().acquire, "lock"),
    (lambda: socket.socket().send, "socket"),
    (lambda: Account().deposit, "Account"),
    (lambda: [].__len__, "list"),
    (lambda: bytearray().extend, "bytearray"),
], ids=["list.append", "dict.get", "lock.acquire", "sock.send", "python method",
        "method-wrapper", "bytearray.extend"])
def test_a_method_bound_to_an_object_is_refused(make, owner):
    with pytest.raises(vm.Unsendable, match=f"bound to a {owner}") as info:
        copy_term(("cb", make()))
    assert info.value.path == "msg[1]"


def test_a_receiver_cannot_reach_the_senders_objects_through_a_callback():
    log = []

    def main():
        def receiver():
            fn = vm.receive()
            fn("written by the receiver")

        pid = vm.spawn(receiver)
        with pytest.raises(vm.Unsendable):
            vm.send(pid, log.append)
        vm.send(pid, lambda x, log=log: log.append(x))  # the default is copied
        vm.sleep(0)
        return log

    assert run(main) == []


def test_callables_bound_to_modules_classes_or_immutables_travel():
    join = "-".join
    shared = (len, math.sqrt, Account.opened, int.from_bytes, join, vm.Atom("a").upper)
    assert copy_term(shared) == shared


def test_a_closure_is_copied_with_what_it_captures():
    def make():
        items = [1]
        count = 0

        def add(x):
            nonlocal count
            count += 1
            items.append(x)
            return count, items

        return add

    add = make()
    other = copy_term(add)
    assert other is not add
    assert other(2) == (1, [1, 2])
    assert add(3) == (1, [1, 3])  # the sender's variables never moved


def test_a_recursive_closure_travels():
    def make():
        def fact(n):
            return 1 if n <= 1 else n * fact(n - 1)

        return fact

    assert copy_term(make())(5) == 120


def test_a_closure_over_a_non_term_is_refused_naming_the_variable():
    lock = threading.Lock()

    def critical():
        with lock:
            pass

    with pytest.raises(vm.Unsendable, match="captures `lock`, a lock"):
        copy_term(critical)


def test_partial_is_copied_with_its_arguments():
    data = [1, 2]
    p = functools.partial(list.append, data)
    q = copy_term(p)
    q(3)
    assert data == [1, 2] and q.args[0] == [1, 2, 3]
    with pytest.raises(vm.Unsendable) as info:
        copy_term(functools.partial(print, file=open(__file__)))  # noqa: SIM115 - the value
    assert info.value.path == "msg.keywords['file']"
    with pytest.raises(vm.Unsendable, match="bound to a list"):
        copy_term(functools.partial([].append, 1))


@pytest.mark.parametrize("make", [
    lambda: operator.methodcaller("append", []),
    lambda: operator.itemgetter(1),
    lambda: functools.lru_cache()(module_level),
    lambda: staticmethod(module_level),
], ids=["methodcaller", "itemgetter", "lru_cache", "staticmethod"])
def test_other_callable_objects_are_refused(make):
    with pytest.raises(vm.Unsendable):
        copy_term(make())


# ----------------------------------------------------------------------
# the standard library's types


class Colour(enum.Enum):
    RED = 1
    BLUE = [2]  # a mutable value: the member is still a module-level singleton


class Perm(enum.IntFlag):
    R = 4
    W = 2


IMMUTABLE = [
    datetime.date(2024, 2, 29),
    datetime.datetime(2024, 2, 29, 12, 30, 1, 5),
    datetime.datetime(2024, 2, 29, 12, 30, tzinfo=datetime.UTC),
    datetime.datetime(2024, 11, 3, 1, 30, tzinfo=zoneinfo.ZoneInfo("America/New_York"), fold=1),
    datetime.time(23, 59, 59, 999_999),
    datetime.timedelta(days=-1, seconds=5),
    datetime.timezone(datetime.timedelta(hours=5, minutes=30), "IST"),
    decimal.Decimal("-0.00"),
    decimal.Decimal("NaN"),
    uuid.UUID("12345678-1234-5678-1234-567812345678"),
    Colour.BLUE,
    Perm.R | Perm.W,
    frozenset({1, "a", (2, 3)}),
    complex(1, -2),
    range(0, 10, 3),
]


@pytest.mark.parametrize("value", IMMUTABLE, ids=lambda v: type(v).__name__)
def test_immutable_standard_types_travel_and_are_shared(value):
    def main():
        vm.send(vm.self(), ("v", value))
        return vm.receive()

    got = run(main)[1]
    assert got is value


MUTABLE = [
    {1, 2, (3, "x")},
    bytearray(b"abc"),
    collections.deque([1, [2]], maxlen=5),
    collections.OrderedDict([("b", [1]), ("a", 2)]),
    collections.Counter("hello"),
    fractions.Fraction(3, 4),
]


@pytest.mark.parametrize("value", MUTABLE, ids=lambda v: type(v).__name__)
def test_mutable_standard_types_are_copied(value):
    got = copy_term(value)
    assert got == value and got is not value and type(got) is type(value)
    if isinstance(value, collections.deque):
        assert got.maxlen == 5 and got[1] is not value[1]
    if isinstance(value, collections.OrderedDict):
        assert list(got) == ["b", "a"] and got["b"] is not value["b"]


def test_defaultdict_keeps_its_factory():
    d = collections.defaultdict(list, {"a": [1]})
    got = copy_term(d)
    got["b"].append(2)
    assert got == {"a": [1], "b": [2]} and d == {"a": [1]} and got["a"] is not d["a"]
    with pytest.raises(vm.Unsendable, match="bound to a list"):
        copy_term(collections.defaultdict([].copy))


def test_frozenset_holding_something_mutable_is_copied():
    @dataclasses.dataclass(frozen=True)
    class Key:
        parts: tuple

    fs = frozenset({Key((1, 2))})
    got = copy_term(fs)
    assert got == fs and got is not fs and next(iter(got)) is not next(iter(fs))


def test_datetime_with_a_tzinfo_of_its_own_is_refused():
    class Shifting(datetime.tzinfo):
        def utcoffset(self, dt):
            return datetime.timedelta(0)

    with pytest.raises(vm.Unsendable, match="datetime.timezone or zoneinfo"):
        copy_term(datetime.datetime(2024, 1, 1, tzinfo=Shifting()))


def test_a_gen_server_may_reply_with_a_datetime():
    class Clock(gen_server.GenServer):
        def init(self, arg):
            return ("ok", None)

        def handle_call(self, request, from_, state):
            return ("reply", datetime.datetime(2024, 1, 2, 3, 4, 5), state)

    def main():
        _, srv = gen_server.start(Clock, None)
        return gen_server.call(srv, "now"), vm.is_process_alive(srv)

    assert run(main) == (datetime.datetime(2024, 1, 2, 3, 4, 5), True)


# ----------------------------------------------------------------------
# dataclasses, NamedTuples and classes of your own


@dataclasses.dataclass(frozen=True)
class Point:
    x: int
    tags: list


@dataclasses.dataclass
class Job:
    name: str
    args: dict = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(slots=True)
class Slotted:
    a: int
    b: list


class Pair(typing.NamedTuple):
    left: object
    right: object


def test_dataclasses_are_copied_field_by_field():
    p = Point(1, ["a"])
    got = copy_term(p)
    assert got == p and got is not p and got.tags is not p.tags
    job = Job("run", {"n": [1]})
    got = copy_term(job)
    got.args["n"].append(2)
    assert job.args == {"n": [1]} and type(got) is Job
    s = copy_term(Slotted(1, [2]))
    assert (s.a, s.b) == (1, [2])


def test_namedtuples_of_immutables_are_shared_others_copied():
    flat = Pair(1, "x")
    assert copy_term(flat) is flat
    nested = Pair([1], Point(2, []))
    got = copy_term(nested)
    assert got == nested and type(got) is Pair and got.left is not nested.left


def test_a_dataclass_holding_a_non_term_names_the_field():
    with pytest.raises(vm.Unsendable) as info:
        copy_term({"job": Job("x", {"lock": threading.Lock()})})
    assert info.value.path == "msg['job'].args['lock']"


class Plain:
    def __init__(self, v):
        self.v = v


class Frozen:
    __slots__ = ("v",)

    def __init__(self, v):
        object.__setattr__(self, "v", v)

    def __setattr__(self, k, v):
        raise AttributeError("immutable")


def test_own_classes_are_refused_until_registered():
    with pytest.raises(vm.Unsendable, match=r"vm.register_term_type\(Plain\)"):
        copy_term(Plain(1))

    class Mine:
        def __init__(self, v):
            self.v = v

    assert vm.register_term_type(Mine) is Mine
    m = Mine([1])
    got = copy_term(m)
    assert type(got) is Mine and got.v == [1] and got.v is not m.v

    class Sub(Mine):
        pass

    with pytest.raises(vm.Unsendable):
        copy_term(Sub(1))


def test_a_registered_shared_class_is_not_copied():
    vm.register_term_type(Frozen, share=True)
    f = Frozen(3)
    assert copy_term(f) is f


@pytest.mark.parametrize("cls", [dict, type("D", (dict,), {}), type("E", (Exception,), {})],
                         ids=["builtin", "dict subclass", "exception"])
def test_registering_a_class_that_cannot_be_copied_is_refused(cls):
    with pytest.raises(vm.BadArg, match="register_term_type"):
        vm.register_term_type(cls)


def test_a_crash_built_around_its_checks_is_refused():
    with pytest.raises(vm.Unsendable, match="only strings"):
        copy_term(("EXIT", tuple.__new__(vm.Crash, ([1], "m", "tb"))))


@pytest.mark.parametrize("value, advice", [
    (ValueError("bad"), "Crash.from_exception"),
    (Plain(1), "register_term_type(Plain)"),
    (object(), "messages may hold"),
    (threading.Event(), "coordinate through messages"),
], ids=["exception", "own class", "object", "threading.Event"])
def test_refusals_say_what_to_send_instead(value, advice):
    with pytest.raises(vm.Unsendable, match=re.escape(advice)):
        copy_term(value)
