"""The fault suite's short profile (``make chaos`` runs the full one): the whole system as processes on its own
PostgreSQL cluster and nats-server, each service killed, nats-server restarted, PostgreSQL stopped, the fake
Twilio failing one create in five, the clock stepped across the quiet hours; then every invariant, checked
from the outside, must hold."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.chaos.clock import NoFaketime, faketime_library
from tests.chaos.postgres import NoPostgres, server_binaries
from tests.chaos.report import render
from tests.chaos.run import PROFILES, run

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(480)]


@pytest.fixture
def needs() -> None:
    """PostgreSQL's server binaries and libfaketime: CI has both (``make test`` installs libfaketime)."""
    try:
        server_binaries()
        faketime_library()
    except (NoPostgres, NoFaketime) as missing:
        if os.environ.get("CI"):
            pytest.fail(str(missing))
        pytest.skip(str(missing))


@pytest.mark.usefixtures("needs")
async def test_every_invariant_holds_through_the_faults(tmp_path: Path) -> None:
    report = await run(PROFILES["short"], tmp_path, seed=2026)
    table = render(report)
    print(table)
    assert not report.verdict.violations, table
    assert {fault.kind for fault in report.injected} >= {
        "kill-registry-mid-relay", "kill-scheduling-mid-solve", "kill-notifications-mid-send", "restart-nats",
        "stop-postgres",
    }  # fmt: skip
    assert all(fault.recovered_s is not None for fault in report.injected), table
    assert sum(c.expected for c in report.verdict.counts.values()) > 100, table
