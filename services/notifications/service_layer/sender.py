"""The sender: due messages out of the send log, to Twilio or the mail server, each accepted exactly once.

The send log (``messages``) is the durable schedule: a message is due from ``due_at``; nothing is held in
memory, so a sender that restarts, or takes over from one that died, catches up on what fell due meanwhile
(``dispatch.decide`` drops what is late and postpones what would arrive at night).

Exactly once, step by step:
1. a batch of due messages is *claimed* in one transaction: held for ``hold`` (no other sender takes them),
   the claim counted as an attempt, each marked *in doubt* since then;
2. each is sent; the provider's answer is recorded in its own transaction (sent with its sid, failed, or to be
   retried later, no longer in doubt when the answer says it was not accepted);
3. a sender killed between 1 and 2 leaves the message in doubt; once its hold is over the next attempt first
   asks the provider whether it accepted that very text to that number since then (``find_accepted``), and
   records that message instead of sending a second one.
A message is only sent while its hold has at least its channel's call timeout left, so a hold never runs out while its
send is in flight. A mail server cannot be asked what it accepted: an e-mail in doubt is sent again, with the
same ``Message-ID`` (``dispatch.email_message_id``), by which mail systems recognise a copy.

Each delivery is traced in a ``send sms``/``send email`` span, child of the span that planned the message (its
``traceparent``), and counted in the metrics: sent, failed or retried by channel and reason (a provider's code).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import NamedTuple

from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from services.notifications.adapters.gateways import (
    Accepted,
    EmailGateway,
    PermanentFailure,
    SmsGateway,
    TransientFailure,
)
from services.notifications.domain import dispatch
from services.notifications.domain.bookings import Booking, Usager
from services.notifications.domain.dispatch import Backoff, Postpone, Skip
from services.notifications.domain.messages import Message
from services.notifications.domain.model import Permanence
from services.notifications.domain.quiet_hours import QuietHours
from services.notifications.service_layer.unit_of_work import NotificationsUnitOfWork
from shared.metrics import MESSAGES_FAILED, MESSAGES_RETRIED, MESSAGES_SENT, reason_label
from shared.telemetry import span_from

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SenderPolicy:
    """How the sender works; its ``hold`` must outlast a send of either channel (``__post_init__``)."""

    batch: int = 50
    concurrency: int = 8
    hold: dt.timedelta = dt.timedelta(seconds=60)
    sms_timeout: dt.timedelta = dt.timedelta(seconds=15)
    email_timeout: dt.timedelta = dt.timedelta(seconds=30)
    poll_s: float = 1.0
    max_attempts: int = 12
    backoff: Backoff = field(default_factory=Backoff)
    clock_skew: dt.timedelta = dt.timedelta(minutes=5)
    """How far back of a doubtful attempt to look at the provider's messages (its clock is not ours)."""

    def __post_init__(self) -> None:
        if self.hold <= max(self.sms_timeout, self.email_timeout):
            raise ValueError("the sender's hold must be longer than the Twilio and SMTP timeouts")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Sender:
    def __init__(
        self,
        uow: Callable[[], NotificationsUnitOfWork],
        sms: SmsGateway,
        email: EmailGateway,
        quiet: QuietHours,
        policy: SenderPolicy | None = None,
        *,
        cancel_phone: str | None = None,
        email_domain: str = "tournees.localhost",
        clock: Callable[[], dt.datetime] = _now,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.uow = uow
        self.sms = sms
        self.email = email
        self.email_domain = email_domain
        self.quiet = quiet
        self.policy = policy or SenderPolicy()
        self.cancel_phone = cancel_phone
        self.clock = clock
        self.jitter = jitter
        self._woken = asyncio.Event()

    def wake(self) -> None:
        """Something may have fallen due (a booking's confirmation): look now rather than at the next poll."""
        self._woken.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Send what falls due until ``stop`` is set."""
        log.info("sender started: %s messages a batch, %s at a time", self.policy.batch, self.policy.concurrency)
        while not stop.is_set():
            self._woken.clear()
            try:
                claimed = await self.send_due(stop)
            except Exception:
                log.exception("sender: cannot take due messages; trying again")
                claimed = 0
            if claimed < self.policy.batch:
                await _first_of(stop, self._woken, wait_s=self.policy.poll_s)

    async def send_due(self, stop: asyncio.Event | None = None) -> int:
        """Claim one batch of due messages and deliver it; how many were claimed."""
        claimed_at = self.clock()
        async with self.uow() as uow:
            batch = await uow.messages.claim_due(claimed_at, self.policy.hold, self.policy.batch)
            contexts = await _contexts(batch, uow)
            await uow.commit()
        slots = asyncio.Semaphore(self.policy.concurrency)

        async def deliver(message: Message) -> None:
            attributes = {
                "tournees.message.id": str(message.id),
                "tournees.message.kind": message.kind.value,
                "tournees.message.channel": message.channel,
            }
            async with slots:
                with span_from(
                    f"send {message.channel}", message.traceparent, kind=SpanKind.CLIENT, attributes=attributes
                ) as span:
                    try:
                        await self._deliver(message, contexts[message.id], claimed_at, stop)
                    except Exception as exc:
                        span.set_status(StatusCode.ERROR, type(exc).__name__)
                        log.exception("message %s: not delivered, tried again once its hold is over", message.id)

        await asyncio.gather(*(deliver(message) for message in batch))
        return len(batch)

    async def _deliver(
        self, message: Message, context: _Context, claimed_at: dt.datetime, stop: asyncio.Event | None
    ) -> None:
        booking, usager, permanence, known = context
        decision = dispatch.decide(message, booking, permanence, usager, self.quiet, self.clock())
        if isinstance(decision, Skip):
            await self._record(lambda uow: uow.messages.record_skipped(message.id, decision.reason))
            _outcome("skipped")
            log.info("message %s (%s) skipped: %s", message.id, message.kind, decision.reason)
            return
        if isinstance(decision, Postpone):
            await self._record(lambda uow: uow.messages.postpone(message.id, decision.until, message.in_doubt_since))
            _outcome("postponed")
            return
        if message.channel == "sms":
            await self._send_sms(message, usager, permanence, known, claimed_at, stop)
        else:
            await self._send_email(message, usager, permanence, claimed_at, stop)

    async def _send_sms(
        self,
        message: Message,
        usager: Usager,
        permanence: Permanence,
        known: set[str],
        claimed_at: dt.datetime,
        stop: asyncio.Event | None,
    ) -> None:
        assert usager.phone is not None, "dispatch.decide skips an SMS to an usager without a phone"
        to, body = usager.phone.e164, dispatch.sms_text(message.kind, permanence, self.cancel_phone)
        doubt = message.in_doubt_since
        if doubt is not None:
            try:
                sid = await self.sms.find_accepted(to, body, doubt - self.policy.clock_skew, known)
            except TransientFailure as failure:
                await self._retry(message, failure, doubt)
                return
            if sid is not None:
                await self._record_sent(message, Accepted(sid), reconciled=True)
                return
            doubt = None  # asked: it was not accepted
        await self._attempt(message, lambda: self.sms.send(to, body), doubt, claimed_at, stop)

    async def _send_email(
        self,
        message: Message,
        usager: Usager,
        permanence: Permanence,
        claimed_at: dt.datetime,
        stop: asyncio.Event | None,
    ) -> None:
        """No mail server can be asked what it accepted: a mail in doubt is sent again, with the same Message-ID."""
        assert usager.email is not None, "dispatch.decide skips an e-mail to an usager without an address"
        to, content = usager.email, dispatch.email_content(message.kind, permanence, usager.name)
        message_id = dispatch.email_message_id(message, self.email_domain)

        async def send() -> Accepted:
            return await self.email.send(to, content.subject, content.body, message_id)

        await self._attempt(message, send, message.in_doubt_since, claimed_at, stop)

    async def _attempt(
        self,
        message: Message,
        send: Callable[[], Awaitable[Accepted]],
        doubt: dt.datetime | None,
        claimed_at: dt.datetime,
        stop: asyncio.Event | None,
    ) -> None:
        """Send, unless the service is stopping or the hold would run out meanwhile; record what came of it."""
        timeout = self.policy.sms_timeout if message.channel == "sms" else self.policy.email_timeout
        if (stop is not None and stop.is_set()) or self.clock() + timeout >= claimed_at + self.policy.hold:
            await self._record(lambda uow: uow.messages.postpone(message.id, self.clock(), doubt))
            _outcome("postponed")
            return
        try:
            accepted = await send()
        except PermanentFailure as failure:
            reason = failure.reason
            await self._record(lambda uow: uow.messages.record_failed(message.id, reason))
            MESSAGES_FAILED.labels(message.channel, reason_label(failure.code, "permanent")).inc()
            _outcome("failed", failure.code)
            log.warning("message %s (%s) failed: %s", message.id, message.kind, reason)
            return
        except TransientFailure as failure:
            await self._retry(message, failure, claimed_at if failure.in_doubt else doubt)
            return
        await self._record_sent(message, accepted, reconciled=False)

    async def _retry(self, message: Message, failure: TransientFailure, in_doubt_since: dt.datetime | None) -> None:
        attempts = message.attempts + 1
        if attempts >= self.policy.max_attempts:
            reason = f"gave up after {attempts} attempts: {failure.reason}"
            await self._record(lambda uow: uow.messages.record_failed(message.id, reason))
            MESSAGES_FAILED.labels(message.channel, reason_label(failure.code, "gave_up")).inc()
            _outcome("failed", failure.code)
            log.warning("message %s (%s) failed: %s", message.id, message.kind, reason)
            return
        at = self.clock() + self.policy.backoff.delay(attempts, self.jitter(), failure.retry_after_s)
        await self._record(lambda uow: uow.messages.retry_later(message.id, at, in_doubt_since, failure.reason))
        kind = "in_doubt" if failure.in_doubt else "transient"
        MESSAGES_RETRIED.labels(message.channel, reason_label(failure.code, kind)).inc()
        _outcome("retried", failure.code)
        log.info("message %s (%s): %s, tried again at %s", message.id, message.kind, failure.reason, at.isoformat())

    async def _record_sent(self, message: Message, accepted: Accepted, *, reconciled: bool) -> None:
        sent_at = self.clock()
        await self._record(lambda uow: uow.messages.record_sent(message.id, sent_at, accepted.provider_sid))
        MESSAGES_SENT.labels(message.channel).inc()
        _outcome("reconciled" if reconciled else "sent")
        how = "found at the provider after a lost answer" if reconciled else "accepted"
        log.info("message %s (%s) %s: %s", message.id, message.kind, how, accepted.provider_sid)

    async def _record(self, change: Callable[[NotificationsUnitOfWork], Awaitable[None]]) -> None:
        async with self.uow() as uow:
            await change(uow)
            await uow.commit()


class _Context(NamedTuple):
    """What a message is about, read with its batch: its booking, usager, the booking's permanence, and the sids
    recorded on the usager's messages (for a message in doubt only)."""

    booking: Booking
    usager: Usager
    permanence: Permanence
    known: set[str]


async def _contexts(batch: list[Message], uow: NotificationsUnitOfWork) -> dict[uuid.UUID, _Context]:
    bookings = await uow.bookings.many({m.booking_id for m in batch})
    usagers = await uow.usagers.many({m.usager_id for m in batch})
    permanences = await uow.permanences.many({b.permanence_id for b in bookings.values()})
    contexts = {}
    for message in batch:
        booking = bookings[message.booking_id]  # kept: foreign keys
        known = await uow.messages.known_sids(message.usager_id) if message.in_doubt_since else set()
        contexts[message.id] = _Context(booking, usagers[message.usager_id], permanences[booking.permanence_id], known)
    return contexts


def _outcome(outcome: str, code: str | None = None) -> None:
    """What came of the delivery, on its span (the provider's code when it failed)."""
    span = trace.get_current_span()
    span.set_attribute("tournees.message.outcome", outcome)
    if code is not None:
        span.set_attribute("tournees.message.error_code", reason_label(code, "other"))


async def _first_of(stop: asyncio.Event, woken: asyncio.Event, wait_s: float) -> None:
    waits = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(woken.wait())]
    try:
        await asyncio.wait(waits, timeout=wait_s, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for wait in waits:
            wait.cancel()
