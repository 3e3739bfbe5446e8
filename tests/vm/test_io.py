"""The dirty pool, socket waits, long-slice detection and timeslice preemption."""

import logging
import socket
import threading
import time

import pytest

import vm
from vm import net
from vm.testing import Recorder


def test_to_thread_returns_result_while_others_run():
    def main():
        me = vm.self()
        ticks = []

        def ticker():
            for _ in range(5):
                vm.sleep(0.005)
                ticks.append(1)
            vm.send(me, "ticked")

        vm.spawn(ticker)
        result = vm.to_thread(lambda: (time.sleep(0.1), 42)[1])
        return result, len(ticks)

    result, ticks = vm.run(main)
    assert result == 42 and ticks == 5  # the ticker ran during the blocking call


def test_to_thread_raises_the_jobs_exception():
    def main():
        with pytest.raises(ZeroDivisionError):
            vm.to_thread(lambda: 1 / 0)
        return True

    assert vm.run(main)


def test_kill_is_not_delayed_by_a_dirty_job():
    release = threading.Event()

    def main():
        pid, ref = vm.spawn_monitor(lambda: vm.to_thread(release.wait, 5))
        vm.sleep(0.01)
        t0 = time.monotonic()
        vm.exit(pid, "kill")
        reason = vm.receive(("DOWN", ref, vm.ANY, vm.ANY, vm.ANY))[4]
        return reason, time.monotonic() - t0

    reason, took = vm.run(main)
    release.set()
    assert reason == "killed" and took < 1.0


def test_to_thread_works_on_virtual_clock():
    assert vm.run(lambda: vm.to_thread(sum, [1, 2, 3]), clock="virtual") == 6


def test_wait_readable_times_out_and_wakes():
    a, b = socket.socketpair()

    def main():
        first = vm.wait_readable(a, timeout=0.02)
        vm.spawn(lambda: b.send(b"x"))
        second = vm.wait_readable(a, timeout=5)
        return first, second, a.recv(1)

    try:
        assert vm.run(main) == (False, True, b"x")
    finally:
        a.close()
        b.close()


def test_net_echo_in_one_node():
    def echo(fd):
        conn = net.adopt(fd)
        while data := net.recv(conn):
            net.sendall(conn, data)
        conn.close()

    def server(lfd):
        lsock = net.adopt(lfd)
        conn, _ = net.accept(lsock)
        vm.spawn(echo, net.handoff(conn))

    def main():
        lsock = net.listen(("127.0.0.1", 0))
        port = lsock.getsockname()[1]
        vm.spawn(server, net.handoff(lsock))
        c = net.connect(("127.0.0.1", port))
        net.sendall(c, b"ping" * 10000)
        got = b""
        while len(got) < 40000:
            got += net.recv(c)
        c.close()
        return len(got)

    assert vm.run(main) == 40000


def test_sockets_cannot_be_sent_but_can_be_handed_off():
    def main():
        s = socket.socket()
        try:
            with pytest.raises(vm.Unsendable, match="socket"):
                vm.send(vm.self(), s)
        finally:
            s.close()
        with pytest.raises(vm.BadArg):
            net.adopt("3")
        return True

    assert vm.run(main)


def test_long_slice_is_reported_with_pid_duration_and_place(caplog):
    caplog.set_level(logging.WARNING, logger="beamlet.scheduler")
    rec = Recorder(["long_slice"])

    def blocker():
        time.sleep(0.25)  # a blocking call that carries no reduction check

    def main():
        pid, ref = vm.spawn_monitor(blocker)
        vm.receive(("DOWN", ref, vm.ANY, vm.ANY, vm.ANY))
        return pid

    pid = vm.run(main, long_slice=0.05, instruments=[rec])
    events = rec.events("long_slice")
    assert len(events) == 1
    _, epid, seconds, where = events[0]
    assert epid == pid and seconds >= 0.2 and "blocker" in where
    assert any("long slice" in r.getMessage() for r in caplog.records)


def test_bad_node_options_for_guards():
    with pytest.raises(vm.BadArg, match="long_slice"):
        vm.run(lambda: 1, long_slice=-1)
    with pytest.raises(vm.BadArg, match="timeslice"):
        vm.run(lambda: 1, timeslice=0)


@pytest.mark.skipif(threading.current_thread() is not threading.main_thread(),
                    reason="signals need the main thread")
def test_timeslice_preempts_uninstrumented_code():
    src = "import time\ndef spin(deadline):\n    while time.monotonic() < deadline:\n        pass\n"
    ns = {}
    exec(compile(src, "<plain>", "exec"), ns)  # compiled without checks

    def main():
        me = vm.self()
        deadline = time.monotonic() + 0.3
        vm.spawn(lambda: (ns["spin"](deadline), vm.send(me, "spun")))
        turns = 0
        while vm.receive(timeout=0) is vm.TIMEOUT:
            turns += 1
            vm.sleep(0.001)
        return turns

    assert vm.run(main, timeslice=0.01, preempt=False, long_slice=None) >= 5
