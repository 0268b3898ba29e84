from collections.abc import Callable, Iterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.adapters import orm
from services.registry.adapters.account_repository import AccountRepository
from services.registry.adapters.repository import (
    CommuneRepository,
    ConseillerRepository,
    DemandRepository,
    LieuRepository,
    StructureRepository,
    TerritoryRepository,
)
from shared.events import Event
from shared.unit_of_work import SqlAlchemyUnitOfWork


class RegistryUnitOfWork(SqlAlchemyUnitOfWork):
    communes: CommuneRepository
    territories: TerritoryRepository
    structures: StructureRepository
    lieux: LieuRepository
    conseillers: ConseillerRepository
    demand: DemandRepository
    accounts: AccountRepository

    def __init__(self, sessions: async_sessionmaker[AsyncSession], on_commit: Callable[[], None] | None = None) -> None:
        super().__init__(sessions, producer="registry", outbox=orm.outbox, inbox=orm.inbox, on_commit=on_commit)

    def _start_repositories(self, session: AsyncSession) -> None:
        self.communes = CommuneRepository(session)
        self.territories = TerritoryRepository(session)
        self.structures = StructureRepository(session)
        self.lieux = LieuRepository(session)
        self.conseillers = ConseillerRepository(session)
        self.demand = DemandRepository(session)
        self.accounts = AccountRepository(session)

    def _collect_aggregate_events(self) -> Iterator[Event]:
        for repository in (self.territories, self.structures, self.lieux, self.conseillers):
            for aggregate in repository.seen:
                while aggregate.events:
                    yield aggregate.events.pop(0)
        while self.demand.changed:
            yield self.demand.changed.pop(0).changed()
