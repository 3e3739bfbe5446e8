"""Applications for tests/stdlib/test_application.py.

`start_args` is the test process's pid (set by subclassing inside the test):
the application reports ("start", name), ("prep_stop", name), ("stop", name).
"""

import vm
from stdlib import application, gen_server, supervisor


class Idle(gen_server.GenServer):
    def init(self, arg):
        return ("ok", arg)


class Reporting(application.Application):
    def start(self, start_type, report):
        vm.send(report, ("start", self.name, start_type))
        ok, top = supervisor.start_link_children([(Idle, None)], name=f"{self.name}_sup")
        # a process outside the tree: the master must kill it on stop
        vm.spawn(lambda: vm.receive())
        return ("ok", top, "st")

    def prep_stop(self, state):
        vm.send(self.start_args, ("prep_stop", self.name, state))
        return state + "+"

    def stop(self, state):
        vm.send(self.start_args, ("stop", self.name, state))


class Library(application.Application):
    name = "lib"


class Failing(application.Application):
    name = "failing"

    def start(self, start_type, mode):
        if mode == "error":
            return ("error", "nope")
        if mode == "raise":
            raise RuntimeError("bang")
        return mode
