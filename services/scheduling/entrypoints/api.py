"""Scheduling HTTP API: thin routes that call the service layer.

Every route needs a principal (a JWT). Admins see and plan everything; coordinators only
their territories; conseillers only their own calendar (and its link). A calendar link's token
opens that one feed and no route of this API.
"""

import asyncio
import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Response, status
from fastapi.exceptions import RequestValidationError

from services.scheduling.adapters import calendar
from services.scheduling.adapters.repository import ConcurrentUpdate
from services.scheduling.domain.commands import DraftPlan, MovePermanence, PermanenceRequest, PublishPlan
from services.scheduling.domain.model import Plan, PlanError, PlanStatus
from services.scheduling.domain.solves import SolveKind, SolveStatus
from services.scheduling.entrypoints import map_api
from services.scheduling.entrypoints.access import may_plan_or_read
from services.scheduling.entrypoints.schemas import (
    CalendarLinkOut,
    ChangesOut,
    ConseillerOut,
    LieuOut,
    MovedOut,
    MoveIn,
    PageOf,
    PlanCheckOut,
    PlanIn,
    PlanOut,
    ReplanIn,
    SolveIn,
    SolveRequestOut,
    TerritoryOut,
    WhatIfIn,
)
from services.scheduling.planner.instance import Weights
from services.scheduling.service_layer import checks, planning, plans, registry_copy, solve_requests
from services.scheduling.service_layer.errors import ConseillerNotFound, PlanNotFound, SolveNotFound, TerritoryNotFound
from services.scheduling.service_layer.solve_requests import RequestSolve
from services.scheduling.service_layer.unit_of_work import SchedulingUnitOfWork
from shared.auth import Authenticator, FeedAuthenticator, Principal
from shared.events.catalogue import INSEE_PATTERN, TERRITORY_CODE_PATTERN
from shared.http import MAX_OFFSET, problems

WAIT_POLL_S = 0.2
LISTING = problems(403)
"""403: a conseiller, or a territory not the caller's."""
RECORD = problems(403, 404)
CHANGE = problems(403, 404, 409)
"""A change to a plan: 409 when its state refuses it (not a draft, changed meanwhile)."""
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET)]


def _unprocessable(exc: PlanError) -> RequestValidationError:
    return RequestValidationError([{"loc": ("body", *exc.field.split(".")), "msg": exc.message, "type": "value_error"}])


def _refused(exc: PlanError) -> Exception:
    """A change to a plan refused: 404 for a permanence it does not have, 409 for the plan's state (not a draft,
    two places at once), 422 naming the field otherwise."""
    if exc.field == "permanence_id":
        return HTTPException(status.HTTP_404_NOT_FOUND, exc.message)
    if exc.field in ("status", "replaces", "permanences"):
        return HTTPException(status.HTTP_409_CONFLICT, exc.message)
    return _unprocessable(exc)


def _scope(principal: Principal, territory: str | None) -> frozenset[str] | None:
    """The territories a listing is limited to (None: everywhere)."""
    may_plan_or_read(principal, territory)
    if territory is not None:
        return frozenset({territory})
    return None if principal.is_admin else principal.territories


def router(
    uow: Callable[[], SchedulingUnitOfWork],
    principal_dependency: Authenticator,
    feed_principal: FeedAuthenticator,
) -> APIRouter:
    api = APIRouter(responses=problems(401))
    Caller = Annotated[Principal, Depends(principal_dependency)]

    @api.get(
        "/conseillers/{conseiller_id}/calendar.ics",
        tags=["calendar"],
        response_class=Response,
        responses=RECORD | {200: {"content": {"text/calendar": {}}}},
    )
    async def calendar_feed(
        conseiller_id: uuid.UUID, principal: Annotated[Principal, Depends(feed_principal)]
    ) -> Response:
        """A conseiller's published permanences, to subscribe to in a calendar app (the token may be
        given as ``?token=``). For the conseiller themself, or a coordinator of their territories."""
        try:
            conseiller, permanences = await plans.calendar(conseiller_id, uow())
        except ConseillerNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conseiller in scheduling's copy") from exc
        if not (principal.is_conseiller(conseiller_id) or principal.may_act_in(conseiller.territories)):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "not your calendar")
        return Response(
            calendar.feed(conseiller.name, permanences),
            media_type="text/calendar; charset=utf-8",
            headers={"Content-Disposition": f'inline; filename="permanences-{conseiller_id}.ics"'},
        )

    @api.post("/conseillers/{conseiller_id}/calendar-link", tags=["calendar"], responses=RECORD)
    async def calendar_link(conseiller_id: uuid.UUID, principal: Caller) -> CalendarLinkOut:
        """A link to subscribe to a conseiller's published permanences in a calendar app (relative to this API).
        Its token opens that one feed and nothing else, for a year: keep it private. For the conseiller themself,
        a coordinator of one of their territories, or an admin."""
        try:
            conseiller = await registry_copy.get_conseiller(conseiller_id, uow())
        except ConseillerNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such conseiller in scheduling's copy") from exc
        if not (principal.is_conseiller(conseiller_id) or principal.may_act_in(conseiller.territories)):
            raise HTTPException(status.HTTP_403_FORBIDDEN, "not your calendar")
        token, expires_at = feed_principal.calendar_token(conseiller_id)
        return CalendarLinkOut(url=f"/conseillers/{conseiller_id}/calendar.ics?token={token}", expires_at=expires_at)

    TerritoryFilter = Annotated[
        str | None, Query(pattern=TERRITORY_CODE_PATTERN, description="only this territory", examples=["dep:61"])
    ]

    @api.post("/plans", status_code=status.HTTP_201_CREATED, tags=["plans"], responses=LISTING)
    async def draft_plan(body: PlanIn, principal: Caller) -> PlanOut:
        may_plan_or_read(principal, body.territory)
        cmd = DraftPlan(
            territory=body.territory,
            week_start=body.week_start,
            time_zone=body.time_zone,
            permanences=[PermanenceRequest(**p.model_dump()) for p in body.permanences],
        )
        try:
            return PlanOut.of(await plans.draft_plan(cmd, uow()))
        except PlanError as exc:
            raise _unprocessable(exc) from exc

    async def queued(cmd: RequestSolve, response: Response) -> SolveRequestOut:
        try:
            request = await solve_requests.request_solve(cmd, uow())
        except TerritoryNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such territory in scheduling's copy") from exc
        except PlanError as exc:
            raise _unprocessable(exc) from exc
        response.headers["Location"] = f"/solves/{request.id}"
        return SolveRequestOut.of(request)

    @api.post("/plans/solve", status_code=status.HTTP_202_ACCEPTED, tags=["solves"], responses=RECORD)
    async def solve_plan(body: SolveIn, principal: Caller, response: Response) -> SolveRequestOut:
        """Ask the solver to plan the week of a territory from scheduling's copy of the registry. The answer is
        the request (``Location: /solves/{id}``): follow its progress there; once done, ``plan_id`` is the draft
        (the request id is the plan's id)."""
        may_plan_or_read(principal, body.territory)
        cmd = planning.SolvePlan(
            body.territory, body.week_start, body.days, body.time_limit_s, Weights(**body.weights.model_dump()),
            body.reach_km,
        )  # fmt: skip
        return await queued(
            RequestSolve(SolveKind.PLAN, body.territory, cmd.parameters(), body.request_id, principal.subject),
            response,
        )

    @api.post("/what-if/one-more-conseiller", status_code=status.HTTP_202_ACCEPTED, tags=["solves"], responses=RECORD)
    async def one_more_conseiller(body: WhatIfIn, principal: Caller, response: Response) -> SolveRequestOut:
        """How much more demand one more conseiller based at a lieu would cover: two solves, whose answer is the
        request's ``result`` once done (nothing else is stored)."""
        may_plan_or_read(principal, body.territory)
        cmd = planning.WhatIf(body.territory, body.week_start, body.lieu_id, body.weekly_hours, 5, body.time_limit_s)
        return await queued(
            RequestSolve(SolveKind.WHAT_IF, body.territory, cmd.parameters(), body.request_id, principal.subject),
            response,
        )

    @api.post("/plans/{plan_id}/replan", status_code=status.HTTP_202_ACCEPTED, tags=["solves"], responses=CHANGE)
    async def replan(plan_id: uuid.UUID, body: ReplanIn, principal: Caller, response: Response) -> SolveRequestOut:
        """Ask for a draft that re-plans a published plan from the registry as it is now (an absence, a closed
        lieu), moving as little as possible; publishing it tells who is affected, with the reason. A draft is
        solved again around its pinned permanences: the new draft replaces what it replaces (moving as little as
        possible from that) and keeps its reason if it has one. A replaced plan is not re-planned (409)."""
        await readable_plan(plan_id, principal)
        cmd = planning.Replan(plan_id, body.reason, body.time_limit_s)
        asked = RequestSolve(SolveKind.REPLAN, None, cmd.parameters(), body.request_id, principal.subject)
        try:
            request = await solve_requests.request_solve(asked, uow())
        except PlanError as exc:
            if exc.field == "request_id":
                raise _unprocessable(exc) from exc
            raise HTTPException(status.HTTP_409_CONFLICT, exc.message) from exc
        response.headers["Location"] = f"/solves/{request.id}"
        return SolveRequestOut.of(request)

    @api.get("/solves/{request_id}", tags=["solves"], responses=RECORD)
    async def get_solve(
        request_id: uuid.UUID,
        principal: Caller,
        wait: Annotated[float, Query(ge=0, le=30, description="wait up to this many seconds for it to finish")] = 0,
    ) -> SolveRequestOut:
        """A solve request and its progress (``wait`` saves polling: the answer comes as soon as it finishes)."""
        may_plan_or_read(principal)
        deadline = asyncio.get_running_loop().time() + wait
        while True:
            try:
                request = await solve_requests.get_request(request_id, uow())
            except SolveNotFound as exc:
                raise HTTPException(status.HTTP_404_NOT_FOUND, "no such solve request") from exc
            may_plan_or_read(principal, request.territory)
            if request.finished or asyncio.get_running_loop().time() >= deadline:
                return SolveRequestOut.of(request)
            await asyncio.sleep(WAIT_POLL_S)

    @api.get("/solves", tags=["solves"], responses=LISTING)
    async def list_solves(
        principal: Caller,
        territory: TerritoryFilter = None,
        status: SolveStatus | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> PageOf[SolveRequestOut]:
        """Solve requests of the caller's territories, newest first: what is queued, running, done or failed."""
        items, total = await solve_requests.list_requests(
            uow(), territories=_scope(principal, territory), status=status, limit=limit, offset=offset
        )
        return PageOf[SolveRequestOut](
            items=[SolveRequestOut.of(r) for r in items], total=total, limit=limit, offset=offset
        )

    @api.put("/plans/{plan_id}/permanences/{permanence_id}/pin", tags=["plans"], responses=CHANGE)
    async def pin(plan_id: uuid.UUID, permanence_id: uuid.UUID, principal: Caller) -> PlanOut:
        """Fix a permanence: re-plans keep it (unless an absence or a closure makes it impossible)."""
        return await pinning(plan_id, permanence_id, True, principal)

    @api.delete("/plans/{plan_id}/permanences/{permanence_id}/pin", tags=["plans"], responses=CHANGE)
    async def unpin(plan_id: uuid.UUID, permanence_id: uuid.UUID, principal: Caller) -> PlanOut:
        return await pinning(plan_id, permanence_id, False, principal)

    async def pinning(plan_id: uuid.UUID, permanence_id: uuid.UUID, pinned: bool, principal: Principal) -> PlanOut:
        await readable_plan(plan_id, principal)
        try:
            return PlanOut.of(await plans.pin_permanence(plan_id, permanence_id, pinned, uow()))
        except PlanError as exc:
            code = status.HTTP_404_NOT_FOUND if exc.field == "permanence_id" else status.HTTP_409_CONFLICT
            raise HTTPException(code, exc.message) from exc
        except ConcurrentUpdate as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, "the plan changed meanwhile; read it again") from exc

    @api.put("/plans/{plan_id}/permanences/{permanence_id}", tags=["plans"], responses=CHANGE)
    async def move_permanence(
        plan_id: uuid.UUID, permanence_id: uuid.UUID, body: MoveIn, principal: Caller
    ) -> MovedOut:
        """Move a permanence of a draft by hand (another conseiller, lieu or time); it keeps its kind and pin. In a
        re-plan, one the replaced plan published gets a new id (its usagers will be told), unless moved back
        exactly where it was. Refused: 409 if the plan is no longer a draft or the conseiller would be in two places
        at once. Any other rule it breaks is allowed, and told in ``warnings``."""
        await readable_plan(plan_id, principal)
        cmd = MovePermanence(plan_id, permanence_id, **body.model_dump())
        try:
            plan = await plans.move_permanence(cmd, uow())
        except PlanNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such plan") from exc
        except PlanError as exc:
            raise _refused(exc) from exc
        except ConcurrentUpdate as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, "the plan changed meanwhile; read it again") from exc
        return MovedOut.checked(plan, await checks.check(plan, uow()))

    @api.get("/plans/{plan_id}/check", tags=["plans"], responses=RECORD)
    async def check_plan(plan_id: uuid.UUID, principal: Caller) -> PlanCheckOut:
        """The rules the plan breaks as it stands (after hand moves, say), in French for the coordinator, and its
        figures recounted, as a solve of its territory and week would count them."""
        return PlanCheckOut.of(await checks.check(await readable_plan(plan_id, principal), uow()))

    @api.get("/plans/{plan_id}/changes", tags=["plans"], responses=CHANGE)
    async def preview_changes(plan_id: uuid.UUID, principal: Caller) -> ChangesOut:
        """What publishing this draft re-plan would tell the usagers: which permanences of the plan it replaces move
        (and where) or are cancelled, how many stay, and what is new: the very decision publishing makes. 409 for a
        plan that replaces none, or that could not be published (no longer a draft, its plan replaced already)."""
        await readable_plan(plan_id, principal)
        try:
            return ChangesOut.of(await plans.preview_changes(plan_id, uow()))
        except PlanNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such plan") from exc
        except PlanError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, exc.message) from exc

    async def readable_plan(plan_id: uuid.UUID, principal: Principal) -> Plan:
        may_plan_or_read(principal)
        try:
            plan = await plans.get_plan(plan_id, uow())
        except PlanNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such plan") from exc
        may_plan_or_read(principal, plan.territory)
        return plan

    @api.get("/plans", tags=["plans"], responses=LISTING)
    async def list_plans(
        principal: Caller,
        territory: TerritoryFilter = None,
        status: PlanStatus | None = None,
        replaces: uuid.UUID | None = None,
        limit: Limit = 50,
        offset: Offset = 0,
    ) -> PageOf[PlanOut]:
        """Plans of the caller's territories, newest week first: a re-plan made after an absence is a
        draft that ``replaces`` the published plan."""
        territories = _scope(principal, territory)
        items, total = await plans.list_plans(
            uow(), territories=territories, status=status, replaces=replaces, limit=limit, offset=offset
        )
        return PageOf[PlanOut](items=[PlanOut.of(plan) for plan in items], total=total, limit=limit, offset=offset)

    @api.get("/plans/{plan_id}", tags=["plans"], responses=RECORD)
    async def get_plan(plan_id: uuid.UUID, principal: Caller) -> PlanOut:
        return PlanOut.of(await readable_plan(plan_id, principal))

    @api.post("/plans/{plan_id}/publish", tags=["plans"], responses=CHANGE)
    async def publish_plan(plan_id: uuid.UUID, principal: Caller) -> PlanOut:
        await readable_plan(plan_id, principal)  # a plan never changes territory: checking first is enough
        try:
            return PlanOut.of(await plans.publish_plan(PublishPlan(plan_id), uow()))
        except PlanNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such plan") from exc
        except PlanError as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, exc.message) from exc
        except ConcurrentUpdate as exc:
            raise HTTPException(status.HTTP_409_CONFLICT, "the plan changed meanwhile; read it again") from exc

    @api.get("/conseillers", tags=["registry copy"], responses=LISTING)
    async def list_conseillers(
        principal: Caller,
        territory: TerritoryFilter = None,
        include_archived: bool = False,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> PageOf[ConseillerOut]:
        """Conseillers as scheduling's copy of the registry knows them, by name."""
        items, total = await registry_copy.list_conseillers(
            uow(),
            territories=_scope(principal, territory),
            include_archived=include_archived,
            limit=limit,
            offset=offset,
        )
        return PageOf[ConseillerOut](
            items=[ConseillerOut.model_validate(c) for c in items], total=total, limit=limit, offset=offset
        )

    @api.get("/lieux", tags=["registry copy"], responses=LISTING)
    async def list_lieux(
        principal: Caller,
        territory: TerritoryFilter = None,
        commune: Annotated[str | None, Query(pattern=INSEE_PATTERN, examples=["61293"])] = None,
        include_closed: bool = False,
        limit: Limit = 100,
        offset: Offset = 0,
    ) -> PageOf[LieuOut]:
        """Lieux in the communes of the territories (as scheduling's copy knows them), by name."""
        items, total = await registry_copy.list_lieux(
            uow(),
            territories=_scope(principal, territory),
            commune=commune,
            include_closed=include_closed,
            limit=limit,
            offset=offset,
        )
        return PageOf[LieuOut](
            items=[LieuOut.model_validate(lieu) for lieu in items], total=total, limit=limit, offset=offset
        )

    @api.get("/territories/{code}", tags=["registry copy"], responses=RECORD)
    async def get_territory(
        code: Annotated[str, Path(pattern=TERRITORY_CODE_PATTERN, examples=["epci:200036069"])], principal: Caller
    ) -> TerritoryOut:
        """A territory and its communes."""
        may_plan_or_read(principal, code)
        try:
            return TerritoryOut.model_validate(await registry_copy.get_territory(code, uow()))
        except TerritoryNotFound as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, "no such territory") from exc

    api.include_router(map_api.router(uow, principal_dependency))
    return api
