"""beamlet's process VM: Erlang-style processes on greenlets.

    import vm

    def main():
        pid = vm.spawn(echo)
        vm.send(pid, ("hello", vm.self()))
        return vm.receive()

    def echo():
        text, sender = vm.receive()
        vm.send(sender, text)

    assert vm.run(main) == "hello"

The reference for every name here is docs/api.md; OTP's semantics
apply wherever it is silent, and every
deliberate difference is listed in docs/deviations.md.
"""

from ._api import (
    add_instrument,
    alias,
    bump_reductions,
    cancel_timer,
    demonitor,
    erase,
    exit,
    get,
    get_keys,
    hibernate,
    is_process_alive,
    link,
    make_ref,
    monitor,
    monitor_node,
    monotonic,
    node,
    node_name,
    nodes,
    port,
    port_close,
    port_command,
    process_flag,
    process_info,
    processes,
    put,
    read_timer,
    register,
    registered,
    remove_instrument,
    run,
    sched_yield,
    self,
    send,
    send_after,
    sleep,
    spawn,
    spawn_link,
    spawn_monitor,
    spawn_opt,
    start_timer,
    statistics,
    to_process,
    to_thread,
    unalias,
    unlink,
    unregister,
    wait_readable,
    wait_writable,
    whereis,
)
from ._heap import register_term_type
from ._instrument import Instrument
from ._mailbox import flush, receive
from ._node import Node
from .errors import (
    BadArg,
    Deadlock,
    Exit,
    NoProc,
    NotInProcess,
    ProcessExit,
    Unsendable,
    VMError,
    VMInternalError,
)
from .terms import ANY, TIMEOUT, Atom, Crash, ImproperList, Pid, Ref

__all__ = [
    "ANY",
    "Atom",
    "BadArg",
    "Crash",
    "Deadlock",
    "Exit",
    "ImproperList",
    "Instrument",
    "NoProc",
    "Node",
    "NotInProcess",
    "Pid",
    "ProcessExit",
    "Ref",
    "TIMEOUT",
    "Unsendable",
    "VMError",
    "VMInternalError",
    "add_instrument",
    "alias",
    "bump_reductions",
    "cancel_timer",
    "demonitor",
    "erase",
    "exit",
    "flush",
    "get",
    "get_keys",
    "hibernate",
    "is_process_alive",
    "link",
    "make_ref",
    "monitor",
    "monitor_node",
    "monotonic",
    "node",
    "node_name",
    "nodes",
    "process_flag",
    "process_info",
    "processes",
    "port",
    "port_close",
    "port_command",
    "put",
    "read_timer",
    "receive",
    "register",
    "register_term_type",
    "registered",
    "remove_instrument",
    "run",
    "sched_yield",
    "self",
    "send",
    "send_after",
    "sleep",
    "spawn",
    "spawn_link",
    "spawn_monitor",
    "spawn_opt",
    "start_timer",
    "statistics",
    "to_process",
    "to_thread",
    "unalias",
    "unlink",
    "unregister",
    "wait_readable",
    "wait_writable",
    "whereis",
]
