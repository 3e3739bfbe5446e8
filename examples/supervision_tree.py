"""Workers that crash and come back: a small supervision tree.

    beamlet run examples/supervision_tree.py

    top (one_for_one)
     +-- counter     a gen_server that counts; it survives its siblings' crashes
     +-- workers (rest_for_one)
          +-- flaky  crashes on every third tick
          +-- echo   started after flaky, so restarted with it

Each worker announces itself when it starts, so you can watch the
supervisors bring crashed workers back and see which siblings go with them.
"""

import vm
from stdlib import gen_server, supervisor


class Counter(gen_server.GenServer):
    def init(self, _arg):
        print("  counter: started", vm.self())
        return ("ok", 0)

    def handle_call(self, request, from_, n):
        return ("reply", n + 1, n + 1)


class Flaky(gen_server.GenServer):
    def init(self, _arg):
        print("  flaky:   started", vm.self())
        return ("ok", 0, 0.1)  # a timeout: handle_info("timeout") after 0.1 s idle

    def handle_info(self, msg, ticks):
        ticks += 1
        if ticks == 3:
            print("  flaky:   crashing on its third tick")
            raise RuntimeError("flaky worker gives up on its third tick")
        return ("noreply", ticks, 0.1)


class Echo(gen_server.GenServer):
    def init(self, _arg):
        print("  echo:    started", vm.self())
        return ("ok", None)

    def handle_call(self, request, from_, state):
        return ("reply", request, state)


class Workers(supervisor.Supervisor):
    def init(self, _arg):
        children = [Flaky.child_spec(None), Echo.child_spec(None)]
        return ("ok", ({"strategy": "rest_for_one", "intensity": 5, "period": 5}, children))


def child_pid(sup, cls):
    return next(pid for cid, pid, _type, _mods in supervisor.which_children(sup) if cid is cls)


def main():
    import logging

    logging.getLogger("beamlet.otp").setLevel(logging.CRITICAL)  # the prints tell the story
    print("starting the tree")
    supervisor.start_link_children([(Counter, None), (Workers, None)], name="top")
    for step in (1, 2):
        vm.sleep(0.45)
        count = gen_server.call(child_pid("top", Counter), "tick")
        print(f"t={step * 0.45:.2f}s counter says {count}")
    workers = child_pid("top", Workers)
    print("the tree now (which_children lists the newest child first):")
    for cid, pid, kind, _mods in reversed(supervisor.which_children("top")):
        print(f"  {cid.__name__:8s} {pid} {kind}")
        if pid == workers:  # its own children, drawn under it
            for wid, wpid, wkind, _wmods in reversed(supervisor.which_children(workers)):
                print(f"    {wid.__name__:6s} {wpid} {wkind}")
    gen_server.stop("top")  # "normal": the link to main stays quiet
    print("stopped")
