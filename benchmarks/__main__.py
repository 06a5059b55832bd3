"""``python -m benchmarks [NAME ...] [--quick] [--out DIR] [--list]``.

Runs the named benchmarks (all of them by default) one after another; each prints its
table and writes ``DIR/<name>.json`` (``benchmarks/results`` for full runs, a temporary
directory for ``--quick`` ones unless ``--out`` says otherwise). Benchmarks never fail the
caller on a missed target: the exit status is non-zero only if a benchmark crashed.
"""

from __future__ import annotations

import argparse
import sys
import time
import traceback
from pathlib import Path

from benchmarks import BENCHMARKS, OPT_IN, load
from benchmarks._common import default_out_dir, machine_info


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, run the benchmarks, print a summary; return the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description="hubasync benchmarks (see benchmarks/README.md)"
    )
    parser.add_argument(
        "names",
        nargs="*",
        help=f"benchmarks to run (default: {' '.join(BENCHMARKS)}; "
        f"only when named: {' '.join(OPT_IN)})",
    )
    parser.add_argument("--quick", action="store_true", help="a tiny smoke run of each (seconds)")
    parser.add_argument("--out", type=Path, default=None, help="directory for the JSON results")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args(argv)

    if args.list:
        for name in BENCHMARKS + OPT_IN:
            try:
                description = load(name).DESCRIPTION
            except Exception as exc:  # an opt-in module may need what is not installed
                description = f"(cannot load: {exc})"
            optional = " [only when named]" if name in OPT_IN else ""
            print(f"{name:20s} {description}{optional}")
        return 0
    names = args.names or list(BENCHMARKS)
    unknown = [n for n in names if n not in BENCHMARKS + OPT_IN]
    if unknown:
        parser.error(
            f"unknown benchmark(s) {', '.join(unknown)}; choose from "
            f"{', '.join(BENCHMARKS + OPT_IN)}"
        )
    out_dir: Path = args.out or default_out_dir(args.quick)
    info = machine_info()
    print(
        f"hubasync benchmarks{' (quick)' if args.quick else ''}: {info['nproc']} CPUs "
        f"({info['cpu_model']}), Python {info['python']}, load average {info['loadavg']}"
    )
    started = time.perf_counter()
    failed: list[str] = []
    missed: list[str] = []
    for name in names:
        print(f"\n=== {name}: {load(name).DESCRIPTION}")
        t0 = time.perf_counter()
        try:
            doc = load(name).run(quick=args.quick, out_dir=out_dir)
        except Exception:
            traceback.print_exc()
            failed.append(name)
            continue
        missed.extend(f"{name}: {t['name']}" for t in doc["targets"] if not t["met"])
        print(f"  ({time.perf_counter() - t0:.1f} s)")
    print(
        f"\nran {len(names)} benchmark(s) in {time.perf_counter() - started:.0f} s; "
        f"results in {out_dir}"
    )
    if missed:
        print("targets missed (see benchmarks/README.md):")
        for m in missed:
            print(f"  - {m}")
    if failed:
        print(f"crashed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
