"""Registry use cases: one function each, loading through the unit of work and committing."""

import uuid

from services.registry.domain.commands import RegisterConseiller
from services.registry.domain.model import Conseiller
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork


class ConseillerNotFound(LookupError):
    pass


async def register_conseiller(cmd: RegisterConseiller, uow: RegistryUnitOfWork) -> Conseiller:
    async with uow:
        conseiller = Conseiller.register(
            id=cmd.conseiller_id,
            name=cmd.name,
            home_commune=cmd.home_commune,
            weekly_hours=cmd.weekly_hours,
        )
        await uow.conseillers.add(conseiller)
        await uow.commit()
    return conseiller


async def get_conseiller(conseiller_id: uuid.UUID, uow: RegistryUnitOfWork) -> Conseiller:
    async with uow:
        conseiller = await uow.conseillers.get(conseiller_id)
    if conseiller is None:
        raise ConseillerNotFound(conseiller_id)
    return conseiller


async def list_conseillers(uow: RegistryUnitOfWork, *, limit: int, offset: int) -> list[Conseiller]:
    async with uow:
        return await uow.conseillers.list(limit=limit, offset=offset)
