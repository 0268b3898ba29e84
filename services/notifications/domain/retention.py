"""How long usagers' personal data are kept, and what is left of an usager once they are erased. Pure Python.

- An usager is due for anonymisation once their last booking (their registration, when they
  never booked) is older than the retention (``USAGER_RETENTION``, 6 months by default), unless
  they hold an active booking into a permanence that has not ended yet: they are still expected.
- Anonymising erases what identifies them (name, phone number, e-mail address) and keeps the rest:
  their territory, channel preference, consent, dates and opt-out, their bookings and the send log
  (which name no contact), so that counts and statistics stay right.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import replace

from services.notifications.domain.bookings import Usager

DEFAULT_RETENTION = dt.timedelta(days=183)
ANONYMISED_NAME = "anonymisé"
"""The name an anonymised usager is left with."""
ERASED_REASON = "the usager's personal data were erased"
"""Why their pending messages were skipped, and their future bookings cancelled, at erasure."""


def last_activity(usager: Usager) -> dt.datetime:
    """From when the retention runs: their last booking, or their registration when they never booked."""
    return usager.last_booking_at or usager.created_at


def due_for_anonymisation(
    usager: Usager, active_booking_ends: Iterable[dt.datetime], now: dt.datetime, retention: dt.timedelta
) -> bool:
    """Whether ``usager``'s personal data must be erased at ``now``.

    ``active_booking_ends``: when the permanences of their active bookings end. An usager
    anonymised already is not due again.
    """
    if usager.anonymised_at is not None:
        return False
    if now - last_activity(usager) <= retention:
        return False
    return all(ends_at <= now for ends_at in active_booking_ends)


def anonymised(usager: Usager, now: dt.datetime) -> Usager:
    """``usager`` without their name and contacts; an usager anonymised already stays as they were."""
    if usager.anonymised_at is not None:
        return usager
    return replace(usager, name=ANONYMISED_NAME, phone=None, email=None, anonymised_at=now)
