"""Benchmark dispatcher: `python -m bench` runs every registered quick benchmark, `python -m bench NAME [ARGS]` one.

Each benchmark is a module in this package with a `run(argv: list[str]) -> int` function (0 = all targets met).
Register new ones in BENCHMARKS: name → (module, quick), where quick ones run when no name is given.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS: dict[str, tuple[str, bool]] = {
    "uwlr": ("bench.uwlr_messages", True),
    "ea_import": ("bench.ea_import", True),
    "load": ("bench.load", False),
    "bruteforce": ("bench.bruteforce", False),
    "las": ("bench.las_serving", True),
    "nightly_sync": ("bench.nightly_sync", False),
}


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        print(
            "available:",
            ", ".join(f"{name}{'' if quick else ' (not quick)'}" for name, (_, quick) in BENCHMARKS.items()),
        )
        return 0
    if not argv:
        status = 0
        for name, (module, quick) in BENCHMARKS.items():
            if quick:
                print(f"=== {name}")
                status |= importlib.import_module(module).run([])
        return status
    name, rest = argv[0], argv[1:]
    if name not in BENCHMARKS:
        print(f"unknown benchmark {name!r}; available: {', '.join(BENCHMARKS)}", file=sys.stderr)
        return 2
    return int(importlib.import_module(BENCHMARKS[name][0]).run(rest))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
