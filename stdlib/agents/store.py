"""The store: one SQLite file for audit trails, journals and approvals, one writer.

What this module owns: the file and the process that writes it. A store
is a path (default `$BEAMLET_STORE`, else `beamlet.db` in the current
directory; ":memory:" for one that dies with the node) opened with the
standard library's `sqlite3` in WAL mode. On a node, one **store process**
per path (registered as `beamlet.store:<absolute path>`) owns the
connection, and everything written to the file goes through it, in the
order it was sent:

    agents.store.start("support.db")            # or let the first agent that needs it
    agents.store.child_spec("support.db")       #   start it; or supervise it
    agents.store.sync("support.db")             # everything sent so far is on disk
    agents.store.close("support.db")            # sync, then stop the process

**Writes are messages**, so an agent never waits for the disk: a write is
`(fn, args)`, a module-level function the store runs as `fn(conn, txn, *args)`
inside a transaction (audit.py, journal.py and desk.py provide them).
**Group commit**: each time the store's mailbox runs empty (or every
`batch` writes), it commits everything it has in *one* transaction, so a
busy node makes few commits. A write that fails is retried alone and,
failing again, dropped with an error log; it does not take the batch with
it. By default the commit runs in the store process itself: in WAL mode
with `synchronous="normal"` a commit is a write to the WAL file and no
`fsync`, tens of microseconds. With `threaded=True` commits run on the
node's dirty pool (`vm.to_thread`), so no process of the node pauses even
for an `fsync` (the choice with `synchronous="full"`); under the virtual
clock of `vm.testing` a thread's work takes no virtual time, as the
in-process commit does.

**Several writers on one file** (two nodes, two programs): every
transaction starts with `BEGIN IMMEDIATE`, which SQLite serialises across
OS processes, and the writers' functions read what they build on (the
audit chain's head, a journal's last sequence number) inside it. So
batches interleave whole and nothing is lost.

**What survives what.** A write is durable once its batch commits
(`sync()` waits for that). A commit is atomic: whatever kills the program
or the machine mid-commit, the file afterwards holds the batch entirely or
not at all, so the audit chain still verifies. With `synchronous="normal"`
(the default) a committed batch survives the program crashing (`kill -9`
included) but the batches committed since the last checkpoint may be
lost if the *machine* loses power; with `synchronous="full"` every commit
is `fsync`ed and survives that too. What is lost when the store process
or its program dies is what it had not committed: writes still in its
mailbox or its open batch (at most `batch` writes; usually the few sent
since the last commit), and whatever the program ends without `sync()` or
`close()` (when `main` returns the node kills what still runs; under a
supervisor, a shutdown commits the pending batch).

What it refuses: the meaning of what is written (audit.py, journal.py,
desk.py) and reading for people (the CLI, audit.py).
"""

from __future__ import annotations

import logging
import os
import sqlite3

import vm

from .. import gen_server
from .options import count

__all__ = ["DEFAULT", "child_spec", "close", "connect", "default_path", "ensure", "read",
           "resolve", "run", "running", "start", "start_link", "sync", "write"]

DEFAULT = "beamlet.db"
PREFIX = "beamlet.store:"
DEFAULT_BATCH = 1000
SCHEMA_VERSION = 1
_SYNC = ("full", "normal", "off")
_log = logging.getLogger("beamlet.agents")

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS audit (
        seq INTEGER PRIMARY KEY, ts REAL NOT NULL, kind TEXT NOT NULL, agent TEXT,
        pid TEXT, trace_id TEXT, span_id TEXT, principal TEXT, request_id TEXT,
        data TEXT NOT NULL, prev TEXT NOT NULL, hash TEXT NOT NULL)""",
    "CREATE INDEX IF NOT EXISTS audit_agent ON audit(agent, seq)",
    "CREATE INDEX IF NOT EXISTS audit_trace ON audit(trace_id)",
    "CREATE INDEX IF NOT EXISTS audit_principal ON audit(principal)",
    """CREATE TABLE IF NOT EXISTS audit_head (
        id INTEGER PRIMARY KEY CHECK (id = 1), seq INTEGER NOT NULL, hash TEXT NOT NULL,
        keyed INTEGER NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS journal (
        agent TEXT NOT NULL, seq INTEGER NOT NULL, ts REAL NOT NULL, kind TEXT NOT NULL,
        body TEXT NOT NULL, PRIMARY KEY (agent, seq)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS messages (
        agent TEXT NOT NULL, idx INTEGER NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (agent, idx)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS snapshots (
        agent TEXT NOT NULL, seq INTEGER NOT NULL, ts REAL NOT NULL, body TEXT NOT NULL,
        PRIMARY KEY (agent, seq)) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS approvals (
        id TEXT PRIMARY KEY, agent TEXT, pid TEXT, node TEXT, request_id TEXT,
        call_id TEXT, tool TEXT, arguments TEXT, why TEXT, principal TEXT,
        trace_id TEXT, created REAL NOT NULL, status TEXT NOT NULL, answered_by TEXT,
        answer TEXT, answered REAL)""",
    "CREATE INDEX IF NOT EXISTS approvals_status ON approvals(status)",
)


def default_path() -> str:
    """`$BEAMLET_STORE`, else `beamlet.db` (in the current directory)."""
    return os.environ.get("BEAMLET_STORE") or DEFAULT


def resolve(path=None) -> str:
    """The absolute path of a store (":memory:" stays as it is)."""
    if path is None or path is True:
        path = default_path()
    if not isinstance(path, (str, os.PathLike)):
        raise vm.BadArg(f"a store is a file path (or ':memory:'), not {path!r}")
    path = os.fspath(path)
    return path if path == ":memory:" else os.path.abspath(path)


def connect(path, *, readonly=False, synchronous="normal") -> sqlite3.Connection:
    """An open connection to the store at `path` (the schema created unless
    `readonly`); autocommit mode: transactions are explicit."""
    if synchronous not in _SYNC:
        raise vm.BadArg(f"synchronous must be one of {_SYNC}, not {synchronous!r}")
    if readonly:
        if not os.path.exists(path):
            raise FileNotFoundError(f"no store at {path}")
        from urllib.parse import quote

        conn = sqlite3.connect(f"file:{quote(path)}?mode=ro", uri=True, timeout=30,
                               isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA busy_timeout = 30000")
        return conn
    conn = sqlite3.connect(path, timeout=30, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA auto_vacuum = INCREMENTAL")  # takes effect on a new file only
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute(f"PRAGMA synchronous = {synchronous.upper()}")
    conn.execute("BEGIN IMMEDIATE")
    try:
        for statement in SCHEMA:
            conn.execute(statement)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        elif version > SCHEMA_VERSION:
            raise vm.BadArg(f"{path} was written by a newer beamlet (store version {version})")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        conn.close()
        raise
    return conn


# ----------------------------------------------------------------------
# the store process


class Store(gen_server.GenServer):
    def init(self, arg):
        path, synchronous, batch, threaded = arg
        vm.process_flag("trap_exit", True)  # a supervisor's shutdown commits what is pending
        vm.process_flag("label", f"store {os.path.basename(path)}")
        self.conn = connect(path, synchronous=synchronous)  # an object: never in the state
        return ("ok", {"path": path, "pending": [], "batch": batch, "commits": 0,
                       "written": 0, "dropped": 0, "threaded": threaded})

    def _db(self, s, fn, *args):
        """Run a database function: on the dirty pool when threaded, else here."""
        if s["threaded"]:
            return vm.to_thread(fn, self.conn, *args)
        return fn(self.conn, *args)

    def handle_info(self, msg, s):
        if type(msg) is tuple and len(msg) == 3 and msg[0] == "$store_write":
            s["pending"].append((msg[1], msg[2]))
            if len(s["pending"]) >= s["batch"] or not _queued():
                self._commit(s)
        elif type(msg) is tuple and msg[0] == "EXIT":
            return ("stop", msg[2], s)
        return ("noreply", s)

    def handle_call(self, request, from_, s):
        self._commit(s)
        tag = request[0] if type(request) is tuple else request
        if tag == "sync":
            return ("reply", {"written": s["written"], "commits": s["commits"],
                              "dropped": s["dropped"]}, s)
        if tag in ("run", "read"):
            _, fn, args = request
            job = _transaction if tag == "run" else _read
            try:
                return ("reply", ("ok", self._db(s, job, fn, args)), s)
            except Exception as e:  # noqa: BLE001 - the caller gets the failure, the store lives
                return ("reply", ("error", f"{type(e).__name__}: {e}"), s)
        return ("reply", ("error", f"unknown store request {request!r}"), s)

    def _commit(self, s):
        ops = s["pending"]
        if not ops:
            return
        s["pending"] = []
        try:
            self._db(s, _commit_all, ops)
        except Exception as e:  # noqa: BLE001 - one bad write must not lose the others
            _log.error("store %s: a batch of %d writes failed (%s); retrying them one by one",
                       s["path"], len(ops), e)
            for op in ops:
                try:
                    self._db(s, _commit_all, [op])
                except Exception as e1:  # noqa: BLE001
                    s["dropped"] += 1
                    _log.error("store %s: write %s dropped: %s", s["path"],
                               getattr(op[0], "__qualname__", op[0]), e1)
                else:
                    s["written"] += 1
            s["commits"] += 1
            return
        s["written"] += len(ops)
        s["commits"] += 1

    def terminate(self, reason, s):
        conn, self.conn = getattr(self, "conn", None), None
        if conn is None:
            return
        if s["pending"]:
            try:  # in this process: a dying process may still run plain Python
                _commit_all(conn, s["pending"])
            except Exception as e:  # noqa: BLE001
                _log.error("store %s: %d writes lost at shutdown: %s", s["path"],
                           len(s["pending"]), e)
            s["pending"] = []
        conn.close()

    def format_status(self, status):
        data = status.get("data")
        if type(data) is dict and "pending" in data:
            status = dict(status, data=dict(data, pending=len(data["pending"])))
        return status


def _queued() -> int:
    return vm.process_info(vm.self(), "message_queue_len")


def _commit_all(conn, ops):
    conn.execute("BEGIN IMMEDIATE")
    try:
        txn: dict = {}
        for fn, args in ops:
            fn(conn, txn, *args)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise


def _transaction(conn, fn, args):
    conn.execute("BEGIN IMMEDIATE")
    try:
        result = fn(conn, {}, *args)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return result


def _read(conn, fn, args):
    return fn(conn, *args)


# ----------------------------------------------------------------------
# the API


def _arg(path, synchronous, batch, threaded):
    if synchronous not in _SYNC:
        raise vm.BadArg(f"store: synchronous must be one of {_SYNC}, not {synchronous!r}")
    count("store batch", batch, minimum=1, allow_none=False)
    if not isinstance(threaded, bool):
        raise vm.BadArg(f"store: threaded must be True or False, not {threaded!r}")
    return (resolve(path), synchronous, batch, threaded)


def start(path=None, *, synchronous="normal", batch=DEFAULT_BATCH, threaded=False):
    """Start the store process for `path` (not linked); returns its pid. If one
    already runs for that path on this node, returns that one."""
    return _start(gen_server.start, _arg(path, synchronous, batch, threaded))


def start_link(path=None, *, synchronous="normal", batch=DEFAULT_BATCH, threaded=False):
    """As `start`, linked to the caller (an error if one already runs)."""
    arg = _arg(path, synchronous, batch, threaded)
    res = gen_server.start_link(Store, arg, name=PREFIX + arg[0])
    if res[0] != "ok":
        raise vm.BadArg(f"store {arg[0]} did not start: {res[1]!r}")
    return res[1]


def child_spec(path=None, *, synchronous="normal", batch=DEFAULT_BATCH, threaded=False,
               id=None) -> dict:  # noqa: A002
    """A child spec for the store process of `path`, to start before its agents."""
    arg = _arg(path, synchronous, batch, threaded)
    return {"id": id if id is not None else ("store", arg[0]),
            "start": (_start_child, (arg,)), "shutdown": 30.0}


def _start_child(arg):
    return gen_server.start_link(Store, arg, name=PREFIX + arg[0])


def _start(starter, arg):
    return started(starter(Store, arg, name=PREFIX + arg[0]), f"store {arg[0]}")


def started(res, what):
    """The pid of a named process a start made, or found already running."""
    if res[0] == "ok":
        return res[1]
    if type(res[1]) is tuple and res[1][0] == "already_started":
        return res[1][1]
    raise vm.BadArg(f"{what} did not start: {res[1]!r}")


def ensure(path=None):
    """The pid of the store process for `path`, started (not linked) if none runs."""
    resolved = resolve(path)
    pid = vm.whereis(PREFIX + resolved)
    if pid is not None:
        return pid
    return _start(gen_server.start, (resolved, "normal", DEFAULT_BATCH, False))


def write(store, fn, *args) -> None:
    """Queue `fn(conn, txn, *args)` for the store's next commit (never waits).
    `store`: its pid or registered name (BadArg when no process has that name)."""
    vm.send(store, ("$store_write", fn, args))


def sync(path=None, timeout=60.0) -> dict:
    """Wait until everything sent to the store before this call is committed;
    returns its counts ({"written", "commits", "dropped"})."""
    return gen_server.call(_pid(path), ("sync",), timeout)


def run(path, fn, *args, timeout=60.0):
    """Run `fn(conn, txn, *args)` in a transaction of its own, after every write
    sent before it; returns its result."""
    return _answer(gen_server.call(_pid(path), ("run", fn, args), timeout))


def read(path, fn, *args, timeout=60.0):
    """Run `fn(conn, *args)` (reads only) after every write sent before it."""
    return _answer(gen_server.call(_pid(path), ("read", fn, args), timeout))


def _answer(answer):
    if answer[0] == "ok":
        return answer[1]
    raise vm.BadArg(f"store: {answer[1]}")


def _pid(path):
    """A store's pid from its pid, its registered name or its path."""
    if isinstance(path, vm.Pid):
        return path
    if isinstance(path, str) and path.startswith(PREFIX):
        path = path[len(PREFIX):]
    return ensure(path)


def close(path=None, timeout=60.0) -> bool:
    """Commit what is pending and stop the store process; False if none ran."""
    pid = vm.whereis(PREFIX + resolve(path))
    if pid is None:
        return False
    try:
        gen_server.call(pid, ("sync",), timeout)
        gen_server.stop(pid)
    except vm.Exit:
        return False
    return True


def running(prefix=PREFIX) -> dict:
    """The store processes of this node: {absolute path: pid} (or the processes
    registered under another per-store `prefix`)."""
    out = {}
    for name in vm.registered():
        if isinstance(name, str) and name.startswith(prefix):
            pid = vm.whereis(name)
            if pid is not None:
                out[name[len(prefix):]] = pid
    return out

