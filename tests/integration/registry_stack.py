"""A running registry for API tests: real NATS, a real database with the communes loaded."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr

from services.registry.adapters.communes import load_communes
from services.registry.bootstrap import MIGRATIONS, Registry, bootstrap
from services.registry.settings import RegistrySettings
from shared.auth import Role, issue_token
from shared.db import create_engine
from shared.migrations import upgrade
from shared.settings import async_database_url
from tests.conftest import Database

SECRET = SecretStr("registry-tests-secret-0123456789abcdef")
MORTAGNE = "epci:200036069"
THIONVILLE = "epci:200070780"  # CA Portes de France-Thionville


def token(role: Role, subject: str = "tester", territories: tuple[str, ...] = ()) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, subject=subject, role=role, territories=territories)}"}


ADMIN = token(Role.ADMIN)
COORDINATOR = token(Role.COORDINATOR, territories=(MORTAGNE,))
OTHER_COORDINATOR = token(Role.COORDINATOR, territories=(THIONVILLE,))


def template_database(directory: Path) -> Path:
    """A registry database, migrated and with the communes loaded, to copy for each test."""
    path = directory / "registry-template.db"

    async def build() -> None:
        engine = create_engine(async_database_url(f"sqlite:///{path}"))
        await upgrade(engine, MIGRATIONS)
        await load_communes(engine)
        await engine.dispose()

    asyncio.run(build())
    return path


@dataclass
class RunningRegistry:
    service: Registry | None
    http: httpx.AsyncClient

    async def call(self, method: str, path: str, who: dict[str, str] = ADMIN, **kwargs: Any) -> httpx.Response:
        return await self.http.request(method, path, headers=who, **kwargs)

    async def ok(self, method: str, path: str, who: dict[str, str] = ADMIN, **kwargs: Any) -> Any:
        response = await self.call(method, path, who, **kwargs)
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json()


@asynccontextmanager
async def running_registry(
    template: Path, data_dir: Path, nats_url: str, postgres: Database | None = None, **settings_: Any
) -> AsyncIterator[RunningRegistry]:
    """On a copy of the SQLite ``template``; or on ``postgres`` (where it loads the communes itself)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    if postgres is None:
        shutil.copy(template, data_dir / "registry.db")
    else:
        settings_ |= {"database_url": postgres.url, "database_schema": postgres.schema}
    settings = RegistrySettings(
        data_dir=data_dir, nats_url=nats_url, auth_secret=SECRET, relay_interval_s=0.05, **settings_
    )
    service = bootstrap(settings)
    await service.runtime.start()
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=service.app), base_url="http://registry")
    try:
        yield RunningRegistry(service, http)
    finally:
        await http.aclose()
        await service.runtime.stop()


async def mortagne_with_a_conseiller(registry: RunningRegistry) -> dict[str, Any]:
    """The Pays de Mortagne au Perche, its EPN, a town hall, and one conseillère."""
    territory = await registry.ok("PUT", "/territories", json={"code": MORTAGNE})
    epn = await registry.ok(
        "POST", "/structures", json={"name": "EPN de Mortagne-au-Perche", "kind": "epn", "commune": "61293"}
    )
    room = await registry.ok(
        "POST",
        "/lieux",
        json={
            "name": "EPN de Mortagne-au-Perche", "kind": "structure", "structure_id": epn["id"], "commune": "61293",
            "latitude": 48.5206, "longitude": 0.5465, "capacity": 12, "has_computers": True,
            "opening_hours": "Mo-Fr 09:00-12:00,14:00-17:00; PH off",
        },
    )  # fmt: skip
    mairie = await registry.ok("POST", "/lieux/town-hall", json={"commune": "61029"})
    conseiller = await registry.ok("POST", "/conseillers", json=conseiller_body(epn["id"], room["id"]))
    return {"territory": territory, "epn": epn, "room": room, "mairie": mairie, "conseiller": conseiller}


def conseiller_body(employer: str, home: str, **overrides: Any) -> dict[str, Any]:
    return {
        "name": "Camille Lefèvre", "email": "camille.lefevre@epn-mortagne.example", "employer_structure_id": employer,
        "home_lieu_id": home, "weekly_hours": 35,
        "availability": [{"weekday": d, "half": h} for d in range(5) for h in ("am", "pm")],
        "skills": ["smartphone"], "territories": [MORTAGNE], **overrides,
    }  # fmt: skip
