"""The cookie: where it comes from, the file erl would create, and never showing it."""

import os
import stat

import pytest

from vm.dist.cookie import Cookie, CookieError, resolve


def test_cookie_file_is_created_like_erl_does(home):
    c = resolve()
    path = home / ".erlang.cookie"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o400
    text = path.read_text()
    assert len(text) == 20 and text.isupper() and text.isalpha()
    assert c.secret == text.encode()
    assert resolve() == c  # read back, not recreated


def test_order_explicit_then_environment_then_file(home, monkeypatch):
    (home / ".erlang.cookie").write_text("FROMFILE")
    os.chmod(home / ".erlang.cookie", 0o400)
    assert resolve().secret == b"FROMFILE"
    monkeypatch.setenv("ERLANG_COOKIE", "fromenv")
    assert resolve().secret == b"fromenv"
    assert resolve("given").secret == b"given"


def test_a_cookie_file_others_can_read_is_refused(home):
    (home / ".erlang.cookie").write_text("OPEN")
    os.chmod(home / ".erlang.cookie", 0o644)
    with pytest.raises(CookieError, match="owner only"):
        resolve()


def test_the_cookie_never_shows():
    c = Cookie("s3cret")
    assert "s3cret" not in repr(c) and "s3cret" not in str(c) and "s3cret" not in f"{c}"
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(c)
    with pytest.raises(CookieError):
        Cookie("")
