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

from ..terms import ImproperList
from .decoder import Decoder
from .encoder import Encoder
from .etf import (
    DEFAULT_LIMITS,
    DecodeError,
    EncodeError,
    ETFError,
    Limits,
    LocalIdentity,
    UnsupportedTerm,
)

__all__ = [
    "DEFAULT_LIMITS",
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
