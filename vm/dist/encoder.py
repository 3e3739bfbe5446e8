"""The External Term Format encoder: beamlet terms to Erlang's bytes (see codec.py).

What this module owns: `Encoder.encode(term)`, `term_to_binary`, with the
mapping documented in `codec.py`; every value without an External Term
Format form raises `EncodeError` naming it and what to send instead.

What it refuses: decoding (`decoder.py`).
"""

from __future__ import annotations

import math
import struct
import zlib

from ..terms import Atom, Crash, ImproperList, Pid, Ref
from .etf import (
    _REF_LEN_SHIFT,
    _WORD,
    ATOM_UTF8,
    BINARY,
    BIT_BINARY,
    COMPRESSED,
    CRASH,
    FALSE,
    INTEGER,
    LARGE_BIG,
    LARGE_TUPLE,
    LIST,
    MAP,
    NEW_FLOAT,
    NEW_PID,
    NEWER_REFERENCE,
    NIL,
    SMALL_ATOM_UTF8,
    SMALL_BIG,
    SMALL_INTEGER,
    SMALL_TUPLE,
    STRING,
    TRUE,
    UNDEFINED,
    VERSION,
    EncodeError,
    LocalIdentity,
)


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
