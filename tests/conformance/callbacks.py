"""Callback classes of the behaviour scenarios: the Python twins of
erlang/conf_gs.erl, conf_worker.erl, conf_sup.erl, conf_sm.erl,
conf_sm_enter.erl, conf_door.erl and conf_eh.erl (read those headers for
what each does).

Literal translations, as for the scenarios: a fun sent in ``("do", f)`` is
a Python function, ``error(boom)`` is ``raise RuntimeError("boom")``, times
are seconds. Nothing here is a scenario (test_conformance.py only collects
the ``scenarios*`` modules).
"""
from __future__ import annotations

import vm
from stdlib import gen_event, gen_server, gen_statem, supervisor


def _is_do(msg) -> bool:
    return type(msg) is tuple and len(msg) == 2 and msg[0] == "do"


# ================================================================ conf_gs

class ConfGS(gen_server.GenServer):
    """conf_gs: init(f) returns f(); the state is the pid to report to."""

    def init(self, f):
        return f()

    def handle_call(self, request, from_, state):
        if _is_do(request):
            return request[1](from_, state)
        return ("reply", ("echo", request), state)

    def handle_cast(self, msg, state):
        if _is_do(msg):
            return msg[1](state)
        vm.send(state, ("cast", msg))
        return ("noreply", state)

    def handle_info(self, msg, state):
        if _is_do(msg):
            return msg[1](state)
        vm.send(state, ("info", msg))
        return ("noreply", state)

    def handle_continue(self, cont, state):
        if _is_do(cont):
            return cont[1](state)
        vm.send(state, ("continue", cont))
        return ("noreply", state)

    def terminate(self, reason, state):
        if isinstance(state, vm.Pid):
            vm.send(state, ("terminate", reason))
        return "ok"


# ============================================================ conf_worker

class ConfWorker(gen_server.GenServer):
    """conf_worker: announces {started, Id, Pid} and {stopped, Id, Reason}."""

    def init(self, arg):
        main, id_, opts = arg
        vm.process_flag("trap_exit", "no_trap" not in opts)
        vm.send(main, ("started", id_, vm.self()))
        return ("ok", arg)

    def handle_call(self, request, from_, state):
        return ("reply", ("echo", request), state)

    def handle_cast(self, msg, state):
        if msg == "crash":
            raise RuntimeError("boom")
        if type(msg) is tuple and len(msg) == 2 and msg[0] == "stop":
            return ("stop", msg[1], state)
        raise RuntimeError(f"unexpected cast {msg!r}")

    def handle_info(self, msg, state):
        return ("noreply", state)

    def terminate(self, reason, state):
        main, id_, opts = state
        vm.send(main, ("stopped", id_, reason))
        for opt in opts:
            if type(opt) is tuple and opt[0] == "slow_terminate":
                vm.sleep(opt[1])
        return "ok"


def worker_start_link(main, id_, opts=()):
    """conf_worker:start_link/2,3."""
    return gen_server.start_link(ConfWorker, (main, id_, tuple(opts)))


def worker_start_fail(main, id_):
    """conf_worker:start_fail/2."""
    vm.send(main, ("start_failed", id_))
    return ("error", "nope")


def worker_start_ignore(main, id_):
    """conf_worker:start_ignore/2."""
    vm.send(main, ("start_ignored", id_))
    return "ignore"


def worker_start_once(main, id_):
    """conf_worker:start_once/2 (runs in the supervisor: its dictionary remembers)."""
    key = ("started_once", id_)
    if vm.get(key) is None:
        vm.put(key, True)
        return worker_start_link(main, id_)
    return worker_start_fail(main, id_)


# ================================================================ conf_sup

class ConfSup(supervisor.Supervisor):
    """conf_sup: init returns its argument."""

    def init(self, init_result):
        return init_result


def sup_start_link(init_result):
    """conf_sup:start_link/1."""
    return supervisor.start_link(ConfSup, init_result)


# ================================================== conf_sm, conf_sm_enter

def _event_type(etype):
    if type(etype) is tuple and len(etype) == 2 and etype[0] == "call":
        return "call"
    return etype


class ConfSM(gen_statem.GenStatem):
    """conf_sm: init(f) returns f(); data is (main, handler)."""

    def callback_mode(self):
        return "handle_event_function"

    def init(self, f):
        return f()

    def handle_event(self, event_type, content, state, data):
        main, handler = data
        vm.send(main, (state, _event_type(event_type), content))
        return handler(event_type, content, state, data)

    def terminate(self, reason, state, data):
        if type(data) is tuple and len(data) == 2 and isinstance(data[0], vm.Pid):
            vm.send(data[0], ("terminate", state, reason))


class ConfSMEnter(ConfSM):
    """conf_sm_enter: conf_sm with state enter calls."""

    def callback_mode(self):
        return ["handle_event_function", "state_enter"]


# =============================================================== conf_door

class ConfDoor(gen_statem.GenStatem):
    """conf_door: a door lock, state_functions mode with state enter calls."""

    def callback_mode(self):
        return ["state_functions", "state_enter"]

    def init(self, arg):
        main, code = arg
        return ("ok", "locked", (main, tuple(code), ()))

    def locked(self, event_type, content, data):
        main, code, sofar = data
        if event_type == "enter":
            vm.send(main, ("enter", "locked", content))
            return "keep_state_and_data"
        from_ = event_type[1]
        if content == "status":
            return ("keep_state_and_data", [("reply", from_, "locked")])
        digits = sofar + (content[1],)
        if digits == code:
            return ("next_state", "open", (main, code, ()), [("reply", from_, "open")])
        if len(digits) < len(code):
            return ("keep_state", (main, code, digits), [("reply", from_, "more")])
        return ("keep_state", (main, code, ()), [("reply", from_, "wrong")])

    def open(self, event_type, content, data):
        main = data[0]
        if event_type == "enter":
            vm.send(main, ("enter", "open", content))
            return ("keep_state_and_data", [("state_timeout", 0.3, "relock")])
        if event_type == "state_timeout":
            return ("next_state", "locked", data)
        from_ = event_type[1]
        if type(content) is tuple and content[0] == "button":
            return ("keep_state_and_data", ["postpone"])
        return ("keep_state_and_data", [("reply", from_, "open")])


# ================================================================ conf_eh

class ConfEH(gen_event.Handler):
    """conf_eh: a programmable event handler; the state is (main, name)."""

    def init(self, arg):
        if type(arg) is tuple and len(arg) == 2:
            first, second = arg
            if first == "init":
                return second()
            if type(first) is tuple and len(first) == 2 and first[0] == "init":
                return first[1]()
            if type(first) is tuple and len(first) == 3 and first[0] == "swap":
                _, main, name = first
                vm.send(main, ("swapped_in", name, second))
                return ("ok", (main, name))
            vm.send(first, ("init", second))
            return ("ok", arg)
        raise RuntimeError(f"conf_eh: no init clause for {arg!r}")

    def handle_event(self, event, state):
        if _is_do(event):
            return event[1](state)
        main, name = state
        vm.send(main, ("event", name, event))
        return ("ok", state)

    def handle_call(self, request, state):
        if _is_do(request):
            return request[1](state)
        return ("ok", (state[1], request), state)

    def handle_info(self, info, state):
        main, name = state
        vm.send(main, ("info", name, info))
        return ("ok", state)

    def terminate(self, arg, state):
        if type(state) is tuple and len(state) == 2 and isinstance(state[0], vm.Pid):
            vm.send(state[0], ("terminate", state[1], arg))
            return ("terminated", state[1])
        return "ok"
