from collections.abc import Callable, Iterator

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.scheduling.adapters import orm
from services.scheduling.adapters.registry_copy import (
    AbsenceCopies,
    ConseillerCopies,
    DemandCopies,
    LieuCopies,
    StructureCopies,
    TerritoryCopies,
)
from services.scheduling.adapters.repository import PlanRepository
from services.scheduling.adapters.solves import SolveRequests, SolverLeases
from shared.events import Event
from shared.unit_of_work import SqlAlchemyUnitOfWork


class SchedulingUnitOfWork(SqlAlchemyUnitOfWork):
    # the copy of the registry
    territories: TerritoryCopies
    structures: StructureCopies
    lieux: LieuCopies
    conseillers: ConseillerCopies
    absences: AbsenceCopies
    demand: DemandCopies
    # scheduling's own
    plans: PlanRepository
    solves: SolveRequests
    leases: SolverLeases

    def __init__(self, sessions: async_sessionmaker[AsyncSession], on_commit: Callable[[], None] | None = None) -> None:
        super().__init__(sessions, producer="scheduling", outbox=orm.outbox, inbox=orm.inbox, on_commit=on_commit)

    def _start_repositories(self, session: AsyncSession) -> None:
        self.territories = TerritoryCopies(session)
        self.structures = StructureCopies(session)
        self.lieux = LieuCopies(session)
        self.conseillers = ConseillerCopies(session)
        self.absences = AbsenceCopies(session)
        self.demand = DemandCopies(session)
        self.plans = PlanRepository(session)
        self.solves = SolveRequests(session)
        self.leases = SolverLeases(session)

    def _collect_aggregate_events(self) -> Iterator[Event]:
        for plan in self.plans.seen:
            while plan.events:
                yield plan.events.pop(0)
