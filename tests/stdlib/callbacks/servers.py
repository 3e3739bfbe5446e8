"""gen_server callback classes for tests/stdlib/test_gen_server.py and test_otp_sys.py.

Most take a dict argument; `"report": pid` makes the server tell the test
process about its callbacks (`("init", pid)`, `("terminate", reason, state)`).
"""

import vm
from stdlib import gen_server


def tell(arg, *event):
    pid = arg.get("report") if type(arg) is dict else None
    if pid is not None:
        vm.send(pid, event)


class Returns(gen_server.GenServer):
    """init returns arg["init"] (default ("ok", arg)); handy for start-result tests.
    Once running it behaves as `Server` (defined below)."""

    def init(self, arg):
        tell(arg, "init", vm.self())
        if arg.get("trap"):
            vm.process_flag("trap_exit", True)
        if "raise" in arg:
            raise ValueError(arg["raise"])
        if "exit" in arg:
            vm.exit(arg["exit"])
        if "sleep" in arg:
            vm.sleep(arg["sleep"])
        return arg.get("init", ("ok", arg))


class Server(gen_server.GenServer):
    """A scriptable server: a request ("do", result) makes a callback return `result`
    with the state substituted for the string "$S"; other requests are echoed."""

    def init(self, arg):
        if arg.get("trap"):
            vm.process_flag("trap_exit", True)
        tell(arg, "init", vm.self())
        return ("ok", arg)

    def _do(self, result, state):
        if result == "raise":
            raise RuntimeError("asked to raise")
        if type(result) is tuple and result and result[0] == "exit":
            vm.exit(result[1])
        return tuple(state if x == "$S" else x for x in result) if type(result) is tuple \
            else result

    def handle_call(self, request, from_, state):
        match request:
            case ("do", result):
                return self._do(result, state)
            case ("later", delay):
                vm.send_after(delay, vm.self(), ("reply_to", from_))
                return ("noreply", state)
            case ("sleep", seconds):
                vm.sleep(seconds)
                return ("reply", "slept", state)
            case "get":
                return ("reply", state, state)
            case ("set", key, value):
                return ("reply", "ok", {**state, key: value})
        return ("reply", request, state)

    def handle_cast(self, msg, state):
        match msg:
            case ("do", result):
                return self._do(result, state)
            case ("set", key, value):
                return ("noreply", {**state, key: value})
        tell(state, "cast", msg)
        return ("noreply", state)

    def handle_info(self, msg, state):
        match msg:
            case ("reply_to", from_):
                gen_server.reply(from_, "later")
                return ("noreply", state)
            case ("do", result):
                return self._do(result, state)
        tell(state, "info", msg)
        return ("noreply", state)

    def handle_continue(self, cont, state):
        tell(state, "continue", cont)
        if type(cont) is tuple and cont and cont[0] == "do":
            return self._do(cont[1], state)
        return ("noreply", state)

    def terminate(self, reason, state):
        tell(state, "terminate", reason)
        if type(state) is dict and state.get("terminate_raises"):
            raise KeyError("terminate failed")


class Redacting(Server):
    """format_status hides the secret in the state."""

    def format_status(self, status):
        state = status.get("state")
        if type(state) is dict and "secret" in state:
            status["state"] = {**state, "secret": "***"}
        return status


class NoInfo(gen_server.GenServer):
    """Defines only init: calls and casts crash it, info is logged and dropped."""

    def init(self, arg):
        return ("ok", arg)


class Upgrade(gen_server.GenServer):
    def init(self, arg):
        return ("ok", arg)

    def handle_call(self, request, from_, state):
        return ("reply", state, state)

    def code_change(self, old_vsn, state, extra):
        if extra == "fail":
            return ("error", "cannot")
        return ("ok", (old_vsn, state, extra))


# Returns runs as a Server once started (for continue/timeout tests after init).
for _name in ("handle_call", "handle_cast", "handle_info", "handle_continue", "terminate", "_do"):
    setattr(Returns, _name, getattr(Server, _name))
