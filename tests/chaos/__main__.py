"""``python -m tests.chaos [--profile short|full] [--seed N]``: the fault suite, its table printed
(``--markdown`` in the form of docs/reliability.md). Exits 1 when an invariant was broken."""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

from tests.chaos.report import render
from tests.chaos.run import PROFILES, run


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.chaos", description=__doc__.split("\n\n")[0])
    parser.add_argument("--profile", choices=sorted(PROFILES), default="full")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workdir", type=Path, help="where the logs and data go (default: a temporary directory)")
    parser.add_argument("--markdown", action="store_true")
    args = parser.parse_args()
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="tournees-chaos-"))
    report = asyncio.run(run(PROFILES[args.profile], workdir, args.seed))
    table = render(report, markdown=args.markdown)
    (workdir / "report.txt").write_text(table)
    print(table)
    print(f"logs: {workdir / 'system.log'}", file=sys.stderr)
    return 1 if report.verdict.violations else 0


if __name__ == "__main__":
    sys.exit(main())
