"""What the fake holds in memory: messages in the order received, opted-out numbers, failing numbers, faults."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.notifications.adapters.fake_twilio.messages import FakeMessage, TwilioError

Clock = Callable[[], datetime]


class Faults(BaseModel):
    """Failures of create calls, drawn from a generator seeded with ``seed``: the same calls meet the same faults.

    One draw per create: below ``rate_429`` a 429 (code 20429, with ``Retry-After``), then ``rate_500`` a 500
    (20500), then ``rate_503`` a 503 (20503). ``delay_s`` slows every create answer, fault or not.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rate_429: float = Field(default=0.0, ge=0, le=1)
    rate_500: float = Field(default=0.0, ge=0, le=1)
    rate_503: float = Field(default=0.0, ge=0, le=1)
    retry_after_s: int = Field(default=1, ge=0)
    delay_s: float = Field(default=0.0, ge=0)
    seed: int = 0


class Outcome(BaseModel):
    """How a message to a failing number ends (Twilio's delivery errors: 30003 unreachable, 30008 unknown)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    status: Literal["undelivered", "failed"] = "undelivered"
    error_code: int = 30003
    error_message: str = "Unreachable destination handset"


@dataclass(frozen=True)
class CallbackAttempt:
    """One POST the fake made to a webhook: ``status_code`` is None when the connection failed."""

    url: str
    params: dict[str, str]
    signature: str
    idempotency_token: str
    status_code: int | None


class FakeTwilioState:
    def __init__(self, account_sid: str, auth_token: str, faults: Faults, clock: Clock) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.clock = clock
        self.messages: dict[str, FakeMessage] = {}
        self.unsubscribed: set[str] = set()
        self.failing: dict[str, Outcome] = {}
        self.callbacks: list[CallbackAttempt] = []
        self.set_faults(faults)

    def set_faults(self, faults: Faults) -> None:
        self.faults = faults
        self._random = random.Random(faults.seed)  # noqa: S311 - a reproducible draw, not a secret

    def draw_fault(self) -> TwilioError | None:
        faults, draw = self.faults, self._random.random()
        if draw < faults.rate_429:
            headers = {"Retry-After": str(faults.retry_after_s)}
            return TwilioError(429, 20429, "Too Many Requests", headers)
        if draw < faults.rate_429 + faults.rate_500:
            return TwilioError(500, 20500, "Internal Server Error")
        if draw < faults.rate_429 + faults.rate_500 + faults.rate_503:
            return TwilioError(503, 20503, "Service Unavailable")
        return None

    def add(self, **fields: Any) -> FakeMessage:
        message = FakeMessage(
            order=len(self.messages) + 1, account_sid=self.account_sid, created=self.clock(), **fields
        )
        self.messages[message.sid] = message
        return message

    def move(self, message: FakeMessage, status: str, outcome: Outcome | None = None) -> None:
        message.status = status
        message.updated = self.clock()
        if status == "sent":
            message.sent = message.updated
        if outcome is not None and status == outcome.status:
            message.error_code, message.error_message = outcome.error_code, outcome.error_message

    def newest_first(self) -> list[FakeMessage]:
        return sorted(self.messages.values(), key=lambda message: message.order, reverse=True)

    def reset(self) -> None:
        self.messages.clear()
        self.unsubscribed.clear()
        self.failing.clear()
        self.callbacks.clear()
        self.set_faults(Faults())
