"""Work in OS processes: vm.to_process and ports die with their owner."""

import os
import signal
import sys
import time

import pytest

import vm
from vm import net

# ----------------------------------------------------------------------
# functions a worker imports by name


def add(a, b):
    return a + b


def slow(seconds):
    time.sleep(seconds)
    return "slept"


def fails():
    raise ValueError("bad value 42")


def worker_pid():
    return os.getpid()


def spawn_grandchild_and_wait(path):
    """Start a long-lived child (it records its pid), then block."""
    import subprocess

    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    with open(path, "w") as f:
        f.write(str(child.pid))
    time.sleep(60)


def returns_a_lock():
    import threading

    return threading.Lock()


def _alive(pid) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is dead: it only waits to be reaped
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


# ----------------------------------------------------------------------
# to_process


def test_to_process_returns_results_and_reuses_workers():
    def main():
        first = vm.to_process(add, 2, 3)
        lists = vm.to_process(add, [1], b=[2])
        same_worker = vm.to_process(worker_pid) == vm.to_process(worker_pid)
        return first, lists, same_worker, vm.to_process(worker_pid) != os.getpid()

    assert vm.run(main) == (5, [1, 2], True, True)


def test_a_to_process_call_takes_no_virtual_time():
    def main():
        me = vm.self()
        vm.spawn(lambda: vm.send(me, ("done", vm.to_process(slow, 0.05))))
        t0 = vm.monotonic()
        got = vm.receive(timeout=30)
        return got, vm.monotonic() - t0

    got, took = vm.run(main, clock="virtual")
    assert got[0] == "done" and took < 1.0


def test_to_process_raises_the_workers_exception_with_its_traceback():
    def main():
        with pytest.raises(ValueError, match="bad value 42") as info:
            vm.to_process(fails)
        return info.value.__notes__[0]

    note = vm.run(main)
    assert "raised in a vm.to_process worker" in note and "fails" in note


def test_to_process_timeout_kills_the_worker_and_what_it_started(tmp_path):
    path = tmp_path / "grandchild"

    def main():
        t0 = time.monotonic()
        with pytest.raises(TimeoutError, match="killed"):
            vm.to_process(spawn_grandchild_and_wait, str(path), timeout=1.0)
        return time.monotonic() - t0, vm.statistics()["workers"]

    took, workers = vm.run(main)
    assert took < 5 and workers["running"] == 0 and workers["killed"] == 1
    grandchild = int(path.read_text())
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild), "the worker's own child outlived the timeout"


def test_killing_the_caller_kills_the_worker():
    def caller(parent):
        vm.send(parent, ("worker", vm.to_process(worker_pid)))
        vm.to_process(slow, 60)

    def main():
        pid, ref = vm.spawn_monitor(caller, vm.self())
        _, wpid = vm.receive(("worker", int))
        vm.sleep(0.2)
        vm.exit(pid, "kill")
        vm.receive(("DOWN", ref, vm.ANY, vm.ANY, vm.ANY))
        return wpid

    wpid = vm.run(main)
    deadline = time.monotonic() + 5
    while _alive(wpid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(wpid)


def test_to_process_refuses_what_a_worker_cannot_import_or_return():
    def main():
        with pytest.raises(vm.BadArg, match="lambda or a nested function"):
            vm.to_process(lambda: 1)

        def local():
            return 1

        with pytest.raises(vm.BadArg, match="nested function"):
            vm.to_process(local)
        with pytest.raises(vm.Unsendable):
            vm.to_process(add, object(), 1)
        with pytest.raises(Exception, match="cannot be sent back|not a term"):
            vm.to_process(returns_a_lock)
        return vm.to_process(add, 1, 1)  # the pool still works

    assert vm.run(main) == 2


def test_idle_workers_are_killed_when_the_node_stops():
    def main():
        return vm.to_process(worker_pid)

    wpid = vm.run(main)
    deadline = time.monotonic() + 5
    while _alive(wpid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(wpid)


# ----------------------------------------------------------------------
# ports


def test_a_port_sends_lines_and_its_exit_status():
    def main():
        port = vm.port(["sh", "-c", "echo hello; echo world; printf tail; exit 3"])
        return [vm.receive((port, vm.ANY), timeout=5)[1] for _ in range(4)]

    assert vm.run(main) == [("data", ("eol", b"hello")), ("data", ("eol", b"world")),
                            ("data", ("noeol", b"tail")), ("exit_status", 3)]


def test_a_port_in_stream_mode_echoes_commands_and_closes():
    def main():
        cat = vm.port(["cat"], mode="stream")
        vm.port_command(cat, b"ping\n")
        echoed = vm.receive((cat, vm.ANY), timeout=5)
        vm.port_close(cat)
        return echoed[1], vm.receive((cat, vm.ANY), timeout=5)[1]

    assert vm.run(main) == (("data", b"ping\n"), "closed")


def test_a_long_line_comes_in_parts():
    def main():
        port = vm.port(["sh", "-c", "printf 'abcdefghij\\n'"], line_max=4)
        return [vm.receive((port, vm.ANY), timeout=5)[1][1] for _ in range(4)]

    assert vm.run(main) == [("noeol", b"abcd"), ("noeol", b"efgh"), ("eol", b"ij"), 0]


def test_the_command_dies_with_its_owner_whatever_the_reason():
    def owner(parent, reason):
        port = vm.port(["sh", "-c", "echo $$; exec sleep 60"])
        _, (_, (_, line)) = vm.receive((port, vm.ANY))
        vm.send(parent, ("pid", int(line)))
        vm.receive("go")
        if reason == "normal":
            return
        raise RuntimeError(reason)

    def main():
        pids = []
        for reason in ("normal", "crash"):
            pid = vm.spawn(owner, vm.self(), reason)
            _, cmd = vm.receive(("pid", int), timeout=5)
            vm.send(pid, "go")
            pids.append(cmd)
        vm.sleep(1.0)  # the ports ask nicely, then kill after a grace period
        return pids

    for cmd in vm.run(main):
        deadline = time.monotonic() + 5
        while _alive(cmd) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(cmd)


def test_a_killed_port_kills_its_command_at_once():
    def main():
        vm.process_flag("trap_exit", True)
        port = vm.port(["sh", "-c", "echo $$; exec sleep 60"])
        _, (_, (_, line)) = vm.receive((port, vm.ANY), timeout=5)
        vm.exit(port, "kill")
        vm.receive(("EXIT", port, vm.ANY), timeout=5)
        return int(line)

    cmd = vm.run(main)
    deadline = time.monotonic() + 5
    while _alive(cmd) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(cmd)


def test_port_arguments_are_checked():
    def main():
        for bad, match in [("ls -l", "list"), ([], "list"), ([1], "str"),
                           (["cat"], "mode"), (["/no/such/program"], "cannot start")]:
            kwargs = {"mode": "lines"} if match == "mode" else {}
            with pytest.raises(vm.BadArg, match=match):
                vm.port(bad, **kwargs)
        with pytest.raises(vm.BadArg, match="port"):
            vm.port_command("not a port", b"x")
        return True

    assert vm.run(main)


def test_a_signal_exit_status_is_128_plus_the_signal():
    def main():
        port = vm.port(["sh", "-c", "kill -TERM $$"])
        return vm.receive((port, ("exit_status", int)), timeout=5)[1][1]

    assert vm.run(main) == 128 + signal.SIGTERM


# ----------------------------------------------------------------------
# net.active: the reader ends with its owner


def test_an_active_sockets_reader_ends_with_its_owner_and_the_peer_sees_eof():
    def owner(parent, port):
        conn = net.connect(("127.0.0.1", port))
        reader = net.active(conn)
        vm.send(parent, ("reader", reader))
        vm.receive("go")
        conn.close()  # then exit normally: the reader's duplicate must close too

    def main():
        lsock = net.listen(("127.0.0.1", 0))
        pid = vm.spawn(owner, vm.self(), lsock.getsockname()[1])
        peer, _ = net.accept(lsock, timeout=5)
        _, reader = vm.receive(("reader", vm.Pid), timeout=5)
        ref = vm.monitor(reader)
        vm.send(pid, "go")
        down = vm.receive(("DOWN", ref, vm.ANY, vm.ANY, vm.ANY), timeout=5)
        eof = net.recv(peer, 10, timeout=5)
        peer.close()
        lsock.close()
        return down is not vm.TIMEOUT, eof

    assert vm.run(main) == (True, b"")
