"""hubasync's benchmarks: ``python -m benchmarks [names] [--quick]`` (see README.md).

Each ``bench_<name>.py`` module exposes ``NAME``, ``DESCRIPTION`` and
``run(*, quick: bool, out_dir: Path) -> dict``: it prints a table, writes
``<out_dir>/<name>.json`` and returns that document. Benchmarks never gate CI.
"""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["BENCHMARKS", "OPT_IN", "load"]

#: The benchmarks ``python -m benchmarks`` runs by default, in this order.
BENCHMARKS: tuple[str, ...] = (
    "overhead",
    "budget",
    "pagination",
    "fanout",
    "audit_today",
    "memory",
    "scaling",
)
#: Benchmarks run only when named (they need more than the machine: Redis).
OPT_IN: tuple[str, ...] = ("redis_multiprocess",)


def load(name: str) -> ModuleType:
    """The module of benchmark ``name`` (``benchmarks.bench_<name>``)."""
    if name not in BENCHMARKS + OPT_IN:
        raise ValueError(
            f"unknown benchmark {name!r}; choose from {', '.join(BENCHMARKS + OPT_IN)}"
        )
    return importlib.import_module(f"benchmarks.bench_{name}")
