"""Who may plan, and read plans and scheduling's copy: the same rule for every scheduling route."""

from fastapi import HTTPException, status

from shared.auth import Principal, Role, require_role


def may_plan_or_read(principal: Principal, territory: str | None = None) -> None:
    """Admins and coordinators only; a coordinator only in their own territories (403 otherwise)."""
    require_role(principal, Role.ADMIN, Role.COORDINATOR)
    if territory is not None and not principal.may_act_in([territory]):
        raise HTTPException(status.HTTP_403_FORBIDDEN, "not one of your territories")
