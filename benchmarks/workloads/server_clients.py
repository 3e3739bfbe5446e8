"""A message-heavy server with many clients, beside a CPU hog.

What it teaches: a server is one process, so it gets one process's share
of the CPU however many clients wait on it. The clients' time goes in
waiting for replies; the server's queue delay (it is almost always
runnable) and the clients' response time show where the latency comes
from. Only the server and the hog are registered: by name, the clients
fall in one group, `(unregistered) server_clients.client/0`. Raising the
server's priority (`--priority server=high` with
`--group-by name`) trades the hog's share for the clients' latency.

    beamlet fairness server_clients --group-by name
    beamlet fairness server_clients --group-by name --priority none --priority server=high
"""

import vm

DURATION = 2.0
CLIENTS = 8


def server():
    vm.register("server", vm.self())
    vm.process_flag("label", "server")
    while True:
        match vm.receive(("request", vm.Pid, vm.ANY)):
            case ("request", client, n):
                vm.send(client, ("reply", sum(range(n % 200))))


def client():
    vm.process_flag("label", "client")
    me = vm.self()
    i = 0
    while True:
        i += 1
        vm.send("server", ("request", me, i))
        vm.receive(("reply", vm.ANY))


def hog():
    vm.process_flag("label", "hog")
    vm.register("hog", vm.self())
    n = 0
    while True:
        n += 1


def main():
    vm.spawn(server)
    while vm.whereis("server") is None:
        vm.sleep(0.0001)
    for _ in range(CLIENTS):
        vm.spawn(client)
    vm.spawn(hog)
    vm.sleep(DURATION)
