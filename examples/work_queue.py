"""A work queue spread over several nodes, and so over several cores.

    beamlet run --nodes 2 examples/work_queue.py       # main here, a second node beside it
    beamlet run examples/work_queue.py                 # the same work on one node
    beamlet run --nodes 2 examples/work_queue.py 40 200000    # jobs, job size

Every node runs a supervisor with a `cruncher` gen_server (registered by
that name). `main` hands out jobs, one at a time, to a feeder process per
node; each feeder calls the cruncher on its own node with
`gen_server.call(("cruncher", node), job)`, which crosses the Erlang
distribution for the other nodes. A node is one OS process using one core,
so two nodes do the CPU-bound jobs about twice as fast on two cores.
"""

import time

import vm
from stdlib import gen_server, supervisor


class Cruncher(gen_server.GenServer):
    def init(self, _arg):
        vm.register("cruncher", vm.self())
        return ("ok", 0)

    def handle_call(self, request, from_, done):
        match request:
            case ("crunch", n):
                return ("reply", sum(i * i % 7 for i in range(n)), done + 1)
            case "done":
                return ("reply", done, done)
        return ("reply", ("error", request), done)


def start_workers():
    supervisor.start_link_children([(Cruncher, None)], name="crunchers")


def worker_node():
    """What the other nodes of `beamlet run --nodes N` run: the supervisor, then wait."""
    start_workers()
    vm.receive(lambda m: False)


def feeder(boss, node):
    while True:
        vm.send(boss, ("want", vm.self()))
        job = vm.receive()
        if job == "stop":
            return
        result = gen_server.call(("cruncher", node), ("crunch", job), None)
        vm.send(boss, ("result", node, result))


def main(args=()):
    jobs = int(args[0]) if args else 24
    size = int(args[1]) if len(args) > 1 else 300_000
    start_workers()
    nodes = [vm.node()] + vm.nodes("connected")
    t0 = time.monotonic()
    for node in nodes:
        vm.spawn(feeder, vm.self(), node)
    pending, per_node, results = jobs, {n: 0 for n in nodes}, 0
    while results < jobs:
        match vm.receive():
            case ("want", pid):
                if pending:
                    vm.send(pid, size)
                    pending -= 1
                else:
                    vm.send(pid, "stop")
            case ("result", node, _value):
                per_node[node] += 1
                results += 1
    elapsed = time.monotonic() - t0
    print(f"{jobs} jobs on {len(nodes)} node(s) in {elapsed:.2f} s: "
          + ", ".join(f"{n} did {k}" for n, k in per_node.items()))
    return round(jobs / elapsed, 2)
