"""``python -m benchmarks [NAME ...]``: run benchmarks and print their tables."""

from __future__ import annotations

import argparse
import asyncio

from benchmarks import notifications, planner, registry

BENCHMARKS = {"registry": registry.main, "notifications": notifications.main, "planner": planner.main}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", choices=[*BENCHMARKS, []], default=list(BENCHMARKS))
    args = parser.parse_args()
    for name in args.names or BENCHMARKS:
        asyncio.run(BENCHMARKS[name]())


if __name__ == "__main__":
    main()
