"""Durable state: an agent's conversation and state as a journal of deltas.

What this module owns: what a durable agent writes to its store as it
works, and how a restarted agent (restarted by its supervisor, or after the
whole program restarts) rebuilds itself from it. The agent's **key** names
its journal (the `durable` option's "key", else its registered name).

**Entries are deltas**, one small record per thing that happened, never
the whole conversation again:

    request     a request started: its id, prompt, principal, metadata (+ the user message)
    model       a model reply: the assistant message, the model's cursor, the books
    cursor      a failed model call moved the cursor
    turn        what the agent decided for a turn's tool calls (answered at once,
                queued, waiting for approval), and the loop check's counters
    started     a tool call was started (written before the call runs: see below)
    raw         a tool call's result, written by the tool's own process when it ends
    handled     the result after the agent's after_tool_result hook, and the books
    msgs        messages appended (the tool messages of a turn)
    state       the agent's state changed: fields set and deleted
    approval    an approval was asked for, or answered
    done        a request ended: its outcome (kept for a re-ask with the same id)
    reset       the conversation was forgotten

**Snapshots and compaction.** Every `snapshot_every` entries (default
200), at a moment no tool call is running, the agent writes a snapshot
and the store deletes the entries it covers and all but the newest
`keep_snapshots` snapshots (default 1), in the same transaction. A
snapshot holds the state, the books, recent outcomes and the open request;
the conversation's messages go to a table of their own, each message once
(a snapshot adds the ones since the last). So a store holds one copy of
the conversation plus the entries since the last snapshot, and writes
each message about twice (as an entry, then in the messages table): it
grows with the work, not with its square (BENCHMARKS.md measures 10,000
steps).

**Resume.** A restarted agent loads its latest snapshot and the entries
after it and stands where it stood: an open request goes on from its last
step, with no asker (a re-ask with the same `request_id` attaches to it,
or gets its outcome once done). A tool call whose result is in the journal
is **never run again**. A tool call that was started but has no result was
in flight when the agent died; its tool's `on_interrupted` (else the
agent's) decides: "report" (the default) answers the model "interrupted:
it may or may not have taken effect", "retry" runs it again (for
idempotent tools). A model call in flight is made again (it has no side
effects; the scripted model replays the same step).

**The guarantees, precisely.** Entries reach the disk in the store's group
commits (store.py): an agent killed (or crashing) loses nothing it had
sent. Before a tool call runs, its process waits until the store has
committed everything up to the call's `started` entry, so a call can only
run if the journal knows it started. A call's result is written from the
call's own process before the agent hears of it. If the whole machine
dies, what is lost is what the store had not committed: at worst a call
that ended but whose result was not yet committed is seen as in flight
(its tool's policy decides), and model replies not yet committed are
asked for again.

What it refuses: the file (store.py) and the loop (loop.py); it only
turns one into the other.
"""

from __future__ import annotations

import base64
import json
import time

import vm

from .options import count, switch

__all__ = ["DURABLE_OPTIONS", "Journal", "check_durable", "decode", "encode", "load", "replay"]

DURABLE_OPTIONS = ("key", "snapshot_every", "keep_snapshots", "keep_outcomes", "on_interrupted")
ON_INTERRUPTED = ("report", "retry")
INTERRUPTED = ("interrupted: this call was running when the agent stopped, so it may or may not "
               "have taken effect; check before trying it again")


def check_durable(value, name=None) -> dict | None:
    """The `durable` option as a dict (None: not durable)."""
    opts = switch("durable", value, DURABLE_OPTIONS)
    if opts is None:
        return None
    key = opts.get("key", name)
    if key is None:
        raise vm.BadArg("a durable agent needs a key naming its journal: durable={'key': "
                        "'support-1'}, or register the agent with a name")
    if not isinstance(key, str) or not key:
        raise vm.BadArg(f"durable['key'] must be a non-empty str, not {key!r}")
    out = {"key": key,
           "snapshot_every": count("durable['snapshot_every']", opts.get("snapshot_every", 200),
                                   minimum=1, allow_none=False),
           "keep_snapshots": count("durable['keep_snapshots']", opts.get("keep_snapshots", 1),
                                   minimum=1, allow_none=False),
           "keep_outcomes": count("durable['keep_outcomes']", opts.get("keep_outcomes", 100),
                                  minimum=0, allow_none=False),
           "on_interrupted": opts.get("on_interrupted", "report")}
    if out["on_interrupted"] not in ON_INTERRUPTED:
        raise vm.BadArg(f"durable['on_interrupted'] must be one of {ON_INTERRUPTED}")
    return out


# ----------------------------------------------------------------------
# terms as JSON (tuples stay tuples across a restart)


def _enc(x):
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    if isinstance(x, tuple):
        return {"$t": [_enc(v) for v in x]}
    if isinstance(x, list):
        return [_enc(v) for v in x]
    if isinstance(x, dict):
        if all(isinstance(k, str) and not k.startswith("$") for k in x):
            return {k: _enc(v) for k, v in x.items()}
        return {"$d": [[_enc(k), _enc(v)] for k, v in x.items()]}
    if isinstance(x, bytes):
        return {"$b": base64.b64encode(x).decode("ascii")}
    return {"$r": repr(x)}  # pids, refs: they do not outlive the node anyway


def _dec(x):
    if isinstance(x, list):
        return [_dec(v) for v in x]
    if isinstance(x, dict):
        if len(x) == 1:
            (k, v), = x.items()
            if k == "$t":
                return tuple(_dec(e) for e in v)
            if k == "$d":
                return {_dec(a): _dec(b) for a, b in v}
            if k == "$b":
                return base64.b64decode(v)
            if k == "$r":
                return v
        return {k: _dec(v) for k, v in x.items()}
    return x


def encode(term) -> str:
    return json.dumps(_enc(term), ensure_ascii=False, separators=(",", ":"))


def decode(text):
    return _dec(json.loads(text))


# ----------------------------------------------------------------------
# store write functions (run by the store process, in its transaction)


def _last_seq(conn, txn, key):
    last = txn.get(("journal", key))
    if last is None:
        row = conn.execute("SELECT MAX(seq) FROM journal WHERE agent = ?", (key,)).fetchone()
        snap = conn.execute("SELECT MAX(seq) FROM snapshots WHERE agent = ?", (key,)).fetchone()
        last = max(row[0] or 0, snap[0] or 0)
    return last


def append_entries(conn, txn, key, entries):
    """Append `[(kind, body_text, ts)]` to `key`'s journal."""
    seq = _last_seq(conn, txn, key)
    rows = []
    for kind, body, ts in entries:
        seq += 1
        rows.append((key, seq, ts, kind, body))
    conn.executemany("INSERT INTO journal (agent, seq, ts, kind, body) VALUES (?, ?, ?, ?, ?)",
                     rows)
    txn[("journal", key)] = seq


def write_snapshot(conn, txn, key, body, keep, first, messages, rewrite):
    """Snapshot `key` at its last entry: the conversation's new messages (from index
    `first`; all of them again after a reset, `rewrite`) into the messages table,
    the rest of its state as the snapshot; drop what the kept snapshots cover."""
    if rewrite:
        conn.execute("DELETE FROM messages WHERE agent = ?", (key,))
    conn.executemany("INSERT OR REPLACE INTO messages (agent, idx, body) VALUES (?, ?, ?)",
                     [(key, first + k, m) for k, m in enumerate(messages)])
    seq = _last_seq(conn, txn, key)
    conn.execute("INSERT OR REPLACE INTO snapshots (agent, seq, ts, body) VALUES (?, ?, ?, ?)",
                 (key, seq, time.time(), body))
    kept = [r[0] for r in conn.execute(
        "SELECT seq FROM snapshots WHERE agent = ? ORDER BY seq DESC LIMIT ?", (key, keep))]
    oldest = min(kept)
    conn.execute("DELETE FROM snapshots WHERE agent = ? AND seq < ?", (key, oldest))
    conn.execute("DELETE FROM journal WHERE agent = ? AND seq <= ?", (key, oldest))
    conn.execute("PRAGMA incremental_vacuum")
    txn[("journal", key)] = seq


def forget_key(conn, txn, key):
    for table in ("journal", "snapshots", "messages"):
        conn.execute(f"DELETE FROM {table} WHERE agent = ?", (key,))
    txn.pop(("journal", key), None)


def load_rows(conn, key):
    """(latest snapshot body or None, the conversation's messages, [(seq, kind, body)]
    of the entries after the snapshot)."""
    snap = conn.execute("SELECT seq, body FROM snapshots WHERE agent = ? ORDER BY seq DESC "
                        "LIMIT 1", (key,)).fetchone()
    since = snap[0] if snap else 0
    messages = [r[0] for r in conn.execute(
        "SELECT body FROM messages WHERE agent = ? ORDER BY idx", (key,))]
    rows = conn.execute("SELECT seq, kind, body FROM journal WHERE agent = ? AND seq > ? "
                        "ORDER BY seq", (key, since)).fetchall()
    return (snap[1] if snap else None), messages, rows


def load(store_pid, key):
    """(the durable view of `key` (see `replay`), how many of its messages are in the
    messages table), or (None, 0) when it has no journal."""
    from . import store

    snap, messages, rows = store.read(store_pid, load_rows, key)
    if snap is None and not rows:
        return None, 0
    view = None
    saved = 0
    if snap is not None:
        view = decode(snap)
        saved = view.pop("messages_count")
        view["messages"] = [decode(m) for m in messages[:saved]]
    return replay(view, [(kind, decode(body)) for _seq, kind, body in rows]), saved


def forget(key, store=None):
    """Delete the journal and snapshots of `key` (retention by hand)."""
    from . import store as _store

    _store.run(_store.ensure(store), forget_key, key)


# ----------------------------------------------------------------------
# replay (pure): snapshot + entries -> the durable view


def empty_view() -> dict:
    return {"messages": [], "state": {}, "cursor": 0, "usage": None, "requests": 0,
            "outcomes": [], "last_request": None, "open": None}


def replay(snapshot, entries) -> dict:
    """Fold journal entries `[(kind, body)]` over a snapshot (or nothing)."""
    view = snapshot if snapshot is not None else empty_view()
    for kind, body in entries:
        _apply(view, kind, body)
    return view


def _apply(view, kind, b):
    req = view["open"]
    if kind == "request":
        view["messages"].append({"role": "user", "content": b["prompt"]})
        view["requests"] += 1
        view["open"] = {"id": b["id"], "prompt": b["prompt"], "principal": b["principal"],
                        "metadata": b["metadata"], "timeout": b["timeout"],
                        "limits": b["limits"], "trace": b["trace"], "step": 0,
                        "usage": None, "calls": [], "names": {}, "results": {}, "queued": [],
                        "started": [], "raw": {}, "awaiting": {}, "last_key": None,
                        "repeats": 0, "phase": "think"}
    elif kind == "model":
        view["messages"].append(b["message"])
        view["cursor"] = b["cursor"]
        view["usage"] = b["usage"]
        if req is not None:
            req["step"] = b["step"]
            req["usage"] = b["req_usage"]
            calls = b["message"].get("tool_calls") or []
            req["calls"] = [c["id"] for c in calls]
            req["names"] = {c["id"]: c["name"] for c in calls}
            req["results"], req["queued"], req["started"] = {}, [], []
            req["raw"], req["awaiting"] = {}, {}
            req["phase"] = "act" if calls else "end"
            req["turn"] = [{"id": c["id"], "name": c["name"], "arguments": c.get("arguments")}
                           for c in b.get("calls") or ()]
    elif kind == "cursor":
        view["cursor"] = b["cursor"]
        if b.get("usage") is not None:
            view["usage"] = b["usage"]
        if req is not None and b.get("req_usage") is not None:
            req["usage"] = b["req_usage"]
    elif kind == "turn" and req is not None:
        req["results"].update(b["results"])
        req["queued"] = b["queued"]
        req["awaiting"] = b["awaiting"]
        req["last_key"], req["repeats"] = b["last_key"], b["repeats"]
        req["phase"] = "tools"
    elif kind == "started" and req is not None:
        req["started"].append(b["call_id"])
    elif kind == "raw" and req is not None:
        req["raw"][b["call_id"]] = b["result"]
    elif kind == "handled" and req is not None:
        req["results"][b["call_id"]] = b["result"]
        if b["call_id"] in req["queued"]:
            req["queued"].remove(b["call_id"])
        view["usage"] = b["usage"]
        req["usage"] = b["req_usage"]
    elif kind == "approval" and req is not None:
        if b["event"] == "requested":
            req["awaiting"][b["id"]] = b["call_id"]
        else:
            req["awaiting"].pop(b["id"], None)
            if b["event"] == "approved":
                req["queued"].append(b["call_id"])
    elif kind == "msgs":
        view["messages"].extend(b["messages"])
        if req is not None:
            req["phase"] = "think"
    elif kind == "state":
        view["state"].update(b["set"])
        for k in b["del"]:
            view["state"].pop(k, None)
    elif kind == "done":
        view["messages"].extend(b.get("messages") or [])
        view["usage"] = b["usage"]
        view["last_request"] = b["last_request"]
        view["outcomes"].append([b["id"], b["outcome"]])
        if len(view["outcomes"]) > b["keep"]:
            del view["outcomes"][:len(view["outcomes"]) - b["keep"]]
        view["open"] = None
    elif kind == "reset":
        view["messages"] = []
        view["cursor"] = 0


# ----------------------------------------------------------------------
# the agent's side


class Journal:
    """What a durable agent holds: where its journal is, the entries of the event
    it is handling, and when to snapshot.

    Entries are buffered while the agent handles an event and sent to the store
    as *one* write when the event is done (and before a tool call starts, whose
    process waits for its `started` entry), so the store commits an event's
    entries together: an agent killed in the middle of an event leaves none of
    them, and on resume handles that event again."""

    __slots__ = ("store", "key", "opts", "since", "pending", "saved", "rewrite")

    def __init__(self, store_pid, opts):
        self.store = store_pid
        self.key = opts["key"]
        self.opts = opts
        self.since = 0  # entries since the last snapshot
        self.pending = []
        self.saved = 0  # messages of the conversation already in the messages table
        self.rewrite = False  # the conversation was reset since the last snapshot

    def add(self, kind, body) -> None:
        self.pending.append((kind, encode(body), time.time()))
        self.since += 1
        if kind == "reset":
            self.saved, self.rewrite = 0, True

    def flush(self) -> None:
        """Send the entries of the event so far, as one write."""
        if self.pending:
            from . import store

            store.write(self.store, append_entries, self.key, self.pending)
            self.pending = []

    def due(self) -> bool:
        return self.since >= self.opts["snapshot_every"]

    def snapshot(self, view) -> None:
        """Write a snapshot: only the messages added since the last one, and the rest
        of the view (small: state, books, the open request), so snapshots cost what
        changed, not the whole conversation again."""
        from . import store

        self.flush()
        messages = view["messages"]
        small = {k: v for k, v in view.items() if k != "messages"}
        small["messages_count"] = len(messages)
        new = [encode(m) for m in messages[self.saved:]]
        store.write(self.store, write_snapshot, self.key, encode(small),
                    self.opts["keep_snapshots"], self.saved, new, self.rewrite)
        self.saved, self.rewrite, self.since = len(messages), False, 0

    def context(self):
        """What a tool call's process needs to write its result: (store pid, key)."""
        return (self.store, self.key)


def write_raw(journal_ctx, call_id, result) -> None:
    """From a tool call's process: its result, before the agent hears of it."""
    from . import store

    pid, key = journal_ctx
    store.write(pid, append_entries, key, [("raw", encode({"call_id": call_id,
                                                           "result": result}), time.time())])
