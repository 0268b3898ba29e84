"""What Twilio tells us: an usager's SMS reply (STOP, START, ANNULER …) and the delivery status of a sent SMS.

Each webhook is applied once: its key (an inbound SMS's ``MessageSid``; a status callback's ``MessageSid`` and
``MessageStatus``, both covered by the signature) is recorded in the transaction that applies it, and a second POST
of it is ``Replayed`` and changes nothing. A request that failed before its commit left no record, so Twilio's retry
of it is applied. The ``I-Twilio-Idempotency-Token`` is not signed (anyone replaying a request can set it) and
Twilio's retries repeat the key anyway: it is kept only to tell, in the log, Twilio retrying a webhook from a replay.

Log lines name usagers by id and messages by sid: never a phone number, nor the text of a reply.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from dataclasses import dataclass

from services.notifications.domain import sms
from services.notifications.domain.contacts import InvalidContact, parse_phone
from services.notifications.domain.messages import MessageKind
from services.notifications.domain.sms_replies import CANCELLED_BY_SMS, OPT_OUT_REASON, SmsRequest, sms_request
from services.notifications.service_layer.unit_of_work import NotificationsUnitOfWork

log = logging.getLogger(__name__)


class Replayed(Exception):
    """This webhook was applied already: it is not applied again."""


@dataclass(frozen=True)
class Webhook:
    """Which webhook a request is: Twilio's ``MessageSid``, and its ``I-Twilio-Idempotency-Token`` if it has one."""

    sid: str
    idempotency_token: str | None = None


@dataclass(frozen=True)
class _Reply:
    answer: str | None
    """The SMS to answer with, if any."""
    done: str
    """What it did, for the log (no phone number)."""


async def sms_reply(
    webhook: Webhook, sender: str, body: str, uow: NotificationsUnitOfWork, now: dt.datetime
) -> str | None:
    """STOP opts the usager out at once and skips their pending SMS; START opts them back in; ANNULER cancels their
    next booking. Returns the SMS to answer with, if any (Twilio answers STOP and START itself). Raises
    ``Replayed`` when this SMS (its ``MessageSid``) was applied already, whatever it said."""
    async with uow:
        if not await uow.webhooks.record_inbound(webhook.sid, webhook.idempotency_token, now):
            retried = await uow.webhooks.retried_inbound(webhook.sid, webhook.idempotency_token)
            raise _replayed(f"inbound SMS {webhook.sid}", retried)
        reply = await _apply(sms_request(body), sender, uow, now)
        await uow.commit()
    log.info("inbound SMS %s: %s", webhook.sid, reply.done)
    return reply.answer


async def _apply(request: SmsRequest | None, sender: str, uow: NotificationsUnitOfWork, now: dt.datetime) -> _Reply:
    if request is None:
        return _Reply(None, "asks for nothing: ignored")
    try:
        e164 = parse_phone(sender, "FR", field="From").e164
    except InvalidContact:
        return _Reply(None, "from a number that is not a phone number: ignored")
    usager_id = await uow.usagers.with_phone(e164)
    if usager_id is None:
        answer = sms.NOTHING_TO_CANCEL_TEXT if request is SmsRequest.CANCEL else None
        return _Reply(answer, f"{request.value} from a number no usager has: ignored")
    if request is SmsRequest.CANCEL:
        return await _cancel_next_booking(usager_id, uow, now)
    opted_out = request is SmsRequest.OPT_OUT
    await uow.usagers.set_sms_opt_out(usager_id, opted_out, now)
    skipped = await uow.messages.skip_pending_sms_of(usager_id, OPT_OUT_REASON) if opted_out else 0
    return _Reply(None, f"usager {usager_id}: {request.value} ({skipped} pending SMS skipped)")


async def _cancel_next_booking(usager_id: uuid.UUID, uow: NotificationsUnitOfWork, now: dt.datetime) -> _Reply:
    """Cancel the usager's booking into their soonest permanence (inside the caller's unit of work)."""
    booking = await uow.bookings.next_active_of(usager_id, now)
    permanence = None if booking is None else await uow.permanences.get(booking.permanence_id)
    if booking is None or permanence is None or not await uow.bookings.cancel(booking.cancelled(now, CANCELLED_BY_SMS)):
        return _Reply(sms.NOTHING_TO_CANCEL_TEXT, f"usager {usager_id} replied ANNULER with no booking to come")
    await uow.permanences.release_seat(permanence.id)
    await uow.messages.skip_pending(booking.id, MessageKind.REMINDER)
    answer = sms.cancellation_ack_text(
        kind="atelier" if permanence.kind == "atelier" else "permanence",
        lieu=permanence.lieu,
        commune=permanence.commune_name,
        start=permanence.local_start(),
    )
    return _Reply(answer, f"booking {booking.id} cancelled by its usager {usager_id}, by SMS")


async def delivery_status(
    webhook: Webhook, status: str, error_code: str | None, uow: NotificationsUnitOfWork, now: dt.datetime
) -> None:
    """Record the status on the message sent under the webhook's sid (never over a later one); for a sid no message
    has yet (the callback overtook the sender's record of it), the status is kept for when it has.

    Raises ``Replayed`` when this status of this sid was received already. A status below the one recorded is not
    a replay but a late callback (they can come out of order): answered as any other, it changes nothing."""
    async with uow:
        if not await uow.webhooks.record_status(webhook.sid, status, webhook.idempotency_token, now):
            retried = await uow.webhooks.retried_status(webhook.sid, status, webhook.idempotency_token)
            raise _replayed(f"status {status} of message {webhook.sid}", retried)
        found = await uow.messages.record_delivery(webhook.sid, status, error_code, now)
        await uow.commit()
    error = f" (error {error_code})" if error_code else ""
    if found:
        log.info("message %s: %s%s", webhook.sid, status, error)
    else:
        log.info("status %s%s for message sid %s, which no message has yet: kept for it", status, error, webhook.sid)


async def forget_expired_status_callbacks(
    uow: NotificationsUnitOfWork,
    now: dt.datetime,
    kept_for: dt.timedelta,
    batch: int,
    stop: asyncio.Event | None = None,
) -> int:
    """Forget the status callbacks received more than ``kept_for`` ago, ``batch`` per transaction; how many.
    Returns early, between two batches, once ``stop`` is set.

    A callback replayed after that is applied again: it re-applies a status Twilio did report for that message,
    never over a later one. Inbound SMS are never forgotten: STOP, START and ANNULER would act again at any age."""
    total = 0
    while stop is None or not stop.is_set():
        async with uow:
            forgotten = await uow.webhooks.forget_status_callbacks(now - kept_for, batch)
            await uow.commit()
        total += forgotten
        if forgotten < batch:
            break
    return total


def _replayed(what: str, retried: bool) -> Replayed:
    if retried:
        log.info(
            "%s again, with the same idempotency token (Twilio's retry, most likely): refused, applied already", what
        )
    else:
        log.warning("%s replayed, with another idempotency token or none (not Twilio's retry): refused", what)
    return Replayed(f"{what} was applied already")
