"""What Twilio tells us: an usager's SMS reply (STOP, START, ANNULER …) and the delivery status of a sent SMS.

Log lines name usagers by id and messages by sid: never a phone number, nor the text of a reply.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from services.notifications.domain import sms
from services.notifications.domain.contacts import InvalidContact, parse_phone
from services.notifications.domain.messages import MessageKind
from services.notifications.domain.sms_replies import CANCELLED_BY_SMS, OPT_OUT_REASON, SmsRequest, sms_request
from services.notifications.service_layer.unit_of_work import NotificationsUnitOfWork

log = logging.getLogger(__name__)


async def sms_reply(sender: str, body: str, uow: NotificationsUnitOfWork, now: dt.datetime) -> str | None:
    """STOP opts the usager out at once and skips their pending SMS; START opts them back in; ANNULER cancels their
    next booking. Returns the SMS to answer with, if any (Twilio answers STOP and START itself)."""
    request = sms_request(body)
    if request is None:
        return None
    try:
        e164 = parse_phone(sender, "FR", field="From").e164
    except InvalidContact:
        log.info("SMS reply from a number that is not a phone number: ignored")
        return None
    async with uow:
        usager_id = await uow.usagers.with_phone(e164)
        if usager_id is None:
            log.info("SMS %s from a number no usager has: ignored", request.value)
            return sms.NOTHING_TO_CANCEL_TEXT if request is SmsRequest.CANCEL else None
        if request is SmsRequest.CANCEL:
            return await _cancel_next_booking(usager_id, uow, now)
        opted_out = request is SmsRequest.OPT_OUT
        await uow.usagers.set_sms_opt_out(usager_id, opted_out, now)
        skipped = await uow.messages.skip_pending_sms_of(usager_id, OPT_OUT_REASON) if opted_out else 0
        await uow.commit()
    log.info("usager %s: %s (%d pending SMS skipped)", usager_id, request.value, skipped)
    return None


async def _cancel_next_booking(usager_id: uuid.UUID, uow: NotificationsUnitOfWork, now: dt.datetime) -> str:
    """Cancel the usager's booking into their soonest permanence (inside the caller's unit of work)."""
    booking = await uow.bookings.next_active_of(usager_id, now)
    permanence = None if booking is None else await uow.permanences.get(booking.permanence_id)
    if booking is None or permanence is None or not await uow.bookings.cancel(booking.cancelled(now, CANCELLED_BY_SMS)):
        log.info("usager %s replied ANNULER with no booking to come", usager_id)
        return sms.NOTHING_TO_CANCEL_TEXT
    await uow.permanences.release_seat(permanence.id)
    await uow.messages.skip_pending(booking.id, MessageKind.REMINDER)
    await uow.commit()
    log.info("booking %s cancelled by its usager %s, by SMS", booking.id, usager_id)
    return sms.cancellation_ack_text(
        kind="atelier" if permanence.kind == "atelier" else "permanence",
        lieu=permanence.lieu,
        commune=permanence.commune_name,
        start=permanence.local_start(),
    )


async def delivery_status(
    sid: str, status: str, error_code: str | None, uow: NotificationsUnitOfWork, now: dt.datetime
) -> None:
    """Record the status on the message sent under ``sid`` (never over a later one); for a sid no message has yet
    (the callback overtook the sender's record of it), the status is kept for when it has."""
    async with uow:
        found = await uow.messages.record_delivery(sid, status, error_code, now)
        await uow.commit()
    error = f" (error {error_code})" if error_code else ""
    if found:
        log.info("message %s: %s%s", sid, status, error)
    else:
        log.info("status %s%s for message sid %s, which no message has yet: kept for it", status, error, sid)
