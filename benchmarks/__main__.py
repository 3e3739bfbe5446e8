"""`python -m benchmarks [NAME...] [--vs ...] [--json FILE] [--quick] [--plot DIR]`."""

from .cli import bench

bench(prog_name="python -m benchmarks")
