"""A machine whose every decision is a function passed in by the test.

The twin of the Erlang module used to record OTP 25's behaviour for the
transition tests: `handle_event` reports `("ev", type, content, state)` to the
test process and returns `fn(type, content, state, data)`; `terminate`
reports `("terminate", reason, state)`. A call's `from_` is reported as the
atom-like "from" so traces compare without pids and refs.
"""

import vm
from stdlib.gen_statem import GenStatem


def shown(etype):
    if type(etype) is tuple and etype[0] == "call":
        return ("call", "from")
    return etype


class Scripted(GenStatem):
    def init(self, arg):
        test, fn, init_result, mode = arg
        self.test = test
        self.fn = fn
        self.mode = mode if mode is not None else ["handle_event_function", "state_enter"]
        return init_result

    def callback_mode(self):
        return self.mode

    def handle_event(self, etype, content, state, data):
        vm.send(self.test, ("ev", shown(etype), content, state))
        return self.fn(etype, content, state, data)

    def terminate(self, reason, state, data):
        vm.send(self.test, ("terminate", reason, state))


def keep(*_):
    return "keep_state_and_data"
