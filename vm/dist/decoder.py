"""The External Term Format decoder, hardened for bytes from strangers (see codec.py).

What this module owns: `Decoder.decode(data, offset)`, `binary_to_term`,
within `Limits`: nesting depth, input size, decompressed size (inflated with
`zlib.decompressobj().decompress(buf, max_length)`, never past the size the
term claims), new atoms per term and atoms per process; every length is
checked against the bytes left before anything is built; `LOCAL_EXT` and
atom-cache references outside a distribution header are refused. Anything
wrong raises `DecodeError` (`UnsupportedTerm` for a well-formed fun, port
or bit string), never another exception.

What it refuses: encoding (`encoder.py`).
"""

from __future__ import annotations

import math
import struct
import zlib

from ..terms import Atom, Crash, ImproperList, Pid, Ref
from .etf import (
    _REF_LEN_SHIFT,
    ATOM,
    ATOM_CACHE_REF,
    ATOM_UTF8,
    BINARY,
    BIT_BINARY,
    COMPRESSED,
    CRASH,
    DEFAULT_LIMITS,
    EXPORT,
    FLOAT,
    FUN,
    INTEGER,
    LARGE_BIG,
    LARGE_TUPLE,
    LIST,
    LOCAL,
    MAP,
    NEW_FLOAT,
    NEW_FUN,
    NEW_PID,
    NEW_PORT,
    NEW_REFERENCE,
    NEWER_REFERENCE,
    NIL,
    PID,
    PORT,
    REFERENCE,
    SMALL_ATOM,
    SMALL_ATOM_UTF8,
    SMALL_BIG,
    SMALL_INTEGER,
    SMALL_TUPLE,
    STRING,
    V4_PORT,
    VERSION,
    DecodeError,
    ETFError,
    Limits,
    LocalIdentity,
    UnsupportedTerm,
    _atoms,
)


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
        out: list = []
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
            words: tuple | list
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
