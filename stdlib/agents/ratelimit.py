"""One rate limiter process per provider: callers queue in it.

What this module owns: keeping a crew of agents within a provider's limits
(requests per minute, tokens per minute) without each agent guessing. As a
model server is one process in front of a model, a limiter is one process in
front of an endpoint; every model attempt asks it for a *grant* first, and
waits in its queue until the grant fits:

    model = openai_model(rate_limit={"requests_per_minute": 60,
                                     "tokens_per_minute": 90_000})

- **Window.** A grant is counted for `period` seconds (default 60) from the
  moment it is given: at most `requests_per_minute` grants, and at most
  `tokens_per_minute` tokens (the call's input estimate plus its
  `max_tokens`), in any window. After the call, `settle` replaces the
  estimate by the tokens really used, which may let the next caller in.
- **Order.** First come, first served: the head of the queue is served
  before anyone behind it, so a big request is not starved by small ones.
  A single request that could never fit (more tokens than the limit) is
  refused at once with a message saying so.
- **Cancellation.** The limiter monitors every queued caller: a caller that
  dies or gives up (its deadline) leaves the queue.
- **One per provider.** The limiter is registered as
  `"agents.ratelimit:<key>"`, where the key is the model's `rate_limit["key"]`,
  else its provider and base URL (so every model of one endpoint shares it).
  It is started on first use, outside any supervision tree (like a lazily
  started service), with the limits of the first model that used it; start
  it yourself under a supervisor with `child_spec(key, limits)` to own it.

What it refuses: knowing about HTTP; the model layer asks it before each
attempt (model.py).
"""

from __future__ import annotations

from collections import deque

import vm

from .. import gen_server
from .errors import ModelError
from .options import check_keys, count, seconds

__all__ = ["RateLimiter", "acquire", "check_limits", "child_spec", "limiter_name", "settle",
           "stats"]

_KEYS = ("requests_per_minute", "tokens_per_minute", "period", "key")


def check_limits(limits):
    """Validate a model's `rate_limit` option; returns it normalised, or None."""
    if limits is None:
        return None
    limits = check_keys("rate_limit", limits, _KEYS)
    rpm = count("rate_limit['requests_per_minute']", limits.get("requests_per_minute"), minimum=1)
    tpm = count("rate_limit['tokens_per_minute']", limits.get("tokens_per_minute"), minimum=1)
    if rpm is None and tpm is None:
        raise vm.BadArg("rate_limit needs requests_per_minute and/or tokens_per_minute")
    period = seconds("rate_limit['period']", limits.get("period", 60.0), allow_none=False)
    if period <= 0:
        raise vm.BadArg("rate_limit['period'] must be more than 0 seconds")
    key = limits.get("key")
    if key is not None and not isinstance(key, str):
        raise vm.BadArg(f"rate_limit['key'] must be a str, not {key!r}")
    return {"requests_per_minute": rpm, "tokens_per_minute": tpm, "period": period, "key": key}


def limiter_name(model) -> str:
    limits = model["rate_limit"]
    key = limits.get("key") or f"{model['provider']}:{model.get('base_url') or model.get('id')}"
    return "agents.ratelimit:" + key


def acquire(model, tokens, deadline=None):
    """Wait for a grant for one call of `tokens` tokens; returns the grant (a term)."""
    name = limiter_name(model)
    pid = vm.whereis(name)
    if pid is None:
        res = gen_server.start(RateLimiter, model["rate_limit"], name=name)
        pid = res[1] if res[0] == "ok" else res[1][1]  # ("error", ("already_started", pid))
    timeout = None if deadline is None else max(0.0, deadline - vm.monotonic())
    try:
        answer = gen_server.call(pid, ("acquire", tokens), timeout)
    except vm.Exit as e:
        if type(e.reason) is tuple and e.reason and e.reason[0] == "timeout":
            gen_server.cast(pid, ("cancel", vm.self()))
            raise ModelError("deadline", "the call's deadline passed while it waited for "
                             f"the rate limiter {name!r}") from None
        raise ModelError("connection", f"the rate limiter {name!r} failed: {e.reason!r}") from None
    if answer[0] == "error":
        raise ModelError("bad_request", answer[1])
    return (pid, answer[1])


def settle(grant, tokens_used) -> None:
    """Record what a granted call really used (0 for an attempt that failed)."""
    pid, gid = grant
    gen_server.cast(pid, ("settle", gid, tokens_used))


def stats(model_or_name) -> dict:
    """The limiter's counters: granted, queued, and requests/tokens in the window."""
    name = model_or_name if isinstance(model_or_name, str) else limiter_name(model_or_name)
    return gen_server.call(name, "stats")


def child_spec(key, limits) -> dict:
    """A child spec that starts the limiter for `key` under your supervisor."""
    limits = check_limits(dict(limits, key=key))
    name = "agents.ratelimit:" + key
    return {"id": name, "start": (_start_child, (limits, name))}


def _start_child(limits, name):
    return gen_server.start_link(RateLimiter, limits, name=name)


class RateLimiter(gen_server.GenServer):
    """The limiter process (a gen_server). State: limits, the window, the queue."""

    def init(self, limits):
        return ("ok", {"limits": limits, "window": deque(), "tokens": {}, "queue": deque(),
                       "waiting": {}, "next_id": 0, "timer": None, "granted": 0})

    def handle_call(self, request, from_, s):
        if request == "stats":
            self._expire(s)
            return ("reply", {"granted": s["granted"], "queued": len(s["queue"]),
                              "in_window": len(s["window"]),
                              "tokens_in_window": sum(s["tokens"].values()),
                              "limits": s["limits"]}, s)
        if type(request) is tuple and request[0] == "acquire":
            tokens = request[1]
            tpm = s["limits"]["tokens_per_minute"]
            if tpm is not None and tokens > tpm:
                return ("reply", ("error", f"one call of {tokens} tokens can never fit "
                                  f"tokens_per_minute={tpm}; lower max_tokens or raise the "
                                  "limit"), s)
            pid = from_[0]
            s["waiting"][pid] = vm.monitor(pid)
            s["queue"].append((from_, tokens))
            self._serve(s)
            return ("noreply", s)
        return ("reply", ("error", f"unknown request {request!r}"), s)

    def handle_cast(self, msg, s):
        if msg[0] == "settle":
            _, gid, used = msg
            if gid in s["tokens"]:
                s["tokens"][gid] = used
            self._serve(s)
        elif msg[0] == "cancel":
            self._drop(s, msg[1])
            self._serve(s)
        return ("noreply", s)

    def handle_info(self, msg, s):
        if type(msg) is tuple and msg[0] == "DOWN":
            self._drop(s, msg[3])
        elif msg == "$recheck":
            s["timer"] = None
        self._serve(s)
        return ("noreply", s)

    # ------------------------------------------------------------------

    def _drop(self, s, pid):
        ref = s["waiting"].pop(pid, None)
        if ref is not None:
            vm.demonitor(ref, flush=True)
            s["queue"] = deque(w for w in s["queue"] if w[0][0] != pid)

    def _expire(self, s):
        horizon = vm.monotonic() - s["limits"]["period"]
        window, tokens = s["window"], s["tokens"]
        while window and window[0][0] <= horizon:
            _, gid = window.popleft()
            tokens.pop(gid, None)

    def _serve(self, s):
        self._expire(s)
        limits, queue = s["limits"], s["queue"]
        rpm, tpm = limits["requests_per_minute"], limits["tokens_per_minute"]
        while queue:
            from_, tokens = queue[0]
            if rpm is not None and len(s["window"]) + 1 > rpm:
                break
            if tpm is not None and sum(s["tokens"].values()) + tokens > tpm:
                break
            queue.popleft()
            ref = s["waiting"].pop(from_[0], None)
            if ref is not None:
                vm.demonitor(ref, flush=True)
            gid = s["next_id"]
            s["next_id"] += 1
            s["window"].append((vm.monotonic(), gid))
            s["tokens"][gid] = tokens
            s["granted"] += 1
            gen_server.reply(from_, ("ok", gid))
        if queue and s["timer"] is None and s["window"]:
            # the head waits for the oldest grant to leave the window
            wait = s["window"][0][0] + limits["period"] - vm.monotonic()
            s["timer"] = vm.send_after(max(0.0, wait) + 1e-6, vm.self(), "$recheck")


