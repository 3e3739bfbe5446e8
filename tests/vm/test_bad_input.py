"""Every public function, given wrong arguments, raises the documented error."""

import math

import pytest

import vm
import vm.lowlevel
import vm.testing
from vm.testing import run

REF = object()  # replaced by a real Ref inside the node

CASES = [
    # (call, exception, text the message must contain)
    (lambda: vm.spawn("not callable"), vm.BadArg, "callable"),
    (lambda: vm.spawn_link(None), vm.BadArg, "callable"),
    (lambda: vm.spawn_monitor(3), vm.BadArg, "callable"),
    (lambda: vm.spawn_opt(print, args=5), vm.BadArg, "args"),
    (lambda: vm.spawn_opt(print, kwargs=[1]), vm.BadArg, "kwargs"),
    (lambda: vm.spawn_opt(print, priority="urgent"), vm.BadArg, "priority"),
    (lambda: vm.spawn_opt(print, link="yes"), vm.BadArg, "link"),
    (lambda: vm.spawn_opt(print, max_heap_size=-1), vm.BadArg, "max_heap_size"),
    (lambda: vm.spawn(print, object()), vm.Unsendable, "object"),
    (lambda: vm.send(42, "x"), vm.BadArg, "destination"),
    (lambda: vm.send("nobody", "x"), vm.BadArg, "registered"),
    (lambda: vm.send(vm.self(), {1, object()}), vm.Unsendable, "object"),
    (lambda: vm.receive(timeout="soon"), vm.BadArg, "timeout"),
    (lambda: vm.link("pid"), vm.BadArg, "Pid"),
    (lambda: vm.unlink(None), vm.BadArg, "Pid"),
    (lambda: vm.monitor(3.5), vm.BadArg, "target"),
    (lambda: vm.monitor(vm.self(), alias="sometimes"), vm.BadArg, "alias"),
    (lambda: vm.demonitor("ref"), vm.BadArg, "Ref"),
    (lambda: vm.exit(), vm.BadArg, "reason"),
    (lambda: vm.exit(1, 2, 3), vm.BadArg, "reason"),
    (lambda: vm.exit("pid", "boom"), vm.BadArg, "Pid"),
    (lambda: vm.exit(object()), vm.Unsendable, "object"),
    (lambda: vm.process_flag("colour", 1), vm.BadArg, "unknown flag"),
    (lambda: vm.process_flag("trap_exit", "yes"), vm.BadArg, "True or False"),
    (lambda: vm.process_flag("max_heap_size", {"sise": 1}), vm.BadArg, "unknown max_heap_size"),
    (lambda: vm.process_info("pid"), vm.BadArg, "Pid"),
    (lambda: vm.process_info(vm.self(), "colour"), vm.BadArg, "unknown item"),
    (lambda: vm.process_info(vm.self(), ["status", "colour"]), vm.BadArg, "unknown item"),
    (lambda: vm.is_process_alive(1), vm.BadArg, "Pid"),
    (lambda: vm.register(1, vm.self()), vm.BadArg, "str"),
    (lambda: vm.register("undefined", vm.self()), vm.BadArg, "undefined"),
    (lambda: vm.unregister("ghost"), vm.BadArg, "registered"),
    (lambda: vm.whereis(5), vm.BadArg, "str"),
    (lambda: vm.send_after(None, vm.self(), "x"), vm.BadArg, "infinity"),
    (lambda: vm.send_after(-1, vm.self(), "x"), vm.BadArg, ">= 0"),
    (lambda: vm.send_after(1, 42, "x"), vm.BadArg, "destination"),
    (lambda: vm.start_timer("1", vm.self(), "x"), vm.BadArg, "seconds"),
    (lambda: vm.cancel_timer(1), vm.BadArg, "Ref"),
    (lambda: vm.read_timer(1), vm.BadArg, "Ref"),
    (lambda: vm.sleep(-0.5), vm.BadArg, ">= 0"),
    (lambda: vm.sleep(None), vm.BadArg, "infinity"),
    (lambda: vm.bump_reductions(-1), vm.BadArg, "int"),
    (lambda: vm.bump_reductions(1 << 59), vm.BadArg, "2**59 - 1"),  # OTP: badarg
    (lambda: vm.bump_reductions(10**40), vm.BadArg, "2**59 - 1"),
    (lambda: vm.hibernate(7), vm.BadArg, "callable"),
    (lambda: vm.alias("forever"), vm.BadArg, "mode"),
    (lambda: vm.unalias("x"), vm.BadArg, "Ref"),
    (lambda: vm.to_thread(5), vm.BadArg, "callable"),
    (lambda: vm.wait_readable(0, timeout=-1), vm.BadArg, "timeout"),
    (lambda: vm.add_instrument(object()), vm.BadArg, "Instrument"),
    # inputs that used to take the node down instead of being refused
    (lambda: vm.receive(timeout=float("nan")), vm.BadArg, "timeout"),
    (lambda: vm.receive(timeout=10**400), vm.BadArg, "too large"),
    (lambda: vm.sleep(10**400), vm.BadArg, "too large"),
    (lambda: vm.send_after(10**400, vm.self(), "x"), vm.BadArg, "too large"),
    (lambda: vm.wait_readable(0, timeout=float("nan")), vm.BadArg, "timeout"),
    (lambda: vm.wait_readable(None), vm.BadArg, "socket"),
    (lambda: vm.wait_writable("fd"), vm.BadArg, "socket"),
    (lambda: vm.wait_readable(-3), vm.BadArg, "socket"),
    (lambda: vm.send(("via", object(), "name"), "x"), vm.BadArg, "destination"),
    (lambda: vm.link(_deep()), vm.BadArg, "Pid"),
    (lambda: vm.register(_deep(), vm.self()), vm.BadArg, "name"),
    (lambda: vm.monitor(_deep()), vm.BadArg, "target"),
    (lambda: vm.send(vm.self(), _deep()), vm.Unsendable, "nested"),
    (lambda: vm.cancel_timer(vm.make_ref(), async_="yes"), vm.BadArg, "async_"),
]


def _deep(depth=100_000):
    """A tuple nested far deeper than the recursion limit."""
    t = ()
    for _ in range(depth):
        t = (t,)
    return t


class _BadRepr:
    def __repr__(self):
        raise RuntimeError("my repr is broken")


def test_an_argument_whose_repr_fails_still_gives_a_clear_error():
    def main():
        with pytest.raises(vm.BadArg, match="Pid") as info:
            vm.link(_BadRepr())
        return str(info.value)

    assert "_BadRepr" in run(main)


def test_gen_server_call_refuses_a_nan_timeout():
    from stdlib import gen_server

    class Echo(gen_server.GenServer):
        def init(self, arg):
            return ("ok", None)

        def handle_call(self, request, from_, state):
            return ("reply", request, state)

    def main():
        _, pid = gen_server.start_link(Echo)
        with pytest.raises(vm.BadArg, match="timeout"):
            gen_server.call(pid, "hi", timeout=float("nan"))
        with pytest.raises(vm.BadArg, match="timeout"):
            gen_server.call(pid, "hi", timeout=-1.0)
        with pytest.raises(vm.BadArg, match="too large"):
            gen_server.call(pid, "hi", timeout=10**400)
        return gen_server.call(pid, "hi", timeout=math.inf)

    assert run(main) == "hi"


def test_a_failed_spawn_opt_leaves_no_trace():
    def main():
        node = vm.testing.runtime()
        before = (node.n_low, node.n_heap_limits, len(node.procs), node.special)
        with pytest.raises(vm.BadArg, match="max_heap_size"):
            vm.spawn_opt(print, priority="low", max_heap_size=-5)
        with pytest.raises(vm.BadArg, match="priority"):
            vm.spawn_opt(print, priority="urgent", max_heap_size=1000)
        return before[:3], (node.n_low, node.n_heap_limits, len(node.procs))

    before, after = run(main)
    assert before == after


@pytest.mark.parametrize("call, exc, text", CASES, ids=[f"case{i}" for i in range(len(CASES))])
def test_bad_input_is_refused_with_a_clear_error(call, exc, text):
    def main():
        with pytest.raises(exc) as info:
            call()
        return str(info.value)

    assert text.lower() in run(main).lower()


def test_vm_internal_error_stops_the_node(monkeypatch):
    from vm._runtime import Runtime

    def broken(self, *a):
        raise RuntimeError("bookkeeping bug")

    def main():
        vm.spawn(lambda: None)
        vm.sleep(0.01)

    monkeypatch.setattr(Runtime, "fire_timers", broken)
    with pytest.raises(vm.VMInternalError, match="please file a bug") as info:
        run(main)
    assert isinstance(info.value.__cause__, RuntimeError)
