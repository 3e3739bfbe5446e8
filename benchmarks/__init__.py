"""beamlet's benchmark suite: beamlet against asyncio, gevent, Pykka and real BEAM.

One module per benchmark (ring, pingpong, spawn, fairness, latency, selective,
copy, restart, call), each runnable alone with ``python -m benchmarks.<name>``;
``harness`` runs every (benchmark, system) in a fresh subprocess; ``cli`` is
the ``beamlet bench`` command; ``selftest`` runs each benchmark at tiny sizes.
Erlang sources live in ``benchmarks/erlang/`` and are compiled at run time.
See BENCHMARKS.md at the top of the repository.
"""
