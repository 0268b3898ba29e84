"""Who may act on which usagers and permanences.

Admins act everywhere; coordinators in the territories of their token. A conseiller's token
names no territories (``shared.auth``), so a conseiller is scoped by what notifications knows:
the permanences they hold (``conseiller_id``), and for usagers, the territories where they
hold a published permanence.
"""

from __future__ import annotations

import uuid

from services.notifications.domain.model import Permanence
from services.notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from shared.auth import Principal, Role


class Forbidden(PermissionError):
    """Outside the caller's scope; 403."""


async def check_territory(who: Principal, territory: str, uow: NotificationsUnitOfWork) -> None:
    if who.may_act_in([territory]):
        return
    conseiller = _conseiller_id(who)
    if conseiller is not None and territory in await uow.permanences.territories_of(conseiller):
        return
    raise Forbidden("this usager is outside your territories")


def check_permanence(who: Principal, permanence: Permanence) -> None:
    if who.may_act_in([permanence.territory]) or who.is_conseiller(permanence.conseiller_id):
        return
    raise Forbidden("this permanence is outside your territories")


def _conseiller_id(who: Principal) -> uuid.UUID | None:
    if who.role is not Role.CONSEILLER:
        return None
    try:
        return uuid.UUID(who.subject)
    except ValueError:
        return None
