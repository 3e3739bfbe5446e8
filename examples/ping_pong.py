"""Two processes play ping-pong, then the node reports what happened.

    beamlet run examples/ping_pong.py
"""

import vm


def ponger():
    while True:
        match vm.receive():
            case ("ping", n, sender):
                vm.send(sender, ("pong", n))
            case "stop":
                return


def main():
    pid = vm.spawn(ponger)
    for n in range(5):
        vm.send(pid, ("ping", n, vm.self()))
        print("got", vm.receive(("pong", n)))
    ref = vm.monitor(pid)
    vm.send(pid, "stop")
    print("ponger ended:", vm.receive(("DOWN", ref, vm.ANY, vm.ANY, vm.ANY)))
