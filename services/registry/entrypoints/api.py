"""Registry HTTP API: thin routes that turn requests into commands and call the handlers.

Domain errors become HTTP answers in one place (``error_handlers``): a broken rule is 422
naming the field, a conflict (stale version, overlapping absence) 409, a missing record 404,
a record outside the caller's territories 403.
"""

import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.registry.domain import commands
from services.registry.domain.errors import Conflict, NotFound, RuleBroken
from services.registry.entrypoints import schemas as s
from services.registry.service_layer import handlers
from services.registry.service_layer.access import Forbidden
from services.registry.service_layer.handlers import Page
from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.auth import Authenticator, Principal
from shared.http import MAX_OFFSET, problems

TerritoryQuery = Annotated[str | None, Query(description="a territory code: epci:…, dep:…, custom:…")]
CommuneQuery = Annotated[str | None, Query(pattern=r"^(\d{5}|2[AB]\d{3})$")]
LISTING = problems(403)
"""A listing: 403 for a conseiller, or a territory not the caller's."""
RECORD = problems(403, 404)
CHANGE = problems(403, 404, 409)
"""A change to a record: 409 for a stale version, or a record whose state refuses it."""


async def page(
    limit: Annotated[int, Query(ge=1, le=500)] = 100, offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0
) -> Page:
    return Page(limit, offset)


PageQuery = Annotated[Page, Depends(page)]


def _changes(body: s.Versioned, nullable: frozenset[str] = frozenset()) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    for key, value in changes.items():
        if value is None and key not in nullable:
            raise RuleBroken(key, "may not be null")
    return changes


def router(uow: Callable[[], RegistryUnitOfWork], principal: Authenticator) -> APIRouter:
    api = APIRouter(responses=problems(401))
    Who = Annotated[Principal, Depends(principal)]

    def paged(items: list[Any], total: int, p: Page, out: Callable[[Any], BaseModel]) -> dict[str, Any]:
        return {"items": [out(i) for i in items], "total": total, "limit": p.limit, "offset": p.offset}

    # --- communes and territories -----------------------------------------------------------

    @api.get("/communes", tags=["communes"])
    async def list_communes(
        who: Who, p: PageQuery, territory: TerritoryQuery = None, name: str | None = None
    ) -> s.PageOf[s.CommuneOut]:
        items, total = await handlers.list_communes(uow(), p, territory=territory, name=name)
        return s.PageOf[s.CommuneOut](**paged(items, total, p, s.CommuneOut.of))

    @api.get("/communes/{insee}", tags=["communes"], responses=problems(404))
    async def get_commune(insee: str, who: Who) -> s.CommuneOut:
        return s.CommuneOut.of(await handlers.get_commune(insee, uow()))

    @api.put("/territories", tags=["territories"], responses=problems(403))
    async def define_territory(body: s.TerritoryIn, who: Who) -> s.TerritoryOut:
        cmd = commands.DefineTerritory(body.code, body.name, tuple(body.communes))
        return s.TerritoryOut.of(await handlers.define_territory(cmd, uow(), who))

    @api.get("/territories", tags=["territories"], responses=LISTING)
    async def list_territories(who: Who, p: PageQuery) -> s.PageOf[s.TerritorySummary]:
        items, total = await handlers.list_territories(uow(), who, p)
        return s.PageOf[s.TerritorySummary](**paged(items, total, p, lambda r: s.TerritorySummary(**r)))

    @api.get("/territories/{code}", tags=["territories"], responses=RECORD)
    async def get_territory(code: str, who: Who) -> s.TerritoryOut:
        return s.TerritoryOut.of(await handlers.get_territory(code, uow(), who))

    # --- structures -------------------------------------------------------------------------

    @api.post("/structures", status_code=status.HTTP_201_CREATED, tags=["structures"], responses=problems(403))
    async def register_structure(body: s.StructureIn, who: Who) -> s.StructureOut:
        cmd = commands.RegisterStructure(body.model_dump())
        return s.StructureOut.of(await handlers.register_structure(cmd, uow(), who))

    @api.get("/structures", tags=["structures"], responses=LISTING)
    async def list_structures(
        who: Who, p: PageQuery, territory: TerritoryQuery = None, commune: CommuneQuery = None,
        kind: str | None = None, archived: bool = False,
    ) -> s.PageOf[s.StructureOut]:  # fmt: skip
        items, total = await handlers.list_structures(
            uow(), who, p, territory=territory, commune=commune, kind=kind, archived=archived
        )
        return s.PageOf[s.StructureOut](**paged(items, total, p, s.StructureOut.of))

    @api.get("/structures/{structure_id}", tags=["structures"], responses=RECORD)
    async def get_structure(structure_id: uuid.UUID, who: Who) -> s.StructureOut:
        return s.StructureOut.of(await handlers.get_structure(structure_id, uow(), who))

    @api.patch("/structures/{structure_id}", tags=["structures"], responses=CHANGE)
    async def update_structure(structure_id: uuid.UUID, body: s.StructurePatch, who: Who) -> s.StructureOut:
        change = commands.Change(
            structure_id, body.version, _changes(body, frozenset({"latitude", "longitude", "siret"}))
        )
        return s.StructureOut.of(await handlers.update_structure(change, uow(), who))

    @api.delete("/structures/{structure_id}", tags=["structures"], responses=CHANGE)
    async def archive_structure(
        structure_id: uuid.UUID, who: Who, version: Annotated[int, Query(ge=1)]
    ) -> s.StructureOut:
        change = commands.Change(structure_id, version, {})
        return s.StructureOut.of(await handlers.archive_structure(change, uow(), who))

    # --- lieux ------------------------------------------------------------------------------

    @api.post("/lieux", status_code=status.HTTP_201_CREATED, tags=["lieux"], responses=problems(403))
    async def open_lieu(body: s.LieuIn, who: Who) -> s.LieuOut:
        return s.LieuOut.of(await handlers.open_lieu(commands.OpenLieu(body.model_dump()), uow(), who))

    @api.post("/lieux/town-hall", status_code=status.HTTP_201_CREATED, tags=["lieux"], responses=problems(403))
    async def open_town_hall(body: s.TownHallIn, who: Who) -> s.LieuOut:
        """The commune's town hall becomes a lieu, with its address, location and opening hours."""
        cmd = commands.OpenTownHall(body.commune, body.capacity)
        return s.LieuOut.of(await handlers.open_town_hall(cmd, uow(), who))

    @api.get("/lieux", tags=["lieux"], responses=LISTING)
    async def list_lieux(
        who: Who, p: PageQuery, territory: TerritoryQuery = None, commune: CommuneQuery = None,
        kind: str | None = None, closed: bool = False,
    ) -> s.PageOf[s.LieuOut]:  # fmt: skip
        items, total = await handlers.list_lieux(
            uow(), who, p, territory=territory, commune=commune, kind=kind, closed=closed
        )
        return s.PageOf[s.LieuOut](**paged(items, total, p, s.LieuOut.of))

    @api.get("/lieux/{lieu_id}", tags=["lieux"], responses=RECORD)
    async def get_lieu(lieu_id: uuid.UUID, who: Who) -> s.LieuOut:
        return s.LieuOut.of(await handlers.get_lieu(lieu_id, uow(), who))

    @api.patch("/lieux/{lieu_id}", tags=["lieux"], responses=CHANGE)
    async def change_lieu(lieu_id: uuid.UUID, body: s.LieuPatch, who: Who) -> s.LieuOut:
        change = commands.Change(lieu_id, body.version, _changes(body, frozenset({"structure_id"})))
        return s.LieuOut.of(await handlers.change_lieu(change, uow(), who))

    @api.delete("/lieux/{lieu_id}", tags=["lieux"], responses=CHANGE)
    async def close_lieu(lieu_id: uuid.UUID, who: Who, version: Annotated[int, Query(ge=1)]) -> s.LieuOut:
        """Close a lieu: it stays on record, and plans that use it are re-planned."""
        return s.LieuOut.of(await handlers.close_lieu(commands.Change(lieu_id, version, {}), uow(), who))

    # --- conseillers ------------------------------------------------------------------------

    @api.post("/conseillers", status_code=status.HTTP_201_CREATED, tags=["conseillers"], responses=problems(403))
    async def register_conseiller(body: s.ConseillerIn, who: Who) -> s.ConseillerOut:
        cmd = commands.RegisterConseiller(body.model_dump())
        return s.ConseillerOut.of(await handlers.register_conseiller(cmd, uow(), who))

    @api.get("/conseillers", tags=["conseillers"], responses=LISTING)
    async def list_conseillers(
        who: Who, p: PageQuery, territory: TerritoryQuery = None, commune: CommuneQuery = None, archived: bool = False
    ) -> s.PageOf[s.ConseillerOut]:
        items, total = await handlers.list_conseillers(
            uow(), who, p, territory=territory, commune=commune, archived=archived
        )
        return s.PageOf[s.ConseillerOut](**paged(items, total, p, s.ConseillerOut.of))

    @api.get("/conseillers/{conseiller_id}", tags=["conseillers"], responses=RECORD)
    async def get_conseiller(conseiller_id: uuid.UUID, who: Who) -> s.ConseillerOut:
        return s.ConseillerOut.of(await handlers.get_conseiller(conseiller_id, uow(), who))

    @api.patch("/conseillers/{conseiller_id}", tags=["conseillers"], responses=CHANGE)
    async def update_conseiller(conseiller_id: uuid.UUID, body: s.ConseillerPatch, who: Who) -> s.ConseillerOut:
        change = commands.Change(conseiller_id, body.version, _changes(body, frozenset({"phone"})))
        return s.ConseillerOut.of(await handlers.update_conseiller(change, uow(), who))

    @api.delete("/conseillers/{conseiller_id}", tags=["conseillers"], responses=CHANGE)
    async def archive_conseiller(
        conseiller_id: uuid.UUID, who: Who, version: Annotated[int, Query(ge=1)]
    ) -> s.ConseillerOut:
        change = commands.Change(conseiller_id, version, {})
        return s.ConseillerOut.of(await handlers.archive_conseiller(change, uow(), who))

    @api.post(
        "/conseillers/{conseiller_id}/absences",
        status_code=status.HTTP_201_CREATED,
        tags=["conseillers"],
        responses=CHANGE,
    )
    async def declare_absence(conseiller_id: uuid.UUID, body: s.AbsenceIn, who: Who) -> s.ConseillerOut:
        """A conseiller declares their own absences; a coordinator those of their territories."""
        cmd = commands.DeclareAbsence(
            conseiller_id, (body.start_date, body.start_half), (body.end_date, body.end_half), body.kind
        )
        return s.ConseillerOut.of(await handlers.declare_absence(cmd, uow(), who))

    @api.delete("/conseillers/{conseiller_id}/absences/{absence_id}", tags=["conseillers"], responses=CHANGE)
    async def withdraw_absence(conseiller_id: uuid.UUID, absence_id: uuid.UUID, who: Who) -> s.ConseillerOut:
        return s.ConseillerOut.of(await handlers.withdraw_absence(conseiller_id, absence_id, uow(), who))

    # --- demand -----------------------------------------------------------------------------

    @api.get("/demand", tags=["demand"], responses=LISTING)
    async def list_demand(
        who: Who, p: PageQuery, territory: Annotated[str, Query()], overridden: bool | None = None
    ) -> s.PageOf[s.DemandOut]:
        items, total = await handlers.list_demand(uow(), who, p, territory=territory, overridden=overridden)
        return s.PageOf[s.DemandOut](**paged(items, total, p, s.DemandOut.of))

    @api.put("/demand/{commune}", tags=["demand"], responses=RECORD)
    async def set_demand(commune: str, body: s.DemandIn, who: Who) -> s.DemandOut:
        cmd = commands.SetDemand(commune, body.individual_hours, body.atelier_hours)
        return s.DemandOut.of(await handlers.set_demand(cmd, uow(), who))

    @api.delete("/demand/{commune}", tags=["demand"], responses=RECORD)
    async def reset_demand(commune: str, who: Who) -> s.DemandOut:
        """Back to the default derived from population."""
        return s.DemandOut.of(await handlers.reset_demand(commune, uow(), who))

    return api


def error_handlers(app: FastAPI) -> None:
    def answer(code: int) -> Callable[[Request, Exception], JSONResponse]:
        def handle(_: Request, exc: Exception) -> JSONResponse:
            return JSONResponse({"detail": str(exc)}, status_code=code)

        return handle

    def rule_broken(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RuleBroken)
        detail = [{"loc": ["body", *exc.field.split(".")], "msg": exc.message, "type": "value_error"}]
        return JSONResponse({"detail": detail}, status_code=status.HTTP_422_UNPROCESSABLE_CONTENT)

    app.add_exception_handler(RuleBroken, rule_broken)
    app.add_exception_handler(Conflict, answer(status.HTTP_409_CONFLICT))
    app.add_exception_handler(NotFound, answer(status.HTTP_404_NOT_FOUND))
    app.add_exception_handler(Forbidden, answer(status.HTTP_403_FORBIDDEN))
