"""A TCP chat server: one acceptor, one room, one process per client.

    beamlet run examples/chat_server.py      # listens on 127.0.0.1:5555
    nc 127.0.0.1 5555                        # in two other terminals

No supervisor: the acceptor spawns a process per connection and hands it the
socket. Each client process waits, in one receive, for lines from its socket
(delivered as messages by vm.net.active) and for lines the room broadcasts.
A client that disconnects or crashes is noticed by the room's monitor.
"""

import vm
from vm import net


def room():
    members = {}  # pid -> name
    while True:
        match vm.receive():
            case ("join", pid, name):
                vm.monitor(pid)
                members[pid] = name
                _broadcast(members, f"* {name} joined ({len(members)} here)\n")
            case ("say", pid, text):
                _broadcast(members, f"<{members.get(pid, '?')}> {text}\n", skip=pid)
            case ("DOWN", _ref, "process", pid, _reason):
                name = members.pop(pid, None)
                if name is not None:
                    _broadcast(members, f"* {name} left\n")
            case ("members", sender):
                vm.send(sender, ("members", sorted(members.values())))


def _broadcast(members, text, skip=None):
    for pid in members:
        if pid != skip:
            vm.send(pid, ("line", text))


def client(fd, room_pid):
    conn = net.adopt(fd)
    net.sendall(conn, b"Your name: ")
    net.active(conn)
    name = None
    pending = b""
    try:
        while True:
            match vm.receive():
                case ("tcp", _, data):
                    pending += data
                    while b"\n" in pending:
                        line, pending = pending.split(b"\n", 1)
                        text = line.decode(errors="replace").strip()
                        if name is None:
                            name = text or "anonymous"
                            vm.send(room_pid, ("join", vm.self(), name))
                        elif text:
                            vm.send(room_pid, ("say", vm.self(), text))
                case ("tcp_closed", _):
                    return
                case ("line", text):
                    net.sendall(conn, text.encode())
    finally:
        conn.close()


def acceptor(lsock_fd, room_pid):
    lsock = net.adopt(lsock_fd)
    while True:
        conn, _addr = net.accept(lsock)
        vm.spawn(client, net.handoff(conn), room_pid)


def start(port=5555, host="127.0.0.1"):
    """Start the room and the acceptor; returns the port actually bound."""
    room_pid = vm.spawn(room)
    vm.register("chat_room", room_pid)
    lsock = net.listen((host, port))
    bound = lsock.getsockname()[1]
    vm.register("chat_acceptor", vm.spawn(acceptor, net.handoff(lsock), room_pid))
    return bound


def main():
    port = start()
    print(f"chat server on 127.0.0.1:{port}; connect with `nc 127.0.0.1 {port}`; Ctrl-C stops it")
    vm.receive()  # serve until interrupted
