"""Retry rules of the OpenAI-compatible API."""

import email.utils
import random

import pytest

from stdlib.agents import retry


@pytest.mark.parametrize("status,code,expected", [
    (408, None, True), (409, None, True), (429, "rate_limit_exceeded", True), (429, None, True),
    (429, "insufficient_quota", False), (500, None, True), (503, None, True),
    (400, None, False), (401, None, False), (403, None, False), (404, None, False),
    (422, None, False)])
def test_what_is_retried(status, code, expected):
    assert retry.should_retry(status, {}, code) is expected


def test_x_should_retry_overrides_the_status():
    assert retry.should_retry(400, {"x-should-retry": "true"}) is True
    assert retry.should_retry(503, {"x-should-retry": "false"}) is False


@pytest.mark.parametrize("status,code,kind", [
    (429, "insufficient_quota", "insufficient_quota"), (429, "rate_limit_exceeded", "rate_limited"),
    (500, None, "server_error"), (502, None, "server_error"), (401, None, "authentication"),
    (403, None, "permission"), (404, None, "not_found"), (408, None, "request_timeout"),
    (409, None, "conflict"), (418, None, "bad_request")])
def test_status_kinds(status, code, kind):
    assert retry.status_kind(status, code) == kind


def test_retry_after_ms_first_then_seconds_then_date():
    assert retry.retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert retry.retry_after({"retry-after": "2"}) == 2.0
    now = 1_000_000.0
    date = email.utils.formatdate(now + 5, usegmt=True)
    assert retry.retry_after({"retry-after": date}, now=now) == pytest.approx(5.0, abs=1.0)


@pytest.mark.parametrize("headers", [{}, {"retry-after": "0"}, {"retry-after": "-3"},
                                     {"retry-after": "3600"}, {"retry-after": "soon"},
                                     {"retry-after-ms": "nan-ish"}])
def test_unusable_retry_after_gives_none(headers):
    assert retry.retry_after(headers) is None


def test_backoff_doubles_caps_and_jitters_down_to_three_quarters():
    rng = random.Random(1)
    for n, base in [(0, 0.5), (1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (9, 8.0)]:
        for _ in range(20):
            d = retry.backoff(n, rng)
            assert 0.75 * base <= d <= base
