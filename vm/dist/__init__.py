"""Distribution: beamlet nodes in Erlang clusters, over Erlang's own protocol.

    import vm
    from vm import dist

    def main():
        dist.start("py", cookie="secret")          # py@<host>, registered with EPMD
        print(dist.ping("erl@host"))               # "pong"
        dist.send(("shell", "erl@host"), ("hello", vm.self()))
        print(dist.rpc.call("erl@host", "erlang", "node", []))

The modules, one concern each: `codec` (the External Term Format: `etf`,
`encoder`, `decoder`),
`epmd` and `epmd_daemon` (the port mapper, client and beamlet's own
daemon), `cookie`, `handshake` (version 6, the flag set), `stream` (framed
sockets), `connection` (frames and control messages, one reader and one
controller process per peer), `local` (the seam into the runtime), `kernel`
(the node's connections and what processes do across them), `rpc` (client
and `rex` server). docs/distribution.md is the guide, security included.
"""

from . import rpc
from .codec import DecodeError, EncodeError, ETFError, ImproperList, Limits, decode, encode
from .cookie import Cookie, CookieError
from .kernel import (
    DistError,
    call,
    connect,
    current,
    demonitor,
    disconnect,
    exit,
    link,
    monitor,
    monitor_node,
    monitor_nodes,
    node,
    nodes,
    ping,
    reply,
    send,
    start,
    stop,
    unlink,
)

__all__ = [
    "Cookie", "CookieError", "DecodeError", "DistError", "ETFError", "EncodeError",
    "ImproperList", "Limits", "call", "connect", "current", "decode", "demonitor",
    "disconnect", "encode", "exit", "link", "monitor", "monitor_node", "monitor_nodes", "node",
    "nodes", "ping", "reply", "rpc", "send", "start", "stop", "unlink",
]
