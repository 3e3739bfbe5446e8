"""The audit trail: every agent action, append-only and hash-chained.

What this module owns: the shape of an audit record, the chain that makes
tampering visible, verifying it, and reading it back filtered. Records are
written by the store process (store.py) in its batches, so an agent never
waits for the disk.

A record: `seq` (1, 2, ...), `ts` (Unix seconds, wall clock), `kind`,
`agent`, `pid`, `trace_id`, `span_id`, `principal` (who asked, passed with
the request), `request_id`, `data` (a JSON object), and the chain: `prev`
(the hash of record `seq - 1`; 64 zeros for the first) and `hash`:

    hash = SHA-256( canonical JSON of [seq, ts, kind, agent, pid, trace_id, span_id,
                                       principal, request_id, data, prev] )

or HMAC-SHA-256 with a key when `BEAMLET_AUDIT_KEY` is set where the
trail is written (and then needed to verify it). The store also keeps the
chain's **head** (last seq and hash) in its own table, updated in the same
transaction.

**What verification detects.** A changed record (its hash no longer
matches), a removed one (a gap in `seq`, or a `prev` that does not match),
records reordered (their `prev` links break), a record appended with a
forged hash, and records removed from the end (the head disagrees). What
an unkeyed chain cannot detect: someone with write access who rewrites
every record from the change onwards *and* the head. A keyed chain
(HMAC) makes that impossible without the key; keeping the head's hash
elsewhere (`verify(..., expect_head=(seq, hash))`) detects it too.

Kinds written by agents: `start`, `stop`, `crash`, `request`,
`model_call`, `tool_call`, `state`, `budget`, `approval`,
`request_done`; `log(...)` writes your own.

What it refuses: writing the file (store.py) and deciding what an agent
records (trail.py does, through the agent's `redact_record` hook).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from datetime import UTC, datetime

import vm

__all__ = ["GENESIS", "KINDS", "format_record", "log", "query", "record_hash", "verify"]

GENESIS = "0" * 64
KEY_ENV = "BEAMLET_AUDIT_KEY"
KINDS = ("start", "stop", "crash", "request", "model_call", "tool_call", "state", "budget",
         "approval", "request_done")
COLUMNS = ("seq", "ts", "kind", "agent", "pid", "trace_id", "span_id", "principal",
           "request_id", "data", "prev", "hash")


def _key(key=None):
    if key is None:
        key = os.environ.get(KEY_ENV) or None
    if isinstance(key, str):
        key = key.encode("utf-8")
    return key


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str)


def record_hash(seq, row, prev, key=None) -> str:
    """The hash of a record (row: a dict with the columns; data as its JSON text)."""
    text = canonical([seq, row["ts"], row["kind"], row["agent"], row["pid"], row["trace_id"],
                      row["span_id"], row["principal"], row["request_id"], row["data"], prev])
    if key:
        return hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


# ----------------------------------------------------------------------
# writing (run by the store process, inside its transaction)


def new_record(kind, data, *, agent=None, pid=None, trace=None, principal=None,
               request_id=None) -> dict:
    """A record ready for `append` (data: a dict of JSON values)."""
    return {"ts": time.time(), "kind": str(kind), "agent": None if agent is None else str(agent),
            "pid": None if pid is None else repr(pid),
            "trace_id": trace[0] if trace else None, "span_id": trace[1] if trace else None,
            "principal": None if principal is None else str(principal),
            "request_id": None if request_id is None else str(request_id),
            "data": canonical(data)}


def append(conn, txn, records):
    """Chain `records` onto the trail (a store write function)."""
    key = _key()
    head = txn.get("audit_head")
    if head is None:
        row = conn.execute("SELECT seq, hash, keyed FROM audit_head WHERE id = 1").fetchone()
        head = (0, GENESIS, bool(key)) if row is None else (row[0], row[1], bool(row[2]))
        if head[2] != bool(key):
            raise ValueError("this audit trail is " + ("keyed" if head[2] else "not keyed") +
                             f": set {KEY_ENV} the same way for every writer")
    seq, prev, keyed = head
    rows = []
    for r in records:
        seq += 1
        h = record_hash(seq, r, prev, key)
        rows.append((seq, r["ts"], r["kind"], r["agent"], r["pid"], r["trace_id"], r["span_id"],
                     r["principal"], r["request_id"], r["data"], prev, h))
        prev = h
    conn.executemany(f"INSERT INTO audit ({', '.join(COLUMNS)}) VALUES "
                     f"({', '.join('?' * len(COLUMNS))})", rows)
    conn.execute("INSERT OR REPLACE INTO audit_head (id, seq, hash, keyed) VALUES (1, ?, ?, ?)",
                 (seq, prev, int(keyed)))
    txn["audit_head"] = (seq, prev, keyed)


def last_lifecycle(conn, agent):
    """The last start, stop or crash record of `agent` (kind, pid), or None."""
    row = conn.execute("SELECT kind, pid FROM audit WHERE agent = ? AND kind IN "
                       "('start', 'stop', 'crash') ORDER BY seq DESC LIMIT 1",
                       (agent,)).fetchone()
    return None if row is None else (row[0], row[1])


def log(kind, data=None, *, store=None, agent=None, principal=None, request_id=None):
    """Write a record of your own to the audit trail of `store` (default store;
    the caller's trace context is recorded with it)."""
    from . import store as _store
    from .tracecontext import current

    if not isinstance(kind, str) or not kind:
        raise vm.BadArg(f"an audit record's kind is a non-empty str, not {kind!r}")
    if data is not None and type(data) is not dict:
        raise vm.BadArg(f"an audit record's data is a dict, not {data!r}")
    rec = new_record(kind, data or {}, agent=agent, pid=vm.self(), trace=current(),
                     principal=principal, request_id=request_id)
    _store.write(_store.ensure(store), append, [rec])


# ----------------------------------------------------------------------
# verifying


def verify(path, *, key=None, expect_head=None) -> dict:
    """Check the chain of the trail in `path`.

    Returns `{"ok", "records", "head": [seq, hash] | None, "broken": None |
    {"seq", "problem"}}`: `broken` names the first record where the chain
    fails and why. `key` (default `$BEAMLET_AUDIT_KEY`) verifies a keyed
    trail; `expect_head` is a `(seq, hash)` kept elsewhere to compare with."""
    from .store import connect

    key = _key(key)
    conn = connect(path, readonly=True)
    try:
        return _verify(conn, key, expect_head)
    finally:
        conn.close()


def _verify(conn, key, expect_head):
    def fail(seq, problem, n):
        return {"ok": False, "records": n, "head": None,
                "broken": {"seq": seq, "problem": problem}}

    head_row = conn.execute("SELECT seq, hash, keyed FROM audit_head WHERE id = 1").fetchone()
    if head_row is not None and bool(head_row[2]) and not key:
        return fail(None, f"the trail is keyed (HMAC): set {KEY_ENV} to verify it", 0)
    if head_row is not None and not head_row[2] and key:
        return fail(None, "a key was given but the trail is not keyed: it was written without "
                          "one, or its head was rewritten", 0)
    expected, prev, n = 1, GENESIS, 0
    cur = conn.execute(f"SELECT {', '.join(COLUMNS)} FROM audit ORDER BY seq")
    for values in cur:
        row = dict(zip(COLUMNS, values, strict=True))
        seq = row["seq"]
        if seq != expected:
            return fail(expected, f"record {expected} is missing (the next one is {seq}): "
                                  "records were removed", n)
        if row["prev"] != prev:
            return fail(seq, f"its prev hash does not match record {seq - 1}'s hash: a record "
                             "before it was changed, removed or reordered", n)
        if record_hash(seq, row, prev, key) != row["hash"]:
            return fail(seq, "its hash does not match its contents: the record was changed, "
                             "or written with a forged hash", n)
        prev = row["hash"]
        expected += 1
        n += 1
    last = (n, prev) if n else None
    if head_row is None:
        if n:
            return fail(n, "the chain's head is missing: the head table was removed", n)
    elif (head_row[0], head_row[1]) != (n, prev):
        return fail(n + 1 if head_row[0] > n else head_row[0],
                    f"the trail ends at record {n} but its head says {head_row[0]}: records "
                    "were removed from the end, or added behind the writer's back", n)
    if expect_head is not None:
        anchor, anchor_hash = int(expect_head[0]), str(expect_head[1])
        if n < anchor:
            return fail(anchor, f"the trail has {n} records: record {anchor}, whose hash was "
                                "kept elsewhere, is gone", n)
        if _hash_at(conn, anchor) != anchor_hash:
            return fail(anchor, f"record {anchor} does not have the hash kept elsewhere: the "
                                "trail was rewritten", n)
    return {"ok": True, "records": n, "head": list(last) if last else None, "broken": None}


def _hash_at(conn, seq):
    row = conn.execute("SELECT hash FROM audit WHERE seq = ?", (seq,)).fetchone()
    return row[0] if row else None


# ----------------------------------------------------------------------
# reading


def parse_time(text):
    """Unix seconds from a number or an ISO 8601 time (UTC when no zone is given)."""
    if text is None:
        return None
    if isinstance(text, (int, float)):
        return float(text)
    try:
        return float(text)
    except ValueError:
        pass
    try:
        t = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise vm.BadArg(f"not a time: {text!r} (give Unix seconds or ISO 8601, e.g. "
                        "2026-01-31T12:00:00)") from None
    if t.tzinfo is None:
        t = t.replace(tzinfo=UTC)
    return t.timestamp()


def query(path, *, agent=None, trace_id=None, principal=None, kind=None, request_id=None,
          since=None, until=None, limit=None) -> list:
    """The records of the trail in `path` that match every filter given, by seq
    (each a dict, `data` decoded). `kind` may be a list; times as `parse_time`."""
    from .store import connect

    where, args = [], []
    for col, value in (("agent", agent), ("trace_id", trace_id), ("principal", principal),
                       ("request_id", request_id)):
        if value is not None:
            where.append(f"{col} = ?")
            args.append(str(value))
    if kind is not None:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        where.append(f"kind IN ({', '.join('?' * len(kinds))})")
        args.extend(kinds)
    if since is not None:
        where.append("ts >= ?")
        args.append(parse_time(since))
    if until is not None:
        where.append("ts <= ?")
        args.append(parse_time(until))
    sql = f"SELECT {', '.join(COLUMNS)} FROM audit"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY seq"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    conn = connect(path, readonly=True)
    try:
        out = []
        for values in conn.execute(sql, args):
            row = dict(zip(COLUMNS, values, strict=True))
            row["data"] = json.loads(row["data"])
            out.append(row)
        return out
    finally:
        conn.close()


def format_record(r, width=None) -> str:
    """One record as a line: seq, time, kind, agent, principal, trace, then its data."""
    t = datetime.fromtimestamp(r["ts"], UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"
    who = r["agent"] or "-"
    bits = [f"#{r['seq']}", t, f"{r['kind']:<12}", who]
    if r.get("principal"):
        bits.append(f"by {r['principal']}")
    if r.get("trace_id"):
        bits.append(f"trace {r['trace_id'][:8]}")
    data = r["data"] if isinstance(r["data"], dict) else json.loads(r["data"])
    bits.append(canonical(data))
    line = "  ".join(bits)
    if width and len(line) > width:
        line = line[:width - 3] + "..."
    return line
