"""Secret handles and redaction."""

import vm
from stdlib.agents.redact import REDACTED, redact, reveal, secret, secret_from_env


def test_handles_hold_no_secret():
    h = secret("sk-live-abcdefghijklmnop", "openai")
    assert "abcdefgh" not in repr(h)
    assert vm.lowlevel.is_term(h)
    assert reveal(h) == "sk-live-abcdefghijklmnop"


def test_env_handle_reads_at_reveal(monkeypatch):
    h = secret_from_env("BEAMLET_TEST_KEY")
    monkeypatch.setenv("BEAMLET_TEST_KEY", "value-1")
    assert reveal(h) == "value-1"
    monkeypatch.delenv("BEAMLET_TEST_KEY")
    assert reveal(h) is None


def test_known_secret_shapes_are_redacted():
    text = ("failed with key sk-proj-ABCDEFGHIJ0123456789 and Authorization: Bearer abc.def.ghi123 "
            "to postgres://admin:hunter2pass@db:5432/x; api_key=zzz123456 password: 'letmein99' "
            "AKIAABCDEFGHIJKLMNOP ghp_abcdefghijklmnopqrstuvwxyz0123 "
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.abcdefghijklmnop")
    out = redact(text)
    for leaked in ("ABCDEFGHIJ0123456789", "abc.def.ghi123", "hunter2pass", "zzz123456",
                   "letmein99", "AKIAABCDEFGHIJKLMNOP", "ghp_abcdef", "eyJhbGciOiJIUzI1NiJ9"):
        assert leaked not in out, leaked
    assert "postgres://admin:" + REDACTED + "@db" in out


def test_registered_and_environment_secrets_are_redacted(monkeypatch):
    secret("plain-words-secret-value")
    monkeypatch.setenv("MY_SERVICE_TOKEN", "t0k3n-without-a-known-shape")
    out = redact("a plain-words-secret-value and t0k3n-without-a-known-shape here")
    assert out == f"a {REDACTED} and {REDACTED} here"


def test_long_text_is_cut():
    assert redact("x" * 5000, limit=100).endswith("[4900 more characters cut]")
