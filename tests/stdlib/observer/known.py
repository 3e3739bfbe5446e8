"""Known snapshots, built by hand, for the view tests (no node needed)."""

from vm import Atom, Crash, Pid, Ref
from vm.lowlevel import snapshot

ProcessDetail, ProcessRow, ProcessTable, RegisteredRow = (
    snapshot.ProcessDetail, snapshot.ProcessRow, snapshot.ProcessTable, snapshot.RegisteredRow)
Sample, SystemInfo = snapshot.Sample, snapshot.SystemInfo

NODE = "nonode@nohost"


def P(i):
    return Pid(NODE, i, 0, 1)


def row(i, name=None, reds=100, delta=None, mq=0, mem=4400, status="waiting", label=None,
        ic=("kv", "init", 1), cf=("kv", "loop", 1)):
    return ProcessRow(pid=P(i), name=Atom(name) if name else None, label=label,
                      initial_call=ic, current_function=cf, status=status, reductions=reds,
                      reductions_delta=delta, message_queue_len=mq, memory=mem,
                      priority="normal")


def table(rows, count=None, window=None, sort="reductions"):
    return ProcessTable(node=NODE, time=10.0, count=count or len(rows),
                        matched=count or len(rows), sort=sort, rows=tuple(rows),
                        window=window, sample=None)


TABLE = table([
    row(42, name="kv", reds=12034, delta=340, mq=2, mem=14_600, cf=("kv", "loop", 1)),
    row(43, reds=900, delta=12, label="worker-1", ic=("jobs", "worker", 1),
        cf=("jobs", "worker", 1)),
    row(44, reds=15, delta=0, status="runnable", ic=("jobs", "hog", 0), cf=("jobs", "hog", 0)),
], count=1000, window=1.0, sort="reductions_delta")


DETAIL = ProcessDetail(
    pid=P(42), node=NODE, time=10.0, name=Atom("kv"), label=None, status="waiting",
    state="receiving", initial_call=("kv", "KV.init", 1),
    spawned_as=("stdlib.proc_lib", "_init_p", 4), parent=P(40), ancestors=[Atom("kv_sup")],
    current_function=("stdlib.gen_server", "_Server.loop", 1),
    stacktrace=[("stdlib.gen_server", "_Server.loop", 1, ("/x/gen_server.py", 420)),
                ("stdlib.proc_lib", "_init_p", 4, ("/x/proc_lib.py", 55))],
    reductions=12034, message_queue_len=25,
    messages=[("$gen_call", (P(50), Ref(NODE, 7, 1)), ("put", "k", "x" * 500))]
    + [("tick", k) for k in range(19)],
    memory=14_600, links=[P(40)], monitors=[(Atom("process"), P(41))], monitored_by=[P(50)],
    dictionary={"$ancestors": [Atom("kv_sup")], "secret": "s" * 300}, trap_exit=True,
    priority="normal", max_heap_size={"size": 0, "kill": True, "error_logger": True}, timers=1,
)


def system(t=10.0, reds=100_000, procs=1000, received=None):
    return SystemInfo(
        node=NODE, time=t, wall=t, clock="real", uptime=t, idle_time=t / 2, utilization=0.5,
        processes=procs, registered=4, run_queue={"max": 0, "high": 0, "normal": 3, "low": 1},
        reductions=reds, context_switches=int(reds / 10), timers=2, message_queue_total=7,
        memory_processes=4_400_000, memory_os=50_000_000, reductions_per_slice=4000,
        sample=Sample(NODE, 1, t, {}, received or {}),
    )


REGS = [RegisteredRow(Atom("kv"), P(42), ("kv", "KV.init", 1), 12034, 2),
        RegisteredRow(Atom("kv_sup"), P(40), ("stdlib.supervisor", "init", 1), 300, 0)]

TREE = {
    "pid": P(40), "id": None, "name": "kv_sup", "type": "supervisor", "strategy": "one_for_one",
    "links": [P(41), P(42), P(1)],
    "children": [
        {"pid": P(41), "id": "cache", "name": None, "type": "worker", "links": [P(40), P(42)],
         "children": []},
        {"pid": P(42), "id": "kv", "name": "kv", "type": "worker", "links": [P(40), P(41)],
         "children": []},
        {"pid": "restarting", "id": "flaky", "type": "worker", "children": []},
        {"pid": P(45), "id": "pool_sup", "name": None, "type": "supervisor", "links": [P(40)],
         "children": [{"pid": P(46), "id": 1, "name": None, "type": "worker",
                       "links": [P(45)], "children": []}]},
    ],
}

CRASH = Crash("ZeroDivisionError", "division by zero", "Traceback ...")
