"""CORS_ORIGINS: every service's API answers browsers from those origins, and from no other."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import MetaData

from services.notifications.settings import NotificationsSettings
from services.registry.settings import RegistrySettings
from services.scheduling.settings import SchedulingSettings
from shared.outbox import messaging_tables
from shared.runtime import ServiceRuntime

WEB = "https://tournees.example.org"


def test_origins_are_read_comma_separated_and_none_by_default(monkeypatch):
    assert RegistrySettings().cors_origin_list == []
    monkeypatch.setenv("CORS_ORIGINS", f" {WEB}/ , http://localhost:8002,,")
    assert SchedulingSettings().cors_origin_list == [WEB, "http://localhost:8002"]


@pytest.mark.parametrize("settings", [RegistrySettings, SchedulingSettings, NotificationsSettings])
async def test_a_preflight_is_answered_for_a_configured_origin_only(settings, tmp_path):
    outbox, _ = messaging_tables(MetaData())

    async def preflight(origins: str, origin: str) -> httpx.Response:
        runtime = ServiceRuntime(settings(data_dir=tmp_path, cors_origins=origins), outbox=outbox, migrations=tmp_path)
        app = runtime.http_app(title="t")
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
                return await http.options(
                    "/healthz", headers={"Origin": origin, "Access-Control-Request-Method": "GET",
                                         "Access-Control-Request-Headers": "authorization"},
                )  # fmt: skip
        finally:
            await runtime.engine.dispose()

    allowed = await preflight(WEB, WEB)
    assert (allowed.status_code, allowed.headers["access-control-allow-origin"]) == (200, WEB)
    other = await preflight(WEB, "https://elsewhere.example")
    assert other.status_code == 400
    assert "access-control-allow-origin" not in other.headers
    unset = await preflight("", WEB)
    assert unset.status_code == 405  # no CORS at all: /healthz knows GET only
    assert "access-control-allow-origin" not in unset.headers
