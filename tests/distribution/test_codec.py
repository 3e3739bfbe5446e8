"""The External Term Format codec: exact bytes, round trips, limits, and fuzzing."""

import contextlib
import struct
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vm import Atom, Crash, Pid, Ref
from vm.dist.codec import (
    DecodeError,
    Decoder,
    EncodeError,
    Encoder,
    ImproperList,
    Limits,
    LocalIdentity,
    UnsupportedTerm,
    decode,
    encode,
)

from .strategies import same, terms

pytestmark = pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")


def test_known_bytes_match_erlang():
    # The bytes term_to_binary gives on OTP 25 for the same terms.
    assert encode(1) == bytes([131, 97, 1])
    assert encode(-1) == bytes([131, 98, 255, 255, 255, 255])
    assert encode(Atom("ok")) == bytes([131, 119, 2, 111, 107])
    assert encode(()) == bytes([131, 104, 0])
    assert encode([]) == bytes([131, 106])
    assert encode([1]) == bytes([131, 108, 0, 0, 0, 1, 97, 1, 106])
    assert encode("ab") == bytes([131, 109, 0, 0, 0, 2, 97, 98])
    assert encode(2**64) == bytes([131, 110, 9, 0] + [0] * 8 + [1])
    assert encode(1.5) == bytes([131, 70]) + struct.pack(">d", 1.5)
    assert encode({}) == bytes([131, 116, 0, 0, 0, 0])
    assert encode(None) == bytes([131, 119, 9]) + b"undefined"


def test_mapping_choices():
    assert decode(encode(None)) is None
    assert decode(encode(True)) is True and decode(encode(False)) is False
    assert decode(encode("héllo")) == "héllo"
    assert decode(encode(b"h\xe9llo")) == b"h\xe9llo"
    assert type(decode(encode(b"abc"))) is bytes  # bytes stay bytes between beamlet nodes
    # an Erlang binary that is valid UTF-8 is a str; otherwise bytes
    assert decode(bytes([131, 109, 0, 0, 0, 2, 104, 105])) == "hi"
    assert decode(bytes([131, 109, 0, 0, 0, 1, 255])) == b"\xff"
    assert decode(bytes([131, 109, 0, 0, 0, 2, 104, 105]), binaries="bytes") == b"hi"
    # strings as charlists, per connection
    assert Encoder(strings="charlist").encode("hi") == bytes([131, 107, 0, 2, 104, 105])
    assert decode(Encoder(strings="charlist").encode("hé€")) == [104, 233, 8364]
    assert decode(encode(Crash("ValueError", "bad", "tb"))) == Crash("ValueError", "bad", "tb")
    assert decode(encode(ImproperList.alias_tag(Ref("a@b", 7, 2)))) == ImproperList(
        [Atom("alias")], Ref("a@b", 7, 2))


def test_refused_values_say_why():
    for bad in (lambda: 1, {1, 2}, bytearray(b"x"), float("nan"), float("inf"), object()):
        with pytest.raises(EncodeError) as e:
            encode(bad)
        assert "cannot" in str(e.value) or "no Erlang form" in str(e.value)
    with pytest.raises(EncodeError, match="surrogates"):
        encode("\ud800")
    with pytest.raises(EncodeError, match="255"):
        encode(Atom("a" * 256))


def test_local_identity_translates_pids_and_refs():
    local = LocalIdentity("nonode@nohost", 3, "py@host", 0x1234)
    enc, dec = Encoder(local=local), Decoder(local=local)
    me = Pid("nonode@nohost", 5 + (1 << 33), 0, 3)
    wire = enc.encode(me)
    assert b"py@host" in wire and b"nonode" not in wire
    # another decoder sees it as the remote pid it is
    assert decode(wire) == Pid("py@host", 5, 2, 0x1234)
    assert dec.decode(wire)[0] == me
    r = Ref("nonode@nohost", 77, 3)
    assert dec.decode(enc.encode(r))[0] == r
    # a stale pid of an older incarnation stays foreign
    old = decode(Encoder().encode(Pid("py@host", 5, 0, 99)))
    assert dec.decode(encode(old))[0] == Pid("py@host", 5, 0, 99)


def test_reference_word_counts_survive():
    for words in ([1], [1, 2], [1, 2, 3], [1, 2, 3, 4], [5, 6, 7, 8, 9]):
        raw = (bytes([131, 90]) + struct.pack(">H", len(words)) + bytes([119, 3]) + b"a@b"
               + struct.pack(">I", 9) + b"".join(struct.pack(">I", w) for w in words))
        assert encode(decode(raw)) == raw


@settings(max_examples=300, deadline=None)
@given(terms)
def test_round_trip(term):
    assert same(decode(encode(term)), term)


@settings(max_examples=100, deadline=None)
@given(terms, st.integers(0, 9))
def test_round_trip_compressed(term, level):
    assert same(decode(encode(term, compressed=level)), term)


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_the_codecs_error(data):
    for raw in (data, b"\x83" + data, b"\x83P" + data):
        with contextlib.suppress(DecodeError):
            decode(raw)


@settings(max_examples=300, deadline=None)
@given(terms, st.data())
def test_corrupted_terms_raise_only_the_codecs_error(term, data):
    raw = bytearray(encode(term))
    for _ in range(data.draw(st.integers(1, 4))):
        i = data.draw(st.integers(0, len(raw) - 1))
        raw[i] = data.draw(st.integers(0, 255))
    cut = data.draw(st.integers(0, len(raw)))
    for candidate in (bytes(raw), bytes(raw[:cut])):
        with contextlib.suppress(DecodeError):
            decode(candidate)


def test_decompression_bomb_is_refused_within_its_limit():
    bomb_size = 1 << 30  # a GiB of zeros, ~1 MB compressed
    packed = zlib.compress(b"\x00" * (8 << 20), 9)  # only 8 MiB actually behind it
    raw = bytes([131, 80]) + struct.pack(">I", bomb_size) + packed
    with pytest.raises(DecodeError, match="over the"):
        decode(raw)
    # a smaller claim than the real content: inflation stops at the claim + 1
    honest = encode(b"\x00" * (4 << 20), compressed=9)
    lying = honest[:2] + struct.pack(">I", 1000) + honest[6:]
    with pytest.raises(DecodeError, match="stated size"):
        decode(lying)
    with pytest.raises(DecodeError, match="over the"):
        decode(honest, limits=Limits(max_size=1 << 20))


def test_depth_limit():
    deep = []
    for _ in range(300):
        deep = [deep]
    with pytest.raises(DecodeError, match="deeper"):
        decode(encode(deep))
    assert decode(encode(deep), limits=Limits(max_depth=400)) == deep


def test_new_atom_limit():
    many = tuple(Atom(f"fresh_atom_{i}") for i in range(50))
    with pytest.raises(DecodeError, match="new atoms"):
        decode(encode(many), limits=Limits(max_new_atoms=10))
    assert decode(encode(many)) == many
    # once known, they are not new
    assert decode(encode(many), limits=Limits(max_new_atoms=10)) == many


def test_lengths_that_cannot_fit_are_refused_before_allocating():
    with pytest.raises(DecodeError, match="cannot fit"):
        decode(bytes([131, 108]) + struct.pack(">I", 2**32 - 1) + b"\x6a")
    with pytest.raises(DecodeError, match="cannot fit"):
        decode(bytes([131, 116]) + struct.pack(">I", 2**31))


def test_refusals():
    with pytest.raises(DecodeError, match="LOCAL_EXT"):
        decode(bytes([131, 121, 1, 2, 3]))
    with pytest.raises(DecodeError, match="atom cache"):
        decode(bytes([131, 82, 0]))
    with pytest.raises(UnsupportedTerm, match="fun"):
        decode(bytes([131, 113, 119, 1, 109, 119, 1, 102, 97, 1]))  # fun m:f/1
    with pytest.raises(UnsupportedTerm, match="port"):
        decode(bytes([131, 89, 119, 3]) + b"a@b" + bytes(8))
    with pytest.raises(UnsupportedTerm, match="bit string"):
        decode(bytes([131, 77, 0, 0, 0, 1, 3, 0xE0]))
    with pytest.raises(DecodeError, match="garbage"):
        decode(encode(1) + b"\x00")
    with pytest.raises(DecodeError, match="version"):
        decode(b"\x00")
