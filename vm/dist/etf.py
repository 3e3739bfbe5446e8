"""The External Term Format's vocabulary: tags, errors, limits, and a node's identity.

What this module owns: the names shared by the encoder (`encoder.py`) and
the decoder (`decoder.py`): the tag bytes, the codec's own exceptions, the
decoder's `Limits`, and `LocalIdentity`, which says how this node's pids and
refs look inside and on the wire. `codec.py` documents the mapping itself.

What it refuses: encoding and decoding.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..terms import Atom

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
