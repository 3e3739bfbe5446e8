"""The magic cookie: where it comes from, and keeping it secret.

What this module owns: `resolve(explicit)`, the cookie a node uses, found
as erl finds it: the one given (`--cookie`, `cookie=`), else the
`ERLANG_COOKIE` environment variable, else `~/.erlang.cookie`, which is
created (20 random capital letters, mode 0400) when it does not exist, as
erl creates it. A cookie file that others can read is refused, as erl
refuses it.

A `Cookie` never shows its value: its repr and str are `Cookie(***)`, so a
log record, a traceback or a crash report cannot leak it; the handshake
reads `Cookie.secret` and nothing else does.

What it refuses: authentication itself (`handshake.py` computes digests).
"""

from __future__ import annotations

import os
import secrets
import stat
import string

ENV = "ERLANG_COOKIE"


class CookieError(ValueError):
    """No usable cookie (a cookie file others can read, an empty cookie...)."""


class Cookie:
    """A cookie whose value never appears in a repr, str or log record."""

    __slots__ = ("_secret",)
    _secret: bytes

    def __init__(self, value: str | bytes):
        raw = value.encode("utf-8") if isinstance(value, str) else bytes(value)
        if not raw:
            raise CookieError("the cookie is empty; give a non-empty cookie")
        object.__setattr__(self, "_secret", raw)

    @property
    def secret(self) -> bytes:
        return self._secret

    def __setattr__(self, name, value):
        raise AttributeError("a Cookie is immutable")

    def __repr__(self):
        return "Cookie(***)"

    __str__ = __repr__

    def __eq__(self, other):
        return type(other) is Cookie and secrets.compare_digest(self._secret, other._secret)

    def __hash__(self):
        return hash(("cookie", len(self._secret)))

    def __reduce__(self):
        raise TypeError("a Cookie is not pickled or sent: pass it where it is needed")


def cookie_file() -> str:
    return os.path.join(os.path.expanduser("~"), ".erlang.cookie")


def resolve(explicit: str | bytes | Cookie | None = None) -> Cookie:
    """The cookie this node uses (see the module's docstring for the order)."""
    if isinstance(explicit, Cookie):
        return explicit
    if explicit is not None:
        return Cookie(explicit)
    env = os.environ.get(ENV)
    if env:
        return Cookie(env)
    return _from_file(cookie_file())


def _from_file(path: str) -> Cookie:
    if not os.path.exists(path):
        _create(path)
    st = os.stat(path)
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CookieError(f"cookie file {path} must be accessible by its owner only "
                          f"(chmod 400 {path}), as erl requires")
    with open(path, "rb") as f:
        value = f.read().strip()
    if not value:
        raise CookieError(f"cookie file {path} is empty")
    return Cookie(value.splitlines()[0].strip())


def _create(path: str):
    value = "".join(secrets.choice(string.ascii_uppercase) for _ in range(20))
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o400)
    try:
        os.write(fd, value.encode("ascii"))
    finally:
        os.close(fd)
    os.chmod(path, 0o400)
