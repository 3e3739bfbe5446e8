"""When a failed model call is tried again, and after how long.

What this module owns: the retry rules of the OpenAI-compatible API, as its
reference client applies them, in pure functions:

- **What is retried.** HTTP 408, 409, 429 and 5xx, and failures to connect
  or a connection lost before the reply; but never a 429 whose error code is
  `insufficient_quota` (waiting does not add money), and never another 4xx
  (the request itself is wrong; the server's message is surfaced). A
  response header `x-should-retry: true|false` overrides the status rule.
- **How long to wait.** The server's `retry-after-ms` (milliseconds) first,
  then `Retry-After` (seconds, or an HTTP date), when it asks for a
  reasonable delay (above 0 and at most a minute); otherwise exponential
  backoff: 0.5 s x 2^n (n = retries so far), capped at 8 s, times a jitter
  between 0.75 and 1.
- **How many times.** `max_retries` (default 2, as the reference client):
  three attempts in all. A retry that cannot start before the call's total
  deadline is not made; the last failure is reported instead.

What it refuses: waiting (model.py sleeps through `vm.sleep`, so a killed
caller stops waiting at once) and classifying responses (openai.py).
"""

from __future__ import annotations

import email.utils
import random
import time

__all__ = ["DEFAULT_MAX_RETRIES", "backoff", "retry_after", "should_retry", "status_kind"]

DEFAULT_MAX_RETRIES = 2
INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
MAX_SERVER_DELAY = 60.0


def status_kind(status: int, code=None) -> str:
    """The model error kind of an HTTP error status (see errors.MODEL_ERROR_KINDS)."""
    if status == 429:
        return "insufficient_quota" if code == "insufficient_quota" else "rate_limited"
    if status >= 500:
        return "server_error"
    return {400: "bad_request", 401: "authentication", 403: "permission", 404: "not_found",
            408: "request_timeout", 409: "conflict", 422: "bad_request"}.get(status, "bad_request")


def should_retry(status: int, headers: dict, code=None) -> bool:
    """Whether a response with this status (and error code) may be tried again."""
    override = (headers.get("x-should-retry") or "").strip().lower()
    if override == "true":
        return True
    if override == "false":
        return False
    if status == 429:
        return code != "insufficient_quota"
    return status in (408, 409) or status >= 500


def retry_after(headers: dict, now=None):
    """The delay the server asked for, in seconds, or None (absent, unreadable or unreasonable)."""
    ms = headers.get("retry-after-ms")
    if ms is not None:
        try:
            delay = float(ms) / 1000.0
        except ValueError:
            delay = None
        if delay is not None and 0 < delay <= MAX_SERVER_DELAY:
            return delay
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        delay = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        delay = when.timestamp() - (time.time() if now is None else now)
    return delay if 0 < delay <= MAX_SERVER_DELAY else None


def backoff(retries_so_far: int, rng=random) -> float:
    """The delay before retry number `retries_so_far + 1` when the server named none."""
    delay = min(INITIAL_DELAY * (2.0 ** retries_so_far), MAX_DELAY)
    return delay * (1.0 - 0.25 * rng.random())
