"""Configuration through environment variables only, one ``Settings`` class per service."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

from pydantic import SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_AUTH_SECRET = "dev-secret-change-me-0123456789abcdef"  # noqa: S105 - refused in production, below


class ServiceSettings(BaseSettings):
    """Settings every service shares. Read from the environment (``DATABASE_URL``, ``NATS_URL``…)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    service_name: ClassVar[str]
    default_http_port: ClassVar[int]

    environment: Literal["local", "demo", "test", "production"] = "local"
    data_dir: Path = Path(".tournees")
    database_url: str = ""
    """SQLAlchemy URL; empty means a SQLite file ``<data_dir>/<service>.db``."""
    database_schema: str | None = None
    """Postgres schema to use (search_path); lets tests share one database."""
    nats_url: str = "nats://127.0.0.1:4222"
    nats_connect_timeout_s: float = 20.0
    http_host: str = "127.0.0.1"
    http_port: int = 0
    http_workers: int = 1
    """Processes serving the HTTP API (``HTTP_WORKERS``, ``shared.http_workers``): the first also runs the relay,
    the subscribers and the background work; the others only serve HTTP."""
    http_max_in_flight: int = 64
    """Requests one process handles at once (``HTTP_MAX_IN_FLIGHT``); more are answered 503 with ``Retry-After``
    at once rather than queued. 0: no bound. The probes and ``/metrics`` are never refused."""
    auth_secret: SecretStr = SecretStr(DEFAULT_AUTH_SECRET)
    """Key that signs and checks the bearer tokens (JWT, HS256); the same for every service."""
    log_level: str = "INFO"
    log_format: Literal["text", "json"] | None = None
    """``json``: one JSON object a line (the default in production); ``text``: readable lines (elsewhere)."""
    metrics_interval_s: float = 15.0
    """How often the consumers' lag is sampled for ``/metrics``."""
    cors_origins: str = ""
    """Web origins whose pages may call this API from a browser, comma-separated
    (``https://tournees.example.org,http://localhost:8002``); empty: none."""

    stream_replicas: int = 1
    duplicate_window_s: float = 3600.0
    consumer_max_deliver: int = 5
    consumer_ack_wait_s: float = 30.0
    consumer_max_ack_pending: int = 256
    retry_base_delay_s: float = 1.0
    retry_max_delay_s: float = 60.0
    relay_interval_s: float = 0.25
    relay_batch_size: int = 100

    @model_validator(mode="after")
    def _refuse_default_secrets(self) -> ServiceSettings:
        secret = self.auth_secret.get_secret_value()
        if self.environment == "production" and (secret == DEFAULT_AUTH_SECRET or len(secret) < 32):
            raise ValueError("AUTH_SECRET must be set to a real secret of 32+ characters in production")
        return self

    @property
    def json_logs(self) -> bool:
        return self.log_format == "json" or (self.log_format is None and self.environment == "production")

    @property
    def cors_origin_list(self) -> list[str]:
        return [origin.strip().rstrip("/") for origin in self.cors_origins.split(",") if origin.strip()]

    @property
    def port(self) -> int:
        return self.http_port or self.default_http_port

    @property
    def sqlalchemy_url(self) -> str:
        return async_database_url(self.database_url or f"sqlite:///{self.data_dir / self.service_name}.db")


def async_database_url(url: str) -> str:
    """Map a plain database URL to the async driver SQLAlchemy needs."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url
