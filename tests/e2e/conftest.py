"""Fixtures of the end-to-end tests; the helpers themselves are in ``tests/e2e/stack.py``."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.stack import StartTournees, Tournees, free_port_base


@pytest.fixture
def port_base() -> int:
    """P such that P, P+1 and P+2 are free: the services' HTTP ports."""
    return free_port_base(3)


@pytest.fixture
def auth_secret() -> str:
    """A signing secret of this run's own, so the tests also check it reaches the services."""
    return f"e2e-{secrets.token_hex(24)}"


@pytest.fixture
def start_tournees(tmp_path: Path) -> Iterator[StartTournees]:
    """Starts ``python -m tournees.cli ARGS`` (cwd ``tmp_path``); whatever is left is stopped after."""
    started: list[Tournees] = []

    def start(*args: str, env: dict[str, str] | None = None) -> Tournees:
        tournees = Tournees(args, tmp_path, dict(env or {}))
        started.append(tournees)
        return tournees.start()

    try:
        yield start
    finally:
        for tournees in started:
            tournees.cleanup()
