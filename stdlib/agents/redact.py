"""Secrets that never become terms, and redaction of text that might hold one.

What this module owns:

1. **Secret handles.** An API key must never appear in a log, an exit
   reason, a trace or `otp_sys.get_state`. Everything that travels between
   processes is a term, and terms are printed by all of those; so a key is
   never put in a term. A model configuration holds a *handle* instead:
   `("$secret", "env", "OPENAI_API_KEY")` (read the variable when the
   request is written) or `("$secret", "mem", "<random id>")` (a value given
   as an argument, kept in a table of this OS process, outside every
   process heap). `reveal(handle)` turns a handle into the value; only the
   process that writes the request bytes calls it, just before writing.
2. **Redaction.** `redact(text)` removes what looks like a secret from text
   that is about to reach a model, a log or an exit reason (a tool's error
   message, a server's error body): every registered secret and every
   secret-looking environment variable's value, bearer tokens, well-known
   key shapes (`sk-...`, `AKIA...`, `ghp_...`, JWTs), `password=...`-style
   assignments and the password in `scheme://user:password@host`. Exception
   messages have leaked keys to models before; text is redacted by default.

What it refuses: encryption or storage of secrets; a handle is only as safe
as the process memory it lives in.
"""

from __future__ import annotations

import os
import re
import secrets as _random

import vm

__all__ = ["REDACTED", "is_secret", "redact", "redact_all", "reveal", "secret",
           "secret_from_env"]

REDACTED = "[REDACTED]"
_SECRET = "$secret"
_VALUES: dict[str, str] = {}  # handle id -> secret value (never a term)

#: Environment variables whose values are secrets (matched on the name).
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSW|CREDENTIAL|AUTH", re.I)
_PATTERNS = [
    # scheme://user:password@host -> scheme://user:[REDACTED]@host
    (re.compile(r"(\b[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@", re.I), r"\1" + REDACTED + "@"),
    (re.compile(r"(\bbearer\s+)[A-Za-z0-9._~+/=-]{6,}", re.I), r"\1" + REDACTED),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{8,}"), REDACTED),
    (re.compile(r"\bAKIA[0-9A-Z]{16}\b"), REDACTED),
    (re.compile(r"\bgh[pousr]_[A-Za-z0-9]{16,}\b"), REDACTED),
    (re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"), REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), REDACTED),
    # api_key=..., "password": "...", token: ...
    (re.compile(r"""((?:api[_-]?key|access[_-]?key|secret|token|password|passwd|pwd)"""
                r"""["']?\s*[:=]\s*["']?)[^\s"',;&})\]]+""", re.I), r"\1" + REDACTED),
]
MAX_TEXT = 4000  # characters of error text kept (the rest says how much was cut)


def secret(value: str, label: str = "secret") -> tuple:
    """A handle for `value`, safe to put in any term (it holds only a random id)."""
    if not isinstance(value, str) or not value:
        raise vm.BadArg("secret() takes the secret as a non-empty str")
    if not isinstance(label, str):
        raise vm.BadArg(f"secret(): label must be a str, not {label!r}")
    handle = f"{label}:{_random.token_hex(8)}"
    _VALUES[handle] = value
    return (_SECRET, "mem", handle)


def secret_from_env(variable: str) -> tuple:
    """A handle that reads the environment variable `variable` when revealed."""
    if not isinstance(variable, str) or not variable:
        raise vm.BadArg(f"secret_from_env() takes a variable name, not {variable!r}")
    return (_SECRET, "env", variable)


def is_secret(x) -> bool:
    return type(x) is tuple and len(x) == 3 and x[0] == _SECRET and x[1] in ("mem", "env")


def reveal(handle):
    """The value behind a handle (None when its variable is unset); a str passes through."""
    if isinstance(handle, str) or handle is None:
        return handle
    if not is_secret(handle):
        raise vm.BadArg(f"not a secret handle: {type(handle).__name__}")
    if handle[1] == "env":
        return os.environ.get(handle[2]) or None
    try:
        return _VALUES[handle[2]]
    except KeyError:
        raise vm.BadArg(f"secret {handle[2]!r} is not known in this OS process "
                        "(secrets given as arguments do not survive a restart of Python)") from None


def _known_values():
    values = [v for v in _VALUES.values() if len(v) >= 6]
    for name, value in os.environ.items():
        if value and len(value) >= 6 and _SECRET_NAME.search(name):
            values.append(value)
    return sorted(set(values), key=len, reverse=True)  # longest first: no partial leftovers


def redact(text, limit: int = MAX_TEXT, *, known=None) -> str:
    """`text` (any object, as str) with every secret-looking part replaced by [REDACTED].

    `known`: the secret values to look for, when the caller redacts many texts
    at once (`redact_all`); by default they are read afresh."""
    if not isinstance(text, str):
        text = str(text)
    for value in _known_values() if known is None else known:
        if value in text:
            text = text.replace(value, REDACTED)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    if limit is not None and len(text) > limit:
        text = text[:limit] + f"... [{len(text) - limit} more characters cut]"
    return text


def redact_all(term):
    """`term` with every string in it (through dicts, lists and tuples) redacted,
    the secret values read once for the whole term."""
    known = _known_values()

    def walk(x):
        if isinstance(x, str):
            return redact(x, limit=None, known=known)
        if isinstance(x, dict):
            return {k: walk(v) for k, v in x.items()}
        if type(x) in (list, tuple):
            return type(x)(walk(v) for v in x)
        return x

    return walk(term)
