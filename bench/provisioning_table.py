"""What the credential provisioning benches share: their command line (`--runs`) and their
table of each step's runs, median and slowest."""

from __future__ import annotations

import argparse
import asyncio
import statistics
from collections.abc import Awaitable, Callable

Timings = dict[str, list[float]]


def table(timings: Timings) -> str:
    lines = ["| what | runs | p50 ms | max ms |", "| --- | ---: | ---: | ---: |"]
    for what, values in timings.items():
        lines.append(f"| {what} | {len(values)} | {statistics.median(values) * 1000:.1f} | "
                     f"{max(values) * 1000:.1f} |")
    return "\n".join(lines)


def run(doc: str, what: str, measure: Callable[[int], Awaitable[Timings]]) -> None:
    """`measure(runs)` for the runs asked on the command line, printed as the table."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20, help="tenants provisioned")
    args = parser.parse_args()
    print(f"provisioning {args.runs} tenants' {what} ...", flush=True)
    print(table(asyncio.run(measure(args.runs))))
