"""Who may see and change what: admins everything, coordinators their territories, conseillers
their own record and absences. Decided here, once, for every entry point."""

from __future__ import annotations

from collections.abc import Iterable

from services.registry.service_layer.unit_of_work import RegistryUnitOfWork
from shared.auth import Principal, Role


class Forbidden(Exception):
    """The caller may not do this (403)."""


def require(principal: Principal, *roles: Role) -> None:
    if principal.role not in roles:
        raise Forbidden("your role may not do this")


def require_manager(principal: Principal) -> None:
    """Admins and coordinators, who manage the records: a conseiller is refused before any record is looked up or
    checked, so that neither a 404 nor a 422 tells them what exists."""
    require(principal, Role.ADMIN, Role.COORDINATOR)


def territory_filter(principal: Principal, territory: str | None) -> list[str] | None:
    """The territories a listing may show: None means all (admin, unfiltered)."""
    if territory is not None:
        if not principal.may_act_in([territory]):
            raise Forbidden(f"{territory} is not one of your territories")
        return [territory]
    if principal.is_admin:
        return None
    if principal.role is Role.COORDINATOR:
        return sorted(principal.territories)
    raise Forbidden("your role may not list this")


async def require_commune(principal: Principal, commune: str, uow: RegistryUnitOfWork) -> None:
    """Admins anywhere; coordinators only in a commune of one of their territories."""
    if principal.is_admin:
        return
    if principal.role is Role.COORDINATOR and commune in await uow.territories.insee_codes(principal.territories):
        return
    raise Forbidden(f"commune {commune} is outside your territories")


def require_territories(principal: Principal, territories: Iterable[str]) -> None:
    """Every one of ``territories`` must be the caller's (admins: any)."""
    if principal.is_admin:
        return
    outside = sorted(set(territories) - principal.territories) if principal.role is Role.COORDINATOR else ["any"]
    if outside:
        raise Forbidden(f"outside your territories: {', '.join(outside)}")
