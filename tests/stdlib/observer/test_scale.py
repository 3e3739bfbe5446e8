"""100,000 idle processes leave the observer usable: the process table, a
filter, one process, i(), a top frame and the system view all complete and
show the right shape. (How long a refresh takes is a benchmark, not a test:
benchmarks/observer_refresh.py.)"""

import io

import pytest

import vm
from stdlib import observer
from stdlib.observer.top import run_top

N = 100_000


def idle():
    vm.receive()


def sleeper():
    vm.sleep(3600)


def spawner(n):
    pids = [vm.spawn(idle) for _ in range(n - 1)]
    vm.register("needle", pids[n // 2])
    busy = vm.spawn(sleeper)
    vm.send(busy, "one")  # a mailbox, for the msgq column
    vm.sleep(0.01)  # let them all start and park
    return pids[n // 2], busy


@pytest.fixture(scope="module")
def big_node():
    node = vm.Node().start()
    needle, busy = node.call(spawner, N, timeout=120)
    observer.use_node(node)
    yield node, needle, busy
    observer.use_node(None)
    node.stop(timeout=60)


def test_process_table_with_100k_processes(big_node):
    node, needle, busy = big_node
    first = observer.procs(20, "message_queue_len")
    assert N <= first.data["count"] <= N + 1  # N idle ones (and the spawner, while it exits)
    assert len(first.data["rows"]) == 20
    assert first.data["rows"][0]["pid"] == repr(busy)
    again = observer.procs(20)  # by reductions since the last look
    assert again.data["window"] is not None and len(again.data["rows"]) == 20
    found = observer.procs(20, match="needle")
    assert found.data["matched"] == 1 and found.data["rows"][0]["pid"] == repr(needle)
    waiting = observer.procs(5, "memory", status="waiting")
    assert waiting.data["matched"] >= N


def test_one_process_i_top_and_system_with_100k_processes(big_node):
    node, needle, busy = big_node
    assert observer.i(needle).data["name"] == "needle"
    listing = observer.i()
    assert len(listing.data["rows"]) == 100
    assert "more processes not shown" in listing.text
    out = io.StringIO()
    run_top(node, n=10, interval=0.25, frames=1, out=out)
    lines = out.getvalue().splitlines()
    assert f"procs {N:,}" in lines[0] or f"procs {N + 1:,}" in lines[0]
    assert len([x for x in lines if "<0." in x]) == 10
    info = observer.system(window=0.05)
    assert info.data["processes"] >= N and info.data["message_queue_total"] == 1
    assert node.call(lambda: "still answering", timeout=10) == "still answering"
