"""``tournees account create`` writes into the registry's database (SQLite or Postgres) through its
service layer: the account it makes logs in; the password never shows."""

from __future__ import annotations

import asyncio
import io
import shutil

import pytest

from services.registry.service_layer.accounts import InvalidCredentials, authenticate
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from services.registry.settings import RegistrySettings
from shared.db import create_engine, session_factory
from tournees import accounts
from tournees.cli import main

PASSWORD = "first admin of the install"
MORTAGNE = "epci:200036069"


@pytest.fixture
def registry_database(database, template, tmp_path, monkeypatch):
    """The environment points the CLI at a registry database: a copy of the template, or Postgres."""
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    if database.schema is None:
        shutil.copy(template, tmp_path / "registry.db")
    else:
        monkeypatch.setenv("DATABASE_URL", database.url)
        monkeypatch.setenv("DATABASE_SCHEMA", database.schema)


def account_create(monkeypatch, *args: str, password: str = PASSWORD) -> int:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    return main(["account", "create", *args])


def log_in(login: str, password: str):
    async def attempt():
        settings = RegistrySettings()
        engine = create_engine(settings.sqlalchemy_url, schema=settings.database_schema)
        try:
            return await authenticate(login, password, RegistryUnitOfWork(session_factory(engine)))
        finally:
            await engine.dispose()

    return asyncio.run(attempt())


def test_the_first_admin_is_created_from_stdin_and_logs_in(registry_database, monkeypatch, capsys):
    assert account_create(monkeypatch, "--login", "Admin@Example.org", "--role", "admin", "--name", "Ana") == 0
    out, err = capsys.readouterr()
    assert "admin@example.org, admin" in out
    assert PASSWORD not in out + err
    account = log_in("admin@example.org", PASSWORD)
    assert (account.role, account.name, account.active) == ("admin", "Ana", True)
    with pytest.raises(InvalidCredentials):
        log_in("admin@example.org", PASSWORD + "?")
    assert account_create(monkeypatch, "--login", "ADMIN@example.org", "--role", "admin") == 2
    assert "has an account already" in capsys.readouterr().err


def test_a_coordinator_gets_known_territories_only(registry_database, monkeypatch, capsys):
    args = ["--login", "perche", "--role", "coordinator"]
    assert account_create(monkeypatch, *args, "--territory", "epci:999999999") == 2
    assert "territories: unknown territories: epci:999999999" in capsys.readouterr().err
    assert account_create(monkeypatch, *args) == 2
    assert "a coordinator needs at least one territory" in capsys.readouterr().err
    assert account_create(monkeypatch, *args, "--territory", MORTAGNE) == 0
    assert log_in("perche", PASSWORD).territories == (MORTAGNE,)


def test_a_short_password_is_refused_without_being_shown(registry_database, monkeypatch, capsys):
    assert account_create(monkeypatch, "--login", "admin", "--role", "admin", password="too short") == 2
    out, err = capsys.readouterr()
    assert "password: at least 12 characters" in err
    assert "too short" not in out + err


def test_at_a_terminal_the_password_is_asked_twice(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    answers = iter([PASSWORD, PASSWORD + "typo"])
    monkeypatch.setattr("getpass.getpass", lambda prompt: next(answers))
    with pytest.raises(ValueError, match="differ"):
        accounts.read_password(Terminal())
    answers = iter([PASSWORD, PASSWORD])
    assert accounts.read_password(Terminal()) == PASSWORD
