"""Settings and the consumer retry policy."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.registry.settings import RegistrySettings
from shared.messaging import ConsumerPolicy
from shared.settings import async_database_url


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgresql://u@db/registry", "postgresql+asyncpg://u@db/registry"),
        ("postgres://u@db/registry", "postgresql+asyncpg://u@db/registry"),
        ("sqlite:///x/registry.db", "sqlite+aiosqlite:///x/registry.db"),
        ("postgresql+asyncpg://u@db/r", "postgresql+asyncpg://u@db/r"),
    ],
)
def test_database_urls_get_their_async_driver(given, expected):
    assert async_database_url(given) == expected


def test_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HTTP_PORT", "9101")
    monkeypatch.setenv("CONSUMER_MAX_DELIVER", "7")
    settings = RegistrySettings()
    assert settings.port == 9101
    assert settings.consumer_max_deliver == 7
    assert settings.sqlalchemy_url == f"sqlite+aiosqlite:///{tmp_path}/registry.db"


def test_production_refuses_the_default_or_a_short_secret(monkeypatch):
    monkeypatch.setenv("ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="AUTH_SECRET"):
        RegistrySettings()
    monkeypatch.setenv("AUTH_SECRET", "too-short")
    with pytest.raises(ValidationError, match="32"):
        RegistrySettings()
    monkeypatch.setenv("AUTH_SECRET", "a-real-secret-of-more-than-32-characters")
    assert RegistrySettings().auth_secret.get_secret_value() == "a-real-secret-of-more-than-32-characters"


def test_the_secret_never_shows_in_the_settings_repr(monkeypatch):
    monkeypatch.setenv("AUTH_SECRET", "a-real-secret-of-more-than-32-characters")
    assert "a-real-secret" not in repr(RegistrySettings())


def test_retries_back_off_exponentially_up_to_a_ceiling():
    policy = ConsumerPolicy(base_delay_s=1, max_delay_s=30)
    assert [policy.backoff(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]
