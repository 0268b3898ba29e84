"""The fault suite's tables: faults injected by kind with the time to recover, messages expected / delivered /
lost / duplicated per channel, then what was checked and what broke."""

from __future__ import annotations

import platform
import statistics
from collections import defaultdict
from typing import TYPE_CHECKING

from tests.chaos.faults import TWILIO_FAULTS_LABEL

if TYPE_CHECKING:
    from tests.chaos.faults import Injected
    from tests.chaos.run import Report


def _seconds(values: list[float | None]) -> str:
    known = [v for v in values if v is not None]
    text = f"median {statistics.median(known):.1f} s, max {max(known):.1f} s" if known else ""
    missing = len(values) - len(known)
    return text + (f"; {missing} not recovered" if missing else "")


def _table(header: list[str], rows: list[list[str]], markdown: bool) -> list[str]:
    if markdown:
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        return lines + ["| " + " | ".join(row) + " |" for row in rows]
    widths = [max(len(str(cell)) for cell in column) for column in zip(header, *rows, strict=True)]
    return ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in [header, *rows]]


def render(report: Report, markdown: bool = False) -> str:
    verdict = report.verdict
    by_kind: dict[str, list[Injected]] = defaultdict(list)
    for fault in report.injected:
        by_kind[fault.kind].append(fault)
    fault_rows = [
        [kind, str(len(faults)), _seconds([f.lasted_s for f in faults]), _seconds([f.recovered_s for f in faults]),
         "; ".join(sorted({f.detail for f in faults if f.detail}))]
        for kind, faults in by_kind.items()
    ]  # fmt: skip
    fault_rows.append([TWILIO_FAULTS_LABEL, "whole run", "", "", ""])
    message_rows = [
        [channel, str(c.expected), str(c.delivered), str(c.lost), str(c.duplicated), str(c.unexpected)]
        for channel, c in sorted(verdict.counts.items())
    ]
    lines = [
        f"Fault suite, profile {report.profile.name} (seed {report.seed}): {report.profile.scenario().code}, "
        f"{platform.machine()}, Python {platform.python_version()}, {report.seconds / 60:.1f} min",
        "",
        *_table(["fault", "injected", "lasted", "recovered (every service ready)", "detail"], fault_rows, markdown),
        "",
        *_table(["channel", "expected", "delivered", "lost", "duplicated", "unexpected"], message_rows, markdown),
        "",
        *[f"- {name}: {value}" for name, value in verdict.facts.items()],
        "",
        "invariants: all held" if not verdict.violations else "BROKEN:",
        *[f"- {violation}" for violation in verdict.violations],
    ]
    return "\n".join(lines)
