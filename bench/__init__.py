"""Benchmarks. Run `python -m bench` (all quick ones) or `python -m bench <name> [args]` (see bench/__main__.py)."""
