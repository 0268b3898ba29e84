"""The test-only controls under ``/_fake``: no part of Twilio's contract, and no auth (the fake serves tests only)."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.notifications.adapters.fake_twilio.engine import FakeTwilio
from services.notifications.adapters.fake_twilio.messages import num_segments
from services.notifications.adapters.fake_twilio.state import Faults, Outcome

router = APIRouter(prefix="/_fake", tags=["test-only controls"])


def _fake(request: Request) -> FakeTwilio:
    fake: FakeTwilio = request.app.state.fake
    return fake


Fake = Annotated[FakeTwilio, Depends(_fake)]


class Inbound(BaseModel):
    """An SMS a usager sends to one of our numbers; the fake POSTs the signed incoming-message webhook to ``url``."""

    model_config = ConfigDict(populate_by_name=True, extra="forbid")

    from_: str = Field(alias="from")
    to: str
    body: str
    url: str


class Failing(BaseModel):
    """Messages to ``number`` end as ``outcome`` says instead of delivered."""

    model_config = ConfigDict(extra="forbid")

    number: str
    outcome: Outcome = Outcome()


@router.get("/messages")
async def messages(fake: Fake) -> dict[str, Any]:
    """Every message the fake received or was sent, in the order it came (``order``), with its status callback."""
    ordered = sorted(fake.state.messages.values(), key=lambda message: message.order)
    return {
        "messages": [
            {"order": message.order, "status_callback": message.status_callback, **message.resource()}
            for message in ordered
        ]
    }


@router.get("/stats")
async def stats(fake: Fake) -> dict[str, Any]:
    """Counts of the messages sent through the fake: how many, to how many numbers (``repeated``: numbers sent more
    than one), by segment count, the creates' faults drawn since they were set (``Faults``, by kind), and when the
    first and the last were created (cheap to poll while thousands arrive)."""
    sent = [m for m in fake.state.messages.values() if m.direction == "outbound-api"]
    segments: dict[str, int] = {}
    for message in sent:
        count = str(num_segments(message.body))
        segments[count] = segments.get(count, 0) + 1
    per_number = Counter(m.to for m in sent)
    created = sorted(m.created for m in sent)
    return {
        "outbound": len(sent),
        "recipients": len(per_number),
        "repeated": sum(count > 1 for count in per_number.values()),
        "segments": segments,
        "faults": dict(fake.state.drawn),
        "first_created": created[0].isoformat() if created else None,
        "last_created": created[-1].isoformat() if created else None,
    }


@router.get("/faults")
async def get_faults(fake: Fake) -> Faults:
    return fake.state.faults


@router.put("/faults")
async def set_faults(faults: Faults, fake: Fake) -> Faults:
    """Replace the faults; the generator starts again from their seed."""
    fake.state.set_faults(faults)
    return faults


@router.post("/failing", status_code=204)
async def add_failing(failing: Failing, fake: Fake) -> Response:
    fake.state.failing[failing.number] = failing.outcome
    return Response(status_code=204)


@router.delete("/failing", status_code=204)
async def clear_failing(fake: Fake) -> Response:
    fake.state.failing.clear()
    return Response(status_code=204)


@router.get("/unsubscribed")
async def unsubscribed(fake: Fake) -> dict[str, list[str]]:
    return {"numbers": sorted(fake.state.unsubscribed)}


@router.post("/inbound")
async def inbound(sms: Inbound, fake: Fake) -> dict[str, Any]:
    """Answers once the webhook was delivered (or its attempts ran out): ``webhook_status`` is the last answer."""
    message, status_code = await fake.receive(sms.from_, sms.to, sms.body, sms.url)
    return {"sid": message.sid, "webhook_status": status_code, "unsubscribed": sms.from_ in fake.state.unsubscribed}


@router.get("/callbacks")
async def callbacks(fake: Fake) -> dict[str, list[dict[str, Any]]]:
    """Every POST the fake made to a webhook, in order, with its signature and the status it got."""
    return {"callbacks": [asdict(attempt) for attempt in fake.state.callbacks]}


@router.post("/reset", status_code=204)
async def reset(fake: Fake) -> Response:
    fake.state.reset()
    return Response(status_code=204)
