from collections.abc import Callable, Iterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.registry.adapters import orm
from services.registry.adapters.repository import ConseillerRepository
from shared.events import Event
from shared.unit_of_work import SqlAlchemyUnitOfWork


class RegistryUnitOfWork(SqlAlchemyUnitOfWork):
    conseillers: ConseillerRepository

    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], on_commit: Callable[[], None] | None = None
    ) -> None:
        super().__init__(
            sessions, producer="registry", outbox=orm.outbox, inbox=orm.inbox, on_commit=on_commit
        )

    def _start_repositories(self, session: AsyncSession) -> None:
        self.conseillers = ConseillerRepository(session)

    def _collect_aggregate_events(self) -> Iterator[Event]:
        for conseiller in self.conseillers.seen:
            while conseiller.events:
                yield conseiller.events.pop(0)
