"""Performance benchmarks of the dashboard; run with ``python -m bench.run`` (see README.md)."""
