"""Composition root of the registry: settings, database, broker, unit of work, routes."""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI

from services.registry.adapters import orm
from services.registry.adapters.communes import load_communes
from services.registry.entrypoints import accounts_api, api, imports_api
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from services.registry.settings import RegistrySettings
from shared.auth import authenticator
from shared.runtime import ServiceRuntime

MIGRATIONS = Path(__file__).parent / "adapters" / "migrations"


@dataclass(frozen=True)
class Registry:
    runtime: ServiceRuntime
    app: FastAPI
    uow: Callable[[], RegistryUnitOfWork]


def bootstrap(settings: RegistrySettings | None = None) -> Registry:
    settings = settings or RegistrySettings()
    runtime = ServiceRuntime(settings, outbox=orm.outbox, migrations=MIGRATIONS)

    async def load_reference_data() -> None:
        await load_communes(runtime.engine)  # skipped when this very file was loaded already

    runtime.on_migrated(load_reference_data)

    def uow() -> RegistryUnitOfWork:
        return RegistryUnitOfWork(runtime.sessions, on_commit=runtime.wake_relay)

    principal = authenticator(settings.auth_secret)
    app = runtime.http_app(
        imports_api.router(uow, principal),  # first: /lieux/export must not be taken for /lieux/{lieu_id}
        api.router(uow, principal),
        accounts_api.router(uow, principal, settings.auth_secret, dt.timedelta(seconds=settings.login_token_ttl_s)),
        title="Tournées — registry",
        description="Territories, communes, structures, lieux, conseillers and demand.",
    )
    api.error_handlers(app)
    return Registry(runtime, app, uow)
