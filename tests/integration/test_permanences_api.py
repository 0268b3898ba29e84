"""Notifications' list of published permanences: an admin sees them all, a coordinator their territories' only."""

from __future__ import annotations

from tests.integration.bookings_stack import (
    ADMIN,
    CONSEILLER,
    COORDINATOR_GUADELOUPE,
    COORDINATOR_PERCHE,
    GUADELOUPE,
    api,
    notifications,
    planned,
    published,
)

__all__ = ["api", "notifications"]


async def test_a_coordinator_lists_only_the_permanences_of_their_territories(api, nc):
    perche, guadeloupe = planned(), planned()
    await published(nc, api, perche)
    await published(nc, api, guadeloupe, territory=GUADELOUPE)

    async def listed(who: dict[str, str]) -> set[str]:
        answer = await api.get("/permanences", headers=who)
        assert answer.status_code == 200, answer.text
        return {p["id"] for p in answer.json()}

    assert await listed(ADMIN) == {str(perche.permanence_id), str(guadeloupe.permanence_id)}
    assert await listed(COORDINATOR_PERCHE) == {str(perche.permanence_id)}
    assert await listed(COORDINATOR_GUADELOUPE) == {str(guadeloupe.permanence_id)}
    assert (await api.get("/permanences", headers=CONSEILLER)).status_code == 403
    assert (await api.get("/permanences")).status_code == 401
