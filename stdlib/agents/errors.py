"""The failures of the agents package: reasons as terms, exceptions that carry them.

What this module owns: the shape of every failure an agent, a model call or
a tool can report. Failures travel between processes, so each one is first
a *reason*: a term (a tuple led by a name) that can sit in a reply, an exit
reason or a crash report. The exceptions here carry a reason (`.reason`) so
that Python code can catch a failure by class and still hand the term on.

    reason                                       raised as / where
    -------------------------------------------------------------------------
    ("model_error", kind, detail)                ModelError (model calls)
    ("budget_exhausted", detail)                 AgentError (ask)
    ("deadline_exceeded", detail)                AgentError (ask)
    ("loop_detected", detail)                    AgentError (ask)
    ("cancelled", why)                           AgentError (ask)
    ("tool_crashed", tool_name, crash)           the agent's exit reason
                                                 (a tool whose policy is "crash")

`detail` is always a dict of terms, so a reason prints readably and can be
matched on (`case ("budget_exhausted", {"resource": "cost"}):`).

What it refuses: deciding which failures are retried (retry.py) and what a
model or a tool does about them (model.py, tools.py).
"""

from __future__ import annotations

__all__ = ["AgentError", "ModelError", "MODEL_ERROR_KINDS"]

#: The kinds of model failure, and whether a new attempt may succeed.
MODEL_ERROR_KINDS = {
    "bad_request": False,         # 400, 422 and other 4xx not listed here
    "authentication": False,      # 401
    "permission": False,          # 403
    "not_found": False,           # 404
    "request_timeout": True,      # 408
    "conflict": True,             # 409
    "rate_limited": True,         # 429 rate_limit_exceeded (and 429 without a code)
    "insufficient_quota": False,  # 429 insufficient_quota: money, not time, is missing
    "server_error": True,         # 5xx
    "connect_timeout": True,      # no connection within the connect timeout
    "connection": True,           # refused, reset, or dropped before a reply
    "protocol": False,            # the server broke HTTP
    "bad_response": False,        # a reply that is not the JSON the API promises
    "stream_error": False,        # an error object in the middle of a stream
    "deadline": False,            # the call's total deadline passed
    "script": False,              # a scripted model ran out of steps, or a bad step
    "internal": False,            # the model client itself crashed (a bug: see the crash report)
}


class ModelError(Exception):
    """A model call failed; `.reason` is `("model_error", kind, detail)`.

    `detail` has at least "message" (the server's own message when it sent
    one, redacted) and "retryable"; HTTP failures add "status", and the
    server's "type" and "code" when given. `.retry_after` is the delay (in
    seconds) the server asked for, if any; it is not part of the reason.
    """

    def __init__(self, kind: str, message: str, *, status=None, code=None, type_=None,
                 retryable=None, retry_after=None, attempts=None):
        if kind not in MODEL_ERROR_KINDS:
            raise ValueError(f"unknown model error kind {kind!r}; known: "
                             f"{', '.join(sorted(MODEL_ERROR_KINDS))}")
        self.kind = kind
        self.message = message
        self.status = status
        self.code = code
        self.type = type_
        self.retryable = MODEL_ERROR_KINDS[kind] if retryable is None else bool(retryable)
        self.retry_after = retry_after
        self.attempts = attempts
        super().__init__(self._text())

    def _text(self):
        status = f" (HTTP {self.status})" if self.status is not None else ""
        return f"{self.kind}{status}: {self.message}"

    @property
    def reason(self):
        detail = {"message": self.message, "retryable": self.retryable}
        for key, value in (("status", self.status), ("code", self.code), ("type", self.type),
                           ("attempts", self.attempts)):
            if value is not None:
                detail[key] = value
        return ("model_error", self.kind, detail)

    @classmethod
    def from_reason(cls, reason):
        """Rebuild the exception from the term another process sent."""
        _, kind, detail = reason
        return cls(kind, detail.get("message", ""), status=detail.get("status"),
                   code=detail.get("code"), type_=detail.get("type"),
                   retryable=detail.get("retryable"), attempts=detail.get("attempts"))


class AgentError(Exception):
    """An ask failed. `.reason` is the reason term; `.usage` what the request
    had spent by then (tokens, calls, cost), recorded even when it was cancelled."""

    def __init__(self, reason, usage=None):
        self.reason = reason
        self.usage = usage or {}
        super().__init__(_describe(reason))


def _describe(reason) -> str:
    if type(reason) is tuple and reason:
        head, rest = reason[0], reason[1:]
        if head == "model_error" and len(rest) == 2:
            return f"model error ({rest[0]}): {rest[1].get('message', '')}"
        if head == "tool_crashed" and len(rest) == 2:
            crash = rest[1]
            what = f"{crash[0]}: {crash[1]}" if type(crash) is not str else crash
            return f"tool {rest[0]} crashed ({what}); the agent stopped"
        if len(rest) == 1 and type(rest[0]) is dict:
            inner = ", ".join(f"{k}={v!r}" for k, v in rest[0].items())
            return f"{head}: {inner}"
    return repr(reason)
