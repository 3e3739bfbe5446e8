"""The External Term Format: beamlet terms to Erlang's bytes and back.

What this module owns: `encode(term)` and `decode(data)` (and the
`Encoder`/`Decoder` they use), the exact mapping between beamlet's terms and
Erlang's, and the limits that make decoding bytes from a stranger safe.

The mapping, each way, and why:

    beamlet                    Erlang                 note
    ---------------------------------------------------------------------------
    None                       undefined              the atom; decodes to None
    True / False               true / false           the atoms
    vm.Atom                    atom                   UTF-8 atoms
    int                        integer                any size (bignums)
    float                      float                  inf and NaN refused (Erlang has none)
    str                        UTF-8 binary           or a charlist: strings="charlist"
    bytes                      binary                 sent as a BIT_BINARY with 8 bits in
                                                      its last byte, so a beamlet peer can
                                                      tell bytes from str; Erlang reads it
                                                      as the same binary
    tuple                      tuple
    list                       proper list
    ImproperList(items, tail)  improper list          e.g. OTP 24 call tags [alias | Ref]
    dict                       map
    vm.Pid                     pid                    NEW_PID_EXT
    vm.Ref                     reference              NEWER_REFERENCE_EXT
    vm.Crash                   {crash, Type, Msg, Tb} a crashed process's exit reason

Decoding a binary: valid UTF-8 becomes `str`, anything else `bytes`
(`binaries="bytes"` makes every binary `bytes`); a BIT_BINARY with 8 bits
becomes `bytes`. So every term survives a round trip through Erlang and
between beamlet nodes: Erlang's `<<"ok">>` comes back to it as `<<"ok">>`,
Python's `b"ok"` comes back as `b"ok"`. The one loss: the atom `undefined`
and `None` are the same thing (`Atom("undefined")` decodes to None).

Pids and refs: a local pid or ref carries the node's internal name and
creation; on the wire it must carry the node's distribution name and the
creation EPMD gave it. `local=LocalIdentity(...)` translates both ways. A
reference's 32-bit words are packed into `Ref.id` least significant first
(a word count other than 3 is kept above bit 160, so the reference goes
back with its own length).

What it refuses, with `EncodeError` or `DecodeError` (both `ETFError`):
functions, ports, bit strings that are not whole bytes, `LOCAL_EXT`,
atom-cache references outside a distribution header, and any input that
breaks a limit (`Limits`: nesting depth, input size, decompressed size, new
atoms). Random bytes never raise anything but `DecodeError`.
"""

from __future__ import annotations

import math
import struct
import zlib
from dataclasses import dataclass

from ..terms import Atom, Crash, ImproperList, Pid, Ref

__all__ = [
    "DecodeError",
    "Decoder",
    "ETFError",
    "EncodeError",
    "Encoder",
    "ImproperList",
    "Limits",
    "LocalIdentity",
    "UnsupportedTerm",
    "decode",
    "encode",
]

VERSION = 131
COMPRESSED = 80
NEW_FLOAT = 70
BIT_BINARY = 77
ATOM_CACHE_REF = 82
NEW_PID = 88
NEW_PORT = 89
NEWER_REFERENCE = 90
SMALL_INTEGER = 97
INTEGER = 98
FLOAT = 99
ATOM = 100
REFERENCE = 101
PORT = 102
PID = 103
SMALL_TUPLE = 104
LARGE_TUPLE = 105
NIL = 106
STRING = 107
LIST = 108
BINARY = 109
SMALL_BIG = 110
LARGE_BIG = 111
NEW_FUN = 112
EXPORT = 113
NEW_REFERENCE = 114
SMALL_ATOM = 115
MAP = 116
FUN = 117
ATOM_UTF8 = 118
SMALL_ATOM_UTF8 = 119
V4_PORT = 120
LOCAL = 121

UNDEFINED = Atom("undefined")
TRUE = Atom("true")
FALSE = Atom("false")
CRASH = Atom("crash")
_WORD = 0xFFFFFFFF
_REF_LEN_SHIFT = 160  # above five 32-bit words


class ETFError(ValueError):
    """A term could not be encoded or decoded."""


class EncodeError(ETFError):
    """This value has no External Term Format form (a function, a NaN, a set...)."""


class DecodeError(ETFError):
    """These bytes are not a term beamlet accepts (malformed, or over a limit)."""


class UnsupportedTerm(DecodeError):
    """Well-formed, but a kind of term beamlet cannot hold (a fun, a port, a bit string).

    The bytes were valid: a connection drops the one message, not the peer.
    """


@dataclass(frozen=True)
class Limits:
    """What a decoder accepts from a peer. Erlang's own limits where it has them."""

    max_depth: int = 256  # nesting of tuples, lists and maps
    max_size: int = 128 << 20  # bytes of input, and of one decompressed term
    max_new_atoms: int = 10_000  # atoms not seen before, per decoded term
    max_atoms: int = 1_048_576  # atoms known to the process (BEAM's default atom limit)


DEFAULT_LIMITS = Limits()


@dataclass(frozen=True)
class LocalIdentity:
    """How this node's own pids and refs look inside (`name`, `creation`) and on the wire."""

    name: str
    creation: int
    wire_name: str
    wire_creation: int


# Atoms interned once per process, so a peer that repeats an atom does not grow
# memory; bounded by Limits.max_atoms (BEAM's atom table is bounded too).
_atoms: dict = {UNDEFINED: UNDEFINED, TRUE: TRUE, FALSE: FALSE}


# ----------------------------------------------------------------------
# encoding


class Encoder:
    """Encode terms. `strings`: "binary" (default) or "charlist"; `local`: see LocalIdentity."""

    def __init__(self, *, strings: str = "binary", local: LocalIdentity | None = None):
        if strings not in ("binary", "charlist"):
            raise ValueError(f"strings must be 'binary' or 'charlist', not {strings!r}")
        self.charlists = strings == "charlist"
        self.local = local
        self._atom_cache: dict = {}

    def encode(self, term, compressed: int | None = None) -> bytes:
        """`term_to_binary(Term)`: the version byte, then the term."""
        out = bytearray()
        try:
            self._term(term, out, 0)
        except RecursionError:
            raise EncodeError("the term is nested too deeply to encode") from None
        if compressed is not None and len(out) > 16:
            packed = zlib.compress(bytes(out), compressed)
            if len(packed) + 5 < len(out):
                return bytes((VERSION, COMPRESSED)) + struct.pack(">I", len(out)) + packed
        return bytes((VERSION,)) + out

    def _atom(self, name: str, out: bytearray):
        cached = self._atom_cache.get(name)
        if cached is None:
            try:
                raw = name.encode("utf-8")
            except UnicodeEncodeError:
                raise EncodeError(f"atom {name[:40]!r} has lone surrogates (not UTF-8)") from None
            if len(raw) > 255 * 4 or len(name) > 255:
                raise EncodeError(
                    f"atom too long for Erlang (255 characters at most): {name[:40]!r}...")
            if len(raw) < 256:
                cached = bytes((SMALL_ATOM_UTF8, len(raw))) + raw
            else:
                cached = bytes((ATOM_UTF8,)) + struct.pack(">H", len(raw)) + raw
            if len(self._atom_cache) < 4096:
                self._atom_cache[name] = cached
        out += cached

    def _term(self, x, out: bytearray, depth: int):
        t = type(x)
        if t is Atom:
            self._atom(x, out)
        elif t is str:
            if self.charlists and x:
                self._charlist(x, out)
            else:
                try:
                    raw = x.encode("utf-8")
                except UnicodeEncodeError:
                    raise EncodeError(f"{x[:40]!r}: a str with lone surrogates is not UTF-8; "
                                      "send bytes instead") from None
                out.append(BINARY)
                out += struct.pack(">I", len(raw))
                out += raw
        elif t is int:
            self._int(x, out)
        elif t is tuple:
            self._tuple(x, out, depth)
        elif t is list:
            if not x:
                out.append(NIL)
            else:
                out.append(LIST)
                out += struct.pack(">I", len(x))
                for e in x:
                    self._term(e, out, depth + 1)
                out.append(NIL)
        elif x is None:
            self._atom(UNDEFINED, out)
        elif x is True:
            self._atom(TRUE, out)
        elif x is False:
            self._atom(FALSE, out)
        elif t is float:
            if math.isnan(x) or math.isinf(x):
                raise EncodeError(f"{x!r} has no Erlang form (Erlang floats are finite)")
            out.append(NEW_FLOAT)
            out += struct.pack(">d", x)
        elif t is bytes:
            out.append(BIT_BINARY)
            out += struct.pack(">IB", len(x), 8 if x else 0)
            out += x
        elif t is dict:
            out.append(MAP)
            out += struct.pack(">I", len(x))
            for k, v in x.items():
                self._term(k, out, depth + 1)
                self._term(v, out, depth + 1)
        elif t is Pid:
            self._pid(x, out)
        elif t is Ref:
            self._ref(x, out)
        elif t is Crash:
            self._tuple((CRASH, x[0], x[1], x[2]), out, depth)
        elif t is ImproperList:
            items, tail = x
            out.append(LIST)
            out += struct.pack(">I", len(items))
            for e in items:
                self._term(e, out, depth + 1)
            self._term(tail, out, depth + 1)
        elif isinstance(x, str):  # a str subclass other than Atom
            self._term(str(x), out, depth)
        else:
            raise EncodeError(_no_form(x))

    def _tuple(self, x, out, depth):
        n = len(x)
        if n < 256:
            out.append(SMALL_TUPLE)
            out.append(n)
        else:
            out.append(LARGE_TUPLE)
            out += struct.pack(">I", n)
        for e in x:
            self._term(e, out, depth + 1)

    def _charlist(self, x, out):
        codes = [ord(c) for c in x]
        if len(codes) < 65536 and max(codes) < 256:
            out.append(STRING)
            out += struct.pack(">H", len(codes))
            out += bytes(codes)
            return
        out.append(LIST)
        out += struct.pack(">I", len(codes))
        for c in codes:
            self._int(c, out)
        out.append(NIL)

    @staticmethod
    def _int(x, out):
        if 0 <= x < 256:
            out.append(SMALL_INTEGER)
            out.append(x)
        elif -(1 << 31) <= x < (1 << 31):
            out.append(INTEGER)
            out += struct.pack(">i", x)
        else:
            sign = 1 if x < 0 else 0
            mag = -x if sign else x
            raw = mag.to_bytes((mag.bit_length() + 7) // 8, "little")
            if len(raw) < 256:
                out.append(SMALL_BIG)
                out.append(len(raw))
            else:
                out.append(LARGE_BIG)
                out += struct.pack(">I", len(raw))
            out.append(sign)
            out += raw

    def _identity(self, node, creation):
        loc = self.local
        if loc is not None and node == loc.name and creation == loc.creation:
            return loc.wire_name, loc.wire_creation, True
        return node, creation, False

    def _pid(self, pid: Pid, out):
        node, creation, local = self._identity(pid.node, pid.creation)
        pid_id, serial = pid.id, pid.serial
        if local:  # a local pid's id may pass 32 bits: the high part goes in Serial
            if serial:
                raise EncodeError(f"local pid {pid!r} has a serial; beamlet never makes one")
            pid_id, serial = pid.id & _WORD, pid.id >> 32
        if not (0 <= pid_id <= _WORD and 0 <= serial <= _WORD and 0 <= creation <= _WORD):
            raise EncodeError(f"{pid!r} does not fit NEW_PID_EXT's 32-bit fields")
        out.append(NEW_PID)
        self._atom(node, out)
        out += struct.pack(">III", pid_id, serial, creation)

    def _ref(self, ref: Ref, out):
        node, creation, _local = self._identity(ref.node, ref.creation)
        n = ref.id
        if n < 0:
            raise EncodeError(f"{ref!r} has a negative id")
        length = (n >> _REF_LEN_SHIFT) or 3
        words = n & ((1 << _REF_LEN_SHIFT) - 1)
        if length > 5 or words >> (32 * length):
            raise EncodeError(f"{ref!r} has more id words than NEWER_REFERENCE_EXT carries (5)")
        if not 0 <= creation <= _WORD:
            raise EncodeError(f"{ref!r} has a creation that does not fit 32 bits")
        out.append(NEWER_REFERENCE)
        out += struct.pack(">H", length)
        self._atom(node, out)
        out += struct.pack(">I", creation)
        for i in range(length):
            out += struct.pack(">I", (words >> (32 * i)) & _WORD)


def _no_form(x) -> str:
    name = type(x).__qualname__
    if callable(x):
        return (f"cannot send a {name} to another node: functions have no External Term "
                "Format form here; send data, and call a function the other node exposes")
    hints = {
        "set": "send a list instead",
        "frozenset": "send a list instead",
        "bytearray": "send bytes(b) instead",
    }
    hint = hints.get(type(x).__name__, "use None, bool, int, float, str, bytes, tuple, list, "
                                          "dict, Atom, Pid or Ref")
    return f"cannot encode a {name} in the External Term Format: {hint}"


# ----------------------------------------------------------------------
# decoding


class Decoder:
    """Decode terms from a peer within `limits`.

    `binaries`: "utf8" (default: valid UTF-8 becomes str, the rest bytes) or
    "bytes". `local`: see LocalIdentity. `atom_cache`: the distribution
    header's atom list, for ATOM_CACHE_REF (None outside a connection).
    """

    def __init__(self, *, binaries: str = "utf8", local: LocalIdentity | None = None,
                 limits: Limits = DEFAULT_LIMITS):
        if binaries not in ("utf8", "bytes"):
            raise ValueError(f"binaries must be 'utf8' or 'bytes', not {binaries!r}")
        self.utf8 = binaries == "utf8"
        self.local = local
        self.limits = limits
        self.atom_cache = None

    def decode(self, data, offset: int = 0):
        """Decode one term (with its version byte) at `offset`; return (term, next offset)."""
        try:
            return self._decode(data, offset)
        except ETFError:
            raise
        except RecursionError:
            raise DecodeError("term nested too deeply") from None
        except (IndexError, struct.error, UnicodeDecodeError, OverflowError, ValueError,
                TypeError, MemoryError, zlib.error) as e:
            raise DecodeError(f"malformed term: {type(e).__name__}: {e}") from None

    def _decode(self, data, offset):
        data = bytes(data) if not isinstance(data, bytes) else data
        lim = self.limits
        if len(data) - offset > lim.max_size:
            raise DecodeError(
                f"term of {len(data) - offset} bytes is over the {lim.max_size} byte limit")
        if offset >= len(data) or data[offset] != VERSION:
            raise DecodeError("a term must start with the version byte 131")
        offset += 1
        if offset < len(data) and data[offset] == COMPRESSED:
            return self._compressed(data, offset + 1), len(data)
        state = _State(self, data)
        term, end = state.term(offset, 0)
        return term, end

    def _compressed(self, data, offset):
        (size,) = struct.unpack_from(">I", data, offset)
        limit = self.limits.max_size
        if size > limit:
            raise DecodeError(f"compressed term claims {size} bytes, over the {limit} byte limit")
        d = zlib.decompressobj()
        raw = d.decompress(data[offset + 4:], size + 1)  # bounded: never more than claimed + 1
        if len(raw) != size or not d.eof or d.unconsumed_tail:
            raise DecodeError("compressed term does not inflate to its stated size")
        state = _State(self, raw)
        term, end = state.term(0, 0)
        if end != len(raw):
            raise DecodeError("garbage after a compressed term")
        return term


class _State:
    """One decode: the input, the new-atom count, and the reader per tag."""

    __slots__ = ("dec", "data", "new_atoms")

    def __init__(self, dec: Decoder, data: bytes):
        self.dec = dec
        self.data = data
        self.new_atoms = 0

    def term(self, i, depth):
        data = self.data
        tag = data[i]
        i += 1
        if tag == SMALL_INTEGER:
            return data[i], i + 1
        if tag == INTEGER:
            return struct.unpack_from(">i", data, i)[0], i + 4
        if tag in (SMALL_ATOM_UTF8, ATOM_UTF8, SMALL_ATOM, ATOM, ATOM_CACHE_REF):
            return self.atom(tag, i)
        if tag == SMALL_TUPLE or tag == LARGE_TUPLE:
            if tag == SMALL_TUPLE:
                n, i = data[i], i + 1
            else:
                (n,), i = struct.unpack_from(">I", data, i), i + 4
            self._room(n, i, "tuple")
            items, i = self.items(n, i, depth)
            return self.tuple(items), i
        if tag == NIL:
            return [], i
        if tag == LIST:
            (n,) = struct.unpack_from(">I", data, i)
            self._room(n + 1, i + 4, "list")
            items, i = self.items(n, i + 4, depth)
            tail, i = self.child(i, depth)
            if type(tail) is list:
                return items + tail, i
            if not items:
                raise DecodeError("a list of length 0 must have the tail []")
            return ImproperList(items, tail), i
        if tag == STRING:
            (n,) = struct.unpack_from(">H", data, i)
            raw = data[i + 2:i + 2 + n]
            if len(raw) != n:
                raise DecodeError("string runs past the end of the input")
            return list(raw), i + 2 + n
        if tag == BINARY:
            (n,) = struct.unpack_from(">I", data, i)
            raw = data[i + 4:i + 4 + n]
            if len(raw) != n:
                raise DecodeError("binary runs past the end of the input")
            if self.dec.utf8:
                try:
                    return raw.decode("utf-8"), i + 4 + n
                except UnicodeDecodeError:
                    pass
            return raw, i + 4 + n
        if tag == BIT_BINARY:
            n, bits = struct.unpack_from(">IB", data, i)
            raw = data[i + 5:i + 5 + n]
            if len(raw) != n:
                raise DecodeError("bit binary runs past the end of the input")
            if (n == 0 and bits == 0) or (n > 0 and bits == 8):
                return raw, i + 5 + n
            if not (1 <= bits <= 8) or n == 0:
                raise DecodeError(f"bit binary with {bits} bits in its last byte")
            raise UnsupportedTerm("a bit string that is not a whole number of bytes")
        if tag == MAP:
            (n,) = struct.unpack_from(">I", data, i)
            self._room(2 * n, i + 4, "map")
            i += 4
            out = {}
            for _ in range(n):
                k, i = self.child(i, depth)
                v, i = self.child(i, depth)
                try:
                    out[k] = v
                except TypeError:
                    raise UnsupportedTerm(
                        f"a map key of type {type(k).__name__} (a list or map as key) has no "
                        "Python form") from None
            return out, i
        if tag == NEW_FLOAT:
            (f,) = struct.unpack_from(">d", data, i)
            if math.isnan(f) or math.isinf(f):
                raise DecodeError("a float that is infinite or NaN (Erlang has neither)")
            return f, i + 8
        if tag == FLOAT:
            text = data[i:i + 31]
            if len(text) != 31:
                raise DecodeError("float runs past the end of the input")
            return float(text.split(b"\0", 1)[0].decode("ascii")), i + 31
        if tag == SMALL_BIG or tag == LARGE_BIG:
            if tag == SMALL_BIG:
                n, i = data[i], i + 1
            else:
                (n,), i = struct.unpack_from(">I", data, i), i + 4
            sign = data[i]
            raw = data[i + 1:i + 1 + n]
            if len(raw) != n or sign > 1:
                raise DecodeError("malformed big integer")
            v = int.from_bytes(raw, "little")
            return (-v if sign else v), i + 1 + n
        if tag in (NEW_PID, PID):
            node, i = self.atom_at(i)
            pid_id, serial = struct.unpack_from(">II", data, i)
            if tag == NEW_PID:
                (creation,), i = struct.unpack_from(">I", data, i + 8), i + 12
            else:
                creation, i = data[i + 8], i + 9
            return self.pid(node, pid_id, serial, creation), i
        if tag in (NEWER_REFERENCE, NEW_REFERENCE, REFERENCE):
            return self.ref(tag, i)
        if tag in (NEW_FUN, EXPORT, FUN):
            raise UnsupportedTerm("a fun: functions cannot travel to a beamlet node")
        if tag in (NEW_PORT, PORT, V4_PORT):
            raise UnsupportedTerm("a port: ports cannot travel to a beamlet node")
        if tag == LOCAL:
            raise DecodeError("LOCAL_EXT is refused: it is only valid inside the node that made it")
        if tag == COMPRESSED:
            raise DecodeError("a compressed term may only appear right after the version byte")
        raise DecodeError(f"unknown term tag {tag}")

    def child(self, i, depth):
        if depth >= self.dec.limits.max_depth:
            raise DecodeError(f"term nested deeper than {self.dec.limits.max_depth} levels")
        return self.term(i, depth + 1)

    def items(self, n, i, depth):
        out = []
        append = out.append
        for _ in range(n):
            x, i = self.child(i, depth)
            append(x)
        return out, i

    def _room(self, n, i, what):
        if n > len(self.data) - i:
            raise DecodeError(f"{what} of {n} elements cannot fit in the {len(self.data) - i} "
                              "bytes left")

    @staticmethod
    def tuple(items):
        if len(items) == 4 and items[0] == CRASH and type(items[0]) is Atom and all(
                type(e) is str for e in items[1:]):
            return Crash(items[1], items[2], items[3])
        return tuple(items)

    def atom(self, tag, i):
        data = self.data
        if tag == ATOM_CACHE_REF:
            cache = self.dec.atom_cache
            idx = data[i]
            if cache is None or idx >= len(cache) or cache[idx] is None:
                raise DecodeError(f"atom cache reference {idx} outside a distribution header")
            return self._special(cache[idx]), i + 1
        if tag in (SMALL_ATOM_UTF8, SMALL_ATOM):
            n, i = data[i], i + 1
        else:
            (n,), i = struct.unpack_from(">H", data, i), i + 2
        raw = data[i:i + n]
        if len(raw) != n:
            raise DecodeError("atom runs past the end of the input")
        text = raw.decode("utf-8" if tag in (SMALL_ATOM_UTF8, ATOM_UTF8) else "latin-1")
        if len(text) > 255:
            raise DecodeError("atom longer than 255 characters")
        return self._special(self.intern(text)), i + n

    def atom_at(self, i):
        """An atom where the format demands one (a node name)."""
        tag = self.data[i]
        if tag not in (SMALL_ATOM_UTF8, ATOM_UTF8, SMALL_ATOM, ATOM, ATOM_CACHE_REF):
            raise DecodeError(f"expected an atom (a node name), found tag {tag}")
        atom, i = self.atom(tag, i + 1)
        if type(atom) is not Atom:  # true/false/undefined decoded to Python values
            atom = Atom({True: "true", False: "false", None: "undefined"}[atom])
        return atom, i

    def intern(self, text):
        atom = _atoms.get(text)
        if atom is not None:
            return atom
        lim = self.dec.limits
        self.new_atoms += 1
        if self.new_atoms > lim.max_new_atoms:
            raise DecodeError(f"more than {lim.max_new_atoms} new atoms in one term")
        atom = Atom(text)
        if len(_atoms) < lim.max_atoms:
            _atoms[atom] = atom
        else:
            raise DecodeError(f"the atom table is full ({lim.max_atoms} atoms); refusing new ones")
        return atom

    @staticmethod
    def _special(atom):
        if atom == "undefined":
            return None
        if atom == "true":
            return True
        if atom == "false":
            return False
        return atom

    def pid(self, node, pid_id, serial, creation):
        loc = self.dec.local
        if loc is not None and node == loc.wire_name and creation == loc.wire_creation:
            return Pid(loc.name, pid_id | (serial << 32), 0, loc.creation)
        return Pid(node, pid_id, serial, creation)

    def ref(self, tag, i):
        data = self.data
        if tag == REFERENCE:
            node, i = self.atom_at(i)
            (w,) = struct.unpack_from(">I", data, i)
            words, creation, i = [w], data[i + 4], i + 5
        else:
            (length,) = struct.unpack_from(">H", data, i)
            if not 1 <= length <= 5:
                raise DecodeError(f"reference with {length} id words (1 to 5 allowed)")
            node, i = self.atom_at(i + 2)
            if tag == NEWER_REFERENCE:
                (creation,), i = struct.unpack_from(">I", data, i), i + 4
            else:
                creation, i = data[i], i + 1
            words = struct.unpack_from(">%dI" % length, data, i)
            i += 4 * length
        n = 0
        for k, w in enumerate(words):
            n |= w << (32 * k)
        if len(words) != 3:
            n |= len(words) << _REF_LEN_SHIFT
        loc = self.dec.local
        if loc is not None and node == loc.wire_name and creation == loc.wire_creation:
            return Ref(loc.name, n, loc.creation), i
        return Ref(node, n, creation), i


# ----------------------------------------------------------------------
# shortcuts

_default_encoder = Encoder()
_default_decoder = Decoder()


def encode(term, *, compressed: int | None = None, strings: str = "binary") -> bytes:
    """`term_to_binary`: `compressed` is a zlib level (0-9) or None."""
    enc = _default_encoder if strings == "binary" else Encoder(strings=strings)
    return enc.encode(term, compressed)


def decode(data, *, binaries: str = "utf8", limits: Limits = DEFAULT_LIMITS):
    """`binary_to_term`: the term in `data`, which must hold exactly one term."""
    dec = _default_decoder if (binaries == "utf8" and limits is DEFAULT_LIMITS) else Decoder(
        binaries=binaries, limits=limits)
    term, end = dec.decode(data)
    if end != len(data):
        raise DecodeError(f"{len(data) - end} bytes of garbage after the term")
    return term
