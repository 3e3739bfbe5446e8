"""Bugs found while building gen_statem and tasks (minimal failing tests).

1. A process whose uncaught `vm.Exit` carries a non-term reason stops the
   whole node with VMInternalError (the reason cannot be copied into the
   DOWN/EXIT messages). `vm.exit(reason)` checks the reason, but `raise
   vm.Exit(reason)` (which gen.call, proc_lib.stop, ... do) does not.
2. gen.call's exit reason includes the server reference; for
   `("via", registry, key)` with a registry object that is not a term, the
   caller's exit then hits bug 1. (gen_statem.call works around it by
   naming such a registry by its repr.)
"""


import vm
from stdlib import gen
from vm.testing import run

ANY = vm.ANY


class _NotATerm:
    pass


class _Registry:
    def register_name(self, name, pid):
        return "yes"

    def unregister_name(self, name):
        pass

    def whereis_name(self, name):
        return None

    def send(self, name, msg):
        pass


def test_a_non_term_exit_reason_does_not_stop_the_node():
    def victim():
        raise vm.Exit(("oops", _NotATerm()))

    def main():
        pid, ref = vm.spawn_monitor(victim)
        return vm.receive(("DOWN", ref, ANY, ANY, ANY))[4] is not None

    assert run(main)


def test_call_to_an_unknown_via_name_exits_with_a_term():
    registry = _Registry()

    def caller():
        gen.call(("via", registry, "x"), gen.GEN_CALL, "hi", None,
                 ("gen_server", "call", (("via", registry, "x"), "hi")))

    def main():
        pid, ref = vm.spawn_monitor(caller)
        return vm.receive(("DOWN", ref, ANY, ANY, ANY))[4][0]

    assert run(main) == "noproc"
