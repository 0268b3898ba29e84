"""The sender's test bench: the fake Twilio (real SDK, real socket) and the SMTP sink, notifications on a real
database and NATS, and a clock the tests move by hand (the fake's ``date_created`` follows it too)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from services.notifications.adapters.fake_twilio import fake_twilio_app
from services.notifications.adapters.fake_twilio.engine import FakeTwilio
from services.notifications.adapters.gateways import Accepted, InDoubt, SmsGateway
from services.notifications.adapters.smtp_email import SmtpEmailGateway
from services.notifications.adapters.smtp_sink import SmtpSink
from services.notifications.bootstrap import Notifications, sms_gateway
from services.notifications.domain.messages import Message, MessageKind
from services.notifications.service_layer.sender import Sender, SenderPolicy
from tests.integration.bookings_stack import ADMIN, planned, published, registered, running_notifications
from tests.integration.twilio_stack import serving

ACCOUNT_SID = "AC" + "2" * 32
TOKEN = "jeton-des-tests-de-l-envoi"
OUR_NUMBER = "+33757000001"
PHONE = "+33612345678"


class Clock:
    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    """The time of the sender under test and of the fake Twilio alike (its ``date_created`` is on this clock)."""
    return Clock(dt.datetime.now(dt.UTC))


@pytest.fixture
def fake_twilio(clock: Clock) -> Iterator[tuple[str, FakeTwilio]]:
    app = fake_twilio_app(ACCOUNT_SID, TOKEN, step_s=0.01, clock=clock)
    with serving(app) as url:
        yield url, app.state.fake


def twilio_settings(url: str) -> dict[str, Any]:
    return {
        "twilio_api_url": url,
        "twilio_account_sid": ACCOUNT_SID,
        "twilio_auth_token": SecretStr(TOKEN),
        "twilio_from": OUR_NUMBER,
        "sms_per_second": 1000.0,
    }


@pytest.fixture
def smtp_sink(tmp_path) -> Iterator[SmtpSink]:
    with SmtpSink(tmp_path / "mail") as sink:
        yield sink


@pytest.fixture
async def notifications(database, nats_url, nc, tmp_path, fake_twilio, smtp_sink) -> AsyncIterator[Notifications]:
    settings = {**twilio_settings(fake_twilio[0]), "smtp_port": smtp_sink.port, "smtp_timeout_s": 1.0}
    async with running_notifications(database, nats_url, tmp_path, **settings) as service:
        yield service


def sender(service: Notifications, clock: Clock, gateway: SmsGateway | None = None, **policy: Any) -> Sender:
    settings = service.runtime.settings
    gateway = gateway or sms_gateway(settings)  # type: ignore[arg-type]
    quiet = settings.sending_rules.quiet  # type: ignore[attr-defined]
    email = SmtpEmailGateway.from_settings(settings)  # type: ignore[arg-type]
    return Sender(service.uow, gateway, email, quiet, SenderPolicy(**policy), clock=clock, jitter=lambda: 0.0)


def outbound(fake: FakeTwilio) -> list[Any]:
    return [m for m in fake.state.messages.values() if m.direction == "outbound-api"]


async def booked(api: httpx.AsyncClient, nc, *, starts_in: dt.timedelta = dt.timedelta(days=3), **usager: Any):
    permanence = planned(starts_in=starts_in)
    await published(nc, api, permanence)
    person = await registered(api, **usager)
    answer = await api.post("/bookings", json={"usager_id": person["id"], "permanence_id": str(permanence.permanence_id)},
                            headers=ADMIN)  # fmt: skip
    assert answer.status_code == 201, answer.text
    return answer.json()["id"], permanence


async def many_booked(api: httpx.AsyncClient, nc, count: int) -> list[str]:
    """``count`` usagers, each with a phone number of their own, booked into one permanence in three days."""
    permanence = planned(starts_in=dt.timedelta(days=3), hours=count / 2)  # 30-minute appointments
    await published(nc, api, permanence)
    booking_ids = []
    for n in range(count):
        person = await registered(api, phone=f"06 11 22 33 {n:02d}")
        answer = await api.post("/bookings", json={"usager_id": person["id"],
                                                   "permanence_id": str(permanence.permanence_id)}, headers=ADMIN)  # fmt: skip
        assert answer.status_code == 201, answer.text
        booking_ids.append(answer.json()["id"])
    return booking_ids


async def messages(service: Notifications, booking_id: str) -> dict[MessageKind, Message]:
    async with service.uow() as uow:
        return {m.kind: m for m in await uow.messages.of_booking(uuid.UUID(booking_id))}


class AnswerLost:
    """Twilio accepts the SMS, then its answer never reaches us (a timeout after the request went out)."""

    def __init__(self, gateway: SmsGateway) -> None:
        self.gateway = gateway
        self.sender = gateway.sender
        self.find_accepted = gateway.find_accepted

    async def send(self, to: str, body: str) -> Accepted:
        await self.gateway.send(to, body)
        raise InDoubt("no answer from Twilio (ReadTimeout)")
