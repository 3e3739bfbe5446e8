"""The codec against real Erlang: term_to_binary / binary_to_term both ways."""

import random

from vm import Atom, Crash, Pid, Ref
from vm.dist.codec import ImproperList, decode, encode

from .erlang import erl_eval, requires_erl
from .strategies import same

pytestmark = requires_erl


def random_term(rng, depth=0):
    kind = rng.randrange(14 if depth < 3 else 9)
    if kind == 0:
        return rng.choice([None, True, False])
    if kind == 1:
        return rng.randint(-(2**rng.randint(1, 300)), 2**rng.randint(1, 300))
    if kind == 2:
        return rng.uniform(-1e300, 1e300) * rng.choice([1, 1e-300])
    if kind == 3:
        return "".join(chr(rng.choice([rng.randint(32, 126), rng.randint(160, 0xD7FF)]))
                       for _ in range(rng.randint(0, 10)))
    if kind == 4:
        return bytes(rng.randint(0, 255) for _ in range(rng.randint(0, 10)))
    if kind == 5:
        return Atom(rng.choice(["ok", "error", "héllo", "EXIT", "with space", "ä" * 200, ""]))
    if kind == 6:
        return Pid(rng.choice(["a@h", "nonode@nohost"]), rng.randint(0, 2**32 - 1),
                   rng.randint(0, 2**32 - 1), rng.randint(0, 2**32 - 1))
    if kind == 7:
        return Ref("b@h", rng.randint(0, 2**96 - 1), rng.randint(0, 2**32 - 1))
    if kind == 8:
        return rng.randint(0, 300)
    if kind == 9:
        return tuple(random_term(rng, depth + 1) for _ in range(rng.randint(0, 4)))
    if kind == 10:
        return [random_term(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    if kind == 11:
        return {rng.randint(0, 50): random_term(rng, depth + 1) for _ in range(rng.randint(0, 4))}
    if kind == 12:
        return ImproperList([random_term(rng, depth + 1)], rng.choice([Atom("t"), b"x", 5]))
    return Crash("ValueError", "bad ünïcode", "Traceback ...")


def through_erlang(t):
    """What a term looks like after a trip through Erlang, which has one binary type:
    bytes that are valid UTF-8 come back as str."""
    if type(t) is bytes:
        try:
            return t.decode("utf-8")
        except UnicodeDecodeError:
            return t
    if type(t) in (tuple, list):
        return type(t)(through_erlang(e) for e in t)
    if type(t) is ImproperList:
        return ImproperList([through_erlang(e) for e in t.items], through_erlang(t.tail))
    if type(t) is dict:
        return {through_erlang(k): through_erlang(v) for k, v in t.items()}
    return t


def erlang_round_trip(terms, compressed=False):
    """Each term: Python encodes, Erlang decodes and re-encodes, Python decodes."""
    lines = "\n".join(encode(t).hex() for t in terms)
    opts = "[compressed]" if compressed else "[]"
    out = erl_eval(
        f'Lines = string:lexemes("{lines}", "\\n"), '
        f'[io:format("~s ~w~n", [binary:encode_hex(term_to_binary(binary_to_term('
        f'binary:decode_hex(list_to_binary(L))), {opts})), binary_to_term('
        f'binary:decode_hex(list_to_binary(L)))]) || L <- Lines]')
    rows = [line.split(" ", 1) for line in out.splitlines()]
    assert len(rows) == len(terms)
    return [(decode(bytes.fromhex(h)), text) for h, text in rows]


def test_python_terms_survive_erlang():
    rng = random.Random(20260101)
    terms = [random_term(rng) for _ in range(300)]
    back = erlang_round_trip(terms)
    for t, (b, text) in zip(terms, back, strict=True):
        assert same(b, through_erlang(t)), (t, b, text)


def test_compressed_from_erlang():
    terms = [list(range(1000)), "x" * 5000, {Atom("k"): (b"\0" * 3000, 1.25)}]
    for t, (b, _) in zip(terms, erlang_round_trip(terms, compressed=True), strict=True):
        assert same(b, through_erlang(t))


def test_how_erlang_reads_our_terms():
    terms = [None, True, Atom("ok"), "hé", b"\xff\x00", b"", (1, [2], {}), 2**70, -3,
             ImproperList.alias_tag(Ref("x@y", 1, 2)), Pid("x@y", 5, 0, 3), 1.5]
    texts = [text for _, text in erlang_round_trip(terms)]
    assert texts[:9] == ["undefined", "true", "ok", "<<104,195,169>>", "<<255,0>>", "<<>>",
                         "{1,[2],#{}}", "1180591620717411303424", "-3"]
    assert texts[9].startswith("[alias|#Ref<")
    assert texts[10].startswith("<") and texts[11] == "1.5"


def test_erlang_terms_decode_to_python():
    exprs = {
        "ok": Atom("ok"), "undefined": None, "true": True, "[]": [], '"abc"': [97, 98, 99],
        "<<\"abc\">>": "abc", "<<255>>": b"\xff", "{a, 1, 2.5}": (Atom("a"), 1, 2.5),
        "#{a => [1|2]}": {Atom("a"): ImproperList([1], 2)}, "-(1 bsl 100)": -(2**100),
        "'héllo'": Atom("héllo"), "[1, {b}, <<>>]": [1, (Atom("b"),), ""],
    }
    code = ", ".join(
        f'io:format("~s~n", [binary:encode_hex(term_to_binary({e}))])' for e in exprs)
    out = erl_eval(code).split()
    for (expr, want), hexed in zip(exprs.items(), out, strict=True):
        got = decode(bytes.fromhex(hexed))
        assert same(got, want), (expr, got, want)
    # Erlang's own pids and refs come through with their node and creation
    out = erl_eval('io:format("~s~n", [binary:encode_hex(term_to_binary({self(), make_ref()}))])')
    pid, ref = decode(bytes.fromhex(out.strip()))
    assert pid.node == "nonode@nohost" and ref.node == "nonode@nohost"
    ours = encode((pid, ref)).hex()
    same_in_erlang = erl_eval(
        f'io:format("~w", [binary_to_term(binary:decode_hex(<<"{ours}">>)) =:= '
        f'binary_to_term(binary:decode_hex(<<"{out.strip()}">>))])')
    assert same_in_erlang == "true"
